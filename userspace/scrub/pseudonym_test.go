package scrub

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func mustPseudonymizer(t testing.TB, max int) *Pseudonymizer {
	t.Helper()
	p, err := NewPseudonymizer(max)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// roundTrip sends a request with id through p as the enforcer does and decodes what the
// receiver saw and what it answered, then reveals the answer's id.
func roundTrip(t *testing.T, p *Pseudonymizer, body string) (seen, revealed any) {
	t.Helper()
	var req map[string]any
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	if _, err := p.HideField(req, "id", KindJSONRPCID); err != nil {
		t.Fatal(err)
	}
	wire, _ := json.Marshal(req)
	var atServer map[string]any
	if err := json.Unmarshal(wire, &atServer); err != nil {
		t.Fatal(err)
	}
	// The server answers with the id it got, through the wire again.
	answer, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": atServer["id"], "result": map[string]any{}})
	var resp map[string]any
	if err := json.Unmarshal(answer, &resp); err != nil {
		t.Fatal(err)
	}
	if s := p.RevealField(resp, "id", KindJSONRPCID); len(s.Revealed) != 1 {
		t.Fatalf("id %v of the answer was not revealed", resp["id"])
	}
	return atServer["id"], resp["id"]
}

func TestPseudonymRoundTripForNumericAndStringIDs(t *testing.T) {
	p := mustPseudonymizer(t, 0)
	cases := []struct {
		body string
		id   any
	}{
		{`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`, float64(7)},
		{`{"jsonrpc":"2.0","id":0,"method":"tools/list"}`, float64(0)},
		{`{"jsonrpc":"2.0","id":9007199254740991,"method":"tools/list"}`, float64(9007199254740991)},
		{`{"jsonrpc":"2.0","id":"req-1","method":"tools/list"}`, "req-1"},
		{`{"jsonrpc":"2.0","id":"","method":"tools/list"}`, ""},
		{`{"jsonrpc":"2.0","id":"3f0e2c8a-1b2d-4e5f-9a8b-7c6d5e4f3a2b","method":"message/send"}`, "3f0e2c8a-1b2d-4e5f-9a8b-7c6d5e4f3a2b"},
	}
	for _, c := range cases {
		seen, revealed := roundTrip(t, p, c.body)
		if seen == c.id {
			t.Errorf("receiver saw the real id %v", c.id)
		}
		if revealed != c.id {
			t.Errorf("revealed %v (%T), want %v (%T)", revealed, revealed, c.id, c.id)
		}
		switch c.id.(type) {
		case float64:
			f, ok := seen.(float64)
			if !ok || f != float64(int64(f)) || f < 1 || f > maxSafeInteger {
				t.Errorf("numeric id became %v (%T), want a safe integer", seen, seen)
			}
		case string:
			s, ok := seen.(string)
			if !ok || (isUUID(c.id.(string)) != isUUID(s)) || (!isUUID(s) && !strings.HasPrefix(s, "mw-")) {
				t.Errorf("string id became %v (%T)", seen, seen)
			}
		}
	}
}

func TestPseudonymsAreStableWithinAFlowAndDifferAcrossFlows(t *testing.T) {
	a, b := mustPseudonymizer(t, 0), mustPseudonymizer(t, 0)
	x1, _ := a.Pseudonym(KindA2ATask, "task-1")
	x2, _ := a.Pseudonym(KindA2ATask, "task-1")
	y, _ := b.Pseudonym(KindA2ATask, "task-1")
	z, _ := a.Pseudonym(KindA2AContext, "task-1")
	if x1 != x2 {
		t.Errorf("same flow, same id: %v then %v", x1, x2)
	}
	if x1 == y {
		t.Errorf("two flows gave the same pseudonym %v", x1)
	}
	if x1 == z {
		t.Errorf("two kinds gave the same pseudonym %v", x1)
	}
	if _, ok := a.Reveal(KindA2AContext, x1); ok {
		t.Error("a task pseudonym revealed as a context id")
	}
	if _, ok := b.Reveal(KindA2ATask, x1); ok {
		t.Error("another flow revealed the pseudonym")
	}
}

func TestNumbersOfEveryDecodedTypeRevealToTheOriginal(t *testing.T) {
	p := mustPseudonymizer(t, 0)
	for _, id := range []any{json.Number("12"), int(13), int64(-3), uint64(5), float64(2.5)} {
		pseudo, err := p.Pseudonym(KindJSONRPCID, id)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := canonical(pseudo)
		// The receiver may echo it as a float64 or a json.Number: both reveal.
		for _, echoed := range []any{pseudo, json.Number(strings.TrimPrefix(c, "n:"))} {
			got, ok := p.Reveal(KindJSONRPCID, echoed)
			if !ok || got != id {
				t.Errorf("Reveal(%v) = %v (%T), %v; want %v (%T)", echoed, got, got, ok, id, id)
			}
		}
	}
	if _, err := p.Pseudonym(KindJSONRPCID, true); !errors.Is(err, ErrUnsupportedID) {
		t.Errorf("bool id: %v", err)
	}
	if v, err := p.Pseudonym(KindJSONRPCID, nil); v != nil || err != nil {
		t.Errorf("null id: %v, %v", v, err)
	}
}

func TestSessionHeaderIsHiddenOnTheResponseAndRevealedOnTheNextRequest(t *testing.T) {
	p := mustPseudonymizer(t, 0)
	resp := http.Header{"Mcp-Session-Id": {"server-session-42"}}
	s, err := p.HideHeader(resp, "Mcp-Session-Id", KindMCPSession)
	if err != nil || s.Pseudonymised[0] != string(KindMCPSession) {
		t.Fatalf("HideHeader: %+v, %v", s, err)
	}
	clientHolds := resp.Get("Mcp-Session-Id")
	if clientHolds == "server-session-42" || !strings.HasPrefix(clientHolds, "mw-") {
		t.Fatalf("client holds %q", clientHolds)
	}
	next := http.Header{}
	next.Set("mcp-session-id", clientHolds)
	if s := p.RevealHeader(next, "Mcp-Session-Id", KindMCPSession); len(s.Revealed) != 1 || next.Get("Mcp-Session-Id") != "server-session-42" {
		t.Errorf("revealed %q, summary %+v", next.Get("Mcp-Session-Id"), s)
	}
	unknown := http.Header{"Mcp-Session-Id": {"made-up"}}
	if s := p.RevealHeader(unknown, "Mcp-Session-Id", KindMCPSession); !s.Empty() || unknown.Get("Mcp-Session-Id") != "made-up" {
		t.Errorf("unknown session id changed: %v %+v", unknown, s)
	}
}

func TestPseudonymTableIsBoundedAndForgets(t *testing.T) {
	p := mustPseudonymizer(t, 2)
	a, _ := p.Pseudonym(KindA2AMessage, "m1")
	if _, err := p.Pseudonym(KindA2AMessage, "m2"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Pseudonym(KindA2AMessage, "m1"); err != nil {
		t.Errorf("a known id counts against the limit: %v", err)
	}
	if _, err := p.Pseudonym(KindA2AMessage, "m3"); !errors.Is(err, ErrFull) {
		t.Errorf("third id: %v, want ErrFull", err)
	}
	p.Forget(KindA2AMessage, a)
	if _, err := p.Pseudonym(KindA2AMessage, "m3"); err != nil || p.Len() != 2 {
		t.Errorf("after Forget: %v, len %d", err, p.Len())
	}
}

func TestPseudonymizerIsSafeForConcurrentUse(t *testing.T) {
	p := mustPseudonymizer(t, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := float64(g*1000 + i)
				ps, err := p.Pseudonym(KindJSONRPCID, id)
				if err != nil {
					t.Error(err)
					return
				}
				if got, ok := p.Reveal(KindJSONRPCID, ps); !ok || got != id {
					t.Errorf("Reveal = %v, %v", got, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Numeric pseudonyms never pass the Luhn check, so the classifier never takes an id the enforcer
// made up for a payment card (about one 16-digit number in ten would), and they still reveal to
// the original.
func TestNumericPseudonymsNeverLookLikePaymentCards(t *testing.T) {
	for _, card := range []uint64{4111111111111111, 5555555555554444, 378282246310005} {
		if !luhnValid(card) {
			t.Fatalf("luhnValid(%d) = false for a test card number", card)
		}
	}
	p := mustPseudonymizer(t, 1<<16)
	for i := range 20000 {
		pseudo, err := p.Pseudonym(KindJSONRPCID, json.Number(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseUint(string(pseudo.(json.Number)), 10, 64)
		if err != nil || luhnValid(n) {
			t.Fatalf("pseudonym %v of id %d passes the Luhn check (%v)", pseudo, i, err)
		}
		if orig, ok := p.Reveal(KindJSONRPCID, pseudo); !ok || orig != json.Number(strconv.Itoa(i)) {
			t.Fatalf("pseudonym %v reveals to %v, want %d", pseudo, orig, i)
		}
	}
}
