package loader

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/meshwarden/meshwarden/loader/cgroup"
	"github.com/meshwarden/meshwarden/policy"
)

// testbed is a cgroup subtree and a pin directory owned by one test, removed when it ends.
type testbed struct {
	opts   Options
	agents string // parent of the agent cgroups
	agent  string // one agent cgroup
	other  string // a cgroup under the agents' parent that is no agent
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	root, err := cgroup.Root()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "mwtest-loader-" + hex.EncodeToString(b)
	top := filepath.Join(root, name)
	tb := &testbed{
		agents: filepath.Join(top, "agents"),
		agent:  filepath.Join(top, "agents", "a1"),
		other:  filepath.Join(top, "agents", "plain"),
	}
	for _, p := range []string{tb.agent, tb.other, filepath.Join(top, "enforcer")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tb.opts = Options{
		PinDir:         filepath.Join("/sys/fs/bpf", name, "v1"),
		AgentCgroup:    tb.agents,
		EnforcerCgroup: filepath.Join(top, "enforcer"),
	}
	t.Cleanup(func() {
		if err := Uninstall(tb.opts.PinDir); err != nil {
			t.Errorf("uninstall: %v", err)
		}
		os.Remove(filepath.Join("/sys/fs/bpf", name))
		if err := cgroup.RemoveTree(top, true); err != nil {
			t.Errorf("remove cgroups: %v", err)
		}
	})
	return tb
}

func TestReloadSwapsProgramsInPinnedLinksWithoutReattach(t *testing.T) {
	tb := newTestbed(t)
	first, err := Load(tb.opts)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]uint32{}
	for _, a := range first.Attachments() {
		if a.Reused {
			t.Errorf("%s: reused on first load", a.Hook)
		}
		ids[a.Hook] = a.LinkID
	}
	if len(ids) != 6 {
		t.Fatalf("attached %d hooks, want 6", len(ids))
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := Load(tb.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for _, a := range second.Attachments() {
		if !a.Reused || ids[a.Hook] != a.LinkID {
			t.Errorf("%s: reused=%v link %d, want reuse of link %d", a.Hook, a.Reused, a.LinkID, ids[a.Hook])
		}
	}
}

// dial runs bash in cgroup cg and opens a TCP connection to addr with /dev/tcp;
// it returns bash's combined output and error.
func dial(t *testing.T, cg, addr string) (string, error) {
	t.Helper()
	fd, err := cgroup.Open(cg)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	ap := netip.MustParseAddrPort(addr)
	cmd := exec.Command("bash", "-c", "exec 3<>/dev/tcp/"+ap.Addr().String()+"/"+
		strings.TrimPrefix(addr[strings.LastIndex(addr, ":"):], ":")+" && echo connected")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestZonePolicyDeniesAgentButNotOtherProcessesAndFlipsAtomically(t *testing.T) {
	tb := newTestbed(t)
	dp, err := Load(tb.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	agentID, err := CgroupID(tb.agent)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Enforcer4: netip.MustParseAddr("127.0.0.1"), Enforcer6: netip.MustParseAddr("::1"), Port: 1}
	tables := func(v policy.Verdict) policy.Tables {
		return policy.Tables{
			Prefixes: []policy.ZonePrefix{{Prefix: netip.MustParsePrefix("127.0.0.0/8"), Zone: 2}},
			Rules:    []policy.ZoneRule{{SrcZone: 1, DstZone: 2, Verdict: v}},
			Default:  policy.VerdictDeny,
		}
	}
	eps := []Endpoint{{CgroupID: agentID, Agent: 0, Zone: 1}}
	if _, err := dp.Apply(tables(policy.VerdictDeny), eps, cfg); err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if out, err := dial(t, tb.agent, addr); err == nil || !strings.Contains(out, "not permitted") {
		t.Fatalf("agent connect under DENY: err=%v out=%q, want EPERM", err, out)
	}
	if out, err := dial(t, tb.other, addr); err != nil {
		t.Fatalf("non-agent connect: %v %q", err, out)
	}
	if _, err := dp.Apply(tables(policy.VerdictAllow), eps, cfg); err != nil {
		t.Fatal(err)
	}
	if out, err := dial(t, tb.agent, addr); err != nil {
		t.Fatalf("agent connect under ALLOW: %v %q", err, out)
	}
	c, err := dp.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.Deny != 1 || c.Allow != 1 {
		t.Errorf("counters %+v, want one deny and one allow", c)
	}
}
