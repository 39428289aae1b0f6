package protocol_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// Strings are scanned a word, or a run found by IndexByte, at a time: whatever the length and
// wherever the bytes that need a look fall (near word and window edges, at the end of input),
// ParseJSON accepts what encoding/json accepts and decodes strings the same way.
func TestStringScan(t *testing.T) {
	pieces := []string{`\"`, `\\`, `\n`, `\u00e9`, "é", "\xff", "\x01", `"`, `\`, "\x7f"}
	for n := 0; n < 1100; n += 1 + n/16 {
		for _, piece := range pieces {
			for _, at := range []int{0, n / 2, n} {
				text := strings.Repeat("a", at) + piece + strings.Repeat("b", n-at)
				for _, src := range []string{`"` + text + `"`, `"` + text, `["` + text + `",1]`} {
					doc, err := protocol.ParseJSON([]byte(src), protocol.Limits{})
					if (err == nil) != json.Valid([]byte(src)) {
						t.Fatalf("%q: ParseJSON err %v, json.Valid %v", src, err, json.Valid([]byte(src)))
					}
					if err != nil || doc.Root().Type() != protocol.TypeString {
						continue
					}
					var want string
					if err := json.Unmarshal([]byte(src), &want); err != nil || want != doc.Root().Str() {
						t.Fatalf("%q: Str %q, encoding/json %q", src, doc.Root().Str(), want)
					}
				}
			}
		}
	}
}
