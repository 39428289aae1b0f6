package mux

import (
	"errors"
	"fmt"
)

// Errors of sessions and streams. Check them with errors.Is.
var (
	// ErrSessionClosed: the connection under the session is gone (closed by either side, or
	// failed). Opens that fail with it never reached the peer's application, or the session
	// died before the peer answered.
	ErrSessionClosed = errors.New("tunnel session closed")
	// ErrGoAway: the peer announced it takes no new streams on this connection.
	ErrGoAway = errors.New("tunnel session going away")
	// ErrRefusedStream: the peer refused the stream before processing it; opening it again,
	// on another connection, is safe.
	ErrRefusedStream = errors.New("tunnel stream refused unprocessed")
	// ErrReset: the stream was reset by the peer.
	ErrReset = errors.New("tunnel stream reset by peer")
	// ErrClosed: the stream was closed on this side.
	ErrClosed = errors.New("tunnel stream closed")
	// ErrWriteClosed: Write after CloseWrite.
	ErrWriteClosed = errors.New("tunnel stream closed for writing")
	// ErrProtocol: the peer broke the framing protocol; the session is closed.
	ErrProtocol = errors.New("tunnel protocol error")
)

// ResetCode says why a stream was reset.
type ResetCode uint32

// Reset codes.
const (
	CodeCancel   ResetCode = 1 // the sender closed the stream before both sides finished
	CodeRefused  ResetCode = 2 // not processed: safe to retry elsewhere
	CodeProtocol ResetCode = 3 // the stream broke the protocol
	CodeFlow     ResetCode = 4 // flow-control violation
)

func (c ResetCode) String() string {
	switch c {
	case CodeCancel:
		return "cancel"
	case CodeRefused:
		return "refused"
	case CodeProtocol:
		return "protocol"
	case CodeFlow:
		return "flow_control"
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// resetError is a reset received from the peer.
type resetError struct{ code ResetCode }

func (e resetError) Error() string { return fmt.Sprintf("%v (%s)", ErrReset, e.code) }

func (e resetError) Is(target error) bool {
	return target == ErrReset || (e.code == CodeRefused && target == ErrRefusedStream)
}

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}
