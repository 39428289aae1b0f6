package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// want is one expected problem: its line and a distinctive part of its message.
type want struct {
	line int
	msg  string
}

// parseProblems parses src as "p.yaml" and returns the problems, failing when there are none
// or they are not Errors.
func parseProblems(t *testing.T, src string) Errors {
	t.Helper()
	p, err := Parse("p.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors; policy %+v", p)
	}
	if p != nil {
		t.Errorf("Parse returned a policy with its errors")
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not Errors: %v", err, err)
	}
	return es
}

// checkProblems asserts that es is exactly wants, in order, each with the exact
// "p.yaml:LINE: " prefix and containing its message fragment.
func checkProblems(t *testing.T, es Errors, wants ...want) {
	t.Helper()
	if len(es) != len(wants) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(wants), es)
	}
	for i, w := range wants {
		got := es[i].Error()
		prefix := fmt.Sprintf("p.yaml:%d: ", w.line)
		if !strings.HasPrefix(got, prefix) || !strings.Contains(got, w.msg) {
			t.Errorf("error %d = %q, want prefix %q and %q", i, got, prefix, w.msg)
		}
	}
}

// mesh puts body (already indented by two spaces) under security_mesh:, so line numbers in
// the cases are the line in body plus one.
func mesh(body string) string {
	return "security_mesh:\n" + body
}

func TestEveryValidationProblemIsReportedAtItsLine(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		// The file as a whole.
		{"empty file", "", []want{{1, "empty policy file"}}},
		{"comments only", "# nothing\n# here\n", []want{{1, "empty policy file"}}},
		{"null document", "---\n~\n", []want{{2, "empty policy file"}}},
		{"missing security_mesh", "other: 1\n", []want{
			{1, `unknown key "other"; allowed keys: security_mesh`},
			{1, "missing security_mesh"},
		}},
		{"empty security_mesh", "security_mesh:\n", []want{{1, "security_mesh is empty"}}},
		{"top level is a list", "- a\n", []want{{1, "top level: expected a mapping, got a list"}}},
		{"extra top-level key", "security_mesh: {}\nglobal: {}\n", []want{{2, `unknown key "global"; allowed keys: security_mesh`}}},
		{"second document", "security_mesh: {}\n---\nsecurity_mesh: {}\n", []want{{2, "one YAML document"}}},
		{"yaml syntax error", "security_mesh:\n  global: [\n", []want{{2, "invalid YAML: did not find expected node content"}}},
		{"repeated key", mesh("  default_action: DENY\n  default_action: ALLOW\n"), []want{{3, `key "default_action" repeated (first at line 2)`}}},
		{"unknown key under security_mesh", mesh("  zone: []\n"), []want{{2, `security_mesh: unknown key "zone"; allowed keys: global, roles, domains, zones`}}},
		{"alias", mesh("  zones: &z []\n  agents: *z\n"), []want{{3, "aliases are not supported"}}},
		{"merge key", mesh("  enforcer:\n    <<: {port: 1}\n"), []want{{3, "merge keys (<<) are not supported"}}},

		// global.
		{"global not a mapping", mesh("  global: 3\n"), []want{{2, "global: expected a mapping, got integer 3"}}},
		{"unknown global key", mesh("  global:\n    tls_version: '1.3'\n"), []want{{3, `global: unknown key "tls_version"; allowed keys: tls_min_version, credential_rotation_interval_ms, audit_scope`}}},
		{"bad tls version", mesh("  global: {tls_min_version: '1.1'}\n"), []want{{2, `global.tls_min_version: unknown TLS version "1.1"; allowed: 1.2, 1.3`}}},
		{"rotation as string", mesh("  global:\n    credential_rotation_interval_ms: '600000'\n"), []want{{3, `credential_rotation_interval_ms: expected an integer, got string "600000"`}}},
		{"rotation zero", mesh("  global:\n    credential_rotation_interval_ms: 0\n"), []want{{3, "credential_rotation_interval_ms: 0 is out of range 1.."}}},
		{"rotation overflows a duration", mesh("  global:\n    credential_rotation_interval_ms: 9223372036854775807\n"), []want{{3, "is out of range"}}},
		{"bad audit scope", mesh("  global: {audit_scope: EVERYTHING}\n"), []want{{2, `unknown audit scope "EVERYTHING"; allowed: FULL_MESH, OUTPUT_ONLY`}}},

		// roles.
		{"roles not a list", mesh("  roles: AUDITOR\n"), []want{{2, `roles: expected a list, got string "AUDITOR"`}}},
		{"lowercase role", mesh("  roles: [auditor]\n"), []want{{2, `role "auditor" must be an uppercase identifier`}}},
		{"built-in role redeclared", mesh("  roles: [ANALYST]\n"), []want{{2, `"ANALYST" is a built-in role`}}},
		{"role declared twice", mesh("  roles:\n    - AUDITOR\n    - AUDITOR\n"), []want{{4, `duplicate role "AUDITOR" (first declared at line 3)`}}},

		// domains.
		{"domain not a mapping", mesh("  domains: [x]\n"), []want{{2, `domains[0]: expected a mapping, got string "x"`}}},
		{"unknown domain key", mesh("  domains:\n    - name: d\n      tier: FHE\n      audit: FULL_MESH\n"), []want{{5, `domains[0]: unknown key "audit"; allowed keys: name, tier, allowed_roles`}}},
		{"domain without name", mesh("  domains:\n    - tier: FHE\n"), []want{{3, `domains[0]: missing required key "name"`}}},
		{"domain with null name", mesh("  domains:\n    - tier: FHE\n      name:\n"), []want{{4, "domains[0].name: a value is required"}}},
		{"domain with empty name", mesh("  domains:\n    - {name: '', tier: FHE}\n"), []want{{3, "domains[0].name: must not be empty"}}},
		{"domain without tier", mesh("  domains:\n    - name: d\n"), []want{{3, `missing required key "tier"`}}},
		{"duplicate domain", mesh("  domains:\n    - {name: d, tier: FHE}\n    - {name: e, tier: MPC}\n    - {name: d, tier: MPC}\n"), []want{{5, `duplicate domain name "d" (first declared at line 3)`}}},
		{"unknown tier", mesh("  domains:\n    - {name: d, tier: QUANTUM}\n"), []want{{3, `domains[0].tier: unknown tier "QUANTUM"; allowed: PLAINTEXT, RETRIEVAL, COMPUTATION, MPC, FHE`}}},
		{"unknown allowed role", mesh("  domains:\n    - name: d\n      tier: FHE\n      allowed_roles: [ANALYST, WIZARD]\n"), []want{{5, `domain "d": unknown role "WIZARD"; known roles: ORCHESTRATOR, RETRIEVER, EXECUTOR, ANALYST`}}},
		{"declared role is known", mesh("  roles: [WIZARD]\n  domains:\n    - {name: d, tier: FHE, allowed_roles: [WIZARD, GHOST]}\n"), []want{{4, `unknown role "GHOST"; known roles: ORCHESTRATOR, RETRIEVER, EXECUTOR, ANALYST, WIZARD`}}},
		{"allowed_roles not a list", mesh("  domains:\n    - {name: d, tier: FHE, allowed_roles: ANALYST}\n"), []want{{3, "allowed_roles: expected a list"}}},
		{"masking not a bool", mesh("  domains:\n    - name: d\n      tier: FHE\n      metadata_masking: yes\n"), []want{{5, `metadata_masking: expected true or false, got string "yes"`}}},
		{"attestation not a bool", mesh("  domains:\n    - name: d\n      tier: FHE\n      attestation_required: 1\n"), []want{{5, "attestation_required: expected true or false, got integer 1"}}},
		{"unknown audit level", mesh("  domains:\n    - {name: d, tier: FHE, audit_level: SOME}\n"), []want{{3, `domains[0].audit_level: unknown audit level "SOME"`}}},
		{"negative token age", mesh("  domains:\n    - {name: d, tier: FHE, max_token_age_ms: -5}\n"), []want{{3, "max_token_age_ms: -5 is out of range 1.."}}},
		{"token age as float", mesh("  domains:\n    - {name: d, tier: FHE, max_token_age_ms: 1.5}\n"), []want{{3, "max_token_age_ms: expected an integer, got number 1.5"}}},

		// zones.
		{"zones not a list", mesh("  zones: {name: a}\n"), []want{{2, "zones: expected a list, got a mapping"}}},
		{"unknown zone key", mesh("  zones:\n    - name: a\n      cidr: [10.0.0.0/8]\n"), []want{
			{3, `zones[0]: missing required key "cidrs"`},
			{4, `zones[0]: unknown key "cidr"; allowed keys: name, cidrs`},
		}},
		{"bad zone name", mesh("  zones:\n    - {name: Data, cidrs: [10.0.0.0/8]}\n"), []want{{3, `zone name "Data" must match [a-z][a-z0-9_-]*`}}},
		{"world zone declared", mesh("  zones:\n    - {name: world, cidrs: [10.0.0.0/8]}\n"), []want{{3, `"world" is reserved`}}},
		{"duplicate zone", mesh("  zones:\n    - {name: a, cidrs: [10.0.0.0/8]}\n    - {name: a, cidrs: [10.1.0.0/16]}\n"), []want{
			{4, `duplicate zone name "a" (first declared at line 3)`},
		}},
		{"zone without cidrs", mesh("  zones:\n    - {name: a, cidrs: []}\n"), []want{{3, "zones[0].cidrs: a zone needs at least one cidr"}}},
		{"invalid cidr", mesh("  zones:\n    - name: a\n      cidrs:\n        - 10.0.0.0/8\n        - 10.0.0.300/32\n"), []want{{6, `zones[0].cidrs[1]: invalid cidr "10.0.0.300/32"`}}},
		{"cidr without length", mesh("  zones:\n    - {name: a, cidrs: [10.0.0.1]}\n"), []want{{3, "did you mean 10.0.0.1/32?"}}},
		{"cidr with host bits", mesh("  zones:\n    - {name: a, cidrs: [10.20.0.1/16]}\n"), []want{{3, `cidr "10.20.0.1/16" has host bits set; did you mean 10.20.0.0/16?`}}},
		{"v6 cidr with host bits", mesh("  zones:\n    - {name: a, cidrs: ['fd00::1/64']}\n"), []want{{3, "did you mean fd00::/64?"}}},
		{"cidr not a string", mesh("  zones:\n    - {name: a, cidrs: [[10.0.0.0/8]]}\n"), []want{{3, "zones[0].cidrs[0]: expected a string, got a list"}}},
		{"overlapping zones", mesh("  zones:\n    - name: a\n      cidrs: [10.20.0.0/16]\n    - name: b\n      cidrs:\n        - 10.30.0.0/16\n        - 10.20.5.0/24\n"), []want{
			{8, `cidr 10.20.5.0/24 of zone "b" overlaps cidr 10.20.0.0/16 of zone "a" (line 4)`},
		}},
		{"later zone contains earlier", mesh("  zones:\n    - {name: a, cidrs: ['fd00:20::/64']}\n    - {name: b, cidrs: ['fd00::/16']}\n"), []want{
			{4, `cidr fd00::/16 of zone "b" overlaps cidr fd00:20::/64 of zone "a" (line 3)`},
		}},
		{"equal cidrs in two zones", mesh("  zones:\n    - {name: a, cidrs: [192.0.2.0/24]}\n    - {name: b, cidrs: [192.0.2.0/24]}\n"), []want{
			{4, `cidr 192.0.2.0/24 of zone "b" overlaps cidr 192.0.2.0/24 of zone "a" (line 3)`},
		}},
		{"v4-mapped cidr overlaps ipv4", mesh("  zones:\n    - {name: a, cidrs: [10.0.0.0/8]}\n    - {name: b, cidrs: ['::ffff:10.1.0.0/112']}\n"), []want{
			{4, `cidr 10.1.0.0/16 of zone "b" overlaps cidr 10.0.0.0/8 of zone "a" (line 3)`},
		}},

		// agents.
		{"agent missing everything", mesh("  agents:\n    - {}\n"), []want{
			{3, `missing required key "id"`}, {3, `missing required key "role"`},
			{3, `missing required key "zone"`}, {3, `missing required key "cgroup"`},
		}},
		{"unknown agent key", agentsWith("      pid: 3\n"), []want{{9, `agents[0]: unknown key "pid"; allowed keys: id, role, zone, cgroup`}}},
		{"bad agent id", mesh(zoneA + "  agents:\n    - {id: Bob, role: EXECUTOR, zone: a, cgroup: x/bob}\n"), []want{{5, `agent id "Bob" must match`}}},
		{"duplicate agent", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob}\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob2}\n"), []want{
			{6, `duplicate agent id "bob" (first declared at line 5)`},
		}},
		{"agent unknown role", mesh(zoneA + "  agents:\n    - {id: bob, role: WIZARD, zone: a, cgroup: x/bob}\n"), []want{{5, `agent "bob": unknown role "WIZARD"`}}},
		{"agent unknown zone", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: b, cgroup: x/bob}\n"), []want{{5, `agent "bob": unknown zone "b"; declared zones: a`}}},
		{"agent in world", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: world, cgroup: x/bob}\n"), []want{{5, `agent "bob": zone "world" holds only destinations`}}},
		{"agent in badly named zone is not reported twice", mesh("  zones:\n    - {name: Data, cidrs: [10.0.0.0/8]}\n  agents:\n    - {id: bob, role: EXECUTOR, zone: Data, cgroup: x/bob}\n"), []want{
			{3, `zone name "Data" must match`},
		}},
		{"absolute cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: /sys/fs/cgroup/bob}\n"), []want{{5, `agents[0].cgroup: cgroup "/sys/fs/cgroup/bob" must be relative`}}},
		{"dotdot cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/../../bob}\n"), []want{{5, `must not contain ".."`}}},
		{"empty cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: ''}\n"), []want{{5, "must not be empty"}}},
		{"root cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: ./}\n"), []want{{5, "names the cgroup2 root itself"}}},
		{"shared cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/shared}\n    - {id: eve, role: EXECUTOR, zone: a, cgroup: x//shared/}\n"), []want{
			{6, `agents "bob" and "eve" share cgroup x/shared (line 5)`},
		}},
		{"nested cgroups", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob/child}\n    - {id: eve, role: EXECUTOR, zone: a, cgroup: x/bob}\n"), []want{
			{6, `cgroup x/bob/child of agent "bob" is inside cgroup x/bob of agent "eve"`},
		}},

		// segmentation.
		{"segmentation not a list", mesh("  segmentation: {}\n"), []want{{2, "segmentation: expected a list, got a mapping"}}},
		{"unknown rule key", mesh(zoneA + "  segmentation:\n    - {from: a, to: a, port: 80, action: DENY}\n"), []want{{5, `segmentation[0]: unknown key "port"; allowed keys: from, to, ports, action`}}},
		{"rule missing action", mesh(zoneA + "  segmentation:\n    - {from: a, to: a}\n"), []want{{5, `segmentation[0]: missing required key "action"`}}},
		{"unknown action", mesh(zoneA + "  segmentation:\n    - {from: a, to: a, action: DROP}\n"), []want{{5, `segmentation[0].action: unknown action "DROP"; allowed: ALLOW, DENY, REDIRECT`}}},
		{"rule from unknown zone", mesh(zoneA + "  segmentation:\n    - {from: b, to: a, action: DENY}\n"), []want{{5, `unknown zone "b" in from; declared zones: a`}}},
		{"rule to unknown zone", mesh(zoneA + "  segmentation:\n    - from: a\n      to: c\n      action: DENY\n"), []want{{6, `unknown zone "c" in to; declared zones: a, or world`}}},
		{"rule from world", mesh(zoneA + "  segmentation:\n    - {from: world, to: a, action: DENY}\n"), []want{{5, "from must be a declared zone"}}},
		{"port out of range", mesh(zoneA + "  segmentation:\n    - {from: a, to: world, ports: [0, 65536], action: DENY}\n"), []want{
			{5, "segmentation[0].ports[0]: 0 is out of range 1..65535"},
			{5, "segmentation[0].ports[1]: 65536 is out of range 1..65535"},
		}},
		{"port as string", mesh(zoneA + "  segmentation:\n    - from: a\n      to: world\n      ports:\n        - '80'\n      action: DENY\n"), []want{{8, `ports[0]: expected an integer, got string "80"`}}},
		{"contradicting rules", mesh(zoneA + "  segmentation:\n    - {from: a, to: world, ports: [80, 443], action: ALLOW}\n    - {from: a, to: world, ports: [443], action: ALLOW}\n    - {from: a, to: world, ports: [22, 443], action: DENY}\n"), []want{
			{7, "segmentation: a -> world port 443 is DENY here but ALLOW at line 5"},
		}},
		{"contradicting any-port rules", mesh(zoneA + "  segmentation:\n    - {from: a, to: a, action: ALLOW}\n    - {from: a, to: a, action: REDIRECT}\n"), []want{
			{6, "a -> a any port is REDIRECT here but ALLOW at line 5"},
		}},
		{"bad default action", mesh("  default_action: allow\n"), []want{{2, `default_action: unknown action "allow"`}}},

		// enforcer.
		{"unknown enforcer key", mesh("  enforcer: {listen: 1}\n"), []want{{2, `enforcer: unknown key "listen"; allowed keys: address4, address6, port, cgroup`}}},
		{"enforcer address4 is ipv6", mesh("  enforcer:\n    address4: '::1'\n"), []want{{3, "enforcer.address4: ::1 is not an IPv4 address"}}},
		{"enforcer address4 v4-mapped", mesh("  enforcer:\n    address4: '::ffff:127.0.0.1'\n"), []want{{3, "is not an IPv4 address"}}},
		{"enforcer address6 is ipv4", mesh("  enforcer:\n    address6: 127.0.0.1\n"), []want{{3, "enforcer.address6: 127.0.0.1 is not an IPv6 address"}}},
		{"enforcer address6 v4-mapped", mesh("  enforcer:\n    address6: '::ffff:127.0.0.1'\n"), []want{{3, "is a v4-mapped address"}}},
		{"enforcer address6 with zone", mesh("  enforcer:\n    address6: 'fe80::1%eth0'\n"), []want{{3, "carries a zone"}}},
		{"enforcer address garbage", mesh("  enforcer:\n    address4: localhost\n"), []want{{3, `enforcer.address4: invalid IP address "localhost"`}}},
		{"enforcer port zero", mesh("  enforcer: {port: 0}\n"), []want{{2, "enforcer.port: 0 is out of range 1..65535"}}},
		{"enforcer absolute cgroup", mesh("  enforcer: {cgroup: /meshwarden/enforcer}\n"), []want{{2, "enforcer.cgroup: cgroup \"/meshwarden/enforcer\" must be relative"}}},
		{"enforcer in agent cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob}\n  enforcer:\n    cgroup: x/bob\n"), []want{
			{7, `enforcer cgroup x/bob is the cgroup of agent "bob"`},
		}},
		{"enforcer contains agent cgroup", mesh("  enforcer:\n    cgroup: x\n" + zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob}\n"), []want{
			{7, `enforcer cgroup x contains the cgroup x/bob of agent "bob"`},
		}},
		{"enforcer inside agent cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob}\n  enforcer:\n    cgroup: x/bob/enforcer\n"), []want{
			{7, `enforcer cgroup x/bob/enforcer is inside the cgroup x/bob of agent "bob"`},
		}},
		{"default enforcer cgroup inside agent cgroup", mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: meshwarden}\n"), []want{
			{5, `enforcer cgroup meshwarden/enforcer (default) is inside the cgroup meshwarden of agent "bob"`},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkProblems(t, parseProblems(t, c.src), c.wants...)
		})
	}
}

// zoneA declares one zone "a" on lines 2-3 of a mesh body.
const zoneA = "  zones:\n    - {name: a, cidrs: [10.0.0.0/8]}\n"

// agentsWith is a valid policy whose single agent (lines 5-8) gets extra, lines from 9 on.
func agentsWith(extra string) string {
	return mesh(zoneA + "  agents:\n    - id: bob\n      role: EXECUTOR\n      zone: a\n      cgroup: x/bob\n" + extra)
}

func TestAllProblemsAreReportedInFileOrder(t *testing.T) {
	// Sections are checked in dependency order (zones before agents), but the report follows the file.
	src := mesh(`  agents:
    - {id: bob, role: WIZARD, zone: nowhere, cgroup: x/bob}
  segmentation:
    - {from: a, to: world, action: DROP}
  zones:
    - {name: a, cidrs: [10.0.0.1/8]}
    - {name: a, cidrs: [11.0.0.0/8]}
  global: {tls_min_version: "1.0"}
`)
	checkProblems(t, parseProblems(t, src),
		want{3, `unknown role "WIZARD"`},
		want{3, `unknown zone "nowhere"`},
		want{5, `unknown action "DROP"`},
		want{7, "host bits set"},
		want{8, `duplicate zone name "a"`},
		want{9, `unknown TLS version "1.0"`},
	)
}

func TestParseIsDeterministic(t *testing.T) {
	src := mesh(`  zones:
    - {name: a, cidrs: [10.0.0.0/8, 10.1.0.0/16, 10.2.0.0/16]}
    - {name: b, cidrs: [10.1.0.0/24, 10.0.0.0/8, 10.2.0.0/24, 10.0.0.0/9]}
    - {name: c, cidrs: [10.1.0.0/16]}
`)
	first := parseProblems(t, src).Error()
	for range 20 {
		if again := parseProblems(t, src).Error(); again != first {
			t.Fatalf("second parse differs:\n%s\n---\n%s", first, again)
		}
	}
}
