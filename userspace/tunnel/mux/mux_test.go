package mux

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

func TestOpenCarriesFieldsAndBytesBothWaysWithHalfCloseInEitherOrder(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	want := Fields{{"destination", "127.0.0.1:80"}, {"presentation", "x~y~z"}}
	c, s := open(t, cli, srv, want)
	if got := s.Fields(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("server got fields %q, want %q", got, want)
	}

	// Client finishes first; the server still answers after reading EOF.
	if _, err := c.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); string(got) != "request" {
		t.Fatalf("server read %q", got)
	}
	if _, err := s.Write([]byte("response")); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c); string(got) != "response" {
		t.Fatalf("client read %q", got)
	}

	// Server finishes first; the client keeps sending afterwards (what HTTP/2 servers in
	// x/net cannot do, and why this package exists).
	c, s = open(t, cli, srv, nil)
	if _, err := s.Write([]byte("banner")); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c); string(got) != "banner" {
		t.Fatalf("client read %q", got)
	}
	if _, err := c.Write([]byte("late upload")); err != nil {
		t.Fatalf("client write after the server's FIN: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); string(got) != "late upload" {
		t.Fatalf("server read %q", got)
	}
	within(t, 5*time.Second, "both streams leaving the sessions", func() {
		<-c.Done()
		<-s.Done()
	})
	if n := cli.NumStreams() + srv.NumStreams(); n != 0 {
		t.Fatalf("%d streams left after both sides finished", n)
	}
}

func TestManyConcurrentStreamsEchoMegabytesIntact(t *testing.T) {
	cli, srv := sessions(t, Config{Window: 64 << 10}, Config{Window: 32 << 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // echo server
		for {
			st, err := srv.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				defer st.Close()
				_ = st.Reply(200, nil)
				_, _ = io.Copy(st, st)
				_ = st.CloseWrite()
			}()
		}
	}()
	const streams, size = 24, 1 << 20
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for range streams {
		wg.Go(func() {
			c, r, err := cli.Open(ctx, nil)
			if err != nil || !r.OK() {
				errs <- errors.Join(err, errors.New("open refused"))
				return
			}
			defer c.Close()
			data := make([]byte, size)
			_, _ = rand.Read(data)
			go func() {
				_, _ = c.Write(data)
				_ = c.CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, data) {
				errs <- errors.Join(err, errors.New("echo differs"))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFlowControlStopsTheSenderAtTheReceiversWindow(t *testing.T) {
	const window = 64 << 10
	cli, srv := sessions(t, Config{}, Config{Window: window})
	c, s := open(t, cli, srv, nil)
	_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	n, err := c.Write(make([]byte, 4*window))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != window {
		t.Fatalf("wrote %d bytes (%v) to a stream nobody reads, want exactly the window %d then a timeout", n, err, window)
	}
	_ = c.SetWriteDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Write(make([]byte, 3*window))
		if err == nil {
			err = c.CloseWrite()
		}
		done <- err
	}()
	if got := readAll(t, s); len(got) != 4*window {
		t.Fatalf("server read %d bytes, want %d", len(got), 4*window)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestOpenWaitsForAFreeSlotWhenTheServerBoundIsReached(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{MaxStreams: 2})
	c1, _ := open(t, cli, srv, nil)
	open(t, cli, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := cli.Open(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third open with two slots: %v, want to wait until the deadline", err)
	}
	c1.Abort()
	within(t, 5*time.Second, "an open after a slot was freed", func() { open(t, cli, srv, nil) })
}

func TestServerRefusingAStreamAnswersStatusAndFieldsAndFreesTheSlot(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{MaxStreams: 1})
	for range 3 {
		go func() {
			st, err := srv.Accept(context.Background())
			if err == nil {
				_ = st.Reply(403, Fields{{"reason", "not_allowed"}})
			}
		}()
		c, r, err := cli.Open(context.Background(), nil)
		if err != nil || c != nil || r.Status != 403 {
			t.Fatalf("open: stream %v, reply %d, err %v; want a 403 without a stream", c, r.Status, err)
		}
		if v, _ := r.Fields.Get("reason"); v != "not_allowed" {
			t.Fatalf("reason %q", v)
		}
	}
}

func TestCloseDeliversWrittenBytesThenEOFWhileAbortReportsAReset(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, s := open(t, cli, srv, nil)
	if _, err := s.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c); string(got) != "last words" {
		t.Fatalf("client read %q after the server's Close", got)
	}
	within(t, 5*time.Second, "the reset reaching the client", func() { <-c.Done() })
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrReset) {
		t.Fatalf("client write after the server closed: %v, want ErrReset", err)
	}

	c, s = open(t, cli, srv, nil)
	if _, err := c.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	c.Abort()
	buf := make([]byte, 64)
	n, _ := io.ReadFull(s, buf[:7])
	if string(buf[:n]) != "partial" {
		t.Fatalf("server read %q before the reset", buf[:n])
	}
	if _, err := s.Read(buf); !errors.Is(err, ErrReset) {
		t.Fatalf("server read after the client aborted: %v, want ErrReset (never a clean EOF)", err)
	}
}

func TestReadDeadlineWakesABlockedRead(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, _ := open(t, cli, srv, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the deadline did not wake the read")
	}
}

func TestClosedConnectionFailsStreamsAndOpensAsRetryable(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, _ := open(t, cli, srv, nil)
	srv.Close()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("read on a dead session: %v", err)
	}
	within(t, 5*time.Second, "the client noticing", func() { <-cli.Done() })
	if _, _, err := cli.Open(context.Background(), nil); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("open on a dead session: %v", err)
	}
}

func TestGoAwayLetsOpenStreamsFinishAndRefusesNewOnes(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, s := open(t, cli, srv, nil)
	if err := srv.GoAway(); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "the client seeing GOAWAY", func() {
		for cli.Usable() {
			time.Sleep(time.Millisecond)
		}
	})
	if _, _, err := cli.Open(context.Background(), nil); !errors.Is(err, ErrGoAway) {
		t.Fatalf("open after GOAWAY: %v", err)
	}
	if _, err := c.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	_ = c.CloseWrite()
	if got := readAll(t, s); string(got) != "still here" {
		t.Fatalf("server read %q", got)
	}
}

func TestKeepAliveEndsASessionWhosePeerStoppedAnswering(t *testing.T) {
	cc, sc := tcpPair(t)
	go func() { // a peer that answers SETTINGS and then goes silent, reading nothing
		var hb [headerLen]byte
		h, err := readHeader(sc, &hb)
		if err != nil {
			return
		}
		_, _ = io.CopyN(io.Discard, sc, int64(h.length))
		p := settings{maxStreams: 8, window: 1 << 16}.encode()
		header{length: uint32(len(p)), typ: frameSettings}.encode(&hb)
		_, _ = sc.Write(append(hb[:], p...))
	}()
	cli, err := Client(context.Background(), cc, Config{KeepAlive: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "keep-alive closing the session", func() { <-cli.Done() })
	if !errors.Is(cli.Err(), errKeepAlive) {
		t.Fatalf("session ended with %v", cli.Err())
	}
}

func TestDataBeyondTheWindowIsAProtocolErrorThatClosesTheSession(t *testing.T) {
	cc, sc := tcpPair(t)
	errc := make(chan error, 1)
	go func() {
		srv, err := Server(context.Background(), sc, Config{Window: 1024, Logger: quiet})
		if err != nil {
			errc <- err
			return
		}
		if _, err := srv.Accept(context.Background()); err != nil {
			errc <- err
			return
		}
		<-srv.Done()
		errc <- srv.Err()
	}()
	// A hand-written client: SETTINGS, OPEN 1, then 2 KiB of DATA into a 1 KiB window.
	var hb [headerLen]byte
	write := func(h header, p []byte) {
		h.length = uint32(len(p))
		h.encode(&hb)
		if _, err := cc.Write(append(hb[:], p...)); err != nil {
			t.Fatal(err)
		}
	}
	write(header{typ: frameSettings}, settings{maxStreams: 1, window: 1 << 16}.encode())
	write(header{typ: frameOpen, stream: 1}, nil)
	write(header{typ: frameData, stream: 1}, make([]byte, 2048))
	select {
	case err := <-errc:
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("session ended with %v, want a protocol error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the session survived a flow-control violation")
	}
	// The peer is told why before the connection closes.
	_ = cc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		h, err := readHeader(cc, &hb)
		if err != nil {
			t.Fatalf("no GOAWAY before the close: %v", err)
		}
		p := make([]byte, h.length)
		_, _ = io.ReadFull(cc, p)
		if h.typ == frameGoAway {
			if code := binary.BigEndian.Uint32(p[4:]); code != uint32(CodeProtocol) {
				t.Fatalf("GOAWAY code %d", code)
			}
			return
		}
	}
}

func FuzzFields(f *testing.F) {
	b, _ := appendFields(nil, Fields{{"destination", "10.0.0.1:80"}, {"presentation", "a~b~c"}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > MaxPayload {
			return
		}
		fields, err := decodeFields(p)
		if err != nil {
			return
		}
		again, err := appendFields(nil, fields)
		if err != nil || !bytes.Equal(again, p) {
			t.Fatalf("fields do not round-trip: %v", err)
		}
	})
}
