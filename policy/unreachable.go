package policy

import "fmt"

// Unreachable reports every domain that no request can select because an earlier domain's
// match takes every request it would take (first match in file order wins). Each report is at
// the line of the shadowed domain's match block and names the first domain that shadows it.
// These are warnings, not errors: the policy is valid; `meshwarden policy validate` is meant
// to print them.
//
// The check is conservative: it reports only shadowing it can prove, and so may miss some.
// An earlier match A shadows a later match B when A is `match: any`, or when, for every key:
//   - destinations: A has none, or each of B's is covered by one of A's (the same entry, a CIDR
//     of A containing a CIDR of B, or a CIDR of A containing the address of B's IP host:port);
//     B having none while A has some is never covered;
//   - http_paths: A has none, or each of B's starts, at a segment boundary, with one of A's;
//   - the method keys (jsonrpc_methods, mcp_tools, a2a_methods, one alternative): A has none,
//     or for each of them B writes, A writes the same key and covers each of B's entries (the
//     same method; for tools the same glob, a glob of stars only, a glob matching B's literal
//     name, or A = prefix* with B's literal start beginning with prefix).
//
// A domain without match is never selected by matching, so it is not reported here even when
// it is not default_domain either.
func (p *Policy) Unreachable() []*FieldError {
	var out []*FieldError
	for j := range p.Domains {
		b := p.Domains[j].Match
		if b == nil {
			continue
		}
		for i := range p.Domains[:j] {
			a := p.Domains[i].Match
			if a == nil || !matchCovers(a, b) {
				continue
			}
			why := "matches every request it matches"
			if a.Any {
				why = "has match: any"
			}
			out = append(out, &FieldError{File: p.Source, Line: b.Line, Msg: fmt.Sprintf(
				"domain %q is unreachable: domain %q (line %d) comes first and %s",
				p.Domains[j].Name, p.Domains[i].Name, a.Line, why)})
			break
		}
	}
	return out
}

// matchCovers reports whether every request b matches is provably matched by a.
func matchCovers(a, b *Match) bool {
	if a.Any {
		return true
	}
	if b.Any {
		return false
	}
	return listCovers(a.Destinations, b.Destinations, destinationCovers) &&
		listCovers(a.HTTPPaths, b.HTTPPaths, func(x, y string) bool { return PathHasPrefix(y, x) }) &&
		methodsCover(a, b)
}

// methodsCover is matchCovers for the method keys, which count as one alternative.
func methodsCover(a, b *Match) bool {
	if !a.hasMethods() {
		return true
	}
	if !b.hasMethods() {
		return false
	}
	return coveredIfWritten(a.JSONRPCMethods, b.JSONRPCMethods, equal) &&
		coveredIfWritten(a.MCPTools, b.MCPTools, globCovers) &&
		coveredIfWritten(a.A2AMethods, b.A2AMethods, equal)
}

// listCovers reports whether key a covers key b: a is absent (any), or b is present and each
// of b's entries is covered by one of a's.
func listCovers[T any](a, b []T, covers func(x, y T) bool) bool {
	if len(a) == 0 {
		return true
	}
	return len(b) > 0 && eachCovered(a, b, covers)
}

// coveredIfWritten is for one of the method keys: when b writes it, a must write it too and
// cover each of b's entries.
func coveredIfWritten[T any](a, b []T, covers func(x, y T) bool) bool {
	if len(b) == 0 {
		return true
	}
	return len(a) > 0 && eachCovered(a, b, covers)
}

func eachCovered[T any](a, b []T, covers func(x, y T) bool) bool {
	for _, y := range b {
		found := false
		for _, x := range a {
			if covers(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func equal(x, y string) bool { return x == y }
