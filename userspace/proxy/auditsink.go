package proxy

import (
	"errors"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// Submitter is a Sink that can also queue a record without waiting for it to be durable, as
// audit.Writer.Submit does. The enforcer submits the records of an exchange so that relaying
// never waits for the disk: records of one connection are queued, and so written, in the order
// they happened. A record Submit refuses (its queue is full) is written with Write instead, so
// that a slow disk slows the enforcer down rather than losing records.
type Submitter interface {
	Submit(audit.Record) error
}

// write hands r to the sink: queued when the sink is a Submitter, else written.
func (s *Server) write(r audit.Record) error {
	if sub, ok := s.cfg.Audit.(Submitter); ok {
		err := sub.Submit(r)
		if err == nil || errors.Is(err, audit.ErrClosed) {
			return err
		}
	}
	return s.cfg.Audit.Write(r)
}

// writeLogged writes r, logging a failure: the relay never stops for the audit log, whose own
// records say what it could not write.
func (s *Server) writeLogged(r audit.Record) error {
	err := s.write(r)
	if err != nil {
		s.log.Error("proxy: audit write failed", "err", err, "kind", r.Kind, "source", r.Source, "destination", r.Destination, "reason", redactQuoted(r.Reason))
	}
	return err
}

// auditMessage hands one message record (kind message) to the sink: one parsed message of an
// exchange, with its channel. Message records do not go to the Observer, which counts
// exchanges. The error is the sink's (already logged); callers that must not go on unaudited
// check it.
func (s *Server) auditMessage(r audit.Record) error {
	if s.cfg.Audit == nil {
		return nil
	}
	r.Kind = audit.KindMessage
	r.Transport = "tcp"
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	return s.writeLogged(r)
}

// auditDurable writes a record (a message record unless r.Kind says otherwise) and returns
// once it is durable: for domains whose policy says audit_before_forward. An error means the
// request must not be forwarded.
func (s *Server) auditDurable(r audit.Record) error {
	if s.cfg.Audit == nil {
		return nil
	}
	if r.Kind == "" {
		r.Kind = audit.KindMessage
	}
	r.Transport = "tcp"
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	return s.cfg.Audit.Write(r)
}
