package classify

import (
	"testing"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// FuzzQuietNeverMissesAFinding: Quiet may only report a body quiet when Scan of it decoded finds
// nothing.
func FuzzQuietNeverMissesAFinding(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"q":"hello"}}}`,
		`{"ssn":"123-45-6789","n":4111111111111111,"password":"x"}`,
		`{"a":["CANARY_1",{"4111 1111 1111 1111":1}],"s":"{\"k\":\"078-05-1120\"}"}`,
		`{"k":"\u0031\u0032\u0033-45-6789","e":"a@b.example"}`,
	} {
		f.Add([]byte(s))
	}
	c, err := New(&policy.Domain{Name: "d",
		SensitiveFields: []policy.SensitiveField{{Key: "password", Action: policy.ActionBlock}},
		Detectors: []policy.Detector{{Type: "ssn", Action: policy.ActionRedact}, {Type: "payment_card", Action: policy.ActionBlock},
			{Type: "email", Action: policy.ActionAudit}, {Type: "canary", Action: policy.ActionBlock, Prefixes: []string{"CANARY_"}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := protocol.ParseJSON(body, protocol.Limits{AllowDuplicateKeys: true})
		if err != nil {
			return
		}
		if c.Quiet(d.Root(), nil) {
			if fs := c.Scan(d.Root().Any()); len(fs) > 0 {
				t.Fatalf("quiet, but Scan finds %v in %s", fs, body)
			}
		}
	})
}
