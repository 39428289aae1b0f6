package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// tinyFS mounts a tmpfs of size bytes in a test-owned directory, unmounted at cleanup.
func tinyFS(t *testing.T, size string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "tiny")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount a %s tmpfs (this test needs root): %v", size, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

func TestWriteFailsWhileDiskIsFullAndRecoversWhenSpaceReturns(t *testing.T) {
	mnt := tinyFS(t, "64k")
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 16<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(mnt)
	opts.KeyDir = t.TempDir()
	opts.CheckpointEvery = 50
	w := open(t, opts)
	acked := map[uint64]string{}
	var fullErr error
	for i := 0; i < 10_000 && fullErr == nil; i++ {
		r, err := w.Append(context.Background(), sample(i))
		if err != nil {
			fullErr = err
			break
		}
		acked[r.Seq] = r.ID
	}
	if !errors.Is(fullErr, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", fullErr)
	}
	for i := range 3 {
		if _, err := w.Append(context.Background(), sample(i)); err == nil {
			t.Fatal("append succeeded while the disk is still full")
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r, err := w.Append(context.Background(), sample(i))
		if err != nil {
			t.Fatalf("append after space returned: %v", err)
		}
		acked[r.Seq] = r.ID
	}
	closeWriter(t, w)

	rep := mustVerify(t, publicKey(t, opts.KeyDir), opts.Path)
	var resumed *Record
	got := map[uint64]string{}
	for _, r := range records(t, opts.Path) {
		got[r.Seq] = r.ID
		if r.Kind == KindSystem && strings.Contains(r.Message, "writable again") {
			resumed = &r
		}
	}
	if resumed == nil || !strings.Contains(resumed.Message, "no space left") || !strings.Contains(resumed.Message, "4 records were refused") {
		t.Fatalf("no system record of the failure and the recovery: %+v", resumed)
	}
	for seq, id := range acked {
		if got[seq] != id {
			t.Fatalf("acknowledged seq %d (%s) is not in the log", seq, id)
		}
	}
	t.Logf("%d records acknowledged, %d torn writes sealed, first failure: %v", len(acked), len(rep.Seals), fullErr)
}
