package test

import (
	"testing"

	"github.com/meshwarden/meshwarden/test/lab"
)

// obsPolicy is basePolicy's network (tools ALLOW, data REDIRECT, blocked DENY for the control
// zone) with one PLAINTEXT default domain, so that the enforcer relays what the kernel
// redirects: the observability tests watch the mesh, not the PEP's decisions. The domain
// "scanned" (requests to /scan) moves the classification family; the node "peer" hosts the zone
// "remote", where no enforcer listens, so that a redirect there moves the tunnel's failures.
const obsPolicy = `security_mesh:
  domains:
    - {name: open, tier: PLAINTEXT, allowed_roles: [ORCHESTRATOR, RETRIEVER], audit_level: FULL_MESH}
    - name: scanned
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR]
      detectors: [{type: email, action: audit}]
      match: {http_paths: [/scan]}
  default_domain: open
  zones:
    - {name: tools, cidrs: ["127.0.0.2/32"]}
    - {name: data, cidrs: ["127.0.0.3/32", "::1/128"]}
    - {name: blocked, cidrs: ["127.0.0.4/32"]}
    - {name: control, cidrs: ["127.0.0.5/32"]}
    - {name: workers, cidrs: ["127.0.0.6/32"]}
    - {name: remote, cidrs: ["127.0.0.7/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: {{.Name}}/agents/orchestrator}
    - {id: retriever, role: RETRIEVER, zone: workers, cgroup: {{.Name}}/agents/retriever}
  segmentation:
    - {from: control, to: tools, action: ALLOW}
    - {from: control, to: data, action: REDIRECT}
    - {from: control, to: blocked, action: DENY}
    - {from: control, to: remote, action: REDIRECT}
    - {from: workers, to: tools, action: ALLOW}
    - {from: workers, to: data, action: {{.WorkersData}}}
  default_action: DENY
  nodes:
    - {name: testnode, address: "127.0.0.1:{{.Tunnel}}", zones: [control, workers]}
    - {name: peer, address: "127.0.0.9:{{.Tunnel}}", zones: [remote]}
  tunnel: {port: {{.Tunnel}}}
  enforcer:
    address4: 127.0.0.1
    address6: "::1"
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// newObsWorld is newWorld with obsPolicy; prepare, when set, adjusts the mesh (daemon flags,
// log capture) before the daemon starts.
func newObsWorld(t *testing.T, prepare func(*lab.Mesh)) *world {
	t.Helper()
	w := &world{Mesh: lab.New(t, bins)}
	w.tools = lab.Backend(t, "127.0.0.2:0", "tools")
	w.data = lab.Backend(t, "127.0.0.3:0", "data")
	w.blocked = lab.Backend(t, "127.0.0.4:0", "blocked")
	w.data6 = lab.Backend(t, "[::1]:0", "data6")
	w.Set("WorkersData", "DENY")
	w.Set("Tunnel", w.OtherPort())
	w.WritePolicy(obsPolicy)
	if prepare != nil {
		prepare(w.Mesh)
	}
	w.Start()
	return w
}
