package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Writer. Only Path is required.
type Options struct {
	Path   string // the current log file; rotated files are kept beside it
	Node   string // node name put in records that carry none
	KeyDir string // where the signing key lives (KeyFile, PublicKeyFile); default the directory of Path
	Logger *slog.Logger

	MaxBytes int64         // rotate once the current file holds this much; default 64 MiB, negative never
	MaxAge   time.Duration // rotate once the current file's first record is this old; default 24h, negative never
	MaxFiles int           // rotated files kept (the oldest are removed); 0 keeps them all

	CheckpointEvery    int           // records between signed checkpoints; default 1000
	CheckpointInterval time.Duration // longest time a record waits for a checkpoint; default 10s

	MaxBatch int // records per write and fsync; default 4096; 1 means one fsync per record
	MaxQueue int // records Submit lets wait before it drops; default 65536
	// SubmitDelay is how long the first record of a batch queued with Submit waits for others
	// before the batch is committed, so that the log writes and fsyncs once per batch rather
	// than once per record: the time a submitted record may stay in memory only. A record
	// someone waits for (Append, Write), a full batch, or Close commits at once, taking every
	// record queued before it along. Default 10ms; negative commits at once.
	SubmitDelay time.Duration
	NoSync      bool // skip fsync: records then survive a crash of the process, not of the machine (benchmarks)

	// Exporters get every line once it is fsynced, checkpoints and system records included,
	// without ever blocking the log (see export.go). Open starts them; Close stops them, giving
	// them ExportShutdown (default 5s) to send what they hold.
	Exporters      []*Exporter
	ExportShutdown time.Duration
	// OnFsync, when set, is called from the committer with the duration of each fsync; it must
	// return at once (a metrics histogram).
	OnFsync func(time.Duration)

	now func() time.Time // tests
}

// Defaults of Options.
const (
	DefaultMaxBytes           = 64 << 20
	DefaultMaxAge             = 24 * time.Hour
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 10 * time.Second
	DefaultMaxBatch           = 4096
	DefaultMaxQueue           = 65536
	DefaultSubmitDelay        = 10 * time.Millisecond
	MaxRecordBytes            = 4 << 20 // longest line Append accepts
)

// ErrClosed is returned by Append and Write after Close.
var ErrClosed = errors.New("audit log closed")

// Receipt says where a durable record landed in the chain.
type Receipt struct {
	Seq uint64
	ID  string
}

// Writer is the one writer of a node's audit log. Append and Write may be called from any
// number of goroutines: records are queued, and one goroutine writes each batch with a single
// write and fsync (group commit) before acknowledging the batch's records.
type Writer struct {
	opts  Options
	log   *slog.Logger
	key   ed25519.PrivateKey
	keyID string

	mu      sync.Mutex
	queue   []*request
	oldest  time.Time // when the first record of queue was queued
	hurry   bool      // queue holds a record someone waits for, or a full batch: commit at once
	closed  bool
	dropped atomic.Uint64 // records Submit dropped on a full queue

	checkpoints atomic.Uint64 // checkpoint records written
	rotations   atomic.Uint64 // files rotated

	wake   chan struct{} // capacity 1: the queue is no longer empty, or Close was called
	urgent chan struct{} // capacity 1: hurry was set, or Close was called
	done   chan struct{} // closed when the committer has finished
	err    error         // Close's result, set before done is closed

	c committer // owned by the committer goroutine (and by Open before it starts)
}

// request is one queued record. The committer encodes it (encoding is most of a record's cost,
// and the committer runs beside the enforcer's connections rather than on their path).
type request struct {
	rec  Record
	seq  uint64
	done chan error // capacity 1; nil for a submitted record, which nobody waits for
}

// finish tells the record's waiter, if any, how its commit went.
func (r *request) finish(err error) {
	if r.done != nil {
		r.done <- err
	}
}

// Open opens the audit log at opts.Path for appending, creating it, its directory and the
// signing key as needed. It recovers the chain head from the current file (or the newest
// rotated one) and seals a torn last write with a system record. ctx bounds Open only.
func Open(ctx context.Context, opts Options) (*Writer, error) {
	if opts.Path == "" {
		return nil, errors.New("audit log: no path")
	}
	if err := checkExporters(opts.Exporters); err != nil {
		return nil, err
	}
	setDefaults(&opts)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, err := LoadOrCreateKey(opts.KeyDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create audit log directory: %w", err)
	}
	w := &Writer{
		opts:   opts,
		log:    opts.Logger,
		key:    key,
		keyID:  KeyID(key.Public().(ed25519.PublicKey)),
		wake:   make(chan struct{}, 1),
		urgent: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	w.c = committer{w: w, checkpointed: opts.now()}
	if err := w.c.reopen(nil); err != nil {
		w.c.closeFile()
		return nil, err
	}
	w.log.Info("audit log open", "path", opts.Path, "next_seq", w.c.head.seq+1, "key_id", w.keyID)
	for _, e := range opts.Exporters {
		e.run()
	}
	go w.c.run()
	return w, nil
}

func setDefaults(o *Options) {
	if o.KeyDir == "" {
		o.KeyDir = filepath.Dir(o.Path)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = DefaultMaxQueue
	}
	if o.SubmitDelay == 0 {
		o.SubmitDelay = DefaultSubmitDelay
	}
	if o.ExportShutdown <= 0 {
		o.ExportShutdown = DefaultExportShutdown
	}
	if o.now == nil {
		o.now = time.Now
	}
}

// Write appends r and returns once it is durable. See Append.
func (w *Writer) Write(r Record) error {
	_, err := w.Append(context.Background(), r)
	return err
}

// Append appends r and returns once its line is written and fsynced. Time, Node and ID are
// filled in when empty; V, Seq and Prev are assigned. An error means the record is not known
// to be durable: callers that must not act unaudited refuse to act. When ctx ends first,
// Append returns its error but the record may still be written.
func (w *Writer) Append(ctx context.Context, r Record) (Receipt, error) {
	req, err := w.enqueue(r, false)
	if err != nil {
		return Receipt{}, err
	}
	select {
	case err := <-req.done:
		if err != nil {
			return Receipt{}, err
		}
		return Receipt{Seq: req.seq, ID: req.rec.ID}, nil
	case <-ctx.Done():
		return Receipt{}, fmt.Errorf("audit record not yet durable: %w", ctx.Err())
	}
}

// Submit queues r and returns at once, without waiting for it to be durable: for records
// whose writer must never stall (the kernel's flow events, which would otherwise back up
// into the ring buffer). When MaxQueue records are already waiting, r is dropped and counted
// (see Dropped) and ErrQueueFull is returned.
func (w *Writer) Submit(r Record) error {
	_, err := w.enqueue(r, true)
	return err
}

// ErrQueueFull is returned by Submit when the queue is at its bound.
var ErrQueueFull = errors.New("audit queue full: record dropped")

// Dropped is how many records Submit dropped because the queue was full.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Stats are what the Writer counts, for metrics.
type Stats struct {
	Queued      int    // records waiting for the committer now
	Dropped     uint64 // records Submit dropped on a full queue
	Checkpoints uint64 // checkpoint records written since Open
	Rotations   uint64 // files rotated since Open
}

// Stats returns the Writer's counts.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	queued := len(w.queue)
	w.mu.Unlock()
	return Stats{Queued: queued, Dropped: w.dropped.Load(), Checkpoints: w.checkpoints.Load(), Rotations: w.rotations.Load()}
}

func (w *Writer) enqueue(r Record, bounded bool) (*request, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	now := w.opts.now()
	if r.Time.IsZero() {
		r.Time = now
	}
	if r.Node == "" {
		r.Node = w.opts.Node
	}
	if r.ID == "" {
		r.ID = newID(now)
	}
	req := &request{rec: r}
	if !bounded {
		req.done = make(chan error, 1)
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrClosed
	}
	if bounded && len(w.queue) >= w.opts.MaxQueue {
		w.mu.Unlock()
		w.dropped.Add(1)
		return nil, ErrQueueFull
	}
	first := len(w.queue) == 0
	if first {
		w.oldest = time.Now() // the real clock: the committer's timer runs on it
	}
	w.queue = append(w.queue, req)
	hurry := !w.hurry && (!bounded || len(w.queue) >= w.opts.MaxBatch)
	if hurry {
		w.hurry = true
	}
	w.mu.Unlock()
	if first {
		signal(w.wake)
	}
	if hurry {
		signal(w.urgent)
	}
	return req, nil
}

// signal wakes whoever waits on ch (capacity 1), without ever blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// lingerUntil is when the queue should be committed: now when it is empty (nothing to wait
// for), hurried or closed, else SubmitDelay after its oldest record was queued.
func (w *Writer) lingerUntil() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 || w.hurry || w.closed || w.opts.SubmitDelay < 0 {
		return time.Time{}
	}
	return w.oldest.Add(w.opts.SubmitDelay)
}

// take removes up to limit queued requests; last reports that the Writer is closed and
// nothing is left behind them, more that requests are left behind them.
func (w *Writer) take(limit int) (reqs []*request, last, more bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(w.queue), limit)
	reqs = w.queue[:n:n]
	w.queue = w.queue[n:]
	if len(w.queue) == 0 {
		w.queue = nil
		w.hurry = false
	}
	return reqs, w.closed && len(w.queue) == 0, len(w.queue) > 0
}

// Close writes what is queued, signs a last checkpoint and closes the file. Appends after
// Close fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if already {
		<-w.done
		return ErrClosed
	}
	signal(w.wake)
	signal(w.urgent)
	<-w.done
	closeExporters(w.opts.Exporters, w.opts.ExportShutdown)
	return w.err
}
