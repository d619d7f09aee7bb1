package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// TestMetricsCollectOnlyWhatIsAsked: the text dialects' metrics and a
// /metrics scrape have no field for the busiest process, so asking for
// them scans no process (the process cache stays empty), yet they carry a
// real process count; a v2 request then gets the busiest process, from a
// scan of its own.
func TestMetricsCollectOnlyWhatIsAsked(t *testing.T) {
	a, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)
	scanned := func() bool { _, ok := a.processes().Peek(); return ok }
	for _, req := range []string{`{"type":"metrics"}`, "get_metrics"} {
		_, b := roundTrip(t, c, websocket.MessageText, []byte(req))
		var m struct {
			ProcessCount *uint32  `json:"process_count"`
			CPUTotal     *float64 `json:"cpu_total"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.CPUTotal == nil {
			t.Fatalf("%s: %v: %.200s", req, err, b)
		}
		if req != "get_metrics" && (m.ProcessCount == nil || *m.ProcessCount < 2) {
			t.Errorf("%s: process_count %v, want this machine's count", req, m.ProcessCount)
		}
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	n := regexp.MustCompile(`(?m)^socktop_processes (\d+)$`).FindSubmatch(body)
	if n == nil {
		t.Fatalf("no socktop_processes in the scrape:\n%s", body)
	}
	if v, _ := strconv.Atoi(string(n[1])); v < 2 {
		t.Errorf("socktop_processes %d, want this machine's count", v)
	}
	if scanned() {
		t.Fatal("text-dialect metrics and a scrape made a process sample nobody asked for")
	}
	v2 := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	m := v2Call(t, v2, &wire.Request{Id: 1, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}}).GetMetrics()
	if m.GetTopProcess().GetPid() == 0 || !scanned() {
		t.Errorf("v2 metrics: busiest process %+v, process sample made: %v", m.GetTopProcess(), scanned())
	}
	if m.ProcessCount < 2 {
		t.Errorf("v2 metrics: process count %d", m.ProcessCount)
	}
}
