package test

import (
	"bytes"
	"context"
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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.yaml.in/yaml/v3"

	"github.com/meshwarden/meshwarden/test/lab"
)

// driveTraffic makes the orchestrator take every path once: ALLOW, DENY (kernel), REDIRECT
// relayed, REDIRECT refused by the enforcer (nothing listens: dial_failed), a malformed
// request the enforcer denies (bad_request), a body the classification finds an e-mail address
// in, and a destination on the peer node, whose tunnel nobody answers.
func driveTraffic(t *testing.T, w *world, closedData string) {
	t.Helper()
	wantOK(t, w.orchestrator("http", "http://"+w.tools+"/list"), "tools GET /list")
	wantEPERM(t, w.orchestrator("http", "http://"+w.blocked+"/secret"))
	wantOK(t, w.orchestrator("http", "http://"+w.data+"/memory/1"), "data GET /memory/1")
	if r := w.orchestrator("http", "http://"+closedData+"/gone"); r.Err == nil {
		t.Fatalf("redirect to a closed port answered: %q", r.Out)
	}
	if r := w.orchestrator("tcp", w.data, "GET /bad HTTP/1.1\r\nthis header has no colon\r\n"); !strings.Contains(r.Out, "400 Bad Request") {
		t.Fatalf("malformed request: err=%v out=%q, want 400", r.Err, r.Out)
	}
	if r := w.orchestrator("tcp", w.data, jsonPOSTLine("/scan", `{"note": "write to ops@example.com"}`)); !strings.Contains(r.Out, "200 OK") {
		t.Fatalf("POST /scan: err=%v out=%q, want 200", r.Err, r.Out)
	}
	if r := w.orchestrator("http", "http://127.0.0.7:8080/remote"); r.Err == nil && strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("a destination on a node whose tunnel nobody answers answered: %q", r.Out)
	}
}

func TestMetricsMoveInARealPrometheusAndDashboardsUseOnlyExportedSeries(t *testing.T) {
	w := newObsWorld(t, nil)
	closedData := fmt.Sprintf("127.0.0.3:%d", lab.FreePort(t))
	st := statusJSON(t, w)
	prom := startPrometheus(t, st.MetricsAddr)
	if err := prom.waitSeries(`up{job="meshwarden"} == 1`, 15*time.Second); err != nil {
		t.Fatal(err)
	}

	// Two waves, with a scrape between them, so that every counter is seen before and after.
	driveTraffic(t, w, closedData)
	if err := prom.waitSeries(`meshwarden_enforcer_refusals_total{reason="bad_request"} > 0`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	driveTraffic(t, w, closedData)

	t.Run("series exist and move", func(t *testing.T) {
		for _, expr := range []string{
			`increase(meshwarden_datapath_connects_total{src_zone="control", dst_zone="blocked", verdict="DENY"}[1m]) > 0`,
			`increase(meshwarden_datapath_connects_total{src_zone="control", dst_zone="tools", verdict="ALLOW"}[1m]) > 0`,
			`increase(meshwarden_datapath_connects_total{src_zone="control", dst_zone="data", verdict="REDIRECT"}[1m]) > 0`,
			`increase(meshwarden_datapath_agent_connects_total{agent="orchestrator", verdict="DENY"}[1m]) > 0`,
			`increase(meshwarden_datapath_verdicts_total{verdict="DENY"}[1m]) > 0`,
			`increase(meshwarden_datapath_ringbuf_events_total[1m]) > 0`,
			`meshwarden_datapath_ringbuf_drops_total == 0`,
			`count(meshwarden_datapath_programs_attached == 1) == 8`,
			`meshwarden_datapath_map_entries{map="mw_endpoints"} == 2`,
			`meshwarden_datapath_map_max_entries{map="mw_orig_by_tuple"} == 131072`,
			`increase(meshwarden_enforcer_requests_total{protocol="http/1.1", verdict="REDIRECT"}[1m]) > 0`,
			`increase(meshwarden_enforcer_requests_total{verdict="DENY"}[1m]) > 0`,
			`increase(meshwarden_enforcer_refusals_total{reason="dial_failed"}[1m]) > 0`,
			`increase(meshwarden_enforcer_refusals_total{reason="bad_request"}[1m]) > 0`,
			`increase(meshwarden_enforcer_connections_total[1m]) > 0`,
			`increase(meshwarden_enforcer_bytes_total{protocol="http/1.1", direction="to_agent"}[1m]) > 0`,
			`histogram_quantile(0.5, sum by (le) (rate(meshwarden_enforcer_request_duration_seconds_bucket{protocol="http/1.1"}[1m]))) > 0`,
			`increase(meshwarden_enforcer_requests_total{domain="open", protocol="http/1.1", verdict="REDIRECT"}[1m]) > 0`,
			`histogram_quantile(0.5, sum by (le) (rate(meshwarden_enforcer_request_duration_seconds_bucket{domain="open"}[1m]))) > 0`,
			`increase(meshwarden_enforcer_classification_hits_total{domain="scanned", detector="email", action="audit"}[1m]) > 0`,
			`meshwarden_enforcer_scrubbed_keys_total{domain="open"} >= 0`,
			`meshwarden_policy_domain_info{domain="scanned", tier="PLAINTEXT"} == 1`,
			`meshwarden_identity_credentials_issued_total >= 2`, // one per agent of the policy
			`meshwarden_identity_credential_expiry_seconds > 0`,
			`meshwarden_identity_verification_failures_total{reason="credential_revoked"} == 0`,
			`meshwarden_tunnel_handshakes_total{peer="peer", direction="outbound"} == 0`,
			`increase(meshwarden_tunnel_handshake_failures_total{peer="peer", direction="outbound"}[1m]) > 0`,
			`meshwarden_enforcer_active_connections >= 0`,
			`meshwarden_enforcer_listeners >= 1`,
			`increase(meshwarden_audit_records_total{kind="flow"}[1m]) > 0`,
			`increase(meshwarden_audit_records_total{kind="request"}[1m]) > 0`,
			`meshwarden_audit_write_errors_total{kind="request"} == 0`,
			`meshwarden_audit_dropped_records_total == 0`,
			`meshwarden_audit_write_duration_seconds_count > 0`, // the synchronous writes (system records at start)
			`meshwarden_policy_agents == 2`,
			`meshwarden_build_info{version!=""} == 1`,
			`process_resident_memory_bytes > 0`,
			`go_goroutines > 0`,
			// The shipped recording rules, evaluated by this Prometheus.
			`instance:meshwarden_datapath_connects:rate5m{verdict="DENY"} > 0`,
			`instance:meshwarden_enforcer_refusals:rate5m{reason="dial_failed"} > 0`,
		} {
			if err := prom.waitSeries(expr, 15*time.Second); err != nil {
				t.Error(err)
			}
		}
	})

	text := scrape(t, st.MetricsAddr)
	exported := scrapedNames(text)

	t.Run("promtool check metrics passes on a live scrape", func(t *testing.T) {
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("request durations are native histograms with classic buckets", func(t *testing.T) {
		h := scrapeHistogram(t, st.MetricsAddr, "meshwarden_enforcer_request_duration_seconds", "http/1.1")
		if h.GetSchema() == 0 && len(h.GetPositiveSpan()) == 0 || h.GetZeroThreshold() == 0 {
			t.Errorf("no native histogram: schema %d, spans %v", h.GetSchema(), h.GetPositiveSpan())
		}
		if len(h.GetBucket()) == 0 || h.GetSampleCount() == 0 {
			t.Errorf("no classic buckets or no samples: %v", h)
		}
	})

	t.Run("every dashboard expression parses, returns series and names only exported metrics", func(t *testing.T) {
		for _, path := range dashboardFiles(t) {
			exprs := dashboardExprs(t, path)
			if len(exprs) == 0 {
				t.Errorf("%s: no PromQL expressions", path)
			}
			for _, expr := range exprs {
				q := grafanaVars.Replace(expr)
				v, err := prom.query(q)
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(path), err)
					continue
				}
				if len(v) == 0 {
					t.Errorf("%s: %s returns no series under traffic", filepath.Base(path), q)
				}
				for _, name := range metricNames(q) {
					if !exported[name] {
						t.Errorf("%s: %s names %s, which the daemon does not export", filepath.Base(path), expr, name)
					}
				}
			}
		}
	})

	t.Run("every rule expression names only exported or recorded metrics", func(t *testing.T) {
		known := map[string]bool{"up": true} // Prometheus's own, for the enforcer-down alert
		for k := range exported {
			known[k] = true
		}
		rules := ruleExprs(t)
		for _, r := range rules {
			if r.record != "" {
				known[r.record] = true
			}
		}
		for _, r := range rules {
			if _, err := prom.query(r.expr); err != nil {
				t.Error(err)
			}
			for _, name := range metricNames(r.expr) {
				if !known[name] {
					t.Errorf("rule %s%s names %s, which is neither exported nor recorded", r.record, r.alert, name)
				}
			}
		}
	})
}

func TestPrometheusRulesPassPromtoolCheckAndUnitTests(t *testing.T) {
	for _, args := range [][]string{
		{"check", "rules", "meshwarden.rules.yml"},
		{"test", "rules", "meshwarden.rules.test.yml"},
	} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = "../deploy/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// scrapeHistogram scrapes addr in the protobuf format (the one that carries native histograms)
// and returns the histogram of family name whose protocol label is protocol.
func scrapeHistogram(t *testing.T, addr, name, protocol string) *dto.Histogram {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			t.Fatalf("no family %s with protocol %s in the protobuf scrape: %v", name, protocol, err)
		}
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "protocol" && l.GetValue() == protocol {
					return m.GetHistogram()
				}
			}
		}
	}
}

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../deploy/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	return files
}

// labelValuesQuery is a Grafana variable query: label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// dashboardExprs walks a dashboard's JSON and returns every PromQL expression in it: panel
// targets at any depth (rows included) and the selectors of variable queries.
func dashboardExprs(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if e, ok := x["expr"].(string); ok {
				exprs = append(exprs, e)
			}
			if d, ok := x["definition"].(string); ok {
				if m := labelValuesQuery.FindStringSubmatch(d); m != nil {
					exprs = append(exprs, m[1])
				} else if d != "" {
					t.Errorf("%s: variable query %q is not label_values(selector, label)", path, d)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	return exprs
}

type ruleExpr struct{ record, alert, expr string }

func ruleExprs(t *testing.T) []ruleExpr {
	t.Helper()
	raw, err := os.ReadFile("../deploy/prometheus/meshwarden.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
				Alert  string `yaml:"alert"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out []ruleExpr
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			out = append(out, ruleExpr{r.Record, r.Alert, r.Expr})
		}
	}
	return out
}

// jsonPOSTLine is an HTTP POST of body (JSON) to path for `mwclient tcp`, which sends its line
// with CRLF appended: those two bytes end the body, as JSON's trailing whitespace.
func jsonPOSTLine(path, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: data\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, len(body)+2, body)
}
