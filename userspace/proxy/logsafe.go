package proxy

import "strings"

// redactQuoted replaces every double-quoted excerpt in s with "…". net/http and net/textproto
// quote the offending bytes of a malformed message in their errors ("malformed MIME header:
// missing colon: \"X-Api-Key abc\""); those bytes are traffic, which may be secrets or payload,
// and must not reach a log line.
func redactQuoted(s string) string {
	if !strings.Contains(s, `"`) {
		return s
	}
	var b strings.Builder
	in, escaped := false, false
	for _, r := range s {
		switch {
		case !in && r == '"':
			in = true
			b.WriteString(`"…`)
		case in && escaped:
			escaped = false
		case in && r == '\\':
			escaped = true
		case in && r == '"':
			in = false
			b.WriteRune('"')
		case !in:
			b.WriteRune(r)
		}
	}
	if in {
		b.WriteRune('"')
	}
	return b.String()
}
