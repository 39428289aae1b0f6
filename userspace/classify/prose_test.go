package classify

import (
	"testing"

	"github.com/meshwarden/meshwarden/policy"
)

// prose is ordinary text full of numbers that are not sensitive: versions, dates, times,
// identifiers, hashes, addresses, amounts and counts.
const prose = `Release v1.2.3 (build 2.14.0-rc.1, go1.26.8) shipped on 2024-05-06 at 10:30:45 UTC,
or 06/05/2024 for our European readers, and 2024-05-06T10:30:00.123Z in the logs. The job
550e8400-e29b-41d4-a716-446655440000 ran on 10.0.0.1 and 192.168.1.254:8080 (and fd00::1,
port 15001) for 1715000000 seconds; its epoch in milliseconds was 1715000000123. Commit
886b9b9 with sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 fixed
issue #4521 and order 4521-883-19. We moved $1,234,567.89 and €12.50, grew 37.5% to
1,000,000 users, and counted 123456789 events and 4155552671 bytes in 86400 s. See ISBN
978-3-16-148410-0, RFC 9110, ports 80/443, HTTP 404 and 503, coordinates 48.8566, 2.3522,
and tracking number 1Z999AA10123456784. Install @types/node@20.11.5 or ping user@localhost.
Versions 1.2.3.4567 and 10.20.30.40 differ; the ranges 100-200-3000 and 2020-2024 are fine,
as are 3.14159265358979 and 2.718281828459045, the ids 12345678901234567890 and
98765432109876543, and 0.0001 of 1e-9. Ticket ABC-1234-5678, sprint 24 of 2024, room
3-104. Base64 dGhpcyBpcyBub3QgYSBzZWNyZXQ= and a UUIDv7 018f3e2c-7a1b-7c3d-9e4f-0a1b2c3d4e5f.
Table: 2024 05 06 | 12 34 | 1 2 3 4 5 6 7 8 9 10 | 0.5 1.0 2.0 | 31/12/2023 23:59:59.`

func TestProseWithNumbersHasNoFindings(t *testing.T) {
	all := []Detector{SSN(), PaymentCard(), Email(), Phone(), IBAN(), Canary([]string{"mw-canary-7f3a"}, []string{"CANARY_"})}
	for _, sp := range Detect(prose, all...) {
		t.Errorf("%s found %q", sp.Type, prose[sp.Offset:sp.Offset+sp.Length])
	}
}

func TestProseAsJSONHasNoFindings(t *testing.T) {
	d := &policy.Domain{Name: "d", Detectors: allDetectors(policy.ActionBlock), SensitiveFields: []policy.SensitiveField{{Key: "password", Action: policy.ActionBlock}}}
	c, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{
		"jsonrpc": "2.0", "id": float64(1715000000123), "method": "tools/call",
		"params": map[string]any{"name": "summarise", "arguments": map[string]any{"text": prose, "count": float64(123456789012345)}},
	}
	if fs := c.Scan(doc); len(fs) != 0 {
		t.Errorf("findings in prose: %+v", fs)
	}
}

// allDetectors is one entry per detector type with the given action.
func allDetectors(a policy.Action) []policy.Detector {
	var out []policy.Detector
	for _, typ := range policy.DetectorTypes() {
		d := policy.Detector{Type: typ, Action: a}
		if typ == policy.DetectorCanary {
			d.Prefixes = []string{"CANARY_"}
			d.Literals = []string{"mw-canary-7f3a"}
		}
		out = append(out, d)
	}
	return out
}
