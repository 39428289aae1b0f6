package test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// mw runs the meshwarden binary (not inside any agent cgroup) and returns its stdout, stderr
// and error.
func mw(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Meshwarden, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// statusJSON runs `meshwarden status -o json` against w's daemon.
func statusJSON(t *testing.T, w *world) api.Status {
	t.Helper()
	out, stderr, err := mw(t, "status", "--state-dir", w.Dir, "-o", "json")
	if err != nil {
		t.Fatalf("status: %v: %s", err, stderr)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status -o json is not a Status: %v: %s", err, out)
	}
	return st
}

// observeJSON runs `meshwarden observe -o json` with args and returns the events printed.
func observeJSON(t *testing.T, w *world, args ...string) []api.Event {
	t.Helper()
	out, stderr, err := mw(t, append([]string{"observe", "--state-dir", w.Dir, "-o", "json"}, args...)...)
	if err != nil {
		t.Fatalf("observe %v: %v: %s", args, err, stderr)
	}
	var evs []api.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e api.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("observe line is not an Event: %v: %s", err, line)
		}
		evs = append(evs, e)
	}
	return evs
}

func TestStatusReportsHooksMapsAgentsPolicyAndAudit(t *testing.T) {
	w := newObsWorld(t, nil)
	wantEPERM(t, w.orchestrator("http", "http://"+w.blocked+"/x"))
	redir := w.orchestrator("http", "http://"+w.data+"/y")
	wantOK(t, redir, "data GET /y")
	w.requestOf(redir.PID)

	st := statusJSON(t, w)
	if len(st.Hooks) != 8 {
		t.Fatalf("hooks: %+v", st.Hooks)
	}
	for _, h := range st.Hooks {
		want := w.Cgroup("agents")
		if h.Hook == "getsockopt" {
			want = w.Cgroup("enforcer")
		}
		if !h.Attached || h.LinkID == 0 || h.ProgramID == 0 || h.CgroupID == 0 || h.Cgroup != want {
			t.Errorf("hook %+v, want attached to %s with link and program ids", h, want)
		}
	}
	maps := map[string]api.Map{}
	for _, m := range st.Maps {
		maps[m.Name] = m
	}
	if m := maps["mw_endpoints"]; m.Entries != 2 || m.MaxEntries != 65536 || m.ID == 0 {
		t.Errorf("mw_endpoints usage: %+v", m)
	}
	if m := maps["mw_policy"]; m.Entries == 0 || m.MaxEntries == 0 {
		t.Errorf("mw_policy usage: %+v", m)
	}
	agents := map[string]api.Agent{}
	for _, a := range st.Agents {
		agents[a.ID] = a
	}
	if a := agents["orchestrator"]; a.Zone != "control" || a.Role != "ORCHESTRATOR" || a.Cgroup != w.Cgroup("agents/orchestrator") || a.CgroupID == 0 {
		t.Errorf("orchestrator: %+v", a)
	}
	if a := agents["retriever"]; a.Zone != "workers" || a.Cgroup != w.Cgroup("agents/retriever") {
		t.Errorf("retriever: %+v", a)
	}
	p := st.Policy
	if p.Source != w.Config || len(p.Digest) != 12 || p.Agents != 2 || p.Zones != 6 || p.AppliedAt.IsZero() || p.LastReload != nil {
		t.Errorf("policy: %+v", p)
	}
	if st.Audit.Path != w.AuditLog || st.Audit.Records == 0 || st.Audit.WriteErrors != 0 {
		t.Errorf("audit: %+v", st.Audit)
	}
	if st.Counters.Deny == 0 || st.Counters.Redirect == 0 || st.Enforcer.Requests == 0 || len(st.Enforcer.Listeners) == 0 {
		t.Errorf("counters %+v, enforcer %+v", st.Counters, st.Enforcer)
	}
	if st.MetricsAddr == "" || st.Node != "testnode" {
		t.Errorf("metrics address %q, node %q", st.MetricsAddr, st.Node)
	}

	// A refused reload shows as the last reload result; the running policy stays.
	w.Set("WorkersData", "REDIRECT}\n    - {from: workers, to: nowhere, action: DENY")
	w.WritePolicy(obsPolicy)
	w.HUP()
	waitReload(w)
	st2 := statusJSON(t, w)
	if r := st2.Policy.LastReload; r == nil || r.Result != "refused" || !strings.Contains(r.Error, "nowhere") || st2.Policy.Digest != p.Digest {
		t.Errorf("after a refused reload: policy %+v, last reload %+v", st2.Policy, r)
	}

	// The human table names every hook and agent.
	out, stderr, err := mw(t, "status", "--state-dir", w.Dir)
	if err != nil {
		t.Fatalf("status: %v: %s", err, stderr)
	}
	for _, want := range []string{"connect4", "getsockopt", "mw_endpoints", "orchestrator", "retriever", w.Cgroup("agents/orchestrator"), p.Digest, w.AuditLog, "refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("status table lacks %q:\n%s", want, out)
		}
	}
}

func TestObserveShowsFlowsAndRequestsWithFilters(t *testing.T) {
	w := newObsWorld(t, nil)
	deny := w.orchestrator("http", "http://"+w.blocked+"/x")
	wantEPERM(t, deny)
	w.flowOf(deny.PID)
	mid := time.Now()
	time.Sleep(10 * time.Millisecond)
	redir := w.orchestrator("http", "http://"+w.data+"/obs")
	wantOK(t, redir, "data GET /obs")
	w.requestOf(redir.PID)
	wantEPERM(t, w.Client("agents/retriever", "http", "http://"+w.data+"/r"))
	w.WaitRecord(func(r audit.Record, _ int) bool { return r.Kind == audit.KindFlow && r.AgentID == "retriever" }, "retriever flow")

	all := observeJSON(t, w)
	var sawDeny, sawRequest bool
	for _, e := range all {
		if e.Kind == "flow" && e.PID == uint32(deny.PID) && e.Verdict == "DENY" && e.Agent == "orchestrator" && e.Target == w.blocked && e.DstZone == "blocked" {
			sawDeny = true
		}
		if e.Kind == "request" && e.PID == uint32(redir.PID) && e.Method == "GET" && e.Path == "/obs" && e.Status == 200 && e.Reason == "relayed" {
			sawRequest = true
		}
	}
	if !sawDeny || !sawRequest {
		t.Fatalf("observe: deny flow %v, request %v in %+v", sawDeny, sawRequest, all)
	}

	for _, e := range observeJSON(t, w, "--agent", "retriever") {
		if e.Agent != "retriever" {
			t.Errorf("--agent retriever let through %+v", e)
		}
	}
	denies := observeJSON(t, w, "--verdict", "deny", "--agent", "orchestrator")
	if len(denies) != 1 || denies[0].PID != uint32(deny.PID) {
		t.Errorf("--verdict deny --agent orchestrator: %+v", denies)
	}
	for _, e := range observeJSON(t, w, "--since", mid.Format(time.RFC3339Nano)) {
		if e.Time.Before(mid) || e.PID == uint32(deny.PID) {
			t.Errorf("--since %s let through %+v", mid, e)
		}
	}
	if evs := observeJSON(t, w, "--since", "1ms"); len(evs) != 0 {
		t.Errorf("--since 1ms: %+v", evs)
	}

	// Text lines name the agent, the target, the verdict and the reason.
	out, _, err := mw(t, "observe", "--state-dir", w.Dir, "--verdict", "DENY", "--agent", "orchestrator")
	if err != nil || !strings.Contains(out, "orchestrator(control)") || !strings.Contains(out, w.blocked+"(blocked)") || !strings.Contains(out, "DENY zone_rule_any_port") {
		t.Errorf("observe text: %v: %q", err, out)
	}

	// --follow streams what happens next, filtered.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Meshwarden, "observe", "--state-dir", w.Dir, "-o", "json", "--follow", "--agent", "orchestrator", "--verdict", "ALLOW")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The stream starts with nothing from the past; keep making allowed flows until one arrives.
	deadline := time.After(10 * time.Second)
	for {
		allow := w.orchestrator("http", "http://"+w.tools+"/follow")
		wantOK(t, allow, "tools GET /follow")
		select {
		case line := <-lines:
			var e api.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.Agent != "orchestrator" || e.Verdict != "ALLOW" || e.Kind != "flow" {
				t.Fatalf("followed event %q: %v", line, err)
			}
			return
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			t.Fatal("observe --follow printed nothing")
		}
	}
}

func TestOperatorSocketIsRootOnly(t *testing.T) {
	w := newObsWorld(t, nil)
	sock := api.SocketPath(w.Dir)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("socket %s: mode %v uid %d", sock, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid)
	}
	// The binary where uid 65534 may run it.
	dir, err := os.MkdirTemp("", "mwtest-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "meshwarden")
	copyFile(t, bins.Meshwarden, bin, 0o755)
	nobody := func(caps ...uintptr) (string, error) {
		cmd := exec.Command(bin, "status", "--state-dir", w.Dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, AmbientCaps: caps}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The socket file keeps plain users out.
	if out, err := nobody(); err == nil || !strings.Contains(out, "permission denied") {
		t.Errorf("uid 65534: err=%v out=%q, want permission denied", err, out)
	}
	// A caller that gets past the file modes (CAP_DAC_OVERRIDE) is still refused: the daemon
	// checks the peer's uid with SO_PEERCRED.
	const capDACOverride = 1
	if out, err := nobody(capDACOverride); err == nil || !strings.Contains(out, "root only") {
		t.Errorf("uid 65534 with CAP_DAC_OVERRIDE: err=%v out=%q, want refused as not root", err, out)
	}
	// Root is served.
	if out, stderr, err := mw(t, "status", "--state-dir", w.Dir); err != nil || !strings.Contains(out, "connect4") {
		t.Errorf("root: %v: %s%s", err, out, stderr)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
