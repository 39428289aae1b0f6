package mux

import (
	"errors"
	"fmt"
)

// CloseWrite sends FIN: the peer reads io.EOF after the bytes already written, and may go on
// sending.
func (st *Stream) CloseWrite() error {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	if st.sentFIN {
		st.mu.Unlock()
		return nil
	}
	if err := st.writableLocked(); err != nil {
		st.mu.Unlock()
		return err
	}
	st.mu.Unlock()
	fin := frame{h: header{typ: frameData, flags: flagFin, stream: st.id}}
	if !st.s.client {
		st.mu.Lock()
		st.sentFIN = true
		finished := st.recvFIN
		st.notifyLocked()
		st.mu.Unlock()
		if finished {
			st.s.remove(st) // before the final frame leaves: see the comment above Close
		}
		return st.s.writeFrames(st.withMark(fin)...)
	}
	if err := st.s.writeFrames(st.withMark(fin)...); err != nil {
		return err
	}
	st.mu.Lock()
	st.sentFIN = true // after the final frame left: see the comment above Close
	finished := st.recvFIN
	st.notifyLocked()
	st.mu.Unlock()
	if finished {
		st.s.remove(st)
	}
	return nil
}

// Slot accounting. A stream's slot is counted on both sides, and the client may open a new
// stream as soon as it has freed one. So that the server never sees an OPEN before the end of
// the stream whose slot it reuses, the side that sends a stream's final frame (its FIN after the
// peer's, a RESET, a refusing REPLY) frees the stream in an order that depends on its role: the
// server before the frame leaves (the client learns of the free slot from that frame), the
// client after it (the server frees the slot when it reads that frame, which comes before any
// later OPEN).

// Close ends the stream as closing a TCP socket does: FIN after the bytes already written (if
// not sent yet), then RESET if the peer has not finished sending. Pending Reads and Writes
// return ErrClosed.
func (st *Stream) Close() error { return st.end(true) }

// Abort resets the stream without FIN: the peer reads an error, not io.EOF, after the bytes
// already sent. Relays use it when the other side failed, so that a truncated stream never
// looks complete.
func (st *Stream) Abort() { _ = st.end(false) }

func (st *Stream) end(graceful bool) error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	st.buf, st.bufLen, st.marks = nil, 0, 0
	live := st.resetErr == nil
	st.notifyLocked() // wakes a Write waiting for window, which then releases wmu
	st.mu.Unlock()
	if !live {
		st.s.remove(st)
		return nil
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	var frames []frame
	needFIN := graceful && !st.sentFIN && (st.replied || st.s.client)
	if needFIN {
		frames = append(frames, frame{h: header{typ: frameData, flags: flagFin, stream: st.id}})
		st.sentFIN = true
	}
	if !st.recvFIN || !st.sentFIN {
		frames = append(frames, resetFrame(st.id, CodeCancel))
	}
	st.mu.Unlock()
	if !st.s.client {
		st.s.remove(st) // before the final frames leave: see the comment above Close
	}
	var err error
	if len(frames) > 0 {
		err = st.s.writeFrames(frames...)
	}
	st.s.remove(st)
	st.fail(ErrClosed)
	if err != nil && !errors.Is(err, ErrSessionClosed) {
		return fmt.Errorf("close stream %d: %w", st.id, err)
	}
	return nil
}
