// Package profiles stores named connections to socktop agents in a TOML file,
// $XDG_CONFIG_HOME/socktop/profiles.toml (fallback ~/.config/socktop), and
// imports the Rust socktop client's profiles.json from the same folder once.
//
// The file may hold tokens, so it is written 0600 in a 0700 folder, always
// through a temporary file and a rename: a crash never leaves half a file, and
// a file that does not parse is reported with its line and never overwritten.
package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// FileName is the profiles file inside the config folder; LegacyFileName is
// the Rust client's file, imported once when FileName does not exist yet.
const (
	FileName       = "profiles.toml"
	LegacyFileName = "profiles.json"
)

// DefaultPort is the agent's plain-text port, used when a host is given
// without one.
const DefaultPort = "3000"

// ErrNotFound is returned by Get for a name that has no profile.
var ErrNotFound = errors.New("no such profile")

// Profile is one named connection.
type Profile struct {
	Name string `toml:"-"`
	URL  string `toml:"url"`
	// At most one of Token, TokenFile, TokenEnv; Token wins if several are set.
	Token     string `toml:"token,omitempty"`
	TokenFile string `toml:"token_file,omitempty"`
	TokenEnv  string `toml:"token_env,omitempty"`
	// TLSCA is the path of the agent's certificate (PEM, exact match); Pin is
	// its fingerprint as `socktop cert` prints it ("sha256:…").
	TLSCA          string `toml:"tls_ca,omitempty"`
	Pin            string `toml:"pin,omitempty"`
	VerifyHostname bool   `toml:"verify_hostname,omitempty"`
	// Refresh intervals in milliseconds; 0 means the dashboard's default.
	MetricsIntervalMS   int    `toml:"metrics_interval_ms,omitzero"`
	ProcessesIntervalMS int    `toml:"processes_interval_ms,omitzero"`
	DisksIntervalMS     int    `toml:"disks_interval_ms,omitzero"`
	Group               string `toml:"group,omitempty"`
}

// ResolveToken returns the profile's token from wherever it says to find it.
func (p Profile) ResolveToken() (string, error) {
	switch {
	case p.Token != "":
		return p.Token, nil
	case p.TokenFile != "":
		b, err := os.ReadFile(expandHome(p.TokenFile))
		if err != nil {
			return "", fmt.Errorf("profile %q: token_file: %w", p.Name, err)
		}
		return strings.TrimSpace(string(b)), nil
	case p.TokenEnv != "":
		v, ok := os.LookupEnv(p.TokenEnv)
		if !ok {
			return "", fmt.Errorf("profile %q: token_env: %s is not set", p.Name, p.TokenEnv)
		}
		return v, nil
	}
	return "", nil
}

// Validate reports the first thing wrong with p, naming the field.
func (p Profile) Validate() error {
	if err := ValidName(p.Name); err != nil {
		return err
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("profile %q: url %q must look like ws://HOST:PORT/ws or wss://HOST:PORT/ws", p.Name, p.URL)
	}
	if p.Pin != "" && !strings.HasPrefix(p.Pin, "sha256:") {
		return fmt.Errorf("profile %q: pin %q must start with sha256: (as `socktop cert` prints it)", p.Name, p.Pin)
	}
	for _, iv := range []struct {
		name string
		v    int
	}{{"metrics_interval_ms", p.MetricsIntervalMS}, {"processes_interval_ms", p.ProcessesIntervalMS}, {"disks_interval_ms", p.DisksIntervalMS}} {
		if iv.v < 0 {
			return fmt.Errorf("profile %q: %s is negative (%d)", p.Name, iv.name, iv.v)
		}
	}
	return nil
}

// ValidName accepts names a user can type on a command line: no spaces, no
// leading '@' (that selects a group) or '-' (a flag), nothing that looks like
// a URL.
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("profile name is empty")
	case strings.HasPrefix(name, "@"), strings.HasPrefix(name, "-"):
		return fmt.Errorf("profile name %q may not start with %q", name, name[:1])
	case strings.ContainsAny(name, " \t\r\n/:\"'"):
		return fmt.Errorf("profile name %q may not contain spaces, quotes, '/' or ':'", name)
	case name == "demo":
		return errors.New(`profile name "demo" is reserved for socktop demo`)
	}
	return nil
}

// Store is the profiles file in memory.
type Store struct {
	path     string
	profiles map[string]Profile
	// The [[alerts]] and [notify] tables, kept so that Save writes them back.
	alerts        []Alert
	profileAlerts map[string][]Alert
	notify        Notify
	// Imported names the legacy file that Load imported, if it did.
	Imported string
	// broken is why the file could not be read; Save refuses then.
	broken error
}

type fileFormat struct {
	Profiles map[string]profileEntry `toml:"profiles"`
	Alerts   []Alert                 `toml:"alerts,omitempty"`
	Notify   *Notify                 `toml:"notify,omitempty"`
}

// profileEntry is a profile as the file holds it: its fields and its own
// [[profiles.NAME.alerts]] (kept out of Profile, which callers compare with ==).
type profileEntry struct {
	Profile
	Alerts []Alert `toml:"alerts,omitempty"`
}

// DefaultPath is $XDG_CONFIG_HOME/socktop/profiles.toml, or
// ~/.config/socktop/profiles.toml when XDG_CONFIG_HOME is unset.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate config folder: %w (set XDG_CONFIG_HOME)", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "socktop", FileName), nil
}

// Load reads the profiles at path. A missing file is an empty store; if the
// Rust client's profiles.json sits beside it, its profiles are imported and
// written to path once, leaving profiles.json untouched. A file that does not
// parse is an error naming its line (where the parser knows it); Load then
// also returns an empty Store, which a caller may go on with (an explicit
// URL needs no profile) and whose Save refuses: the file is never
// overwritten.
func Load(path string) (*Store, error) {
	s := newStore(path)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, s.importLegacy(filepath.Join(filepath.Dir(path), LegacyFileName))
	case err != nil:
		err = fmt.Errorf("read profiles: %w", err)
	default:
		err = s.parse(b)
	}
	if err != nil {
		empty := newStore(path)
		empty.broken = err
		return empty, err
	}
	return s, nil
}

func newStore(path string) *Store {
	return &Store{path: path, profiles: map[string]Profile{}, profileAlerts: map[string][]Alert{}}
}

func (s *Store) parse(b []byte) error {
	var f fileFormat
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s line %d: %s (fix or remove that line; the file was left untouched)",
				s.path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("%s: %w (the file was left untouched)", s.path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("%s: unknown key %q (known: %s)", s.path, und[0].String(), knownKeys(und[0]))
	}
	body := string(b)
	for _, name := range slices.Sorted(maps.Keys(f.Profiles)) {
		e := f.Profiles[name]
		p := e.Profile
		p.Name = name
		if err := p.Validate(); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		locateAlerts(s.path, body, e.Alerts, "profiles", name, "alerts")
		if err := validateAlerts(e.Alerts, true); err != nil {
			return err
		}
		s.profiles[name] = p
		if len(e.Alerts) > 0 {
			s.profileAlerts[name] = e.Alerts
		}
	}
	locateAlerts(s.path, body, f.Alerts, "alerts")
	if err := validateAlerts(f.Alerts, false); err != nil {
		return err
	}
	s.alerts = f.Alerts
	if f.Notify != nil {
		if err := f.Notify.validate(); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		s.notify = *f.Notify
	}
	return nil
}

// knownKeys lists the keys allowed where k was found.
func knownKeys(k toml.Key) string {
	switch {
	case len(k) >= 2 && k[0] == "alerts", len(k) >= 4 && k[0] == "profiles" && k[2] == "alerts":
		return "name, when, for, group"
	case k[0] == "notify":
		return "command, terminal, timeout"
	case k[0] == "profiles":
		return "url, token, token_file, token_env, tls_ca, pin, verify_hostname, metrics_interval_ms, processes_interval_ms, disks_interval_ms, group, [[profiles.NAME.alerts]]"
	}
	return "[profiles.NAME], [[alerts]], [notify]"
}

// legacyFile is the Rust client's profiles.json.
type legacyFile struct {
	Profiles map[string]struct {
		URL                 string `json:"url"`
		TLSCA               string `json:"tls_ca"`
		MetricsIntervalMS   int    `json:"metrics_interval_ms"`
		ProcessesIntervalMS int    `json:"processes_interval_ms"`
	} `json:"profiles"`
}

func (s *Store) importLegacy(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	var lf legacyFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return fmt.Errorf("import %s: %w (move it aside to skip the import)", path, err)
	}
	for name, e := range lf.Profiles {
		p := Profile{Name: name, URL: e.URL, TLSCA: e.TLSCA,
			MetricsIntervalMS: e.MetricsIntervalMS, ProcessesIntervalMS: e.ProcessesIntervalMS}
		if p.Validate() != nil {
			continue // a name or URL we cannot use is skipped, the rest imported
		}
		s.profiles[name] = p
	}
	s.Imported = path
	return s.Save()
}

// Path is the file this store reads and writes.
func (s *Store) Path() string { return s.path }

// Get returns the named profile.
func (s *Store) Get(name string) (Profile, error) {
	p, ok := s.profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("%w: %q (socktop connect --profile %s URL creates it)", ErrNotFound, name, name)
	}
	return p, nil
}

// Has reports whether a profile of that name exists.
func (s *Store) Has(name string) bool { _, ok := s.profiles[name]; return ok }

// Names lists the profiles sorted by name.
func (s *Store) Names() []string { return slices.Sorted(maps.Keys(s.profiles)) }

// Broken says why the file could not be read (Save refuses then), or nil.
func (s *Store) Broken() error { return s.broken }

// SameURL reports whether a and b name the same agent endpoint: equal as
// AgentURL writes them, the host in any case, a ?token= aside.
func SameURL(a, b string) bool {
	x := sameURL(a)
	return x != "" && x == sameURL(b)
}

// FindURL returns the first profile, by name, whose URL is u: both are
// compared as AgentURL writes them, without a ?token=, so that a pin saved
// for a URL is found when that URL is typed again.
func (s *Store) FindURL(u string) (Profile, bool) {
	want := sameURL(u)
	if want == "" {
		return Profile{}, false
	}
	for _, n := range s.Names() {
		if p := s.profiles[n]; sameURL(p.URL) == want {
			return p, true
		}
	}
	return Profile{}, false
}

// sameURL is u in the form FindURL compares ("" if it is no agent URL).
func sameURL(u string) string {
	v, err := AgentURL(u)
	if err != nil {
		return ""
	}
	pu, err := url.Parse(v)
	if err != nil {
		return ""
	}
	q := pu.Query()
	q.Del("token")
	pu.RawQuery = q.Encode()
	pu.Host = strings.ToLower(pu.Host)
	return pu.String()
}

// Groups lists the groups profiles name, sorted.
func (s *Store) Groups() []string {
	var out []string
	for _, p := range s.profiles {
		if p.Group != "" && !slices.Contains(out, p.Group) {
			out = append(out, p.Group)
		}
	}
	slices.Sort(out)
	return out
}

// Group lists the profiles whose group is g, sorted by name.
func (s *Store) Group(g string) []Profile {
	var out []Profile
	for _, n := range s.Names() {
		if p := s.profiles[n]; p.Group == g {
			out = append(out, p)
		}
	}
	return out
}

// Put adds or replaces a profile after validating it; call Save to persist.
func (s *Store) Put(p Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	s.profiles[p.Name] = p
	return nil
}

// Delete removes a profile and the rules written inside it; call Save to persist.
func (s *Store) Delete(name string) {
	delete(s.profiles, name)
	delete(s.profileAlerts, name)
}

// Save writes the store to its path atomically, mode 0600, folder 0700. The
// [[alerts]] and [notify] tables are written back as they were read.
func (s *Store) Save() error {
	if s.broken != nil {
		return fmt.Errorf("not saving over %s, which could not be read: fix it first (%w)", s.path, s.broken)
	}
	body, err := s.encode()
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".profiles-*.toml")
	if err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save profiles: %w", err)
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	return nil
}

// encode is the file Save writes.
func (s *Store) encode() ([]byte, error) {
	f := fileFormat{Profiles: make(map[string]profileEntry, len(s.profiles)), Alerts: s.alerts}
	for name, p := range s.profiles {
		f.Profiles[name] = profileEntry{Profile: p, Alerts: s.profileAlerts[name]}
	}
	if s.notify != (Notify{}) {
		n := s.notify
		f.Notify = &n
	}
	var buf bytes.Buffer
	buf.WriteString("# socktop connection profiles (may hold tokens: keep this file private)\n\n")
	if err := toml.NewEncoder(&buf).Encode(f); err != nil {
		return nil, fmt.Errorf("encode profiles: %w", err)
	}
	return buf.Bytes(), nil
}

// AgentURL turns what a user typed into an agent URL: a ws:// or wss:// URL
// is kept (with /ws added when it has no path), "host" becomes
// ws://host:3000/ws and "host:port" ws://host:port/ws.
func AgentURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty host")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("bad URL %q: %w", s, err)
		}
		if u.Scheme != "ws" && u.Scheme != "wss" {
			return "", fmt.Errorf("bad URL %q: scheme must be ws:// or wss://", s)
		}
		if u.Host == "" {
			return "", fmt.Errorf("bad URL %q: no host", s)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/ws"
		}
		return u.String(), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), DefaultPort
	}
	if host == "" || strings.ContainsAny(host, " /?#@") {
		return "", fmt.Errorf("bad host %q: give a profile name, HOST, HOST:PORT or ws://HOST:PORT/ws", s)
	}
	return "ws://" + net.JoinHostPort(host, port) + "/ws", nil
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
