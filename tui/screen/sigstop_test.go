package screen

import (
	"bufio"
	"github.com/socktop/socktop/tui/model"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An agent stopped with SIGSTOP keeps its TCP connection but answers
// nothing: the header says "not responding" within a few seconds, and the
// dashboard recovers after SIGCONT without a key press.
func TestStoppedAgentNotResponding(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the socktop binary")
	}
	bin := filepath.Join(t.TempDir(), "socktop")
	build := exec.Command("go", "build", "-o", bin, "github.com/socktop/socktop")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	agent := exec.Command(bin, "agent", "--listen", "127.0.0.1", "-p", "0")
	stderr, _ := agent.StderrPipe()
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		agent.Process.Signal(syscall.SIGCONT)
		agent.Process.Kill()
		agent.Wait()
	})
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`url=(ws://\S+/ws)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-urlc:
	case <-time.After(20 * time.Second):
		t.Fatal("agent did not start")
	}
	goroutines := runtime.NumGoroutine()
	hs := startApp(t, Options{Target: model.Target{URL: url}, MetricsInterval: 200 * time.Millisecond}, 120, 40)
	hs.waitFor("● connected", "─ processes ")
	hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 0 })

	agent.Process.Signal(syscall.SIGSTOP)
	stopped := time.Now()
	s := hs.waitFor("not responding", "STALE")
	t.Logf("\"not responding\" %v after SIGSTOP", time.Since(stopped).Round(100*time.Millisecond))
	if strings.Contains(s, "● connected") {
		t.Errorf("still says connected:\n%s", s)
	}
	agent.Process.Signal(syscall.SIGCONT)
	hs.waitUntil("recovered after SIGCONT", func(s string) bool {
		return strings.Contains(s, "● connected") && !strings.Contains(s, "STALE")
	})
	if n := runtime.NumGoroutine(); n > goroutines+40 {
		t.Errorf("goroutines %d → %d across the stall", goroutines, n)
	}
}
