package screen

import (
	"strings"
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// A pin mismatch banner shows the command that trusts the offered
// certificate, in two lines a shell joins (main's
// TestPinUpdateCommandKeepsTheProfile runs it): updating the profile when
// the target came from one, else naming the URL.
func TestPinMismatchBannerShowsTheCommand(t *testing.T) {
	ag := wiretest.NewV2(wiretest.Config{TLS: true})
	t.Cleanup(ag.Close)
	offered := wire.Fingerprint(ag.Certificate())
	wrong := "sha256:" + strings.Repeat("ab", 32)
	for _, c := range []struct {
		target model.Target
		first  string
	}{
		{model.Target{URL: ag.URL, Pin: wrong, Profile: "pi"}, `socktop connect --save --profile pi \`},
		{model.Target{URL: ag.URL, Pin: wrong}, "socktop connect " + ag.URL + ` \`},
	} {
		hs := startApp(t, Options{Target: c.target}, 100, 30)
		s := hs.waitFor("certificate pin mismatch", "--pin "+offered)
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if strings.Contains(l, "--pin "+offered) {
				if i == 0 || !strings.Contains(lines[i-1], c.first) {
					t.Errorf("the line before %q is %q, want %q", strings.TrimSpace(l), strings.TrimSpace(lines[i-1]), c.first)
				}
				break
			}
		}
		hs.stop()
	}
}
