package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"testing"
)

// FuzzVerifyLine feeds arbitrary bytes to the line parser, the chain verifier and the tail
// scanner of recovery: none may panic, and where the verifier finds an intact chain the
// scanner must find the same head.
func FuzzVerifyLine(f *testing.F) {
	dir := f.TempDir()
	opts := testOptions(dir)
	opts.CheckpointEvery = 2
	w := open(f, opts)
	appendN(f, w, 0, 5)
	closeWriter(f, w)
	appendBytes(f, opts.Path, []byte(`{"v":1,"seq":9,"pr`))
	closeWriter(f, open(f, opts))
	log, err := os.ReadFile(opts.Path)
	if err != nil {
		f.Fatal(err)
	}
	pub := publicKey(f, dir)
	f.Add(log)
	for _, l := range bytes.SplitAfter(log, []byte{'\n'}) {
		f.Add(l)
	}
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"v":1,"seq":1,"prev":"` + genesis + `","id":"x","time":"t","kind":"k","torn":{"offset":-1}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		parseLine(bytes.TrimSuffix(data, []byte{'\n'}))
		for _, key := range []ed25519.PublicKey{nil, pub} {
			v := newChainVerifier(key)
			if err := v.read(context.Background(), "fuzz", bytes.NewReader(data), func(int64) {}); err != nil {
				t.Fatalf("read from memory failed: %v", err)
			}
			rep := v.report()
			tl, err := scanTail(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("scanTail: %v", err)
			}
			if rep.Failure != nil || rep.Records == 0 {
				continue
			}
			if tl.last == nil || tl.last.Seq != rep.LastSeq || tl.hash != rep.Head || tl.torn != nil {
				t.Fatalf("verify ends at seq %d %s, recovery at %+v", rep.LastSeq, rep.Head, tl)
			}
		}
	})
}
