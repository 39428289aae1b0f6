package protocol_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

func TestJSONRPCClassifiesRequestsNotificationsResultsAndErrors(t *testing.T) {
	for _, c := range []struct {
		body string
		typ  protocol.RPCType
		id   string
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, protocol.RPCRequest, `1`},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, protocol.RPCNotification, ``},
		{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, protocol.RPCRequest, `null`},
		{`{"jsonrpc":"2.0","id":"a-1","result":{}}`, protocol.RPCResult, `"a-1"`},
		{`{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}`, protocol.RPCError, `3`},
		{`{"jsonrpc":"1.0","id":1,"method":"x"}`, protocol.RPCInvalid, `1`},
		{`{"jsonrpc":"2.0","id":1}`, protocol.RPCInvalid, `1`},
		{`{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":""}}`, protocol.RPCInvalid, `1`},
		{`{"jsonrpc":"2.0","id":1,"method":"x","params":"str"}`, protocol.RPCInvalid, `1`},
		{`{"jsonrpc":"2.0","result":{}}`, protocol.RPCInvalid, ``},
		{`{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":""}}`, protocol.RPCInvalid, `1`},
	} {
		b, err := protocol.ParseJSONRPC([]byte(c.body), protocol.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		m := b.Messages[0]
		if m.Type != c.typ || string(m.ID) != c.id {
			t.Errorf("%s: type %v id %q, want %v %q", c.body, m.Type, m.ID, c.typ, c.id)
		}
		if (m.Type == protocol.RPCInvalid) != (m.Invalid != nil) || (m.Invalid != nil && !errors.Is(m.Invalid, protocol.ErrInvalidRequest)) {
			t.Errorf("%s: Invalid = %v", c.body, m.Invalid)
		}
	}
}

func TestJSONRPCPreservesIDsOfAnyTypeExactly(t *testing.T) {
	for _, id := range []string{`1`, `-0`, `1.50`, `1e3`, `12345678901234567890123`, `"x\u00e9y"`, `""`, `null`, `{"a":[1]}`, `[1,"2"]`} {
		body := `{"jsonrpc":"2.0","id": ` + id + ` ,"method":"tools/call","params":{"name":"t"}}`
		b, err := protocol.ParseJSONRPC([]byte(body), protocol.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got := string(b.Messages[0].ID); got != id {
			t.Errorf("id %s read as %s", id, got)
		}
		resp := protocol.RefusalResponse(b.Messages[0].ID, "role_not_allowed", "")
		var env struct {
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(resp, &env); err != nil {
			t.Fatalf("refusal for id %s is not JSON: %v: %s", id, err, resp)
		}
		if string(env.ID) != id {
			t.Errorf("refusal carries id %s, want %s", env.ID, id)
		}
	}
}

func TestJSONRPCBatchKeepsInvalidElementsApart(t *testing.T) {
	body := `[
	  {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},
	  {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}},
	  42,
	  {"jsonrpc":"2.0","id":"b","method":"tools/list"}
	]`
	b, err := protocol.ParseJSONRPC([]byte(body), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Batch || len(b.Messages) != 4 {
		t.Fatalf("batch %v, %d messages", b.Batch, len(b.Messages))
	}
	types := []protocol.RPCType{protocol.RPCRequest, protocol.RPCNotification, protocol.RPCInvalid, protocol.RPCRequest}
	for i, want := range types {
		if b.Messages[i].Type != want {
			t.Errorf("element %d: %v, want %v", i, b.Messages[i].Type, want)
		}
	}
	resp := protocol.RefusalBatchResponse(b, "no_policy", "")
	var arr []struct {
		ID    json.RawMessage `json:"id"`
		Error struct {
			Code int `json:"code"`
			Data struct {
				Reason string `json:"reason"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp, &arr); err != nil {
		t.Fatalf("%v: %s", err, resp)
	}
	if len(arr) != 3 || string(arr[0].ID) != "1" || string(arr[1].ID) != "null" || string(arr[2].ID) != `"b"` {
		t.Errorf("batch refusal: %s", resp)
	}
	if arr[0].Error.Code != protocol.CodePolicyRefusal || arr[0].Error.Data.Reason != "no_policy" {
		t.Errorf("refusal: %s", resp)
	}
	onlyNotes, _ := protocol.ParseJSONRPC([]byte(`[{"jsonrpc":"2.0","method":"n"}]`), protocol.Limits{})
	if r := protocol.RefusalBatchResponse(onlyNotes, "x", ""); r != nil {
		t.Errorf("batch of notifications answered: %s", r)
	}
}

func TestJSONRPCBodyErrorsMapToTheirCodes(t *testing.T) {
	for _, c := range []struct {
		body string
		code int
	}{
		{`{"jsonrpc":"2.0",`, protocol.CodeParseError},
		{`[]`, protocol.CodeInvalidRequest},
		{`"just a string"`, protocol.CodeInvalidRequest},
	} {
		_, err := protocol.ParseJSONRPC([]byte(c.body), protocol.Limits{})
		if err == nil {
			t.Fatalf("%s parsed", c.body)
		}
		var env struct {
			ID    json.RawMessage    `json:"id"`
			Error struct{ Code int } `json:"error"`
		}
		if jerr := json.Unmarshal(protocol.RPCErrorFor(nil, err), &env); jerr != nil {
			t.Fatal(jerr)
		}
		if env.Error.Code != c.code || string(env.ID) != "null" {
			t.Errorf("%s: code %d id %s, want %d null", c.body, env.Error.Code, env.ID, c.code)
		}
	}
	big := `[` + `{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","method":"n"}` + `]`
	if _, err := protocol.ParseJSONRPC([]byte(big), protocol.Limits{MaxBatch: 1}); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("batch over limit: %v", err)
	}
}

func TestErrorBuildersWriteWhatClientsParse(t *testing.T) {
	var rpc struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Reason, Detail string
			} `json:"data"`
		} `json:"error"`
	}
	raw := protocol.RefusalResponse(json.RawMessage(`"req-9"`), "classification_block", `field "ssn" <blocked>`)
	if err := json.Unmarshal(raw, &rpc); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if rpc.JSONRPC != "2.0" || string(rpc.ID) != `"req-9"` || rpc.Error.Code != -31403 ||
		rpc.Error.Data.Reason != "classification_block" || rpc.Error.Data.Detail != `field "ssn" <blocked>` {
		t.Errorf("refusal: %s", raw)
	}
	if got := protocol.ErrorResponse(json.RawMessage(`not json`), protocol.CodeInternalError, "x", nil); string(got) != `{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"x"}}` {
		t.Errorf("invalid id: %s", got)
	}
	var h403 struct {
		Error struct{ Message, Type, Code string } `json:"error"`
	}
	raw = protocol.HTTPRefusalBody("role_not_allowed", "")
	if err := json.Unmarshal(raw, &h403); err != nil {
		t.Fatal(err)
	}
	if h403.Error.Type != "policy_refusal" || h403.Error.Code != "role_not_allowed" || h403.Error.Message == "" {
		t.Errorf("403 body: %s", raw)
	}
}
