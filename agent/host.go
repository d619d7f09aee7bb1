package agent

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// DNS rebinding: a web page whose name the attacker points at 127.0.0.1 (or
// at the agent's LAN address) makes the browser send the agent requests
// with that name in the Host header; the Origin check cannot tell, since
// the Origin matches the Host. So an agent without a token answers only
// Host headers it knows for its own: a literal IP address (no page can
// rebind one), a loopback name, the machine's own hostname, and the names
// given with --allowed-host. With a token, every request must carry it and
// no page can, so the Host is not checked (that is what a reverse proxy or
// a DNS alias needs).

// hostAllowlist is what an agent without a token answers to.
type hostAllowlist struct {
	names    map[string]bool
	suffixes []string // from "*.example" patterns: ".example"
}

// loopbackNames are names that only ever mean this machine (RFC 6761, and
// the usual /etc/hosts entries).
var loopbackNames = []string{"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

// ownHostnames are the names a client on the LAN reaches this machine by:
// its hostname, the first label of it, and both with mDNS's ".local".
func ownHostnames() []string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return nil
	}
	h = normalizeHost(h)
	out := []string{h, h + ".local"}
	if label, _, ok := strings.Cut(h, "."); ok && label != "" {
		out = append(out, label, label+".local")
	}
	return out
}

func newHostAllowlist(allowed []string) hostAllowlist {
	l := hostAllowlist{names: map[string]bool{}}
	for _, n := range append(append(loopbackNames, ownHostnames()...), allowed...) {
		n = normalizeHost(n)
		if s, ok := strings.CutPrefix(n, "*."); ok && s != "" {
			l.suffixes = append(l.suffixes, "."+s)
		} else if n != "" {
			l.names[n] = true
		}
	}
	return l
}

// String lists the names, for the start-up log line.
func (l hostAllowlist) String() string {
	var out []string
	for n := range l.names {
		if !slices.Contains(loopbackNames, n) {
			out = append(out, n)
		}
	}
	for _, s := range l.suffixes {
		out = append(out, "*"+s)
	}
	slices.Sort(out)
	return strings.Join(append([]string{"IP addresses", "localhost"}, out...), ",")
}

// ValidAllowedHost reports whether name may be an allowed host
// (Config.AllowedHosts): a host name such as kitchen.lan, or a pattern
// such as *.lan; not "*", nor anything with spaces or URL parts.
func ValidAllowedHost(name string) bool {
	n := normalizeHost(name)
	return n != "" && n != "*" && !strings.ContainsAny(name, " /?#@")
}

// normalizeHost lowercases a host name and drops a port and a trailing dot.
func normalizeHost(h string) string {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// allows reports whether a request's Host header names this agent.
func (l hostAllowlist) allows(hostHeader string) bool {
	if hostHeader == "" {
		return true // HTTP/1.0 without Host: not a browser
	}
	h := normalizeHost(hostHeader)
	if _, err := netip.ParseAddr(strings.ReplaceAll(h, "%25", "%")); err == nil {
		return true
	}
	if l.names[h] || strings.HasSuffix(h, ".localhost") {
		return true
	}
	for _, s := range l.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// checkHost answers requests for host names this agent does not know
// with 421 Misdirected Request, on every path, before anything else.
func (a *Agent) checkHost(next http.Handler) http.Handler {
	if a.cfg.Token != "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.hosts.allows(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		host := fmt.Sprintf("%q", clip(normalizeHost(r.Host), 64))
		a.limits.host.Log("remote", r.RemoteAddr, "host", host, "path", clip(r.URL.Path, 64),
			"fix", "start the agent with --allowed-host NAME (or SOCKTOP_AGENT_ALLOWED_HOSTS), or with --token")
		http.Error(w, "misdirected request: this agent without a token answers only to its own host names, "+
			"IP addresses and localhost, not "+host+" (a guard against DNS rebinding); "+
			"start it with --allowed-host "+strings.Trim(host, `"`)+" or set --token", http.StatusMisdirectedRequest)
	})
}
