package policy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// parseDestination reads one match.destinations entry: a CIDR (it holds a /), host:port, or a
// zone name. Whether a zone name is declared is checked by validate.
func parseDestination(s string) (Destination, error) {
	if strings.Contains(s, "/") {
		p, err := parsePrefix(s)
		if err != nil {
			return Destination{}, err
		}
		return Destination{CIDR: p}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		withPort := s + ":PORT"
		if a.Is6() {
			withPort = "[" + s + "]:PORT"
		}
		return Destination{}, fmt.Errorf("address %q needs a port or a prefix length: did you mean %s or %s/%d?", s, withPort, s, a.BitLen())
	}
	if strings.Contains(s, ":") {
		return parseHostPort(s)
	}
	if !isZoneName(s) {
		return Destination{}, fmt.Errorf("%q is not a zone name, a CIDR or host:port", s)
	}
	return Destination{Zone: s}, nil
}

// parseHostPort reads host:port, [ipv6]:port included.
func parseHostPort(s string) (Destination, error) {
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		return Destination{}, fmt.Errorf("invalid host:port %q: %w", s, unwrapAddrError(err))
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return Destination{}, fmt.Errorf("invalid host:port %q: port %q must be a number 1..65535", s, portText)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return Destination{}, fmt.Errorf("invalid host:port %q: give an address without a zone (%%%s)", s, a.Zone())
		}
		return Destination{Host: a.Unmap().String(), Port: uint16(port)}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if !isHostName(name) {
		return Destination{}, fmt.Errorf("invalid host:port %q: %q is neither an IP address nor a host name", s, host)
	}
	return Destination{Host: name, Port: uint16(port)}, nil
}

// unwrapAddrError drops the *net.AddrError wrapper's repetition of the input.
func unwrapAddrError(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

// isHostName reports whether s is a lowercase DNS name: labels of [a-z0-9-], not starting or
// ending with -, joined by dots.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isLower(c) && !isDigit(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// hostPort joins host and port the way a destination is written.
func hostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// destinationCovers reports whether every destination b matches is provably matched by a:
// equal entries, a CIDR containing another, or a CIDR containing a host:port's IP address.
func destinationCovers(a, b Destination) bool {
	if a == b {
		return true
	}
	if !a.CIDR.IsValid() {
		return false
	}
	if b.CIDR.IsValid() {
		return a.CIDR.Bits() <= b.CIDR.Bits() && a.CIDR.Contains(b.CIDR.Addr())
	}
	if addr, err := netip.ParseAddr(b.Host); err == nil {
		return a.CIDR.Contains(addr)
	}
	return false
}
