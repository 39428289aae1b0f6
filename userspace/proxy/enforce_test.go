package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

const testSSN = "219-09-9999"

func TestAllowedMCPCallArrivesScrubbedRedactedAndPseudonymisedAndItsAnswerComesBackUnderTheClientsIDs(t *testing.T) {
	var up seen
	const serverSession = "srv-session-4242"
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := decodeRPCBytes(up.add(r))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Mcp-Session-Id", serverSession)
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("Server", "toolsrv/1.2")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(m.ID)+`,"result":{"content":[{"type":"text","text":"customer ssn `+testSSN+`"}],"_meta":{"sender_ip":"10.9.9.9","keep":"ok"}}}`)
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	client := h.httpClient(t)
	url := "http://" + upstream.String() + "/mcp"

	call := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"my ssn is ` + testSSN + `","api_key":"sk-live-1"},"_meta":{"traceparent":"00-abc-def-01","sender_ip":"10.1.1.1","tenant_id":"t-9","keep":"y"}}}`
	resp, body := post(t, client, url, call, "X-Forwarded-For", "10.1.1.1", "Traceparent", "00-abc-def-01", "User-Agent", "secret-agent/7")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := decodeRPC(t, body)
	if string(got.ID) != "7" {
		t.Errorf("the client got id %s, want its own 7", got.ID)
	}
	text := got.Result["content"].([]any)[0].(map[string]any)["text"]
	if text != "customer ssn [redacted:ssn]" {
		t.Errorf("result text at the client: %v", text)
	}
	if meta := got.Result["_meta"].(map[string]any); meta["sender_ip"] != nil || meta["keep"] != "ok" {
		t.Errorf("result _meta at the client: %v", meta)
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" || sid == serverSession {
		t.Errorf("the client holds session id %q, want a pseudonym of %q", sid, serverSession)
	}
	for _, hname := range []string{"X-Powered-By", "Server"} {
		if v := resp.Header.Get(hname); v != "" {
			t.Errorf("the client got %s: %s", hname, v)
		}
	}

	reqs := up.all()
	if len(reqs) != 1 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	at := decodeRPCBytes(reqs[0].Body)
	if string(at.ID) == "7" || len(at.ID) == 0 {
		t.Errorf("the server got the client's own id %s", at.ID)
	}
	args := at.Params["arguments"].(map[string]any)
	if args["text"] != "my ssn is [redacted:ssn]" || args["api_key"] != "[redacted:field:api_key]" {
		t.Errorf("arguments at the server: %v", args)
	}
	if meta := at.Params["_meta"].(map[string]any); len(meta) != 1 || meta["keep"] != "y" {
		t.Errorf("_meta at the server: %v", meta)
	}
	for _, hname := range []string{"X-Forwarded-For", "Traceparent"} {
		if v := reqs[0].Header.Get(hname); v != "" {
			t.Errorf("the server got %s: %s", hname, v)
		}
	}
	if ua := reqs[0].Header.Get("User-Agent"); ua != "meshwarden" {
		t.Errorf("the server got User-Agent %q", ua)
	}

	// The next call in the session carries the pseudonym; the server gets its own id back.
	resp, body = post(t, client, url, `{"jsonrpc":"2.0","id":"b","method":"tools/list"}`, "Mcp-Session-Id", sid)
	if resp.StatusCode != 200 || string(decodeRPC(t, body).ID) != `"b"` {
		t.Fatalf("second call: %d %s", resp.StatusCode, body)
	}
	if got := up.all()[1].Header.Get("Mcp-Session-Id"); got != serverSession {
		t.Errorf("the server got session id %q, want its own %q", got, serverSession)
	}

	recs := h.sink.until(t, has(
		func(r audit.Record) bool { return r.Kind == audit.KindRequest && r.Tool == "echo" },
		func(r audit.Record) bool { return r.Kind == audit.KindMessage && r.Channel == audit.ChannelToolOutput },
		func(r audit.Record) bool { return r.Kind == audit.KindRequest && r.RPCMethod == "tools/list" },
	))
	ex, _ := find(recs, func(r audit.Record) bool { return r.Kind == audit.KindRequest && r.Tool == "echo" })
	if ex.Domain != "tools" || ex.Protocol != "mcp" || ex.RPCMethod != "tools/call" || ex.Channel != audit.ChannelToolInput ||
		ex.Verdict != "REDIRECT" || ex.Reason != "relayed" || ex.Status != 200 || ex.ExchangeID == "" || ex.PayloadSHA256 == "" {
		t.Errorf("exchange record: %+v", ex)
	}
	for _, k := range []string{"X-Forwarded-For", "Traceparent", "$.params._meta.sender_ip", "$.params._meta.tenant_id", "jsonrpc_id", "Mcp-Session-Id", "Server", "X-Powered-By", "User-Agent"} {
		if !slices.Contains(ex.MaskedKeys, k) {
			t.Errorf("masked keys %v lack %s", ex.MaskedKeys, k)
		}
	}
	for _, f := range []string{"finding/request/ssn/redact/$.params.arguments.text", "finding/request/field/redact/$.params.arguments.api_key", "finding/response/ssn/redact/$.result.content[0].text"} {
		if !slices.Contains(ex.ReasonCodes, f) {
			t.Errorf("reason codes %v lack %s", ex.ReasonCodes, f)
		}
	}
	in, _ := find(recs, func(r audit.Record) bool {
		return r.Kind == audit.KindMessage && r.Channel == audit.ChannelToolInput && r.Tool == "echo"
	})
	out, _ := find(recs, func(r audit.Record) bool { return r.Kind == audit.KindMessage && r.Channel == audit.ChannelToolOutput })
	if in.ExchangeID != ex.ExchangeID || in.RPCMethod != "tools/call" || out.ExchangeID != ex.ExchangeID || out.RPCMethod != "tools/call" || out.Tool != "echo" {
		t.Errorf("message records:\n in %+v\nout %+v", in, out)
	}
	raw, _ := json.Marshal(recs)
	for _, secret := range []string{testSSN, "sk-live-1", "10.1.1.1", "00-abc-def-01", serverSession, "t-9", "secret-agent"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("an audit record holds %q", secret)
		}
	}
}

func TestRefusalsAnswerInTheClientsProtocolAndNeverReachTheServer(t *testing.T) {
	var hits atomic.Int64
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	client := h.httpClient(t)
	base := "http://" + upstream.String()

	cases := []struct {
		name, path, body string
		reason, domain   string
		jsonrpc          bool
		status           int
	}{
		{"role not allowed, JSON-RPC", "/guests", `{"jsonrpc":"2.0","id":"q-1","method":"tools/call","params":{"name":"x"}}`, "role_not_allowed", "guests", true, 200},
		{"role not allowed, plain HTTP", "/guests", `{"q":1}`, "role_not_allowed", "guests", false, 403},
		{"no domain", "/elsewhere", `{"jsonrpc":"2.0","id":3,"method":"message/send","params":{}}`, "no_policy", "", true, 200},
		{"canary in tool arguments", "/mcp", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"note":"see CANARY_7f3a9c"}}}`, "classification_block", "tools", true, 200},
		{"password field", "/mcp", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"login":{"Password":"hunter2"}}}}`, "classification_block", "tools", true, 200},
		{"canary in a text body", "/text", "plain CANARY_abc text", "classification_block", "tools", false, 403},
		{"tier without protector", "/vault", `{"v":1}`, "tier_unavailable", "vault", false, 503},
	}
	for _, c := range cases {
		ctype := "application/json"
		if c.name == "canary in a text body" {
			ctype = "text/plain"
		}
		resp, body := post(t, client, base+c.path, c.body, "Content-Type", ctype)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: status %d %q: %s", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			continue
		}
		var reason, domain any
		if c.jsonrpc {
			m := decodeRPC(t, body)
			in := decodeRPCBytes([]byte(c.body))
			if m.Error == nil || m.Error.Code != -31403 || string(m.ID) != string(in.ID) || !strings.Contains(m.Error.Message, c.reason) {
				t.Errorf("%s: JSON-RPC refusal %s", c.name, body)
				continue
			}
			reason, domain = m.Error.Data["reason"], m.Error.Data["domain"]
		} else {
			var e struct{ Error map[string]any }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("%s: %v: %s", c.name, err, body)
			}
			reason, domain = e.Error["reason"], e.Error["domain"]
			if e.Error["code"] != c.reason || e.Error["type"] != "policy_refusal" {
				t.Errorf("%s: HTTP refusal %s", c.name, body)
			}
		}
		if reason != c.reason || (c.domain != "" && domain != c.domain) {
			t.Errorf("%s: reason %v domain %v, want %s %s", c.name, reason, domain, c.reason, c.domain)
		}
	}
	// A clean call on the same connection after the refusals goes through.
	if resp, body := post(t, client, base+"/mcp", `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`); resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("clean call after refusals: %d %s", resp.StatusCode, body)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the server was reached %d times, want only by the clean call", n)
	}
	recs := h.sink.until(t, func(rs []audit.Record) bool {
		n := 0
		for _, r := range rs {
			if r.Kind == audit.KindRequest {
				n++
			}
		}
		return n == len(cases)+1
	})
	for _, c := range cases {
		if _, ok := find(recs, func(r audit.Record) bool {
			return r.Kind == audit.KindRequest && r.Verdict == "DENY" && r.Reason == c.reason && r.Path == c.path
		}); !ok {
			t.Errorf("%s: no DENY record with reason %s", c.name, c.reason)
		}
	}
	raw, _ := json.Marshal(recs)
	for _, secret := range []string{"CANARY_7f3a9c", "hunter2"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("an audit record holds %q", secret)
		}
	}
}

func decodeRPCBytes(b []byte) rpc {
	var m rpc
	_ = json.Unmarshal(b, &m)
	return m
}
