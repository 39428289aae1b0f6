package agentleak

import (
	"fmt"
	"strings"
)

// The clearance ladder, lowest first. AgentLeak gives agents public, restricted or
// confidential clearance and tools a required clearance of null (none), confidential or
// secret; a holder of a level holds every level below it. A value outside the ladder is an
// error, never guessed.
func clearanceLadder() [4]string { return [4]string{"public", "restricted", "confidential", "secret"} }

// clearanceLevel returns the rank of a clearance on the ladder; "" (null) is public.
func clearanceLevel(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	for i, l := range clearanceLadder() {
		if strings.EqualFold(c, l) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("clearance %q is not one of %v", c, clearanceLadder())
}

// meshRole is the policy role of an agent: its AgentLeak role and clearance, upper case,
// joined by "_" (assistant + restricted → ASSISTANT_RESTRICTED). A domain allows the roles
// whose clearance is at least what the domain requires, so a role carries both.
func meshRole(a Agent) string {
	return strings.ToUpper(token(a.Role) + "_" + token(orPublic(a.Clearance)))
}

func orPublic(c string) string {
	if c == "" {
		return clearanceLadder()[0]
	}
	return c
}

// cleared reports whether agent a may use something that requires clearance req.
func cleared(a Agent, req string) bool {
	have, err1 := clearanceLevel(a.Clearance)
	need, err2 := clearanceLevel(req)
	return err1 == nil && err2 == nil && have >= need
}

// token turns a name from the file into a policy-safe name: lower-case letters, digits and
// "_", everything else replaced by "_".
func token(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}
