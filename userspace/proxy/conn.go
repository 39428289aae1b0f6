package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// activity remembers when a session last received bytes from either side.
type activity struct {
	start time.Time
	last  atomic.Int64 // time.Since(start) at the last read, in nanoseconds
}

func newActivity() *activity { return &activity{start: time.Now()} }

func (a *activity) touch() { a.last.Store(int64(time.Since(a.start))) }

func (a *activity) idleFor() time.Duration {
	return time.Since(a.start) - time.Duration(a.last.Load())
}

// watchIdle calls onIdle once no bytes have arrived from either side for timeout. It uses one timer
// that re-arms itself for the time left, so reads cost an atomic store and nothing more.
// The returned stop function ends the watch; onIdle is not called after stop returns.
func (a *activity) watchIdle(timeout time.Duration, onIdle func()) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if idle := a.idleFor(); idle < timeout {
			t.Reset(timeout - idle)
			return
		}
		stopped = true
		onIdle()
	}
	mu.Lock()
	t = time.AfterFunc(timeout, check)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// noLimit disables connReader's header limit.
const noLimit = -1

// errHeaderTooLarge is returned by a connReader whose header budget is spent.
var errHeaderTooLarge = errors.New("message header too large")

// connReader is the bottom of a connection's read chain: it records activity and, while a message
// head is parsed, caps how many bytes may be read (net/http's ReadRequest and ReadResponse have no
// limit of their own). The limit is only changed by the goroutine that reads, or before it starts.
type connReader struct {
	r     io.Reader
	act   *activity
	limit int64 // bytes that may still be read; noLimit for no cap
}

func (c *connReader) Read(p []byte) (int, error) {
	if c.limit == 0 {
		return 0, errHeaderTooLarge
	}
	if c.limit > 0 && int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.act.touch()
		if c.limit > 0 {
			c.limit -= int64(n)
		}
	}
	return n, err
}

// setLimit caps the bytes read from now on; noLimit lifts the cap.
func (c *connReader) setLimit(n int64) { c.limit = n }

// connWriter buffers small writes (status lines, header fields, chunk framing) to one connection
// until Flush. It deliberately has no ReadFrom method: net/http copies bodies with io.Copy, and a
// bufio.Writer's ReadFrom would read into its own buffer while streamBody flushes that same buffer.
// It is an io.ByteWriter so that Request.Write uses it as is instead of adding its own buffer.
type connWriter struct{ bw *bufio.Writer }

func newConnWriter(w io.Writer) *connWriter { return &connWriter{bw: bufio.NewWriter(w)} }

func (w *connWriter) Write(p []byte) (int, error)       { return w.bw.Write(p) }
func (w *connWriter) WriteString(s string) (int, error) { return w.bw.WriteString(s) }
func (w *connWriter) WriteByte(b byte) error            { return w.bw.WriteByte(b) }
func (w *connWriter) Flush() error                      { return w.bw.Flush() }

// closeWrite half-closes conn when it can, so that its peer reads EOF while the other direction
// goes on. Connections without half-close are left open; the idle timeout ends them.
func closeWrite(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
