package mux

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Marks reach the server's reader exactly between the bytes written before and after them, in
// every interleaving of writes and marks, however the reads are sized.
func TestMarksArriveBetweenTheBytesWrittenBeforeAndAfterThem(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, s := open(t, cli, srv, nil)
	var seen strings.Builder
	s.OnMark(func(f Fields) error {
		v, _ := f.Get("exchange")
		seen.WriteString("<" + v + ">")
		return nil
	})
	go func() {
		for _, part := range []string{"m:1", "GET /a", "m:2", "GET /b", "-more", "m:3", "m:4", "GET /c"} {
			if id, ok := strings.CutPrefix(part, "m:"); ok {
				if err := c.Mark(Fields{{"exchange", id}}); err != nil {
					t.Error(err)
				}
				continue
			}
			if _, err := c.Write([]byte(part)); err != nil {
				t.Error(err)
			}
		}
		_ = c.CloseWrite()
	}()
	buf := make([]byte, 3) // small reads: a mark must not be skipped by a read that spans it
	for {
		n, err := s.Read(buf)
		seen.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := "<1>GET /a<2>GET /b-more<3><4>GET /c"; seen.String() != want {
		t.Fatalf("server read %q, want %q", seen.String(), want)
	}
}

// A mark its handler refuses aborts the stream: Read returns the refusal, no byte written after
// the mark is ever returned, and the client sees a reset rather than a clean end.
func TestRefusedMarkAbortsTheStreamBeforeTheBytesAfterIt(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, s := open(t, cli, srv, nil)
	refusal := errors.New("presentation refused")
	s.OnMark(func(Fields) error { return refusal })
	if _, err := c.Write([]byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mark(Fields{{"exchange", "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 64)
	var err error
	for err == nil {
		var n int
		n, err = s.Read(buf)
		got = append(got, buf[:n]...)
	}
	if string(got) != "before" || !errors.Is(err, refusal) {
		t.Fatalf("server read %q then %v; want %q then the refusal", got, err, "before")
	}
	within(t, 5*time.Second, "client to see the reset", func() {
		if _, err := io.ReadAll(c); !errors.Is(err, ErrReset) {
			t.Errorf("client read error %v, want a reset", err)
		}
	})
}

// Only the client marks; a stream the client has finished cannot be marked; a client that sends
// more unread marks than the bound is breaking the protocol and loses the connection.
func TestMarksAreBoundedAndOnlyTheClientSendsThem(t *testing.T) {
	cli, srv := sessions(t, Config{}, Config{})
	c, s := open(t, cli, srv, nil)
	if err := s.Mark(Fields{{"a", "b"}}); err == nil {
		t.Fatal("the server side sent a mark")
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := c.Mark(Fields{{"a", "b"}}); !errors.Is(err, ErrWriteClosed) {
		t.Fatalf("mark after CloseWrite: %v", err)
	}

	c, _ = open(t, cli, srv, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range maxPendingMarks + 2 { // the last one waits for data that never comes
			if c.Mark(Fields{{"a", "b"}}) != nil {
				return
			}
		}
	}()
	wg.Wait()
	within(t, 5*time.Second, "the server to close the session", func() {
		<-srv.Done()
	})
}
