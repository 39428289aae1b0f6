package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

// DialFunc dials a destination; (*net.Dialer).DialContext is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Deliver returns the Handler that connects each stream to its original destination with dial
// and relays bytes both ways until both directions end. A failed dial refuses the stream with
// StatusBadGateway / ReasonDestinationUnreachable. Put the receiving side's policy check in a
// Handler that runs before it (Refuse, or call Deliver's handler).
func Deliver(dial DialFunc, log *slog.Logger) Handler {
	if log == nil {
		log = slog.Default()
	}
	buffers := &sync.Pool{New: func() any { return new([spliceBuffer]byte) }} // this handler's own
	return func(ctx context.Context, s *Stream) {
		up, err := dial(ctx, "tcp", s.Destination.String())
		if err != nil {
			_ = s.Refuse(StatusBadGateway, ReasonDestinationUnreachable, err)
			return
		}
		defer up.Close()
		if err := s.Accept(); err != nil {
			return
		}
		toDst, toSrc, err := splice(ctx, s, up, buffers)
		log.Debug("tunnel stream delivered", "source", s.Source.Agent.String(), "dst", s.Destination.String(),
			"exchange_id", s.Source.ExchangeID, "bytes_to_dst", toDst, "bytes_to_src", toSrc, "err", err)
	}
}

// closeWriter is a connection that can half-close.
type closeWriter interface{ CloseWrite() error }

// aborter is a connection that can end with an error the peer sees as one.
type aborter interface{ Abort() }

// Splice copies a to b and b to a until both directions have ended or ctx ends. The end of one
// direction (io.EOF) is passed on as a half-close (CloseWrite); an error in either direction
// aborts both connections, so that a truncated stream never looks complete to either side. It
// returns the bytes copied each way and the first error.
func Splice(ctx context.Context, a, b net.Conn) (aToB, bToA int64, err error) {
	return splice(ctx, a, b, nil)
}

// splice is Splice with copy buffers from pool (allocated when nil).
func splice(ctx context.Context, a, b net.Conn, pool *sync.Pool) (aToB, bToA int64, err error) {
	stop := context.AfterFunc(ctx, func() { abort(a); abort(b) })
	defer stop()
	errs := make(chan error, 2)
	go func() {
		n, err := copyHalf(b, a, pool)
		aToB = n
		errs <- err
	}()
	n, err1 := copyHalf(a, b, pool)
	bToA = n
	err2 := <-errs
	err = errors.Join(err1, err2)
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return aToB, bToA, err
}

// spliceBuffer is the copy buffer of one direction: a tunnel frame's worth.
const spliceBuffer = 16 << 10

// copyHalf copies src to dst; at src's EOF it half-closes dst, on an error it aborts both.
func copyHalf(dst, src net.Conn, pool *sync.Pool) (int64, error) {
	var buf *[spliceBuffer]byte
	if pool != nil {
		buf = pool.Get().(*[spliceBuffer]byte)
		defer pool.Put(buf)
	} else {
		buf = new([spliceBuffer]byte)
	}
	// Plain Reader and Writer, so that io.CopyBuffer uses the 16 KiB buffer rather than
	// net.TCPConn's ReadFrom/WriteTo fallbacks, which allocate 32 KiB each (one side is always
	// a tunnel stream, so there is no splice(2) to lose).
	n, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf[:])
	if err == nil {
		if cw, ok := dst.(closeWriter); ok {
			if err := cw.CloseWrite(); err != nil {
				abort(dst)
				abort(src)
				return n, fmt.Errorf("half-close: %w", err)
			}
			return n, nil
		}
		return n, dst.Close()
	}
	abort(dst)
	abort(src)
	return n, err
}

// abort ends c so that its peer sees an error: a reset for streams and TCP connections.
func abort(c net.Conn) {
	switch x := c.(type) {
	case aborter:
		x.Abort()
	case *net.TCPConn:
		_ = x.SetLinger(0)
		_ = x.Close()
	default:
		_ = c.Close()
	}
}
