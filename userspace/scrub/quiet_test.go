package scrub

import (
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// FuzzQuietAtNeverMissesAChange: QuietAt and ClientInfoQuietAt may only report a body quiet when
// CleanAt and ClientInfoAt change nothing in it decoded.
func FuzzQuietAtNeverMissesAChange(f *testing.F) {
	for _, s := range []string{
		`{"params":{"_meta":{"progressToken":"p","TraceParent":"x"}}}`,
		`{"params":{"message":{"parts":[{"metadata":{"tenant_id":1}},{"metadata":{}}]}}}`,
		`{"params":{"clientInfo":{"name":"c","version":"0"}},"result":{"serverInfo":{"name":"s","version":1}}}`,
		`{"params":{"clientInfo":{"name":"c","version":"0","title":"t"}}}`,
	} {
		f.Add([]byte(s))
	}
	m := NewMetadata([]string{"tenant_id"})
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := protocol.ParseJSON(body, protocol.Limits{AllowDuplicateKeys: true})
		if err != nil {
			return
		}
		for _, p := range MetadataPaths() {
			if m.QuietAt(d.Root(), p...) && !m.CleanAt(d.Root().Any(), p...).Empty() {
				t.Fatalf("quiet at %v, but CleanAt removes something from %s", p, body)
			}
		}
		for _, p := range ClientInfoPaths() {
			if ClientInfoQuietAt(d.Root(), nil, p...) && !ClientInfoAt(d.Root().Any(), p...).Empty() {
				t.Fatalf("quiet at %v, but ClientInfoAt changes %s", p, body)
			}
		}
	})
}
