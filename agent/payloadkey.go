package agent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// ErrNoPayloadKey refuses a policy with domains that audit payloads (audit_payloads: true) when
// the daemon has no audit payload key to seal them to.
var ErrNoPayloadKey = errors.New("no audit payload key: start meshwarden run with --audit-payload-key FILE (make one with meshwarden audit keygen)")

// loadPayloadSealer reads the audit payload public key at path (Options.AuditPayloadKeyFile);
// nil when no path is given.
func loadPayloadSealer(path string) (*audit.PayloadSealer, error) {
	if path == "" {
		return nil, nil
	}
	s, err := audit.ReadPayloadSealer(path)
	if err != nil {
		return nil, fmt.Errorf("--audit-payload-key: %w", err)
	}
	return s, nil
}

// checkPayloadKey refuses pol when one of its domains audits payloads and there is no key to
// seal them to: the daemon does not start, and a reload to it is refused, rather than write
// the payloads in the clear or relay them unaudited.
func checkPayloadKey(pol *policy.Policy, sealer *audit.PayloadSealer) error {
	if sealer != nil {
		return nil
	}
	var names []string
	for i := range pol.Domains {
		if pol.Domains[i].AuditPayloads {
			names = append(names, pol.Domains[i].Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%s: domains %s have audit_payloads: true: %w", pol.Source, strings.Join(names, ", "), ErrNoPayloadKey)
}
