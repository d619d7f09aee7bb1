package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/agent"
)

// TestAllowedHostFlags reads --allowed-host and SOCKTOP_AGENT_ALLOWED_HOSTS
// and refuses names that are no host names.
func TestAllowedHostFlags(t *testing.T) {
	env := map[string]string{"SOCKTOP_AGENT_ALLOWED_HOSTS": "pi.lan, kitchen.lan"}
	cfg, _, code, done := parseAgentArgs([]string{"--allowed-host", "grafana.example", "--allowed-host", "*.fleet"}, func(k string) string { return env[k] }, io.Discard)
	if done {
		t.Fatalf("exit %d", code)
	}
	want := []string{"pi.lan", "kitchen.lan", "grafana.example", "*.fleet"}
	if strings.Join(cfg.AllowedHosts, ",") != strings.Join(want, ",") {
		t.Errorf("allowed hosts %q, want %q", cfg.AllowedHosts, want)
	}
	for _, bad := range []string{"", "*", "http://x/", "a b"} {
		var stderr strings.Builder
		_, _, code, done := parseAgentArgs([]string{"--allowed-host", bad}, func(string) string { return "" }, &stderr)
		if !done || code != exitUsage || !strings.Contains(stderr.String(), "--allowed-host") {
			t.Errorf("--allowed-host %q: exit %d (done %v), said %q; want 2 and an error naming the flag", bad, code, done, stderr.String())
		}
	}
}

// TestAgentArgs: every flag and SOCKTOP_* variable lands in the Config or
// the listening options, flags win over the environment, upstream's
// spellings work, and usage errors exit 2 naming what was wrong.
func TestAgentArgs(t *testing.T) {
	parse := func(env map[string]string, args ...string) (agent.Config, serveOptions, int, bool, string) {
		var stderr strings.Builder
		cfg, so, code, done := parseAgentArgs(args, func(k string) string { return env[k] }, &stderr)
		return cfg, so, code, done, stderr.String()
	}
	cfg, so, _, done, _ := parse(nil)
	if done || so.listen != ":3000" || so.tls || cfg.MetricsTTL != agent.DefaultMetricsTTL || !cfg.GPU || !cfg.Temps || cfg.Token != "" {
		t.Errorf("defaults: %+v %+v", cfg, so)
	}
	env := map[string]string{"SOCKTOP_PORT": "4000", "SOCKTOP_TOKEN": "envtok", "SOCKTOP_ENABLE_SSL": "1",
		"SOCKTOP_AGENT_METRICS_TTL_MS": "0", "SOCKTOP_AGENT_PROCESSES_TTL_MS": "2500", "SOCKTOP_AGENT_DISKS_TTL_MS": "7",
		"SOCKTOP_AGENT_CONNECTIONS_TTL_MS": "9", "SOCKTOP_AGENT_GPU": "0", "SOCKTOP_AGENT_TEMP": "off"}
	cfg, so, _, done, _ = parse(env)
	if done || so.listen != ":4000" || !so.tls || cfg.Token != "envtok" || cfg.MetricsTTL != 0 || cfg.ProcessesTTL != 2500*time.Millisecond ||
		cfg.DisksTTL != 7*time.Millisecond || cfg.ConnectionsTTL != 9*time.Millisecond || cfg.GPU || cfg.Temps {
		t.Errorf("from the environment: %+v %+v", cfg, so)
	}
	cfg, so, _, done, _ = parse(env, "-p", "5000", "--token", "flagtok", "--listen", "127.0.0.1", "--proc-root", "/host/proc",
		"--sys-root", "/host/sys", "--max-clients", "10", "--max-clients-per-peer", "3", "--allow-signals", "--log-format", "json")
	if done || so.listen != "127.0.0.1:5000" || cfg.Token != "flagtok" || cfg.ProcRoot != "/host/proc" || cfg.SysRoot != "/host/sys" ||
		cfg.MaxClients != 10 || cfg.MaxClientsPerPeer != 3 || !cfg.AllowSignals || so.logFormat != "json" {
		t.Errorf("flags over the environment: %+v %+v", cfg, so)
	}
	if _, so, _, _, _ = parse(nil, "--enableSSL"); !so.tls || so.listen != ":8443" {
		t.Errorf("upstream's --enableSSL: %+v, want TLS on 8443", so)
	}
	if _, so, _, _, _ = parse(nil, "--port", "0", "--listen", "[::1]:7000"); so.listen != "[::1]:7000" {
		t.Errorf("--listen with its own port: %q", so.listen)
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"SOCKTOP_AGENT_METRICS_TTL_MS": "-5"}, nil, "SOCKTOP_AGENT_METRICS_TTL_MS"},
		{map[string]string{"SOCKTOP_AGENT_DISKS_TTL_MS": "1s"}, nil, "SOCKTOP_AGENT_DISKS_TTL_MS"},
		{map[string]string{"SOCKTOP_PORT": "http"}, nil, "SOCKTOP_PORT"},
		{nil, []string{"--port", "70000"}, "port"},
		{nil, []string{"--log-format", "xml"}, "--log-format"},
		{nil, []string{"--max-clients", "0"}, "--max-clients"},
		{nil, []string{"--max-clients", "4", "--max-clients-per-peer", "5"}, "--max-clients-per-peer"},
		{nil, []string{"extra"}, "unexpected argument"},
		{nil, []string{"--nope"}, "nope"},
	} {
		if _, _, code, done, said := parse(c.env, c.args...); !done || code != exitUsage || !strings.Contains(said, c.want) {
			t.Errorf("%v %v: exit %d (done %v), said %q; want 2 naming %s", c.env, c.args, code, done, said, c.want)
		}
	}
	_, _, code, done, said := parse(nil, "-h")
	if !done || code != exitOK {
		t.Errorf("-h: exit %d (done %v)", code, done)
	}
	for _, want := range []string{"Examples:", "-allowed-host", "-enableSSL", "-max-clients-per-peer", "SOCKTOP_AGENT_PROCESSES_TTL_MS", "SOCKTOP_AGENT_EXTRA_SANS", "SOCKTOP_AGENT_ALLOWED_HOSTS"} {
		if !strings.Contains(said, want) {
			t.Errorf("-h does not mention %s", want)
		}
	}
}
