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
)

// get fetches url with client and returns the status and body.
func get(t *testing.T, client *http.Client, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, string(b)
}

func TestHTTPKeepAliveRecordsEachRequest(t *testing.T) {
	var upstreamConns atomic.Int64
	up := startHTTPUpstream(t, func(s *http.Server) {
		s.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				upstreamConns.Add(1)
			}
		}
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/alpha":
			_, _ = io.WriteString(w, "alpha")
		case "/beta":
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "got:"+string(b))
		default:
			http.NotFound(w, r)
		}
	}))
	h := startProxy(t, up)
	client := h.httpClient(t)
	base := "http://" + up.String()

	type exchange struct {
		method, path, query, reqBody string
		status                       int
		respBody                     string
	}
	exchanges := []exchange{
		{"GET", "/alpha", "?token=secret", "", 200, "alpha"},
		{"POST", "/beta", "", "hello", 201, "got:hello"},
		{"GET", "/gamma", "", "", 404, "404 page not found\n"},
	}
	for _, e := range exchanges {
		status, body := get(t, client, e.method, base+e.path+e.query, e.reqBody)
		if status != e.status || body != e.respBody {
			t.Fatalf("%s %s: got %d %q, want %d %q", e.method, e.path, status, body, e.status, e.respBody)
		}
	}

	for _, e := range exchanges {
		r := h.sink.next(t)
		if r.Protocol != "http/1.1" || r.Verdict != "REDIRECT" || r.Reason != "relayed" {
			t.Errorf("%s %s: record %+v", e.method, e.path, r)
		}
		if r.Method != e.method || r.Path != e.path || r.Status != e.status ||
			r.BytesIn != int64(len(e.reqBody)) || r.BytesOut != int64(len(e.respBody)) || r.DurationNS <= 0 {
			t.Errorf("%s %s: record method %q path %q status %d in %d out %d duration %d", e.method, e.path,
				r.Method, r.Path, r.Status, r.BytesIn, r.BytesOut, r.DurationNS)
		}
	}
	if s := h.srv.Stats(); s.Accepted != 1 || s.Requests != 3 {
		t.Errorf("stats %+v: want 1 connection carrying 3 requests", s)
	}
	if n := upstreamConns.Load(); n != 1 {
		t.Errorf("upstream saw %d connections, want 1", n)
	}
}

func TestChunkedRequestAndResponseBodiesArrive(t *testing.T) {
	parts := []string{"one,", "two,", "three"}
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) != 1 || r.TransferEncoding[0] != "chunked" {
			t.Errorf("upstream got Transfer-Encoding %q", r.TransferEncoding)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil || string(b) != "part1-part2" {
			t.Errorf("upstream read body %q, %v", b, err)
		}
		w.Header().Set("Trailer", "X-Parts")
		for _, p := range parts {
			_, _ = io.WriteString(w, p)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Parts", fmt.Sprint(len(parts)))
	}))
	h := startProxy(t, up)
	client := h.httpClient(t)

	// A reader of unknown length makes the client send a chunked body.
	body := io.MultiReader(strings.NewReader("part1-"), strings.NewReader("part2"))
	req, err := http.NewRequest("PUT", "http://"+up.String()+"/upload", body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(got) != strings.Join(parts, "") {
		t.Fatalf("client read %q, %v", got, err)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("client got Transfer-Encoding %q, want chunked", resp.TransferEncoding)
	}
	if tr := resp.Trailer.Get("X-Parts"); tr != "3" {
		t.Errorf("client got trailer X-Parts %q, want 3", tr)
	}

	r := h.sink.next(t)
	if r.Method != "PUT" || r.Status != 200 || r.BytesIn != int64(len("part1-part2")) || r.BytesOut != int64(len(got)) {
		t.Errorf("record %+v", r)
	}
}

func TestSSEStreamIsDeliveredEventByEvent(t *testing.T) {
	const events = 3
	delivered := make(chan struct{})
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 1; i <= events; i++ {
			_, _ = fmt.Fprintf(w, "data: event %d\n\n", i)
			w.(http.Flusher).Flush()
			if i == events {
				return
			}
			// The next event is written only once the client has this one: a proxy that
			// buffered the response would stall here.
			select {
			case <-delivered:
			case <-r.Context().Done():
				return
			case <-time.After(waitLimit):
				t.Errorf("client never received event %d", i)
				return
			}
		}
	}))
	h := startProxy(t, up)
	client := h.httpClient(t)

	resp, err := client.Get("http://" + up.String() + "/events?stream=1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	br := bufio.NewReader(resp.Body)
	for i := 1; i <= events; i++ {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: event %d\n", i) {
			t.Fatalf("event %d: read %q, %v", i, line, err)
		}
		if blank, err := br.ReadString('\n'); err != nil || blank != "\n" {
			t.Fatalf("event %d: read %q, %v", i, blank, err)
		}
		if i < events {
			select {
			case delivered <- struct{}{}:
			case <-time.After(waitLimit):
				t.Fatalf("upstream no longer waits after event %d", i)
			}
		}
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the events: %q, %v", rest, err)
	}

	r := h.sink.next(t)
	if r.Path != "/events" || r.Status != 200 || r.BytesOut != int64(events*len("data: event 1\n\n")) {
		t.Errorf("record %+v", r)
	}
}

func TestExpectContinueDoesNotDeadlock(t *testing.T) {
	const payload = "a body the upstream asked for"
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // net/http sends 100 Continue on this first read
		_, _ = io.WriteString(w, "received "+string(b))
	}))
	h := startProxy(t, up)
	// The client holds the body back until it sees 100 Continue, for far longer than the test.
	client := h.httpClient(t, func(tr *http.Transport) { tr.ExpectContinueTimeout = time.Minute })

	var got100 atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{Got100Continue: func() { got100.Store(true) }})
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+up.String()+"/upload", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request with Expect: 100-continue: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(b) != "received "+payload {
		t.Fatalf("read %q, %v", b, err)
	}
	if !got100.Load() {
		t.Error("the upstream's 100 Continue did not reach the client")
	}
	if r := h.sink.next(t); r.Status != 200 || r.BytesIn != int64(len(payload)) {
		t.Errorf("record %+v", r)
	}
}

func TestWebSocketUpgradeSwitchesToOpaqueRelay(t *testing.T) {
	const (
		serverFirst = "server-first"
		clientEarly = "client-early" // sent right behind the request, before the 101
		clientLater = "client-later"
		serverBye   = "server-bye"
	)
	up := startTCPUpstream(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Header.Get("Upgrade") != "websocket" {
			t.Errorf("upstream read request %v, %v", req, err)
			return
		}
		// The head and the first frame in one write: the proxy reads both at once.
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"+serverFirst)
		buf := make([]byte, len(clientEarly+clientLater))
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != clientEarly+clientLater {
			t.Errorf("upstream read %q, %v", buf, err)
			return
		}
		_, _ = io.WriteString(c, serverBye)
	})
	h := startProxy(t, up)
	c := h.dial(t)

	_, err := io.WriteString(c, "GET /socket HTTP/1.1\r\nHost: "+up.String()+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"+clientEarly)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Connection") != "Upgrade" {
		t.Fatalf("client read %v, %v", resp, err)
	}
	if cl := resp.Header["Content-Length"]; cl != nil {
		t.Errorf("101 response has Content-Length %q", cl)
	}
	buf := make([]byte, len(serverFirst))
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != serverFirst {
		t.Fatalf("client read %q, %v", buf, err)
	}
	if _, err := io.WriteString(c, clientLater); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != serverBye {
		t.Fatalf("client read %q, %v", rest, err)
	}
	_ = c.Close()

	upgrade := h.sink.next(t)
	checkRelayed(t, upgrade, c, up, "http/1.1")
	if upgrade.Method != "GET" || upgrade.Path != "/socket" || upgrade.Status != 101 {
		t.Errorf("upgrade record %+v", upgrade)
	}
	tunnel := h.sink.next(t)
	checkRelayed(t, tunnel, c, up, "tcp")
	if tunnel.BytesIn != int64(len(clientEarly+clientLater)) || tunnel.BytesOut != int64(len(serverFirst+serverBye)) {
		t.Errorf("tunnel record in %d out %d", tunnel.BytesIn, tunnel.BytesOut)
	}
}

func TestConnectEstablishesTunnel(t *testing.T) {
	// The agent talks to a forward proxy; the enforcer relays its CONNECT, then the tunnel.
	up := startTCPUpstream(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != "CONNECT" || req.Host != "api.example.com:443" {
			t.Errorf("forward proxy read %v, %v", req, err)
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		_, _ = io.Copy(c, br) // echo the tunnel
	})
	h := startProxy(t, up)
	c := h.dial(t)
	_, _ = io.WriteString(c, "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n")
	br := bufio.NewReader(c)
	req, _ := http.NewRequest("CONNECT", "http://api.example.com:443", nil)
	resp, err := http.ReadResponse(br, req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("client read %v, %v", resp, err)
	}
	_, _ = io.WriteString(c, "\x16\x03\x01 not really TLS")
	_ = c.CloseWrite()
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "\x16\x03\x01 not really TLS" {
		t.Fatalf("tunnel echoed %q, %v", rest, err)
	}
	if r := h.sink.next(t); r.Method != "CONNECT" || r.Status != 200 {
		t.Errorf("CONNECT record %+v", r)
	}
	if r := h.sink.next(t); r.Protocol != "tcp" || r.BytesIn != int64(len("\x16\x03\x01 not really TLS")) {
		t.Errorf("tunnel record %+v", r)
	}
}

func TestMalformedRequestAfterFirstGets400(t *testing.T) {
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	h := startProxy(t, up)
	c := h.dial(t)
	br := bufio.NewReader(c)

	_, _ = io.WriteString(c, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first response %v, %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)

	_, _ = io.WriteString(c, "this is not http\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 400 || !resp.Close {
		t.Fatalf("second response %v, %v; want 400 with Connection: close", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if rest := readAll(t, c); rest != "" {
		t.Errorf("after the 400: %q", rest)
	}

	if r := h.sink.next(t); r.Path != "/first" || r.Status != 200 {
		t.Errorf("first record %+v", r)
	}
	if r := h.sink.next(t); r.Verdict != "DENY" || r.Reason != "bad_request" || r.Status != 400 {
		t.Errorf("second record %+v", r)
	}
}

func TestBodilessResponsesKeepConnectionInSync(t *testing.T) {
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			w.WriteHeader(http.StatusNoContent)
		case "/cached":
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "after")
		}
	}))
	h := startProxy(t, up)
	c := h.dial(t)
	br := bufio.NewReader(c)

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/gone", 204, ""},
		{"HEAD", "/big", 200, ""},
		{"GET", "/cached", 304, ""},
		{"GET", "/after", 200, "after"},
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
		if tc.status == 204 && resp.Header["Content-Length"] != nil {
			t.Errorf("204 response has Content-Length %q", resp.Header["Content-Length"])
		}
		if tc.method == "HEAD" && resp.ContentLength != 5 {
			t.Errorf("HEAD response lost its Content-Length: %d", resp.ContentLength)
		}
		if resp.Close {
			t.Errorf("%s %s: response closes the connection", tc.method, tc.path)
		}
	}
	for range 4 {
		if r := h.sink.next(t); r.Reason != "relayed" {
			t.Errorf("record %+v", r)
		}
	}
	if s := h.srv.Stats(); s.Requests != 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestHTTP10ClientGetsUnchunkedResponse(t *testing.T) {
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range []string{"part1", "part2"} {
			_, _ = io.WriteString(w, p)
			w.(http.Flusher).Flush() // chunked: the upstream was sent HTTP/1.1
		}
	}))
	h := startProxy(t, up)
	c := h.dial(t)
	_, _ = io.WriteString(c, "GET /old HTTP/1.0\r\nHost: x\r\n\r\n")
	raw := readAll(t, c) // the proxy ends the body by closing
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok || body != "part1part2" || strings.Contains(strings.ToLower(head), "chunked") {
		t.Fatalf("HTTP/1.0 client read %q", raw)
	}
}

func TestUpstreamClosingIdleConnectionClosesClient(t *testing.T) {
	up := startTCPUpstream(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			t.Errorf("upstream: %v", err)
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		// then closes the kept-alive connection, as servers do after their idle timeout
	})
	h := startProxy(t, up)
	c := h.dial(t)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	raw := readAll(t, c)
	if !strings.HasSuffix(raw, "\r\n\r\nok") {
		t.Fatalf("client read %q", raw)
	}
}

func TestHTTPClientThatPausesBeforeItsFirstRequestIsStillParsed(t *testing.T) {
	up := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "late")
	}))
	h := startProxy(t, up)
	c := h.dial(t)
	time.Sleep(500 * time.Millisecond) // well past the first-byte timeout, like a pooled connection
	_, _ = io.WriteString(c, "GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw := readAll(t, c)
	if !strings.HasPrefix(raw, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(raw, "\r\n\r\nlate") {
		t.Fatalf("client read %q", raw)
	}
	if r := h.sink.next(t); r.Protocol != "http/1.1" || r.Path != "/late" || r.Status != 200 {
		t.Errorf("record %+v, want the request audited as HTTP", r)
	}
}
