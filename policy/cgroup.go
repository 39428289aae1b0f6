package policy

import (
	"errors"
	"path"
	"strings"
	"unicode"
)

// cleanCgroup checks a cgroup path relative to the cgroup2 root and returns it cleaned.
func cleanCgroup(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("must not be empty")
	case strings.HasPrefix(s, "/"):
		return "", errors.New("must be relative to the cgroup2 root, not absolute: drop the leading /")
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", errors.New("must not contain control characters")
	}
	for part := range strings.SplitSeq(s, "/") {
		if part == ".." {
			return "", errors.New(`must not contain ".."`)
		}
	}
	c := path.Clean(s)
	if c == "." {
		return "", errors.New("names the cgroup2 root itself; name a cgroup below it")
	}
	return c, nil
}

// cgroupContains reports whether cgroup inner is strictly below cgroup outer.
func cgroupContains(outer, inner string) bool {
	return strings.HasPrefix(inner, outer+"/")
}

// cgroupAncestors returns the strict ancestors of a cleaned cgroup path, nearest the root first.
func cgroupAncestors(c string) []string {
	var out []string
	for i := 0; i < len(c); i++ {
		if c[i] == '/' {
			out = append(out, c[:i])
		}
	}
	return out
}
