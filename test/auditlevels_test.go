package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// auditPolicy: one agent (orchestrator) redirected to a user-facing zone, where its answers are
// final_output and its MCP tool calls tool_input. Paths choose the domain: /full (FULL_MESH),
// /out (OUTPUT_ONLY), /strict (audit_before_forward) and /loose (not).
const auditPolicy = `security_mesh:
  global:
    audit_scope: "{{.Scope}}"
  domains:
    - {name: full, tier: PLAINTEXT, allowed_roles: [ORCHESTRATOR], audit_level: FULL_MESH, audit_before_forward: false, match: {http_paths: [/full]}, sensitive_fields: [{key: password, action: block}]}
    - {name: out, tier: PLAINTEXT, allowed_roles: [ORCHESTRATOR], audit_level: OUTPUT_ONLY, match: {http_paths: [/out]}, sensitive_fields: [{key: password, action: block}]}
    - {name: strict, tier: PLAINTEXT, allowed_roles: [ORCHESTRATOR], audit_level: FULL_MESH, audit_before_forward: true, match: {http_paths: [/strict]}}
    - {name: loose, tier: PLAINTEXT, allowed_roles: [ORCHESTRATOR], audit_level: FULL_MESH, audit_before_forward: false, match: {http_paths: [/loose]}}
  zones:
    - {name: ui, cidrs: ["127.0.0.7/32"], kind: user_facing}
    - {name: control, cidrs: ["127.0.0.5/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: {{.Name}}/agents/orchestrator}
  segmentation:
    - {from: control, to: ui, action: REDIRECT}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    address6: "::1"
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// countingBackend serves HTTP on 127.0.0.7, counting the requests of each path.
type countingBackend struct {
	addr string
	mu   sync.Mutex
	hits map[string]int
}

func newCountingBackend(t *testing.T) *countingBackend {
	b := &countingBackend{hits: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.7:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits[r.URL.Path]++
		b.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "ok")
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	b.addr = ln.Addr().String()
	return b
}

func (b *countingBackend) count(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[path]
}

// post runs curl in the orchestrator's cgroup: a real agent process posting body to path.
func postAs(m *lab.Mesh, url, body string) lab.Result {
	return m.Run(m.Cgroup("agents/orchestrator"), "curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}",
		"-H", "Content-Type: application/json", "--data-binary", body, url)
}

func startAuditMesh(t *testing.T, scope string, configure func(*lab.Mesh)) (*lab.Mesh, *countingBackend) {
	b := newCountingBackend(t)
	m := lab.New(t, bins)
	m.Set("Scope", scope)
	if configure != nil {
		configure(m)
	}
	m.WritePolicy(auditPolicy)
	m.Start()
	return m, b
}

// messageChannels sends the same three requests to path (a tool call, an answer, a refused tool
// call) and returns the channels of the request-direction message records of its domain
// (refused ones prefixed "DENY "), once its three request records are in the log.
func messageChannels(t *testing.T, m *lab.Mesh, b *countingBackend, path, domain string) []string {
	t.Helper()
	url := "http://" + b.addr + path
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}`,
		`{"answer":"the report is ready"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"login","arguments":{"password":"hunter2"}}}`,
	} {
		if r := postAs(m, url, body); r.Err != nil {
			t.Fatalf("curl: %v %s", r.Err, r.Out)
		}
	}
	var rs []audit.Record
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs = rs[:0]
		n := 0
		for _, r := range m.Records() {
			if r.Domain != domain {
				continue
			}
			rs = append(rs, r)
			if r.Kind == audit.KindRequest {
				n++
			}
		}
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("domain %s: %d request records, want 3", domain, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var chans []string
	for _, r := range rs {
		switch r.Kind {
		case audit.KindMessage:
			if !strings.HasPrefix(r.Message, "request ") {
				continue
			}
			if r.AgentID != "orchestrator" || r.Comm != "curl" {
				t.Errorf("message record not attributed to the agent: %+v", r)
			}
			c := r.Channel
			if r.Verdict == "DENY" {
				c = "DENY " + c
			}
			chans = append(chans, c)
		case audit.KindRequest:
			if r.Verdict == "" || r.Reason == "" {
				t.Errorf("request record without its decision: %+v", r)
			}
		}
	}
	return chans
}

func TestAuditLevelsRecordFullMeshOrOutputOnlyThroughTheDatapath(t *testing.T) {
	m, b := startAuditMesh(t, "FULL_MESH", nil)
	full := strings.Join(messageChannels(t, m, b, "/full", "full"), ",")
	if want := "tool_input,final_output,DENY tool_input"; full != want {
		t.Errorf("FULL_MESH records %q, want %q", full, want)
	}
	out := strings.Join(messageChannels(t, m, b, "/out", "out"), ",")
	if want := "final_output,DENY tool_input"; out != want {
		t.Errorf("OUTPUT_ONLY records %q, want %q", out, want)
	}
	m.Stop()

	capped, cb := startAuditMesh(t, "OUTPUT_ONLY", nil)
	if got := strings.Join(messageChannels(t, capped, cb, "/full", "full"), ","); got != out {
		t.Errorf("FULL_MESH domain under audit_scope OUTPUT_ONLY records %q, want %q", got, out)
	}
}

func TestAuditBeforeForwardRefusesWhenTheAuditDiskIsFull(t *testing.T) {
	fs := filepath.Join(t.TempDir(), "auditfs")
	if err := os.Mkdir(fs, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", fs).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs (the test needs root): %v %s", err, out)
	}
	// Registered before the mesh, so that it runs after the mesh has stopped (cleanups run last first).
	t.Cleanup(func() {
		if out, err := exec.Command("umount", fs).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	m, b := startAuditMesh(t, "FULL_MESH", func(m *lab.Mesh) { m.AuditLog = filepath.Join(fs, "audit.jsonl") })
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}`
	ok := func(path string) {
		t.Helper()
		r := postAs(m, "http://"+b.addr+path, body)
		if r.Err != nil || !strings.HasSuffix(r.Out, "\n200") || strings.Contains(r.Out, "audit_unavailable") {
			t.Fatalf("%s: want forwarded, got err=%v out=%q", path, r.Err, r.Out)
		}
	}
	ok("/strict")
	ok("/loose")

	fill := filepath.Join(fs, "fill")
	f, err := os.Create(fill)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	f.Close()

	before := b.count("/strict")
	// A JSON-RPC call gets a JSON-RPC refusal; a plain JSON body an HTTP 503.
	for _, c := range []struct{ body, status string }{{body, "\n200"}, {`{"q":"x"}`, "\n503"}} {
		r := postAs(m, "http://"+b.addr+"/strict", c.body)
		if r.Err != nil || !strings.Contains(r.Out, "audit_unavailable") || !strings.HasSuffix(r.Out, c.status) {
			t.Fatalf("strict domain on a full audit disk: want a refusal audit_unavailable (%s), got err=%v out=%q", c.status[1:], r.Err, r.Out)
		}
	}
	if n := b.count("/strict"); n != before {
		t.Fatalf("the strict domain's request reached the backend unaudited (%d → %d)", before, n)
	}
	looseBefore := b.count("/loose")
	ok("/loose")
	if b.count("/loose") != looseBefore+1 {
		t.Fatalf("the loose domain's request did not reach the backend")
	}

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	ok("/strict")
	if n := b.count("/strict"); n != before+1 {
		t.Fatalf("after space was freed the strict domain's request did not reach the backend (%d)", n)
	}
	// The log now holds a torn line (the write the full disk cut short, sealed by a system
	// record), which lab's strict reader refuses: read it line by line.
	m.Stop()
	raw, err := os.ReadFile(m.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	decisions, sealed := 0, false
	for _, line := range strings.Split(string(raw), "\n") {
		var r audit.Record
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		if r.Kind == audit.KindDecision && r.Domain == "strict" && r.Verdict == "REDIRECT" {
			decisions++
		}
		if r.Kind == audit.KindSystem && strings.Contains(r.Message, "writable again") {
			sealed = true
		}
	}
	if decisions < 2 || !sealed {
		t.Errorf("audit log: %d durable decision records of the strict domain (want 2: before and after the full disk), recovery recorded %v", decisions, sealed)
	}
}
