package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

func TestUpstreamThatClosedAnIdleConnectionIsRedialledUnseenByTheClient(t *testing.T) {
	var conns atomic.Int64
	up := startTCPUpstream(t, func(c net.Conn) {
		conns.Add(1)
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		body := "answer " + req.URL.Path
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		// then closes the kept-alive connection, as servers do after their idle timeout
	})
	h := startEnforcer(t, up, enforcePolicy)
	c := h.dial(t)
	br := bufio.NewReader(c)
	for i := 1; i <= 3; i++ {
		_, _ = fmt.Fprintf(c, "GET /plain/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(b) != fmt.Sprintf("answer /plain/%d", i) {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond) // the upstream's close arrives
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("upstream saw %d connections, want one per request", n)
	}
	if s := h.srv.Stats(); s.Accepted != 1 {
		t.Errorf("the client used %d connections", s.Accepted)
	}
}

func TestExpectContinueIsAnsweredByTheEnforcerBeforeItReadsTheBody(t *testing.T) {
	var sawExpect atomic.Bool
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawExpect.Store(r.Header.Get("Expect") != "")
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "received "+string(b))
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	client := h.httpClient(t, func(tr *http.Transport) { tr.ExpectContinueTimeout = time.Minute })
	var got100 atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{Got100Continue: func() { got100.Store(true) }})
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+upstream.String()+"/plain", strings.NewReader("payload"))
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "received payload" || !got100.Load() || sawExpect.Load() {
		t.Errorf("body %q, got 100 %v, upstream saw Expect %v", b, got100.Load(), sawExpect.Load())
	}
}

func TestOpaqueStreamIsRelayedOnlyWhereNoInspectionIsNeeded(t *testing.T) {
	echo := startTCPUpstream(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
	for _, c := range []struct {
		name, domain string
		relayed      bool
		reason       string
	}{
		{"plain domain", "{name: raw, tier: PLAINTEXT, allowed_roles: [CODER], match: {destinations: [\"" + echo.String() + "\"]}}", true, "relayed"},
		{"masking domain", "{name: raw, tier: PLAINTEXT, allowed_roles: [CODER], metadata_masking: true, match: {destinations: [\"" + echo.String() + "\"]}}", false, "opaque_payload"},
		{"role not allowed", "{name: raw, tier: PLAINTEXT, allowed_roles: [GUEST], match: {destinations: [\"" + echo.String() + "\"]}}", false, "role_not_allowed"},
		{"no domain", "{name: raw, tier: PLAINTEXT, allowed_roles: [CODER], match: {http_paths: [/x]}}", false, "no_policy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := startEnforcer(t, echo, "security_mesh:\n  roles: [CODER, GUEST]\n  domains:\n    - "+c.domain+"\n")
			conn := h.dial(t)
			_, _ = io.WriteString(conn, "\x00\x01binary hello")
			_ = conn.CloseWrite()
			got := make([]byte, 64)
			_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
			n, _ := io.ReadFull(conn, got[:len("\x00\x01binary hello")])
			if relayed := n > 0 && string(got[:n]) == "\x00\x01binary hello"; relayed != c.relayed {
				t.Errorf("relayed %v (%q), want %v", relayed, got[:n], c.relayed)
			}
			r := h.sink.next(t)
			if r.Protocol != "tcp" || r.Reason != c.reason || (c.relayed != (r.Verdict == "REDIRECT")) {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestTunnelIsRefusedInADomainThatNeedsInspection(t *testing.T) {
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the upstream got %s %s", r.Method, r.URL)
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	resps := rawExchange(t, h, "GET /mcp HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	if len(resps) != 1 || resps[0].StatusCode != 403 || !strings.Contains(bodyOf(resps[0]), "opaque_payload") {
		t.Fatalf("responses %v", statuses(resps))
	}
	h.sink.until(t, has(func(r audit.Record) bool { return r.Reason == "opaque_payload" && r.Domain == "tools" }))
}

func TestNoEngineRefusesEverything(t *testing.T) {
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the upstream got %s %s", r.Method, r.URL)
	}))
	h := startProxy(t, upstream, func(c *proxy.Config) { c.Engine = func() *pep.Engine { return nil } })
	resps := rawExchange(t, h, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
	if len(resps) != 1 || resps[0].StatusCode != 503 {
		t.Fatalf("responses %v", statuses(resps))
	}
	if r := h.sink.next(t); r.Verdict != "DENY" || r.Reason != "no_policy_engine" {
		t.Errorf("record %+v", r)
	}
}

func TestHTTP10ClientGetsAWholeInspectedAnswer(t *testing.T) {
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for _, p := range []string{"ssn ", testSSN} {
			_, _ = io.WriteString(w, p)
			w.(http.Flusher).Flush()
		}
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	resps := rawExchange(t, h, "GET /text HTTP/1.0\r\nHost: x\r\n\r\n")
	if len(resps) != 1 || bodyOf(resps[0]) != "ssn [redacted:ssn]" || len(resps[0].TransferEncoding) != 0 {
		t.Fatalf("responses %v %q", statuses(resps), bodyOf(resps[0]))
	}
}

func TestBodilessAnswersKeepTheConnectionInStep(t *testing.T) {
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain/created":
			w.WriteHeader(http.StatusCreated)
		case "/plain/gone":
			w.WriteHeader(http.StatusNoContent)
		case "/plain/cached":
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "after")
		}
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	c := h.dial(t)
	br := bufio.NewReader(c)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"PUT", "/plain/created", 201, ""},
		{"POST", "/plain/gone", 204, ""},
		{"HEAD", "/plain/big", 200, ""},
		{"GET", "/plain/cached", 304, ""},
		{"GET", "/plain/after", 200, "after"},
	} {
		_, _ = io.WriteString(c, tc.method+" "+tc.path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
		req, _ := http.NewRequest(tc.method, "http://x"+tc.path, nil)
		resp, err := http.ReadResponse(br, req)
		if err != nil || resp.StatusCode != tc.status {
			t.Fatalf("%s %s: %v, %v", tc.method, tc.path, resp, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != tc.body {
			t.Fatalf("%s %s: body %q, %v", tc.method, tc.path, b, err)
		}
		if tc.status == 201 && resp.ContentLength != 0 {
			t.Errorf("201 without a body has Content-Length %d", resp.ContentLength)
		}
		if tc.status == 204 && resp.Header["Content-Length"] != nil {
			t.Errorf("204 has Content-Length %q", resp.Header["Content-Length"])
		}
		if tc.method == "HEAD" && resp.ContentLength != 5 {
			t.Errorf("HEAD lost its Content-Length: %d", resp.ContentLength)
		}
		if resp.Close {
			t.Errorf("%s %s closes the connection", tc.method, tc.path)
		}
	}
}

// failingSink refuses every record, as an audit log on a full disk would.
type failingSink struct{}

func (failingSink) Write(audit.Record) error { return fmt.Errorf("disk full") }

func TestAuditBeforeForwardRefusesWhatCannotBeAuditedFirst(t *testing.T) {
	var hits atomic.Int64
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	policy := "security_mesh:\n  roles: [CODER]\n  domains:\n    - {name: strict, tier: PLAINTEXT, allowed_roles: [CODER], audit_before_forward: true, match: any}\n"
	h := startEnforcer(t, upstream, policy, func(c *proxy.Config) { c.Audit = failingSink{} })
	resp, body := post(t, h.httpClient(t), "http://"+upstream.String()+"/mcp", `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
	m := decodeRPC(t, body)
	if resp.StatusCode != 200 || m.Error == nil || m.Error.Data["reason"] != "audit_unavailable" {
		t.Fatalf("answer %d %s, want a JSON-RPC refusal audit_unavailable", resp.StatusCode, body)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the request was forwarded unaudited")
	}
}
