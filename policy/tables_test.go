package policy

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestTablesCompileTheFullExampleInFileOrder(t *testing.T) {
	tables := mustLoad(t, "testdata/full.yaml").Tables()
	wantZones := map[string]uint32{"world": 0, "control": 1, "data": 2, "blocked": 3}
	if !reflect.DeepEqual(tables.Zones, wantZones) {
		t.Errorf("Zones = %v, want %v", tables.Zones, wantZones)
	}
	wantPrefixes := []ZonePrefix{
		{netip.MustParsePrefix("127.0.0.1/32"), 1},
		{netip.MustParsePrefix("127.0.0.2/32"), 2},
		{netip.MustParsePrefix("10.20.0.0/16"), 2},
		{netip.MustParsePrefix("fd00:20::/64"), 2},
		{netip.MustParsePrefix("192.0.2.0/24"), 3},
		{netip.MustParsePrefix("198.51.100.0/24"), 3},
	}
	if !reflect.DeepEqual(tables.Prefixes, wantPrefixes) {
		t.Errorf("Prefixes =\n%v\nwant\n%v", tables.Prefixes, wantPrefixes)
	}
	wantRules := []ZoneRule{
		{SrcZone: 1, DstZone: 2, Port: 9000, Verdict: VerdictRedirect},
		{SrcZone: 1, DstZone: 2, Port: 9001, Verdict: VerdictRedirect},
		{SrcZone: 1, DstZone: 3, Port: 0, Verdict: VerdictDeny},
		{SrcZone: 2, DstZone: 0, Port: 443, Verdict: VerdictAllow},
		{SrcZone: 2, DstZone: 1, Port: 0, Verdict: VerdictRedirect},
	}
	if !reflect.DeepEqual(tables.Rules, wantRules) {
		t.Errorf("Rules =\n%v\nwant\n%v", tables.Rules, wantRules)
	}
	if tables.Default != VerdictAllow {
		t.Errorf("Default = %v, want ALLOW", tables.Default)
	}
}

func TestTablesKeepIPv4PrefixesFourBytesAndIPv6SixteenBytes(t *testing.T) {
	src := mesh(`  zones:
    - name: v4
      cidrs: ["10.0.0.0/8", "::ffff:172.16.0.0/108", "::ffff:192.168.1.1/128", "::ffff:0:0/96"]
    - name: v6
      cidrs: ["fd00::/8", "::/96", "::/80"]
`)
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Tables().Prefixes
	want := []ZonePrefix{
		{netip.MustParsePrefix("10.0.0.0/8"), 1},
		{netip.MustParsePrefix("172.16.0.0/12"), 1},
		{netip.MustParsePrefix("192.168.1.1/32"), 1},
		{netip.MustParsePrefix("0.0.0.0/0"), 1},
		{netip.MustParsePrefix("fd00::/8"), 2},
		{netip.MustParsePrefix("::/96"), 2},
		{netip.MustParsePrefix("::/80"), 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Prefixes =\n%v\nwant\n%v", got, want)
	}
	for _, zp := range got {
		if wantLen := map[uint32]int{1: 4, 2: 16}[zp.Zone]; len(zp.Prefix.Addr().AsSlice()) != wantLen {
			t.Errorf("%s is %d bytes, want %d", zp.Prefix, len(zp.Prefix.Addr().AsSlice()), wantLen)
		}
	}
}

func TestTablesListEachKernelKeyOnce(t *testing.T) {
	src := mesh(`  zones:
    - {name: a, cidrs: [10.0.0.0/8, 10.0.0.0/8, "::ffff:10.0.0.0/104"]}
  segmentation:
    - {from: a, to: world, ports: [80, 80, 443], action: ALLOW}
    - {from: a, to: world, ports: [443, 8443], action: ALLOW}
`)
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tables := p.Tables()
	if want := []ZonePrefix{{netip.MustParsePrefix("10.0.0.0/8"), 1}}; !reflect.DeepEqual(tables.Prefixes, want) {
		t.Errorf("Prefixes = %v, want %v", tables.Prefixes, want)
	}
	want := []ZoneRule{
		{SrcZone: 1, DstZone: 0, Port: 80, Verdict: VerdictAllow},
		{SrcZone: 1, DstZone: 0, Port: 443, Verdict: VerdictAllow},
		{SrcZone: 1, DstZone: 0, Port: 8443, Verdict: VerdictAllow},
	}
	if !reflect.DeepEqual(tables.Rules, want) {
		t.Errorf("Rules = %v, want %v", tables.Rules, want)
	}
}

func TestTablesOfTemplateHaveOnlyWorldAndDefaultDeny(t *testing.T) {
	tables := mustLoad(t, templateCopy).Tables()
	if want := map[string]uint32{"world": 0}; !reflect.DeepEqual(tables.Zones, want) {
		t.Errorf("Zones = %v, want %v", tables.Zones, want)
	}
	if len(tables.Prefixes) != 0 || len(tables.Rules) != 0 {
		t.Errorf("Prefixes = %v, Rules = %v, want none", tables.Prefixes, tables.Rules)
	}
	if tables.Default != VerdictDeny {
		t.Errorf("Default = %v, want DENY", tables.Default)
	}
}

func TestTablesAreTheSameEveryTime(t *testing.T) {
	p := mustLoad(t, "testdata/full.yaml")
	first := p.Tables()
	for range 20 {
		if again := p.Tables(); !reflect.DeepEqual(again, first) {
			t.Fatalf("Tables changed between calls:\n%v\n%v", first, again)
		}
	}
}

func TestTablesSkipRulesNamingUndeclaredZones(t *testing.T) {
	p := &Policy{
		Zones:         []Zone{{Name: "a", ID: 1, CIDRs: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}},
		Segmentation:  []Rule{{From: "a", To: "ghost", Action: VerdictAllow}, {From: "a", To: "world", Action: VerdictDeny}},
		DefaultAction: VerdictDeny,
	}
	tables := p.Tables()
	if want := []ZoneRule{{SrcZone: 1, DstZone: 0, Verdict: VerdictDeny}}; !reflect.DeepEqual(tables.Rules, want) {
		t.Errorf("Rules = %v, want %v", tables.Rules, want)
	}
	if want := []ZonePrefix{{netip.MustParsePrefix("10.0.0.0/8"), 1}}; !reflect.DeepEqual(tables.Prefixes, want) {
		t.Errorf("a hand-built v4-mapped prefix was not unmapped: %v", tables.Prefixes)
	}
}
