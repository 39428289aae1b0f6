package protocol_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

func TestParseJSONRejectsWhatRFC8259Rejects(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `'x'`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`"\x"`, `"\u12"`, "\"a\nb\"", `"unterminated`, `tru`, `nul`, `[1 2]`, `{"a":1}{}`, `{"a":1} x`,
		"\xef\xbb\xbf{}", `NaN`, `[Infinity]`,
	} {
		if _, err := protocol.ParseJSON([]byte(in), protocol.Limits{}); !errors.Is(err, protocol.ErrMalformed) {
			t.Errorf("ParseJSON(%q) = %v, want ErrMalformed", in, err)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("test input %q is valid for encoding/json", in)
		}
	}
}

func TestParseJSONRefusesDuplicateKeysThatReceiversReadDifferently(t *testing.T) {
	for _, in := range []string{
		`{"method":"tools/list","method":"tools/call"}`,
		`{"a":{"name":"x","name":"y"}}`,
		`{"method":"a","\u006dethod":"b"}`, // the same key, escaped
	} {
		_, err := protocol.ParseJSON([]byte(in), protocol.Limits{})
		if !errors.Is(err, protocol.ErrMalformed) || !strings.Contains(err.Error(), "duplicate key") {
			t.Errorf("ParseJSON(%s) = %v, want a duplicate key error", in, err)
		}
		doc, err := protocol.ParseJSON([]byte(in), protocol.Limits{AllowDuplicateKeys: true})
		if err != nil {
			t.Errorf("with AllowDuplicateKeys: %v", err)
			continue
		}
		_ = doc
	}
	doc, _ := protocol.ParseJSON([]byte(`{"method":"tools/list","method":"tools/call"}`), protocol.Limits{AllowDuplicateKeys: true})
	if got := doc.Root().Get("method").Str(); got != "tools/call" {
		t.Errorf("duplicate key: Get = %q, want the last one, as JavaScript reads it", got)
	}
}

func TestGetMatchesKeysExactlyUnlikeEncodingJSON(t *testing.T) {
	doc, err := protocol.ParseJSON([]byte(`{"Method":"tools/call","method":"tools/list"}`), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().Get("method").Str(); got != "tools/list" {
		t.Errorf("Get(method) = %q, want tools/list", got)
	}
	var viaStd struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal([]byte(`{"method":"tools/list","Method":"tools/call"}`), &viaStd)
	if viaStd.Method != "tools/call" {
		t.Logf("encoding/json now reads %q (the case-insensitive match this parser avoids)", viaStd.Method)
	}
}

func TestParseJSONEnforcesLimits(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	if _, err := protocol.ParseJSON([]byte(deep), protocol.Limits{}); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("200 deep: %v, want ErrTooLarge", err)
	}
	if _, err := protocol.ParseJSON([]byte(deep), protocol.Limits{MaxDepth: 300}); err != nil {
		t.Errorf("200 deep with MaxDepth 300: %v", err)
	}
	if _, err := protocol.ParseJSON([]byte(`[1,2,3,4]`), protocol.Limits{MaxValues: 4}); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("5 values, limit 4: %v", err)
	}
	if _, err := protocol.ParseJSON([]byte(`"0123456789"`), protocol.Limits{MaxBodyBytes: 8}); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("12 bytes, limit 8: %v", err)
	}
}

func TestStringsDecodeAsEncodingJSONDecodes(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `"tab\tnew\nline"`, `"\u00e9t\u00e9"`, `"\ud83d\ude00 smile"`, `"lone \ud800 surrogate"`,
		`"\ud800\u0041"`, "\"bad \xff utf8\"", `"\/\\\"\b\f\r"`, `"été"`, `"\u0000"`,
	} {
		doc, err := protocol.ParseJSON([]byte(in), protocol.Limits{})
		if err != nil {
			t.Fatalf("ParseJSON(%q): %v", in, err)
		}
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("encoding/json(%q): %v", in, err)
		}
		if got := doc.Root().Str(); got != want {
			t.Errorf("Str(%q) = %q, encoding/json gives %q", in, got, want)
		}
	}
}

func TestValueAccessorsNavigateAndTolerateMissingValues(t *testing.T) {
	doc, err := protocol.ParseJSON([]byte(`{"a":[1,{"b":"x"},true,null,-2.5e3],"n":42}`), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Root()
	if got := r.Get("a").Index(1).Get("b").Str(); got != "x" {
		t.Errorf("a[1].b = %q", got)
	}
	if n, ok := r.Get("n").Int(); !ok || n != 42 {
		t.Errorf("n = %d, %v", n, ok)
	}
	if !r.Get("a").Index(2).Bool() || r.Get("a").Index(3).Type() != protocol.TypeNull {
		t.Error("bool / null")
	}
	if got := r.Get("a").Index(4).Text(); got != "-2.5e3" {
		t.Errorf("number text = %q, want the spelling as sent", got)
	}
	if got := r.Get("missing").Get("deeper").Index(3).Str(); got != "" {
		t.Errorf("missing chain = %q", got)
	}
	if got := r.Get("a").Index(1).Get("b").Path().String(); got != "/a/1/b" {
		t.Errorf("path = %q", got)
	}
}

func TestPathTextFormRoundTrips(t *testing.T) {
	for _, s := range []string{"", "/a", "/a/0/b", "/a~1b/c~0d", "/k~2hash", "/messages/1/tool_calls/0/function/arguments#/city", "/x#/y#/z"} {
		p := mustPath(t, s)
		if got := p.String(); got != s {
			t.Errorf("ParsePath(%q).String() = %q", s, got)
		}
	}
	for _, bad := range []string{"a", "/a~", "/a~3"} {
		if _, err := protocol.ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
	if got := (protocol.Path{}).Key("a/b").Index(2).Decoded().Key("#").String(); got != "/a~1b/2#/~2" {
		t.Errorf("built path = %q", got)
	}
}

// ValidNumber accepts exactly the number literals the parser accepts as a whole document, and
// no surrounding space.
func TestValidNumberAgreesWithTheParser(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-12", "1.5", "1e9", "-0.0E+1", "2E-3", "", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x1", "1.2.3", "--1", "NaN"} {
		_, err := protocol.ParseJSON([]byte(s), protocol.Limits{})
		if got, want := protocol.ValidNumber(s), err == nil; got != want {
			t.Errorf("ValidNumber(%q) = %v, the parser says %v (%v)", s, got, want, err)
		}
	}
	for _, s := range []string{" 1", "1 ", "1\n"} {
		if protocol.ValidNumber(s) {
			t.Errorf("ValidNumber(%q) = true, want false (surrounding space)", s)
		}
	}
}
