package policy

import "testing"

const kindsPolicy = `security_mesh:
  zones:
    - {name: models, cidrs: [10.40.0.0/16], kind: llm}
    - {name: plain, cidrs: [10.41.0.0/16]}
  agents:
    - {id: frontend, role: ORCHESTRATOR, zone: plain, cgroup: mesh/agents/frontend, kind: user_facing}
    - {id: worker, role: EXECUTOR, zone: plain, cgroup: mesh/agents/worker}
`

func TestZoneAndAgentKindsAreReadAndOptional(t *testing.T) {
	p, err := Parse("p.yaml", []byte(kindsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if p.Zones[0].Kind != KindLLM || p.Zones[1].Kind != "" {
		t.Errorf("zone kinds %q %q", p.Zones[0].Kind, p.Zones[1].Kind)
	}
	if p.ZoneKind("models") != KindLLM || p.ZoneKind(WorldZone) != "" || p.ZoneKind("nowhere") != "" {
		t.Errorf("ZoneKind: %q %q %q", p.ZoneKind("models"), p.ZoneKind(WorldZone), p.ZoneKind("nowhere"))
	}
	if p.Agents[0].Kind != KindUserFacing || p.Agents[1].Kind != "" {
		t.Errorf("agent kinds %q %q", p.Agents[0].Kind, p.Agents[1].Kind)
	}
}

func TestUnknownEndpointKindIsRefusedAtItsLine(t *testing.T) {
	es := parseProblems(t, `security_mesh:
  zones:
    - {name: models, cidrs: [10.40.0.0/16], kind: gpu}
  agents:
    - {id: frontend, role: ORCHESTRATOR, zone: models, cgroup: mesh/agents/frontend, kind: human}
`)
	checkProblems(t, es,
		want{3, `unknown endpoint kind "gpu"`},
		want{5, `unknown endpoint kind "human"`})
}
