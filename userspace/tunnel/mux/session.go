package mux

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Session is one multiplexed connection. A client session opens streams, a server session
// accepts them. It is safe for concurrent use.
type Session struct {
	conn   net.Conn
	client bool
	cfg    Config
	log    *slog.Logger
	peer   settings // what the peer announced

	br *bufio.Reader // used by the handshake, then only by readLoop

	wmu sync.Mutex // serialises frame writes on conn; taken before mu
	bw  *bufio.Writer

	cmu   sync.Mutex // guards cq
	cq    []frame    // control frames waiting for ctrlLoop
	cwake chan struct{}

	mu         sync.Mutex
	streams    map[uint32]*Stream
	nextID     uint32 // client: the next stream id
	lastPeerID uint32 // server: the highest stream id the peer opened
	goAwaySent bool
	goAwayRecv bool
	err        error // why the session ended; set once, with done closed

	slots    chan struct{} // client: one token per open stream
	accepted chan *Stream  // server: opened streams waiting for Accept
	done     chan struct{}

	lastRead atomic.Int64 // unix nanoseconds of the last frame read

	frames sync.Pool // *[MaxPayload]byte: DATA payloads, from the read loop to Read and back
}

// frame is a frame waiting to be written.
type frame struct {
	h       header
	payload []byte
}

// Client starts the client side of a session on conn (an established, authenticated
// connection): both sides exchange SETTINGS before it returns. ctx bounds that exchange only.
func Client(ctx context.Context, conn net.Conn, cfg Config) (*Session, error) {
	return start(ctx, conn, cfg, true)
}

// Server starts the server side of a session on conn; see Client.
func Server(ctx context.Context, conn net.Conn, cfg Config) (*Session, error) {
	return start(ctx, conn, cfg, false)
}

func start(ctx context.Context, conn net.Conn, cfg Config, client bool) (*Session, error) {
	cfg = cfg.withDefaults()
	s := &Session{
		conn:    conn,
		client:  client,
		cfg:     cfg,
		log:     cfg.Logger,
		br:      bufio.NewReaderSize(conn, 64<<10),
		bw:      bufio.NewWriterSize(conn, MaxPayload+headerLen),
		cwake:   make(chan struct{}, 1),
		streams: map[uint32]*Stream{},
		nextID:  1,
		done:    make(chan struct{}),
	}
	s.frames.New = func() any { return new([MaxPayload]byte) }
	if err := s.handshake(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if client {
		s.slots = make(chan struct{}, min(cfg.MaxStreams, int(min(s.peer.maxStreams, 1<<20))))
	} else {
		s.accepted = make(chan *Stream, cfg.MaxStreams)
	}
	s.lastRead.Store(time.Now().UnixNano())
	go s.readLoop()
	go s.ctrlLoop()
	if cfg.KeepAlive > 0 {
		go s.keepAlive()
	}
	return s, nil
}

// handshake sends this side's SETTINGS and reads the peer's, within ctx.
func (s *Session) handshake(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = s.conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		_ = s.conn.SetDeadline(time.Time{})
	}()
	// The client speaks first and the server answers, so that even an unbuffered connection
	// (net.Pipe) cannot deadlock.
	if s.client {
		if err := s.sendSettings(); err != nil {
			return ctxErr(ctx, err)
		}
	}
	var hb [headerLen]byte
	h, err := readHeader(s.br, &hb)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("read peer settings: %w", err))
	}
	if h.typ != frameSettings || h.stream != 0 {
		return protocolError("first frame is %s on stream %d, want SETTINGS", h.typ, h.stream)
	}
	p := make([]byte, h.length)
	if _, err := io.ReadFull(s.br, p); err != nil {
		return ctxErr(ctx, fmt.Errorf("read peer settings: %w", err))
	}
	if s.peer, err = decodeSettings(p); err != nil {
		return err
	}
	if !s.client {
		if err := s.sendSettings(); err != nil {
			return ctxErr(ctx, err)
		}
	}
	return nil
}

func (s *Session) sendSettings() error {
	mine := settings{maxStreams: uint32(s.cfg.MaxStreams), window: uint32(s.cfg.Window)}
	if err := s.writeFrames(frame{h: header{typ: frameSettings}, payload: mine.encode()}); err != nil {
		return fmt.Errorf("send settings: %w", err)
	}
	return nil
}

// ctxErr prefers the context's error when it has ended (the deadline it set caused err).
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// Reply is the server's answer to an opened stream.
type Reply struct {
	Status int
	Fields Fields
}

// OK reports whether the status is 2xx: the stream is open.
func (r Reply) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Open opens a stream carrying fields and waits for the server's reply. It waits for a free
// stream slot first. With a 2xx reply it returns the open stream; with any other reply it returns
// a nil stream and the reply. Errors wrapping ErrSessionClosed, ErrGoAway or ErrRefusedStream
// mean the stream can be opened again on another session.
func (s *Session) Open(ctx context.Context, fields Fields) (*Stream, Reply, error) {
	if !s.client {
		return nil, Reply{}, errors.New("open stream: only the client side opens streams")
	}
	payload, err := appendFields(nil, fields)
	if err != nil {
		return nil, Reply{}, fmt.Errorf("open stream: %w", err)
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, Reply{}, fmt.Errorf("open stream: waiting for a free stream slot: %w", ctx.Err())
	case <-s.done:
		return nil, Reply{}, s.closedErr()
	}
	st, registered, err := s.sendOpen(payload)
	if err != nil {
		if !registered {
			<-s.slots // a registered stream's slot is freed by remove
		}
		return nil, Reply{}, err
	}
	select {
	case <-st.replyCh:
	case <-ctx.Done():
		st.Abort()
		return nil, Reply{}, fmt.Errorf("open stream %d: waiting for the reply: %w", st.id, ctx.Err())
	}
	st.mu.Lock()
	replied, reply, rerr := st.replied, st.reply, st.resetErr
	st.mu.Unlock()
	if !replied {
		return nil, Reply{}, fmt.Errorf("open stream %d: %w", st.id, rerr)
	}
	if !reply.OK() {
		return nil, reply, nil
	}
	return st, reply, nil
}

// sendOpen registers a new stream and writes its OPEN frame: ids go out in increasing order
// because both happen under wmu. registered reports whether the stream (and so its slot) was
// handed to the session.
func (s *Session) sendOpen(payload []byte) (st *Stream, registered bool, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	switch {
	case s.err != nil:
		s.mu.Unlock()
		return nil, false, s.closedErrLocked()
	case s.goAwayRecv:
		s.mu.Unlock()
		return nil, false, fmt.Errorf("open stream: %w", ErrGoAway)
	case s.nextID > 1<<31-1:
		s.mu.Unlock()
		return nil, false, fmt.Errorf("open stream: stream ids exhausted: %w", ErrGoAway)
	}
	st = newStream(s, s.nextID, nil)
	st.slot = true
	s.nextID++
	s.streams[st.id] = st
	s.mu.Unlock()
	if err := s.writeLocked(frame{h: header{typ: frameOpen, stream: st.id}, payload: payload}); err != nil {
		s.remove(st)
		st.fail(err)
		return nil, true, fmt.Errorf("open stream %d: %w", st.id, err)
	}
	return st, true, nil
}

// Accept returns the next stream the client opened; answer it with Stream.Reply.
func (s *Session) Accept(ctx context.Context) (*Stream, error) {
	if s.client {
		return nil, errors.New("accept stream: only the server side accepts streams")
	}
	select {
	case st := <-s.accepted:
		return st, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, s.closedErr()
	}
}

// GoAway tells the peer that no stream it opens from now on will be processed; streams already
// open go on.
func (s *Session) GoAway() error {
	s.mu.Lock()
	if s.goAwaySent || s.err != nil {
		s.mu.Unlock()
		return nil
	}
	s.goAwaySent = true
	last := s.lastPeerID
	s.mu.Unlock()
	return s.writeFrames(goAwayFrame(last, 0))
}

// Close sends GOAWAY (best effort, bounded by a short write deadline), closes the connection
// and fails every stream still open.
func (s *Session) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_ = s.GoAway()
	s.fail(errors.New("closed locally"))
	return nil
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended (wrapping ErrSessionClosed), or nil while it runs.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.closedErr()
	default:
		return nil
	}
}

// Usable reports whether new streams can be opened: the session runs and the peer has not sent
// GOAWAY.
func (s *Session) Usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == nil && !s.goAwayRecv
}

// NumStreams returns how many streams are open.
func (s *Session) NumStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// LocalAddr and RemoteAddr are the connection's addresses.
func (s *Session) LocalAddr() net.Addr  { return s.conn.LocalAddr() }
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

func (s *Session) closedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closedErrLocked()
}

func (s *Session) closedErrLocked() error {
	if s.err == nil {
		return ErrSessionClosed
	}
	return s.err
}

// fail ends the session once: it records why, closes the connection and fails every stream.
func (s *Session) fail(cause error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	if errors.Is(cause, ErrSessionClosed) {
		s.err = cause
	} else {
		s.err = fmt.Errorf("%w: %w", ErrSessionClosed, cause)
	}
	streams := s.streams
	s.streams = map[uint32]*Stream{}
	close(s.done)
	err := s.err
	s.mu.Unlock()
	_ = s.conn.Close()
	for _, st := range streams {
		st.fail(err)
	}
}

// remove forgets a finished stream and frees its slot.
func (s *Session) remove(st *Stream) {
	s.mu.Lock()
	if s.streams[st.id] == st {
		delete(s.streams, st.id)
		if st.slot {
			<-s.slots
		}
	}
	s.mu.Unlock()
	st.closeDone()
}

func (s *Session) stream(id uint32) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}
