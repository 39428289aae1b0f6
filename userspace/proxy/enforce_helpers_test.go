package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// enforcePolicy is the policy of the enforcing-path tests. The agent's role is CODER
// (enforcerIdentity); its connections go to zone "internet" (see startProxy).
const enforcePolicy = `security_mesh:
  roles: [CODER, GUEST]
  zones:
    - {name: internet, cidrs: [10.99.0.0/16], kind: tool}
  domains:
    - name: tools
      tier: PLAINTEXT
      allowed_roles: [CODER]
      metadata_masking: true
      match: {http_paths: [/mcp, /sse, /a2a, /text]}
      sensitive_fields:
        - {key: password, action: block}
        - {key: api_key, action: redact}
      detectors:
        - {type: ssn, action: redact}
        - {type: canary, action: block, prefixes: [CANARY_]}
      masked_keys: [tenant_id]
      max_body_bytes: 4096
    - name: plain
      tier: PLAINTEXT
      allowed_roles: [CODER]
      match: {http_paths: [/plain]}
    - name: guests
      tier: PLAINTEXT
      allowed_roles: [GUEST]
      match: {http_paths: [/guests]}
    - name: vault
      tier: FHE
      allowed_roles: [CODER]
      match: {http_paths: [/vault]}
`

// enforcerIdentity is the agent of the enforcing-path tests.
var enforcerIdentity = proxy.Identity{AgentID: "agent-7", Role: "CODER", Zone: "dev"}

// engineOf builds the decision engine of a policy text.
func engineOf(t testing.TB, src string) *pep.Engine {
	t.Helper()
	p, err := policy.Parse("enforce.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e, err := pep.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startEnforcer runs an enforcing proxy (Config.Engine set) to dst under the policy src.
func startEnforcer(t *testing.T, dst netip.AddrPort, src string, configure ...func(*proxy.Config)) *harness {
	t.Helper()
	eng := engineOf(t, src)
	return startProxy(t, dst, append([]func(*proxy.Config){func(c *proxy.Config) {
		c.Engine = func() *pep.Engine { return eng }
		c.Identify = func(cgroupID uint64) (proxy.Identity, bool) { return enforcerIdentity, cgroupID == testCgroup }
	}}, configure...)...)
}

// seen is what an upstream received: each request's head and body.
type seen struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

func (s *seen) add(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, seenRequest{r.Method, r.URL.Path, r.Header.Clone(), b})
	return b
}

func (s *seen) all() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

// rpc is a JSON-RPC message as tests read it.
type rpc struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  map[string]any  `json:"params"`
	Result  map[string]any  `json:"result"`
	Error   *struct {
		Code    int            `json:"code"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	} `json:"error"`
}

func decodeRPC(t *testing.T, b []byte) rpc {
	t.Helper()
	var m rpc
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON-RPC message: %v: %s", err, b)
	}
	return m
}

// post sends a POST with a JSON body and extra headers and returns the response and its body.
func post(t *testing.T, client *http.Client, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// records collects what the sink got until fn is satisfied or the wait limit passes.
func (s *recordSink) until(t *testing.T, fn func([]audit.Record) bool) []audit.Record {
	t.Helper()
	var got []audit.Record
	deadline := time.After(waitLimit)
	for !fn(got) {
		select {
		case r := <-s.ch:
			got = append(got, r)
		case <-deadline:
			var b bytes.Buffer
			for _, r := range got {
				j, _ := json.Marshal(r)
				b.Write(j)
				b.WriteByte('\n')
			}
			t.Fatalf("audit records never satisfied the test; got:\n%s", b.String())
		}
	}
	return got
}

// find returns the first record matching fn.
func find(rs []audit.Record, fn func(audit.Record) bool) (audit.Record, bool) {
	for _, r := range rs {
		if fn(r) {
			return r, true
		}
	}
	return audit.Record{}, false
}

// has returns a predicate over record lists: some record matches fn.
func has(fns ...func(audit.Record) bool) func([]audit.Record) bool {
	return func(rs []audit.Record) bool {
		for _, fn := range fns {
			if _, ok := find(rs, fn); !ok {
				return false
			}
		}
		return true
	}
}

// rawExchange writes raw to a new connection to the proxy and reads the responses until the
// proxy closes the connection.
func rawExchange(t *testing.T, h *harness, raw string) []*http.Response {
	t.Helper()
	c := h.dial(t)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return readResponses(t, c)
}

// readResponses reads HTTP responses from c until it closes, with their bodies read.
func readResponses(t *testing.T, c net.Conn) []*http.Response {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		out = append(out, resp)
	}
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// startHTTPUpstreamTB runs an HTTP server on 127.0.0.1 for a fuzz target or a test.
func startHTTPUpstreamTB(tb testing.TB, handler http.Handler) netip.AddrPort {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return netip.MustParseAddrPort(ln.Addr().String())
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func strconvItoa(n int) string { return strconv.Itoa(n) }
