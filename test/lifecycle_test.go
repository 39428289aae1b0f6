package test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/meshwarden/meshwarden/agent"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

func sleep() { time.Sleep(25 * time.Millisecond) }

func TestKilledDaemonFailsClosedAndRestartReusesPinnedLinks(t *testing.T) {
	w := newWorld(t)
	wantOK(t, w.orchestrator("http", "http://"+w.data+"/before"), "data GET /before")

	w.Kill()
	// Redirected flows are refused while the enforcer is down, never let through.
	down := w.orchestrator("http", "http://"+w.data+"/down")
	if down.Err == nil || !strings.Contains(down.Out, "connection refused") {
		t.Fatalf("redirect with the daemon down: err=%v out=%q, want connection refused", down.Err, down.Out)
	}
	wantEPERM(t, w.orchestrator("http", "http://"+w.blocked+"/down"))
	wantOK(t, w.orchestrator("http", "http://"+w.tools+"/down"), "tools GET /down")

	w.Start()
	live := w.WaitRecord(func(r audit.Record, _ int) bool {
		return r.Kind == audit.KindSystem && strings.Contains(r.Message, "reused from pins") && !strings.Contains(r.Message, "(0 reused")
	}, "restart with reused links")
	if !strings.Contains(live.Message, "8 hooks (8 reused from pins)") {
		t.Errorf("restart attached anew: %q", live.Message)
	}
	wantOK(t, w.orchestrator("http", "http://"+w.data+"/after"), "data GET /after")
}

func TestPolicyReloadFlipsVerdictAndInvalidReloadKeepsOldPolicy(t *testing.T) {
	w := newWorld(t)
	wantEPERM(t, w.Client("agents/retriever", "http", "http://"+w.data+"/r"))

	w.Set("WorkersData", "REDIRECT")
	w.WritePolicy(basePolicy)
	w.HUP()
	if r := waitReload(w); !strings.HasPrefix(r.Message, "policy reloaded") {
		t.Fatalf("reload: %q", r.Message)
	}
	wantOK(t, w.Client("agents/retriever", "http", "http://"+w.data+"/r"), "data GET /r")

	// An invalid file (unknown zone) is refused, and the running policy stays.
	w.Set("WorkersData", "REDIRECT}\n    - {from: workers, to: nowhere, action: DENY")
	w.WritePolicy(basePolicy)
	w.HUP()
	if r := waitReload(w); !strings.Contains(r.Message, "refused") || !strings.Contains(r.Message, "nowhere") {
		t.Fatalf("invalid reload: %q", r.Message)
	}
	wantOK(t, w.Client("agents/retriever", "http", "http://"+w.data+"/still"), "data GET /still")
}

func TestManyRedirectedConnectionsHaveNoLookupMissesOrRingDrops(t *testing.T) {
	w := newWorld(t)
	const n = 2000
	r := w.orchestrator("load", fmt.Sprint(n), "64", "http://"+w.data+"/load")
	if r.Err != nil || !strings.HasPrefix(r.Out, fmt.Sprintf("ok=%d failed=0", n)) {
		t.Fatalf("load: %v %q", r.Err, r.Out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		var reqs, misses int
		for _, rec := range w.RecordsOf(r.PID) {
			if rec.Kind == audit.KindRequest {
				reqs++
				if rec.Verdict != "REDIRECT" {
					misses++
				}
			}
		}
		if misses > 0 {
			t.Fatalf("%d of %d connections were refused by the enforcer", misses, reqs)
		}
		if reqs == n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d request records, want %d", reqs, n)
		}
		sleep()
	}
	for _, rec := range w.Records() {
		if rec.Reason == "no_original_destination" {
			t.Errorf("lookup miss: %+v", rec)
		}
	}
	counters, err := ebpf.LoadPinnedMap(w.PinDir+"/mw_counters", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer counters.Close()
	for slot, name := range map[uint32]string{3: "ring-buffer drops", 4: "original-destination store failures", 5: "tuple store failures"} {
		var perCPU []uint64
		if err := counters.Lookup(&slot, &perCPU); err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for _, v := range perCPU {
			sum += v
		}
		if sum != 0 {
			t.Errorf("%s: %d", name, sum)
		}
	}
}

// While policies are swapped again and again, a path denied in every one of them never opens.
func TestReloadsNeverOpenADeniedPath(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 10; i++ {
		// Alternate an unrelated rule so every reload rewrites the whole table set.
		w.Set("WorkersData", map[bool]string{true: "REDIRECT", false: "DENY"}[i%2 == 0])
		w.WritePolicy(basePolicy + fmt.Sprintf("# reload %d\n", i))
		w.HUP()
		// connect() in a tight loop while the daemon rewrites the tables and switches generation.
		r := w.orchestrator("connect-rate", "3000", w.blocked)
		if r.Err != nil || !strings.Contains(r.Out, "ok=0 refused=3000") {
			t.Fatalf("denied path during reload %d: %v %q", i, r.Err, r.Out)
		}
		if r := waitReload(w); !strings.HasPrefix(r.Message, "policy reloaded") {
			t.Fatalf("reload %d: %q", i, r.Message)
		}
	}
}

// waitReload waits (bounded) for the outcome of reloading the policy file as it is now,
// accepted or refused: the record names the file's digest.
func waitReload(w *world) audit.Record {
	w.T().Helper()
	data, err := os.ReadFile(w.Config)
	if err != nil {
		w.T().Fatalf("%v", err)
	}
	sum := agent.PolicyDigest(data)
	return w.WaitRecord(func(r audit.Record, _ int) bool {
		return r.Kind == audit.KindSystem && strings.HasPrefix(r.Message, "policy reload") && strings.Contains(r.Message, "("+sum+")")
	}, "reload of policy "+sum)
}
