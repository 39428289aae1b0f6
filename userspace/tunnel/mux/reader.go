package mux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// readLoop reads and dispatches frames until the connection fails or the peer breaks the
// protocol. It never blocks on anything but the connection: stream buffers are bounded by the
// window, and the frames it must send go through queue.
func (s *Session) readLoop() {
	var hb [headerLen]byte
	scratch := make([]byte, MaxPayload)
	for {
		h, err := readHeader(s.br, &hb)
		if err == nil {
			p := scratch[:h.length]
			var arr *[MaxPayload]byte
			if h.typ == frameData && h.length > 0 {
				arr = s.frames.Get().(*[MaxPayload]byte) // handed to the stream's buffer
				p = arr[:h.length]
			}
			if _, err = io.ReadFull(s.br, p); err == nil {
				s.lastRead.Store(time.Now().UnixNano())
				if h.typ == frameData {
					err = s.onData(h, p, arr)
				} else {
					err = s.dispatch(h, p)
				}
			}
		}
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				s.log.Warn("tunnel peer broke the protocol; closing the connection", "remote", s.conn.RemoteAddr(), "err", err)
				_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
				_ = s.writeFrames(goAwayFrame(0, uint32(CodeProtocol)))
			}
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("peer closed the connection: %w", err)
			}
			s.fail(fmt.Errorf("read: %w", err))
			return
		}
	}
}

func (s *Session) dispatch(h header, p []byte) error {
	switch h.typ {
	case frameOpen:
		return s.onOpen(h, p)
	case frameReply:
		return s.onReply(h, p)
	case frameWindow:
		return s.onWindow(h, p)
	case frameReset:
		return s.onReset(h, p)
	case framePing:
		if h.stream != 0 || len(p) != 8 {
			return protocolError("PING on stream %d with %d bytes", h.stream, len(p))
		}
		if h.flags&flagAck == 0 {
			s.queue(frame{h: header{typ: framePing, flags: flagAck}, payload: append([]byte(nil), p...)})
		}
		return nil
	case frameGoAway:
		return s.onGoAway(h, p)
	case frameMark:
		return s.onMark(h, p)
	case frameSettings:
		return nil // announced once, at the start; later ones change nothing
	}
	return nil // unknown frame types are ignored
}

func (s *Session) onOpen(h header, p []byte) error {
	if s.client {
		return protocolError("the server opened stream %d", h.stream)
	}
	s.mu.Lock()
	if h.stream == 0 || h.stream <= s.lastPeerID {
		last := s.lastPeerID
		s.mu.Unlock()
		return protocolError("OPEN of stream %d after stream %d", h.stream, last)
	}
	s.lastPeerID = h.stream
	refuse := s.goAwaySent || len(s.streams) >= s.cfg.MaxStreams
	s.mu.Unlock()
	if refuse {
		s.queue(resetFrame(h.stream, CodeRefused))
		return nil
	}
	fields, err := decodeFields(p)
	if err != nil {
		return err
	}
	st := newStream(s, h.stream, fields)
	s.mu.Lock()
	s.streams[st.id] = st
	s.mu.Unlock()
	select {
	case s.accepted <- st:
	default: // cannot happen: the queue holds MaxStreams and so do the streams
		s.remove(st)
		s.queue(resetFrame(h.stream, CodeRefused))
	}
	return nil
}

func (s *Session) onReply(h header, p []byte) error {
	if !s.client {
		return protocolError("the client sent REPLY on stream %d", h.stream)
	}
	if len(p) < 2 {
		return protocolError("REPLY on stream %d without a status", h.stream)
	}
	st := s.stream(h.stream)
	if st == nil {
		return s.unknown(h)
	}
	fields, err := decodeFields(p[2:])
	if err != nil {
		return err
	}
	r := Reply{Status: int(binary.BigEndian.Uint16(p)), Fields: fields}
	if err := st.onReply(r); err != nil {
		return err
	}
	if !r.OK() {
		s.remove(st)
	}
	return nil
}

func (s *Session) onData(h header, p []byte, arr *[MaxPayload]byte) error {
	st := s.stream(h.stream)
	if st == nil {
		if arr != nil {
			s.frames.Put(arr)
		}
		return s.unknown(h)
	}
	finished, err := st.receive(p, arr, h.flags&flagFin != 0)
	if err != nil {
		return err
	}
	if finished {
		s.remove(st)
	}
	return nil
}

func (s *Session) onMark(h header, p []byte) error {
	if s.client {
		return protocolError("the server sent MARK on stream %d", h.stream)
	}
	st := s.stream(h.stream)
	if st == nil {
		return s.unknown(h)
	}
	fields, err := decodeFields(p)
	if err != nil {
		return err
	}
	return st.receiveMark(fields)
}

func (s *Session) onWindow(h header, p []byte) error {
	if len(p) != 4 {
		return protocolError("WINDOW of %d bytes", len(p))
	}
	inc := binary.BigEndian.Uint32(p)
	if inc == 0 || inc > maxWindow {
		return protocolError("WINDOW increment %d on stream %d", inc, h.stream)
	}
	st := s.stream(h.stream)
	if st == nil {
		return s.unknown(h)
	}
	return st.credit(inc)
}

func (s *Session) onReset(h header, p []byte) error {
	if len(p) != 4 {
		return protocolError("RESET of %d bytes", len(p))
	}
	st := s.stream(h.stream)
	if st == nil {
		return s.unknown(h)
	}
	s.remove(st)
	st.fail(resetError{code: ResetCode(binary.BigEndian.Uint32(p))})
	return nil
}

func (s *Session) onGoAway(h header, p []byte) error {
	if h.stream != 0 || len(p) != 8 {
		return protocolError("GOAWAY on stream %d with %d bytes", h.stream, len(p))
	}
	last := binary.BigEndian.Uint32(p)
	code := binary.BigEndian.Uint32(p[4:])
	s.mu.Lock()
	s.goAwayRecv = true
	var unprocessed []*Stream
	if s.client {
		for id, st := range s.streams {
			if id > last {
				unprocessed = append(unprocessed, st)
			}
		}
	}
	s.mu.Unlock()
	s.log.Debug("tunnel peer is going away", "remote", s.conn.RemoteAddr(), "last_stream", last, "code", code)
	for _, st := range unprocessed {
		s.remove(st)
		st.fail(resetError{code: CodeRefused})
	}
	return nil
}

// unknown handles a frame for a stream the session does not hold: one that ended here while
// the frame was in flight is fine; one never opened is a protocol error.
func (s *Session) unknown(h header) error {
	s.mu.Lock()
	seen := h.stream != 0 && (s.client && h.stream < s.nextID || !s.client && h.stream <= s.lastPeerID)
	s.mu.Unlock()
	if !seen {
		return protocolError("%s frame for stream %d that was never opened", h.typ, h.stream)
	}
	return nil
}
