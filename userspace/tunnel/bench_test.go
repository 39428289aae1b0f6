package tunnel

import (
	"context"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

// benchEnv is a warm tunnel: node-a's client already connected to node-b's server, which
// delivers to a TCP echo server on 127.0.0.1.
type benchEnv struct {
	m   *mesh
	dst string
	srv *server
	cli *Client
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	m := newMesh(b)
	e := &benchEnv{m: m, srv: startServer(b, m, "127.0.0.1:0"), cli: newClient(b, m)}
	dst := echoServer(b)
	e.dst = dst.String()
	if err := e.tunnel(); err != nil { // warm: connection and credential cache
		b.Fatal(err)
	}
	return e
}

var payload1KB = make([]byte, 1024)

// direct is one round trip straight to the echo server: connect, 1 kB each way, close.
func (e *benchEnv) direct() error {
	c, err := net.Dial("tcp", e.dst)
	if err != nil {
		return err
	}
	defer c.Close()
	return echo(c, payload1KB)
}

// tunnel is the same round trip through both enforcers: a stream open (credential presented
// and verified, destination dialled by the peer) instead of the connect.
func (e *benchEnv) tunnel() error {
	dst, _ := net.ResolveTCPAddr("tcp", e.dst)
	c, err := e.cli.Dial(context.Background(), e.m.nodeB.ID(), e.srv.addr, dst.AddrPort(), Source{Agent: e.m.agent})
	if err != nil {
		return err
	}
	defer c.Close()
	return echo(c, payload1KB)
}

// BenchmarkEcho1KB: one 1 kB request/response on a new connection (direct TCP) or a new
// stream over the warm tunnel.
func BenchmarkEcho1KB(b *testing.B) {
	e := newBenchEnv(b)
	for _, bc := range []struct {
		name string
		run  func() error
	}{{"direct", e.direct}, {"tunnel", e.tunnel}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEcho1KBTunnelVsDirect alternates the two round trips in the same run and reports
// both, their ratio, and the tunnel's added latency at p50 and p99.
func BenchmarkEcho1KBTunnelVsDirect(b *testing.B) {
	e := newBenchEnv(b)
	var direct, tunnel []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := e.direct(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := e.tunnel(); err != nil {
			b.Fatal(err)
		}
		direct = append(direct, t1.Sub(t0))
		tunnel = append(tunnel, time.Since(t1))
	}
	b.StopTimer()
	slices.Sort(direct)
	slices.Sort(tunnel)
	q := func(d []time.Duration, p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Nanoseconds()) }
	mean := func(d []time.Duration) float64 {
		var s time.Duration
		for _, x := range d {
			s += x
		}
		return float64(s.Nanoseconds()) / float64(len(d))
	}
	b.ReportMetric(mean(direct), "direct-ns/op")
	b.ReportMetric(mean(tunnel), "tunnel-ns/op")
	b.ReportMetric(mean(tunnel)/mean(direct), "tunnel/direct")
	b.ReportMetric((q(tunnel, 0.5)-q(direct, 0.5))/1e3, "added-p50-µs")
	b.ReportMetric((q(tunnel, 0.99)-q(direct, 0.99))/1e3, "added-p99-µs")
}

// BenchmarkColdHandshake: a new client's first stream: TCP connect, mutual TLS 1.3 (Ed25519),
// session start, credential verified for the first time at the peer, stream open and close.
func BenchmarkColdHandshake(b *testing.B) {
	m := newMesh(b)
	srv := startServer(b, m, "127.0.0.1:0")
	dst := echoServer(b)
	for b.Loop() {
		cli, err := NewClient(ClientConfig{Identity: m.nodeA, Credentials: m.creds, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		c, err := cli.Dial(context.Background(), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		cli.Close()
	}
}

// BenchmarkThroughput: bulk bytes one way on one long-lived connection, direct TCP vs one
// tunnel stream.
func BenchmarkThroughput(b *testing.B) {
	m := newMesh(b)
	sink := tcpServer(b, func(c *net.TCPConn) { _, _ = io.Copy(io.Discard, c) })
	srv := startServer(b, m, "127.0.0.1:0")
	cli := newClient(b, m)
	chunk := make([]byte, 64<<10)
	for _, bc := range []struct {
		name string
		dial func() (net.Conn, error)
	}{
		{"direct", func() (net.Conn, error) { return net.Dial("tcp", sink.String()) }},
		{"tunnel", func() (net.Conn, error) {
			return cli.Dial(context.Background(), m.nodeB.ID(), srv.addr, sink, Source{Agent: m.agent})
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := bc.dial()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(len(chunk)))
			for b.Loop() {
				if _, err := c.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
