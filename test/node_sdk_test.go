package test

// End-to-end tests with the protocols' own Node.js SDKs as the peers: the MCP TypeScript SDK
// (@modelcontextprotocol/sdk) and the A2A JavaScript SDK (@a2a-js/sdk), from
// test/agents/node (installed by `make deps`). Servers run outside any agent cgroup and record
// what they receive; clients run inside agent cgroups, so every connection they open is
// redirected to the enforcer, and print what their SDK returned. The tests assert on both ends
// and on the audit log.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// nodePolicy: the orchestrator may reach the tool zone (MCP servers) and the agent zone (A2A
// agents), both through the enforcer, in data domains that mask metadata, redact SSNs and
// api_key fields and block canaries and password fields. The retriever's connections are
// redirected too, but its role is in neither domain. The unmapped zone is redirected and no
// domain matches it (no default_domain): no_policy.
const nodePolicy = `security_mesh:
  global:
    tls_min_version: "1.3"
    credential_rotation_interval_ms: 600000
    audit_scope: "FULL_MESH"
  domains:
    - name: tools
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR]
      metadata_masking: true
      audit_level: FULL_MESH
      match:
        destinations: [tools]
      sensitive_fields:
        - {key: password, action: block}
        - {key: api_key, action: redact}
      detectors:
        - {type: ssn, action: redact}
        - type: canary
          action: block
          literals: [mw-canary-7f3a9c2e]
          prefixes: [CANARY_]
      masked_keys: [tenant_id]
    - name: agents
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR]
      metadata_masking: true
      audit_level: FULL_MESH
      match:
        destinations: [agents]
      detectors:
        - {type: ssn, action: redact}
        - type: canary
          action: block
          prefixes: [CANARY_]
      masked_keys: [tenant_id]
  zones:
    - {name: control, cidrs: ["127.0.0.5/32"]}
    - {name: workers, cidrs: ["127.0.0.6/32"]}
    - {name: tools, cidrs: ["127.0.0.2/32"]}
    - {name: agents, cidrs: ["127.0.0.3/32"]}
    - {name: unmapped, cidrs: ["127.0.0.7/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: {{.Name}}/agents/orchestrator}
    - {id: retriever, role: RETRIEVER, zone: workers, cgroup: {{.Name}}/agents/retriever}
  segmentation:
    - {from: control, to: tools, action: REDIRECT}
    - {from: control, to: agents, action: REDIRECT}
    - {from: control, to: unmapped, action: REDIRECT}
    - {from: workers, to: tools, action: REDIRECT}
    - {from: workers, to: agents, action: REDIRECT}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    address6: "::1"
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// Values the clients send that the receivers and the audit log must never see.
const (
	nodeTraceID   = "4bf92f3577b34da6a3ce929d0e0e4736"
	nodeSenderIP  = "10.1.2.3"
	nodeTenant    = "tenant-secret-9"
	nodeSSN       = "219-09-9999" // valid by the SSA's rules: the ssn detector finds it
	nodeUserAgent = "secret-agent/7.1 (orchestrator; build 4411)"
)

// nodeScrubbedHeaders are sent by every client; each must be gone when the request reaches
// the server (names as Node reports them, lowercase).
var nodeScrubbedHeaders = [][2]string{
	{"traceparent", "00-" + nodeTraceID + "-00f067aa0ba902b7-01"},
	{"tracestate", "vendor=" + nodeTraceID},
	{"baggage", "tenant=" + nodeTenant},
	{"x-forwarded-for", nodeSenderIP},
	{"x-forwarded-host", "orchestrator.internal"},
	{"x-forwarded-proto", "http"},
	{"forwarded", "for=" + nodeSenderIP},
	{"x-real-ip", nodeSenderIP},
	{"via", "1.1 orchestrator-sidecar"},
	{"true-client-ip", nodeSenderIP},
	{"x-client-ip", nodeSenderIP},
	{"x-request-id", "req-" + nodeTraceID},
	{"x-correlation-id", "corr-" + nodeTraceID},
	{"b3", nodeTraceID + "-00f067aa0ba902b7-1"},
	{"x-b3-traceid", nodeTraceID},
	{"uber-trace-id", nodeTraceID + ":00f067aa0ba902b7:0:1"},
	{"x-stainless-os", "Linux"},
}

// nodeRemovedMetaKeys are metadata keys the enforcer removes from MCP _meta and A2A metadata:
// the original design's, the W3C trace keys, and the domains' masked_keys.
var nodeRemovedMetaKeys = []string{"sender_ip", "routing_path", "internal_id", "timestamp", "traceparent", "tenant_id"}

// nodeMeta is a metadata object holding every removed key and one that must survive.
func nodeMeta(keep string) map[string]any {
	return map[string]any{
		"sender_ip":    nodeSenderIP,
		"routing_path": "orchestrator>retriever>executor",
		"internal_id":  "int-" + nodeTraceID[:8],
		"timestamp":    "2026-01-02T03:04:05.678Z",
		"traceparent":  "00-" + nodeTraceID + "-00f067aa0ba902b7-01",
		"tenant_id":    nodeTenant,
		"keep":         keep,
	}
}

type nodeWorld struct {
	*lab.Mesh
	dir string // test/agents/node, absolute
}

func newNodeWorld(t *testing.T) *nodeWorld {
	t.Helper()
	dir, err := filepath.Abs("agents/node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed for the Node SDK peers: install Node.js 20, then make deps")
	}
	for _, pkg := range []string{"@modelcontextprotocol/sdk", "@a2a-js/sdk", "express"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s is not installed in %s: run make deps (npm ci --prefix test/agents/node)", pkg, dir)
		}
	}
	w := &nodeWorld{Mesh: lab.New(t, bins), dir: dir}
	w.WritePolicy(nodePolicy)
	w.Start()
	return w
}

// nodeServer is one Node peer serving on a loopback address outside every agent cgroup.
type nodeServer struct {
	t      *testing.T
	Addr   string // ip:port
	record string // the file it records what it receives in
}

// server starts script listening on ip (a free port) and waits until it accepts connections.
func (w *nodeWorld) server(t *testing.T, script, ip string, args ...string) *nodeServer {
	t.Helper()
	s := &nodeServer{t: t, record: filepath.Join(t.TempDir(), strings.TrimSuffix(script, ".js")+".jsonl")}
	cmd := exec.Command("node", append([]string{filepath.Join(w.dir, script), "--listen", ip + ":0", "--record", s.record}, args...)...)
	cmd.Dir = w.dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", script, clip(stderr.String()))
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l struct{ Listening string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Listening != "" {
				ready <- l.Listening
			}
		}
		cmd.Wait()
		close(exited)
	}()
	select {
	case s.Addr = <-ready:
	case <-exited:
		t.Fatalf("%s exited before listening: %s", script, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not listen within 20 s: %s", script, stderr.String())
	}
	return s
}

// lockedBuffer is a bytes.Buffer a child process writes while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// serverRecord is one line a Node server recorded: an HTTP request as it arrived, or what its
// SDK handed the application (an MCP tool call, an A2A message to execute, a new session).
type serverRecord struct {
	Kind    string          `json:"kind"` // http, tool, execute, session, ...
	Method  string          `json:"method"`
	URL     string          `json:"url"`
	Headers map[string]any  `json:"headers"`
	Body    json.RawMessage `json:"body"`
	Raw     string          `json:"-"`
	Tool    string          `json:"tool"`
	Args    map[string]any  `json:"arguments"`
	Meta    map[string]any  `json:"meta"`
	Session string          `json:"sessionId"`
	Task    string          `json:"taskId"`
	Context string          `json:"contextId"`
	Message string          `json:"messageId"`
	Text    string          `json:"text"`
	ReqMeta map[string]any  `json:"requestMetadata"`
	MsgMeta map[string]any  `json:"messageMetadata"`
}

func (s *nodeServer) records() []serverRecord {
	s.t.Helper()
	b, err := os.ReadFile(s.record)
	if err != nil {
		s.t.Fatalf("server record: %v", err)
	}
	var out []serverRecord
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var r serverRecord
		if err := json.Unmarshal(l, &r); err != nil {
			s.t.Fatalf("server record line is not JSON: %v: %s", err, l)
		}
		r.Raw = string(l)
		out = append(out, r)
	}
	return out
}

func (s *nodeServer) kind(k string) []serverRecord {
	var out []serverRecord
	for _, r := range s.records() {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

// clientError is an SDK error as a client printed it.

// a2aSummary is what the A2A client prints of a task, message, or stream event.
type a2aSummary struct {
	Kind          string         `json:"kind"`
	TaskID        string         `json:"taskId"`
	ContextID     string         `json:"contextId"`
	State         string         `json:"state"`
	MessageID     string         `json:"messageId"`
	Text          string         `json:"text"`
	StatusMessage *a2aSummary    `json:"statusMessage"`
	Artifacts     []a2aSummary   `json:"artifacts"`
	History       []a2aSummary   `json:"history"`
	ArtifactID    string         `json:"artifactId"`
	Append        bool           `json:"append"`
	LastChunk     bool           `json:"lastChunk"`
	Metadata      map[string]any `json:"metadata"`
}

// client runs script inside the agent's cgroup and parses what it printed.
func (w *nodeWorld) client(t *testing.T, agent, script string, args ...string) *clientRun {
	t.Helper()
	res := w.Run(w.Cgroup("agents/"+agent), "node", append([]string{filepath.Join(w.dir, script)}, args...)...)
	r := parseClientRun(res)
	if res.Err != nil || r.last("done") == nil {
		t.Fatalf("%s as %s did not finish: %v\n%s", script, agent, res.Err, clip(res.Out))
	}
	return r
}

// clientErrorCodes are the JSON-RPC error codes MCP and A2A give a meaning of their own: a refusal
// under one of them is mistaken for that error by the SDKs (the A2A SDK turns -32001 into a
// TaskNotFoundError; MCP's -32001 is RequestTimeout, which agents retry).
var clientErrorCodes = []int{
	-32700, -32600, -32601, -32602, -32603, // JSON-RPC 2.0
	-32000, -32001, -32042, // MCP: ConnectionClosed, RequestTimeout, UrlElicitationRequired
	-32002, -32003, -32004, -32005, -32006, -32007, -32008, -32009, // A2A: TaskNotCancelable ... VersionNotSupported
}

// wantJSONRPCRefusal checks that the SDK raised a refusal as a JSON-RPC error of its own kind: an
// integer code that is none of the protocols' own, the reason in the message, and the reason in
// the error's data. A refusal carried inside an SSE stream may arrive as the cause of the error
// the SDK raised.
func wantJSONRPCRefusal(t *testing.T, what string, e clientError, reason string) {
	t.Helper()
	if len(e.Code) == 0 && len(e.EnvelopeCode) == 0 && len(e.Data) == 0 && e.Cause != nil {
		e = *e.Cause
	}
	raw := e.Code
	if len(e.EnvelopeCode) > 0 {
		raw = e.EnvelopeCode
	}
	var code int
	if err := json.Unmarshal(raw, &code); err != nil {
		t.Errorf("%s: the SDK raised %s %q without a JSON-RPC error code: not parsed as a JSON-RPC error", what, e.Class, e.Message)
	} else if slices.Contains(clientErrorCodes, code) {
		t.Errorf("%s: refusal code %d is one MCP or A2A gives its own meaning: the SDK took it for %s (%s)", what, code, e.Name, e.SDKReason)
	}
	if !strings.Contains(e.Message, reason) {
		t.Errorf("%s: error message %q does not name the reason %s", what, e.Message, reason)
	}
	if !jsonHasReason(e.Data, reason) {
		t.Errorf("%s: error data %s does not carry reason %s", what, e.Data, reason)
	}
}

// jsonHasReason reports whether a JSON document holds "reason": reason at any depth.
func jsonHasReason(doc json.RawMessage, reason string) bool {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if x["reason"] == reason {
				return true
			}
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// headerArgs returns --header flags for every header the enforcer must scrub, and a
// User-Agent it must normalise.
func headerArgs() []string {
	var out []string
	for _, h := range nodeScrubbedHeaders {
		out = append(out, "--header", h[0]+": "+h[1])
	}
	return append(out, "--header", "User-Agent: "+nodeUserAgent)
}

// checkRequestHeadersScrubbed checks every HTTP request a server received: no scrubbed header,
// User-Agent normalised. It reports each leaked header once, with how many requests held it.
func checkRequestHeadersScrubbed(t *testing.T, srv *nodeServer) {
	t.Helper()
	reqs := srv.kind("http")
	if len(reqs) == 0 {
		t.Errorf("the server received no request")
	}
	leaked := map[string]int{}
	userAgents := map[string]int{}
	for _, r := range reqs {
		for _, h := range nodeScrubbedHeaders {
			if _, ok := r.Headers[h[0]]; ok {
				leaked[h[0]]++
			}
		}
		if ua := fmt.Sprint(r.Headers["user-agent"]); ua != scrub.GenericUserAgent {
			userAgents[ua]++
		}
	}
	if len(leaked) > 0 {
		t.Errorf("headers that must be scrubbed reached the server (header: requests of %d): %v", len(reqs), leaked)
	}
	if len(userAgents) > 0 {
		t.Errorf("User-Agent not normalised to %q (value: requests of %d): %v", scrub.GenericUserAgent, len(reqs), userAgents)
	}
}

// checkResponseHeadersScrubbed checks every HTTP response a client received: no server
// software headers (Express sends X-Powered-By), Date coarsened to the minute, not removed.
func checkResponseHeadersScrubbed(t *testing.T, r *clientRun) {
	t.Helper()
	resps := r.all("http")
	if len(resps) == 0 {
		t.Errorf("the client printed no HTTP response")
	}
	problems := map[string]int{}
	for _, e := range resps {
		for _, h := range []string{"x-powered-by", "server", "via", "x-request-id"} {
			if v, ok := e.Headers[h]; ok {
				problems[h+": "+v]++
			}
		}
		d, ok := e.Headers["date"]
		if !ok {
			problems["Date removed (it is coarsened, not removed)"]++
		} else if tm, err := http.ParseTime(d); err != nil || tm.Second() != 0 {
			problems["Date not coarsened to the minute"]++
		}
	}
	if len(problems) > 0 {
		t.Errorf("responses the client received (problem: responses of %d): %v", len(resps), problems)
	}
}

// checkMetadataScrubbed checks a metadata object as the receiver saw it: every removed key
// gone, the kept key there.
func checkMetadataScrubbed(t *testing.T, what string, meta map[string]any, keep string) {
	t.Helper()
	var leaked []string
	for _, k := range nodeRemovedMetaKeys {
		if _, ok := meta[k]; ok {
			leaked = append(leaked, k)
		}
	}
	if len(leaked) > 0 {
		t.Errorf("%s: metadata keys reached the receiver: %v", what, leaked)
	}
	if meta["keep"] != keep {
		t.Errorf("%s: metadata %v lost the application's key keep=%s", what, meta, keep)
	}
}

// checkIDsPseudonymised checks that the client sent requests and got each answer under its own
// ids while the server never received one of them.
func checkIDsPseudonymised(t *testing.T, r *clientRun, srv *nodeServer) {
	t.Helper()
	var sent, got, seen []string
	for _, e := range r.all("wire") {
		switch e.Dir {
		case "send":
			sent = append(sent, jsonrpcIDs(e.Message, false)...)
		case "recv":
			got = append(got, jsonrpcIDs(e.Message, true)...)
		}
	}
	for _, h := range srv.kind("http") {
		seen = append(seen, jsonrpcIDs(h.Body, false)...)
	}
	if len(sent) == 0 || len(seen) == 0 {
		t.Fatalf("no JSON-RPC ids: client sent %v, server saw %v", sent, seen)
	}
	var strange []string
	for _, id := range got {
		if !slices.Contains(sent, id) {
			strange = append(strange, id)
		}
	}
	if len(strange) > 0 {
		t.Errorf("the client received %d responses under ids it never sent: %v (it sent %v)", len(strange), strange, sent)
	}
	if slices.ContainsFunc(seen, func(id string) bool { return slices.Contains(sent, id) }) {
		t.Errorf("the server received the client's own JSON-RPC ids: client sent %v, server saw %v", sent, seen)
	}
}

// checkNeverReached fails when any of the values appears anywhere in what the server recorded.
func checkNeverReached(t *testing.T, srv *nodeServer, values ...string) {
	t.Helper()
	recs := srv.records()
	for _, v := range values {
		var where []string
		for _, r := range recs {
			if v != "" && strings.Contains(r.Raw, v) {
				where = append(where, strings.TrimSpace(r.Kind+" "+r.Method+" "+r.URL+" "+r.Tool))
			}
		}
		if len(where) > 0 {
			t.Errorf("%q reached the server in %d records: %v", v, len(where), where)
		}
	}
}

// checkAuditNeverHolds fails when any value appears in the audit log: records name what was
// scrubbed or pseudonymised, never its value.
func checkAuditNeverHolds(t *testing.T, w *nodeWorld, values ...string) {
	t.Helper()
	b, err := os.ReadFile(w.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if v != "" && bytes.Contains(b, []byte(v)) {
			t.Errorf("the audit log holds %q", v)
		}
	}
}

// auditOfRun returns the enforcer's records of a client process: those with its pid, and those
// of the same sockets (cookie).
func auditOfRun(w *nodeWorld, pid int) []audit.Record {
	recs := w.Records()
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

// waitAudit waits (bounded) until the client's records satisfy every check; on timeout it
// reports the checks still failing and the records.
func waitAudit(t *testing.T, w *nodeWorld, pid int, checks map[string]auditCheck) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := auditOfRun(w, pid)
		var missing []string
		for what, ok := range checks {
			if !ok(recs) {
				missing = append(missing, what)
			}
		}
		if len(missing) == 0 {
			return
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
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditCheck is one thing the records of a client must show.
type auditCheck func(recs []audit.Record) bool

// has: some record satisfies pred.
func has(pred func(audit.Record) bool) auditCheck {
	return func(recs []audit.Record) bool { return slices.ContainsFunc(recs, pred) }
}

// inExchangeOf: some record of an exchange whose request was the JSON-RPC method satisfies
// pred (records of one exchange share exchange_id; records of streamed events may not repeat
// the method).
func inExchangeOf(method string, pred func(audit.Record) bool) auditCheck {
	return func(recs []audit.Record) bool {
		exchanges := map[string]bool{}
		for _, r := range recs {
			if r.RPCMethod == method && r.ExchangeID != "" {
				exchanges[r.ExchangeID] = true
			}
		}
		return slices.ContainsFunc(recs, func(r audit.Record) bool { return exchanges[r.ExchangeID] && pred(r) })
	}
}

// relayedTo: the enforcer relayed a request of the client to the server (the connection was
// redirected, not direct).
func relayedTo(srv *nodeServer) auditCheck {
	return has(func(r audit.Record) bool {
		return r.Kind == audit.KindRequest && r.Destination == srv.Addr && r.Verdict != "DENY"
	})
}

func refusedFor(reason string) auditCheck {
	return has(func(r audit.Record) bool {
		return r.Verdict == "DENY" && (r.Reason == reason || slices.Contains(r.ReasonCodes, reason))
	})
}

// checkChannels fails when a record of the client labels a message of one of the methods with
// a channel other than those allowed.
func checkChannels(t *testing.T, w *nodeWorld, pid int, allowed map[string][]string) {
	t.Helper()
	for _, r := range auditOfRun(w, pid) {
		if want, ok := allowed[r.RPCMethod]; ok && r.Channel != "" && !slices.Contains(want, r.Channel) {
			t.Errorf("audit record labels a %s message %s, want one of %v: %+v", r.RPCMethod, r.Channel, want, r)
		}
	}
}

func randomID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// mcpText returns the text of the first content item of an MCP CallToolResult.
func mcpText(t *testing.T, result json.RawMessage) string {
	t.Helper()
	var r struct {
		Content []struct{ Type, Text string }
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(result, &r); err != nil || len(r.Content) == 0 || r.IsError {
		t.Fatalf("not a successful tool result with content: %s", result)
	}
	return r.Content[0].Text
}

// ---- MCP (TypeScript SDK) ----

func TestNodeSDKMCPStreamableHTTPCallsArriveScrubbedWithPseudonymsAndStreamProgressEventByEvent(t *testing.T) {
	w := newNodeWorld(t)
	srv := w.server(t, "mcp-server.js", "127.0.0.2")

	echoArgs := `{"text":"hello mesh","n":42,"nested":{"list":[1,2,3],"flag":true}}`
	r := w.client(t, "orchestrator", "mcp-client.js", append(append([]string{"--url", "http://" + srv.Addr + "/mcp"}, headerArgs()...),
		`{"op":"list"}`,
		`{"op":"call","name":"echo","arguments":`+echoArgs+`,"meta":`+mustJSON(nodeMeta("kept-meta"))+`}`,
		`{"op":"call","name":"count","arguments":{"n":3,"delay_ms":400},"progress":true}`)...)

	// Allowed calls work, unchanged in meaning.
	conn := r.last("connected")
	if conn == nil {
		t.Fatalf("the MCP client did not connect:\n%s", clip(r.Out))
	}
	var tools struct{ Tools []struct{ Name string } }
	json.Unmarshal(r.result(t, "list", "").Result, &tools)
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Contains(names, "echo") || !slices.Contains(names, "lookup_customer") || !slices.Contains(names, "count") {
		t.Errorf("tools/list through the enforcer: %v", names)
	}
	if got := mcpText(t, r.result(t, "call", "echo").Result); !jsonEqual([]byte(got), []byte(echoArgs)) {
		t.Errorf("echo returned %s, want %s", got, echoArgs)
	}
	count := r.result(t, "call", "count")
	if got := mcpText(t, count.Result); got != "counted 3" {
		t.Errorf("count returned %q", got)
	}

	// The tool call's SSE response passes event by event: each progress notification reaches
	// the SDK when the server sends it (400 ms apart), not with the result.
	progress := r.all("progress")
	if len(progress) != 3 {
		t.Errorf("progress notifications: got %d, want 3: %s", len(progress), rawOf(progress))
	} else {
		if gap := progress[1].T - progress[0].T; gap < 250 {
			t.Errorf("progress 1 and 2 arrived %d ms apart, the server sent them 400 ms apart: the SSE stream was buffered", gap)
		}
		if gap := count.T - progress[0].T; gap < 800 {
			t.Errorf("the first progress arrived %d ms before the result, the server sent it 1200 ms before: the SSE stream was buffered", gap)
		}
	}

	// What the server saw: headers scrubbed, _meta cleaned, clientInfo reduced, no client ids.
	checkRequestHeadersScrubbed(t, srv)
	checkResponseHeadersScrubbed(t, r)
	calls := srv.kind("tool")
	if len(calls) != 2 {
		t.Fatalf("the server ran %d tool calls, want 2:\n%s", len(calls), clip(r.Out))
	}
	if !jsonEqual([]byte(mustJSON(calls[0].Args)), []byte(echoArgs)) {
		t.Errorf("echo arguments at the server: %v, want %s", calls[0].Args, echoArgs)
	}
	checkMetadataScrubbed(t, "tools/call _meta", calls[0].Meta, "kept-meta")
	for _, h := range srv.kind("http") {
		var init struct {
			Method string
			Params struct{ ClientInfo map[string]any }
		}
		if json.Unmarshal(h.Body, &init) == nil && init.Method == "initialize" {
			if v := init.Params.ClientInfo["version"]; v == "9.9.9-test" {
				t.Errorf("initialize reached the server with the client's clientInfo.version %v", v)
			}
		}
	}
	checkIDsPseudonymised(t, r, srv)

	// Mcp-Session-Id: the server's own id never reaches the client, and every later request
	// reaches the server under it again.
	sessions := srv.kind("session")
	if len(sessions) != 1 {
		t.Fatalf("sessions at the server: %d, want 1", len(sessions))
	}
	sid := sessions[0].Session
	if conn.SessionID == "" || conn.SessionID == sid {
		t.Errorf("the client holds session id %q; the server made %q: want a pseudonym", conn.SessionID, sid)
	}
	if strings.Contains(r.Out, sid) {
		t.Errorf("the server's session id %s reached the client", sid)
	}
	var inSession int
	for _, h := range srv.kind("http") {
		if v, ok := h.Headers["mcp-session-id"]; ok {
			inSession++
			if v != sid {
				t.Errorf("%s %s reached the server with Mcp-Session-Id %v, want its own %s", h.Method, h.URL, v, sid)
			}
		}
	}
	if inSession < 3 {
		t.Errorf("only %d requests reached the server in the session", inSession)
	}
	if n := len(srv.kind("refused")); n != 0 {
		t.Errorf("the server refused %d requests (session not found)", n)
	}

	// The audit log labels the call's arguments tool_input and its result tool_output, and
	// holds none of the scrubbed values.
	waitAudit(t, w, r.PID, map[string]auditCheck{
		"relayed through the enforcer": relayedTo(srv),
		"tools/call echo as tool_input": has(func(a audit.Record) bool {
			return a.RPCMethod == "tools/call" && a.Tool == "echo" && a.Channel == audit.ChannelToolInput && a.Domain == "tools"
		}),
		"tools/call echo result as tool_output": has(func(a audit.Record) bool {
			return a.RPCMethod == "tools/call" && a.Tool == "echo" && a.Channel == audit.ChannelToolOutput && a.Domain == "tools"
		}),
		"metadata keys named": has(func(a audit.Record) bool {
			return slices.ContainsFunc(a.MaskedKeys, func(k string) bool { return strings.Contains(k, "sender_ip") })
		}),
	})
	checkChannels(t, w, r.PID, map[string][]string{"tools/call": {audit.ChannelToolInput, audit.ChannelToolOutput}})
	checkAuditNeverHolds(t, w, nodeTraceID, nodeSenderIP, nodeTenant, sid)
}

func TestNodeSDKMCPLegacySSETransportWorksThroughTheEnforcerScrubbedAndStreamed(t *testing.T) {
	w := newNodeWorld(t)
	srv := w.server(t, "mcp-server.js", "127.0.0.2")

	echoArgs := `{"text":"over the legacy transport","items":["a","b"]}`
	r := w.client(t, "orchestrator", "mcp-client.js", append(append([]string{"--transport", "sse", "--url", "http://" + srv.Addr + "/sse"}, headerArgs()...),
		`{"op":"call","name":"echo","arguments":`+echoArgs+`,"meta":`+mustJSON(nodeMeta("kept-sse"))+`}`,
		`{"op":"call","name":"count","arguments":{"n":3,"delay_ms":400},"progress":true}`)...)

	if r.last("connected") == nil {
		t.Fatalf("the MCP client did not connect over HTTP+SSE:\n%s", clip(r.Out))
	}
	if got := mcpText(t, r.result(t, "call", "echo").Result); !jsonEqual([]byte(got), []byte(echoArgs)) {
		t.Errorf("echo returned %s, want %s", got, echoArgs)
	}
	count := r.result(t, "call", "count")
	progress := r.all("progress")
	if len(progress) != 3 {
		t.Errorf("progress notifications: got %d, want 3", len(progress))
	} else if gap := count.T - progress[0].T; gap < 800 {
		t.Errorf("the first progress arrived %d ms before the result, the server sent it 1200 ms before: the event stream was buffered", gap)
	}

	checkRequestHeadersScrubbed(t, srv)
	calls := srv.kind("tool")
	if len(calls) != 2 {
		t.Fatalf("the server ran %d tool calls, want 2", len(calls))
	}
	checkMetadataScrubbed(t, "tools/call _meta over HTTP+SSE", calls[0].Meta, "kept-sse")
	checkIDsPseudonymised(t, r, srv)

	waitAudit(t, w, r.PID, map[string]auditCheck{
		"relayed through the enforcer": relayedTo(srv),
		"tools/call echo as tool_input": has(func(a audit.Record) bool {
			return a.RPCMethod == "tools/call" && a.Tool == "echo" && a.Channel == audit.ChannelToolInput
		}),
		"tools/call result on the event stream as tool_output": has(func(a audit.Record) bool {
			return a.Channel == audit.ChannelToolOutput && (a.RPCMethod == "tools/call" || a.Tool != "")
		}),
	})
	checkChannels(t, w, r.PID, map[string][]string{"tools/call": {audit.ChannelToolInput, audit.ChannelToolOutput}})
	checkAuditNeverHolds(t, w, nodeTraceID, nodeSenderIP, nodeTenant)
}

func TestNodeSDKMCPRefusalsReachTheTypeScriptSDKAsJSONRPCErrorsWithTheirReason(t *testing.T) {
	w := newNodeWorld(t)

	t.Run("role_not_allowed", func(t *testing.T) {
		// A role the domain does not allow: initialize itself is refused.
		tools := w.server(t, "mcp-server.js", "127.0.0.2")
		r := w.client(t, "retriever", "mcp-client.js", "--url", "http://"+tools.Addr+"/mcp", `{"op":"list"}`)
		wantJSONRPCRefusal(t, "retriever's initialize", r.refused(t, "connect", ""), "role_not_allowed")
		if n := len(tools.records()); n != 0 {
			t.Errorf("the server received %d records from a refused agent", n)
		}
		waitAudit(t, w, r.PID, map[string]auditCheck{"role_not_allowed refusal": refusedFor("role_not_allowed")})
	})

	t.Run("no_policy", func(t *testing.T) {
		// A destination no domain covers.
		unmapped := w.server(t, "mcp-server.js", "127.0.0.7")
		r := w.client(t, "orchestrator", "mcp-client.js", "--url", "http://"+unmapped.Addr+"/mcp", `{"op":"list"}`)
		wantJSONRPCRefusal(t, "initialize without a domain", r.refused(t, "connect", ""), "no_policy")
		if n := len(unmapped.records()); n != 0 {
			t.Errorf("the unmapped server received %d records", n)
		}
		waitAudit(t, w, r.PID, map[string]auditCheck{"no_policy refusal": refusedFor("no_policy")})
	})

	t.Run("classification_block", func(t *testing.T) {
		// A canary (by prefix and by literal) and a password field in tool arguments. Each call
		// is refused alone: the session goes on.
		tools := w.server(t, "mcp-server.js", "127.0.0.2")
		r := w.client(t, "orchestrator", "mcp-client.js", "--url", "http://"+tools.Addr+"/mcp",
			`{"op":"call","name":"echo","arguments":{"note":"see CANARY_7f3a9c2e0b1d in the notes"}}`,
			`{"op":"call","name":"lookup_customer","arguments":{"customer_id":"mw-canary-7f3a9c2e"}}`,
			`{"op":"call","name":"echo","arguments":{"login":{"user":"ops","Password":"hunter2-secret"}}}`,
			`{"op":"call","name":"echo","arguments":{"text":"clean call after the refusals"}}`)
		echoes := r.outcomes("call", "echo")
		if len(echoes) != 3 {
			t.Fatalf("echo outcomes: %s", rawOf(echoes))
		}
		for i, e := range echoes[:2] {
			if e.Error == nil {
				t.Errorf("blocked echo call %d went through: %s", i, e.Raw)
				continue
			}
			wantJSONRPCRefusal(t, fmt.Sprintf("blocked echo call %d", i), *e.Error, "classification_block")
		}
		if e := r.outcomes("call", "lookup_customer"); len(e) != 1 || e[0].Error == nil {
			t.Errorf("a canary literal in tool arguments went through: %s", rawOf(e))
		} else {
			wantJSONRPCRefusal(t, "canary literal", *e[0].Error, "classification_block")
		}
		if echoes[2].Error != nil {
			t.Errorf("a clean call after refusals failed: %s", echoes[2].Raw)
		} else if got := mcpText(t, echoes[2].Result); !strings.Contains(got, "clean call after the refusals") {
			t.Errorf("clean call returned %q", got)
		}
		checkNeverReached(t, tools, "CANARY_7f3a9c2e0b1d", "mw-canary-7f3a9c2e", "hunter2-secret")
		if calls := tools.kind("tool"); len(calls) != 1 {
			t.Errorf("the server ran %d tool calls, want only the clean one", len(calls))
		}
		waitAudit(t, w, r.PID, map[string]auditCheck{"classification_block refusal": refusedFor("classification_block")})
		checkAuditNeverHolds(t, w, "CANARY_7f3a9c2e0b1d", "hunter2-secret")
	})
}

func TestNodeSDKMCPRedactsSSNAndAPIKeyInToolArgumentsAndSSNInToolResults(t *testing.T) {
	w := newNodeWorld(t)
	srv := w.server(t, "mcp-server.js", "127.0.0.2")
	r := w.client(t, "orchestrator", "mcp-client.js", "--url", "http://"+srv.Addr+"/mcp",
		`{"op":"call","name":"echo","arguments":{"text":"my ssn is `+nodeSSN+`, call me","api_key":"sk-live-abc123def"}}`,
		`{"op":"call","name":"lookup_customer","arguments":{"customer_id":"c-42"}}`)

	calls := srv.kind("tool")
	if len(calls) != 2 {
		t.Fatalf("the server ran %d tool calls, want 2:\n%s", len(calls), clip(r.Out))
	}
	if got, want := calls[0].Args["text"], "my ssn is [redacted:ssn], call me"; got != want {
		t.Errorf("echo text at the server: %q, want %q", got, want)
	}
	if got, want := calls[0].Args["api_key"], "[redacted:field:api_key]"; got != want {
		t.Errorf("echo api_key at the server: %q, want %q", got, want)
	}
	var echoed map[string]any
	json.Unmarshal([]byte(mcpText(t, r.result(t, "call", "echo").Result)), &echoed)
	if echoed["text"] != "my ssn is [redacted:ssn], call me" {
		t.Errorf("echo result at the client: %v", echoed)
	}
	// The SSN in the tool's result is redacted on its way back (tool_output).
	if got := mcpText(t, r.result(t, "call", "lookup_customer").Result); !strings.Contains(got, "ssn [redacted:ssn]") || strings.Contains(got, nodeSSN) {
		t.Errorf("lookup_customer result at the client: %q, want the SSN redacted", got)
	}
	checkNeverReached(t, srv, nodeSSN, "sk-live-abc123def")
	waitAudit(t, w, r.PID, map[string]auditCheck{
		"tools/call as tool_input": has(func(a audit.Record) bool { return a.RPCMethod == "tools/call" && a.Channel == audit.ChannelToolInput }),
		"lookup_customer result as tool_output": has(func(a audit.Record) bool {
			return a.RPCMethod == "tools/call" && a.Tool == "lookup_customer" && a.Channel == audit.ChannelToolOutput
		}),
	})
	checkAuditNeverHolds(t, w, nodeSSN, "sk-live-abc123def")
}

// ---- A2A (JavaScript SDK) ----

// a2aMethods are the JSON-RPC method names of one A2A protocol version.
type a2aMethods struct{ send, stream, get string }

var a2aVersions = map[string]a2aMethods{
	"1.0": {"SendMessage", "SendStreamingMessage", "GetTask"},
	"0.3": {"message/send", "message/stream", "tasks/get"},
}

func TestNodeSDKA2AV1SendAndStreamArriveScrubbedWithPseudonymsAndStreamEventByEvent(t *testing.T) {
	testA2AThroughTheEnforcer(t, "1.0")
}

func TestNodeSDKA2AV03SendAndStreamArriveScrubbedWithPseudonymsAndStreamEventByEvent(t *testing.T) {
	testA2AThroughTheEnforcer(t, "0.3")
}

func testA2AThroughTheEnforcer(t *testing.T, proto string) {
	m := a2aVersions[proto]
	w := newNodeWorld(t)
	srv := w.server(t, "a2a-server.js", "127.0.0.3", "--chunks", "3", "--delay-ms", "300")

	ctxID, msgSend, msgStream, msgDirect := randomID("ctx-client-"), randomID("msg-send-"), randomID("msg-stream-"), randomID("msg-direct-")
	r := w.client(t, "orchestrator", "a2a-client.js", append(append([]string{"--proto", proto, "--url", "http://" + srv.Addr}, headerArgs()...),
		mustJSON(map[string]any{"op": "send", "text": "summarise the quarter", "contextId": ctxID, "messageId": msgSend,
			"metadata": nodeMeta("kept-request"), "messageMetadata": nodeMeta("kept-message")}),
		mustJSON(map[string]any{"op": "stream", "text": "stream the quarter", "contextId": ctxID, "messageId": msgStream}),
		`{"op":"get","taskId":"$last"}`,
		mustJSON(map[string]any{"op": "send", "text": "#message answer directly", "contextId": ctxID, "messageId": msgDirect}))...)

	if c := r.last("card"); c == nil || c.Proto != proto {
		t.Fatalf("agent card through the enforcer: %+v\n%s", c, clip(r.Out))
	}

	// message/send: a completed task in the client's own context, its own message in history.
	sends := r.outcomes("send", "")
	if len(sends) != 2 || sends[0].Event != "result" || sends[1].Event != "result" {
		t.Fatalf("%s outcomes: %s\n%s", m.send, rawOf(sends), clip(r.Out))
	}
	var sent a2aSummary
	if err := json.Unmarshal(sends[0].Result, &sent); err != nil || sent.Kind != "task" {
		t.Fatalf("%s result: %s", m.send, sends[0].Raw)
	}
	if sent.State != "TASK_STATE_COMPLETED" || sent.ContextID != ctxID {
		t.Errorf("%s task: state %s context %q, want TASK_STATE_COMPLETED in %q", m.send, sent.State, sent.ContextID, ctxID)
	}
	if sent.StatusMessage == nil || sent.StatusMessage.Text != "done: summarise the quarter" {
		t.Errorf("%s status message: %+v", m.send, sent.StatusMessage)
	}
	if len(sent.Artifacts) != 1 || !strings.Contains(sent.Artifacts[0].Text, "chunk 2 of 3: summarise the quarter") {
		t.Errorf("%s artifacts: %+v", m.send, sent.Artifacts)
	}
	if !slices.ContainsFunc(sent.History, func(h a2aSummary) bool { return h.MessageID == msgSend && h.Text == "summarise the quarter" }) {
		t.Errorf("%s history does not hold the client's message %s: %+v", m.send, msgSend, sent.History)
	}

	// message/stream: every event in order, in the client's context, as the server sent it.
	var stream []clientEvent
	for _, e := range r.all("stream") {
		stream = append(stream, e)
		if e.ContextID != ctxID {
			t.Errorf("stream event %s in context %q, want the client's %q", e.Kind, e.ContextID, ctxID)
		}
	}
	var kinds []string
	for _, e := range stream {
		k := e.Kind
		if e.State != "" {
			k += ":" + e.State
		}
		kinds = append(kinds, k)
	}
	want := []string{"task:TASK_STATE_SUBMITTED", "statusUpdate:TASK_STATE_WORKING", "artifactUpdate", "artifactUpdate", "artifactUpdate", "statusUpdate:TASK_STATE_COMPLETED"}
	if !slices.Equal(kinds, want) {
		t.Errorf("%s events: %v, want %v; outcome: %s", m.stream, kinds, want, rawOf(r.outcomes("stream", "")))
	} else {
		for i, e := range stream[2:5] {
			if wantText := fmt.Sprintf("chunk %d of 3: stream the quarter", i); e.Text != wantText || e.Append != (i > 0) || e.LastChunk != (i == 2) {
				t.Errorf("artifact update %d: %+v, want %q", i, e.a2aSummary, wantText)
			}
		}
		for i := 3; i < 6; i++ {
			if gap := stream[i].T - stream[i-1].T; gap < 150 {
				t.Errorf("%s events %d and %d arrived %d ms apart, the server sent them 300 ms apart: the stream was buffered", m.stream, i-1, i, gap)
			}
		}
	}
	streamTask := ""
	if len(stream) > 0 {
		streamTask = stream[0].TaskID
	}

	// tasks/get with the task id the client was given finds the server's task.
	got := r.result(t, "get", "")
	var task a2aSummary
	json.Unmarshal(got.Result, &task)
	if task.TaskID != streamTask || task.State != "TASK_STATE_COMPLETED" || task.ContextID != ctxID {
		t.Errorf("%s: %+v, want task %s completed in %s", m.get, task, streamTask, ctxID)
	}

	// A direct Message answer comes back in the client's context too.
	var direct a2aSummary
	json.Unmarshal(sends[1].Result, &direct)
	if direct.Kind != "message" || direct.ContextID != ctxID || direct.Text != "reply to: #message answer directly" {
		t.Errorf("direct message answer: %s", sends[1].Raw)
	}

	// What the server saw: headers scrubbed, metadata cleaned, neither the client's context nor
	// its message ids nor its JSON-RPC ids.
	checkRequestHeadersScrubbed(t, srv)
	checkResponseHeadersScrubbed(t, r)
	for _, h := range srv.kind("http") {
		if h.Method == "POST" && h.Headers["a2a-version"] != proto {
			t.Errorf("%s reached the server with A2A-Version %v, want %s", h.URL, h.Headers["a2a-version"], proto)
		}
	}
	execs := srv.kind("execute")
	if len(execs) != 3 {
		t.Fatalf("the agent executed %d messages, want 3", len(execs))
	}
	checkMetadataScrubbed(t, m.send+" params.metadata", execs[0].ReqMeta, "kept-request")
	checkMetadataScrubbed(t, m.send+" message.metadata", execs[0].MsgMeta, "kept-message")
	for _, e := range execs {
		if e.Context == ctxID || e.Context == "" {
			t.Errorf("the agent executed %q in context %q: the client's own context id", e.Text, e.Context)
		}
		if e.Message == msgSend || e.Message == msgStream || e.Message == msgDirect {
			t.Errorf("the agent executed %q with the client's own message id %s", e.Text, e.Message)
		}
	}
	if execs[0].Context != execs[1].Context {
		t.Errorf("one client context became two at the server (%s, %s): pseudonyms must be stable in a flow", execs[0].Context, execs[1].Context)
	}
	checkNeverReached(t, srv, ctxID, msgSend, msgStream, msgDirect, nodeSenderIP, nodeTenant, nodeTraceID)
	checkIDsPseudonymised(t, r, srv)

	// The server's task ids: the client holds pseudonyms, the server gets its own back.
	if sent.TaskID == execs[0].Task || streamTask == execs[1].Task {
		t.Errorf("the client holds the server's own task ids (%s, %s)", execs[0].Task, execs[1].Task)
	}
	if strings.Contains(r.Out, execs[0].Task) || strings.Contains(r.Out, execs[1].Task) {
		t.Errorf("the server's task ids reached the client")
	}
	var getAtServer bool
	for _, h := range srv.kind("http") {
		var body struct {
			Method string
			Params struct{ ID string }
		}
		if json.Unmarshal(h.Body, &body) == nil && body.Method == m.get {
			getAtServer = body.Params.ID == execs[1].Task
		}
	}
	if !getAtServer {
		t.Errorf("%s did not reach the server with its own task id %s", m.get, execs[1].Task)
	}

	// Audit: A2A messages are inter_agent, artifacts are artifact.
	waitAudit(t, w, r.PID, map[string]auditCheck{
		"relayed through the enforcer": relayedTo(srv),
		m.send + " message as inter_agent": has(func(a audit.Record) bool {
			return a.RPCMethod == m.send && a.Channel == audit.ChannelInterAgent && a.Domain == "agents"
		}),
		m.stream + " message as inter_agent": has(func(a audit.Record) bool {
			return a.RPCMethod == m.stream && a.Channel == audit.ChannelInterAgent
		}),
		m.send + " task artifact as artifact": inExchangeOf(m.send, func(a audit.Record) bool {
			return a.Channel == audit.ChannelArtifact && a.Domain == "agents"
		}),
		m.stream + " artifact update as artifact": inExchangeOf(m.stream, func(a audit.Record) bool {
			return a.Channel == audit.ChannelArtifact && a.Domain == "agents"
		}),
	})
	a2aChannels := []string{audit.ChannelInterAgent, audit.ChannelArtifact}
	checkChannels(t, w, r.PID, map[string][]string{m.send: a2aChannels, m.stream: a2aChannels, m.get: a2aChannels})
	checkAuditNeverHolds(t, w, ctxID, msgSend, msgStream, nodeSenderIP, nodeTenant, nodeTraceID, execs[0].Task)
}

// fetchCard reads an agent card directly (not through the mesh), as an operator configuring an
// agent with its peer's card would, and writes it to a file.
func fetchCard(t *testing.T, addr, path, version string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	if version != "" {
		req.Header.Set("A2A-Version", version)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("agent card %s: %d %s", path, res.StatusCode, b)
	}
	f := filepath.Join(t.TempDir(), "card.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNodeSDKA2ARefusalsReachTheJavaScriptSDKInItsProtocolWithTheirReason(t *testing.T) {
	w := newNodeWorld(t)

	t.Run("role_not_allowed", func(t *testing.T) {
		// The card fetch is refused with HTTP 403 and a JSON body naming the reason; a client
		// given the card gets JSON-RPC errors, streamed or not.
		srv := w.server(t, "a2a-server.js", "127.0.0.3", "--chunks", "1", "--delay-ms", "50")
		card := fetchCard(t, srv.Addr, "/.well-known/agent-card.json", "1.0")
		noCard := w.client(t, "retriever", "a2a-client.js", "--url", "http://"+srv.Addr, `{"op":"send","text":"hello"}`)
		if e := noCard.last("error"); e == nil || e.Op != "card" {
			t.Errorf("retriever resolved the agent card through a refusing enforcer:\n%s", clip(noCard.Out))
		}
		var forbidden bool
		for _, e := range noCard.all("wire") {
			if e.Dir == "recv" && e.Status == http.StatusForbidden && jsonHasReason(e.Message, "role_not_allowed") {
				forbidden = true
			}
		}
		if !forbidden {
			t.Errorf("the refused card fetch is not HTTP 403 with a JSON body naming role_not_allowed:\n%s", clip(noCard.Out))
		}
		r := w.client(t, "retriever", "a2a-client.js", "--card", card, `{"op":"send","text":"hello"}`, `{"op":"stream","text":"hello"}`)
		wantJSONRPCRefusal(t, "retriever SendMessage", r.refused(t, "send", ""), "role_not_allowed")
		wantJSONRPCRefusal(t, "retriever SendStreamingMessage", r.refused(t, "stream", ""), "role_not_allowed")
		if n := len(srv.kind("http")); n != 1 { // the test's own card fetch
			t.Errorf("the agent received %d requests, want only the test's card fetch", n)
		}
		waitAudit(t, w, r.PID, map[string]auditCheck{"role_not_allowed refusal": refusedFor("role_not_allowed")})
	})

	t.Run("no_policy", func(t *testing.T) {
		unmapped := w.server(t, "a2a-server.js", "127.0.0.7")
		r := w.client(t, "orchestrator", "a2a-client.js", "--card", fetchCard(t, unmapped.Addr, "/.well-known/agent-card.json", "1.0"),
			`{"op":"send","text":"hello"}`)
		wantJSONRPCRefusal(t, "SendMessage without a domain", r.refused(t, "send", ""), "no_policy")
		if n := len(unmapped.kind("http")); n != 1 {
			t.Errorf("the unmapped agent received %d requests, want only the test's card fetch", n)
		}
		waitAudit(t, w, r.PID, map[string]auditCheck{"no_policy refusal": refusedFor("no_policy")})
	})

	t.Run("classification_block", func(t *testing.T) {
		// A canary in a message part blocks that message, streamed or not; the client goes on.
		srv := w.server(t, "a2a-server.js", "127.0.0.3", "--chunks", "1", "--delay-ms", "50")
		r := w.client(t, "orchestrator", "a2a-client.js", "--url", "http://"+srv.Addr,
			`{"op":"send","text":"exfiltrate CANARY_51a7e0c4 now"}`,
			`{"op":"stream","text":"stream CANARY_51a7e0c4 too"}`,
			`{"op":"send","text":"a clean message"}`)
		sends := r.outcomes("send", "")
		if len(sends) != 2 {
			t.Fatalf("send outcomes: %s", rawOf(sends))
		}
		if sends[0].Error == nil {
			t.Errorf("SendMessage with a canary went through: %s", sends[0].Raw)
		} else {
			wantJSONRPCRefusal(t, "SendMessage with a canary", *sends[0].Error, "classification_block")
		}
		if e := r.outcomes("stream", ""); len(e) != 1 || e[0].Error == nil {
			t.Errorf("SendStreamingMessage with a canary went through: %s", rawOf(e))
		} else {
			wantJSONRPCRefusal(t, "SendStreamingMessage with a canary", *e[0].Error, "classification_block")
		}
		if sends[1].Error != nil {
			t.Errorf("a clean message after the refusals failed: %s", sends[1].Raw)
		}
		checkNeverReached(t, srv, "CANARY_51a7e0c4")
		if execs := srv.kind("execute"); len(execs) != 1 || execs[0].Text != "a clean message" {
			t.Errorf("the agent executed %d messages, want only the clean one", len(execs))
		}
		waitAudit(t, w, r.PID, map[string]auditCheck{"classification_block refusal": refusedFor("classification_block")})
		checkAuditNeverHolds(t, w, "CANARY_51a7e0c4")
	})
}

func TestNodeSDKA2ARedactsSSNInMessagesAndInStreamedArtifacts(t *testing.T) {
	w := newNodeWorld(t)
	srv := w.server(t, "a2a-server.js", "127.0.0.3", "--chunks", "2", "--delay-ms", "100")
	text := "customer ssn " + nodeSSN + " #ssn"
	r := w.client(t, "orchestrator", "a2a-client.js", "--url", "http://"+srv.Addr,
		mustJSON(map[string]any{"op": "send", "text": text}),
		mustJSON(map[string]any{"op": "stream", "text": text}))

	execs := srv.kind("execute")
	if len(execs) != 2 {
		t.Fatalf("the agent executed %d messages, want 2:\n%s", len(execs), clip(r.Out))
	}
	for _, e := range execs {
		if e.Text != "customer ssn [redacted:ssn] #ssn" {
			t.Errorf("message text at the agent: %q", e.Text)
		}
	}
	var sent a2aSummary
	json.Unmarshal(r.result(t, "send", "").Result, &sent)
	if len(sent.Artifacts) != 1 || !strings.Contains(sent.Artifacts[0].Text, "customer ssn [redacted:ssn]") {
		t.Errorf("task artifact at the client: %+v", sent.Artifacts)
	}
	var first *clientEvent
	for _, e := range r.all("stream") {
		if e.Kind == "artifactUpdate" {
			first = &e
			break
		}
	}
	if first == nil || !strings.Contains(first.Text, "customer ssn [redacted:ssn]") {
		t.Errorf("streamed artifact update at the client: %+v", first)
	}
	var leaks []string
	for _, e := range r.Events {
		if e.Dir != "send" && strings.Contains(e.Raw, nodeSSN) {
			leaks = append(leaks, e.Event+" "+e.Kind)
		}
	}
	if len(leaks) > 0 {
		t.Errorf("the SSN reached the client in %d lines it printed: %v", len(leaks), leaks)
	}
	checkNeverReached(t, srv, nodeSSN)
	waitAudit(t, w, r.PID, map[string]auditCheck{
		"message as inter_agent": has(func(a audit.Record) bool { return a.Channel == audit.ChannelInterAgent && a.Domain == "agents" }),
		"artifact as artifact":   has(func(a audit.Record) bool { return a.Channel == audit.ChannelArtifact && a.Domain == "agents" }),
	})
	checkAuditNeverHolds(t, w, nodeSSN)
}
