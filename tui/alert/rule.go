package alert

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/socktop/socktop/profiles"
)

// Rule is a compiled [[alerts]] entry.
type Rule struct {
	Name string
	Cond Condition
	// For is how long Cond must hold before the alert fires (0: at once).
	For time.Duration
	// Text is the rule as the user wrote it, for the dashboard and
	// SOCKTOP_ALERT_RULE: `temp > 80 for 1m`.
	Text string
}

// NewRule compiles one rule from its parts.
func NewRule(name, when string, hold time.Duration) (Rule, error) {
	c, err := ParseCondition(when)
	if err != nil {
		return Rule{}, err
	}
	text := strings.TrimSpace(when)
	if hold > 0 {
		text += " for " + shortDuration(hold)
	}
	return Rule{Name: name, Cond: c, For: hold, Text: text}, nil
}

// Compile turns a rule read from profiles.toml into a Rule. Its error names
// the file, the line, the rule's name and index, and what is wrong:
//
//	profiles.toml line 14: alert "hot" (alerts[0]): when "temp >> 80": bad alert condition: …
func Compile(a profiles.Alert) (Rule, error) {
	hold, err := a.Duration()
	if err != nil {
		return Rule{}, fmt.Errorf("%s: %w", a.Where("for"), err)
	}
	r, err := NewRule(a.Name, a.When, hold)
	if err != nil {
		return Rule{}, fmt.Errorf("%s: when %q: %w (the file was left untouched)", a.Where("when"), a.When, err)
	}
	return r, nil
}

// CompileAll compiles every rule; the error joins one line per bad rule, and
// the good rules are returned either way.
func CompileAll(list []profiles.Alert) ([]Rule, error) {
	var (
		out  []Rule
		errs []error
	)
	for _, a := range list {
		r, err := Compile(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// shortDuration writes 1m rather than 1m0s, 2h rather than 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
