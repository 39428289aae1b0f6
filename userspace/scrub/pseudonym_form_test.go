package scrub

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStringPseudonymForm: the string pseudonym is "mw-" and lower-case unpadded base32 of
// bytes 8 to 22 of the MAC, as it always was.
func TestStringPseudonymForm(t *testing.T) {
	for i := range 64 {
		mac := sha256.Sum256([]byte{byte(i)})
		want := "mw-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac[8:23]))
		if got := stringPseudonym(mac); got != want {
			t.Fatalf("%d: got %q, want %q", i, got, want)
		}
	}
}

// TestLuhnValidIsDigitByDigit: luhnValid, which takes two digits at a time, decides as the
// Luhn check taken one digit at a time does.
func TestLuhnValidIsDigitByDigit(t *testing.T) {
	slow := func(n uint64) bool {
		sum := 0
		for i := 0; n > 0; i, n = i+1, n/10 {
			d := int(n % 10)
			if i%2 == 1 {
				if d *= 2; d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		return sum%10 == 0
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range uint64(200000) {
		for _, n := range []uint64{i, r.Uint64(), r.Uint64() & maxSafeInteger, r.Uint64N(1e16)} {
			if got, want := luhnValid(n), slow(n); got != want {
				t.Fatalf("luhnValid(%d) = %v, want %v", n, got, want)
			}
		}
	}
}

// TestPseudonymsArePinned: under a fixed key, identifiers of every form get the pseudonyms they
// always got (HMAC-SHA256 of the canonical text, then disguised).
func TestPseudonymsArePinned(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i * 7)
	}
	p := newPseudonymizer(key, 0)
	for _, c := range []struct {
		kind       Kind
		id, pseudo any
	}{
		{KindJSONRPCID, json.Number("42"), json.Number("3674843795479664")},
		{KindJSONRPCID, 7.0, 4.578435508445201e+15},
		{KindJSONRPCID, "req-1", "mw-33ezo5pzligs27fuzcl2am6w"},
		{KindMCPSession, "5f0c2a3e-8d1b-4c7a-9e6f-0a1b2c3d4e5f", "7d1acc7d-bdda-4931-a5ce-c66dbf7d438b"},
		{KindA2ATask, int64(-3), int64(1925458311684873)},
		{KindJSONRPCID, uint64(1 << 63), uint64(0x122b3e9202b876)},
		{KindJSONRPCID, 0.5, 5.332028031817446e+15},
		{KindMCPProgress, "p-1", "mw-opbabs5zlz5vrcazmaxrgimg"},
	} {
		if got, err := p.Pseudonym(c.kind, c.id); err != nil || got != c.pseudo {
			t.Errorf("%s %#v: pseudonym %#v (%v), want %#v", c.kind, c.id, got, err, c.pseudo)
		}
	}
}
