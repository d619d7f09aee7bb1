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
// certificate the system does not trust is shown with its fingerprint and
// the profile its pin will be saved in, and accepting it saves the pin
// there before the dashboard starts: the profile the target came from, or
// a new one named HOST-PORT (never the bare host name, which would then
// stop meaning ws://HOST:3000). The same URL typed again finds that
// profile, and connects without asking. Declining ends here.
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
	fp := ut.Fingerprint
	fmt.Fprintf(env.Stderr, "The agent at %s presents a certificate this machine does not trust:\n\n  %s\n\n"+
		"Compare it with what `socktop cert` prints on the agent.\n", tui.RedactURL(t.URL), fp)
	name := prof
	if name == "" {
		name = pinProfileName(store, t.URL)
	}
	canSave := store.Broken() == nil && name != ""
	if canSave {
		fmt.Fprintf(env.Stderr, "Yes saves the pin in profile %q in %s; then `socktop connect %s` and `socktop connect %s` connect without asking.\n",
			name, store.Path(), name, tui.RedactURL(t.URL))
	} else {
		fmt.Fprintf(env.Stderr, "The pin cannot be saved (%s): yes trusts it for this run only.\n", whyNotSaved(store))
	}
	ok, aerr := ask(env, "Trust it? [y/N] ")
	if aerr != nil {
		return fmt.Errorf("%v; to trust it, pass --pin %s", aerr, fp)
	}
	if !ok {
		return errors.New("certificate not trusted; nothing was saved")
	}
	t.Pin = fp
	if !canSave {
		fmt.Fprintf(env.Stderr, "pin not saved; pass --pin %s next time\n", fp)
		return nil
	}
	p := profiles.Profile{Name: name, URL: t.URL, VerifyHostname: t.VerifyHostname}
	if store.Has(name) {
		p, _ = store.Get(name)
	}
	p.Pin = fp
	if err := store.Put(p); err != nil {
		return err
	}
	if err := store.Save(); err != nil {
		fmt.Fprintf(env.Stderr, "pin not saved (%v); pass --pin %s next time\n", err, fp)
		return nil
	}
	fmt.Fprintf(env.Stderr, "pin saved to profile %q in %s\n", name, store.Path())
	if t.Label == "" || t.Label == t.URL || !store.Has(t.Label) {
		t.Label = name
	}
	t.Profile = name
	return nil
}

func whyNotSaved(store *profiles.Store) string {
	if err := store.Broken(); err != nil {
		return fmt.Sprintf("%s could not be read", store.Path())
	}
	return "no free profile name"
}

// pinProfileName is a free name for the profile that keeps the pin of the
// agent at u: HOST-PORT (pi.lan-8443), then HOST-PORT-2, -3…, so that a
// second agent on a host gets its own and no bare host name is taken.
func pinProfileName(store *profiles.Store, u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	port := pu.Port()
	if port == "" {
		port = "443"
	}
	base := strings.NewReplacer(":", "-", "[", "", "]", "", "%", "-").Replace(pu.Hostname()) + "-" + port
	for i := 1; i <= 99; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		if !store.Has(name) && profiles.ValidName(name) == nil {
			return name
		}
	}
	return ""
}
