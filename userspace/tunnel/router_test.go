package tunnel

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestRouterTunnelsRoutedDestinationsForTheSourceInTheContextAndDialsOthersDirectly(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	dst := echoServer(t)
	var direct int
	r := NewRouter(newClient(t, m), func(ctx context.Context, network, addr string) (net.Conn, error) {
		direct++
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}, nil)

	// No route: straight to the destination.
	c, err := r.Dial(ctxT(t), "tcp", dst.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(c, []byte("direct")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if direct != 1 || srv.Stats().Streams != 0 {
		t.Fatalf("direct dials %d, tunnel streams %d", direct, srv.Stats().Streams)
	}

	// 127.0.0.0/8 hosted on node-b: through the tunnel, refused without a source.
	r.SetRoutes([]Route{
		{Node: m.nodeB.ID(), Addr: srv.addr, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		{Node: m.nodeA.ID(), Addr: "unused", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
	})
	if _, err := r.Dial(ctxT(t), "tcp", dst.String()); !errors.Is(err, errNoSource) {
		t.Fatalf("routed dial without a source: %v", err)
	}
	ctx := ContextWithSource(ctxT(t), Source{Agent: m.agent, ExchangeID: "x-1"})
	c, err = r.Dial(ctx, "tcp", dst.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(c, []byte("tunnelled")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if direct != 1 || srv.Stats().Streams != 1 {
		t.Fatalf("direct dials %d, tunnel streams %d", direct, srv.Stats().Streams)
	}
}

func TestRouterPicksTheLongestMatchingPrefix(t *testing.T) {
	m := newMesh(t)
	r := NewRouter(nil, nil, []Route{
		{Node: m.nodeA.ID(), Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{Node: m.nodeB.ID(), Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00::/8")}},
	})
	for addr, want := range map[string]string{"10.1.2.3": "node-b", "10.2.0.1": "node-a", "::ffff:10.1.0.9": "node-b", "fd00::1": "node-b"} {
		rt, ok := r.Lookup(netip.MustParseAddr(addr))
		if n, _ := rt.Node.Node(); !ok || n != want {
			t.Errorf("%s routed to %q (%v), want %s", addr, n, ok, want)
		}
	}
	if _, ok := r.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("an address outside every prefix was routed")
	}
}

func TestHandlerContextEndsWhenTheSenderAborts(t *testing.T) {
	m := newMesh(t)
	ended := make(chan struct{})
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(ctx context.Context, s *Stream) {
			_ = s.Accept()
			<-ctx.Done()
			close(ended)
		}
	})
	conn, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, echoServer(t), Source{Agent: m.agent})
	if err != nil {
		t.Fatal(err)
	}
	conn.(*Conn).Abort()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context outlived the stream")
	}
}
