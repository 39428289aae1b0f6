package pep

import (
	"context"
	"net/netip"
	"testing"
)

func TestSelectNamesTheDomainDecideUses(t *testing.T) {
	e := testEngine(t, testPolicy)
	ex := &Exchange{Source: analyst(), Destination: Destination{Addr: netip.MustParseAddrPort("10.20.0.5:8080"), Zone: "data"},
		JSONRPCMethod: "tools/call", MCPTool: "crm_lookup"}
	d, ok := e.Select(ex)
	if !ok || d.Name != "pii" || !Classifies(d) || !NeedsInspection(d) {
		t.Fatalf("Select: %v %v", d, ok)
	}
	if got := e.Decide(context.Background(), ex); got.Domain != d.Name {
		t.Errorf("Decide chose %q, Select %q", got.Domain, d.Name)
	}
	if d, ok := e.Select(&Exchange{HTTPPath: "/other"}); ok {
		t.Errorf("Select found %q for a request no domain takes", d.Name)
	}
	coord, _ := e.Select(&Exchange{JSONRPCMethod: "tools/list"})
	vault, _ := e.Select(&Exchange{HTTPPath: "/vault/x"})
	if coord.Name != "coordination" || NeedsInspection(coord) || !NeedsInspection(vault) {
		t.Errorf("NeedsInspection: %s %v, %s %v", coord.Name, NeedsInspection(coord), vault.Name, NeedsInspection(vault))
	}
}

func TestTextBodyIsRedactedAndForwardedAsText(t *testing.T) {
	e := testEngine(t, testPolicy)
	ex := crmCall(t, "")
	ex.Body, ex.Raw, ex.Text = "note: ssn 219-09-9999 on file", []byte("note: ssn 219-09-9999 on file"), true
	d := e.Decide(context.Background(), ex)
	if d.Verdict != Allow || string(d.Payload) != "note: ssn [redacted:ssn] on file" {
		t.Fatalf("text decision %v %v %q", d.Verdict, d.Reasons, d.Payload)
	}
	r := e.Respond(&Response{Domain: "pii", Body: "all clear", Raw: []byte("all clear"), Text: true})
	if r.Verdict != Allow || string(r.Payload) != "all clear" {
		t.Errorf("unchanged text response %v %q", r.Verdict, r.Payload)
	}
	r = e.Respond(&Response{Domain: "pii", Body: "leak CANARY_abc", Raw: []byte("leak CANARY_abc"), Text: true})
	if r.Reason() != ReasonClassificationBlock {
		t.Errorf("canary in a text response: %v", r.Reasons)
	}
}
