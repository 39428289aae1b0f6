package mux

import (
	"crypto/rand"
	"errors"
	"time"
)

// errKeepAlive ends a session whose peer stopped answering.
var errKeepAlive = errors.New("peer did not answer keep-alive PING")

// keepAlive pings a silent peer and ends the session when the silence outlasts the timeout: a
// peer that vanished without closing its connection (a crashed node, a cut network) is noticed
// and its pooled session replaced.
func (s *Session) keepAlive() {
	every := max(s.cfg.KeepAlive/4, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	var pinged time.Time
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		last := time.Unix(0, s.lastRead.Load())
		idle := time.Since(last)
		switch {
		case !pinged.IsZero() && last.Before(pinged) && time.Since(pinged) >= s.cfg.KeepAliveTimeout:
			s.log.Warn("tunnel peer stopped answering; closing the connection", "remote", s.conn.RemoteAddr(), "silent_for", idle.Round(time.Millisecond))
			s.fail(errKeepAlive)
			return
		case idle >= s.cfg.KeepAlive && (pinged.IsZero() || last.After(pinged)):
			var p [8]byte
			_, _ = rand.Read(p[:])
			pinged = time.Now()
			s.queue(frame{h: header{typ: framePing}, payload: p[:]})
		}
	}
}
