package audit

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestChainContinuesAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 4096
	w := open(t, opts)
	rs := appendN(t, w, 0, 300)
	closeWriter(t, w)
	for i := 1; i < len(rs); i++ {
		if rs[i].Seq <= rs[i-1].Seq {
			t.Fatalf("receipt %d seq %d after %d", i, rs[i].Seq, rs[i-1].Seq)
		}
	}
	rotated, err := rotatedFiles(opts.Path)
	if err != nil || len(rotated) < 5 {
		t.Fatalf("%d rotated files (%v)", len(rotated), err)
	}
	files := append([]string{}, opts.Path)
	for i := len(rotated) - 1; i >= 0; i-- {
		files = append(files, rotated[i].path)
	}
	rep := mustVerify(t, publicKey(t, dir), files...)
	if len(rep.Files) != len(rotated)+1 || rep.Files[len(rep.Files)-1].Path != opts.Path {
		t.Fatalf("files in chain order: %+v", rep.Files)
	}
	// Each file's first line chains from the previous file's last line, which is a checkpoint.
	chain := append(rotated, rotatedFile{path: opts.Path})
	for i := 1; i < len(chain); i++ {
		prev, cur := lines(t, chain[i-1].path), lines(t, chain[i].path)
		last := bytes.TrimSuffix(prev[len(prev)-1], []byte{'\n'})
		first, err := ParseRecord(bytes.TrimSuffix(cur[0], []byte{'\n'}))
		if err != nil {
			t.Fatal(err)
		}
		if first.Prev != hashLine(last) {
			t.Fatalf("%s does not chain from %s", chain[i].path, chain[i-1].path)
		}
		if lastRec, _ := ParseRecord(last); lastRec.Kind != KindCheckpoint {
			t.Fatalf("%s ends with a %s record, want a checkpoint", chain[i-1].path, lastRec.Kind)
		}
		if first.Kind != KindSystem || !strings.Contains(first.Message, "rotated") {
			t.Fatalf("%s starts with %+v", chain[i].path, first)
		}
	}
	if rotated[0].firstSeq != 1 || rotatedName(opts.Path, 1) != rotated[0].path {
		t.Fatalf("first rotated file %+v", rotated[0])
	}
}

func TestChainContinuesAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	var last uint64
	for round := range 3 {
		w := open(t, opts)
		rs := appendN(t, w, round*10, 10)
		if round > 0 && rs[0].Seq != last+2 { // the checkpoint written at Close sits between
			t.Fatalf("round %d starts at seq %d after %d", round, rs[0].Seq, last)
		}
		last = rs[len(rs)-1].Seq
		closeWriter(t, w)
	}
	rep := mustVerify(t, publicKey(t, dir), opts.Path)
	if rep.Records != 33 || rep.Checkpoints != 3 {
		t.Fatalf("report %+v", rep)
	}
}

func TestChainContinuesAcrossReopenAfterRotation(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 50)
	closeWriter(t, w)
	opts.MaxBytes = -1
	w = open(t, opts)
	appendN(t, w, 50, 50)
	closeWriter(t, w)
	mustVerify(t, publicKey(t, dir), logFiles(t, dir)...)
}

func TestRetentionKeepsMaxFiles(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	opts.MaxFiles = 2
	w := open(t, opts)
	appendN(t, w, 0, 300)
	closeWriter(t, w)
	rotated, err := rotatedFiles(opts.Path)
	if err != nil || len(rotated) != 2 {
		t.Fatalf("%d rotated files kept (%v), want 2", len(rotated), err)
	}
	rep := mustVerify(t, publicKey(t, dir), logFiles(t, dir)...)
	if rep.FromGenesis || rep.FirstSeq != rotated[0].firstSeq {
		t.Fatalf("chain starts at %d (genesis %v), want %d", rep.FirstSeq, rep.FromGenesis, rotated[0].firstSeq)
	}
	first := records(t, rotated[1].path)[0]
	if !strings.Contains(first.Message, "retention removed audit-") {
		t.Fatalf("rotation record %q does not name what retention removed", first.Message)
	}
}

func TestRotationByAge(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxAge = time.Hour
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	w := open(t, opts)
	appendN(t, w, 0, 5)
	mu.Lock()
	now = now.Add(59 * time.Minute)
	mu.Unlock()
	appendN(t, w, 5, 5)
	if rotated, _ := rotatedFiles(opts.Path); len(rotated) != 0 {
		t.Fatalf("rotated before MaxAge")
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	appendN(t, w, 10, 5)
	closeWriter(t, w)
	rotated, _ := rotatedFiles(opts.Path)
	if len(rotated) != 1 {
		t.Fatalf("%d rotated files, want 1", len(rotated))
	}
	mustVerify(t, publicKey(t, dir), logFiles(t, dir)...)
}

// A crash between the rename of a rotation and the creation of the new file leaves no
// current file: the chain continues from the newest rotated one.
func TestChainContinuesWhenCurrentFileIsMissing(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 100)
	closeWriter(t, w)
	rotated, _ := rotatedFiles(opts.Path)
	if err := os.Rename(opts.Path, rotatedName(opts.Path, records(t, opts.Path)[0].Seq)); err != nil {
		t.Fatal(err)
	}
	opts.MaxBytes = -1
	w = open(t, opts)
	rs := appendN(t, w, 100, 3)
	closeWriter(t, w)
	if got, _ := rotatedFiles(opts.Path); len(got) != len(rotated)+1 {
		t.Fatalf("%d rotated files, want %d", len(got), len(rotated)+1)
	}
	rep := mustVerify(t, publicKey(t, dir), logFiles(t, dir)...)
	if rep.LastSeq != rs[2].Seq+1 || !rep.FromGenesis {
		t.Fatalf("report %+v", rep)
	}
}
