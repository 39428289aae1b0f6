package audit

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// committer is the state of the one goroutine that writes the log: the open file, the chain
// head, checkpoint and rotation bookkeeping, and whether the file is failing.
type committer struct {
	w *Writer

	f            *os.File
	size         int64
	head         head
	since        int       // records written since the last checkpoint
	checkpointed time.Time // when the last checkpoint was written
	fileFirstSeq uint64    // seq of the current file's first record, 0 while it has none
	fileStart    time.Time // time of the current file's first record

	broken  error // set when a write or fsync failed; cleared by reopen
	refused int   // records refused to their writers since broken was set

	buf     []byte // batch buffer, reused
	scratch []byte // one record's encoding, reused
}

// run is the committer goroutine: it commits the queue in batches until Close. A batch of
// submitted records lingers (Options.SubmitDelay) so that later records share its write and
// fsync; records queued while a batch commits wait for the next one.
func (c *committer) run() {
	w := c.w
	defer close(w.done)
	tick := time.NewTicker(max(w.opts.CheckpointInterval/4, time.Millisecond))
	defer tick.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		select {
		case <-w.wake:
		case <-w.urgent:
		case <-tick.C:
			c.commit(nil) // a checkpoint when one is due; a retry when the file is failing
		}
		if until := w.lingerUntil(); !until.IsZero() {
			linger.Reset(time.Until(until))
			select {
			case <-linger.C:
			case <-w.urgent:
				linger.Stop()
			}
		}
		reqs, last, more := w.take(w.opts.MaxBatch)
		if len(reqs) > 0 {
			c.commit(reqs)
		}
		if last {
			w.err = c.finish()
			return
		}
		if more { // records beyond MaxBatch: no enqueue will signal them
			signal(w.wake)
		}
	}
}

// commit writes reqs, and any checkpoint due, as one write and one fsync, then acknowledges
// them. Any failure refuses all of reqs and marks the file as failing; the next commit first
// reopens it (see reopen).
func (c *committer) commit(reqs []*request) {
	w := c.w
	now := w.opts.now()
	if c.broken != nil {
		if err := c.reopen(c.broken); err != nil {
			c.refuse(reqs, err)
			return
		}
	}
	if len(reqs) > 0 && c.rotationDue(now) {
		if err := c.rotate(now); err != nil {
			c.fail(err)
			c.refuse(reqs, err)
			return
		}
	}
	b := c.batch()
	for i, r := range reqs {
		body, err := c.encode(&r.rec)
		if err != nil { // this record only: the others go on
			w.log.Error("audit record refused", "err", err, "kind", r.rec.Kind, "id", r.rec.ID)
			w.dropped.Add(1)
			r.finish(err)
			reqs[i] = nil
			continue
		}
		r.seq = b.add(body)
		if b.since >= w.opts.CheckpointEvery {
			c.addCheckpoint(&b, now)
		}
	}
	if b.since > 0 && now.Sub(c.checkpointed) >= w.opts.CheckpointInterval {
		c.addCheckpoint(&b, now)
	}
	if len(b.buf) == 0 {
		return
	}
	if err := c.flush(&b, now); err != nil {
		c.fail(err)
		c.refuse(reqs, err)
		return
	}
	for _, r := range reqs {
		if r != nil {
			r.finish(nil)
		}
	}
}

// encode returns r's body in the committer's scratch buffer, valid until the next encode.
func (c *committer) encode(r *Record) ([]byte, error) {
	body, err := appendBody(c.scratch[:0], r)
	if err != nil {
		return nil, err
	}
	if cap(body) <= maxKeptScratch {
		c.scratch = body
	}
	if len(body) > MaxRecordBytes {
		return nil, fmt.Errorf("audit record of %d bytes exceeds %d", len(body), MaxRecordBytes)
	}
	return body, nil
}

// maxKeptScratch bounds the encoding buffer the committer keeps between records.
const maxKeptScratch = 64 << 10

// batch is lines encoded but not yet written, and the chain state after them.
type batch struct {
	buf         []byte
	head        head
	since       int
	first       uint64 // seq of the batch's first record, 0 if none
	checkpoints int    // checkpoint records in the batch
}

func (c *committer) batch() batch {
	return batch{buf: c.buf[:0], head: c.head, since: c.since}
}

// add appends the line of body as the next record and returns its seq.
func (b *batch) add(body []byte) uint64 {
	seq := b.head.seq + 1
	b.buf, b.head.hash = appendLine(b.buf, seq, b.head.hash, body)
	b.head.seq = seq
	if b.first == 0 {
		b.first = seq
	}
	b.since++
	return seq
}

// addRecord appends one record of the log's own (system, checkpoint).
func (c *committer) addRecord(b *batch, r Record, now time.Time) {
	r.Time, r.Node, r.ID = now, c.w.opts.Node, newID(now)
	body, err := encodeBody(r)
	if err != nil {
		panic(err) // only our own records come here, and they always encode
	}
	b.add(body)
}

// addCheckpoint appends a checkpoint signing the batch's current head.
func (c *committer) addCheckpoint(b *batch, now time.Time) {
	w := c.w
	c.addRecord(b, Record{Kind: KindCheckpoint, Checkpoint: signCheckpoint(w.key, w.keyID, w.opts.Node, b.head)}, now)
	b.since = 0
	b.checkpoints++
}

// flush writes and fsyncs the batch and, only then, makes its head the log's and hands its
// lines to the exporters.
func (c *committer) flush(b *batch, now time.Time) error {
	c.buf = b.buf
	if c.f == nil {
		return errors.New("audit log file is not open")
	}
	n, err := c.f.Write(b.buf)
	c.size += int64(n)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	if !c.w.opts.NoSync {
		start := time.Now()
		if err := c.f.Sync(); err != nil {
			return fmt.Errorf("fsync audit log: %w", err)
		}
		if c.w.opts.OnFsync != nil {
			c.w.opts.OnFsync(time.Since(start))
		}
	}
	c.head, c.since = b.head, b.since
	if b.checkpoints > 0 {
		c.checkpointed = now
		c.w.checkpoints.Add(uint64(b.checkpoints))
	}
	c.w.export(b.buf)
	if c.fileFirstSeq == 0 && b.first != 0 {
		c.fileFirstSeq, c.fileStart = b.first, now
	}
	return nil
}

func (c *committer) fail(err error) {
	if c.broken == nil {
		c.w.log.Error("audit log failing: records are refused until it can be written again", "path", c.w.opts.Path, "err", err)
	}
	c.broken = err
}

func (c *committer) refuse(reqs []*request, err error) {
	for _, r := range reqs {
		if r != nil {
			r.finish(err)
		}
	}
	c.refused += len(reqs)
}

// finish runs once at Close: a last checkpoint, then the file is closed.
func (c *committer) finish() error {
	now := c.w.opts.now()
	var err error
	if c.broken != nil {
		err = c.reopen(c.broken)
	}
	if err == nil && c.since > 0 {
		b := c.batch()
		c.addCheckpoint(&b, now)
		err = c.flush(&b, now)
	}
	if cerr := c.closeFile(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close audit log %s: %w", c.w.opts.Path, err)
	}
	return nil
}

func (c *committer) closeFile() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}
