package attest

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func fileMeasurement(t testing.TB, path string) Measurement {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return FromDigest(sha256.Sum256(data))
}

// start runs path with args, keeps its stdin open, and kills it at the end of the test.
func start(t testing.TB, path string, args ...string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(path, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// The child is ours from fork on, but runs path only after exec: wait for it.
	want, _ := filepath.EvalSymlinks(path)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if got, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "exe")); err == nil && got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never exec'd", path)
		}
		time.Sleep(time.Millisecond)
	}
	return cmd, stdin
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestMeasurementOfARealProcessIsTheSHA256OfItsExecutable(t *testing.T) {
	m := NewMeasurer(Options{})
	sleep, _ := start(t, "/bin/sleep", "60")
	got, err := m.MeasurePID(context.Background(), sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := fileMeasurement(t, "/bin/sleep"); got != want {
		t.Fatalf("measured %s, want %s", got, want)
	}
	if _, err := ParseMeasurement(string(got)); err != nil {
		t.Fatal(err)
	}
}

func TestDifferentBinariesHaveDifferentMeasurements(t *testing.T) {
	m := NewMeasurer(Options{})
	sleep, _ := start(t, "/bin/sleep", "60")
	cat, _ := start(t, "/bin/cat")
	a, err := m.MeasurePID(context.Background(), sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MeasurePID(context.Background(), cat.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("sleep and cat both measure %s", a)
	}
	if b != fileMeasurement(t, "/bin/cat") {
		t.Fatal("cat's measurement is not the sha256 of /bin/cat")
	}
}

func TestRepeatedMeasurementOfTheSameBinaryCostsOnlyAStat(t *testing.T) {
	m := NewMeasurer(Options{})
	p1, _ := start(t, "/bin/sleep", "60")
	p2, _ := start(t, "/bin/sleep", "61")
	ctx := context.Background()
	first, err := m.MeasurePID(ctx, p1.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{p1.Process.Pid, p2.Process.Pid, p1.Process.Pid} {
		if got, err := m.MeasurePID(ctx, pid); err != nil || got != first {
			t.Fatalf("pid %d: %s, %v", pid, got, err)
		}
	}
	if s := m.Stats(); s.Hashes != 1 || s.Hits != 3 {
		t.Fatalf("stats %+v, want 1 hash and 3 cache hits", s)
	}
}

func TestConcurrentFirstMeasurementsHashTheFileOnce(t *testing.T) {
	m := NewMeasurer(Options{})
	p, _ := start(t, "/bin/sleep", "60")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := m.MeasurePID(context.Background(), p.Process.Pid); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s := m.Stats(); s.Hashes != 1 {
		t.Fatalf("hashed %d times, want once", s.Hashes)
	}
}

func TestOverwrittenBinaryChangesItsMeasurement(t *testing.T) {
	m := NewMeasurer(Options{})
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "agent")
	copyFile(t, "/bin/sleep", bin)
	before, err := m.MeasureFile(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	if before != fileMeasurement(t, "/bin/sleep") {
		t.Fatal("copy measures differently from the original")
	}
	copyFile(t, "/bin/cat", bin) // overwritten in place: same inode
	after, err := m.MeasureFile(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	if after == before || after != fileMeasurement(t, "/bin/cat") {
		t.Fatalf("after overwrite: %s (before %s)", after, before)
	}
}

func TestSameSizeRewriteWithRestoredMtimeIsStillNoticed(t *testing.T) {
	m := NewMeasurer(Options{})
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(path, []byte("version-one"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	before, err := m.MeasureFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // let ctime move, whatever the timestamp granularity
	if err := os.WriteFile(path, []byte("version-two"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil { // forge the old mtime
		t.Fatal(err)
	}
	after, err := m.MeasureFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatal("a same-size rewrite with the old mtime kept the old measurement")
	}
}

func TestProcessRunningAReplacedBinaryIsCaughtWhileTheOriginalPasses(t *testing.T) {
	m := NewMeasurer(Options{})
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "agent")
	copyFile(t, "/bin/sleep", bin)
	orig, _ := start(t, bin, "60")
	accepted, err := m.MeasurePID(ctx, orig.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// The binary is replaced on disk (new file renamed over it, as package managers do).
	tmp := filepath.Join(dir, "agent.new")
	copyFile(t, "/bin/cat", tmp)
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	swapped, _ := start(t, bin)
	if _, err := m.VerifyPID(ctx, swapped.Process.Pid, []string{string(accepted)}); !errors.Is(err, ErrMismatch) || !errors.Is(err, ErrNotAccepted) {
		t.Fatalf("process started from the replaced binary: %v, want ErrMismatch", err)
	}
	// The process started before the replacement still runs the accepted code.
	if got, err := m.VerifyPID(ctx, orig.Process.Pid, []string{string(accepted)}); err != nil || got != accepted {
		t.Fatalf("original process: %s, %v", got, err)
	}
}

func TestProcessThatExecsAnotherProgramIsCaughtOnItsNextMeasurement(t *testing.T) {
	m := NewMeasurer(Options{})
	ctx := context.Background()
	sh, stdin := start(t, "/bin/sh", "-c", "read line; exec /bin/sleep 60")
	pid := sh.Process.Pid
	accepted, err := m.VerifyPID(ctx, pid, []string{string(fileMeasurement(t, "/bin/sh"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil { // the shell now execs sleep
		t.Fatal(err)
	}
	sleepPath, _ := filepath.EvalSymlinks("/bin/sleep")
	for deadline := time.Now().Add(5 * time.Second); ; {
		if got, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe")); got == sleepPath {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell never exec'd sleep")
		}
		time.Sleep(time.Millisecond)
	}
	got, err := m.VerifyPID(ctx, pid, []string{string(accepted)})
	if !errors.Is(err, ErrMismatch) || got != fileMeasurement(t, "/bin/sleep") {
		t.Fatalf("after exec: %s, %v; want sleep's measurement and ErrMismatch", got, err)
	}
}

func TestCheckSaysMissingFromNotAccepted(t *testing.T) {
	good := string(fileMeasurement(t, "/bin/sleep"))
	if err := Check("", []string{good}); !errors.Is(err, ErrNotMeasured) {
		t.Fatalf("empty measurement: %v", err)
	}
	if err := Check(good, nil); !errors.Is(err, ErrNotAccepted) {
		t.Fatalf("empty accepted list: %v", err)
	}
	if err := Check(good, []string{"sha256:00", good}); err != nil {
		t.Fatal(err)
	}
	upper := "sha256:" + strings.ToUpper(good[7:])
	if err := Check(good, []string{upper}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "sha256:", "md5:" + good[7:], good + "0", "sha256:" + string(make([]byte, 64))} {
		if _, err := ParseMeasurement(bad); err == nil {
			t.Errorf("ParseMeasurement(%q) accepted", bad)
		}
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newDigestCache(2)
	for i := range 5 {
		c.put(fileKey{ino: uint64(i)}, "m")
	}
	if c.len() != 2 {
		t.Fatalf("cache holds %d, want 2", c.len())
	}
	if _, ok := c.get(fileKey{ino: 4}); !ok {
		t.Fatal("most recent entry evicted")
	}
}

func BenchmarkMeasurePIDCached(b *testing.B) {
	m := NewMeasurer(Options{})
	p, _ := start(b, "/bin/sleep", "60")
	ctx := context.Background()
	if _, err := m.MeasurePID(ctx, p.Process.Pid); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.MeasurePID(ctx, p.Process.Pid); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMeasureUncached(b *testing.B) {
	ctx := context.Background()
	st, _ := os.Stat("/bin/sleep")
	b.SetBytes(st.Size())
	for b.Loop() {
		m := NewMeasurer(Options{CacheSize: 1})
		if _, err := m.MeasureFile(ctx, "/bin/sleep"); err != nil {
			b.Fatal(err)
		}
	}
}
