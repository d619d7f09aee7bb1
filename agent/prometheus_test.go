package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// promtool (Debian's prometheus package; .ci/run installs it) must find
// nothing wrong with the exposition.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	_, srv := startAgent(t, testConfig())
	body := scrape(t, srv.URL+"/metrics")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// A real Prometheus server scrapes the agent and reports it up.
func TestPrometheusScrapes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not installed (apt-get install prometheus)")
	}
	cfg := testConfig()
	cfg.Token = "scrape-token"
	_, srv := startAgent(t, cfg)
	target := strings.TrimPrefix(srv.URL, "http://")
	promAddr := startPrometheus(t, prom, fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: socktop
    authorization:
      credentials: scrape-token
    static_configs:
      - targets: [%q]
`, target))

	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=up")
		if err != nil {
			continue
		}
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == "1" {
			// And a socktop series made it into the database.
			resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=socktop_memory_total_bytes")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(b), "socktop_memory_total_bytes") {
					t.Errorf("socktop_memory_total_bytes not stored: %s", b)
				}
			}
			return
		}
	}
	t.Fatal("Prometheus never reported the agent up")
}

// startPrometheus runs the prometheus binary with conf on 127.0.0.1 and
// returns its address; the test's cleanup kills it.
func startPrometheus(t *testing.T, prom, conf string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return addr
}
