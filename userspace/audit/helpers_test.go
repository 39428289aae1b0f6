package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// testOptions are Options for a log in dir that never rotates or checkpoints on its own.
func testOptions(dir string) Options {
	return Options{
		Path:            filepath.Join(dir, "audit.jsonl"),
		Node:            "node-a",
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBytes:        -1,
		MaxAge:          -1,
		CheckpointEvery: 1 << 30,
	}
}

func open(t testing.TB, opts Options) *Writer {
	t.Helper()
	w, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return w
}

func closeWriter(t testing.TB, w *Writer) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// sample is the i-th test record.
func sample(i int) Record {
	return Record{Kind: KindRequest, AgentID: fmt.Sprintf("agent-%d", i%7), Verdict: "ALLOW", Destination: "10.0.0.1:443",
		Protocol: "http/1.1", Method: "POST", Path: fmt.Sprintf("/v1/items/%d", i), Status: 200, BytesIn: int64(i), BytesOut: 42}
}

func appendN(t testing.TB, w *Writer, from, n int) []Receipt {
	t.Helper()
	var rs []Receipt
	for i := from; i < from+n; i++ {
		r, err := w.Append(context.Background(), sample(i))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// logFiles lists the current and rotated files of the log in dir, in directory order.
func logFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "audit*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func publicKey(t testing.TB, dir string) ed25519.PublicKey {
	t.Helper()
	pub, err := ReadPublicKey(filepath.Join(dir, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func verify(t testing.TB, key ed25519.PublicKey, files ...string) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), files, VerifyOptions{Key: key})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func mustVerify(t testing.TB, key ed25519.PublicKey, files ...string) *Report {
	t.Helper()
	rep := verify(t, key, files...)
	if rep.Failure != nil {
		t.Fatalf("verify: %s", rep.Failure)
	}
	return rep
}

// mustFail verifies and wants the first failure at seq, with a reason containing want.
func mustFail(t testing.TB, key ed25519.PublicKey, seq uint64, want string, files ...string) *Failure {
	t.Helper()
	rep := verify(t, key, files...)
	if rep.Failure == nil {
		t.Fatalf("verify passed, want a failure at seq %d", seq)
	}
	if rep.Failure.Seq != seq || !strings.Contains(rep.Failure.Reason, want) {
		t.Fatalf("failure %s, want seq %d and %q", rep.Failure, seq, want)
	}
	return rep.Failure
}

// lines reads a file as lines, each with its newline when it had one.
func lines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ls := bytes.SplitAfter(data, []byte{'\n'})
	if len(ls[len(ls)-1]) == 0 {
		ls = ls[:len(ls)-1]
	}
	return ls
}

func writeLines(t testing.TB, path string, ls [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// records decodes every line of path that is a record.
func records(t testing.TB, path string) []Record {
	t.Helper()
	var rs []Record
	for _, l := range lines(t, path) {
		if r, err := ParseRecord(bytes.TrimSuffix(l, []byte{'\n'})); err == nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// indexOfSeq is the index in ls of the line with seq.
func indexOfSeq(t testing.TB, ls [][]byte, seq uint64) int {
	t.Helper()
	for i, l := range ls {
		var h struct{ Seq uint64 }
		if json.Unmarshal(l, &h) == nil && h.Seq == seq {
			return i
		}
	}
	t.Fatalf("no line with seq %d", seq)
	return -1
}

// appendParallel appends n records from 64 goroutines.
func appendParallel(t testing.TB, w *Writer, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				if err := w.Write(sample(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
