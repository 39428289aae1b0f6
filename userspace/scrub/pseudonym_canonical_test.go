package scrub

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// canonical is the canonical text of an identifier as it was first written, built as a string:
// the reference that idForm and its appendCanonical must agree with. "s:" and the string, or
// "n:" and the number (integers in plain decimal, others in their shortest form).
func canonical(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return "s:" + x, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return canonicalInt(i), true
		}
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		return canonicalFloat(f), true
	case float64:
		return canonicalFloat(x), true
	case int:
		return canonicalInt(int64(x)), true
	case int64:
		return canonicalInt(x), true
	case uint64:
		return "n:" + strconv.FormatUint(x, 10), true
	}
	return "", false
}

func canonicalInt(i int64) string { return "n:" + strconv.FormatInt(i, 10) }

func canonicalFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return canonicalInt(int64(f))
	}
	return "n:" + strconv.FormatFloat(f, 'g', -1, 64)
}

// identifierSamples are identifiers of every type, with the edges of their comparison.
func identifierSamples() []any {
	out := []any{
		"", "7", "n:7", "s:7", "req-1", "3f0e2c8a-1b2d-4e5f-9a8b-7c6d5e4f3a2b", "é\x00",
		true, nil, []any{1}, map[string]any{}, int32(7), float32(7),
		uint64(math.MaxInt64), uint64(math.MaxInt64) + 1, uint64(math.MaxUint64), uint64(0), uint64(7),
		int64(math.MinInt64), int64(math.MaxInt64), int64(-7), int(7), int(0),
		math.Copysign(0, -1), 0.0, 7.0, 7.5, -7.5, 1e6, 1e21, 1e300, 5e-324, float64(1 << 53), float64(1 << 63), -float64(1 << 63),
		math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0xfff0000000000001),
		9223372036854775807.0, 18446744073709551615.0,
	}
	for _, n := range []string{
		"7", "7.0", "7e0", "70e-1", "+7", "007", "-0", "-0.0", "0e5", "1e3", "1e6", "1000000", "1.5", "1.50",
		"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
		"-9223372036854775808", "-9223372036854775809", "1e400", "NaN", "nan", "Inf", "-Infinity", "",
		"abc", "0x10", "1_000", "9007199254740993", "1e-400",
	} {
		out = append(out, json.Number(n))
	}
	return out
}

// checkFormAgainstCanonical fails unless formOf(v) exists exactly when canonical(v) does and
// its text is canonical(v).
func checkFormAgainstCanonical(t *testing.T, v any) {
	t.Helper()
	want, wantOK := canonical(v)
	form, ok := formOf(v)
	if ok != wantOK {
		t.Fatalf("formOf(%#v): ok %v, canonical ok %v", v, ok, wantOK)
	}
	if got := string(form.appendCanonical(nil)); ok && got != want {
		t.Fatalf("form of %#v has text %q, canonical %q", v, got, want)
	}
}

func TestIdentifierFormsCompareAsTheirCanonicalTexts(t *testing.T) {
	samples := identifierSamples()
	for _, v := range samples {
		checkFormAgainstCanonical(t, v)
	}
	for _, a := range samples {
		fa, okA := formOf(a)
		ca, _ := canonical(a)
		for _, b := range samples {
			fb, okB := formOf(b)
			cb, _ := canonical(b)
			if okA && okB && (fa == fb) != (ca == cb) {
				t.Errorf("%#v and %#v: forms equal %v, canonical texts %q and %q", a, b, fa == fb, ca, cb)
			}
		}
	}
}

// FuzzIdentifierFormMatchesCanonical: for any number text, float and string, the form and the
// canonical text agree, and two numbers have one form exactly when they have one text.
func FuzzIdentifierFormMatchesCanonical(f *testing.F) {
	f.Add("7", "7e0", uint64(0x401c000000000000), "req-1")
	f.Add("-0", "-0.0", uint64(0x8000000000000000), "")
	f.Add("9223372036854775808", "1e19", uint64(0x43e0000000000000), "mw-x")
	f.Add("NaN", "nan", uint64(0x7ff8000000000001), "3f0e2c8a-1b2d-4e5f-9a8b-7c6d5e4f3a2b")
	f.Fuzz(func(t *testing.T, a, b string, bits uint64, s string) {
		fl := math.Float64frombits(bits)
		vals := []any{json.Number(a), json.Number(b), fl, bits, int64(bits), s}
		for _, v := range vals {
			checkFormAgainstCanonical(t, v)
		}
		for _, x := range vals {
			for _, y := range vals {
				fx, okX := formOf(x)
				fy, okY := formOf(y)
				cx, _ := canonical(x)
				cy, _ := canonical(y)
				if okX && okY && (fx == fy) != (cx == cy) {
					t.Fatalf("%#v and %#v: forms equal %v, canonical texts %q and %q", x, y, fx == fy, cx, cy)
				}
			}
		}
	})
}

// TestPseudonymsAreTheMACOfTheCanonicalText: under a fixed key, every identifier's pseudonym is
// made from HMAC-SHA256(key, kind || 0 || canonical text), as it always was, and is revealed
// under its own form.
func TestPseudonymsAreTheMACOfTheCanonicalText(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i * 7)
	}
	p := newPseudonymizer(key, 0)
	for _, v := range identifierSamples() {
		text, ok := canonical(v)
		if !ok {
			continue
		}
		m := hmac.New(sha256.New, key[:])
		m.Write([]byte(string(KindA2ATask) + "\x00" + text))
		want := [sha256.Size]byte(m.Sum(nil))
		form, _ := formOf(v)
		if got := p.mac(KindA2ATask, form); got != want {
			t.Fatalf("MAC of %#v differs from HMAC of %q", v, text)
		}
		pseudo, err := p.Pseudonym(KindA2ATask, v)
		if err != nil {
			t.Fatalf("Pseudonym(%#v): %v", v, err)
		}
		if wantPseudo, _ := disguise(v, want); pseudo != wantPseudo {
			t.Fatalf("Pseudonym(%#v) = %#v, want %#v", v, pseudo, wantPseudo)
		}
		if got, ok := p.Reveal(KindA2ATask, pseudo); !ok {
			t.Fatalf("%#v: pseudonym %#v not revealed", v, pseudo)
		} else if gotText, _ := canonical(got); gotText != text {
			t.Fatalf("%#v: pseudonym %#v revealed %#v", v, pseudo, got)
		}
	}
}

// TestUUIDPseudonymForm: a UUID's pseudonym is bytes 16 to 31 of the MAC as a version 4 UUID
// in lower-case hexadecimal, as it always was.
func TestUUIDPseudonymForm(t *testing.T) {
	for i := range 64 {
		mac := sha256.Sum256([]byte{byte(i)})
		b := bytes.Clone(mac[16:32])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b)
		want := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		if got := uuidFrom(mac); got != want {
			t.Fatalf("%d: got %q, want %q", i, got, want)
		}
	}
}
