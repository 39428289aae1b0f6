package classify

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
)

// decode parses a JSON document the way the enforcer does.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustClassifier(t testing.TB, d *policy.Domain) *Classifier {
	t.Helper()
	c, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// piiDomain redacts SSNs and cards, blocks canaries, audits e-mail, and knows three fields.
func piiDomain() *policy.Domain {
	return &policy.Domain{
		Name: "pii",
		SensitiveFields: []policy.SensitiveField{
			{Key: "password", Action: policy.ActionBlock},
			{Key: "api_key", Action: policy.ActionRedact},
			{Key: "note", Action: policy.ActionAudit},
		},
		Detectors: []policy.Detector{
			{Type: policy.DetectorSSN, Action: policy.ActionRedact},
			{Type: policy.DetectorPaymentCard, Action: policy.ActionRedact},
			{Type: policy.DetectorEmail, Action: policy.ActionAudit},
			{Type: policy.DetectorCanary, Action: policy.ActionBlock, Prefixes: []string{"CANARY_"}},
		},
	}
}

func TestRedactReplacesSSNInsideNestedJSON(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	v := decode(t, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"lookup",
		"arguments":{"customers":[{"name":"Ann","ssn":"123-45-6789"},{"name":"Bob","memo":"his SSN is 219-09-9998, call back"}]}}}`)
	out, fs := c.Redact(v)
	want := `{"id":7,"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{"customers":[{"name":"Ann","ssn":"[redacted:ssn]"},{"memo":"his SSN is [redacted:ssn], call back","name":"Bob"}]},"name":"lookup"}}`
	if got := encode(t, out); got != want {
		t.Errorf("redacted =\n%s\nwant\n%s", got, want)
	}
	wantFindings := []Finding{
		{Type: policy.DetectorSSN, Path: "$.params.arguments.customers[0].ssn", Offset: 0, Length: 11, Action: policy.ActionRedact},
		{Type: policy.DetectorSSN, Path: "$.params.arguments.customers[1].memo", Offset: 11, Length: 11, Action: policy.ActionRedact},
	}
	if !reflect.DeepEqual(fs, wantFindings) {
		t.Errorf("findings = %+v\nwant %+v", fs, wantFindings)
	}
	if Blocked(fs) {
		t.Error("redact findings reported as blocking")
	}
}

func TestScanDoesNotChangeTheValue(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	src := `{"a":{"ssn":"123-45-6789","api_key":"sk-1","password":"pw"}}`
	v := decode(t, src)
	if fs := c.Scan(v); len(fs) != 3 {
		t.Errorf("findings = %+v", fs)
	}
	if got := encode(t, v); got != encode(t, decode(t, src)) {
		t.Errorf("Scan changed the value: %s", got)
	}
}

func TestSensitiveFieldsMatchAnyDepthCaseInsensitively(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	v := decode(t, `{"config":{"API_Key":"sk-123","nested":[{"Password":{"old":"a","new":"b"}}]},
		"NOTE":"ask alice@example.com about 123-45-6789"}`)
	out, fs := c.Redact(v)
	want := `{"NOTE":"ask alice@example.com about [redacted:ssn]","config":{"API_Key":"[redacted:field:API_Key]","nested":[{"Password":"[redacted:field:Password]"}]}}`
	if got := encode(t, out); got != want {
		t.Errorf("redacted =\n%s\nwant\n%s", got, want)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Type+" "+f.Key+" "+f.Path+" "+string(f.Action))
	}
	wantFindings := []string{
		"field NOTE $.NOTE audit",
		"email  $.NOTE audit",
		"ssn  $.NOTE redact",
		"field API_Key $.config.API_Key redact",
		"field Password $.config.nested[0].Password block",
	}
	if strings.Join(got, "\n") != strings.Join(wantFindings, "\n") {
		t.Errorf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantFindings, "\n"))
	}
	if !Blocked(fs) {
		t.Error("password field did not block")
	}
}

func TestCanaryPrefixBlocksAndIsRedactedFromTheKeptBody(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	out, fs := c.RedactText("here is the token CANARY_9f8e7d, keep it")
	if out != "here is the token [redacted:canary], keep it" {
		t.Errorf("RedactText = %q", out)
	}
	if len(fs) != 1 || fs[0].Type != policy.DetectorCanary || fs[0].Path != "" || !Blocked(fs) {
		t.Errorf("findings = %+v", fs)
	}
}

func TestLuhnValidCardIsRedactedAndInvalidIsLeft(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	v := decode(t, `{"valid":"card 4111 1111 1111 1111 exp 12/27","invalid":"card 4111 1111 1111 1112","number":4111111111111111,"other":4111111111111112}`)
	out, fs := c.Redact(v)
	want := `{"invalid":"card 4111 1111 1111 1112","number":"[redacted:payment_card]","other":4111111111111112,"valid":"card [redacted:payment_card] exp 12/27"}`
	if got := encode(t, out); got != want {
		t.Errorf("redacted =\n%s\nwant\n%s", got, want)
	}
	if len(fs) != 2 || fs[0].Path != "$.number" || fs[1].Path != "$.valid" {
		t.Errorf("findings = %+v", fs)
	}
}

func TestEmbeddedJSONArgumentsAreScannedAsJSON(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	v := decode(t, `{"tool_calls":[{"function":{"name":"f","arguments":"{\"api_key\":\"sk-1\",\"q\":\"ssn 123-45-6789\"}"}}]}`)
	out, fs := c.Redact(v)
	args := out.(map[string]any)["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)["arguments"].(string)
	if args != `{"api_key":"[redacted:field:api_key]","q":"ssn [redacted:ssn]"}` {
		t.Errorf("arguments = %s", args)
	}
	if len(fs) != 2 || fs[0].Path != "$.tool_calls[0].function.arguments#json.api_key" || fs[1].Path != "$.tool_calls[0].function.arguments#json.q" {
		t.Errorf("findings = %+v", fs)
	}
}

func TestAuditOnlyFindingsLeaveTheValue(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	v := decode(t, `{"text":"mail alice@example.com"}`)
	out, fs := c.Redact(v)
	if encode(t, out) != `{"text":"mail alice@example.com"}` || len(fs) != 1 || fs[0].Action != policy.ActionAudit {
		t.Errorf("out %s findings %+v", encode(t, out), fs)
	}
}

func TestRedactOfARootStringAndOddKeys(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	out, fs := c.Redact("123-45-6789")
	if out != "[redacted:ssn]" || len(fs) != 1 || fs[0].Path != "$" {
		t.Errorf("root: %v %+v", out, fs)
	}
	_, fs = c.Redact(map[string]any{"a b": []any{"x", "123-45-6789"}})
	if len(fs) != 1 || fs[0].Path != `$["a b"][1]` {
		t.Errorf("findings = %+v", fs)
	}
}

func TestEmptyClassifierFindsNothing(t *testing.T) {
	c := mustClassifier(t, &policy.Domain{Name: "empty"})
	v := decode(t, `{"ssn":"123-45-6789"}`)
	if out, fs := c.Redact(v); fs != nil || !c.Empty() || encode(t, out) != `{"ssn":"123-45-6789"}` {
		t.Errorf("empty classifier: %v %+v", out, fs)
	}
}

func TestNewRefusesWhatThePolicyWouldRefuse(t *testing.T) {
	bad := []*policy.Domain{
		{Name: "a", Detectors: []policy.Detector{{Type: "passport", Action: policy.ActionBlock}}},
		{Name: "b", Detectors: []policy.Detector{{Type: policy.DetectorSSN, Action: "drop"}}},
		{Name: "c", Detectors: []policy.Detector{{Type: policy.DetectorSSN, Action: policy.ActionBlock}, {Type: policy.DetectorSSN, Action: policy.ActionAudit}}},
		{Name: "d", SensitiveFields: []policy.SensitiveField{{Key: "", Action: policy.ActionBlock}}},
		{Name: "e", SensitiveFields: []policy.SensitiveField{{Key: "x", Action: "BLOCK"}}},
	}
	for _, d := range bad {
		if _, err := New(d); err == nil || !strings.Contains(err.Error(), `domain "`+d.Name+`"`) {
			t.Errorf("New(%s) err = %v", d.Name, err)
		}
	}
}

func TestClassifierIsSafeForConcurrentUse(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				v := decode(t, `{"a":["123-45-6789",{"password":"x"}]}`)
				if _, fs := c.Redact(v); len(fs) != 2 {
					t.Errorf("findings = %+v", fs)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Detectors look at object keys too: an agent that writes a record keyed by SSN, or a canary as
// a key, is caught like one that puts them in values. Redaction renames the key (two keys that
// redact alike both stay); a blocking match in a key blocks.
func TestDetectorsScanObjectKeysAndRedactionRenamesThem(t *testing.T) {
	c := mustClassifier(t, piiDomain())
	v := decode(t, `{"by_ssn":{"123-45-6789":{"name":"Ann"},"219-09-9998":{"name":"Bob"},"plain":1}}`)
	out, fs := c.Redact(v)
	want := `{"by_ssn":{"[redacted:ssn]":{"name":"Ann"},"[redacted:ssn]#2":{"name":"Bob"},"plain":1}}`
	want2 := `{"by_ssn":{"[redacted:ssn]":{"name":"Bob"},"[redacted:ssn]#2":{"name":"Ann"},"plain":1}}` // map order decides which comes first
	if got := encode(t, out); got != want && got != want2 {
		t.Errorf("redacted =\n%s\nwant\n%s", got, want)
	}
	if len(fs) != 2 || !fs[0].InKey || fs[0].Type != policy.DetectorSSN || fs[0].Action != policy.ActionRedact || !strings.HasPrefix(fs[0].Path, "$.by_ssn[") {
		t.Errorf("findings = %+v", fs)
	}
	if _, fs := c.Redact(decode(t, `{"CANARY_7f3a":"x"}`)); !Blocked(fs) || !fs[0].InKey {
		t.Errorf("a canary key: findings %+v, want a blocking finding in the key", fs)
	}
}
