package credential

import (
	"errors"
	"fmt"
)

// Reason is the code of one kind of refusal; it is what audit records and metrics carry.
type Reason string

// The refusal reasons. Each failure has exactly one.
const (
	ReasonExpired       Reason = "credential_expired"        // exp (or the presentation's window) has passed, beyond the skew allowance
	ReasonNotYetValid   Reason = "credential_not_yet_valid"  // nbf (or the presentation's iat) is ahead, beyond the skew allowance
	ReasonBadSignature  Reason = "credential_bad_signature"  // the CA signature or the presentation MAC does not verify
	ReasonUnknownKey    Reason = "credential_unknown_key"    // kid is in no CA of the trust bundle valid now
	ReasonReplayed      Reason = "credential_replayed"       // the presentation's jti was seen within its validity window
	ReasonRevoked       Reason = "credential_revoked"        // the agent is revoked
	ReasonWrongAudience Reason = "credential_wrong_audience" // the credential is not for this mesh or the presentation not for this node
	ReasonMalformed     Reason = "credential_malformed"      // anything that does not parse as a presentation and credential of this schema
	ReasonWrongNode     Reason = "credential_wrong_node"     // the credential was issued by another node than the tunnel peer presenting it
)

// Reasons returns every reason, for registering metrics up front.
func Reasons() []Reason {
	return []Reason{ReasonExpired, ReasonNotYetValid, ReasonBadSignature, ReasonUnknownKey, ReasonReplayed, ReasonRevoked, ReasonWrongAudience, ReasonMalformed, ReasonWrongNode}
}

// Error is a refusal. Its message never contains the credential or presentation itself.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return string(e.Reason) + ": " + e.Detail }

// Is makes errors.Is(err, &Error{Reason: r}) match any refusal with reason r.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Reason == e.Reason && t.Detail == ""
}

// ReasonOf returns the reason of a refusal, or "" when err is nil or not a refusal.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func refuse(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}
