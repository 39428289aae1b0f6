package attest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// DefaultCacheSize is how many file versions a Measurer remembers by default.
const DefaultCacheSize = 4096

// ErrMismatch is returned by VerifyPID when a process runs a binary other than the accepted.
var ErrMismatch = errors.New("process runs an unexpected binary")

// Options tune a Measurer.
type Options struct {
	CacheSize int    // DefaultCacheSize when zero
	ProcRoot  string // "/proc" when empty
}

// Measurer measures executables. It is safe for concurrent use; concurrent first measurements
// of one file version hash it once.
type Measurer struct {
	proc   string
	cache  *digestCache
	mu     sync.Mutex
	flight map[fileKey]*flight
	hits   atomic.Int64
	hashes atomic.Int64
}

type flight struct {
	done chan struct{}
	m    Measurement
	err  error
}

// Stats counts what a Measurer did.
type Stats struct {
	Hits   int64 // measurements answered from the cache (one stat)
	Hashes int64 // files read and hashed
}

// NewMeasurer returns a measurer.
func NewMeasurer(opts Options) *Measurer {
	size := opts.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	proc := opts.ProcRoot
	if proc == "" {
		proc = "/proc"
	}
	return &Measurer{proc: proc, cache: newDigestCache(size), flight: make(map[fileKey]*flight)}
}

// Stats returns the measurer's counters.
func (m *Measurer) Stats() Stats { return Stats{Hits: m.hits.Load(), Hashes: m.hashes.Load()} }

// MeasurePID measures the executable process pid runs now.
func (m *Measurer) MeasurePID(ctx context.Context, pid int) (Measurement, error) {
	if pid <= 0 {
		return "", fmt.Errorf("measure pid %d: not a process id", pid)
	}
	path := m.proc + "/" + strconv.Itoa(pid) + "/exe"
	meas, err := m.measure(ctx, path)
	if err != nil {
		return "", fmt.Errorf("measure pid %d: %w", pid, err)
	}
	return meas, nil
}

// MeasureFile measures the file at path.
func (m *Measurer) MeasureFile(ctx context.Context, path string) (Measurement, error) {
	meas, err := m.measure(ctx, path)
	if err != nil {
		return "", fmt.Errorf("measure %s: %w", path, err)
	}
	return meas, nil
}

// VerifyPID measures pid and checks the result against accepted. A process whose binary is
// not accepted yields an error wrapping ErrMismatch (and ErrNotAccepted) with the measurement
// still returned, for the audit record.
func (m *Measurer) VerifyPID(ctx context.Context, pid int, accepted []string) (Measurement, error) {
	meas, err := m.MeasurePID(ctx, pid)
	if err != nil {
		return "", err
	}
	if err := Check(string(meas), accepted); err != nil {
		return meas, fmt.Errorf("%w: pid %d: %w", ErrMismatch, pid, err)
	}
	return meas, nil
}

func (m *Measurer) measure(ctx context.Context, path string) (Measurement, error) {
	st, err := os.Stat(path) // the one syscall of a cache hit
	if err != nil {
		return "", err
	}
	key, err := keyOf(st)
	if err != nil {
		return "", err
	}
	if meas, ok := m.cache.get(key); ok {
		m.hits.Add(1)
		return meas, nil
	}
	return m.hashOnce(ctx, path, key)
}

// hashOnce hashes path for key, sharing the work with concurrent callers for the same key.
func (m *Measurer) hashOnce(ctx context.Context, path string, key fileKey) (Measurement, error) {
	m.mu.Lock()
	if f, ok := m.flight[key]; ok {
		m.mu.Unlock()
		select {
		case <-f.done:
			return f.m, f.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	// A flight that ended between the caller's cache miss and here cached its result before it
	// left m.flight (under m.mu): look again rather than hash the file a second time.
	if meas, ok := m.cache.get(key); ok {
		m.mu.Unlock()
		m.hits.Add(1)
		return meas, nil
	}
	f := &flight{done: make(chan struct{})}
	m.flight[key] = f
	m.mu.Unlock()

	f.m, f.err = m.hash(ctx, path)
	m.mu.Lock()
	delete(m.flight, key)
	m.mu.Unlock()
	close(f.done)
	return f.m, f.err
}

// hash reads the file and caches its measurement under the version it had while being read.
// A file that changes while it is read is read again (a few times at most).
func (m *Measurer) hash(ctx context.Context, path string) (Measurement, error) {
	for attempt := 0; attempt < 3; attempt++ {
		meas, before, after, err := hashFile(ctx, path)
		if err != nil {
			return "", err
		}
		m.hashes.Add(1)
		if before == after {
			// Cached under the version actually read: if the path named another version
			// when it was stat'ed (an exec or a replacement in between), the digest is of
			// what the path names now, and the next stat finds it.
			m.cache.put(after, meas)
			return meas, nil
		}
	}
	return "", errors.New("file keeps changing while it is measured")
}

func hashFile(ctx context.Context, path string) (Measurement, fileKey, fileKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fileKey{}, fileKey{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fileKey{}, fileKey{}, err
	}
	before, err := keyOf(st)
	if err != nil {
		return "", fileKey{}, fileKey{}, err
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return "", fileKey{}, fileKey{}, err
		}
		n, rerr := f.Read(buf)
		h.Write(buf[:n])
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", fileKey{}, fileKey{}, rerr
		}
	}
	st, err = f.Stat()
	if err != nil {
		return "", fileKey{}, fileKey{}, err
	}
	after, err := keyOf(st)
	if err != nil {
		return "", fileKey{}, fileKey{}, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return FromDigest(sum), before, after, nil
}

func keyOf(st os.FileInfo) (fileKey, error) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, errors.New("no stat_t for file (not Linux?)")
	}
	if !st.Mode().IsRegular() {
		return fileKey{}, fmt.Errorf("not a regular file (%v)", st.Mode().Type())
	}
	return fileKey{
		dev: uint64(s.Dev), ino: uint64(s.Ino), size: s.Size,
		mtime: s.Mtim.Sec*1e9 + s.Mtim.Nsec,
		ctime: s.Ctim.Sec*1e9 + s.Ctim.Nsec,
	}, nil
}
