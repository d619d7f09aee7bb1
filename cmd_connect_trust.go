package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui"
	"github.com/socktop/socktop/wire"
)

// saveProfile creates or overwrites p, asking first unless force.
func saveProfile(store *profiles.Store, p profiles.Profile, force bool, env connectEnv) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if old, err := store.Get(p.Name); err == nil && old == p {
		return nil // nothing changes
	}
	if !force {
		what := "Save"
		if store.Has(p.Name) {
			what = "Overwrite"
		}
		ok, err := ask(env, fmt.Sprintf("%s profile %q (%s) in %s? [y/N] ", what, p.Name, p.URL, store.Path()))
		if err != nil {
			return fmt.Errorf("%w (pass --save to save without asking)", err)
		}
		if !ok {
			fmt.Fprintln(env.Stderr, "profile not saved; connecting anyway")
			return nil
		}
	}
	if err := store.Put(p); err != nil {
		return err
	}
	if err := store.Save(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "saved profile %q in %s\n", p.Name, store.Path())
	return nil
}

// ask asks a yes/no question on the terminal.
func ask(env connectEnv, q string) (bool, error) {
	if !env.Interactive {
		return false, errors.New("cannot ask: not a terminal")
	}
	fmt.Fprint(env.Stderr, q)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("read answer: %w", err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// trustOnFirstUse: a wss:// agent with no pin and no CA file is probed; a
// certificate the system does not trust is shown with its fingerprint, and
// accepting it stores the pin in the profile (a new profile named after the
// host when there was none). Declining ends here.
func trustOnFirstUse(ctx context.Context, opts *tui.Options, prof string, store *profiles.Store, env connectEnv) error {
	t := &opts.Target
	if !t.TLS() || t.Pin != "" || t.TLSCA != "" {
		return nil
	}
	err := env.Probe(ctx, *t)
	var ut *wire.UntrustedCertError
	if !errors.As(err, &ut) {
		return nil // trusted by the system, or another problem the dashboard shows
	}
	fmt.Fprintf(env.Stderr, "The agent at %s presents a certificate this machine does not trust:\n\n  %s\n\n"+
		"Compare it with what `socktop cert` prints on the agent.\n", tui.RedactURL(t.URL), ut.Fingerprint)
	ok, aerr := ask(env, "Trust it and remember the pin? [y/N] ")
	if aerr != nil {
		return fmt.Errorf("%v; to trust it, pass --pin %s", aerr, ut.Fingerprint)
	}
	if !ok {
		return errors.New("certificate not trusted; nothing was saved")
	}
	t.Pin = ut.Fingerprint
	var p profiles.Profile
	if prof != "" && store.Has(prof) {
		p, _ = store.Get(prof)
	} else {
		name := hostProfileName(t.URL)
		if prof != "" {
			name = prof
		}
		if store.Has(name) || profiles.ValidName(name) != nil {
			fmt.Fprintf(env.Stderr, "pin not saved (no free profile name); pass --pin %s next time\n", ut.Fingerprint)
			return nil
		}
		p = profiles.Profile{Name: name, URL: t.URL, Token: t.Token, VerifyHostname: t.VerifyHostname}
	}
	p.Pin = ut.Fingerprint
	if err := store.Put(p); err != nil {
		return err
	}
	if err := store.Save(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pin saved in profile %q (%s)\n", p.Name, store.Path())
	if t.Label == "" || t.Label == t.URL {
		t.Label = p.Name
	}
	return nil
}

// hostProfileName names a profile after the URL's host.
func hostProfileName(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.NewReplacer(":", "-", "[", "", "]", "").Replace(pu.Hostname())
}
