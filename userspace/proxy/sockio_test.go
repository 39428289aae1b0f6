package proxy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
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
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// A write larger than the socket buffers finishes once the peer reads (the raw write waits in
// the poller when the socket is full and goes on where it stopped), and every byte arrives in
// order; the peer's close is read as io.EOF.
func TestSockIOMovesEveryByteThroughFullBuffersAndReadsEOF(t *testing.T) {
	a, b := tcpPair(t)
	wa, rb := newSockIO(a), newSockIO(b)
	if _, ok := wa.(*sockIO); !ok {
		t.Fatalf("newSockIO(%T) = %T, want *sockIO", a, wa)
	}
	payload := make([]byte, 16<<20)
	_, _ = rand.Read(payload)
	written := make(chan error, 1)
	go func() {
		n, err := wa.Write(payload)
		if err == nil && n != len(payload) {
			err = io.ErrShortWrite
		}
		written <- err
		a.(*net.TCPConn).CloseWrite()
	}()
	time.Sleep(50 * time.Millisecond) // let the writer fill both socket buffers first
	got, err := io.ReadAll(rb)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-written; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("read %d bytes that differ from the %d written", len(got), len(payload))
	}
	n, err := rb.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read after the peer's close: %d, %v; want 0, io.EOF", n, err)
	}
}

// Deadlines and Close work as on a net.Conn: a read past its deadline fails with
// os.ErrDeadlineExceeded (a net.Error that times out), and a read blocked while another
// goroutine closes the connection returns net.ErrClosed.
func TestSockIOHonoursDeadlinesAndClose(t *testing.T) {
	a, _ := tcpPair(t)
	r := newSockIO(a)
	_ = a.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := r.Read(make([]byte, 8))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout (os.ErrDeadlineExceeded)", err)
	}
	_ = a.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	a.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read when closed: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read blocked on a closed connection did not return")
	}
	if _, err := r.(*sockIO).Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write when closed: %v, want net.ErrClosed", err)
	}
}

// A connection that is not TCP (a node tunnel's stream, a pipe) is used as it is.
func TestSockIOLeavesOtherConnectionsAsTheyAre(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := newSockIO(a); got != io.ReadWriter(a) {
		t.Fatalf("newSockIO(net.Pipe) = %T, want the pipe itself", got)
	}
}
