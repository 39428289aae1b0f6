package loader

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	if len(ids) != 8 {
		t.Fatalf("attached %d hooks, want 8", len(ids))
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

// An accepted socket in the enforcer's cgroup answers SO_ORIGINAL_DST the way iptables
// REDIRECT would, so proxies written for netfilter learn the original destination unchanged.
func TestEnforcerSocketAnswersSOOriginalDst(t *testing.T) {
	tb := newTestbed(t)
	dp, err := Load(tb.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	agentID, err := CgroupID(tb.agent)
	if err != nil {
		t.Fatal(err)
	}
	enfID, err := CgroupID(tb.opts.EnforcerCgroup)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	cfg := Config{Enforcer4: netip.MustParseAddr("127.0.0.1"), Enforcer6: netip.MustParseAddr("::1"),
		Port: uint16(port), EnforcerCgroup: enfID}
	tables := policy.Tables{
		Prefixes: []policy.ZonePrefix{{Prefix: netip.MustParsePrefix("127.0.0.9/32"), Zone: 2}},
		Rules:    []policy.ZoneRule{{SrcZone: 1, DstZone: 2, Verdict: policy.VerdictRedirect}},
		Default:  policy.VerdictDeny,
	}
	if _, err := dp.Apply(tables, []Endpoint{{CgroupID: agentID, Zone: 1}}, cfg); err != nil {
		t.Fatal(err)
	}

	const py = `import socket,struct,sys
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1); print("ready", flush=True)
c,_=l.accept()
raw=c.getsockopt(socket.SOL_IP, 80, 16)
port,=struct.unpack("!H", raw[2:4])
print("%s:%d" % (socket.inet_ntoa(raw[4:8]), port), flush=True)`
	fd, err := cgroup.Open(tb.opts.EnforcerCgroup)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	srv := exec.Command("python3", "-c", py, fmt.Sprint(port))
	srv.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	srv.Stderr = os.Stderr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("enforcer stand-in did not start: %q", lines.Text())
	}
	if out, err := dial(t, tb.agent, "127.0.0.9:4444"); err != nil {
		t.Fatalf("redirected connect: %v %q", err, out)
	}
	if !lines.Scan() || lines.Text() != "127.0.0.9:4444" {
		t.Fatalf("SO_ORIGINAL_DST answered %q, want 127.0.0.9:4444", lines.Text())
	}
	c, err := dp.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.OrigDstAnswered != 1 || c.Redirect != 1 {
		t.Errorf("counters %+v", c)
	}
}
