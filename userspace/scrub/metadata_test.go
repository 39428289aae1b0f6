package scrub

import (
	"encoding/json"
	"reflect"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMetadataRemovesDesignTraceAndMaskedKeys(t *testing.T) {
	m := NewMetadata([]string{"Tenant_ID"})
	v := decode(t, `{"jsonrpc":"2.0","id":1,"method":"message/send","params":{
		"metadata":{"sender_ip":"10.0.0.7","Routing_Path":"a>b","keep":"yes"},
		"message":{"messageId":"m1","metadata":{"internal_id":"42","timestamp":"2024-01-01","tenant_id":"t9","traceparent":"00-x"},
			"parts":[{"kind":"text","text":"hi","metadata":{"baggage":"k=v","lang":"en"}},{"kind":"text","text":"no metadata"}]}}}`)
	var s Summary
	for _, p := range MetadataPaths() {
		s.Add(m.CleanAt(v, p...))
	}
	want := `{"id":1,"jsonrpc":"2.0","method":"message/send","params":{"message":{"messageId":"m1","metadata":{},"parts":[{"kind":"text","metadata":{"lang":"en"},"text":"hi"},{"kind":"text","text":"no metadata"}]},"metadata":{"keep":"yes"}}}`
	if got := encode(t, v); got != want {
		t.Errorf("cleaned =\n%s\nwant\n%s", got, want)
	}
	wantRemoved := []string{
		"$.params.metadata.Routing_Path", "$.params.metadata.sender_ip",
		"$.params.message.metadata.internal_id", "$.params.message.metadata.tenant_id",
		"$.params.message.metadata.timestamp", "$.params.message.metadata.traceparent",
		"$.params.message.parts[0].metadata.baggage",
	}
	if !reflect.DeepEqual(s.Removed, wantRemoved) {
		t.Errorf("Removed =\n%q\nwant\n%q", s.Removed, wantRemoved)
	}
	assertNoValues(t, s)
}

func TestMetadataLeavesNestedApplicationKeys(t *testing.T) {
	m := NewMetadata(nil)
	v := decode(t, `{"params":{"_meta":{"progressToken":"p1","traceparent":"00-x","app":{"timestamp":"keep"}}}}`)
	s := m.CleanAt(v, "params", "_meta")
	if got := encode(t, v); got != `{"params":{"_meta":{"app":{"timestamp":"keep"},"progressToken":"p1"}}}` {
		t.Errorf("cleaned = %s", got)
	}
	if !reflect.DeepEqual(s.Removed, []string{"$.params._meta.traceparent"}) {
		t.Errorf("Removed = %q", s.Removed)
	}
}

func TestWalkFollowsKeysIndexesAndStars(t *testing.T) {
	v := decode(t, `{"a":[{"b":{"x":1}},{"b":{"y":2}},{"c":3}],"odd key":{"b":{}}}`)
	var got []string
	Walk(v, []string{"a", "*", "b"}, func(_ map[string]any, at string) { got = append(got, at) })
	Walk(v, []string{"a", "1", "b"}, func(_ map[string]any, at string) { got = append(got, at) })
	Walk(v, []string{"*", "b"}, func(_ map[string]any, at string) { got = append(got, at) })
	Walk(v, []string{"a", "9", "b"}, func(_ map[string]any, at string) { got = append(got, at) })
	Walk(v, []string{"a", "0", "b", "x"}, func(_ map[string]any, at string) { got = append(got, at) })
	want := []string{"$.a[0].b", "$.a[1].b", "$.a[1].b", `$["odd key"].b`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("visited %q, want %q", got, want)
	}
}

func TestClientInfoKeepsOnlyTheName(t *testing.T) {
	v := decode(t, `{"method":"initialize","params":{"protocolVersion":"2025-06-18","clientInfo":{"name":"claude-code","version":"1.0.83","title":"Claude Code","websiteUrl":"https://x","icons":[]}}}`)
	var s Summary
	for _, p := range ClientInfoPaths() {
		s.Add(ClientInfoAt(v, p...))
	}
	if got := encode(t, v); got != `{"method":"initialize","params":{"clientInfo":{"name":"claude-code","version":"0"},"protocolVersion":"2025-06-18"}}` {
		t.Errorf("cleaned = %s", got)
	}
	if !reflect.DeepEqual(s.Removed, []string{"$.params.clientInfo.icons", "$.params.clientInfo.title", "$.params.clientInfo.websiteUrl"}) ||
		!reflect.DeepEqual(s.Normalised, []string{"$.params.clientInfo.version"}) {
		t.Errorf("summary = %+v", s)
	}
}
