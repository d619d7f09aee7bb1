package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Prometheus rules shipped in scripts/prometheus pass promtool's check
// and their own unit tests, and every metric (and label matcher) they use is
// one a real agent exports.
func TestPrometheusAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	dir := filepath.Join("..", "scripts", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(dir, "alerts.yml")},
		{"test", "rules", filepath.Join(dir, "alerts_test.yml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	rules, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// This machine's /proc with a fixture /sys, so that temperature sensors
	// exist even where the machine has none.
	cfg := testConfig()
	cfg.SysRoot = filepath.Join("..", "procfs", "testdata", "fixtures", "x86-server", "sys")
	_, srv := startAgent(t, cfg)
	exposition := string(scrape(t, srv.URL+"/metrics"))
	exported := map[string]bool{}
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			exported[strings.Fields(rest)[0]] = true
		}
	}
	var exprs []string
	for _, line := range strings.Split(string(rules), "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			exprs = append(exprs, e)
		}
	}
	if len(exprs) < 7 {
		t.Fatalf("found %d expressions in alerts.yml", len(exprs))
	}
	used := 0
	for _, name := range regexp.MustCompile(`\bsocktop_[a-z0-9_]+\b`).FindAllString(strings.Join(exprs, "\n"), -1) {
		used++
		if !exported[name] {
			t.Errorf("alerts.yml uses %s, which the agent does not export", name)
		}
	}
	// A label matcher must match a series the agent writes: name{…label="value"…}.
	matcher := regexp.MustCompile(`(socktop_[a-z0-9_]+)\{([^}]*)\}`)
	pair := regexp.MustCompile(`(\w+)="([^"]*)"`)
	for _, m := range matcher.FindAllStringSubmatch(strings.Join(exprs, "\n"), -1) {
		for _, p := range pair.FindAllStringSubmatch(m[2], -1) {
			if !regexp.MustCompile(`(?m)^` + m[1] + `\{[^}]*\b` + p[1] + `="` + regexp.QuoteMeta(p[2]) + `"`).MatchString(exposition) {
				t.Errorf("alerts.yml matches %s{%s=%q}, which no exported series has", m[1], p[1], p[2])
			}
		}
	}
	if used < 9 {
		t.Errorf("only %d metric names found in alerts.yml", used)
	}
}

// A real Prometheus loads the rules and evaluates each against a real agent
// without an error.
func TestPrometheusEvaluatesAlertRules(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not installed (apt-get install prometheus)")
	}
	cfg := testConfig()
	cfg.Token = "scrape-token"
	cfg.SysRoot = filepath.Join("..", "procfs", "testdata", "fixtures", "x86-server", "sys")
	_, srv := startAgent(t, cfg)
	rules, err := filepath.Abs(filepath.Join("..", "scripts", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	promAddr := startPrometheus(t, prom, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: socktop
    authorization:
      credentials: scrape-token
    static_configs:
      - targets: [%q]
`, rules, strings.TrimPrefix(srv.URL, "http://")))

	type rule struct {
		Name, Health, LastError string
	}
	var last []rule
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/rules")
		if err != nil {
			continue
		}
		var r struct {
			Data struct {
				Groups []struct{ Rules []rule } `json:"groups"`
			} `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		last = nil
		for _, g := range r.Data.Groups {
			last = append(last, g.Rules...)
		}
		evaluated := len(last) == 7
		for _, ru := range last {
			if ru.LastError != "" || ru.Health == "err" {
				t.Fatalf("rule %s fails to evaluate: %s", ru.Name, ru.LastError)
			}
			evaluated = evaluated && ru.Health == "ok" // "unknown" until evaluated
		}
		if evaluated {
			return
		}
	}
	t.Fatalf("Prometheus never evaluated all 7 rules: %+v", last)
}
