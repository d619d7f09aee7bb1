package alert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socktop/socktop/profiles"
)

func loadStore(t *testing.T, body string) *profiles.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profiles.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Check reports every bad rule of the file, one line each with its file,
// line and name, including a rule of a profile this run may not use.
func TestCheckNamesEveryBadRule(t *testing.T) {
	s := loadStore(t, `[profiles.pi]
url = "ws://pi:3000/ws"

[[profiles.pi.alerts]]
name = "pi-hot"
when = "temp >> 80"

[[alerts]]
name = "busy"
when = "cpu > 90"

[[alerts]]
name = "odd"
when = "cpux > 1"
`)
	err := Check(s)
	if err == nil {
		t.Fatal("Check passed a file with two bad rules")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("Check: %d lines, want one per bad rule:\n%v", len(lines), err)
	}
	for _, want := range []string{`profiles.toml line 14: alert "odd" (alerts[1]): when "cpux > 1"`,
		`profiles.toml line 6: alert "pi-hot" (profiles.pi.alerts[0]): when "temp >> 80"`} {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want)
		}
		if !found {
			t.Errorf("Check lacks %q:\n%v", want, err)
		}
	}
}

func TestCheckPassesGoodFile(t *testing.T) {
	s := loadStore(t, "[[alerts]]\nname = \"busy\"\nwhen = \"cpu > 90\"\nfor = \"1m\"\n")
	if err := Check(s); err != nil {
		t.Fatal(err)
	}
}

// ForHost names a profile's host after the profile, any other after its
// host:port, and gives each the rules that apply to it.
func TestForHost(t *testing.T) {
	s := loadStore(t, `[profiles.pi]
url = "ws://pi:3000/ws"
group = "pis"

[[alerts]]
name = "busy"
when = "cpu > 90"

[[alerts]]
name = "hot"
when = "temp > 80"
group = "pis"

[notify]
command = "true"
terminal = true
`)
	pi := ForHost(s, "pi", "ws://pi:3000/ws")
	if pi.Host != "pi" || len(pi.Rules) != 2 || pi.Rules[1].Text != "temp > 80" || pi.Notify.Command != "true" || !pi.Notify.Terminal {
		t.Errorf("ForHost(pi) = %+v", pi)
	}
	other := ForHost(s, "", "wss://[::1]:8443/ws?token=x")
	if other.Host != "[::1]:8443" || len(other.Rules) != 1 || other.Rules[0].Name != "busy" {
		t.Errorf("ForHost(URL) = %+v", other)
	}
}
