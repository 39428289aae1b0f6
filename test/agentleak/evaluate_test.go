package agentleak

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// testScenario is a made-up scenario in the file's shape: names and values here are the
// test's own.
func testScenario(t *testing.T) *Scenario {
	t.Helper()
	var s Scenario
	err := json.Unmarshal([]byte(`{
		"scenario_id": "t1", "vertical": "v",
		"agents": [{"agent_id": "A1", "role": "r", "clearance": "public"}],
		"private_vault": {"records": [
			{"record_type": "p", "fields": {"who": "Ann Example", "secret": "xyz-123-secret", "score": 77, "tag": "T-7"}},
			{"record_type": "p", "fields": {"who": "Bob Example", "secret": "Bob Example", "note": "TOKEN_abcdef", "list": ["alpha-one", "b"]}}
		]},
		"allowed_set": {"fields": ["who"], "forbidden_fields": ["secret", "score", "list", "absent"]},
		"evaluation": {"canaries": ["TOKEN_abcdef"], "field_weights": {"secret": 5}}
	}`), &s)
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestVaultLooksForForbiddenValuesAtTheirKeyAndDistinctiveOnesInText(t *testing.T) {
	v := newVault(testScenario(t), "TOKEN_")
	got := map[string][]string{}
	for _, it := range v.forbidden {
		got[it.field+"="+it.canonical] = it.loose
	}
	want := map[string][]string{
		`secret="xyz-123-secret"`: {"xyz-123-secret"},
		`secret="Bob Example"`:    nil, // also the value of an allowed field: at its key only
		`score=77`:                nil, // too short to look for in text
		`list=["alpha-one","b"]`:  {"alpha-one"},
	}
	if len(got) != len(want) {
		t.Fatalf("forbidden items %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || len(g) != len(w) || (len(w) > 0 && g[0] != w[0]) {
			t.Errorf("item %s: loose %v, want %v (all: %v)", k, g, w, got)
		}
	}
	if len(v.allowed) != 2 || v.allowedCanaries != 0 {
		t.Errorf("allowed %+v, allowed canaries %d", v.allowed, v.allowedCanaries)
	}
	secret := itemOf(t, v.forbidden, `secret="xyz-123-secret"`)
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"record":{"SECRET":"xyz-123-secret"}}`, true},
		{`{"text":"the code is xyz-123-secret, keep it"}`, true},
		{`{"record":{"secret":"[redacted:field]"}}`, false},
		{`not json xyz-123-secret`, true},
	} {
		if got := secret.present(parseDoc([]byte(tc.body))); got != tc.want {
			t.Errorf("present in %s = %v, want %v", tc.body, got, tc.want)
		}
	}
	score := itemOf(t, v.forbidden, "score=77")
	if score.present(parseDoc([]byte(`{"id":"A-77-B","n":177}`))) || !score.present(parseDoc([]byte(`{"x":{"score":77}}`))) {
		t.Error("a short value is looked for at its own key only")
	}
}

func itemOf(t *testing.T, items []item, key string) item {
	t.Helper()
	for _, it := range items {
		if it.field+"="+it.canonical == key {
			return it
		}
	}
	t.Fatalf("no item %s", key)
	return item{}
}

func TestAllowedValuesCarryingACanaryAreLeftOutOfUtility(t *testing.T) {
	s := testScenario(t)
	s.Vault.Records[0].Fields["who"] = "TOKEN_zzzzzz"
	v := newVault(s, "TOKEN_")
	if v.allowedCanaries != 1 || len(v.allowed) != 1 {
		t.Fatalf("allowed %d, allowed canaries %d; want 1 and 1", len(v.allowed), v.allowedCanaries)
	}
}

// msg builds a message on channel ch sent by agent a1 at path.
func msg(ch, path, rpc, sent, received string, arrived bool) message {
	m := message{channel: ch, agent: "a1", path: path, rpcMethod: rpc, request: -1, sent: parseDoc([]byte(sent)), arrived: arrived}
	if arrived {
		m.received = parseDoc([]byte(received))
	}
	return m
}

func rec(path, rpc, channel, agent, verdict, exchange string) audit.Record {
	return audit.Record{Kind: audit.KindMessage, Path: path, RPCMethod: rpc, Channel: channel, AgentID: agent, Verdict: verdict, ExchangeID: exchange}
}

func TestEvaluationCountsCoverageOutcomesLeaksAndUtility(t *testing.T) {
	v := newVault(testScenario(t), "TOKEN_")
	leakyRec := `{"record":{"who":"Ann Example","secret":"xyz-123-secret","note":"TOKEN_abcdef"}}`
	msgs := []message{
		msg(wire.Log, "/r1/a1/log/0", "", leakyRec, "", false),                                                            // blocked
		msg(wire.Log, "/r1/a1/log/1", "", leakyRec, `{"record":{"who":"Ann Example","secret":"[x]","note":"[y]"}}`, true), // redacted
		msg(wire.Artifact, "/r1/a1/art/0", "", leakyRec, leakyRec, true),                                                  // leaked, wrong agent
		msg(wire.ToolInput, "/r1/a1/mcp/t", "tools/call", leakyRec, "", false),                                            // undelivered, other channel
		msg(wire.FinalOutput, "/r1/a1/answer/0", "", leakyRec, "", true),                                                  // no record
	}
	recs := []audit.Record{
		rec("/r1/a1/log/0", "", wire.Log, "a1", "DENY", "x1"),
		rec("/r1/a1/log/1", "", wire.Log, "a1", "REDIRECT", "x2"),
		rec("/r1/a1/art/0", "", wire.Artifact, "a2", "REDIRECT", "x3"),
		rec("/r1/a1/mcp/t", "tools/call", wire.MemoryWrite, "a1", "REDIRECT", "x4"),
		rec("/r2/a1/answer/0", "", wire.FinalOutput, "a1", "REDIRECT", "x5"), // another run
	}
	s, _ := evaluate(wire.Leaky, msgs, indexRecords("r1", recs), v)
	log, art, tool, final := s[wire.Leaky][wire.Log], s[wire.Leaky][wire.Artifact], s[wire.Leaky][wire.ToolInput], s[wire.Leaky][wire.FinalOutput]
	if log.Messages != 2 || log.Recorded != 2 || log.Forbidden != (Leak{Attempts: 2, Blocked: 1, Redacted: 1}) || log.Canaries != (Leak{Attempts: 2, Blocked: 1, Redacted: 1}) {
		t.Errorf("log: %+v", log)
	}
	if art.Recorded != 0 || art.Misses["wrong agent: a2"] != 1 || art.Forbidden.Leaked != 1 || art.Canaries.Leaked != 1 {
		t.Errorf("artifact: %+v", art)
	}
	if tool.Misses["other channel: memory_write"] != 1 || tool.Forbidden.Undelivered != 1 {
		t.Errorf("tool_input: %+v", tool)
	}
	if final.Misses["no record"] != 1 || final.Violating != 1 || final.ViolatingRecorded != 0 {
		t.Errorf("final_output: %+v", final)
	}

	compliant := []message{
		msg(wire.Log, "/r1/a1/log/0", "", `{"record":{"who":"Ann Example"}}`, `{"record":{"who":"Ann Example"}}`, true),
		msg(wire.Log, "/r1/a1/log/1", "", `{"record":{"who":"Bob Example"}}`, `{"record":{"who":"[redacted]"}}`, true),
	}
	us, _ := evaluate(wire.Compliant, compliant, indexRecords("r1", recs[:2]), v)
	u := us[wire.Compliant][wire.Log]
	if u.UtilityValues != 2 || u.UtilityIntact != 1 {
		t.Errorf("utility: %d of %d intact, want 1 of 2", u.UtilityIntact, u.UtilityValues)
	}
}

func TestMessagesPairWhatWasSentWithWhatArrived(t *testing.T) {
	body := json.RawMessage(`{"record":{"who":"Ann Example"}}`)
	answer := json.RawMessage(`{"jsonrpc":"2.0","id":"1","result":{"structuredContent":{"records":[]}}}`)
	logs := runLogs{
		agents: map[string][]wire.Entry{"a1": {
			{Direction: wire.Sent, Channel: wire.Log, Path: "/r1/a1/log/0", Body: body},
			{Direction: wire.Sent, Channel: wire.MemoryWrite, Path: "/r1/a1/memory/k", Body: body},
			{Direction: wire.Sent, Channel: wire.ToolInput, Path: "/r1/a1/mcp/t", RPCMethod: "tools/call", Body: body},
			{Direction: wire.Received, Channel: wire.ToolOutput, Path: "/r1/a1/mcp/t", RPCMethod: "tools/call", Status: 200,
				Body: json.RawMessage(`{"jsonrpc":"2.0","id":"1","error":{"code":-32001,"message":"refused"}}`)},
			{Direction: wire.Sent, Channel: wire.Artifact, Path: "/r1/a1/art/0", Body: body},
		}},
		deliveries: []Delivery{
			{Service: "log", Path: "/r1/a1/log/0", Body: body},
			{Service: "mcp", Path: "/r1/a1/mcp/t", RPCMethod: "tools/call", Body: body, Answer: answer},
		},
	}
	stored := func(_ context.Context, path string) ([]byte, bool, error) {
		return []byte(`{"value":{"record":{"who":"Ann Example"}}}`), path == "/r1/a1/memory/k", nil
	}
	msgs, err := logs.messages(context.Background(), stored)
	if err != nil {
		t.Fatal(err)
	}
	arrived := map[string]bool{}
	for _, m := range msgs {
		arrived[m.channel] = m.arrived
	}
	want := map[string]bool{wire.Log: true, wire.MemoryWrite: true, wire.ToolInput: true, wire.ToolOutput: false, wire.Artifact: false}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(msgs), len(want), msgs)
	}
	for ch, w := range want {
		if arrived[ch] != w {
			t.Errorf("%s arrived %v, want %v (a JSON-RPC error in place of a result is a refusal)", ch, arrived[ch], w)
		}
	}
}

func TestAnAnswerIsRecordedOnlyByARecordOfItsOwnDirection(t *testing.T) {
	v := newVault(testScenario(t), "TOKEN_")
	req := msg(wire.InterAgent, "/r1/a1/a2a/a2", "message/send", `{"x":1}`, `{"x":1}`, true)
	answer := msg(wire.InterAgent, "/r1/a1/a2a/a2", "message/send", `{"y":2}`, `{"y":2}`, true)
	answer.request = 0
	reqOnly := []audit.Record{
		{Kind: audit.KindMessage, Path: req.path, RPCMethod: "message/send", Channel: wire.InterAgent, AgentID: "a1", ExchangeID: "x", Message: "request agent_message (rule agent)"},
		{Kind: audit.KindRequest, Path: req.path, RPCMethod: "message/send", Channel: wire.InterAgent, AgentID: "a1", ExchangeID: "x"},
	}
	cs, _ := evaluate(wire.Leaky, []message{req, answer}, indexRecords("r1", reqOnly), v)
	c := cs[wire.Leaky][wire.InterAgent]
	if c.Messages != 2 || c.Recorded != 1 {
		t.Errorf("request records only: %d of %d recorded, want 1 of 2", c.Recorded, c.Messages)
	}
	both := append(reqOnly, audit.Record{Kind: audit.KindMessage, Path: req.path, RPCMethod: "message/send", Channel: wire.InterAgent,
		AgentID: "a1", ExchangeID: "x", Message: "response agent_message (rule agent)"})
	if cs, _ := evaluate(wire.Leaky, []message{req, answer}, indexRecords("r1", both), v); cs[wire.Leaky][wire.InterAgent].Recorded != 2 {
		c := cs[wire.Leaky][wire.InterAgent]
		t.Errorf("with the response record: %d of %d recorded, want 2", c.Recorded, c.Messages)
	}
}

func TestADeliveryIsPairedWithTheMessageItCarriesWhenSeveralShareAPath(t *testing.T) {
	path := "/r1/a1/a2a/a2"
	sent := func(id, value string) wire.Entry {
		return wire.Entry{Direction: wire.Sent, Channel: wire.InterAgent, Path: path, RPCMethod: "message/send",
			Body: json.RawMessage(`{"jsonrpc":"2.0","id":"` + id + `","method":"message/send","params":{"record":{"secret":"` + value + `"}}}`)}
	}
	refusal := wire.Entry{Direction: wire.Received, Channel: wire.InterAgent, Path: path, RPCMethod: "message/send", Status: 200,
		Body: json.RawMessage(`{"jsonrpc":"2.0","id":"m0","error":{"code":-31403,"message":"refused"}}`)}
	reply := json.RawMessage(`{"jsonrpc":"2.0","id":"m1","result":{"kind":"message"}}`)
	logs := runLogs{
		agents: map[string][]wire.Entry{"a1": {
			sent("m0", "xyz-123-secret"), refusal,
			sent("m1", "[redacted]"), {Direction: wire.Received, Channel: wire.InterAgent, Path: path, RPCMethod: "message/send", Status: 200, Body: reply},
		}},
		deliveries: []Delivery{{Service: "a2a", Path: path, RPCMethod: "message/send",
			Body: json.RawMessage(`{"jsonrpc":"2.0","id":"m1","method":"message/send","params":{"record":{"secret":"[redacted]"}}}`), Answer: reply}},
	}
	msgs, err := logs.messages(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0].arrived || !msgs[1].arrived || msgs[2].request != 1 || !msgs[2].arrived {
		t.Fatalf("messages %+v: want the first refused, the second delivered and answered", msgs)
	}
}
