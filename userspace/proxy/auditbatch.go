package proxy

import (
	"sync"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

const (
	// auditLinger is how long the first record of a batch waits for others before the batch
	// goes to the audit log: the log commits (writes and fsyncs) once per batch, and at one
	// exchange at a time a commit per exchange would cost more CPU than the exchange itself.
	auditLinger = 5 * time.Millisecond
	// auditBatchMax bounds the records waiting; the connection that would add one more writes
	// the waiting records itself, so a slow log slows the enforcer down rather than growing it.
	auditBatchMax = 4096
)

// auditBatcher hands a Server's records to the sink in batches, in the order they were made,
// at most auditLinger after the first of each batch. It runs while at least one Serve does;
// outside that, records are written at once.
type auditBatcher struct {
	srv *Server

	mu      sync.Mutex
	queue   []audit.Record
	spare   []audit.Record // the last batch written, emptied: the next queue, so it is not grown again
	serving int            // Serve calls running
	wake    chan struct{}  // capacity 1: the queue is no longer empty
	stopped chan struct{}  // closed when the flusher has returned
	stop    chan struct{}  // closed to end the flusher
}

func newAuditBatcher(s *Server) *auditBatcher { return &auditBatcher{srv: s} }

// start is called when a Serve begins: the first one starts the flusher.
func (b *auditBatcher) start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.serving++
	if b.serving > 1 {
		return
	}
	b.wake, b.stop, b.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go b.run(b.wake, b.stop, b.stopped)
}

// done is called when a Serve has returned: the last one stops the flusher once it has
// written everything queued.
func (b *auditBatcher) done() {
	b.mu.Lock()
	b.serving--
	last := b.serving == 0
	stop, stopped := b.stop, b.stopped
	b.mu.Unlock()
	if last {
		close(stop)
		<-stopped
	}
}

// add queues r, or writes it at once when no Serve runs or when the queue is full (then with
// every record waiting before it, to keep their order).
func (b *auditBatcher) add(r audit.Record) {
	b.mu.Lock()
	if b.serving == 0 {
		b.mu.Unlock()
		b.srv.writeLogged(r)
		return
	}
	b.queue = append(b.queue, r)
	n := len(b.queue)
	var full []audit.Record
	if n >= auditBatchMax {
		full, b.queue = b.queue, nil
	}
	wake := b.wake
	b.mu.Unlock()
	switch {
	case full != nil:
		b.writeAll(full)
	case n == 1:
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// run writes the queue auditLinger after it stops being empty, until stop is closed; then it
// writes what is left and closes stopped.
func (b *auditBatcher) run(wake, stop, stopped chan struct{}) {
	defer close(stopped)
	linger := time.NewTimer(auditLinger)
	linger.Stop()
	for {
		select {
		case <-wake:
			linger.Reset(auditLinger)
			select {
			case <-linger.C:
			case <-stop:
			}
			b.flush()
		case <-stop:
			b.flush()
			return
		}
	}
}

func (b *auditBatcher) flush() {
	b.mu.Lock()
	q := b.queue
	b.queue, b.spare = b.spare, nil
	b.mu.Unlock()
	b.writeAll(q)
	if cap(q) > auditBatchMax {
		return
	}
	clear(q) // let the records' contents go
	b.mu.Lock()
	if b.spare == nil {
		b.spare = q[:0]
	}
	b.mu.Unlock()
}

func (b *auditBatcher) writeAll(rs []audit.Record) {
	for _, r := range rs {
		b.srv.writeLogged(r)
	}
}
