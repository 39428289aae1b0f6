package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	mrand "math/rand/v2"
	"os"
	"testing"
)

// writeLog writes n records (a checkpoint every 100) in a fresh directory and returns it.
func writeLog(t *testing.T, n int) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	opts := testOptions(dir)
	opts.CheckpointEvery = 100
	w := open(t, opts)
	appendN(t, w, 0, n)
	closeWriter(t, w)
	return dir, opts.Path
}

func TestVerifyPassesIntactLog(t *testing.T) {
	dir, path := writeLog(t, 250)
	rep := mustVerify(t, publicKey(t, dir), path)
	// 250 records, a checkpoint after each 100 and one at Close.
	if rep.Records != 253 || rep.FirstSeq != 1 || rep.LastSeq != 253 || !rep.FromGenesis {
		t.Fatalf("report %+v", rep)
	}
	if rep.Checkpoints != 3 || rep.SignedSeq != 253 || rep.KeyID == "" {
		t.Fatalf("checkpoints %d signed %d key %q", rep.Checkpoints, rep.SignedSeq, rep.KeyID)
	}
}

func TestVerifyReportsEditedFieldAtItsSeq(t *testing.T) {
	dir, path := writeLog(t, 50)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 20)
	edited := bytes.Replace(ls[i], []byte(`"verdict":"ALLOW"`), []byte(`"verdict":"DENY"`), 1)
	if bytes.Equal(edited, ls[i]) {
		t.Fatal("nothing edited")
	}
	ls[i] = edited
	writeLines(t, path, ls)
	f := mustFail(t, publicKey(t, dir), 20, "record changed", path)
	if f.Line != i+1 {
		t.Fatalf("failure at line %d, want %d", f.Line, i+1)
	}
}

func TestVerifyReportsDeletedLineAtItsSeq(t *testing.T) {
	dir, path := writeLog(t, 50)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 20)
	writeLines(t, path, append(ls[:i:i], ls[i+1:]...))
	mustFail(t, publicKey(t, dir), 20, "seq 20 is missing", path)
}

func TestVerifyReportsSwappedLinesAtFirstSeq(t *testing.T) {
	dir, path := writeLog(t, 50)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 20)
	ls[i], ls[i+1] = ls[i+1], ls[i]
	writeLines(t, path, ls)
	mustFail(t, publicKey(t, dir), 20, "missing", path)
}

func TestVerifyReportsDuplicatedLine(t *testing.T) {
	dir, path := writeLog(t, 50)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 20)
	writeLines(t, path, append(ls[:i+1:i+1], ls[i:]...))
	mustFail(t, publicKey(t, dir), 21, "comes again", path)
}

func TestVerifyReportsTruncatedFile(t *testing.T) {
	dir, path := writeLog(t, 50)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 30)
	ls[i] = ls[i][:len(ls[i])/2]
	writeLines(t, path, ls[:i+1])
	mustFail(t, publicKey(t, dir), 30, "no seal follows", path)
}

func TestVerifyReportsLineMadeInvalid(t *testing.T) {
	dir, path := writeLog(t, 50)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 20)
	ls[i] = append([]byte("x"), ls[i]...)
	writeLines(t, path, ls)
	mustFail(t, publicKey(t, dir), 20, "does not seal them", path)
}

func TestVerifyReportsFirstRecordNotFromGenesis(t *testing.T) {
	dir, path := writeLog(t, 5)
	ls := lines(t, path)
	ls[0] = bytes.Replace(ls[0], []byte(`"prev":"0000`), []byte(`"prev":"1111`), 1)
	writeLines(t, path, ls)
	mustFail(t, publicKey(t, dir), 1, "genesis", path)
}

// An attacker who rewrites a record and recomputes every later prev keeps the chain
// consistent, but cannot sign the next checkpoint.
func TestVerifyReportsRewrittenChainAtNextCheckpoint(t *testing.T) {
	dir, path := writeLog(t, 250)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 150)
	ls[i] = bytes.Replace(ls[i], []byte(`"verdict":"ALLOW"`), []byte(`"verdict":"DENY"`), 1)
	rechain(t, ls, i, nil)
	writeLines(t, path, ls)
	// The checkpoint at seq 101 is the last good one: from 102 on, nothing can be trusted.
	f := mustFail(t, publicKey(t, dir), 102, "signature does not verify", path)
	if f.Line != indexOfSeq(t, ls, 102)+1 {
		t.Fatalf("failure at line %d", f.Line)
	}
	// Without the key, the rewritten chain is consistent: the key is what makes it evident.
	mustVerify(t, nil, path)
}

func TestVerifyReportsCheckpointSignedByAnotherKey(t *testing.T) {
	dir, path := writeLog(t, 250)
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 150)
	ls[i] = bytes.Replace(ls[i], []byte(`"verdict":"ALLOW"`), []byte(`"verdict":"DENY"`), 1)
	rechain(t, ls, i, other)
	writeLines(t, path, ls)
	mustFail(t, publicKey(t, dir), 102, "not by the given key", path)
	// Claiming the node's key id does not help either.
	ls = lines(t, path)
	id := []byte(`"key_id":"` + KeyID(publicKey(t, dir)) + `"`)
	forged := []byte(`"key_id":"` + KeyID(other.Public().(ed25519.PublicKey)) + `"`)
	for j := range ls {
		ls[j] = bytes.Replace(ls[j], forged, id, 1)
	}
	rechain(t, ls, 0, nil)
	writeLines(t, path, ls)
	mustFail(t, publicKey(t, dir), 102, "signature does not verify", path)
}

func TestVerifyReportsTamperedSignature(t *testing.T) {
	dir, path := writeLog(t, 250)
	ls := lines(t, path)
	i := indexOfSeq(t, ls, 202) // the second checkpoint
	var r Record
	if err := json.Unmarshal(ls[i], &r); err != nil || r.Kind != KindCheckpoint {
		t.Fatalf("seq 202 is %q (%v)", r.Kind, err)
	}
	sig := []byte(r.Checkpoint.Sig)
	sig[5] ^= 1
	ls[i] = bytes.Replace(ls[i], []byte(r.Checkpoint.Sig), sig, 1)
	rechain(t, ls, i, nil)
	writeLines(t, path, ls)
	mustFail(t, publicKey(t, dir), 102, "signature does not verify", path)
}

// rechain recomputes prev from line i on, as a forger would. When key is set it also re-signs
// the checkpoints with it; otherwise it only updates their head_hash, leaving signatures as is.
func rechain(t *testing.T, ls [][]byte, i int, key ed25519.PrivateKey) {
	t.Helper()
	for j := max(i, 1); j < len(ls); j++ {
		var r Record
		if err := json.Unmarshal(ls[j], &r); err != nil {
			t.Fatal(err)
		}
		r.Prev = hashLine(bytes.TrimSuffix(ls[j-1], []byte{'\n'}))
		if r.Checkpoint != nil {
			h := head{r.Seq - 1, r.Prev}
			if key != nil {
				r.Checkpoint = signCheckpoint(key, KeyID(key.Public().(ed25519.PublicKey)), r.Node, h)
			} else {
				r.Checkpoint.HeadHash = r.Prev
			}
		}
		body, err := encodeBody(r)
		if err != nil {
			t.Fatal(err)
		}
		ls[j], _ = appendLine(nil, r.Seq, r.Prev, body)
	}
}

func TestVerifyAcceptsFilesInAnyOrder(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 200)
	closeWriter(t, w)
	files := logFiles(t, dir)
	if len(files) < 4 {
		t.Fatalf("%d files", len(files))
	}
	mrand.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	rep := mustVerify(t, publicKey(t, dir), files...)
	if len(rep.Files) != len(files) || !rep.FromGenesis {
		t.Fatalf("report %+v", rep)
	}
}

func TestVerifyReportsRemovedMiddleRotatedFile(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 200)
	closeWriter(t, w)
	files, err := rotatedFiles(opts.Path)
	if err != nil || len(files) < 3 {
		t.Fatalf("%d rotated files (%v)", len(files), err)
	}
	removed := files[1]
	if err := os.Remove(removed.path); err != nil {
		t.Fatal(err)
	}
	mustFail(t, publicKey(t, dir), removed.firstSeq, "missing", logFiles(t, dir)...)
}

func TestVerifyReportsTruncatedRotatedFile(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 200)
	closeWriter(t, w)
	files, _ := rotatedFiles(opts.Path)
	ls := lines(t, files[1].path)
	writeLines(t, files[1].path, ls[:len(ls)-2]) // whole lines: the chain alone cannot tell
	firstRemoved := files[2].firstSeq - 2
	mustFail(t, publicKey(t, dir), firstRemoved, "missing", logFiles(t, dir)...)
}
