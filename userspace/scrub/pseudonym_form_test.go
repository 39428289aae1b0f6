package scrub

import (
	"crypto/sha256"
	"encoding/base32"
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
