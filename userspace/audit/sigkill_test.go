package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const sigkillChildEnv = "MESHWARDEN_AUDIT_SIGKILL_CHILD"

// sigkillOptions are the child's, and the parent's when it reopens.
func sigkillOptions(dir string) Options {
	opts := testOptions(dir)
	opts.CheckpointEvery = 100
	opts.MaxBytes = 256 << 10
	return opts
}

// TestSIGKILLLosesNoAcknowledgedRecord re-executes the test binary as a child that appends
// from 16 goroutines and prints each acknowledged seq and id, kills it with SIGKILL under
// load, reopens the log and checks that every acknowledged record is there and the chain
// verifies.
func TestSIGKILLLosesNoAcknowledgedRecord(t *testing.T) {
	if dir := os.Getenv(sigkillChildEnv); dir != "" {
		sigkillChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILLLosesNoAcknowledgedRecord$", "-test.count=1")
	cmd.Env = append(os.Environ(), sigkillChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	sc := bufio.NewScanner(out)
	killed := false
	timeout := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for sc.Scan() {
		seq, id, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseUint(seq, 10, 64)
		if !ok || err != nil {
			continue // a line cut by the kill
		}
		acked[n] = id
		if len(acked) == 2000 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before it was killed: %v", err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", err)
	}

	opts := sigkillOptions(dir)
	w := open(t, opts)
	after, err := w.Append(context.Background(), sample(0))
	if err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	files := logFiles(t, dir)
	rep := mustVerify(t, publicKey(t, dir), files...)
	got := map[uint64]string{}
	for _, f := range files {
		for _, r := range records(t, f) {
			got[r.Seq] = r.ID
		}
	}
	var maxAcked uint64
	for seq, id := range acked {
		if got[seq] != id {
			t.Fatalf("acknowledged seq %d (%s) is not in the log", seq, id)
		}
		maxAcked = max(maxAcked, seq)
	}
	if after.Seq <= maxAcked {
		t.Fatalf("numbering did not continue: seq %d after acknowledged %d", after.Seq, maxAcked)
	}
	t.Logf("%d acknowledged before the kill (highest seq %d), %d records in %d files, %d torn writes sealed",
		len(acked), maxAcked, rep.Records, len(files), len(rep.Seals))
}

func sigkillChild(dir string) {
	w, err := Open(context.Background(), sigkillOptions(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	stdout := bufio.NewWriter(os.Stdout)
	for g := range 16 {
		go func() {
			for i := 0; ; i++ {
				r, err := w.Append(context.Background(), sample(g*1_000_000+i))
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(stdout, "%d %s\n", r.Seq, r.ID)
				stdout.Flush()
				mu.Unlock()
			}
		}()
	}
	select {} // until killed
}
