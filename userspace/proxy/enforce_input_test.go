package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

func TestBadInputIsAnsweredAuditedAndNeverForwarded(t *testing.T) {
	var hits atomic.Int64
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	head := "POST /mcp HTTP/1.1\r\nHost: tools\r\nContent-Type: application/json\r\n"
	cases := []struct {
		name, raw string
		status    int
		reason    string
		rpcCode   int // 0: an HTTP error body
	}{
		{"malformed head", "GET /mcp HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad_request", 0},
		{"head over the limit", "GET /mcp HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+64<<10) + "\r\n\r\n", 431, "header_too_large", 0},
		{"declared body over the domain limit", head + "Content-Length: 5000\r\n\r\n", 413, "body_too_large", 0},
		{"chunked body over the domain limit", head + "Transfer-Encoding: chunked\r\n\r\n1388\r\n" + strings.Repeat("x", 5000) + "\r\n0\r\n\r\n", 413, "body_too_large", 0},
		{"invalid JSON", head + "Content-Length: 13\r\n\r\n{\"jsonrpc\":\"2", 400, "malformed_body", -32700},
		{"not JSON-RPC 2.0", head + "Content-Length: 46\r\n\r\n" + `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, 400, "invalid_jsonrpc", -32600},
		{"Mcp-Method disagrees with the body", head + "Mcp-Method: tools/list\r\nContent-Length: 61\r\n\r\n" + `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}   `, 400, "mcp_header_mismatch", -32020},
		{"broken chunking", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad_request", 0},
	}
	for _, c := range cases {
		resps := rawExchange(t, h, c.raw)
		if len(resps) != 1 || resps[0].StatusCode != c.status || !resps[0].Close {
			t.Errorf("%s: responses %v, want one %d closing the connection", c.name, statuses(resps), c.status)
			continue
		}
		body := bodyOf(resps[0])
		if c.rpcCode != 0 {
			if m := decodeRPCBytes([]byte(body)); m.Error == nil || m.Error.Code != c.rpcCode {
				t.Errorf("%s: body %s, want JSON-RPC error %d", c.name, body, c.rpcCode)
			}
		} else {
			var e struct{ Error map[string]any }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error["code"] != c.reason {
				t.Errorf("%s: body %s, want an error naming %s", c.name, body, c.reason)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the upstream was reached %d times", n)
	}
	recs := h.sink.until(t, func(rs []audit.Record) bool { return len(rs) >= len(cases) })
	for _, c := range cases {
		if _, ok := find(recs, func(r audit.Record) bool { return r.Verdict == "DENY" && r.Reason == c.reason && r.Status == c.status }); !ok {
			t.Errorf("%s: no DENY record with reason %s", c.name, c.reason)
		}
	}
}

func TestSlowClientIsCutOffAfterTheHeaderTimeoutWithoutStallingOthers(t *testing.T) {
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	h := startEnforcer(t, upstream, enforcePolicy, func(c *proxy.Config) { c.HeaderTimeout = 300 * time.Millisecond })
	slow := h.dial(t)
	if _, err := io.WriteString(slow, "GET /plain HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// Another agent is served meanwhile.
	if status, body := get(t, h.httpClient(t), "GET", "http://"+upstream.String()+"/plain", ""); status != 200 || body != "ok" {
		t.Fatalf("other client: %d %q", status, body)
	}
	start := time.Now()
	resps := readResponses(t, slow)
	if len(resps) != 1 || resps[0].StatusCode != http.StatusRequestTimeout {
		t.Fatalf("slow client got %v, want 408 then close", statuses(resps))
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("cut off after %s", waited)
	}
	h.sink.until(t, has(func(r audit.Record) bool {
		return r.Reason == "header_timeout" && r.Status == 408 && r.Verdict == "DENY"
	}))
}

func TestPipelinedRequestIsRefusedAfterTheFirstIsAnswered(t *testing.T) {
	var hits atomic.Int64
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "answer "+r.URL.Path)
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	resps := rawExchange(t, h, "GET /plain/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /plain/2 HTTP/1.1\r\nHost: x\r\n\r\n")
	if len(resps) != 2 || resps[0].StatusCode != 200 || bodyOf(resps[0]) != "answer /plain/1" || resps[1].StatusCode != 400 || !resps[1].Close {
		t.Fatalf("responses %v", statuses(resps))
	}
	if !strings.Contains(bodyOf(resps[1]), "pipelining_refused") {
		t.Errorf("second answer %q", bodyOf(resps[1]))
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("upstream saw %d requests", n)
	}
	h.sink.until(t, has(
		func(r audit.Record) bool { return r.Path == "/plain/1" && r.Reason == "relayed" },
		func(r audit.Record) bool { return r.Reason == "pipelining_refused" && r.Verdict == "DENY" },
	))
}

func statuses(rs []*http.Response) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.StatusCode)
	}
	return out
}
