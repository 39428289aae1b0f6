package pep

import "context"

// TierProtector protects a payload for one tier (the tier issue fills these in). Protect must
// be safe for concurrent use and must not keep body.
type TierProtector interface {
	Protect(ctx context.Context, tier string, body []byte) ([]byte, error)
}

// TierPlaintext is the tier whose payloads pass unchanged.
const TierPlaintext = "PLAINTEXT"

// Plaintext is the PLAINTEXT protector: it returns the payload unchanged.
type Plaintext struct{}

// Protect returns body.
func (Plaintext) Protect(_ context.Context, _ string, body []byte) ([]byte, error) {
	return body, nil
}
