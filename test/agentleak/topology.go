package agentleak

import (
	"fmt"
	"net/netip"
)

// Topology says where the replay's services listen. Every service has its own loopback
// address, so that each is its own zone (and endpoint kind) in the policy; all share one port.
type Topology struct {
	Port     uint16
	Agents   netip.Addr // the agents' own zone (a source zone: nothing listens there)
	User     netip.Addr // user-facing sink: final answers
	Memory   netip.Addr // memory service in front of Redis
	Log      netip.Addr // log collector
	Artifact netip.Addr // artifact store
	Peers    netip.Addr // A2A endpoints of the agents and of the harness's peer
	Redis    netip.Addr // redis-server: no zone, so agents cannot reach it directly
	// Tools holds one MCP server address per clearance level (index: clearanceLevel).
	Tools [4]netip.Addr
}

// NewTopology lays the services out in base, a /16 of the loopback network (127.91.0.0 by
// default), on port.
func NewTopology(base netip.Addr, port uint16) (Topology, error) {
	b := base.As4()
	if !base.Is4() || b[0] != 127 {
		return Topology{}, fmt.Errorf("topology base %s is not an IPv4 loopback address", base)
	}
	at := func(c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{127, b[1], c, d}) }
	t := Topology{Port: port, Agents: at(0, 254), Redis: at(0, 2), User: at(1, 1), Memory: at(2, 1),
		Log: at(3, 1), Artifact: at(4, 1), Peers: at(5, 1)}
	for i := range t.Tools {
		t.Tools[i] = at(byte(10+i), 1)
	}
	return t, nil
}

// URL is the base URL of a service address.
func (t Topology) URL(a netip.Addr) string {
	return "http://" + netip.AddrPortFrom(a, t.Port).String()
}

// Listeners returns every address a service of the harness listens on, with what it serves.
func (t Topology) Listeners() map[netip.Addr]string {
	m := map[netip.Addr]string{t.User: "user", t.Memory: "memory", t.Log: "log", t.Artifact: "artifact", t.Peers: "a2a"}
	for _, a := range t.Tools {
		m[a] = "mcp"
	}
	return m
}
