package pep

import (
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/policy"
)

// Identity is who sends an exchange, as the enforcer knows it.
type Identity struct {
	AgentID string
	Role    string
	Zone    string
	// Measurement is the attested measurement of the agent's runtime ("" when none);
	// AcceptedMeasurements are those its agent's policy accepts.
	Measurement          string
	AcceptedMeasurements []string
	// CredentialIssued and CredentialExpiry bound the source's credential. A zero expiry means
	// there is no credential; a zero issue time skips the max_token_age_ms check.
	CredentialIssued time.Time
	CredentialExpiry time.Time
	// CredentialRefused is the reason code the identity layer refused the credential with
	// (credential_revoked, credential_replayed, ... from userspace/identity/credential), ""
	// when it accepted it or was not asked. Decide reports it as the credential's reason.
	CredentialRefused string
}

// DatapathMeasurement is the measurement DatapathIdentity gives agents until attestation
// lands: the kernel put the connection in the agent's cgroup, which is all that is known.
const DatapathMeasurement = "datapath"

// DatapathIdentity is the identity of an agent known only from the datapath (its cgroup),
// until the identity work lands: its credential counts as fresh (issued now, valid for
// validFor) and its measurement as accepted, as the issue asks for the meantime.
func DatapathIdentity(a policy.Agent, now time.Time, validFor time.Duration) Identity {
	return Identity{
		AgentID:              a.ID,
		Role:                 a.Role,
		Zone:                 a.Zone,
		Measurement:          DatapathMeasurement,
		AcceptedMeasurements: []string{DatapathMeasurement},
		CredentialIssued:     now,
		CredentialExpiry:     now.Add(validFor),
	}
}

// credential returns why the identity's credential is not acceptable at now for a domain
// whose oldest acceptable credential is maxAge old, or "".
func (id *Identity) credential(now time.Time, maxAge time.Duration) Reason {
	switch {
	case id.CredentialRefused != "":
		return Reason(id.CredentialRefused)
	case id.CredentialExpiry.IsZero():
		return ReasonCredentialMissing
	case !now.Before(id.CredentialExpiry):
		return ReasonCredentialExpired
	case !id.CredentialIssued.IsZero() && maxAge > 0 && now.Sub(id.CredentialIssued) > maxAge:
		return ReasonCredentialExpired
	}
	return ""
}

// attestation returns why the identity's measurement is not acceptable, or "". Measurements
// are compared case-insensitively (hex digests), as userspace/identity/attest.Check does.
func (id *Identity) attestation() Reason {
	if id.Measurement == "" {
		return ReasonAttestationMissing
	}
	for _, m := range id.AcceptedMeasurements {
		if strings.EqualFold(m, id.Measurement) {
			return ""
		}
	}
	return ReasonAttestationMismatch
}
