package agentleak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// RESP is a minimal Redis client: one connection, one command at a time, the reply types
// the memory service needs (simple strings, errors, integers, bulk strings, arrays).
type RESP struct {
	mu sync.Mutex
	c  net.Conn
	br *bufio.Reader
}

// errNil is a nil bulk reply: the key does not exist.
var errNil = errors.New("redis: nil")

func newRESP(c net.Conn) *RESP { return &RESP{c: c, br: bufio.NewReader(c)} }

// Close closes the connection.
func (r *RESP) Close() error { return r.c.Close() }

// Do sends one command and reads its reply: string, int64, []any, or errNil.
func (r *RESP) Do(ctx context.Context, args ...string) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	r.c.SetDeadline(deadline)
	buf := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		buf = append(buf, "$"+strconv.Itoa(len(a))+"\r\n"...)
		buf = append(buf, a...)
		buf = append(buf, "\r\n"...)
	}
	if _, err := r.c.Write(buf); err != nil {
		return nil, fmt.Errorf("redis %s: %w", args[0], err)
	}
	v, err := r.read()
	if err != nil && !errors.Is(err, errNil) {
		return nil, fmt.Errorf("redis %s: %w", args[0], err)
	}
	return v, err
}

func (r *RESP) read() (any, error) {
	line, err := r.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, errors.New(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, errNil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, 0, n)
		for range n {
			v, err := r.read()
			if err != nil && !errors.Is(err, errNil) {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}
