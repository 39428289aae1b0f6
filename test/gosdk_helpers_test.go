package test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// goSDKPolicy: the orchestrator reaches MCP tool servers (zone tools) and a model API (zone
// llm); the frontend, a user-facing agent, reaches the model API; the retriever's role is in
// no domain; the unmapped zone is in none. Both domains mask metadata, redact SSNs and block
// canaries; tools also blocks password fields and redacts api_key fields.
const goSDKPolicy = `security_mesh:
  domains:
    - name: tools
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR]
      metadata_masking: true
      match: {destinations: [tools]}
      sensitive_fields:
        - {key: password, action: block}
        - {key: api_key, action: redact}
      detectors:
        - {type: ssn, action: redact}
        - {type: canary, action: block, literals: [mw-canary-7f3a9c2e], prefixes: [CANARY_]}
      masked_keys: [tenant_id]
    - name: models
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR]
      metadata_masking: true
      match: {destinations: [llm]}
      detectors:
        - {type: ssn, action: redact}
        - {type: canary, action: block, prefixes: [CANARY_]}
  zones:
    - {name: control, cidrs: ["127.0.0.5/32"]}
    - {name: workers, cidrs: ["127.0.0.6/32"]}
    - {name: ui, cidrs: ["127.0.0.9/32"]}
    - {name: tools, cidrs: ["127.0.0.2/32"], kind: tool}
    - {name: llm, cidrs: ["127.0.0.8/32"], kind: llm}
    - {name: unmapped, cidrs: ["127.0.0.7/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: {{.Name}}/agents/orchestrator}
    - {id: retriever, role: RETRIEVER, zone: workers, cgroup: {{.Name}}/agents/retriever}
    - {id: frontend, role: ORCHESTRATOR, zone: ui, kind: user_facing, cgroup: {{.Name}}/agents/frontend}
  segmentation:
    - {from: control, to: tools, action: REDIRECT}
    - {from: control, to: llm, action: REDIRECT}
    - {from: control, to: unmapped, action: REDIRECT}
    - {from: workers, to: tools, action: REDIRECT}
    - {from: workers, to: llm, action: REDIRECT}
    - {from: ui, to: llm, action: REDIRECT}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    address6: "::1"
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// goAgents are the Go SDK test agents, built once per test binary beside the daemon.
var goAgents struct {
	once  sync.Once
	paths map[string]string
	err   error
}

func goAgent(t *testing.T, name string) string {
	t.Helper()
	goAgents.once.Do(func() {
		goAgents.paths, goAgents.err = lab.BuildAgents("..", filepath.Dir(bins.Client), "mcpgo", "openaigo")
	})
	if goAgents.err != nil {
		t.Fatal(goAgents.err)
	}
	return goAgents.paths[name]
}

func newGoSDKWorld(t *testing.T) *lab.Mesh {
	t.Helper()
	m := lab.New(t, bins)
	m.WritePolicy(goSDKPolicy)
	m.Start()
	return m
}

// clientEvent is one line a Go SDK agent printed.

// runAgent runs a Go SDK agent inside an agent's cgroup and parses what it printed.
func runAgent(t *testing.T, m *lab.Mesh, agent, bin string, args ...string) *clientRun {
	t.Helper()
	res := m.Run(m.Cgroup("agents/"+agent), bin, args...)
	r := parseClientRun(res)
	if res.Err != nil || r.last("done") == nil {
		t.Fatalf("%s as %s did not finish: %v\n%s", filepath.Base(bin), agent, res.Err, clip(res.Out))
	}
	return r
}

// received is what an in-process server recorded of one HTTP request.
type received struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

// recorder records the HTTP requests a server received. Safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	reqs []received
}

func (r *recorder) add(q received) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, q)
}

func (r *recorder) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// Values the Go SDK agents send that receivers and the audit log must never see.
const (
	goTraceID   = "0af7651916cd43dd8448eb211c80319c"
	goSenderIP  = "10.7.7.7"
	goTenant    = "tenant-go-secret-3"
	goSSN       = "219-09-9999" // valid by the SSA's rules: the ssn detector finds it
	goUserAgent = "go-orchestrator/2.4 (build 7781)"
)

// goScrubbedHeaders are sent with every request; none may reach a server.
var goScrubbedHeaders = [][2]string{
	{"Traceparent", "00-" + goTraceID + "-b7ad6b7169203331-01"},
	{"Tracestate", "vendor=" + goTraceID},
	{"Baggage", "tenant=" + goTenant},
	{"X-Forwarded-For", goSenderIP},
	{"X-Forwarded-Host", "orchestrator.internal"},
	{"Forwarded", "for=" + goSenderIP},
	{"X-Real-Ip", goSenderIP},
	{"Via", "1.1 orchestrator-sidecar"},
	{"X-Request-Id", "req-" + goTraceID},
	{"X-Correlation-Id", "corr-" + goTraceID},
	{"X-B3-Traceid", goTraceID},
	{"Uber-Trace-Id", goTraceID + ":b7ad6b7169203331:0:1"},
}

// scrubbedHeaderArgs returns --header flags for goScrubbedHeaders and a User-Agent the
// enforcer must normalise.
func scrubbedHeaderArgs() []string {
	var out []string
	for _, h := range goScrubbedHeaders {
		out = append(out, "--header", h[0]+": "+h[1])
	}
	return append(out, "--header", "User-Agent: "+goUserAgent)
}

// goMeta is a metadata object holding every key the enforcer removes and one it keeps.
func goMeta(keep string) map[string]any {
	return map[string]any{
		"sender_ip": goSenderIP, "routing_path": "orchestrator>tools", "internal_id": "int-" + goTraceID[:8],
		"timestamp": "2026-01-02T03:04:05Z", "traceparent": "00-" + goTraceID + "-b7ad6b7169203331-01",
		"tenant_id": goTenant, "keep": keep,
	}
}

// goRemovedMetaKeys are the keys of goMeta the enforcer removes.
var goRemovedMetaKeys = []string{"sender_ip", "routing_path", "internal_id", "timestamp", "traceparent", "tenant_id"}

// checkHeadersScrubbed checks every request a server received: no scrubbed header, the
// User-Agent normalised, no X-Stainless-* (the OpenAI SDK's client fingerprint).
func checkHeadersScrubbed(t *testing.T, reqs []received) {
	t.Helper()
	if len(reqs) == 0 {
		t.Fatal("the server received no request")
	}
	for _, q := range reqs {
		for _, h := range goScrubbedHeaders {
			if v := q.Header.Values(h[0]); len(v) > 0 {
				t.Errorf("%s %s reached the server with %s: %v", q.Method, q.URL, h[0], v)
			}
		}
		for k := range q.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-stainless-") {
				t.Errorf("%s %s reached the server with %s", q.Method, q.URL, k)
			}
		}
		if ua := q.Header.Get("User-Agent"); ua != "meshwarden" {
			t.Errorf("%s %s reached the server with User-Agent %q", q.Method, q.URL, ua)
		}
	}
}

// checkAuditLogNeverHolds fails when any value appears in the audit log.
func checkAuditLogNeverHolds(t *testing.T, m *lab.Mesh, values ...string) {
	t.Helper()
	b, err := os.ReadFile(m.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if v != "" && strings.Contains(string(b), v) {
			t.Errorf("the audit log holds %q", v)
		}
	}
}

// enforcerRecords returns the enforcer's records of a process (by pid or socket cookie).
func enforcerRecords(m *lab.Mesh, pid int) []audit.Record {
	recs := m.Records()
	cookies := map[uint64]bool{}
	for _, r := range recs {
		if int(r.PID) == pid && r.Cookie != 0 {
			cookies[r.Cookie] = true
		}
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Kind == audit.KindFlow || r.Kind == audit.KindSystem {
			continue
		}
		if int(r.PID) == pid || (r.Cookie != 0 && cookies[r.Cookie]) {
			out = append(out, r)
		}
	}
	return out
}

// waitRecords waits (bounded) until the enforcer's records of pid satisfy every check.
func waitRecords(t *testing.T, m *lab.Mesh, pid int, checks map[string]func(audit.Record) bool) []audit.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := enforcerRecords(m, pid)
		var missing []string
		for what, ok := range checks {
			if !slices.ContainsFunc(recs, ok) {
				missing = append(missing, what)
			}
		}
		if len(missing) == 0 {
			return recs
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			var b strings.Builder
			for _, r := range recs {
				j, _ := json.Marshal(r)
				b.Write(j)
				b.WriteByte('\n')
			}
			t.Errorf("audit records of pid %d: missing %s\nrecords:\n%s", pid, strings.Join(missing, "; "), clip(b.String()))
			return recs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustJSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
