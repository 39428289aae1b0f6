package proxy

import (
	"errors"
	"io"
	"net/http"
)

// streamBody passes an HTTP message body through, counting it. Before every read it flushes the
// writer the body is being copied to, so that everything relayed so far reaches the peer before
// the proxy waits for more: a request head reaches the upstream before an Expect: 100-continue
// client sends its body, and each event of a streamed response reaches the agent as it arrives.
type streamBody struct {
	rc    io.ReadCloser
	flush func() error
	n     int64
	eof   bool  // the body was read to its end
	err   error // the first read error other than io.EOF: the sender's side failed
}

func (b *streamBody) Read(p []byte) (int, error) {
	if err := b.flush(); err != nil {
		return 0, err
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		b.eof = true
	case err != nil && b.err == nil:
		b.err = err
	}
	return n, err
}

// Close does not close or drain the body: the relay reads every body it keeps the connection for
// to its end, and closes the connection otherwise. (Draining here could block on a client that
// will never send the rest.)
func (b *streamBody) Close() error { return nil }

// done reports whether the whole body was read, so that the next message starts where the
// reader stands.
func (b *streamBody) done() bool { return b.rc == http.NoBody || b.eof }
