package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentWritersProduceOneChainWithoutLossOrDuplicate(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.CheckpointEvery = 1000
	opts.MaxBytes = 512 << 10 // a few rotations under load too
	w := open(t, opts)
	const writers, each = 32, 500
	receipts := make([][]Receipt, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				r, err := w.Append(context.Background(), sample(g*each+i))
				if err != nil {
					t.Errorf("writer %d: %v", g, err)
					return
				}
				receipts[g] = append(receipts[g], r)
			}
		})
	}
	wg.Wait()
	closeWriter(t, w)

	seqs := map[uint64]string{}
	for g, rs := range receipts {
		for i, r := range rs {
			if i > 0 && r.Seq <= rs[i-1].Seq {
				t.Fatalf("writer %d: seq %d after %d", g, r.Seq, rs[i-1].Seq)
			}
			if _, dup := seqs[r.Seq]; dup {
				t.Fatalf("seq %d acknowledged twice", r.Seq)
			}
			seqs[r.Seq] = r.ID
		}
	}
	if len(seqs) != writers*each {
		t.Fatalf("%d receipts, want %d", len(seqs), writers*each)
	}
	files := logFiles(t, dir)
	rep := mustVerify(t, publicKey(t, dir), files...)
	found := 0
	for _, f := range files {
		for _, r := range records(t, f) {
			if id, ok := seqs[r.Seq]; ok {
				if id != r.ID {
					t.Fatalf("seq %d holds id %s, acknowledged as %s", r.Seq, r.ID, id)
				}
				found++
			}
		}
	}
	if found != writers*each {
		t.Fatalf("%d acknowledged records in the log, want %d", found, writers*each)
	}
	if rep.Checkpoints < writers*each/1000 {
		t.Fatalf("%d checkpoints", rep.Checkpoints)
	}
}

func TestAppendAfterCloseFails(t *testing.T) {
	w := open(t, testOptions(t.TempDir()))
	closeWriter(t, w)
	if _, err := w.Append(context.Background(), sample(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}

func TestAppendRefusesRecordsOnlyTheLogWrites(t *testing.T) {
	w := open(t, testOptions(t.TempDir()))
	defer closeWriter(t, w)
	for _, r := range []Record{
		{Kind: KindCheckpoint},
		{Kind: KindSystem, Torn: &Torn{}},
		{Kind: KindSystem, Checkpoint: &Checkpoint{}},
		{},
		{Kind: "note"},
		{Kind: KindMessage, Channel: "side_channel"},
		{Kind: KindFlow, Transport: "sctp"},
	} {
		if _, err := w.Append(context.Background(), r); err == nil {
			t.Errorf("append %+v succeeded", r)
		}
	}
}

func TestAppendFillsInAndOverridesChainFields(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	r := sample(0)
	r.V, r.Seq, r.Prev = 9, 77, "bogus"
	got, err := w.Append(context.Background(), r)
	closeWriter(t, w)
	if err != nil || got.Seq != 1 {
		t.Fatalf("receipt %+v, %v", got, err)
	}
	rec := records(t, opts.Path)[0]
	if rec.V != SchemaVersion || rec.Seq != 1 || rec.Prev != genesis || rec.Node != "node-a" || rec.ID != got.ID || rec.Time.IsZero() {
		t.Fatalf("record %+v", rec)
	}
}

func TestAppendReturnsWhenContextEnds(t *testing.T) {
	w := open(t, testOptions(t.TempDir()))
	defer closeWriter(t, w)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The record may or may not be written; Append must not wait for it.
	done := make(chan struct{})
	go func() {
		w.Append(ctx, sample(0))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Append ignored its context")
	}
}

func TestCheckpointEveryNRecords(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.CheckpointEvery = 10
	w := open(t, opts)
	appendN(t, w, 0, 35)
	closeWriter(t, w)
	var at []uint64
	for _, r := range records(t, opts.Path) {
		if r.Kind == KindCheckpoint {
			at = append(at, r.Seq)
		}
	}
	// 10 records then a checkpoint, three times; 5 records and the checkpoint of Close.
	if want := []uint64{11, 22, 33, 39}; !equal(at, want) {
		t.Fatalf("checkpoints at %v, want %v", at, want)
	}
	mustVerify(t, publicKey(t, dir), opts.Path)
}

func TestCheckpointAfterInterval(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.CheckpointInterval = 40 * time.Millisecond
	w := open(t, opts)
	defer closeWriter(t, w)
	appendN(t, w, 0, 1)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rs := records(t, opts.Path)
		if len(rs) == 2 && rs[1].Kind == KindCheckpoint {
			rep := mustVerify(t, publicKey(t, dir), opts.Path)
			if rep.SignedSeq != 2 {
				t.Fatalf("signed up to %d", rep.SignedSeq)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no checkpoint after the interval")
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSubmitReturnsBeforeDurabilityAndDropsPastTheQueueBound(t *testing.T) {
	dir := t.TempDir()
	// A long checkpoint interval keeps the committer asleep until something signals it.
	w, err := Open(context.Background(), Options{Path: filepath.Join(dir, "audit.jsonl"), Node: "n", KeyDir: dir,
		MaxQueue: 1, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// One record queued without waking the committer fills the bound of 1.
	now := time.Now()
	w.mu.Lock()
	w.queue = append(w.queue, &request{rec: Record{Kind: KindFlow, Time: now, Node: "n", ID: newID(now)}})
	w.mu.Unlock()
	if err := w.Submit(Record{Kind: KindFlow}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Submit past the bound: %v, want ErrQueueFull", err)
	}
	if w.Dropped() != 1 {
		t.Fatalf("Dropped() = %d, want 1", w.Dropped())
	}
	signal(w.wake)
	for i := 0; i < 100; i++ {
		for w.Submit(Record{Kind: KindFlow, Reason: fmt.Sprint(i)}) != nil {
			time.Sleep(time.Millisecond)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), []string{filepath.Join(dir, "audit.jsonl")}, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failure != nil {
		t.Fatalf("chain after Submit: %+v", rep.Failure)
	}
}

// Submitted records linger SubmitDelay so that they share one write and fsync; a record someone
// waits for commits at once and takes every record queued before it along.
func TestSubmittedRecordsShareOneCommitAndAWaiterCommitsAtOnce(t *testing.T) {
	var fsyncs atomic.Int64
	opts := testOptions(t.TempDir())
	opts.SubmitDelay = 300 * time.Millisecond
	opts.OnFsync = func(time.Duration) { fsyncs.Add(1) }
	w := open(t, opts)
	defer closeWriter(t, w)

	start := time.Now()
	for i := range 20 {
		if err := w.Submit(sample(i)); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if n := fsyncs.Load(); n != 0 {
		t.Fatalf("%d fsyncs right after 20 submits, want none before SubmitDelay", n)
	}
	for fsyncs.Load() == 0 && time.Since(start) < 5*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	if waited := time.Since(start); waited < opts.SubmitDelay {
		t.Fatalf("submitted records committed after %v, before SubmitDelay %v", waited, opts.SubmitDelay)
	}
	if n := fsyncs.Load(); n != 1 {
		t.Fatalf("20 submitted records took %d fsyncs, want 1", n)
	}

	for i := 20; i < 25; i++ {
		if err := w.Submit(sample(i)); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	start = time.Now()
	rc, err := w.Append(context.Background(), sample(25))
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if waited := time.Since(start); waited >= opts.SubmitDelay {
		t.Fatalf("Append waited %v: it lingered with the submitted records", waited)
	}
	if rc.Seq != 26 {
		t.Fatalf("Append's record has seq %d, want 26 (after the 25 submitted before it)", rc.Seq)
	}
	if n := fsyncs.Load(); n != 2 {
		t.Fatalf("%d fsyncs after the Append, want 2 (the submitted ones went with it)", n)
	}
}

// A record too long for the log is refused alone: its writer gets the error (a submitted one is
// counted as dropped), and the records around it are committed.
func TestOversizeRecordIsRefusedAloneAndTheLogGoesOn(t *testing.T) {
	opts := testOptions(t.TempDir())
	w := open(t, opts)
	huge := sample(1)
	huge.Message = strings.Repeat("x", MaxRecordBytes)
	if err := w.Submit(huge); err != nil {
		t.Fatalf("submit: %v (refused when committed, not when queued)", err)
	}
	if _, err := w.Append(context.Background(), huge); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("append of a %d-byte message: %v, want an error naming the limit", len(huge.Message), err)
	}
	appendN(t, w, 2, 3)
	if w.Dropped() != 2 {
		t.Fatalf("Dropped() = %d, want 2 (the submitted and the appended oversize records)", w.Dropped())
	}
	closeWriter(t, w)
	got := records(t, opts.Path)
	if len(got) != 4 { // three records and the closing checkpoint
		t.Fatalf("%d records in the log, want 4: %+v", len(got), got)
	}
	mustVerify(t, publicKey(t, filepath.Dir(opts.Path)), opts.Path)
}
