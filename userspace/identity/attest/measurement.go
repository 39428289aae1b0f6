package attest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every measurement.
const Prefix = "sha256:"

// Errors of Check and Verify.
var (
	ErrNotMeasured = errors.New("no attestation measurement")
	ErrNotAccepted = errors.New("attestation measurement not accepted")
)

// Measurement is sha256:<64 lower-case hex digits>.
type Measurement string

// FromDigest returns the measurement of a SHA-256 digest.
func FromDigest(sum [32]byte) Measurement { return Measurement(Prefix + hex.EncodeToString(sum[:])) }

// ParseMeasurement validates s and returns it in canonical (lower-case) form.
func ParseMeasurement(s string) (Measurement, error) {
	hexPart, ok := strings.CutPrefix(s, Prefix)
	if !ok || len(hexPart) != 64 {
		return "", fmt.Errorf("measurement %q: want %s<64 hex digits>", s, Prefix)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return "", fmt.Errorf("measurement %q: want %s<64 hex digits>", s, Prefix)
	}
	return Measurement(Prefix + strings.ToLower(hexPart)), nil
}

// String returns the measurement.
func (m Measurement) String() string { return string(m) }

// Check returns nil when measurement is one of accepted (compared case-insensitively),
// ErrNotMeasured when it is empty, and ErrNotAccepted otherwise.
func Check(measurement string, accepted []string) error {
	if measurement == "" {
		return ErrNotMeasured
	}
	for _, a := range accepted {
		if strings.EqualFold(a, measurement) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not among the %d accepted", ErrNotAccepted, measurement, len(accepted))
}
