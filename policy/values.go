package policy

import (
	"net/netip"
	"time"
)

// The fixed vocabularies of a security_mesh file. Each is returned fresh so no caller can
// change another's copy.

// builtinRoles are the roles every policy knows; `roles:` adds to them.
func builtinRoles() []string {
	return []string{"ORCHESTRATOR", "RETRIEVER", "EXECUTOR", "ANALYST"}
}

// tiers are the protection tiers a domain may name.
func tiers() []string {
	return []string{"PLAINTEXT", "RETRIEVAL", "COMPUTATION", "MPC", "FHE"}
}

// auditLevels are the values of global.audit_scope and a domain's audit_level.
func auditLevels() []string {
	return []string{AuditFullMesh, AuditOutputOnly}
}

// tlsVersions are the values of global.tls_min_version.
func tlsVersions() []string {
	return []string{"1.2", "1.3"}
}

// verdictNames are the spellings of segmentation actions and default_action.
func verdictNames() []string {
	return []string{VerdictAllow.String(), VerdictDeny.String(), VerdictRedirect.String()}
}

// Audit levels.
const (
	AuditFullMesh   = "FULL_MESH"
	AuditOutputOnly = "OUTPUT_ONLY"
)

// Defaults applied when a key is absent.
const (
	defaultTLSMinVersion              = "1.3"
	defaultCredentialRotationInterval = 600000 * time.Millisecond
	defaultEnforcerPort               = 15001
	defaultEnforcerCgroup             = "meshwarden/enforcer"
)

// defaultEnforcerAddress4 and defaultEnforcerAddress6 are where the enforcer listens by default.
func defaultEnforcerAddress4() netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, 1}) }
func defaultEnforcerAddress6() netip.Addr { return netip.IPv6Loopback() }

// parseVerdict reads ALLOW, DENY or REDIRECT.
func parseVerdict(s string) (Verdict, bool) {
	for _, v := range []Verdict{VerdictAllow, VerdictDeny, VerdictRedirect} {
		if v.String() == s {
			return v, true
		}
	}
	return VerdictNone, false
}

// isRoleName reports whether s matches [A-Z][A-Z0-9_]*.
func isRoleName(s string) bool {
	return matches(s, isUpper, func(c byte) bool { return isUpper(c) || isDigit(c) || c == '_' })
}

// isZoneName reports whether s matches [a-z][a-z0-9_-]*.
func isZoneName(s string) bool {
	return matches(s, isLower, func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' || c == '-' })
}

// isAgentID reports whether s matches [a-z0-9][a-z0-9_.-]*.
func isAgentID(s string) bool {
	return matches(s,
		func(c byte) bool { return isLower(c) || isDigit(c) },
		func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' || c == '.' || c == '-' })
}

// matches reports whether s is one byte accepted by first followed by bytes accepted by rest.
func matches(s string, first, rest func(byte) bool) bool {
	if s == "" || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !rest(s[i]) {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// DefaultMaxBodyBytes is a domain's body limit when max_body_bytes is absent (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// maxMaxBodyBytes is the largest max_body_bytes a policy may set (1 GiB).
const maxMaxBodyBytes = 1 << 30
