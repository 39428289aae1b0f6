package policy

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDomainsExampleSetsEveryNewKey(t *testing.T) {
	p := mustLoad(t, "testdata/domains.yaml")
	want := []Domain{
		{
			Name: "pii_tools", Tier: "COMPUTATION", AllowedRoles: []string{"EXECUTOR", "ANALYST"},
			MetadataMasking: true, AuditLevel: AuditFullMesh, AttestationRequired: true, MaxTokenAge: time.Minute,
			Match: &Match{
				Destinations: []Destination{
					{Zone: "data"},
					{CIDR: netip.MustParsePrefix("10.30.0.0/16")},
					{Host: "crm.internal", Port: 8080},
					{Host: "fd00::7", Port: 443},
				},
				HTTPPaths:      []string{"/mcp", "/v1/"},
				JSONRPCMethods: []string{"tools/call"},
				MCPTools:       []string{"crm_*", "lookup_customer"},
				A2AMethods:     []string{"message/send", "SendMessage"},
				Line:           17,
			},
			SensitiveFields: []SensitiveField{
				{Key: "password", Action: ActionBlock},
				{Key: "api_key", Action: ActionRedact},
				{Key: "customer_note", Action: ActionAudit},
			},
			Detectors: []Detector{
				{Type: DetectorSSN, Action: ActionRedact},
				{Type: DetectorPaymentCard, Action: ActionBlock},
				{Type: DetectorEmail, Action: ActionAudit},
				{Type: DetectorPhone, Action: ActionRedact},
				{Type: DetectorIBAN, Action: ActionRedact},
				{Type: DetectorCanary, Action: ActionBlock, Literals: []string{"mw-canary-7f3a9c2e"}, Prefixes: []string{"CANARY_"}},
			},
			MaskedKeys:         []string{"tenant_id", "Session-Hint"},
			MaxBodyBytes:       65536,
			AuditPayloads:      true,
			AuditBeforeForward: true,
		},
		{
			Name: "coordination", Tier: "PLAINTEXT", AllowedRoles: []string{"ORCHESTRATOR", "EXECUTOR", "AUDITOR"},
			AuditLevel: AuditFullMesh, Match: &Match{Any: true, Line: 44}, AuditBeforeForward: true,
		},
		{Name: "fallback", Tier: "PLAINTEXT", AllowedRoles: []string{"ORCHESTRATOR"}, AuditLevel: AuditFullMesh, AuditBeforeForward: true},
	}
	if !reflect.DeepEqual(p.Domains, want) {
		t.Errorf("Domains =\n%+v\nwant\n%+v", p.Domains, want)
		for i := range min(len(p.Domains), len(want)) {
			if !reflect.DeepEqual(p.Domains[i].Match, want[i].Match) {
				t.Errorf("domain %d match =\n%+v\nwant\n%+v", i, p.Domains[i].Match, want[i].Match)
			}
		}
	}
	if p.DefaultDomain != "fallback" {
		t.Errorf("DefaultDomain = %q", p.DefaultDomain)
	}
	if got := p.Domains[0].BodyLimit(); got != 65536 {
		t.Errorf("BodyLimit = %d", got)
	}
	if got := p.Domains[1].BodyLimit(); got != DefaultMaxBodyBytes {
		t.Errorf("default BodyLimit = %d", got)
	}
	if got := p.TokenAge(&p.Domains[0]); got != time.Minute {
		t.Errorf("TokenAge = %v", got)
	}
	if got := p.TokenAge(&p.Domains[1]); got != p.Global.CredentialRotationInterval {
		t.Errorf("TokenAge of a domain without max_token_age_ms = %v", got)
	}
	if u := p.Unreachable(); len(u) != 0 {
		t.Errorf("Unreachable = %v", u)
	}
}

func TestTemplateDomainsHaveNoMatchSoOnlyDefaultDomainSelectsThem(t *testing.T) {
	p := mustLoad(t, templateCopy)
	for _, d := range p.Domains {
		if d.Match != nil || d.SensitiveFields != nil || d.Detectors != nil || d.MaxBodyBytes != 0 {
			t.Errorf("template domain %q gained keys: %+v", d.Name, d)
		}
	}
	if d, ok := p.DomainFor(Request{HTTPPath: "/", JSONRPCMethod: "tools/call"}); ok {
		t.Errorf("template selected domain %q without any match block", d.Name)
	}
	if u := p.Unreachable(); len(u) != 0 {
		t.Errorf("Unreachable on the template = %v", u)
	}
}

func TestEveryDomainKeyProblemIsReportedAtItsLine(t *testing.T) {
	dom := func(extra string) string {
		return mesh(zoneA + "  domains:\n    - name: d\n      tier: FHE\n" + extra)
	}
	// Lines: zoneA is 2-3, the domain starts at 5, extra starts at 7.
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"match not a mapping", dom("      match: [a]\n"), []want{{7, "domains[0].match: expected a mapping of destinations, http_paths, jsonrpc_methods, mcp_tools, a2a_methods, or any; got a list"}}},
		{"match other scalar", dom("      match: all\n"), []want{{7, `or any; got string "all"`}}},
		{"empty match", dom("      match: {}\n"), []want{{7, "domains[0].match: give at least one of destinations"}}},
		{"unknown match key", dom("      match: {paths: [/x]}\n"), []want{
			{7, "give at least one of"},
			{7, `domains[0].match: unknown key "paths"; allowed keys: destinations, http_paths`},
		}},
		{"empty destinations", dom("      match: {destinations: []}\n"), []want{{7, "match.destinations: list at least one entry, or remove the key"}}},
		{"unknown zone in match", dom("      match:\n        destinations: [a, world, b]\n"), []want{{8, `domain "d": unknown zone "b" in match.destinations; declared zones: a, or world`}}},
		{"bad cidr in match", dom("      match:\n        destinations: [10.0.0.1/8]\n"), []want{{8, `match.destinations[0]: cidr "10.0.0.1/8" has host bits set`}}},
		{"bare address in match", dom("      match:\n        destinations: ['fd00::1']\n"), []want{{8, `address "fd00::1" needs a port or a prefix length: did you mean [fd00::1]:PORT or fd00::1/128?`}}},
		{"bad port in match", dom("      match:\n        destinations: ['tools:http']\n"), []want{{8, `invalid host:port "tools:http": port "http" must be a number 1..65535`}}},
		{"port zero in match", dom("      match:\n        destinations: ['10.0.0.1:0']\n"), []want{{8, "must be a number 1..65535"}}},
		{"bad host in match", dom("      match:\n        destinations: ['bad_host:80']\n"), []want{{8, `"bad_host" is neither an IP address nor a host name`}}},
		{"garbage destination", dom("      match:\n        destinations: [Data]\n"), []want{{8, `"Data" is not a zone name, a CIDR or host:port`}}},
		{"relative http path", dom("      match:\n        http_paths: [v1]\n"), []want{{8, `http path "v1" must start with /`}}},
		{"unclean http path", dom("      match:\n        http_paths: [/a//b/../c]\n"), []want{{8, `did you mean "/a/c"?`}}},
		{"http path glob", dom("      match:\n        http_paths: ['/v1/*']\n"), []want{{8, "http_paths are prefixes, not globs"}}},
		{"http path query", dom("      match:\n        http_paths: ['/v1?x=1']\n"), []want{{8, "must not hold a query"}}},
		{"http path escaped", dom("      match:\n        http_paths: ['/a%20b']\n"), []want{{8, "write the path decoded"}}},
		{"bad glob", dom("      match:\n        mcp_tools: ['crm_[ab]']\n"), []want{{8, `match.mcp_tools[0]: bad glob "crm_[ab]": '[' is reserved; only * and ? are wildcards`}}},
		{"glob with space", dom("      match:\n        mcp_tools: ['crm *']\n"), []want{{8, "bad glob"}}},
		{"empty method", dom("      match:\n        jsonrpc_methods: ['']\n"), []want{{8, "match.jsonrpc_methods[0]: must not be empty"}}},
		{"a2a methods not a list", dom("      match:\n        a2a_methods: message/send\n"), []want{{8, "match.a2a_methods: expected a list"}}},
		{"sensitive field without action", dom("      sensitive_fields:\n        - {key: password}\n"), []want{{8, `sensitive_fields[0]: missing required key "action"`}}},
		{"bad field action", dom("      sensitive_fields:\n        - {key: password, action: drop}\n"), []want{{8, `sensitive_fields[0].action: unknown action "drop"; allowed: block, redact, audit`}}},
		{"repeated field", dom("      sensitive_fields:\n        - {key: Password, action: block}\n        - {key: PASSWORD, action: audit}\n"), []want{{9, `domain "d": sensitive field "PASSWORD" repeats "Password" (line 8)`}}},
		{"unknown detector", dom("      detectors:\n        - {type: passport, action: block}\n"), []want{{8, `detectors[0].type: unknown detector "passport"; allowed: ssn, payment_card, email, phone, iban, canary`}}},
		{"bad detector action", dom("      detectors:\n        - {type: ssn, action: BLOCK}\n"), []want{{8, `unknown action "BLOCK"`}}},
		{"repeated detector", dom("      detectors:\n        - {type: ssn, action: block}\n        - {type: ssn, action: audit}\n"), []want{{9, `domain "d": detector ssn repeated (first at line 8)`}}},
		{"canary without tokens", dom("      detectors:\n        - {type: canary, action: block}\n"), []want{{8, "a canary detector needs literals, prefixes or both"}}},
		{"short canary prefix", dom("      detectors:\n        - {type: canary, action: block, prefixes: [CX]}\n"), []want{{8, `canary "CX" is shorter than 4 characters`}}},
		{"literals on ssn", dom("      detectors:\n        - type: ssn\n          action: block\n          literals: [abcdef]\n"), []want{{10, "only canary detectors take literals, not ssn"}}},
		{"detector unknown key", dom("      detectors:\n        - {type: ssn, action: block, pattern: x}\n"), []want{{8, `unknown key "pattern"; allowed keys: type, action, literals, prefixes`}}},
		{"masked key empty", dom("      masked_keys: [tenant, '']\n"), []want{{7, "masked_keys[1]: must not be empty"}}},
		{"body limit zero", dom("      max_body_bytes: 0\n"), []want{{7, "max_body_bytes: 0 is out of range 1..1073741824"}}},
		{"body limit string", dom("      max_body_bytes: 1MiB\n"), []want{{7, "max_body_bytes: expected an integer"}}},
		{"audit payloads not bool", dom("      audit_payloads: yes\n"), []want{{7, "audit_payloads: expected true or false"}}},
		{"audit before forward not bool", dom("      audit_before_forward: 1\n"), []want{{7, "audit_before_forward: expected true or false"}}},
		{"unknown default domain", dom("  default_domain: other\n"), []want{{7, `default_domain: unknown domain "other"; declared domains: d`}}},
		{"default domain with no domains", mesh("  default_domain: other\n"), []want{{2, `declared domains: (none)`}}},
		{"empty default domain", mesh("  default_domain: ''\n"), []want{{2, "default_domain: must not be empty"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkProblems(t, parseProblems(t, c.src), c.wants...)
		})
	}
}

// request is a Request to 10.20.0.5:8080 in zone data, for the matching tests.
func request(path, jsonrpc, tool, a2a string) Request {
	return Request{
		DstAddr: netip.MustParseAddrPort("10.20.0.5:8080"), DstZone: "data", DstHost: "crm.internal",
		HTTPPath: path, JSONRPCMethod: jsonrpc, MCPTool: tool, A2AMethod: a2a,
	}
}

func TestDomainForTakesTheFirstMatchInFileOrder(t *testing.T) {
	src := mesh(`  zones:
    - {name: data, cidrs: [10.20.0.0/16]}
  domains:
    - name: crm
      tier: PLAINTEXT
      match: {mcp_tools: ["crm_*"]}
    - name: mcp
      tier: PLAINTEXT
      match: {http_paths: [/mcp], destinations: [data]}
    - name: a2a
      tier: PLAINTEXT
      match: {a2a_methods: [message/send], jsonrpc_methods: [tasks/get]}
    - name: fallback
      tier: PLAINTEXT
  default_domain: fallback
`)
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"earlier domain wins over a later one that also matches", request("/mcp", "tools/call", "crm_lookup", ""), "crm"},
		{"later domain when the earlier does not match", request("/mcp", "tools/call", "search", ""), "mcp"},
		{"path below the prefix", request("/mcp/session", "", "", ""), "mcp"},
		{"dot segments are removed before comparing", request("/x/../mcp", "", "", ""), "mcp"},
		{"percent-encoding is decoded before comparing", request("/%6dcp", "", "", ""), "mcp"},
		{"query is ignored", request("/mcp?x=1", "", "", ""), "mcp"},
		{"prefix stops at a segment boundary", request("/mcpx", "", "", ""), "fallback"},
		{"any one method key is enough", request("/a2a", "tasks/get", "", ""), "a2a"},
		{"a2a method", request("/a2a", "message/send", "", "message/send"), "a2a"},
		{"nothing matches: default domain", request("/other", "initialize", "", ""), "fallback"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, ok := p.DomainFor(c.req)
			if !ok || d.Name != c.want {
				t.Fatalf("DomainFor = %v, %v; want %s", d, ok, c.want)
			}
		})
	}
	notData := request("/mcp", "", "", "")
	notData.DstZone = "world"
	if d, _ := p.DomainFor(notData); d.Name != "fallback" {
		t.Errorf("destination outside zone data selected %s", d.Name)
	}
	p.DefaultDomain = ""
	if d, ok := p.DomainFor(request("/other", "", "", "")); ok {
		t.Errorf("without default_domain an unmatched request selected %s", d.Name)
	}
}

func TestDestinationsMatchZoneCIDRAndHostPort(t *testing.T) {
	dests := map[string]Destination{}
	for _, s := range []string{"data", "10.20.0.0/24", "10.20.0.5:8080", "crm.internal:8080", "[fd00::7]:443", "world"} {
		d, err := parseDestination(s)
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != s {
			t.Errorf("String() = %q, want %q", d.String(), s)
		}
		dests[s] = d
	}
	r := request("/", "", "", "")
	v6 := Request{DstAddr: netip.MustParseAddrPort("[fd00::7]:443"), DstZone: "world"}
	mapped := Request{DstAddr: netip.MustParseAddrPort("[::ffff:10.20.0.5]:8080")}
	cases := []struct {
		dest string
		req  Request
		want bool
	}{
		{"data", r, true},
		{"world", r, false},
		{"world", v6, true},
		{"10.20.0.0/24", r, true},
		{"10.20.0.0/24", mapped, true},
		{"10.20.0.0/24", v6, false},
		{"10.20.0.5:8080", r, true},
		{"10.20.0.5:8080", mapped, true},
		{"crm.internal:8080", r, true},
		{"crm.internal:8080", Request{DstAddr: r.DstAddr, DstHost: "CRM.Internal."}, true},
		{"crm.internal:8080", Request{DstAddr: r.DstAddr, DstHost: "crm.internal:8080"}, true},
		{"crm.internal:8080", Request{DstAddr: r.DstAddr, DstHost: "evil.example"}, false},
		{"crm.internal:8080", Request{DstAddr: netip.MustParseAddrPort("10.20.0.5:80"), DstHost: "crm.internal"}, false},
		{"[fd00::7]:443", v6, true},
		{"[fd00::7]:443", r, false},
	}
	for _, c := range cases {
		if got := dests[c.dest].Matches(c.req); got != c.want {
			t.Errorf("%s matches %+v = %v, want %v", c.dest, c.req, got, c.want)
		}
	}
}

func TestMatchGlobStarQuestionAndLiterals(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"crm_*", "crm_lookup", true},
		{"crm_*", "crm_", true},
		{"crm_*", "xcrm_lookup", false},
		{"*", "", true},
		{"*", "a/b", true},
		{"*_delete", "user_delete", true},
		{"*_delete", "user_delete_all", false},
		{"get_?", "get_é", true},
		{"get_?", "get_ab", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"lookup", "Lookup", false},
		{"**", "anything", true},
	}
	for _, c := range cases {
		if got := MatchGlob(c.pattern, c.name); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func TestUnreachableReportsDomainsShadowedByAnEarlierMatch(t *testing.T) {
	src := mesh(`  zones:
    - {name: data, cidrs: [10.20.0.0/16]}
  domains:
    - name: tools
      tier: PLAINTEXT
      match: {mcp_tools: ["crm_*"], destinations: [10.20.0.0/16]}
    - name: narrower_tools
      tier: PLAINTEXT
      match: {mcp_tools: [crm_lookup, "crm_admin_*"], destinations: ["10.20.0.5:80", 10.20.4.0/24]}
    - name: same_as_tools
      tier: PLAINTEXT
      match:
        destinations: [10.20.0.0/16]
        mcp_tools: ["crm_*"]
    - name: tools_anywhere
      tier: PLAINTEXT
      match: {mcp_tools: ["crm_*"]}
    - name: other_tools
      tier: PLAINTEXT
      match: {mcp_tools: [search], destinations: [10.20.0.0/16]}
    - name: paths
      tier: PLAINTEXT
      match: {http_paths: [/v1]}
    - name: sub_paths
      tier: PLAINTEXT
      match: {http_paths: [/v1/chat, /v1/]}
    - name: beta
      tier: PLAINTEXT
      match: {http_paths: [/v1beta]}
    - name: zone_data
      tier: PLAINTEXT
      match: {destinations: [data]}
    - name: cidr_in_zone_data
      tier: PLAINTEXT
      match: {destinations: [10.20.9.0/24]}
    - name: everything
      tier: PLAINTEXT
      match: any
    - name: after_everything
      tier: PLAINTEXT
      match: {jsonrpc_methods: [initialize]}
    - name: without_match
      tier: PLAINTEXT
`)
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Unreachable()
	want := []string{
		`p.yaml:10: domain "narrower_tools" is unreachable: domain "tools" (line 7) comes first and matches every request it matches`,
		`p.yaml:13: domain "same_as_tools" is unreachable: domain "tools" (line 7)`,
		`p.yaml:27: domain "sub_paths" is unreachable: domain "paths" (line 24)`,
		`p.yaml:42: domain "after_everything" is unreachable: domain "everything" (line 39) comes first and has match: any`,
	}
	// Not reported, by design: tools_anywhere (wider than tools), other_tools (another tool),
	// beta (/v1 does not take /v1beta), cidr_in_zone_data (zone vs CIDR is not compared),
	// without_match (never selected by matching).
	if len(got) != len(want) {
		t.Fatalf("Unreachable = %d reports, want %d:\n%v", len(got), len(want), Errors(got))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].Error(), w) {
			t.Errorf("report %d = %q, want prefix %q", i, got[i].Error(), w)
		}
	}
}

func TestGlobCoversOnlyWhatItCanProve(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"crm_*", "crm_*", true},
		{"*", "any_*thing?", true},
		{"crm_*", "crm_lookup", true},
		{"crm_*", "crm_admin_*", true},
		{"crm_*", "crm*", false},
		{"crm_*_x", "crm_a_x", true},
		{"crm_*_x", "crm_*_x_*", false}, // true in fact, but not provable by the simple rules
		{"crm_?", "crm_*", false},
	}
	for _, c := range cases {
		if got := globCovers(c.a, c.b); got != c.want {
			t.Errorf("globCovers(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// audit_before_forward defaults to true for FULL_MESH domains (the audit issue's "default for
// FULL_MESH"), to false for OUTPUT_ONLY ones and for every domain of a mesh whose audit_scope caps
// it at OUTPUT_ONLY; an explicit value always wins.
func TestAuditBeforeForwardDefaultsToTrueForFullMeshDomainsOnly(t *testing.T) {
	cases := []struct {
		scope, level, explicit string
		want                   bool
	}{
		{"", "FULL_MESH", "", true},
		{"", "", "", true}, // audit_level absent is FULL_MESH
		{"", "FULL_MESH", "false", false},
		{"", "OUTPUT_ONLY", "", false},
		{"", "OUTPUT_ONLY", "true", true},
		{"OUTPUT_ONLY", "FULL_MESH", "", false},
		{"OUTPUT_ONLY", "FULL_MESH", "true", true},
	}
	for _, c := range cases {
		src := "security_mesh:\n"
		if c.scope != "" {
			src += "  global: {audit_scope: " + c.scope + "}\n"
		}
		src += "  domains:\n    - name: d\n      tier: PLAINTEXT\n"
		if c.level != "" {
			src += "      audit_level: " + c.level + "\n"
		}
		if c.explicit != "" {
			src += "      audit_before_forward: " + c.explicit + "\n"
		}
		p, err := Parse("p.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got := p.Domains[0].AuditBeforeForward; got != c.want {
			t.Errorf("scope %q level %q explicit %q: audit_before_forward %v, want %v", c.scope, c.level, c.explicit, got, c.want)
		}
	}
}
