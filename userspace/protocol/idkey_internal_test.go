package protocol

import (
	"encoding/json"
	"strconv"
	"testing"
)

// TestIDKeySmallIntegersKeepTheirCanonicalForm checks the shortcut of appendIDKey for small
// integer ids against the float round trip it spares, around every digit count it covers.
func TestIDKeySmallIntegersKeepTheirCanonicalForm(t *testing.T) {
	var ids []int
	for i := 0; i <= 2000; i++ {
		ids = append(ids, i)
	}
	for p := 10; p <= 10_000_000; p *= 10 {
		ids = append(ids, p-1, p, p+1)
	}
	for _, i := range ids {
		id := json.RawMessage(strconv.Itoa(i))
		f, err := strconv.ParseFloat(string(id), 64)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idKey(id), "n:"+strconv.FormatFloat(f, 'g', -1, 64); got != want {
			t.Errorf("idKey(%s) = %q, want %q", id, got, want)
		}
	}
	for _, id := range []string{"007", "-1", "1.0", "1e3", "00", "0"} {
		f, _ := strconv.ParseFloat(id, 64)
		if got, want := idKey(json.RawMessage(id)), "n:"+strconv.FormatFloat(f, 'g', -1, 64); got != want {
			t.Errorf("idKey(%s) = %q, want %q", id, got, want)
		}
	}
}
