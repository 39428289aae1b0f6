package audit

import (
	"bufio"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Key checks checkpoint signatures. Nil checks only that checkpoints cover the record
	// before them; the report then has no KeyID.
	Key ed25519.PublicKey
	// Progress, when set, is called every ProgressEvery records (default 100,000).
	Progress      func(Progress)
	ProgressEvery int64
}

// Progress is how far Verify has come.
type Progress struct {
	Records, Bytes, TotalBytes int64
}

// Failure is the first place the log is not what its writer wrote.
type Failure struct {
	File   string
	Line   int   // 1-based
	Offset int64 // of the line's first byte
	Seq    uint64
	Reason string
}

func (f *Failure) String() string {
	return fmt.Sprintf("%s:%d (offset %d): seq %d: %s", f.File, f.Line, f.Offset, f.Seq, f.Reason)
}

// FileSummary is one verified file.
type FileSummary struct {
	Path              string
	FirstSeq, LastSeq uint64
	Records, Bytes    int64
}

// Seal is a torn write found sealed by the system record at Seq.
type Seal struct {
	File string
	Line int // line of the torn bytes
	Seq  uint64
	Torn Torn
}

// Report is the outcome of Verify. Failure is nil when the log is intact.
type Report struct {
	Files             []FileSummary // in chain order
	Records           int64
	FirstSeq, LastSeq uint64
	Head              string // chain hash of the last record
	FromGenesis       bool   // the chain starts at seq 1; else it starts at FirstSeq (older files not given)
	Checkpoints       int64
	KeyID             string // the key that verified the checkpoints; empty when none was given
	SignedSeq         uint64 // last seq covered by a checkpoint: later records carry no signature yet
	Seals             []Seal
	Failure           *Failure
}

// Verify checks audit log files, given in any order: every line is a record (or torn bytes
// sealed by a system record), seqs continue without gap or repeat across files, every prev is
// the hash of the line before it, and every checkpoint covers the record before it and is
// signed by opts.Key. It stops at the first failure, which the report describes. The error is
// for files that cannot be read.
func Verify(ctx context.Context, paths []string, opts VerifyOptions) (*Report, error) {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 100_000
	}
	files, total, err := orderFiles(paths)
	if err != nil {
		return nil, err
	}
	v := newChainVerifier(opts.Key)
	p := Progress{TotalBytes: total}
	for _, f := range files {
		if f.firstSeq == 0 {
			v.rep.Failure = &Failure{File: f.path, Line: 1, Seq: v.prev.seq + 1, Reason: fmt.Sprintf("the file's %d bytes hold no record", f.size)}
			break
		}
		if err := v.verifyFile(ctx, f.path, &p, opts); err != nil {
			return nil, err
		}
		if v.rep.Failure != nil {
			break
		}
	}
	return v.report(), nil
}

type orderedFile struct {
	path     string
	firstSeq uint64 // 0 when the file holds no record
	size     int64
}

// orderFiles sorts non-empty files by their first seq.
func orderFiles(paths []string) ([]orderedFile, int64, error) {
	var files []orderedFile
	var total int64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, 0, fmt.Errorf("open audit log: %w", err)
		}
		st, err := f.Stat()
		var first *lineHeader
		if err == nil {
			first, err = scanFirst(f)
		}
		f.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("read audit log %s: %w", p, err)
		}
		if st.Size() == 0 {
			continue
		}
		of := orderedFile{path: p, size: st.Size()}
		if first != nil {
			of.firstSeq = first.Seq
		}
		files = append(files, of)
		total += st.Size()
	}
	slices.SortStableFunc(files, func(a, b orderedFile) int { return cmp.Compare(a.firstSeq, b.firstSeq) })
	return files, total, nil
}

func (v *chainVerifier) verifyFile(ctx context.Context, path string, p *Progress, opts VerifyOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	return v.read(ctx, path, f, func(n int64) {
		p.Records++
		p.Bytes += n
		if opts.Progress != nil && p.Records%opts.ProgressEvery == 0 {
			opts.Progress(*p)
		}
	})
}

// location is where a line is.
type location struct {
	file   string
	line   int
	offset int64
}

// chainVerifier checks lines one at a time, file after file, in chain order.
type chainVerifier struct {
	pub   ed25519.PublicKey
	pubID string
	rep   Report

	started bool
	prev    head // last record seen
	prevAt  location
	torn    *tornRun // lines that are not records, not yet sealed

	signed   uint64   // last seq a good checkpoint vouches for (the checkpoint itself included)
	unsigned location // where the record after signed is
}

type tornRun struct {
	at  location
	h   hash.Hash
	n   int64
	why error
}

func newChainVerifier(pub ed25519.PublicKey) *chainVerifier {
	v := &chainVerifier{pub: pub}
	if pub != nil {
		v.pubID = KeyID(pub)
		v.rep.KeyID = v.pubID
	}
	return v
}

// read verifies the lines of one file, calling done with each line's size. It returns only
// read errors; a failure lands in the report and stops the reading.
func (v *chainVerifier) read(ctx context.Context, name string, r io.Reader, done func(n int64)) error {
	lr := lineReader{br: bufio.NewReaderSize(r, 256<<10)}
	sum := FileSummary{Path: name}
	at := location{file: name}
	for v.rep.Failure == nil {
		line, err := lr.next()
		if err != nil && err != io.EOF {
			return fmt.Errorf("read audit log %s: %w", name, err)
		}
		if len(line) > 0 {
			at.line++
			raw, nl := line, line[len(line)-1] == '\n'
			if nl {
				raw = line[:len(line)-1]
			}
			records := v.rep.Records
			if f := v.line(at, raw, nl); f != nil {
				v.rep.Failure = f
				break
			}
			if v.rep.Records > records {
				if sum.FirstSeq == 0 {
					sum.FirstSeq = v.prev.seq
				}
				sum.LastSeq = v.prev.seq
				sum.Records++
			}
			sum.Bytes += int64(len(line))
			at.offset += int64(len(line))
			done(int64(len(line)))
			if at.line%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err == io.EOF {
			break
		}
	}
	if v.rep.Failure == nil && v.torn != nil {
		v.rep.Failure = v.fail(v.torn.at, v.prev.seq+1, "the file ends with %d bytes that are not a record (%v) and no seal follows: truncated, or torn and never reopened", v.torn.n, v.torn.why)
	}
	v.rep.Files = append(v.rep.Files, sum)
	return nil
}

// line checks one line, raw without its newline; nl tells whether it had one.
func (v *chainVerifier) line(at location, raw []byte, nl bool) *Failure {
	hdr, err := parseLine(raw)
	if err != nil {
		if v.torn == nil {
			v.torn = &tornRun{at: at, h: sha256.New(), why: err}
		}
		v.torn.h.Write(raw)
		v.torn.n += int64(len(raw))
		if nl {
			v.torn.h.Write([]byte{'\n'})
			v.torn.n++
		}
		return nil
	}
	expect := v.prev.seq + 1
	if t := v.torn; t != nil {
		v.torn = nil
		want := Torn{Offset: t.at.offset, Bytes: t.n, SHA256: hex.EncodeToString(t.h.Sum(nil))}
		if hdr.Kind != KindSystem || hdr.Torn == nil || *hdr.Torn != want {
			return v.fail(t.at, expect, "%d bytes that are not a record (%v), and the record after them does not seal them: a record was changed, or a torn write was never sealed", t.n, t.why)
		}
		v.rep.Seals = append(v.rep.Seals, Seal{File: t.at.file, Line: t.at.line, Seq: hdr.Seq, Torn: want})
	} else if hdr.Torn != nil {
		return v.fail(at, hdr.Seq, "seals %d bytes at offset %d that are not there: torn bytes were removed", hdr.Torn.Bytes, hdr.Torn.Offset)
	}
	switch {
	case !v.started:
		if hdr.Seq == 1 && hdr.Prev != genesis {
			return v.fail(at, 1, "the first record of the chain does not start from the genesis hash")
		}
		v.started = true
		v.rep.FirstSeq, v.rep.FromGenesis = hdr.Seq, hdr.Seq == 1
		v.signed = hdr.Seq - 1
	case hdr.Seq > expect:
		return v.fail(at, expect, "seq %d is missing here (found seq %d): records removed, reordered or truncated", expect, hdr.Seq)
	case hdr.Seq < expect:
		return v.fail(at, expect, "seq %d comes again after seq %d: records duplicated or reordered", hdr.Seq, v.prev.seq)
	case hdr.Prev != v.prev.hash:
		return v.fail(v.prevAt, v.prev.seq, "record changed: its line does not hash to the prev of seq %d (%s:%d)", hdr.Seq, at.file, at.line)
	}
	if hdr.Seq == v.signed+1 {
		v.unsigned = at
	}
	if hdr.Kind == KindCheckpoint {
		if err := checkCheckpoint(hdr, v.pub, v.pubID); err != nil {
			return v.fail(v.unsigned, v.signed+1, "%v (checkpoint seq %d at %s:%d): records from seq %d to %d cannot be trusted",
				err, hdr.Seq, at.file, at.line, v.signed+1, hdr.Seq)
		}
		v.rep.Checkpoints++
		v.signed = hdr.Seq
		v.rep.SignedSeq = hdr.Seq
	}
	v.prev, v.prevAt = head{hdr.Seq, hashLine(raw)}, at
	v.rep.Records++
	return nil
}

func (v *chainVerifier) fail(at location, seq uint64, format string, args ...any) *Failure {
	return &Failure{File: at.file, Line: at.line, Offset: at.offset, Seq: seq, Reason: fmt.Sprintf(format, args...)}
}

func (v *chainVerifier) report() *Report {
	r := v.rep
	r.LastSeq, r.Head = v.prev.seq, v.prev.hash
	return &r
}

// VerifyLines checks lines read from r as Verify checks files: what an exporter delivered (a
// webhook receiver's records, one per line, or captured stdout). name names r in the report.
// A stream that starts after seq 1 is checked from its first line (FromGenesis is false); a
// record an exporter dropped shows as a missing seq.
func VerifyLines(ctx context.Context, name string, r io.Reader, opts VerifyOptions) (*Report, error) {
	v := newChainVerifier(opts.Key)
	if err := v.read(ctx, name, r, func(int64) {}); err != nil {
		return nil, err
	}
	return v.report(), nil
}
