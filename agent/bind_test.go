package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAllowSignalsDecidedByBoundAddress runs the binary: whether
// --allow-signals may go without a token is decided by the address the
// kernel bound, not by the name given. In a private mount namespace whose
// /etc/hosts maps localhost to 0.0.0.0 (every interface), `--listen
// localhost --allow-signals` must be refused.
func TestAllowSignalsDecidedByBoundAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	bin := buildSocktop(t)
	// An agent that wrongly starts serving is killed after 10 s (exit -1).
	run := func(t *testing.T, cmd *exec.Cmd) (int, string) {
		t.Helper()
		timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	code, out := run(t, exec.Command(bin, "agent", "--listen", "0.0.0.0", "-p", "0", "--allow-signals"))
	if code != 2 || !strings.Contains(out, "--token") {
		t.Errorf("--listen 0.0.0.0 --allow-signals: exit %d %q, want 2 naming --token", code, out)
	}

	// A loopback bind is accepted (and stopped at once by the test).
	ap := startAgentProcess(t, bin, nil, "--allow-signals")
	if !strings.HasPrefix(ap.url, "ws://127.0.0.1:") {
		t.Errorf("loopback agent with signals: %s", ap.url)
	}

	if os.Geteuid() != 0 {
		t.Skip("needs root for a private mount namespace with its own /etc/hosts")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("0.0.0.0 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$1" /etc/hosts && exec "$2" agent --listen localhost -p 0 --allow-signals`
	cmd := exec.Command("unshare", "-m", "-n", "--", "sh", "-c", script, "sh", hosts, bin)
	cmd.Env = append(os.Environ(), "GODEBUG=netdns=go")
	code, out = run(t, cmd)
	if code != 2 || !strings.Contains(out, "[::]:") && !strings.Contains(out, "0.0.0.0:") || !strings.Contains(out, "--token") {
		t.Errorf("--listen localhost (→ 0.0.0.0 in /etc/hosts) --allow-signals: exit %d %q, want 2 naming the bound address and --token", code, out)
	}
	t.Logf("localhost → 0.0.0.0: exit %d: %s", code, strings.TrimSpace(out))
}
