package alert

import (
	"errors"
	"net/url"

	"github.com/socktop/socktop/profiles"
)

// Setup is what the dashboard needs to watch one host's alerts: the host's
// name in events, its compiled rules and the file's [notify] table. The
// zero Setup watches nothing.
type Setup struct {
	// Host names the host in events and SOCKTOP_ALERT_HOST: the profile's
	// name, else host:port.
	Host   string
	Rules  []Rule
	Notify profiles.Notify
}

// Check compiles every rule of the file once, at start-up: the top-level
// ones and each profile's, whether or not this run connects to that
// profile. Its error has one line per bad rule, naming the file, the line,
// the rule and what is wrong.
func Check(store *profiles.Store) error {
	_, err := CompileAll(store.Alerts())
	errs := []error{err}
	for _, name := range store.Names() {
		_, err := CompileAll(store.ProfileAlerts(name))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ForHost is the Setup of the host reached at agentURL through the named
// profile ("" for a host given by address): the rules that apply to that
// profile (see profiles.Store.AlertsFor). Rules that do not compile are
// left out; Check reports them.
func ForHost(store *profiles.Store, profile, agentURL string) Setup {
	rules, _ := CompileAll(store.AlertsFor(profile))
	name := profile
	if name == "" {
		name = HostPort(agentURL)
	}
	return Setup{Host: name, Rules: rules, Notify: store.Notify()}
}

// HostPort is the host:port of an agent's URL ("10.0.0.5:3000"), or the
// text itself when it is not a URL with a host.
func HostPort(agentURL string) string {
	u, err := url.Parse(agentURL)
	if err != nil || u.Host == "" {
		return agentURL
	}
	return u.Host
}
