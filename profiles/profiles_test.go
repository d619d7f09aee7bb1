package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "socktop", FileName)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Name: "pi-kitchen", URL: "wss://pi-kitchen:8443/ws", Token: "s3cret",
		Pin: "sha256:abcd", VerifyHostname: true, MetricsIntervalMS: 750, Group: "pis"}
	if err := s.Put(want); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Profile{Name: "vps", URL: "ws://vps:3000/ws"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(path))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", di.Mode().Perm())
	}
	s2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get("pi-kitchen")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if g := s2.Group("pis"); len(g) != 1 || g[0].Name != "pi-kitchen" {
		t.Errorf("Group(pis) = %+v", g)
	}
	if n := s2.Names(); strings.Join(n, ",") != "pi-kitchen,vps" {
		t.Errorf("Names = %v", n)
	}
	if _, err := s2.Get("nope"); err == nil || !strings.Contains(err.Error(), "--profile nope") {
		t.Errorf("Get(nope) error %v does not say how to create it", err)
	}
}

func TestCorruptFileNamesLineAndStaysUntouched(t *testing.T) {
	cases := map[string]struct {
		body, want string
	}{
		"syntax":      {"[profiles.a]\nurl = \"ws://a:3000/ws\"\nthis is not toml\n", "line 3"},
		"unknown key": {"[profiles.a]\nurl = \"ws://a:3000/ws\"\ncolour = \"red\"\n", `unknown key "profiles.a.colour"`},
		"bad url":     {"[profiles.a]\nurl = \"http://a\"\n", "must look like ws://"},
		"bad name":    {"[profiles.\"a b\"]\nurl = \"ws://a:3000/ws\"\n", "may not contain spaces"},
		"bad pin":     {"[profiles.a]\nurl = \"ws://a:3000/ws\"\npin = \"md5:x\"\n", "sha256:"},
		"wrong type":  {"[profiles.a]\nurl = 3\n", "line 2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { loadFails(t, tc.body, tc.want) })
	}
}

func TestLegacyImportOnce(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, LegacyFileName)
	body := `{"profiles":{"pi":{"url":"wss://pi:8443/ws","tls_ca":"/home/u/pi.pem","metrics_interval_ms":600},` +
		`"bad name":{"url":"ws://x:3000/ws"}},"version":1}`
	if err := os.WriteFile(legacy, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Imported != legacy {
		t.Errorf("Imported = %q, want %q", s.Imported, legacy)
	}
	p, err := s.Get("pi")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "wss://pi:8443/ws" || p.TLSCA != "/home/u/pi.pem" || p.MetricsIntervalMS != 600 {
		t.Errorf("imported %+v", p)
	}
	if s.Has("bad name") {
		t.Error("a profile with an unusable name was imported")
	}
	if after, _ := os.ReadFile(legacy); string(after) != body {
		t.Error("profiles.json was modified")
	}
	// Once: a later Load reads the TOML and leaves a changed JSON alone.
	s.Delete("pi")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Imported != "" || s2.Has("pi") {
		t.Errorf("legacy file imported twice: %+v", s2.Names())
	}
}

func TestResolveToken(t *testing.T) {
	dir := t.TempDir()
	tf := filepath.Join(dir, "tok")
	os.WriteFile(tf, []byte("from-file\n"), 0o600)
	t.Setenv("SOCKTOP_TEST_TOKEN", "from-env")
	for _, tc := range []struct {
		p    Profile
		want string
		err  string
	}{
		{Profile{Token: "plain"}, "plain", ""},
		{Profile{TokenFile: tf}, "from-file", ""},
		{Profile{TokenEnv: "SOCKTOP_TEST_TOKEN"}, "from-env", ""},
		{Profile{TokenEnv: "SOCKTOP_TEST_UNSET_VAR"}, "", "is not set"},
		{Profile{TokenFile: filepath.Join(dir, "missing")}, "", "no such file"},
		{Profile{}, "", ""},
	} {
		got, err := tc.p.ResolveToken()
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: got %q, %v; want %q, error containing %q", tc.p, got, err, tc.want, tc.err)
		}
	}
}

func TestAgentURL(t *testing.T) {
	for in, want := range map[string]string{
		"pi-kitchen":              "ws://pi-kitchen:3000/ws",
		"pi-kitchen:4000":         "ws://pi-kitchen:4000/ws",
		"10.0.0.5":                "ws://10.0.0.5:3000/ws",
		"[::1]:3000":              "ws://[::1]:3000/ws",
		"::1":                     "ws://[::1]:3000/ws",
		"ws://h:1/ws":             "ws://h:1/ws",
		"wss://h:8443":            "wss://h:8443/ws",
		"ws://h:3000/ws?token=ab": "ws://h:3000/ws?token=ab",
	} {
		got, err := AgentURL(in)
		if err != nil || got != want {
			t.Errorf("AgentURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "http://h/ws", "ws://", "a b", "user@host"} {
		if got, err := AgentURL(bad); err == nil {
			t.Errorf("AgentURL(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("[profiles.a]\nurl = \"ws://a:3000/ws\"\ngroup = \"g\"\n")
	f.Add("[profiles]\n")
	f.Add("x = [")
	f.Fuzz(func(t *testing.T, body string) {
		s := newStore("fuzz.toml")
		if err := s.parse([]byte(body)); err != nil {
			return
		}
		for _, n := range s.Names() {
			p, _ := s.Get(n)
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted an invalid profile %+v: %v", p, err)
			}
		}
	})
}

func TestSaveOmitsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, _ := Load(path)
	s.Put(Profile{Name: "a", URL: "ws://a:3000/ws"})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	_, body, _ := strings.Cut(string(b), "\n") // past the header comment
	for _, unwanted := range []string{"interval", "verify_hostname", "token", "group"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("saved file names %q although it is unset:\n%s", unwanted, b)
		}
	}
}

// A file that does not parse still gives an empty store to go on with, one
// that never writes over the file.
func TestBrokenFileGivesAStoreThatDoesNotSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	body := "[profiles.a]\nurl = \"ws://a:3000/ws\"\nthis is not toml\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+" line 3") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Load: %v, want one line naming %s line 3", err, path)
	}
	if s == nil || len(s.Names()) != 0 {
		t.Fatalf("Load returned %v, want an empty store", s)
	}
	if err := s.Put(Profile{Name: "b", URL: "ws://b:3000/ws"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err == nil || !strings.Contains(err.Error(), "not saving over "+path) {
		t.Errorf("Save on a broken file: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != body {
		t.Errorf("the broken file was written: %q", after)
	}
}

func TestFindURL(t *testing.T) {
	s := newStore("x.toml")
	s.Put(Profile{Name: "pi-b", URL: "wss://Pi.lan:8443/ws", Pin: "sha256:bb"})
	s.Put(Profile{Name: "pi-a", URL: "wss://pi.lan:8443/ws?token=t", Pin: "sha256:aa"})
	s.Put(Profile{Name: "other", URL: "wss://pi.lan:8444/ws"})
	for u, want := range map[string]string{
		"wss://pi.lan:8443/ws":         "pi-a", // the first by name; the token is not part of the match
		"wss://pi.lan:8443":            "pi-a",
		"wss://pi.lan:8443/ws?token=x": "pi-a",
		"wss://pi.lan:8444/ws":         "other",
		"ws://pi.lan:8443/ws":          "",
		"pi.lan":                       "",
	} {
		p, ok := s.FindURL(u)
		if ok != (want != "") || p.Name != want {
			t.Errorf("FindURL(%q) = %q %v, want %q", u, p.Name, ok, want)
		}
	}
	if g := s.Groups(); len(g) != 0 {
		t.Errorf("Groups = %v", g)
	}
}
