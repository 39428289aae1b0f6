package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// benchPolicy is a realistic tools domain: metadata masking (headers, metadata keys, pseudonyms)
// and classification (SSN redaction, canary block), and a plain domain that only decides.
const benchPolicy = `security_mesh:
  roles: [CODER]
  domains:
    - name: tools
      tier: PLAINTEXT
      allowed_roles: [CODER]
      metadata_masking: true
      match: {http_paths: [/mcp]}
      sensitive_fields: [{key: password, action: block}, {key: api_key, action: redact}]
      detectors:
        - {type: ssn, action: redact}
        - {type: payment_card, action: block}
        - {type: canary, action: block, prefixes: [CANARY_]}
      masked_keys: [tenant_id]
    - name: plain
      tier: PLAINTEXT
      allowed_roles: [CODER]
      match: {http_paths: [/plain]}
`

// toolsCall returns a JSON-RPC tools/call of about size bytes.
func toolsCall(id, size int) []byte {
	head := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"search_documents","arguments":{"query":"quarterly revenue by region","limit":20,"filters":{"year":2026,"tags":["finance","emea"]},"context":"`, id)
	tail := `"},"_meta":{"progressToken":"p-1"}}}`
	filler := strings.Repeat("The orchestrator asks the retriever for the documents that match. ", size/60+1)
	return []byte(head + filler[:max(0, size-len(head)-len(tail))] + tail)
}

// rpcAnswer answers a JSON-RPC call with a result of about 1 kB.
func rpcAnswer(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m struct{ ID json.RawMessage }
	_ = json.Unmarshal(b, &m)
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}],"isError":false}}`,
		m.ID, strings.Repeat("document 17: revenue grew in every region. ", 22))
}

// benchEnforcer serves an enforcer with policyText, relaying to up and auditing to sink, for
// the benchmark's life, and returns its address.
func benchEnforcer(b *testing.B, policyText string, up netip.AddrPort, sink proxy.Sink) string {
	eng := engineOf(b, policyText)
	srv := proxy.New(proxy.Config{
		Resolver: &fuzzResolver{dst: up},
		Identify: func(uint64) (proxy.Identity, bool) {
			return proxy.Identity{AgentID: "bench", Role: "CODER", Zone: "dev"}, true
		},
		Audit:  sink,
		Engine: func() *pep.Engine { return eng },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// auditLog opens an audit log in a directory of the test; noSync skips its fsyncs.
func auditLog(b *testing.B, noSync bool) *audit.Writer {
	w, err := audit.Open(context.Background(), audit.Options{Path: b.TempDir() + "/audit.jsonl", Node: "bench", NoSync: noSync,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	return w
}

// BenchmarkEnforcedToolsCall measures one 1 kB tools/call over a kept-alive connection: direct
// to the server, and through the enforcer deciding only (plain) or deciding, classifying and
// scrubbing (tools), with audit records dropped, or written to an audit log (Submit, group
// commit) with and without fsync.
func BenchmarkEnforcedToolsCall(b *testing.B) {
	up := startHTTPUpstreamTB(b, http.HandlerFunc(rpcAnswer))
	enforcer := benchEnforcer(b, benchPolicy, up, discardSink{})
	fsynced := benchEnforcer(b, benchPolicy, up, auditLog(b, false))
	unsynced := benchEnforcer(b, benchPolicy, up, auditLog(b, true))
	for _, c := range []struct{ name, via, path string }{
		{"direct", up.String(), "/mcp"},
		{"enforcer-plain", enforcer, "/plain"},
		{"enforcer-tools", enforcer, "/mcp"},
		{"enforcer-tools-audit-nosync", unsynced, "/mcp"},
		{"enforcer-tools-audit-fsync", fsynced, "/mcp"},
	} {
		b.Run(c.name, func(b *testing.B) {
			tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", c.via)
			}}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			url := "http://" + up.String() + c.path
			b.ReportAllocs()
			var before syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.Cleanup(func() {
				var after syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
				cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(max(b.N, 1))
				b.Logf("process CPU per request: %v", cpu)
			})
			b.ResetTimer()
			for i := range b.N {
				resp, err := client.Post(url, "application/json", bytes.NewReader(toolsCall(i, 1024)))
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(body, []byte(fmt.Sprintf(`"id":%d,`, i))) {
					b.Fatalf("answer %d: %s", resp.StatusCode, body)
				}
			}
		})
	}
}
