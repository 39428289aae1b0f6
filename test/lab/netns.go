package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// CrossNet is three network namespaces: node A (its daemon; the enforcer address the pod
// reaches), node B (its daemon and backends) and a pod holding node A's agents. A veth pair
// joins the pod to node A ("mwx-pa" in the pod, "mwx-ap" in node A), another joins node A
// to node B ("mwx-ab" in node A, "mwx-ba" in node B). All are removed when the owner ends.
type CrossNet struct {
	A, B, Pod      string // namespace names (under /run/netns)
	APodIP, PodIP  string // pod link: node A's side, the pod's side
	AIP, BIP       string // node link: node A's and node B's tunnel addresses
	BackendIP, BLo string // on node B: the backend, and an address of node B's own zone
	DirectIP       string // on node B: an address the pod may reach straight (see Route)
}

// NewCrossNet creates the namespaces and links.
func NewCrossNet(t T) *CrossNet {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	id := hex.EncodeToString(b)
	o := int(b[0])%200 + 20
	n := &CrossNet{
		A: "mwxa-" + id, B: "mwxb-" + id, Pod: "mwxp-" + id,
		APodIP: fmt.Sprintf("10.214.%d.1", o), PodIP: fmt.Sprintf("10.214.%d.2", o),
		AIP: fmt.Sprintf("10.215.%d.1", o), BIP: fmt.Sprintf("10.215.%d.2", o),
		BackendIP: fmt.Sprintf("10.215.%d.3", o), BLo: fmt.Sprintf("10.215.%d.4", o),
		DirectIP: fmt.Sprintf("10.215.%d.5", o),
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	h := map[string]netns.NsHandle{}
	for _, name := range []string{n.A, n.B, n.Pod} {
		ns, err := netns.NewNamed(name) // creates and enters it
		if err != nil {
			t.Fatalf("create netns %s: %v", name, err)
		}
		h[name] = ns
		t.Cleanup(func() { ns.Close(); netns.DeleteNamed(name) })
	}
	if err := netns.Set(h[n.A]); err != nil {
		t.Fatalf("%v", err)
	}
	for _, v := range []struct{ local, peer, peerNS string }{{"mwx-ap", "mwx-pa", n.Pod}, {"mwx-ab", "mwx-ba", n.B}} {
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: v.local}, PeerName: v.peer}); err != nil {
			t.Fatalf("add veth %s: %v", v.local, err)
		}
		peer, err := netlink.LinkByName(v.peer)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if err := netlink.LinkSetNsFd(peer, int(h[v.peerNS])); err != nil {
			t.Fatalf("move veth %s: %v", v.peer, err)
		}
	}
	configure := func(ns netns.NsHandle, link string, addrs ...string) {
		nh, err := netlink.NewHandleAt(ns)
		if err != nil {
			t.Fatalf("%v", err)
		}
		defer nh.Close()
		for _, name := range []string{"lo", link} {
			l, err := nh.LinkByName(name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if name == link {
				for _, a := range addrs {
					addr, err := netlink.ParseAddr(a + "/24")
					if err != nil {
						t.Fatalf("%v", err)
					}
					if err := nh.AddrAdd(l, addr); err != nil {
						t.Fatalf("add %s: %v", a, err)
					}
				}
			}
			if err := nh.LinkSetUp(l); err != nil {
				t.Fatalf("%v", err)
			}
		}
	}
	configure(h[n.A], "mwx-ap", n.APodIP)
	configure(h[n.A], "mwx-ab", n.AIP)
	configure(h[n.Pod], "mwx-pa", n.PodIP)
	configure(h[n.B], "mwx-ba", n.BIP, n.BackendIP, n.BLo, n.DirectIP)
	return n
}

// In is argv run inside namespace ns.
func (n *CrossNet) In(ns string, argv ...string) []string {
	return append([]string{"nsenter", "--net=/run/netns/" + ns, "--"}, argv...)
}

// Do runs fn on a thread inside namespace ns; sockets fn creates stay in ns.
func Do(t T, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatalf("%v", err)
	}
	fn()
}

// Route lets the pod reach node B's addresses straight through node A (forwarding on node
// A, a default route in the pod, a route back on node B), for direct baselines.
func (n *CrossNet) Route(t T) {
	t.Helper()
	Do(t, n.A, func() {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
			t.Fatalf("ip_forward on node A: %v", err)
		}
	})
	for _, r := range []struct{ ns, gw, dst string }{{n.Pod, n.APodIP, n.AIP}, {n.B, n.AIP, n.PodIP}} {
		h, err := netns.GetFromName(r.ns)
		if err != nil {
			t.Fatalf("%v", err)
		}
		nh, err := netlink.NewHandleAt(h)
		h.Close()
		if err != nil {
			t.Fatalf("%v", err)
		}
		_, dst, _ := net.ParseCIDR(r.dst + "/24")
		err = nh.RouteAdd(&netlink.Route{Dst: dst, Gw: net.ParseIP(r.gw)})
		nh.Close()
		if err != nil {
			t.Fatalf("route %s via %s in %s: %v", dst, r.gw, r.ns, err)
		}
	}
}
