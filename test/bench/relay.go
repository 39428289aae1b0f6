package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
)

// The minimal relay is the benchmark's reference for "a user-space hop in Go and nothing else":
// one goroutine per connection reads a request (head and Content-Length body), writes it to a
// kept-alive upstream connection, reads the response the same way and writes it back. No
// parsing beyond framing, no decision, no audit. It runs as its own process (the bench binary
// re-executed: `relay LISTEN UPSTREAM`), as the daemon and nginx do.

// minimalRelay serves `relay LISTEN UPSTREAM` until it is killed.
func minimalRelay(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: relay LISTEN UPSTREAM")
		return 2
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go relayConn(c, args[1])
	}
}

func relayConn(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	cr, ur := bufio.NewReader(c), bufio.NewReader(u)
	var req, resp []byte
	for {
		if req, err = readMessage(cr, req[:0]); err != nil {
			return
		}
		if _, err = u.Write(req); err != nil {
			return
		}
		if resp, err = readMessage(ur, resp[:0]); err != nil {
			return
		}
		if _, err = c.Write(resp); err != nil {
			return
		}
	}
}

var contentLength = []byte("content-length:")

// readMessage appends one HTTP/1.1 message framed by Content-Length (or without a body) to buf.
func readMessage(r *bufio.Reader, buf []byte) ([]byte, error) {
	n := 0
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return buf, err
		}
		buf = append(buf, line...)
		if len(line) <= 2 {
			break
		}
		if len(line) > len(contentLength) && bytes.EqualFold(line[:len(contentLength)], contentLength) {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(line[len(contentLength):]))); err != nil || n < 0 {
				return buf, errors.New("bad Content-Length")
			}
		}
	}
	head := len(buf)
	buf = append(buf, make([]byte, n)...)
	_, err := io.ReadFull(r, buf[head:])
	return buf, err
}

// startMinimalRelay runs the minimal relay on listen to upstream until the end of the run and
// returns its pid.
func startMinimalRelay(r *lab.Runner, listen, upstream string) int {
	self, err := os.Executable()
	if err != nil {
		r.Fatalf("%v", err)
	}
	cmd := exec.Command(self, "relay", listen, upstream)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Fatalf("start the minimal relay: %v", err)
	}
	r.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for range 100 {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return cmd.Process.Pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Fatalf("the minimal relay did not listen on %s", listen)
	return 0
}
