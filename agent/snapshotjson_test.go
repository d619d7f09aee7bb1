package agent

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// TestSnapshotJSON pins how a sample is printed for scripts: numbers as
// numbers (a 64-bit counter too), floats to two decimals, NaN as null,
// enums and socket states by name, addresses as text, unset optional
// values as null, empty lists as [], and text escaped.
func TestSnapshotJSON(t *testing.T) {
	nan := float32(math.NaN())
	temp := float32(48.25)
	cases := []struct {
		m    proto.Message
		want string
	}{
		{&wire.Disks{SampledAtMs: 1<<63 + 5}, `{"sampled_at_ms":9223372036854775813,"disks":[]}`},
		{&wire.Temperature{Label: "Package \"0\"\n\x01", Sensor: "coretemp\xff", ValueC: 12.345678}, `{"label":"Package \"0\"\n\u0001","sensor":"coretemp` + "\ufffd" + `","value_c":12.35}`},
		{&wire.Gpu{Name: "x", Usage: nan, TempC: &temp}, `{"name":"x","vendor":"","usage":null,"mem_used":0,"mem_total":0,"temp_c":48.25}`},
		{&wire.Gpu{Name: "y", Usage: -0.001}, `{"name":"y","vendor":"","usage":0,"mem_used":0,"mem_total":0,"temp_c":null}`},
		{&wire.Connection{Transport: wire.Transport_TRANSPORT_TCP, Family: wire.AddressFamily_ADDRESS_FAMILY_INET6,
			LocalAddr: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, LocalPort: 22, RemoteAddr: []byte{192, 168, 1, 9}, RemotePort: 50000, State: 6},
			`{"transport":"tcp","family":"inet6","local_addr":"10.0.0.1","local_port":22,"remote_addr":"192.168.1.9","remote_port":50000,"state":"TIME-WAIT","inode":0,"uid":0,"pid":0,"process_name":"","bytes_acked":0,"bytes_received":0,"segs_in":0,"segs_out":0,"rtt_us":0,"rttvar_us":0,"retrans":0,"cwnd":0,"rx_queue":0,"tx_queue":0,"counters_available":false}`},
		{&wire.Connection{Transport: wire.Transport(9), State: 7}, `{"transport":"9","family":"unspecified","local_addr":"","local_port":0,"remote_addr":"","remote_port":0,"state":"UNCONN","inode":0,"uid":0,"pid":0,"process_name":"","bytes_acked":0,"bytes_received":0,"segs_in":0,"segs_out":0,"rtt_us":0,"rttvar_us":0,"retrans":0,"cwnd":0,"rx_queue":0,"tx_queue":0,"counters_available":false}`},
	}
	for _, c := range cases {
		got := string(SnapshotJSON(c.m, ""))
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("not JSON: %s", got)
		}
	}
	// Indented: objects and lists of objects a line each, numbers inline.
	m := &wire.Metrics{CpuPerCore: []float32{1, 2.5}, Networks: []*wire.Network{{Name: "lo"}}}
	var v struct {
		CPUPerCore []float64 `json:"cpu_per_core"`
		Networks   []struct{ Name string }
		TopProcess *struct{} `json:"top_process"`
		MemTotal   *uint64   `json:"mem_total"`
	}
	out := SnapshotJSON(m, "  ")
	if err := json.Unmarshal(out, &v); err != nil || len(v.CPUPerCore) != 2 || v.CPUPerCore[1] != 2.5 || v.Networks[0].Name != "lo" || v.TopProcess != nil || v.MemTotal == nil {
		t.Errorf("indented metrics: %v\n%s", err, out)
	}
}
