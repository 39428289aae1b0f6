package protocol_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

const toolCallBody = `{
  "jsonrpc": "2.0",
  "id": 7,
  "method": "tools/call",
  "params": {
    "name": "lookup_patient",
    "arguments": {"ssn": "939-79-6410", "note": "call 555-0136", "x-vendor": {"keep": 1.50}},
    "_meta": {"traceparent": "00-abc-def-01", "progressToken": 3}
  }
}`

func TestWalkVisitsEveryValueWithItsPath(t *testing.T) {
	doc, err := protocol.ParseJSON([]byte(toolCallBody), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = doc.Walk(func(n protocol.Node) error {
		got = append(got, n.Path.String()+"="+n.Value.Type().String()+":"+n.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"=object:", "/jsonrpc=string:jsonrpc", "/id=number:id", "/method=string:method",
		"/params=object:params", "/params/name=string:name", "/params/arguments=object:arguments",
		"/params/arguments/ssn=string:ssn", "/params/arguments/note=string:note",
		"/params/arguments/x-vendor=object:x-vendor", "/params/arguments/x-vendor/keep=number:keep",
		"/params/_meta=object:_meta", "/params/_meta/traceparent=string:traceparent", "/params/_meta/progressToken=number:progressToken"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWalkSkipChildrenAndStop(t *testing.T) {
	doc, _ := protocol.ParseJSON([]byte(toolCallBody), protocol.Limits{})
	n := 0
	_ = doc.Walk(func(nd protocol.Node) error {
		n++
		if nd.Key == "params" {
			return protocol.SkipChildren
		}
		return nil
	})
	if n != 5 {
		t.Errorf("visited %d with params skipped, want 5", n)
	}
	stop := errors.New("stop")
	if err := doc.Walk(func(protocol.Node) error { return stop }); err != stop {
		t.Errorf("walk error = %v, want the visitor's", err)
	}
}

func TestReplaceRedactsInPlaceAndKeepsEverythingElseByteForByte(t *testing.T) {
	doc, _ := protocol.ParseJSON([]byte(toolCallBody), protocol.Limits{})
	if err := doc.SetString(mustPath(t, "/params/arguments/ssn"), "[redacted:ssn]"); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(toolCallBody, `"939-79-6410"`, `"[redacted:ssn]"`, 1)
	if got := string(doc.Bytes()); got != want {
		t.Errorf("Bytes:\n%s\nwant:\n%s", got, want)
	}
	// The walk still shows the document as parsed; paths stay valid.
	v, _ := doc.At(mustPath(t, "/params/arguments/ssn"))
	if v.Str() != "939-79-6410" {
		t.Errorf("original value changed: %q", v.Str())
	}
}

func TestDeleteRemovesMembersAndKeepsUnknownFields(t *testing.T) {
	doc, _ := protocol.ParseJSON([]byte(toolCallBody), protocol.Limits{})
	if err := doc.Delete(mustPath(t, "/params/_meta/traceparent")); err != nil {
		t.Fatal(err)
	}
	if err := doc.Replace(mustPath(t, "/id"), []byte(`"p-1"`)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(doc.Bytes(), &got); err != nil {
		t.Fatalf("edited body is not JSON: %v\n%s", err, doc.Bytes())
	}
	params := got["params"].(map[string]any)
	if _, ok := params["_meta"].(map[string]any)["traceparent"]; ok {
		t.Error("traceparent still there")
	}
	if params["_meta"].(map[string]any)["progressToken"] != 3.0 || got["id"] != "p-1" {
		t.Errorf("edited body: %s", doc.Bytes())
	}
	if !strings.Contains(string(doc.Bytes()), `"x-vendor": {"keep": 1.50}`) {
		t.Errorf("unknown field not kept as sent: %s", doc.Bytes())
	}
	// Deleting every element of an array leaves an empty array.
	d2, _ := protocol.ParseJSON([]byte(`{"a":[1, 2],"b":0}`), protocol.Limits{})
	_ = d2.Delete(mustPath(t, "/a/0"))
	_ = d2.Delete(mustPath(t, "/a/1"))
	_ = d2.Delete(mustPath(t, "/b"))
	if got := string(d2.Bytes()); got != `{"a":[]}` {
		t.Errorf("after deletes: %s", got)
	}
}

func TestEditsInsideEmbeddedJSONReencodeTheString(t *testing.T) {
	body := `{"tool_calls":[{"id":"call_1","function":{"name":"send_email","arguments":"{\"to\":\"kathrynmyers@example.com\",\"body\":\"hi\"}"}}]}`
	doc, _ := protocol.ParseJSON([]byte(body), protocol.Limits{})
	args, err := doc.At(mustPath(t, "/tool_calls/0/function/arguments"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := args.Embed(); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for p, s := range doc.Strings() {
		paths = append(paths, p.String()+"="+s)
	}
	want := "/tool_calls/0/id=call_1 /tool_calls/0/function/name=send_email /tool_calls/0/function/arguments#/to=kathrynmyers@example.com /tool_calls/0/function/arguments#/body=hi"
	if strings.Join(paths, " ") != want {
		t.Errorf("strings:\n%s\nwant\n%s", strings.Join(paths, " "), want)
	}
	if err := doc.SetString(mustPath(t, "/tool_calls/0/function/arguments#/to"), "[redacted:email]"); err != nil {
		t.Fatal(err)
	}
	var out struct {
		ToolCalls []struct {
			Function struct{ Arguments string } `json:"function"`
		} `json:"tool_calls"`
	}
	if err := json.Unmarshal(doc.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, doc.Bytes())
	}
	if got := out.ToolCalls[0].Function.Arguments; got != `{"to":"[redacted:email]","body":"hi"}` {
		t.Errorf("arguments = %s", got)
	}
}

func TestEditsBelowAReplacedValueAreRefused(t *testing.T) {
	doc, _ := protocol.ParseJSON([]byte(toolCallBody), protocol.Limits{})
	if err := doc.Replace(mustPath(t, "/params/arguments"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := doc.SetString(mustPath(t, "/params/arguments/ssn"), "x"); err == nil {
		t.Error("edit below a replaced value accepted")
	}
	if err := doc.Replace(mustPath(t, "/params/name"), []byte(`not json`)); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("invalid replacement: %v", err)
	}
	if err := doc.Delete(protocol.Path{}); err == nil {
		t.Error("deleting the root accepted")
	}
	if _, err := doc.At(mustPath(t, "/params/nope")); !errors.Is(err, protocol.ErrNoValue) {
		t.Errorf("At(missing) = %v", err)
	}
}

func TestBytesWithoutEditsIsTheSource(t *testing.T) {
	src := []byte(toolCallBody)
	doc, _ := protocol.ParseJSON(src, protocol.Limits{})
	if doc.Changed() || &doc.Bytes()[0] != &src[0] {
		t.Error("unedited document did not return its source")
	}
}
