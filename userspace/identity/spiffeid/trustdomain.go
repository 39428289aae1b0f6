package spiffeid

import "fmt"

// TrustDomain is a validated SPIFFE trust domain name, such as "mesh.example".
type TrustDomain struct{ name string }

// TrustDomainFromString validates name (no scheme, no slash) as a trust domain.
func TrustDomainFromString(name string) (TrustDomain, error) {
	if err := validTrustDomain(name); err != nil {
		return TrustDomain{}, err
	}
	return TrustDomain{name: name}, nil
}

// String returns the trust domain's name.
func (td TrustDomain) String() string { return td.name }

// IsZero reports whether td is the zero (invalid) trust domain.
func (td TrustDomain) IsZero() bool { return td.name == "" }

// ID returns spiffe://<td>, the id of the trust domain itself.
func (td TrustDomain) ID() ID { return ID{td: td.name} }

func validTrustDomain(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty trust domain", ErrInvalid)
	}
	if len(s) > maxTDLength {
		return fmt.Errorf("%w: trust domain longer than %d bytes", ErrInvalid, maxTDLength)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("%w: character %q in trust domain %q (allowed: lower-case letters, digits, '.', '-', '_')", ErrInvalid, c, s)
		}
	}
	return nil
}
