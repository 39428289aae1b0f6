package audit

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func appendBytes(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestTornLastLineIsSealedOnReopen(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 10) // seq 1..10, checkpoint 11 at Close
	closeWriter(t, w)
	st, _ := os.Stat(opts.Path)
	torn := []byte(`{"v":1,"seq":12,"prev":"8f3a`)
	appendBytes(t, opts.Path, torn)
	key := publicKey(t, dir)
	mustFail(t, key, 12, "no seal follows", opts.Path)

	w = open(t, opts)
	rs := appendN(t, w, 10, 2)
	closeWriter(t, w)
	if rs[0].Seq != 13 {
		t.Fatalf("first record after the seal has seq %d, want 13", rs[0].Seq)
	}
	data, _ := os.ReadFile(opts.Path)
	if !bytes.Contains(data, append(torn, '\n')) {
		t.Fatal("the torn bytes are gone: they must be kept")
	}
	rep := mustVerify(t, key, opts.Path)
	if len(rep.Seals) != 1 {
		t.Fatalf("seals %+v", rep.Seals)
	}
	s := rep.Seals[0]
	if s.Seq != 12 || s.Torn.Offset != st.Size() || s.Torn.Bytes != int64(len(torn))+1 || s.Line != 12 {
		t.Fatalf("seal %+v, want seq 12 at offset %d", s, st.Size())
	}
	seal := records(t, opts.Path)[11]
	if seal.Kind != KindSystem || seal.Seq != 12 || seal.Torn == nil || !strings.Contains(seal.Message, "torn write") {
		t.Fatalf("seal record %+v", seal)
	}
}

func TestTornLinesAfterLastRecordAreSealedTogether(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 3)
	closeWriter(t, w)
	appendBytes(t, opts.Path, []byte("garbage\n\n{\"v\":1,\"se"))
	w = open(t, opts)
	closeWriter(t, w)
	rep := mustVerify(t, publicKey(t, dir), opts.Path)
	if len(rep.Seals) != 1 || rep.Seals[0].Torn.Bytes != int64(len("garbage\n\n{\"v\":1,\"se\n")) {
		t.Fatalf("seals %+v", rep.Seals)
	}
}

func TestCompleteLastLineWithoutNewlineIsKeptAsRecord(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 3)
	closeWriter(t, w)
	data, _ := os.ReadFile(opts.Path)
	os.WriteFile(opts.Path, data[:len(data)-1], 0o600)
	w = open(t, opts)
	rs := appendN(t, w, 3, 1)
	closeWriter(t, w)
	if rs[0].Seq != 5 {
		t.Fatalf("seq %d, want 5", rs[0].Seq)
	}
	if rep := mustVerify(t, publicKey(t, dir), opts.Path); len(rep.Seals) != 0 {
		t.Fatalf("seals %+v", rep.Seals)
	}
}

func TestFileOfOnlyTornBytesIsSealedFromPreviousFile(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 40)
	closeWriter(t, w)
	last := records(t, opts.Path)
	if err := os.Rename(opts.Path, rotatedName(opts.Path, last[0].Seq)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(opts.Path, []byte(`{"v":1,"seq":`), 0o600)
	w = open(t, opts)
	closeWriter(t, w)
	rep := mustVerify(t, publicKey(t, dir), logFiles(t, dir)...)
	if len(rep.Seals) != 1 || rep.Seals[0].Torn.Offset != 0 || rep.Seals[0].Seq != last[len(last)-1].Seq+1 {
		t.Fatalf("seals %+v", rep.Seals)
	}
}

func TestVerifyReportsSealWhoseTornBytesWereRemoved(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 3)
	closeWriter(t, w)
	appendBytes(t, opts.Path, []byte(`{"v":1,"se`))
	w = open(t, opts)
	closeWriter(t, w)
	ls := lines(t, opts.Path)
	i := indexOfSeq(t, ls, 5) // the seal; the torn line is just before it
	writeLines(t, opts.Path, append(ls[:i-1:i-1], ls[i:]...))
	mustFail(t, publicKey(t, dir), 5, "torn bytes were removed", opts.Path)
}

func TestVerifyReportsTornBytesReplacedUnderTheirSeal(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 3)
	closeWriter(t, w)
	appendBytes(t, opts.Path, []byte(`{"v":1,"se`))
	w = open(t, opts)
	closeWriter(t, w)
	ls := lines(t, opts.Path)
	i := indexOfSeq(t, ls, 5)
	ls[i-1] = []byte("{\"v\":1,\"sX\n")
	writeLines(t, opts.Path, ls)
	mustFail(t, publicKey(t, dir), 5, "does not seal them", opts.Path)
}
