package policy

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"reflect"
	"testing"
	"time"
)

const (
	templateCopy     = "testdata/security_mesh.template.yaml"
	templateOriginal = "../../shared/reference/security_mesh.template.yaml"
)

func TestTemplateFromOriginalDesignLoadsUnchanged(t *testing.T) {
	p, err := Load(templateCopy)
	if err != nil {
		t.Fatalf("Load(%s): %v", templateCopy, err)
	}
	if got, want := len(p.Domains), 4; got != want {
		t.Fatalf("domains = %d, want %d", got, want)
	}
	want := Domain{
		Name:                "pii_inference",
		Tier:                "COMPUTATION",
		AllowedRoles:        []string{"EXECUTOR", "ANALYST"},
		MetadataMasking:     true,
		AuditLevel:          "FULL_MESH",
		AttestationRequired: true,
		AuditBeforeForward:  true, // the default of a FULL_MESH domain
	}
	if !reflect.DeepEqual(p.Domains[1], want) {
		t.Errorf("domain 1 = %+v, want %+v", p.Domains[1], want)
	}
	if got := p.Domains[3]; got.Name != "coordination" || got.AuditLevel != AuditOutputOnly || got.MetadataMasking {
		t.Errorf("domain 3 = %+v", got)
	}
	wantGlobal := Global{TLSMinVersion: "1.3", CredentialRotationInterval: 10 * time.Minute, AuditScope: "FULL_MESH", TrustDomain: DefaultTrustDomain}
	if p.Global != wantGlobal {
		t.Errorf("global = %+v, want %+v", p.Global, wantGlobal)
	}
}

func TestTemplateCopyIsByteIdenticalToSharedReference(t *testing.T) {
	original, err := os.ReadFile(templateOriginal)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(templateCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(original, copied) {
		t.Fatalf("%s differs from %s; copy the reference again", templateCopy, templateOriginal)
	}
	if _, err := Load(templateOriginal); err != nil {
		t.Fatalf("Load(%s): %v", templateOriginal, err)
	}
}

func TestFullExampleSetsEveryKey(t *testing.T) {
	p, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if p.Source != "testdata/full.yaml" {
		t.Errorf("Source = %q", p.Source)
	}
	wantGlobal := Global{TLSMinVersion: "1.2", CredentialRotationInterval: 2 * time.Minute, AuditScope: "OUTPUT_ONLY", TrustDomain: DefaultTrustDomain}
	if p.Global != wantGlobal {
		t.Errorf("Global = %+v, want %+v", p.Global, wantGlobal)
	}
	wantRoles := []string{"ORCHESTRATOR", "RETRIEVER", "EXECUTOR", "ANALYST", "AUDITOR", "GATEKEEPER_2"}
	if !reflect.DeepEqual(p.Roles, wantRoles) {
		t.Errorf("Roles = %q, want %q", p.Roles, wantRoles)
	}
	wantDomains := []Domain{
		{
			Name: "agent_memory", Tier: "RETRIEVAL", AllowedRoles: []string{"RETRIEVER", "ORCHESTRATOR"},
			MetadataMasking: true, AuditLevel: "FULL_MESH", AttestationRequired: true, MaxTokenAge: 5 * time.Minute,
		},
		{Name: "audit_trail", Tier: "PLAINTEXT", AllowedRoles: []string{"AUDITOR"}, AuditLevel: "OUTPUT_ONLY"},
		{Name: "secure_sum", Tier: "MPC", AuditLevel: "FULL_MESH"},
	}
	if !reflect.DeepEqual(p.Domains, wantDomains) {
		t.Errorf("Domains =\n%+v\nwant\n%+v", p.Domains, wantDomains)
	}
	wantZones := []Zone{
		{Name: "control", ID: 1, CIDRs: prefixes("127.0.0.1/32")},
		{Name: "data", ID: 2, CIDRs: prefixes("127.0.0.2/32", "10.20.0.0/16", "fd00:20::/64")},
		{Name: "blocked", ID: 3, CIDRs: prefixes("192.0.2.0/24", "198.51.100.0/24")},
	}
	if !reflect.DeepEqual(p.Zones, wantZones) {
		t.Errorf("Zones =\n%+v\nwant\n%+v", p.Zones, wantZones)
	}
	if c := p.Zones[2].CIDRs[0]; !c.Addr().Is4() {
		t.Errorf("v4-mapped cidr %s was not normalised to IPv4", c)
	}
	wantAgents := []Agent{
		{ID: "orchestrator", Role: "ORCHESTRATOR", Zone: "control", Cgroup: "meshwarden/agents/orchestrator", Namespace: DefaultNamespace},
		{ID: "retriever-1.v2", Role: "RETRIEVER", Zone: "data", Cgroup: "meshwarden/agents/retriever", Namespace: DefaultNamespace},
		{ID: "auditor", Role: "AUDITOR", Zone: "control", Cgroup: "meshwarden/agents/auditor", Namespace: DefaultNamespace},
	}
	if !reflect.DeepEqual(p.Agents, wantAgents) {
		t.Errorf("Agents =\n%+v\nwant\n%+v", p.Agents, wantAgents)
	}
	wantRules := []Rule{
		{From: "control", To: "data", Ports: []uint16{9000, 9001}, Action: VerdictRedirect, Line: 48},
		{From: "control", To: "blocked", Action: VerdictDeny, Line: 49},
		{From: "data", To: "world", Ports: []uint16{443}, Action: VerdictAllow, Line: 50},
		{From: "data", To: "control", Action: VerdictRedirect, Line: 54},
	}
	if !reflect.DeepEqual(p.Segmentation, wantRules) {
		t.Errorf("Segmentation =\n%+v\nwant\n%+v", p.Segmentation, wantRules)
	}
	if p.DefaultAction != VerdictAllow {
		t.Errorf("DefaultAction = %v, want ALLOW", p.DefaultAction)
	}
	wantEnforcer := Enforcer{
		Address4: netip.MustParseAddr("10.0.0.1"),
		Address6: netip.MustParseAddr("fd00::1"),
		Port:     15002,
		Cgroup:   "meshwarden/system/enforcer",
	}
	if p.Enforcer != wantEnforcer {
		t.Errorf("Enforcer = %+v, want %+v", p.Enforcer, wantEnforcer)
	}
}

func TestAbsentKeysTakeTheirDefaults(t *testing.T) {
	p, err := Parse("min.yaml", []byte("security_mesh:\n  domains:\n    - {name: d, tier: FHE}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{
		Source:        "min.yaml",
		Global:        Global{TLSMinVersion: "1.3", CredentialRotationInterval: 600000 * time.Millisecond, AuditScope: "FULL_MESH", TrustDomain: DefaultTrustDomain},
		Roles:         []string{"ORCHESTRATOR", "RETRIEVER", "EXECUTOR", "ANALYST"},
		Domains:       []Domain{{Name: "d", Tier: "FHE", AuditLevel: "FULL_MESH", AuditBeforeForward: true}},
		DefaultAction: VerdictDeny,
		Enforcer: Enforcer{
			Address4: netip.MustParseAddr("127.0.0.1"),
			Address6: netip.MustParseAddr("::1"),
			Port:     15001,
			Cgroup:   "meshwarden/enforcer",
		},
		Tunnel: Tunnel{Port: DefaultTunnelPort},
	}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("policy =\n%+v\nwant\n%+v", *p, want)
	}
}

func TestNullValuesCountAsAbsent(t *testing.T) {
	p, err := Parse("null.yaml", []byte("security_mesh:\n  global:\n  roles:\n  enforcer:\n    port: ~\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Global.TLSMinVersion != "1.3" || p.Enforcer.Port != 15001 || len(p.Roles) != 4 {
		t.Errorf("defaults not applied: %+v", p)
	}
}

func TestDomainFullMeshUnderOutputOnlyScopeIsAllowed(t *testing.T) {
	src := "security_mesh:\n  global: {audit_scope: OUTPUT_ONLY}\n  domains:\n    - {name: d, tier: FHE, audit_level: FULL_MESH}\n"
	p, err := Parse("scope.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Global.AuditScope != AuditOutputOnly || p.Domains[0].AuditLevel != AuditFullMesh {
		t.Errorf("got scope %s, level %s", p.Global.AuditScope, p.Domains[0].AuditLevel)
	}
}

func TestLoadOfMissingFileWrapsNotExist(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	var es Errors
	if errors.As(err, &es) {
		t.Errorf("a read failure is not a validation error: %v", err)
	}
}

func TestAgentFindsAgentsByID(t *testing.T) {
	p := mustLoad(t, "testdata/full.yaml")
	a, ok := p.Agent("retriever-1.v2")
	if !ok || a.Cgroup != "meshwarden/agents/retriever" || a.Zone != "data" {
		t.Errorf("Agent(retriever-1.v2) = %+v, %v", a, ok)
	}
	if a, ok := p.Agent("nobody"); ok {
		t.Errorf("Agent(nobody) = %+v, true", a)
	}
}

func TestZoneNameMapsIDsBackToNames(t *testing.T) {
	p := mustLoad(t, "testdata/full.yaml")
	for id, want := range map[uint32]string{0: "world", 1: "control", 2: "data", 3: "blocked", 4: "", 1 << 31: "", ^uint32(0): ""} {
		if got := p.ZoneName(id); got != want {
			t.Errorf("ZoneName(%d) = %q, want %q", id, got, want)
		}
	}
}

func TestErrorsFormatAsFileLineMessage(t *testing.T) {
	es := Errors{{File: "a.yaml", Line: 3, Msg: "first"}, {File: "a.yaml", Line: 9, Msg: "second"}}
	if got, want := es.Error(), "a.yaml:3: first\na.yaml:9: second"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var fe *FieldError
	if !errors.As(error(es), &fe) || fe.Line != 3 {
		t.Errorf("errors.As did not find the first FieldError: %v", fe)
	}
}

func mustLoad(t *testing.T, path string) *Policy {
	t.Helper()
	p, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return p
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestTrailingEmptyDocumentIsIgnored(t *testing.T) {
	if _, err := Parse("p.yaml", []byte("security_mesh: {}\n---\n# nothing more\n")); err != nil {
		t.Fatal(err)
	}
}

func TestZoneIDsFollowFileOrder(t *testing.T) {
	src := mesh("  zones:\n    - {name: z, cidrs: [10.0.0.0/8]}\n    - {name: y, cidrs: [11.0.0.0/8]}\n    - {name: x, cidrs: [12.0.0.0/8]}\n")
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"z", "y", "x"} {
		if z := p.Zones[i]; z.Name != name || z.ID != uint32(i+1) {
			t.Errorf("zone %d = %s/%d, want %s/%d", i, z.Name, z.ID, name, i+1)
		}
	}
}
