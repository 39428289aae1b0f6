package test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// netPair is two network namespaces made by the test, joined by a veth pair: "node" holds the
// daemon and the backends, "pod" holds the agent, as on a Kubernetes node.
type netPair struct {
	node, pod         string // namespace names (under /run/netns)
	nodeIP, backendIP string // addresses on the node side
	podIP             string
}

func newNetPair(t *testing.T) *netPair {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	id := hex.EncodeToString(b)
	octet := int(b[0])%200 + 20
	p := &netPair{
		node: "mwn-" + id, pod: "mwp-" + id,
		nodeIP:    fmt.Sprintf("10.213.%d.1", octet),
		backendIP: fmt.Sprintf("10.213.%d.3", octet),
		podIP:     fmt.Sprintf("10.213.%d.2", octet),
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	handles := map[string]netns.NsHandle{}
	for _, name := range []string{p.node, p.pod} {
		h, err := netns.NewNamed(name) // creates and enters it
		if err != nil {
			t.Fatalf("create netns %s: %v", name, err)
		}
		handles[name] = h
		t.Cleanup(func() { h.Close(); netns.DeleteNamed(name) })
	}
	if err := netns.Set(handles[p.node]); err != nil {
		t.Fatal(err)
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "mwv-node"}, PeerName: "mwv-pod"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	peer, err := netlink.LinkByName("mwv-pod")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetNsFd(peer, int(handles[p.pod])); err != nil {
		t.Fatalf("move veth peer: %v", err)
	}
	configure := func(ns netns.NsHandle, link string, addrs ...string) {
		h, err := netlink.NewHandleAt(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		for _, name := range []string{"lo", link} {
			l, err := h.LinkByName(name)
			if err != nil {
				t.Fatal(err)
			}
			if name == link {
				for _, a := range addrs {
					addr, err := netlink.ParseAddr(a + "/24")
					if err != nil {
						t.Fatal(err)
					}
					if err := h.AddrAdd(l, addr); err != nil {
						t.Fatalf("add %s: %v", a, err)
					}
				}
			}
			if err := h.LinkSetUp(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	configure(handles[p.node], "mwv-node", p.nodeIP, p.backendIP)
	configure(handles[p.pod], "mwv-pod", p.podIP)
	return p
}

// in returns the argv prefix that runs a command inside namespace ns (network only: mounts,
// cgroups and bpffs stay those of the host).
func (p *netPair) in(ns string, argv ...string) []string {
	return append([]string{"nsenter", "--net=/run/netns/" + ns, "--"}, argv...)
}

// An agent in its own network namespace (a pod) is redirected to the node's enforcer on the
// node's address, which learns the original destination across the namespace boundary.
func TestAgentInOwnNetworkNamespaceReachesNodeEnforcer(t *testing.T) {
	np := newNetPair(t)
	m := lab.New(t, bins)
	m.Set("NodeIP", np.nodeIP)
	m.Set("BackendIP", np.backendIP)
	m.Set("PodIP", np.podIP)
	m.WritePolicy(`security_mesh:
  domains:
    - {name: pods, tier: PLAINTEXT, allowed_roles: [EXECUTOR], match: {destinations: [data]}}
  zones:
    - {name: data, cidrs: ["{{.BackendIP}}/32"]}
    - {name: pods, cidrs: ["{{.PodIP}}/32"]}
  agents:
    - {id: pod-agent, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/pod-agent}
  segmentation:
    - {from: pods, to: data, ports: [8080], action: REDIRECT}
  default_action: DENY
  enforcer:
    address4: {{.NodeIP}}
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`)
	m.Launcher = np.in(np.node)
	m.Start()

	srv := exec.Command("nsenter", "--net=/run/netns/"+np.node, "--", "python3", "-m", "http.server", "--bind", np.backendIP, "8080")
	srv.Dir = t.TempDir()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitInNetns(t, np, np.backendIP+":8080")

	argv := np.in(np.pod, bins.Client, "http", "http://"+np.backendIP+":8080/")
	r := m.Run(m.Cgroup("agents/pod-agent"), argv[0], argv[1:]...)
	if r.Err != nil || !strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("pod agent through the node enforcer: %v %q", r.Err, r.Out)
	}
	req := m.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.Kind == audit.KindRequest && int(rec.PID) == r.PID
	}, "request record of the pod agent")
	if req.AgentID != "pod-agent" || req.Destination != np.backendIP+":8080" || !strings.HasPrefix(req.Source, np.podIP+":") || req.Status != 200 {
		t.Errorf("request record: %+v", req)
	}
	// Any other port of the data zone is refused by default.
	argv = np.in(np.pod, bins.Client, "http", "http://"+np.backendIP+":8081/")
	if r := m.Run(m.Cgroup("agents/pod-agent"), argv[0], argv[1:]...); !strings.Contains(r.Out, "operation not permitted") {
		t.Errorf("default DENY from the pod: %q", r.Out)
	}
}

// waitInNetns waits until addr accepts connections inside the node namespace.
func waitInNetns(t *testing.T, np *netPair, addr string) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	h, err := netns.GetFromName(np.node)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never listened", addr)
}
