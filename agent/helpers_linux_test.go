package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helper processes: the test binary re-executed with SOCKTOP_TEST_HELPER
// set, possibly under another file name (the kernel takes a process's name
// from it). They are real processes the agent reads and signals.
func init() {
	mode := os.Getenv("SOCKTOP_TEST_HELPER")
	if mode == "" {
		return
	}
	switch mode {
	case "victim":
		runVictim()
	case "listen":
		runListener()
	case "burn":
		runBurner()
	case "tcprecv", "tcpsend", "fsync":
		runTraffic(mode)
	case "threads":
		n, _ := strconv.Atoi(os.Getenv("SOCKTOP_TEST_THREADS"))
		holdThreads(n)
		fmt.Println("ready")
		select {}
	default:
		fmt.Fprintln(os.Stderr, "unknown SOCKTOP_TEST_HELPER", mode)
		os.Exit(2)
	}
	os.Exit(0)
}

// runVictim prints "ready", then the name of every HUP, USR1 or TERM it
// gets, in the order they come; TERM ends it. A test tells whether a
// signal that must not have been sent was sent by sending USR1 itself:
// the kernel delivers pending standard signals lowest number first, so a
// HUP sent before would be printed before it.
func runVictim() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGTERM)
	fmt.Println("ready")
	for s := range ch {
		fmt.Println(strings.ToUpper(unix.SignalName(s.(syscall.Signal))))
		if s == syscall.SIGTERM {
			return
		}
	}
}

// runBurner prints "ready", keeps one core busy for SOCKTOP_TEST_BURN (a
// duration), then prints "done" and exits.
func runBurner() {
	d, err := time.ParseDuration(os.Getenv("SOCKTOP_TEST_BURN"))
	if err != nil {
		fmt.Println("SOCKTOP_TEST_BURN:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
	fmt.Println("done")
}

// runListener listens on a loopback port, names one of its threads
// SOCKTOP_TEST_THREAD_NAME, prints "ready", then waits to be killed.
func runListener() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	defer ln.Close()
	named := make(chan error)
	go func() {
		runtime.LockOSThread() // kept locked: the thread lives on with its name
		named <- os.WriteFile("/proc/thread-self/comm", []byte(os.Getenv("SOCKTOP_TEST_THREAD_NAME")), 0)
		select {}
	}()
	if err := <-named; err != nil {
		fmt.Println("name thread:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	select {}
}

// holdThreads starts n more OS threads, each parked until release is
// called.
func holdThreads(n int) (release func()) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			runtime.LockOSThread()
			wg.Done()
			<-stop
		}()
	}
	wg.Wait()
	return func() { close(stop) }
}

// helper is a running helper process.
type helper struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

// startHelper runs the test binary in mode, as file exe (a copy made by
// copyTestBinary, or "" for the binary itself), and waits for "ready".
func startHelper(t *testing.T, mode, exe string, setup func(*exec.Cmd), args ...string) *helper {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if exe == "" {
		exe = self
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "SOCKTOP_TEST_HELPER="+mode)
	cmd.Stderr = os.Stderr
	if setup != nil {
		setup(cmd)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.ENOEXEC) { // a foreign binary under qemu-user
			t.Skipf("cannot run helper %s here (%v): foreign architecture under qemu-user?", mode, err)
		}
		t.Fatalf("start helper %s: %v", mode, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	h := &helper{cmd: cmd, lines: bufio.NewScanner(out)}
	if got := h.next(t); got != "ready" {
		t.Fatalf("helper %s said %q, want ready", mode, got)
	}
	return h
}

func (h *helper) pid() int { return h.cmd.Process.Pid }

// next is the helper's next line of output (it fails the test after 10 s).
func (h *helper) next(t *testing.T) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		if h.lines.Scan() {
			line <- h.lines.Text()
		} else {
			line <- "EOF"
		}
	}()
	select {
	case s := <-line:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("helper said nothing for 10 s")
	}
	return ""
}

// copyTestBinary copies the test binary to dir/name, mode 0755.
func copyTestBinary(t *testing.T, dir, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, name)
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// skipUnlessRunnable skips a test that must re-execute the test binary
// when this machine cannot run it directly: under qemu-user (CI's arm64 and
// armv7 runs) the binary is foreign and only qemu runs it.
func skipUnlessRunnable(t *testing.T, self string) {
	t.Helper()
	if err := exec.Command(self, "-test.run=^$", "-test.count=1").Run(); err != nil {
		t.Skipf("cannot re-execute the test binary here (%v): foreign architecture under qemu-user?", err)
	}
}

// nsEnv marks a test binary re-executed inside private namespaces.
const nsEnv = "SOCKTOP_TEST_NAMESPACES"

// inNamespaces reports whether this test runs inside the namespaces that
// reexecInNamespaces made for it.
func inNamespaces(t *testing.T) bool { return os.Getenv(nsEnv) == t.Name() }

// reexecInNamespaces runs this test again, alone, in a child test binary
// under `unshare flags…` (as root; it skips otherwise), relays its output
// and fails when it fails. The caller returns right after.
func reexecInNamespaces(t *testing.T, flags ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make private namespaces (unshare); skipped so that no mistake can reach the machine's processes")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) (util-linux)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	skipUnlessRunnable(t, self)
	args := append(append([]string{}, flags...), "--", self, "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=5m")
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), nsEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	t.Logf("in private namespaces (unshare %s):\n%s", strings.Join(flags, " "), out)
	if err != nil {
		t.Fatalf("the test failed inside its namespaces: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatal("the test did not run inside its namespaces")
	}
}

// needSockDiag skips a test of TCP counters where netlink sock_diag is
// refused (qemu-user does not forward it; some containers forbid it).
func needSockDiag(t *testing.T) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, 4) // NETLINK_SOCK_DIAG
	if err != nil {
		t.Skipf("netlink sock_diag unavailable here (%v): per-process TCP counters are not testable", err)
	}
	syscall.Close(fd)
}
