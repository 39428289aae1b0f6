package spiffeid

import (
	"errors"
	"strings"
	"testing"
)

func TestAgentAndNodeIDsHaveTheDesignedShapeAndRoundTrip(t *testing.T) {
	td, err := TrustDomainFromString("mesh.example")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := AgentID(td, "local", "planner-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := agent.String(), "spiffe://mesh.example/ns/local/agent/planner-1"; got != want {
		t.Fatalf("agent id %q, want %q", got, want)
	}
	node, err := NodeID(td, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := node.String(), "spiffe://mesh.example/node/node-a"; got != want {
		t.Fatalf("node id %q, want %q", got, want)
	}
	for _, id := range []ID{agent, node, td.ID()} {
		back, err := Parse(id.String())
		if err != nil {
			t.Fatalf("Parse(%q): %v", id, err)
		}
		if back != id {
			t.Fatalf("Parse(%q) = %#v, want %#v", id, back, id)
		}
	}
	if ns, name, ok := agent.Agent(); !ok || ns != "local" || name != "planner-1" || agent.Kind() != KindAgent {
		t.Fatalf("Agent() = %q %q %v, kind %v", ns, name, ok, agent.Kind())
	}
	if n, ok := node.Node(); !ok || n != "node-a" || node.Kind() != KindNode {
		t.Fatalf("Node() = %q %v", n, ok)
	}
	if _, _, ok := node.Agent(); ok {
		t.Fatal("a node id answered Agent()")
	}
	if td.ID().Kind() != KindTrustDomain || MustParse("spiffe://td/x").Kind() != KindOther {
		t.Fatal("kinds of trust-domain and other ids are wrong")
	}
}

func TestParseRefusesWhatTheSPIFFESpecRefuses(t *testing.T) {
	for _, s := range []string{
		"",
		"spiffe://",
		"http://mesh/node/a",
		"SPIFFE://mesh/node/a",
		"spiffe://Mesh/node/a",
		"spiffe://mesh:443/node/a",
		"spiffe://user@mesh/node/a",
		"spiffe://mesh/",
		"spiffe://mesh//a",
		"spiffe://mesh/node/a/",
		"spiffe://mesh/node/./a",
		"spiffe://mesh/node/../a",
		"spiffe://mesh/node/a?x=1",
		"spiffe://mesh/node/a#f",
		"spiffe://mesh/node/a%20b",
		"spiffe://mesh/node/ä",
		"spiffe://" + strings.Repeat("a", 256),
		"spiffe://mesh/" + strings.Repeat("a", 2048),
	} {
		if _, err := Parse(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestAgentIDRefusesNamesThatCannotBeSegments(t *testing.T) {
	td, _ := TrustDomainFromString("mesh")
	for _, name := range []string{"", ".", "..", "a/b", "a b", "agent\x00"} {
		if _, err := AgentID(td, "local", name); !errors.Is(err, ErrInvalid) {
			t.Errorf("AgentID(%q) = %v, want ErrInvalid", name, err)
		}
		if _, err := NodeID(td, name); !errors.Is(err, ErrInvalid) {
			t.Errorf("NodeID(%q) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := AgentID(TrustDomain{}, "local", "a"); !errors.Is(err, ErrInvalid) {
		t.Error("AgentID with the zero trust domain was accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("spiffe://mesh.example/ns/local/agent/a")
	f.Add("spiffe://mesh/node/n")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("Parse(%q) accepted but spells it %q", s, id.String())
		}
	})
}
