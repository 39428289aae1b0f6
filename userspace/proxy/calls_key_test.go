package proxy

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// idKeyText is the key of an id as it was first written, a string: the reference idKey's forms
// must compare as.
func idKeyText(id any) (string, bool) {
	switch x := id.(type) {
	case string:
		return "s:" + x, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return "n:" + strconv.FormatInt(i, 10), true
		}
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64), true
	}
	return "", false
}

// checkIDKeysAgree fails unless idKey accepts what idKeyText accepts and the forms of ids are
// equal exactly when their texts are.
func checkIDKeysAgree(t *testing.T, ids []any) {
	t.Helper()
	for _, a := range ids {
		ka, okA := idKey(a)
		ta, wantA := idKeyText(a)
		if okA != wantA {
			t.Fatalf("idKey(%#v): ok %v, want %v", a, okA, wantA)
		}
		for _, b := range ids {
			kb, okB := idKey(b)
			tb, _ := idKeyText(b)
			if okA && okB && (ka == kb) != (ta == tb) {
				t.Fatalf("%#v and %#v: keys equal %v, texts %q and %q", a, b, ka == kb, ta, tb)
			}
		}
	}
}

func idKeySamples(extra ...string) []any {
	ids := []any{"", "7", "n:7", "s:7", "req-1", "mw-abc", float64(7), 7, true, nil}
	for _, n := range append([]string{
		"7", "7.0", "7e0", "+7", "007", "-0", "-0.0", "0", "0.0", "1e3", "1000", "1e5", "100000", "1e6", "1000000",
		"1e21", "1.5", "1.50", "15e-1", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
		"1e400", "NaN", "Inf", "-Infinity", "", "abc", "9007199254740993", "123456789", "1.23456789e8",
	}, extra...) {
		ids = append(ids, json.Number(n), n)
	}
	return ids
}

func TestIDKeysCompareAsTheirTexts(t *testing.T) {
	checkIDKeysAgree(t, idKeySamples())
	for _, raw := range []string{`7`, `7.0`, `"7"`, ` "a\"b" `, `"a\u0062"`, `1e3`, `-0`, `-0.0`, `null`, `{}`, `"x`} {
		got, ok := rawIDKey(json.RawMessage(raw))
		var id any
		d := json.NewDecoder(strings.NewReader(raw))
		d.UseNumber()
		wantOK := d.Decode(&id) == nil
		want, wantKey := idKey(id)
		if ok != (wantOK && wantKey) || got != want {
			t.Errorf("rawIDKey(%s) = %+v, %v; want %+v, %v", raw, got, ok, want, wantOK && wantKey)
		}
	}
}

// FuzzIDKeysCompareAsTheirTexts: for any number texts and float, the forms of ids compare as
// their texts.
func FuzzIDKeysCompareAsTheirTexts(f *testing.F) {
	f.Add("1e3", "1000", uint64(0x408f400000000000))
	f.Add("-0.0", "0", uint64(0x8000000000000000))
	f.Add("1e6", "1000000", uint64(0x412e848000000000))
	f.Fuzz(func(t *testing.T, a, b string, bits uint64) {
		fl := strconv.FormatFloat(math.Float64frombits(bits), 'g', -1, 64)
		checkIDKeysAgree(t, []any{json.Number(a), json.Number(b), json.Number(fl), a, b,
			json.Number(strconv.FormatInt(int64(bits), 10))})
	})
}
