package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Sink delivers exported lines somewhere: stdout, a webhook. An Exporter calls Send from one
// goroutine at a time, in chain order.
type Sink interface {
	// Send delivers lines, each one record's line exactly as written to the log, without its
	// newline. An error made with Retryable is tried again after a backoff; any other error gives
	// the lines up. Send returns when ctx ends.
	Send(ctx context.Context, lines [][]byte) error
}

// retryable marks a Send error worth trying again.
type retryable struct {
	err   error
	after time.Duration
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// Retryable marks err, returned by a Sink's Send, as one that may pass if tried again: after
// after when it is positive (a server's Retry-After), else after the exporter's backoff.
func Retryable(err error, after time.Duration) error {
	return &retryable{err: err, after: after}
}

// ExportOptions configure an Exporter.
type ExportOptions struct {
	Name   string        // the exporter's name in metrics and logs: stdout, webhook
	Batch  int           // most lines per Send; default 256
	Queue  int           // most lines waiting to be sent; default 10000; when full, new lines are dropped
	Flush  time.Duration // how long a partial batch waits for more lines; 0 sends at once
	Logger *slog.Logger

	MinBackoff time.Duration // first retry delay; default 100ms
	MaxBackoff time.Duration // longest retry delay, Retry-After included; default 30s
}

// Defaults of ExportOptions and of Options.ExportShutdown.
const (
	DefaultExportBatch      = 256
	DefaultExportQueue      = 10000
	DefaultExportMinBackoff = 100 * time.Millisecond
	DefaultExportMaxBackoff = 30 * time.Second
	DefaultExportShutdown   = 5 * time.Second
)

// ExportStats are an exporter's counts since it started.
type ExportStats struct {
	Name           string
	Queued         int    // lines waiting now (a batch being sent is not counted)
	Sent           uint64 // lines delivered
	Batches        uint64 // batches delivered
	Failures       uint64 // failed Send attempts, retried or not
	DroppedFull    uint64 // lines dropped because the queue was full
	DroppedGivenUp uint64 // lines given up: a Send error that is not retried, or the shutdown deadline
}

// Exporter hands the log's committed lines to a Sink without ever blocking the Writer: the
// committer puts the lines of each fsynced batch into the exporter's bounded queue, and the
// exporter's own goroutine sends them in batches, retrying with exponential backoff and
// jitter. Lines that find the queue full are dropped and counted. Give exporters to Open in
// Options.Exporters; the Writer starts them and stops them at Close.
type Exporter struct {
	sink Sink
	opts ExportOptions
	log  *slog.Logger

	mu      sync.Mutex
	queue   [][]byte
	closing bool

	wake   chan struct{} // capacity 1
	ctx    context.Context
	cancel context.CancelFunc // at the shutdown deadline
	done   chan struct{}      // closed when the goroutine has ended
	start  sync.Once

	sent, batches, failures, full, givenUp atomic.Uint64
}

// NewExporter makes an exporter that delivers to sink. It starts when the Writer it is given to
// opens.
func NewExporter(sink Sink, opts ExportOptions) *Exporter {
	if opts.Batch <= 0 {
		opts.Batch = DefaultExportBatch
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultExportQueue
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultExportMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultExportMaxBackoff
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Exporter{
		sink: sink, opts: opts, log: opts.Logger.With("exporter", opts.Name),
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
}

// Name is the exporter's name.
func (e *Exporter) Name() string { return e.opts.Name }

// Stats are the exporter's counts.
func (e *Exporter) Stats() ExportStats {
	e.mu.Lock()
	queued := len(e.queue)
	e.mu.Unlock()
	return ExportStats{
		Name: e.opts.Name, Queued: queued,
		Sent: e.sent.Load(), Batches: e.batches.Load(), Failures: e.failures.Load(),
		DroppedFull: e.full.Load(), DroppedGivenUp: e.givenUp.Load(),
	}
}

// offer queues lines, as many as the queue has room for, and returns at once. The lines are
// shared with other exporters and never changed.
func (e *Exporter) offer(lines [][]byte) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return
	}
	n := min(len(lines), e.opts.Queue-len(e.queue))
	e.queue = append(e.queue, lines[:n]...)
	e.mu.Unlock()
	if dropped := len(lines) - n; dropped > 0 {
		e.full.Add(uint64(dropped))
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Exporter) run() {
	e.start.Do(func() { go e.loop() })
}

func (e *Exporter) loop() {
	defer close(e.done)
	for {
		lines, ok := e.next()
		if !ok {
			break
		}
		e.deliver(lines)
	}
	e.mu.Lock()
	left := len(e.queue)
	e.queue = nil
	e.mu.Unlock()
	if left > 0 {
		e.givenUp.Add(uint64(left))
		e.log.Warn("audit export: shutdown deadline passed, queued records dropped", "records", left)
	}
}

// next waits for a batch: Batch lines, or fewer once Flush has passed since the wait began,
// or whatever is left when closing. It returns false when closed and empty, or at the
// shutdown deadline.
func (e *Exporter) next() ([][]byte, bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	due := e.opts.Flush <= 0
	for {
		if e.ctx.Err() != nil {
			return nil, false
		}
		e.mu.Lock()
		n := len(e.queue)
		if n >= e.opts.Batch || n > 0 && (due || e.closing) {
			n = min(n, e.opts.Batch)
			lines := e.queue[:n:n]
			e.queue = e.queue[n:]
			e.mu.Unlock()
			return lines, true
		}
		closing := e.closing
		e.mu.Unlock()
		if closing {
			return nil, false
		}
		var fire <-chan time.Time
		if n > 0 {
			if timer == nil {
				timer = time.NewTimer(e.opts.Flush)
			}
			fire = timer.C
		}
		select {
		case <-e.wake:
		case <-fire:
			due = true
		case <-e.ctx.Done():
		}
	}
}

// deliver sends one batch, retrying what may pass later until it does or the shutdown deadline.
func (e *Exporter) deliver(lines [][]byte) {
	n := uint64(len(lines))
	for attempt := 0; ; attempt++ {
		err := e.sink.Send(e.ctx, lines)
		if err == nil {
			e.sent.Add(n)
			e.batches.Add(1)
			if attempt > 0 {
				e.log.Info("audit export delivered after retries", "records", n, "attempts", attempt+1)
			}
			return
		}
		e.failures.Add(1)
		var r *retryable
		if !errors.As(err, &r) || e.ctx.Err() != nil {
			e.givenUp.Add(n)
			e.log.Warn("audit export: batch given up", "records", n, "attempts", attempt+1, "err", err)
			return
		}
		wait := e.backoff(attempt, r.after)
		if attempt == 0 {
			e.log.Warn("audit export failing, retrying", "records", n, "retry_in", wait, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-e.ctx.Done():
			t.Stop()
			e.givenUp.Add(n)
			e.log.Warn("audit export: shutdown deadline passed while retrying, batch given up", "records", n, "attempts", attempt+1)
			return
		}
	}
}

// backoff is the wait before retry attempt+1: the server's Retry-After when it gave one,
// else MinBackoff doubled per attempt with jitter (between half and all of it); never more
// than MaxBackoff.
func (e *Exporter) backoff(attempt int, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, e.opts.MaxBackoff)
	}
	d := e.opts.MaxBackoff
	if attempt < 32 {
		d = min(e.opts.MinBackoff<<attempt, e.opts.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// close stops taking lines, sends what is queued and returns when all is sent or ctx ends;
// then what is left is dropped and counted, and a Send in flight is cancelled.
func (e *Exporter) close(ctx context.Context) {
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	e.run() // an exporter whose Writer never started it still ends
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel()
		// A Sink honours ctx; one that does not keeps its goroutine, but not Close.
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-e.done:
		case <-t.C:
			e.log.Error("audit export: sink did not return after the shutdown deadline")
		}
	}
	e.cancel()
}

// closeExporters closes exps in parallel, all within timeout.
func closeExporters(exps []*Exporter, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range exps {
		wg.Go(func() { e.close(ctx) })
	}
	wg.Wait()
}

// ExportStats are the counts of the Writer's exporters, in the order they were given.
func (w *Writer) ExportStats() []ExportStats {
	out := make([]ExportStats, len(w.opts.Exporters))
	for i, e := range w.opts.Exporters {
		out[i] = e.Stats()
	}
	return out
}

// export hands the lines of buf, a batch as written and fsynced, to the exporters. buf is
// copied once; the newline that completes a torn write before a seal is no line.
func (w *Writer) export(buf []byte) {
	if len(w.opts.Exporters) == 0 {
		return
	}
	buf = bytes.Clone(buf)
	var lines [][]byte
	for line := range bytes.SplitSeq(buf, []byte{'\n'}) {
		if len(line) > 0 {
			lines = append(lines, line[:len(line):len(line)])
		}
	}
	for _, e := range w.opts.Exporters {
		e.offer(lines)
	}
}

// errNoSink is returned for an exporter made without a sink.
var errNoSink = errors.New("audit exporter without a sink")

func checkExporters(exps []*Exporter) error {
	for i, e := range exps {
		if e == nil || e.sink == nil {
			return fmt.Errorf("audit exporter %d: %w", i, errNoSink)
		}
	}
	return nil
}
