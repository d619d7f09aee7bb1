//go:build linux

package sockdiag

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
	"golang.org/x/sys/unix"
)

// TestFallbackFixture runs the /proc/net fallback and the owner lookup on
// the fixture tree testdata/proc: pids 100 (nginx) and 200 (sshd) with fd
// links, pid 300 without a readable fd directory, plus non-socket links.
func TestFallbackFixture(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("fixture addresses are in little-endian host order")
	}
	c := NewCollector("testdata/proc")
	c.noNetlink = unix.EPROTONOSUPPORT
	socks, err := c.Collect(nil, Options{Listening: true, Closed: true, Processes: true})
	if err != nil {
		t.Fatal(err)
	}
	got := formatSockets(socks)
	const golden = "testdata/proc.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("fixture listing differs from %s:\n%s", golden, got)
	}
	st := c.Stats()
	// 3001 and 3002 belong to nobody visible; TIME-WAIT has no inode.
	if st.Netlink || st.Unresolved != 2 || st.PIDsScanned != 2 || st.FDsRead != 8 || !st.FullScan {
		t.Errorf("Stats = %+v", st)
	}

	// Second call: the map is reused, nothing is read again, the unresolved
	// inodes do not trigger a rescan.
	socks, err = c.Collect(socks[:0], Options{Listening: true, Closed: true, Processes: true})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.PIDsScanned != 0 || st.FDsRead != 0 || st.FullScan {
		t.Errorf("second Collect rescanned: %+v", st)
	}
	if g := formatSockets(socks); g != string(want) {
		t.Errorf("second listing differs:\n%s", g)
	}

	// Without Processes nothing is resolved or read.
	socks, err = c.Collect(socks[:0], Options{TCP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range socks {
		if s.PID != 0 || s.Process != "" || s.Proto != TCP || s.State == Listen || s.State == TimeWait {
			t.Errorf("Options{TCP: true} gave %+v", s)
		}
	}
	if len(socks) != 3 {
		t.Errorf("Options{TCP: true}: %d sockets, want the 3 established ones", len(socks))
	}
}

// TestFallbackFixtureErrors: a broken /proc/net file is an error that names
// the file, and a missing tcp6 (IPv6 disabled) is not.
func TestFallbackFixtureErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(root+"/net", 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(root+"/net/tcp", []byte(tcpHeader), 0o644)
	os.WriteFile(root+"/net/udp", []byte("garbage\n"), 0o644)
	c := NewCollector(root)
	c.noNetlink = unix.EPERM
	socks, err := c.Collect(nil, Options{TCP: true})
	if err != nil || len(socks) != 0 {
		t.Errorf("TCP only, empty tcp and no tcp6: %v %v", socks, err)
	}
	socks, err = c.Collect([]Socket{{Inode: 5}}, Options{UDP: true})
	if err == nil || !containsAll(err.Error(), root+"/net/udp", "malformed") || len(socks) != 1 {
		t.Errorf("broken udp file: %v %v", socks, err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// TestFixtureOwnerExits: when the recorded owner of a still-listed socket
// exits, the socket is looked up again and found with its new holder,
// without a full scan.
func TestFixtureOwnerExits(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("fixture addresses are in little-endian host order")
	}
	root := copyTree(t, "testdata/proc")
	c := NewCollector(root)
	c.noNetlink = unix.EPERM
	opts := Options{TCP: true, Listening: true, Processes: true}
	if _, err := c.Collect(nil, opts); err != nil {
		t.Fatal(err)
	}
	// sshd (200) exits after passing its listener to a new process 400.
	if err := os.RemoveAll(root + "/200"); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(root+"/400/fd", 0o755)
	os.WriteFile(root+"/400/comm", []byte("sshd-new\n"), 0o644)
	if err := os.Symlink("socket:[2001]", root+"/400/fd/3"); err != nil {
		t.Fatal(err)
	}
	socks, err := c.Collect(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got *Socket
	for i := range socks {
		if socks[i].Inode == 2001 {
			got = &socks[i]
		}
	}
	if got == nil || got.PID != 400 || got.Process != "sshd-new" {
		t.Fatalf("socket 2001 after its owner exited: %+v", got)
	}
	if st := c.Stats(); st.FullScan || st.PIDsScanned != 1 {
		t.Errorf("Stats = %+v, want only the new process read", st)
	}
}

// copyTree copies a fixture tree, symlinks included, into a temp dir.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	proctest.CopyTree(t, src, dst)
	return dst
}

// TestFixtureRootNotNetlink: a proc root that is no procfs is read from its
// net/ files, never answered with this kernel's sockets through netlink.
func TestFixtureRootNotNetlink(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("fixture addresses are in little-endian host order")
	}
	c := NewCollector("testdata/proc")
	socks, err := c.Collect(nil, Options{Listening: true, Closed: true, Processes: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/proc.golden")
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Netlink || !errors.Is(st.NetlinkErr, errNotProcfs) || formatSockets(socks) != string(want) {
		t.Errorf("stats %+v; listing:\n%s", st, formatSockets(socks))
	}
	live := NewCollector("/proc")
	if live.Collect(nil, Options{}); live.noNetlink != nil {
		t.Errorf("the live /proc refused netlink: %v", live.noNetlink)
	}
}
