package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// A machine with more interfaces or CPUs than a client believes in (a
// fixture can have them) still gets replies the client accepts: the agent
// cuts its lists at the limits of wire/plausible.go.
func TestRepliesStayPlausible(t *testing.T) {
	proc := faultFixture(t)
	var dev strings.Builder
	dev.WriteString("Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n")
	for i := range wire.MaxInterfaces + 100 {
		fmt.Fprintf(&dev, "veth%d: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n", i)
	}
	writeFile(t, filepath.Join(proc, "net", "dev"), []byte(dev.String()))
	stat, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		t.Fatal(err)
	}
	var cpus strings.Builder
	for i := range wire.MaxCores + 10 {
		fmt.Fprintf(&cpus, "cpu%d 30000 10 10000 200000 50 0 30 5 0 0\n", i)
	}
	lines := strings.SplitN(string(stat), "\n", 2)
	rest := lines[1]
	for strings.HasPrefix(rest, "cpu") {
		rest = rest[strings.IndexByte(rest, '\n')+1:]
	}
	writeFile(t, filepath.Join(proc, "stat"), []byte(lines[0]+"\n"+cpus.String()+rest))

	_, base := faultAgent(t, proc, true)
	v := dial(t, "ws"+strings.TrimPrefix(base, "http")+"/ws", &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	m := v2Call(t, v, &wire.Request{Id: 1, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}}).GetMetrics() // v2Call decodes with wire.DecodeResponse
	if m == nil || len(m.Networks) != wire.MaxInterfaces || len(m.CpuPerCore) != wire.MaxCores {
		t.Fatalf("metrics of %d interfaces, %d cores; want the limits %d and %d", len(m.GetNetworks()), len(m.GetCpuPerCore()), wire.MaxInterfaces, wire.MaxCores)
	}
}
