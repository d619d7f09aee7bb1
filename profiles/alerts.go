package profiles

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Alert is one [[alerts]] rule as written in profiles.toml: global, for a
// group (group = "pis") or inside a profile ([[profiles.NAME.alerts]]).
// This package checks its shape; package tui/alert parses When.
type Alert struct {
	Name  string `toml:"name"`
	When  string `toml:"when"`
	For   string `toml:"for,omitempty"`
	Group string `toml:"group,omitempty"`

	// Where the rule was read, for error messages: File, Source as a TOML
	// path with the rule's index ("alerts[2]", "profiles.pi.alerts[0]"), and
	// the lines of its [[…]] header and keys (0 when not found, e.g. for an
	// inline table).
	File   string `toml:"-"`
	Source string `toml:"-"`
	header int
	keys   map[string]int
}

// Limits on what a rule may hold: names and values end up in notify
// commands' environments and in the dashboard's header.
const (
	MaxAlertName   = 64
	MaxAlertWhen   = 256
	MaxAlertFor    = 7 * 24 * time.Hour
	MaxNotifyCmd   = 4096
	MaxNotifyWait  = 10 * time.Minute
	DefaultTimeout = 10 * time.Second
)

// Line is the line of key ("when", "for", …) in the rule, else of the rule's
// [[alerts]] header; 0 when neither is known.
func (a Alert) Line(key string) int {
	if l := a.keys[key]; l > 0 {
		return l
	}
	return a.header
}

// Where names the rule for an error message about key:
// `profiles.toml line 12: alert "hot" (alerts[2])`.
func (a Alert) Where(key string) string {
	var b strings.Builder
	b.WriteString(a.File)
	if l := a.Line(key); l > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "line %d", l)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "alert %q", a.Name)
	if a.Source != "" {
		fmt.Fprintf(&b, " (%s)", a.Source)
	}
	return b.String()
}

// Duration is the rule's `for`: how long the condition must hold before the
// alert fires. Go durations ("90s", "1m", "1h30m"); empty means at once.
func (a Alert) Duration() (time.Duration, error) {
	return ParseFor(a.For)
}

// ParseFor reads a `for` duration: a Go duration ("500ms", "30s", "1m",
// "1h30m") between 0 and 7 days; "" is 0.
func ParseFor(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if strings.Trim(s, "0123456789.") == "" {
			return 0, fmt.Errorf("for = %q has no unit: write %ss or %sm", s, s, s)
		}
		return 0, fmt.Errorf("for = %q is not a duration (write 30s, 1m, 1h30m)", s)
	}
	if d < 0 || d > MaxAlertFor {
		return 0, fmt.Errorf("for = %q is outside 0s..168h", s)
	}
	return d, nil
}

// validate checks what the profiles file can: the rule's name, that it has a
// condition, its `for`, and group only where it means something.
func (a Alert) validate(inProfile bool) error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%s: %s", a.Where(key), fmt.Sprintf(format, args...))
	}
	switch {
	case strings.TrimSpace(a.Name) == "":
		return bad("name", "name is empty (every rule needs a name = \"…\")")
	case len(a.Name) > MaxAlertName:
		return bad("name", "name is longer than %d bytes", MaxAlertName)
	case !printable(a.Name):
		return bad("name", "name holds control characters")
	case strings.TrimSpace(a.When) == "":
		return bad("when", `when is empty (for example when = "cpu > 90")`)
	case len(a.When) > MaxAlertWhen:
		return bad("when", "when is longer than %d bytes", MaxAlertWhen)
	case !printable(a.When):
		return bad("when", "when holds control characters")
	case inProfile && a.Group != "":
		return bad("group", "group has no meaning inside a profile (move the rule to a top-level [[alerts]])")
	}
	if _, err := a.Duration(); err != nil {
		return bad("for", "%v", err)
	}
	return nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// validateAlerts checks a list of rules of one scope; names are unique in it.
func validateAlerts(list []Alert, inProfile bool) error {
	for i, a := range list {
		if err := a.validate(inProfile); err != nil {
			return err
		}
		if j := slices.IndexFunc(list[:i], func(b Alert) bool { return b.Name == a.Name }); j >= 0 {
			return fmt.Errorf("%s: the name is used twice (also %s); names must differ", a.Where("name"), list[j].Source)
		}
	}
	return nil
}

// Notify is the [notify] table: what to run when an alert fires or resolves.
type Notify struct {
	// Command runs through `sh -c` with SOCKTOP_ALERT_* in its environment.
	Command string `toml:"command,omitempty"`
	// Terminal asks for a terminal notification (OSC 9, OSC 777, the bell).
	Terminal bool `toml:"terminal,omitempty"`
	// Timeout bounds each run of Command (default 10s); the process group
	// is killed after it.
	Timeout string `toml:"timeout,omitempty"`
}

// TimeoutDuration is the parsed Timeout, DefaultTimeout when unset.
func (n Notify) TimeoutDuration() (time.Duration, error) {
	if strings.TrimSpace(n.Timeout) == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(n.Timeout))
	if err != nil || d <= 0 || d > MaxNotifyWait {
		return 0, fmt.Errorf("notify.timeout = %q must be a duration between 1ms and 10m (like 10s)", n.Timeout)
	}
	return d, nil
}

func (n Notify) validate() error {
	if len(n.Command) > MaxNotifyCmd {
		return fmt.Errorf("notify.command is longer than %d bytes", MaxNotifyCmd)
	}
	if strings.ContainsRune(n.Command, 0) {
		return errors.New("notify.command holds a NUL byte")
	}
	_, err := n.TimeoutDuration()
	return err
}

// Notify is the file's [notify] table (zero when it has none).
func (s *Store) Notify() Notify { return s.notify }

// Alerts lists the file's top-level [[alerts]] rules in file order.
func (s *Store) Alerts() []Alert { return slices.Clone(s.alerts) }

// ProfileAlerts lists the rules written inside the named profile.
func (s *Store) ProfileAlerts(name string) []Alert { return slices.Clone(s.profileAlerts[name]) }

// AlertsFor lists the rules that apply to the named profile: the top-level
// rules without a group, those whose group is the profile's group, and the
// profile's own. A more specific rule replaces a less specific one of the
// same name (profile over group over global), so a profile can raise one
// threshold. A host connected without a profile (name "") gets the top-level
// rules without a group.
func (s *Store) AlertsFor(name string) []Alert {
	var group string
	if p, ok := s.profiles[name]; ok {
		group = p.Group
	}
	var out []Alert
	add := func(a Alert) {
		if i := slices.IndexFunc(out, func(b Alert) bool { return b.Name == a.Name }); i >= 0 {
			out[i] = a
			return
		}
		out = append(out, a)
	}
	for _, a := range s.alerts {
		if a.Group == "" {
			add(a)
		}
	}
	if group != "" {
		for _, a := range s.alerts {
			if a.Group == group {
				add(a)
			}
		}
	}
	if name != "" {
		for _, a := range s.profileAlerts[name] {
			add(a)
		}
	}
	return out
}

// locateAlerts fills in each rule's file, source path and lines. The lines
// come from scanning body for the rules' [[…]] headers; when the count of
// headers found differs from the count of rules decoded (inline tables, say),
// no lines are given rather than wrong ones.
func locateAlerts(file, body string, list []Alert, path ...string) {
	blocks := arrayTableBlocks(body, path)
	src := strings.Join(quotePath(path), ".")
	for i := range list {
		list[i].File = file
		list[i].Source = fmt.Sprintf("%s[%d]", src, i)
		if len(blocks) == len(list) {
			list[i].header = blocks[i].header
			list[i].keys = blocks[i].keys
		}
	}
}

func quotePath(path []string) []string {
	out := make([]string, len(path))
	for i, p := range path {
		out[i] = p
		if p == "" || strings.ContainsFunc(p, func(r rune) bool {
			return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			out[i] = fmt.Sprintf("%q", p)
		}
	}
	return out
}
