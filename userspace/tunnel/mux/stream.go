package mux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Stream is one bidirectional byte stream of a session. It implements net.Conn, plus
// CloseWrite (half-close) and Abort. Reads return buffered bytes before reporting how the
// stream ended: io.EOF after the peer's FIN, an error wrapping ErrReset or ErrSessionClosed
// otherwise.
type Stream struct {
	s      *Session
	id     uint32
	fields Fields // server: the OPEN fields
	slot   bool   // client: holds one of the session's slots until removed

	wmu  sync.Mutex // serialises Write, CloseWrite and the frames of Close
	mark []byte     // guarded by wmu: a MARK payload that leaves with the next DATA frame

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced at every change of state
	replyCh   chan struct{} // closed when the reply is known (or will never come)
	replied   bool
	reply     Reply
	buf       []chunk // received, not yet read: data and marks, in the order they came
	bufLen    int     // data bytes in buf
	marks     int     // marks in buf
	onMark    func(Fields) error
	recvAvail int // receive credit the peer still has
	unacked   int // bytes read but not yet returned to the peer as credit
	recvFIN   bool
	sendWin   int64
	sentFIN   bool
	resetErr  error // the stream ended abruptly (reset either way, or the session failed)
	closed    bool  // Close or Abort was called

	doneOnce sync.Once
	done     chan struct{}

	rd, wd *deadline
}

func newStream(s *Session, id uint32, fields Fields) *Stream {
	return &Stream{
		s:         s,
		id:        id,
		fields:    fields,
		changed:   make(chan struct{}),
		replyCh:   make(chan struct{}),
		recvAvail: s.cfg.Window,
		sendWin:   int64(s.peer.window),
		done:      make(chan struct{}),
		rd:        newDeadline(),
		wd:        newDeadline(),
	}
}

// ID returns the stream's id on its session.
func (st *Stream) ID() uint32 { return st.id }

// Fields returns the fields the client opened the stream with (server side).
func (st *Stream) Fields() Fields { return st.fields }

// Done is closed when the stream has ended both ways (cleanly or not) and left its session.
func (st *Stream) Done() <-chan struct{} { return st.done }

// Err returns why the stream ended abruptly (a reset either way, the session's end, or a local
// Close), or nil while it runs or after both sides finished cleanly.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.resetErr
}

func (st *Stream) closeDone() { st.doneOnce.Do(func() { close(st.done) }) }

// closeReplyLocked wakes Open: the reply is known, or will never come.
func (st *Stream) closeReplyLocked() {
	if !isClosed(st.replyCh) {
		close(st.replyCh)
	}
}

func (st *Stream) notifyLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// Reply answers the stream (server side): a 2xx status opens it for data, any other ends it.
func (st *Stream) Reply(status int, fields Fields) error {
	if st.s.client {
		return errors.New("reply: only the server side replies")
	}
	if status < 100 || status > 999 {
		return fmt.Errorf("reply: status %d", status)
	}
	p, err := appendFields(binary.BigEndian.AppendUint16(nil, uint16(status)), fields)
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	switch {
	case st.replied:
		st.mu.Unlock()
		return errors.New("reply: stream already answered")
	case st.resetErr != nil:
		err := st.resetErr
		st.mu.Unlock()
		return fmt.Errorf("reply: %w", err)
	}
	st.replied = true
	st.reply = Reply{Status: status, Fields: fields}
	ok := st.reply.OK()
	if !ok {
		st.closed = true
		st.buf, st.bufLen, st.marks = nil, 0, 0
	}
	st.closeReplyLocked()
	st.notifyLocked()
	st.mu.Unlock()
	if !ok {
		st.s.remove(st) // before the reply leaves: see the comment above Close
	}
	err = st.s.writeFrames(frame{h: header{typ: frameReply, stream: st.id}, payload: p})
	if err != nil {
		st.s.remove(st)
	}
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	return nil
}

// onReply records the server's reply (client side, read loop).
func (st *Stream) onReply(r Reply) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.replied {
		return protocolError("second REPLY on stream %d", st.id)
	}
	st.replied, st.reply = true, r
	if !r.OK() {
		st.closed = true
	}
	st.closeReplyLocked()
	st.notifyLocked()
	return nil
}

// receive buffers a DATA frame (read loop). finished reports that both sides have now sent
// FIN.
func (st *Stream) receive(p []byte, arr *[MaxPayload]byte, fin bool) (finished bool, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.recvFIN {
		return false, protocolError("DATA on stream %d after its FIN", st.id)
	}
	if len(p) > st.recvAvail {
		return false, protocolError("stream %d sent %d bytes with %d bytes of window", st.id, len(p), st.recvAvail)
	}
	st.recvAvail -= len(p)
	if len(p) > 0 && !st.closed && st.resetErr == nil {
		st.buf = append(st.buf, chunk{p: p, arr: arr})
		st.bufLen += len(p)
	} else if arr != nil {
		st.s.frames.Put(arr)
	}
	if fin {
		st.recvFIN = true
	}
	st.notifyLocked()
	return st.recvFIN && st.sentFIN, nil
}

// maxPendingMarks bounds the marks a stream holds unread: marks take no flow-control window, so
// a peer that sends them faster than the stream is read is breaking the protocol.
const maxPendingMarks = 64

// receiveMark buffers a MARK frame in order with the stream's data (read loop).
func (st *Stream) receiveMark(f Fields) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.recvFIN:
		return protocolError("MARK on stream %d after its FIN", st.id)
	case st.marks >= maxPendingMarks:
		return protocolError("stream %d has %d unread marks", st.id, st.marks)
	}
	if !st.closed && st.resetErr == nil {
		st.buf = append(st.buf, chunk{mark: f, isMark: true})
		st.marks++
	}
	st.notifyLocked()
	return nil
}

// OnMark sets what Read does with each mark the client sends (server side): it is called in
// the reading goroutine when Read reaches the mark, after every byte sent before it was read and
// before any byte sent after it is returned. An error aborts the stream, and Read returns it: the
// bytes after a refused mark are never read. Without a handler marks are skipped.
func (st *Stream) OnMark(fn func(Fields) error) {
	st.mu.Lock()
	st.onMark = fn
	st.mu.Unlock()
}

// Mark sends fields in order with the stream's data (client side): the server's Read meets
// them exactly between the bytes written before and after (see OnMark). The MARK frame leaves
// with the next Write's (or CloseWrite's) first frame, in the same TLS record.
func (st *Stream) Mark(f Fields) error {
	if !st.s.client {
		return errors.New("mark: only the client side marks")
	}
	p, err := appendFields(nil, f)
	if err != nil {
		return fmt.Errorf("mark: %w", err)
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	err = st.writableLocked()
	st.mu.Unlock()
	if err != nil {
		return fmt.Errorf("mark: %w", err)
	}
	if st.mark != nil { // two marks without data between them: the first leaves now
		if err := st.s.writeFrames(st.withMark()...); err != nil {
			return fmt.Errorf("mark: %w", err)
		}
	}
	st.mark = p
	return nil
}

// withMark returns frames preceded by the pending MARK frame, if any, which it clears; wmu is
// held.
func (st *Stream) withMark(frames ...frame) []frame {
	if st.mark == nil {
		return frames
	}
	m := frame{h: header{typ: frameMark, stream: st.id}, payload: st.mark}
	st.mark = nil
	return append([]frame{m}, frames...)
}

// credit adds send window from a WINDOW frame (read loop).
func (st *Stream) credit(inc uint32) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sendWin += int64(inc)
	if st.sendWin > 2*maxWindow {
		return protocolError("stream %d window grew to %d", st.id, st.sendWin)
	}
	st.notifyLocked()
	return nil
}

// fail ends the stream abruptly with err (a reset from the peer, or the session's end).
func (st *Stream) fail(err error) {
	st.mu.Lock()
	if st.resetErr == nil {
		st.resetErr = err
	}
	st.closeReplyLocked()
	st.notifyLocked()
	st.mu.Unlock()
	st.closeDone()
}

// Read reads bytes the peer sent.
func (st *Stream) Read(b []byte) (int, error) {
	for {
		st.mu.Lock()
		switch {
		case st.closed:
			st.mu.Unlock()
			return 0, ErrClosed
		case len(st.buf) > 0 && st.buf[0].isMark:
			f, fn := st.buf[0].mark, st.onMark
			st.buf[0] = chunk{}
			st.buf = st.buf[1:]
			st.marks--
			st.mu.Unlock()
			if fn != nil {
				if err := fn(f); err != nil {
					st.Abort()
					return 0, fmt.Errorf("mark refused: %w", err)
				}
			}
			continue
		case st.bufLen > 0:
			n := st.take(b)
			inc := st.returnCreditLocked(n)
			st.mu.Unlock()
			if inc > 0 {
				st.s.queue(windowFrame(st.id, uint32(inc)))
			}
			return n, nil
		case len(b) == 0:
			st.mu.Unlock()
			return 0, nil
		case st.recvFIN:
			st.mu.Unlock()
			return 0, io.EOF
		case st.resetErr != nil:
			err := st.resetErr
			st.mu.Unlock()
			return 0, err
		}
		wait := st.changed
		st.mu.Unlock()
		select {
		case <-wait:
		case <-st.rd.wait():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// chunk is the payload of one DATA frame, in a frame buffer of the session's pool, or a mark.
type chunk struct {
	p      []byte
	arr    *[MaxPayload]byte // returned to the pool once p is read
	mark   Fields
	isMark bool
}

// take copies buffered bytes into b; mu is held.
func (st *Stream) take(b []byte) int {
	n := 0
	for n < len(b) && len(st.buf) > 0 && !st.buf[0].isMark {
		c := copy(b[n:], st.buf[0].p)
		n += c
		if c == len(st.buf[0].p) {
			if arr := st.buf[0].arr; arr != nil {
				st.s.frames.Put(arr)
			}
			st.buf[0] = chunk{}
			st.buf = st.buf[1:]
		} else {
			st.buf[0].p = st.buf[0].p[c:]
		}
	}
	st.bufLen -= n
	if len(st.buf) == 0 {
		st.buf = nil
	}
	return n
}

// returnCreditLocked accounts n bytes read and returns the WINDOW increment to send now, if
// any: credit goes back in batches of half a window.
func (st *Stream) returnCreditLocked(n int) int {
	if st.recvFIN || st.resetErr != nil {
		return 0
	}
	st.unacked += n
	if st.unacked < st.s.cfg.Window/2 {
		return 0
	}
	inc := st.unacked
	st.unacked = 0
	st.recvAvail += inc
	return inc
}

// Write sends b to the peer, waiting for window as needed. The write deadline bounds the
// waiting for window, not a connection that has stopped draining (keep-alive catches that).
func (st *Stream) Write(b []byte) (int, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	n := 0
	for len(b) > 0 {
		st.mu.Lock()
		if err := st.writableLocked(); err != nil {
			st.mu.Unlock()
			return n, err
		}
		if st.sendWin <= 0 {
			wait := st.changed
			st.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-st.wd.wait():
				return n, os.ErrDeadlineExceeded
			}
		}
		k := int(min(int64(len(b)), st.sendWin, maxData))
		st.sendWin -= int64(k)
		st.mu.Unlock()
		if err := st.s.writeFrames(st.withMark(frame{h: header{typ: frameData, stream: st.id}, payload: b[:k]})...); err != nil {
			return n, err
		}
		n += k
		b = b[k:]
	}
	return n, nil
}

// writableLocked says why the stream cannot send now, if it cannot.
func (st *Stream) writableLocked() error {
	switch {
	case st.closed:
		return ErrClosed
	case st.sentFIN:
		return ErrWriteClosed
	case st.resetErr != nil:
		return st.resetErr
	case !st.s.client && !st.replied:
		return errors.New("stream not answered yet: Reply first")
	}
	select {
	case <-st.wd.wait():
		return os.ErrDeadlineExceeded
	default:
	}
	return nil
}

// LocalAddr and RemoteAddr are the session connection's addresses.
func (st *Stream) LocalAddr() net.Addr  { return st.s.conn.LocalAddr() }
func (st *Stream) RemoteAddr() net.Addr { return st.s.conn.RemoteAddr() }

// SetDeadline sets both deadlines.
func (st *Stream) SetDeadline(t time.Time) error {
	st.rd.set(t)
	st.wd.set(t)
	return nil
}

// SetReadDeadline bounds Read, including one already waiting.
func (st *Stream) SetReadDeadline(t time.Time) error { st.rd.set(t); return nil }

// SetWriteDeadline bounds Write's wait for window, including one already waiting.
func (st *Stream) SetWriteDeadline(t time.Time) error { st.wd.set(t); return nil }
