package mux

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

var quiet = slog.New(slog.DiscardHandler)

// tcpPair returns both ends of a TCP connection on 127.0.0.1.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// sessions starts a client and a server session over TCP.
func sessions(t testing.TB, ccfg, scfg Config) (*Session, *Session) {
	t.Helper()
	ccfg.Logger, scfg.Logger = quiet, quiet
	cc, sc := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type res struct {
		s   *Session
		err error
	}
	srv := make(chan res, 1)
	go func() {
		s, err := Server(ctx, sc, scfg)
		srv <- res{s, err}
	}()
	c, err := Client(ctx, cc, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	r := <-srv
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { c.Close(); r.s.Close() })
	return c, r.s
}

// acceptOK accepts one stream on srv and answers it 200.
func acceptOK(t testing.TB, srv *Session) *Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := srv.Accept(ctx)
	if err != nil {
		t.Error(err)
		return nil
	}
	if err := st.Reply(200, nil); err != nil {
		t.Error(err)
		return nil
	}
	return st
}

// open opens a stream that the server accepts, and returns both ends.
func open(t testing.TB, cli, srv *Session, fields Fields) (*Stream, *Stream) {
	t.Helper()
	got := make(chan *Stream, 1)
	go func() { got <- acceptOK(t, srv) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, r, err := cli.Open(ctx, fields)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || c == nil {
		t.Fatalf("reply %d", r.Status)
	}
	s := <-got
	if s == nil {
		t.FailNow()
	}
	return c, s
}

func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func within(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}
