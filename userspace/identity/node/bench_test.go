package node

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
)

// BenchmarkMutualTLS13Handshake is the tunnel's connection setup cost: a full mutual TLS 1.3
// handshake with Ed25519 node certificates and bundle verification on both sides, over TCP on
// 127.0.0.1 (no session resumption).
func BenchmarkMutualTLS13Handshake(b *testing.B) {
	a := newAuthority(b, nil, 0)
	na, nb := newNode(b, a, "node-a", nil), newNode(b, a, "node-b", nil)
	srv, cli := na.ServerConfig(TLSOptions{}), nb.ClientConfig(na.ID(), TLSOptions{})
	cli.ClientSessionCache = nil
	srv.SessionTicketsDisabled = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, srv)
				if tc.Handshake() == nil {
					_, _ = tc.Read(make([]byte, 1))
				}
			}()
		}
	}()
	ctx := context.Background()
	d := tls.Dialer{Config: cli}
	for b.Loop() {
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
