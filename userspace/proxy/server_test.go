package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/proxy"
)

func TestOpaqueTCPRelaysBothWaysWithHalfClose(t *testing.T) {
	up := startTCPUpstream(t, func(c net.Conn) {
		data, err := io.ReadAll(c) // ends only when the client's half-close is passed on
		if err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		_, _ = c.Write([]byte("echo:" + string(data))) // the other direction still works
	})
	h := startProxy(t, up)

	c := h.dial(t)
	const msg = "hello, opaque world"
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, c), "echo:"+msg; got != want {
		t.Fatalf("client read %q, want %q", got, want)
	}

	r := h.sink.next(t)
	checkRelayed(t, r, c, up, "tcp")
	if r.Reason != "relayed" || r.BytesIn != int64(len(msg)) || r.BytesOut != int64(len("echo:"+msg)) || r.DurationNS <= 0 {
		t.Errorf("record: reason %q, in %d, out %d, duration %d", r.Reason, r.BytesIn, r.BytesOut, r.DurationNS)
	}
	if r.Method != "" || r.Status != 0 {
		t.Errorf("opaque record has HTTP fields: %+v", r)
	}
	if peers, want := h.resolver.lookedUp(), addrPort(t, c.LocalAddr()); len(peers) != 1 || peers[0] != want {
		t.Errorf("resolver was asked for %v, want [%v]", peers, want)
	}
}

func TestServerSpeaksFirstProtocolIsRelayed(t *testing.T) {
	const banner, bye = "220 mail.example ESMTP ready\r\n", "221 bye\r\n"
	up := startTCPUpstream(t, func(c net.Conn) {
		_, _ = c.Write([]byte(banner))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "QUIT\r\n" {
			t.Errorf("upstream read %q, %v", line, err)
			return
		}
		_, _ = c.Write([]byte(bye))
	})
	h := startProxy(t, up)

	c := h.dial(t)
	br := bufio.NewReader(c)
	got, err := br.ReadString('\n')
	if err != nil || got != banner {
		t.Fatalf("client read banner %q, %v", got, err)
	}
	if _, err := c.Write([]byte("QUIT\r\n")); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != bye {
		t.Fatalf("client read %q, %v; want %q then EOF", rest, err, bye)
	}
	_ = c.Close()

	r := h.sink.next(t)
	checkRelayed(t, r, c, up, "tcp")
	if r.BytesIn != int64(len("QUIT\r\n")) || r.BytesOut != int64(len(banner+bye)) {
		t.Errorf("record bytes in %d out %d", r.BytesIn, r.BytesOut)
	}
}

func TestHTTP2PriorKnowledgeIsRelayedOpaquely(t *testing.T) {
	up := startHTTPUpstream(t, func(s *http.Server) {
		s.Protocols = new(http.Protocols)
		s.Protocols.SetHTTP1(true)
		s.Protocols.SetUnencryptedHTTP2(true)
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	h := startProxy(t, up)
	client := h.httpClient(t, func(tr *http.Transport) {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	})

	resp, err := client.Get("http://" + up.String() + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(body) != "HTTP/2.0" || resp.ProtoMajor != 2 {
		t.Fatalf("got %s %q, %v; want HTTP/2 end to end", resp.Proto, body, err)
	}
	client.CloseIdleConnections()

	r := h.sink.next(t)
	if r.Protocol != "tcp" || r.Reason != "relayed" || r.Method != "" || r.BytesIn == 0 || r.BytesOut == 0 {
		t.Errorf("record %+v, want one opaque tcp exchange", r)
	}
	if got := h.srv.Stats().Requests; got != 0 {
		t.Errorf("Requests = %d, want 0: HTTP/2 is not parsed", got)
	}
}

func TestConnectionWithoutOriginIsRefusedAndAudited(t *testing.T) {
	h := startProxy(t, netip.AddrPort{})
	h.dialRefused(t)

	r := h.sink.next(t)
	if r.Kind != "request" || r.Verdict != "DENY" || r.Reason != "no_original_destination" || r.Source != h.onlyPeer(t).String() {
		t.Errorf("record %+v", r)
	}
	if r.Destination != "" || r.AgentID != "" {
		t.Errorf("record names a destination or agent it cannot know: %+v", r)
	}
	if n := h.dials.Load(); n != 0 {
		t.Errorf("dialled %d times, want 0", n)
	}
	if s := h.srv.Stats(); s.Accepted != 1 || s.Refused != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUnknownAgentIsRefused(t *testing.T) {
	up := startTCPUpstream(t, func(net.Conn) { t.Error("upstream was reached") })
	h := startProxy(t, up, func(cfg *proxy.Config) {
		cfg.Identify = func(uint64) (proxy.Identity, bool) { return proxy.Identity{}, false }
	})
	h.dialRefused(t)

	r := h.sink.next(t)
	if r.Verdict != "DENY" || r.Reason != "unknown_agent" || r.CgroupID != testCgroup || r.Comm != testComm || r.Destination != up.String() || r.AgentID != "" {
		t.Errorf("record %+v", r)
	}
	if n := h.dials.Load(); n != 0 {
		t.Errorf("dialled %d times, want 0", n)
	}
	if s := h.srv.Stats(); s.Refused != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestNilIdentifyRefusesEveryone(t *testing.T) {
	h := startProxy(t, netip.MustParseAddrPort("127.0.0.1:9"), func(cfg *proxy.Config) { cfg.Identify = nil })
	h.dialRefused(t)
	if r := h.sink.next(t); r.Reason != "unknown_agent" {
		t.Errorf("record %+v", r)
	}
}

func TestDialFailureIsAuditedAndClientClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dst := addrPort(t, ln.Addr())
	_ = ln.Close() // nothing listens there now

	h := startProxy(t, dst)
	h.dialRefused(t)

	r := h.sink.next(t)
	if r.Source != h.onlyPeer(t).String() || r.Destination != dst.String() || r.AgentID != testIdentity.AgentID || r.Verdict != "REDIRECT" {
		t.Errorf("record %+v", r)
	}
	if !strings.HasPrefix(r.Reason, "dial_failed: ") || r.Status != 0 {
		t.Errorf("record reason %q status %d", r.Reason, r.Status)
	}
	if s := h.srv.Stats(); s.Refused != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestServeStopsOnContextCancel(t *testing.T) {
	reached := make(chan struct{})
	up := startTCPUpstream(t, func(c net.Conn) {
		if _, err := c.Read(make([]byte, 1)); err == nil {
			close(reached)
		}
		_, _ = io.Copy(io.Discard, c)
	})
	h := startProxy(t, up)
	c := h.dial(t)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(waitLimit):
		t.Fatal("nothing relayed")
	}
	if s := h.srv.Stats(); s.Active != 1 {
		t.Fatalf("stats %+v, want one active connection", s)
	}

	h.cancel()
	select {
	case <-h.done:
		if h.serveErr != nil {
			t.Fatalf("Serve returned %v, want nil", h.serveErr)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve did not return")
	}
	if s := h.srv.Stats(); s.Active != 0 {
		t.Errorf("Serve returned with %d active connections", s.Active)
	}
	expectClosed(t, c)
	if c2, err := net.DialTimeout("tcp", h.addr, time.Second); err == nil {
		_ = c2.Close()
		t.Error("listener still accepts")
	}
	if r := h.sink.next(t); r.Protocol != "tcp" || r.BytesIn != 1 {
		t.Errorf("record %+v", r)
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	up := startTCPUpstream(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	h := startProxy(t, up, func(cfg *proxy.Config) { cfg.IdleTimeout = 300 * time.Millisecond })
	c := h.dial(t)
	start := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}
	if r := h.sink.next(t); r.Protocol != "tcp" || r.BytesIn != 4 {
		t.Errorf("record %+v", r)
	}
}

func TestPanicInOneConnectionDoesNotKillServer(t *testing.T) {
	up := startTCPUpstream(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
	var calls atomic.Int64
	h := startProxy(t, up, func(cfg *proxy.Config) {
		cfg.Identify = func(uint64) (proxy.Identity, bool) {
			if calls.Add(1) == 1 {
				panic("policy bug")
			}
			return testIdentity, true
		}
	})
	expectClosed(t, h.dial(t))

	c := h.dial(t)
	if _, err := c.Write([]byte("still alive")); err != nil {
		t.Fatal(err)
	}
	_ = c.CloseWrite()
	if got := readAll(t, c); got != "still alive" {
		t.Fatalf("second connection read %q", got)
	}
}
