package proxy

import "testing"

func TestRedactQuotedDropsEveryQuotedExcerptOfTraffic(t *testing.T) {
	for in, want := range map[string]string{
		`malformed MIME header: missing colon: "X-Api-Key s3cret"`: `malformed MIME header: missing colon: "…"`,
		`malformed HTTP request "GET /a\"b s3cret"`:                `malformed HTTP request "…"`,
		`read response: bad Content-Length "s3cret" and "x"`:       `read response: bad Content-Length "…" and "…"`,
		`unterminated "s3cret`:                                     `unterminated "…"`,
		`dial tcp 127.0.0.3:1: connect: connection refused`:        `dial tcp 127.0.0.3:1: connect: connection refused`,
	} {
		if got := redactQuoted(in); got != want {
			t.Errorf("redactQuoted(%s) = %s, want %s", in, got, want)
		}
	}
}
