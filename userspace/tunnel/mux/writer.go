package mux

import (
	"encoding/binary"
	"fmt"
)

// maxCtrlQueue bounds the control frames waiting to be written: a peer that makes us queue
// more (a PING flood, say) while not reading is cut off.
const maxCtrlQueue = 4096

// writeFrames writes frames with one flush, so that they leave in one TLS record when small.
func (s *Session) writeFrames(frames ...frame) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(frames...)
}

// writeLocked writes frames; wmu is held. A failed write ends the session.
func (s *Session) writeLocked(frames ...frame) error {
	select {
	case <-s.done:
		return s.closedErr()
	default:
	}
	var hb [headerLen]byte
	for _, f := range frames {
		f.h.length = uint32(len(f.payload))
		f.h.encode(&hb)
		if _, err := s.bw.Write(hb[:]); err != nil {
			return s.writeFailed(err)
		}
		if _, err := s.bw.Write(f.payload); err != nil {
			return s.writeFailed(err)
		}
	}
	if err := s.bw.Flush(); err != nil {
		return s.writeFailed(err)
	}
	return nil
}

func (s *Session) writeFailed(err error) error {
	s.fail(fmt.Errorf("write: %w", err))
	return s.closedErr()
}

// queue hands a control frame to ctrlLoop without blocking: the read loop and Read use it, so
// that neither ever waits for the connection to drain.
func (s *Session) queue(f frame) {
	s.cmu.Lock()
	if len(s.cq) >= maxCtrlQueue {
		s.cmu.Unlock()
		s.fail(protocolError("more than %d control frames waiting to be written", maxCtrlQueue))
		return
	}
	s.cq = append(s.cq, f)
	s.cmu.Unlock()
	select {
	case s.cwake <- struct{}{}:
	default:
	}
}

// ctrlLoop writes queued control frames until the session ends.
func (s *Session) ctrlLoop() {
	var batch []frame
	for {
		select {
		case <-s.cwake:
		case <-s.done:
			return
		}
		s.cmu.Lock()
		batch, s.cq = s.cq, batch[:0]
		s.cmu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if err := s.writeFrames(batch...); err != nil {
			return
		}
		clear(batch)
	}
}

func resetFrame(id uint32, code ResetCode) frame {
	return frame{h: header{typ: frameReset, stream: id}, payload: binary.BigEndian.AppendUint32(nil, uint32(code))}
}

func windowFrame(id uint32, inc uint32) frame {
	return frame{h: header{typ: frameWindow, stream: id}, payload: binary.BigEndian.AppendUint32(nil, inc)}
}

func goAwayFrame(last uint32, code uint32) frame {
	p := binary.BigEndian.AppendUint32(nil, last)
	return frame{h: header{typ: frameGoAway}, payload: binary.BigEndian.AppendUint32(p, code)}
}
