package policy

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode"
)

// PathHasPrefix reports whether the cleaned request path p starts with prefix at a segment
// boundary: the prefix /v1 takes /v1 and /v1/x but not /v1beta; /v1/ takes what is below /v1/.
func PathHasPrefix(p, prefix string) bool {
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	return len(p) == len(prefix) || strings.HasSuffix(prefix, "/") || p[len(prefix)] == '/'
}

// cleanHTTPPath returns the form of a request path that match.http_paths are compared with:
// without query or fragment, percent-decoded (when it decodes), without dot segments or
// repeated slashes, keeping a trailing slash. An empty path stays empty.
func cleanHTTPPath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return ""
	}
	if decoded, err := url.PathUnescape(p); err == nil {
		p = decoded
	}
	return cleanSlash(p)
}

// cleanSlash is path.Clean that keeps a trailing slash.
func cleanSlash(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// checkHTTPPath returns why prefix cannot be a match.http_paths entry, or nil.
func checkHTTPPath(prefix string) error {
	switch {
	case prefix == "":
		return fmt.Errorf("must not be empty")
	case !strings.HasPrefix(prefix, "/"):
		return fmt.Errorf("http path %q must start with /", prefix)
	case strings.ContainsFunc(prefix, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("http path %q must not hold spaces or control characters", prefix)
	case strings.ContainsAny(prefix, "?#"):
		return fmt.Errorf("http path %q must not hold a query or fragment; paths are compared without them", prefix)
	case strings.Contains(prefix, "*"):
		return fmt.Errorf("http path %q: http_paths are prefixes, not globs; drop the *", prefix)
	case strings.Contains(prefix, "%"):
		return fmt.Errorf("http path %q: write the path decoded; requests are percent-decoded before they are compared", prefix)
	}
	if c := cleanSlash(prefix); c != prefix {
		return fmt.Errorf("http path %q is compared with cleaned request paths and would never match; did you mean %q?", prefix, c)
	}
	return nil
}
