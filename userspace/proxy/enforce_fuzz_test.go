package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// fuzzPolicy puts every request in one domain that needs inspection: whatever the fuzzer
// sends, a canary must never get past the enforcer in a string value or a text.
const fuzzPolicy = `security_mesh:
  roles: [CODER]
  domains:
    - name: all
      tier: PLAINTEXT
      allowed_roles: [CODER]
      metadata_masking: true
      match: any
      sensitive_fields: [{key: password, action: block}]
      detectors:
        - {type: ssn, action: redact}
        - {type: canary, action: block, prefixes: [CANARY_]}
      max_body_bytes: 4096
`

const fuzzCanary = "CANARY_"

// fuzzEnforcer is an enforcing proxy for fuzz targets: started once, shared by every input.
type fuzzEnforcer struct {
	addr string
	logs *lockedBuffer
}

// lockedBuffer collects log output.
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

// discardSink accepts every record.
type discardSink struct{}

func (discardSink) Write(audit.Record) error { return nil }

func startFuzzEnforcer(f *testing.F, dst netip.AddrPort) *fuzzEnforcer {
	f.Helper()
	eng := engineOf(f, fuzzPolicy)
	logs := &lockedBuffer{}
	srv := proxy.New(proxy.Config{
		Resolver: &fuzzResolver{dst: dst},
		Identify: func(uint64) (proxy.Identity, bool) {
			return proxy.Identity{AgentID: "fuzz", Role: "CODER", Zone: "dev"}, true
		},
		Audit:  discardSink{},
		Engine: func() *pep.Engine { return eng },
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})),
		// Inputs end with the client's half-close; these only bound what a broken relay would do.
		HeaderTimeout: time.Second,
		IdleTimeout:   2 * time.Second,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	f.Cleanup(func() { cancel(); <-done })
	return &fuzzEnforcer{addr: ln.Addr().String(), logs: logs}
}

// fuzzResolver gives every connection the same origin, as often as asked.
type fuzzResolver struct{ dst netip.AddrPort }

func (r *fuzzResolver) Resolve(netip.AddrPort) (proxy.Origin, error) {
	return proxy.Origin{Dst: r.dst, CgroupID: 1, PID: 1, Comm: "fuzz"}, nil
}

// exchange sends raw as a client would, half-closes, and returns all the proxy answered; it
// fails when the proxy neither answers nor closes in time.
func (e *fuzzEnforcer) exchange(t *testing.T, raw []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write(raw)
	_ = c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	var ne net.Error
	if err != nil && errorsAs(err, &ne) && ne.Timeout() {
		t.Fatalf("the enforcer stalled on input %q", raw)
	}
	if strings.Contains(e.logs.String(), "panicked") {
		t.Fatalf("the enforcer panicked on input %q:\n%s", raw, e.logs.String())
	}
	return out
}

// leaks reports whether body carries the canary in a string value (JSON), in an event's data
// (an event stream) or in its text. A canary in a JSON object key is not looked for: detectors
// scan values.
func leaks(body []byte) bool {
	if !bytes.Contains(body, []byte(fuzzCanary)) {
		return false
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) == nil && !d.More() {
		return stringLeaks(v)
	}
	if bytes.Contains(body, []byte("data:")) {
		for _, line := range bytes.Split(body, []byte("\n")) {
			if data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:")); ok && leaks(bytes.TrimSpace(data)) {
				return true
			}
		}
		return false
	}
	return true
}

func stringLeaks(v any) bool {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, fuzzCanary) {
			return true
		}
		var inner any
		if json.Unmarshal([]byte(x), &inner) == nil {
			return stringLeaks(inner)
		}
	case map[string]any:
		for _, e := range x {
			if stringLeaks(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if stringLeaks(e) {
				return true
			}
		}
	}
	return false
}

// FuzzEnforcedRequest feeds arbitrary bytes to the enforcing path as an agent's connection. It
// must answer with well-formed HTTP or close, never stall or panic, and never forward a body
// carrying a canary.
func FuzzEnforcedRequest(f *testing.F) {
	var mu sync.Mutex
	var leaked []byte
	up := startHTTPUpstreamTB(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if leaks(b) {
			mu.Lock()
			leaked = b
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`)
	}))
	e := startFuzzEnforcer(f, up)
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"q":"x"}}}`
	post := func(hdr, body string) []byte {
		return []byte("POST /mcp HTTP/1.1\r\nHost: tools\r\nContent-Type: application/json\r\n" + hdr + "Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body)
	}
	for _, s := range [][]byte{
		post("", call),
		post("", strings.Replace(call, `"x"`, `"CANARY_abc"`, 1)),
		post("", strings.Replace(call, `"x"`, `"\u0043ANARY_abc"`, 1)),
		post("", strings.Replace(call, `"x"`, `"{\"inner\":\"CANARY_abc\"}"`, 1)),
		post("", `[`+call+`,`+strings.Replace(call, `"x"`, `"CANARY_b"`, 1)+`]`),
		post("Mcp-Method: tools/list\r\n", call),
		post("Content-Encoding: gzip\r\n", "CANARY_zz"),
		post("", `{"a":1,"a":"CANARY_dup"}`),
		post("", `{"jsonrpc":"2.0","id":1,"method":"tools/call"`),
		[]byte("POST /text HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nCANA\r\n5\r\nRY_ab\r\n0\r\n\r\n"),
		[]byte("POST /mcp HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"),
		[]byte("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n"),
		[]byte("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nCANARY_ws"),
		[]byte("CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n"),
		[]byte("GET / HTTP/1.1\r\nbad header\r\n\r\n"),
		[]byte("\x16\x03\x01\x00\x05hello"),
		[]byte("POST /mcp HTTP/1.1\r\nHost: t\r\nContent-Length: 99999\r\n\r\n{"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := e.exchange(t, raw)
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				break
			}
			if resp.StatusCode < 100 || resp.StatusCode > 599 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		mu.Lock()
		defer mu.Unlock()
		if leaked != nil {
			t.Fatalf("input %q got a canary to the upstream: %q", raw, leaked)
		}
	})
}

// FuzzEnforcedResponse has the upstream answer a fixed MCP call with arbitrary bytes. The
// enforcer must answer the agent with well-formed HTTP or close, never stall or panic, and
// never let a canary through in a body it relays.
func FuzzEnforcedResponse(f *testing.F) {
	answers := make(chan []byte, 1)
	up := startTCPUpstream(f, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		select {
		case a := <-answers:
			_, _ = c.Write(a)
		case <-time.After(5 * time.Second):
		}
	})
	e := startFuzzEnforcer(f, up)
	call := "POST /mcp HTTP/1.1\r\nHost: tools\r\nContent-Type: application/json\r\nContent-Length: 97\r\n\r\n" +
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"q":"x"}}}    `
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 74\r\n\r\n" + `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 81\r\n\r\n" + `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"CANARY_a"}]}}`,
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"m\":\"ok\"}}\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"CANARY_s\"}}\n\n",
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n10\r\ndata: CANARY_x\n\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 22\r\n\r\n<p>CANARY_html</p>    ",
		"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 9\r\n\r\nCANARY_bb",
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\nCANARY_gz",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nCANARY_up",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\n\r\nclose-delimited CANARY_cd",
		"not http at all",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		select {
		case <-answers:
		default:
		}
		answers <- answer
		out := e.exchange(t, []byte(call))
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				break
			}
			body, _ := io.ReadAll(resp.Body)
			if leaks(body) {
				t.Fatalf("answer %q got a canary to the agent: %q", answer, body)
			}
		}
	})
}

func itoa(n int) string { return strconvItoa(n) }
