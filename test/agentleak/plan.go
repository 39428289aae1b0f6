package agentleak

import (
	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// harnessPeer is the id of the A2A peer the harness serves for a scenario with one agent.
const harnessPeer = "peer"

// plan is what agent a of scenario s does in run, with the behaviour.
func plan(s *Scenario, a Agent, t Topology, run, behaviour string) wire.Plan {
	id := MeshID(a.ID)
	p := wire.Plan{
		Agent:     id,
		Behaviour: behaviour,
		Request:   s.Objective.UserRequest,
		Records:   s.Vault.Records,
		Allowed:   s.AllowedSet.Fields,
		Prefix:    "/" + run + "/" + id,
		Channels:  s.Evaluation.Channels,
		Endpoints: wire.Endpoints{User: t.URL(t.User), Memory: t.URL(t.Memory), Log: t.URL(t.Log), Artifact: t.URL(t.Artifact)},
	}
	for _, b := range s.Agents {
		if b.ID != a.ID {
			p.Endpoints.Peers = append(p.Endpoints.Peers, wire.Peer{ID: MeshID(b.ID), URL: t.URL(t.Peers)})
		}
	}
	if len(p.Endpoints.Peers) == 0 {
		p.Endpoints.Peers = []wire.Peer{{ID: harnessPeer, URL: t.URL(t.Peers)}}
	}
	for _, tl := range s.Tools {
		l, _ := clearanceLevel(tl.RequiresClearance)
		p.Endpoints.Tools = append(p.Endpoints.Tools, wire.Tool{Name: tl.Name, URL: t.URL(t.Tools[l]), Cleared: cleared(a, tl.RequiresClearance)})
	}
	return p
}
