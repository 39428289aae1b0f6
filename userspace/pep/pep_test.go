package pep

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/classify"
)

const testPolicy = `security_mesh:
  zones:
    - {name: data, cidrs: [10.20.0.0/16]}
  domains:
    - name: pii
      tier: PLAINTEXT
      allowed_roles: [ANALYST, EXECUTOR]
      metadata_masking: true
      attestation_required: true
      max_token_age_ms: 60000
      max_body_bytes: 4096
      match: {destinations: [data], mcp_tools: ["crm_*"]}
      sensitive_fields: [{key: password, action: block}, {key: api_key, action: redact}]
      detectors:
        - {type: ssn, action: redact}
        - {type: email, action: audit}
        - {type: canary, action: block, prefixes: [CANARY_]}
      masked_keys: [tenant_id]
    - name: vault
      tier: FHE
      allowed_roles: [ANALYST]
      match: {http_paths: [/vault]}
    - name: coordination
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR, EXECUTOR]
      match: {jsonrpc_methods: [tools/call, tools/list]}
`

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testEngine(t testing.TB, src string, opts ...Option) *Engine {
	t.Helper()
	p, err := policy.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(p, append([]Option{WithClock(func() time.Time { return testNow })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// analyst is a source every check of domain pii accepts.
func analyst() Identity {
	return Identity{
		AgentID: "analyst-1", Role: "ANALYST", Zone: "control",
		Measurement: "sha256:aa", AcceptedMeasurements: []string{"sha256:aa", "sha256:bb"},
		CredentialIssued: testNow.Add(-10 * time.Second), CredentialExpiry: testNow.Add(5 * time.Minute),
	}
}

// crmCall is an MCP tools/call of crm_lookup to zone data that domain pii takes.
func crmCall(t testing.TB, body string) *Exchange {
	t.Helper()
	if body == "" {
		body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crm_lookup","arguments":{"q":"acme"}}}`
	}
	return &Exchange{
		Source:        analyst(),
		Destination:   Destination{Addr: netip.MustParseAddrPort("10.20.0.5:8080"), Zone: "data"},
		HTTPMethod:    "POST",
		HTTPPath:      "/mcp",
		JSONRPCMethod: "tools/call",
		MCPTool:       "crm_lookup",
		Headers:       http.Header{"Content-Type": {"application/json"}},
		Body:          decodeJSON(t, body),
		Raw:           []byte(body),
		BodySize:      int64(len(body)),
	}
}

func TestDecisionsForEveryReasonCode(t *testing.T) {
	e := testEngine(t, testPolicy)
	cases := []struct {
		name   string
		change func(ex *Exchange)
		domain string
		want   []Reason
	}{
		{"every check passes", func(*Exchange) {}, "pii", nil},
		{"no domain matches and no default_domain", func(ex *Exchange) {
			ex.Destination.Zone, ex.JSONRPCMethod, ex.MCPTool, ex.HTTPPath = "world", "initialize", "", "/other"
		}, "", []Reason{ReasonNoPolicy}},
		{"body over max_body_bytes", func(ex *Exchange) { ex.BodySize = 4097 }, "pii", []Reason{ReasonBodyTooLarge}},
		{"no credential", func(ex *Exchange) { ex.Source.CredentialExpiry = time.Time{} }, "pii", []Reason{ReasonCredentialMissing}},
		{"credential expired", func(ex *Exchange) { ex.Source.CredentialExpiry = testNow }, "pii", []Reason{ReasonCredentialExpired}},
		{"credential older than max_token_age_ms", func(ex *Exchange) { ex.Source.CredentialIssued = testNow.Add(-61 * time.Second) }, "pii", []Reason{ReasonCredentialExpired}},
		{"credential refused by the identity layer", func(ex *Exchange) { ex.Source.CredentialRefused = "credential_revoked" }, "pii", []Reason{"credential_revoked"}},
		{"role not allowed", func(ex *Exchange) { ex.Source.Role = "ORCHESTRATOR" }, "pii", []Reason{ReasonRoleNotAllowed}},
		{"no measurement", func(ex *Exchange) { ex.Source.Measurement = "" }, "pii", []Reason{ReasonAttestationMissing}},
		{"measurement not accepted", func(ex *Exchange) { ex.Source.Measurement = "sha256:evil" }, "pii", []Reason{ReasonAttestationMismatch}},
		{"measurement compared case-insensitively", func(ex *Exchange) { ex.Source.Measurement = "SHA256:BB" }, "pii", nil},
		{"no accepted measurements", func(ex *Exchange) { ex.Source.AcceptedMeasurements = nil }, "pii", []Reason{ReasonAttestationMismatch}},
		{"sensitive field with block", func(ex *Exchange) {
			ex.Body = decodeJSON(t, `{"method":"tools/call","params":{"arguments":{"Password":"hunter2"}}}`)
		}, "pii", []Reason{ReasonClassificationBlock}},
		{"canary with block", func(ex *Exchange) {
			ex.Body = decodeJSON(t, `{"method":"tools/call","params":{"arguments":{"q":"CANARY_77ab"}}}`)
		}, "pii", []Reason{ReasonClassificationBlock}},
		{"tier without protector", func(ex *Exchange) { ex.HTTPPath, ex.MCPTool = "/vault/x", "" }, "vault", []Reason{ReasonTierUnavailable}},
		{"every failure is listed in check order", func(ex *Exchange) {
			ex.Source = Identity{Role: "GHOST"}
			ex.BodySize = 1 << 20
			ex.Body = decodeJSON(t, `{"password":"x"}`)
		}, "pii", []Reason{ReasonBodyTooLarge, ReasonCredentialMissing, ReasonRoleNotAllowed, ReasonAttestationMissing, ReasonClassificationBlock}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex := crmCall(t, "")
			c.change(ex)
			d := e.Decide(context.Background(), ex)
			if d.Domain != c.domain {
				t.Errorf("domain = %q, want %q", d.Domain, c.domain)
			}
			if !slices.Equal(d.Reasons, c.want) {
				t.Errorf("reasons = %v, want %v", d.Reasons, c.want)
			}
			wantVerdict := Allow
			if len(c.want) > 0 {
				wantVerdict = Deny
			}
			if d.Verdict != wantVerdict {
				t.Errorf("verdict = %v, want %v", d.Verdict, wantVerdict)
			}
			if (d.Payload != nil) != (wantVerdict == Allow) {
				t.Errorf("payload %q with verdict %v", d.Payload, d.Verdict)
			}
		})
	}
}

func TestDomainsAreMatchedFirstInFileOrder(t *testing.T) {
	e := testEngine(t, testPolicy)
	executor := analyst()
	executor.Role = "EXECUTOR"
	cases := []struct {
		tool string
		zone string
		want string
	}{
		{"crm_lookup", "data", "pii"},           // pii and coordination both match: pii comes first
		{"search", "data", "coordination"},      // pii's tool glob fails
		{"crm_lookup", "world", "coordination"}, // pii's destination fails
	}
	for _, c := range cases {
		ex := crmCall(t, "")
		ex.Source, ex.MCPTool, ex.Destination.Zone = executor, c.tool, c.zone
		if d := e.Decide(context.Background(), ex); d.Domain != c.want || d.Verdict != Allow {
			t.Errorf("tool %s in %s: domain %q verdict %v %v, want %s", c.tool, c.zone, d.Domain, d.Verdict, d.Reasons, c.want)
		}
	}
}

func TestDefaultDomainTakesWhatNoMatchSelects(t *testing.T) {
	e := testEngine(t, testPolicy+"    - {name: fallback, tier: PLAINTEXT, allowed_roles: [ANALYST]}\n  default_domain: fallback\n")
	ex := crmCall(t, "")
	ex.Destination.Zone, ex.JSONRPCMethod, ex.MCPTool, ex.HTTPPath = "world", "initialize", "", "/other"
	if d := e.Decide(context.Background(), ex); d.Domain != "fallback" || d.Verdict != Allow {
		t.Errorf("decision %+v", d)
	}
}

func TestTemplatePolicyRefusesEverythingWithNoPolicy(t *testing.T) {
	p, err := policy.Load("../../policy/testdata/security_mesh.template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(context.Background(), crmCall(t, "")); d.Reason() != ReasonNoPolicy {
		t.Errorf("decision %+v", d)
	}
}

func TestAllowedRequestIsRedactedScrubbedAndEncoded(t *testing.T) {
	e := testEngine(t, testPolicy)
	ex := crmCall(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crm_lookup",
		"arguments":{"customer":{"ssn":"123-45-6789","api_key":"k","contact":"ann@example.com"}},
		"_meta":{"progressToken":"p","traceparent":"00-abc","tenant_id":"t1"}}}`)
	ex.Headers.Set("X-Forwarded-For", "10.0.0.9")
	ex.Headers.Set("User-Agent", "mcp-client/1.0")
	d := e.Decide(context.Background(), ex)
	if d.Verdict != Allow {
		t.Fatalf("verdict %v %v", d.Verdict, d.Reasons)
	}
	want := `{"id":1,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"progressToken":"p"},"arguments":{"customer":{"api_key":"[redacted:field:api_key]","contact":"ann@example.com","ssn":"[redacted:ssn]"}},"name":"crm_lookup"}}`
	if string(d.Payload) != want {
		t.Errorf("payload =\n%s\nwant\n%s", d.Payload, want)
	}
	wantRedactions := []Redaction{
		{Path: "$.params.arguments.customer.api_key", Type: classify.TypeField},
		{Path: "$.params.arguments.customer.ssn", Type: "ssn"},
	}
	if !reflect.DeepEqual(d.Redactions, wantRedactions) {
		t.Errorf("redactions = %+v", d.Redactions)
	}
	if len(d.Findings) != 3 { // the e-mail is audited, not redacted
		t.Errorf("findings = %+v", d.Findings)
	}
	if !reflect.DeepEqual(d.Scrubbed.Removed, []string{"X-Forwarded-For", "$.params._meta.tenant_id", "$.params._meta.traceparent"}) ||
		!reflect.DeepEqual(d.Scrubbed.Normalised, []string{"User-Agent"}) {
		t.Errorf("scrubbed = %+v", d.Scrubbed)
	}
	if ex.Headers.Get("X-Forwarded-For") != "" || !d.BodyChanged {
		t.Errorf("headers %v changed %v", ex.Headers, d.BodyChanged)
	}
}

func TestUnchangedBodyIsForwardedByteForByte(t *testing.T) {
	e := testEngine(t, testPolicy)
	raw := `{"jsonrpc":"2.0", "id":1, "method":"tools/call", "params":{"name":"crm_lookup","arguments":{"q":"<b>acme</b>"}}}`
	ex := crmCall(t, raw)
	d := e.Decide(context.Background(), ex)
	if d.Verdict != Allow || string(d.Payload) != raw || d.BodyChanged {
		t.Errorf("payload %q changed %v verdict %v %v", d.Payload, d.BodyChanged, d.Verdict, d.Reasons)
	}
}

// sealed is a tier protector for tests: it wraps the payload, or fails.
type sealed struct{ fail bool }

func (s sealed) Protect(_ context.Context, tier string, body []byte) ([]byte, error) {
	if s.fail {
		return nil, errors.New("key service down")
	}
	return []byte(tier + "(" + string(body) + ")"), nil
}

func TestTierProtectorRunsAfterScrubbingAndFailsClosed(t *testing.T) {
	vault := func(ex *Exchange) { ex.HTTPPath, ex.MCPTool = "/vault/read", "" }
	ok := testEngine(t, testPolicy, WithTierProtector("FHE", sealed{}))
	ex := crmCall(t, "")
	vault(ex)
	d := ok.Decide(context.Background(), ex)
	if d.Verdict != Allow || !strings.HasPrefix(string(d.Payload), "FHE({") {
		t.Errorf("decision %v %v payload %q", d.Verdict, d.Reasons, d.Payload)
	}
	failing := testEngine(t, testPolicy, WithTierProtector("FHE", sealed{fail: true}))
	ex = crmCall(t, "")
	vault(ex)
	d = failing.Decide(context.Background(), ex)
	if d.Reason() != ReasonTierFailed || d.Payload != nil || !strings.Contains(d.Err.Error(), "key service down") {
		t.Errorf("decision %v %v payload %q err %v", d.Verdict, d.Reasons, d.Payload, d.Err)
	}
}

func TestDatapathIdentityPassesIdentityChecksUntilIdentityWorkLands(t *testing.T) {
	e := testEngine(t, testPolicy)
	ex := crmCall(t, "")
	ex.Source = DatapathIdentity(policy.Agent{ID: "a", Role: "ANALYST", Zone: "control"}, testNow, time.Minute)
	if d := e.Decide(context.Background(), ex); d.Verdict != Allow {
		t.Errorf("datapath identity refused: %v", d.Reasons)
	}
}

func TestRespondClassifiesToolResults(t *testing.T) {
	e := testEngine(t, testPolicy)
	body := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"SSN 123-45-6789"}],"isError":false}}`
	d := e.Respond(&Response{Domain: "pii", Body: decodeJSON(t, body), Raw: []byte(body)})
	if d.Verdict != Allow || string(d.Payload) != `{"id":1,"jsonrpc":"2.0","result":{"content":[{"text":"SSN [redacted:ssn]","type":"text"}],"isError":false}}` {
		t.Errorf("decision %v %v payload %s", d.Verdict, d.Reasons, d.Payload)
	}
	leak := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"CANARY_x1"}]}}`
	if d := e.Respond(&Response{Domain: "pii", Body: decodeJSON(t, leak)}); d.Reason() != ReasonClassificationBlock || d.Payload != nil {
		t.Errorf("canary in result: %v %v", d.Reasons, d.Payload)
	}
	if d := e.Respond(&Response{Domain: "gone"}); d.Reason() != ReasonNoPolicy {
		t.Errorf("unknown domain: %v", d.Reasons)
	}
}

func TestRefusalsSpeakTheAgentsProtocol(t *testing.T) {
	e := testEngine(t, testPolicy)
	ex := crmCall(t, "")
	ex.Source.Role = "ORCHESTRATOR"
	d := e.Decide(context.Background(), ex)
	status, body := d.HTTPRefusal()
	if status != http.StatusForbidden || string(body) != `{"error":{"message":"Refused by Meshwarden policy: role_not_allowed","type":"policy_refusal","code":"role_not_allowed","reason":"role_not_allowed","domain":"pii"}}` {
		t.Errorf("HTTP refusal %d %s", status, body)
	}
	for _, id := range []any{float64(7), "req-7", nil} {
		var resp struct {
			JSONRPC string `json:"jsonrpc"`
			ID      any    `json:"id"`
			Error   struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
				Data    struct{ Reason, Domain string }
			} `json:"error"`
		}
		if err := json.Unmarshal(d.JSONRPCRefusal(id), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.JSONRPC != "2.0" || resp.ID != id || resp.Error.Code != -31403 || resp.Error.Data.Reason != "role_not_allowed" || resp.Error.Data.Domain != "pii" {
			t.Errorf("JSON-RPC refusal for id %v: %+v", id, resp)
		}
	}
	big := Decision{Reasons: []Reason{ReasonBodyTooLarge}}
	tier := Decision{Reasons: []Reason{ReasonTierUnavailable}}
	if big.HTTPStatus() != 413 || tier.HTTPStatus() != 503 {
		t.Errorf("statuses %d %d", big.HTTPStatus(), tier.HTTPStatus())
	}
}

func TestBodyLimitBeforeTheBodyIsParsed(t *testing.T) {
	e := testEngine(t, testPolicy+"    - {name: bulk, tier: PLAINTEXT, max_body_bytes: 8388608, match: {http_paths: [/bulk]}}\n")
	data := Destination{Addr: netip.MustParseAddrPort("10.20.0.5:8080"), Zone: "data"}
	world := Destination{Addr: netip.MustParseAddrPort("192.0.2.1:80"), Zone: "world"}
	cases := []struct {
		dst  Destination
		path string
		want int64
	}{
		{data, "/mcp", policy.DefaultMaxBodyBytes}, // pii (4096) or coordination (1 MiB): the larger
		{world, "/bulk/upload", 8 << 20},
		{world, "/vault", policy.DefaultMaxBodyBytes},
	}
	for _, c := range cases {
		if got := e.BodyLimit(c.dst, c.path); got != c.want {
			t.Errorf("BodyLimit(%s, %s) = %d, want %d", c.dst.Zone, c.path, got, c.want)
		}
	}
}

func TestEngineIsSafeForConcurrentUse(t *testing.T) {
	e := testEngine(t, testPolicy)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				ex := crmCall(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crm_lookup","arguments":{"ssn":"123-45-6789"}}}`)
				if (g+i)%2 == 0 {
					ex.Source.Role = "ORCHESTRATOR"
				}
				d := e.Decide(context.Background(), ex)
				if len(d.Redactions) != 1 || (d.Verdict == Allow) != ((g+i)%2 == 1) {
					t.Errorf("decision %v %v %+v", d.Verdict, d.Reasons, d.Redactions)
					return
				}
			}
		})
	}
	wg.Wait()
}
