package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestDetectProtocolClassifiesFirstBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want wireProtocol
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", protoHTTP1},
		{"GET / HTTP/1.1\r\n", protoHTTP1},
		{"POST /v1/chat/completions?stream=true HTTP/1.1\r\n", protoHTTP1},
		{"HEAD / HTTP/1.0\n", protoHTTP1},
		{"CONNECT api.example.com:443 HTTP/1.1\r\n", protoHTTP1},
		{"OPTIONS * HTTP/1.1\r\n", protoHTTP1},
		{"GET http://example.com/ HTTP/1.1\r\n", protoHTTP1},
		{"", protoUndecided},
		{"G", protoUndecided},
		{"DELE", protoUndecided},
		{"GET ", protoUndecided},
		{"GET /index.html", protoUndecided},
		{"GET / HTTP/1.", protoUndecided},
		{"GET / HTTP/1.1\r", protoUndecided},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", protoOpaque},
		{"PRI", protoOpaque},
		{"get / HTTP/1.1\r\n", protoOpaque},
		{"GET key\r\n", protoOpaque}, // Redis inline command
		{"GET / HTTP/2.0\r\n", protoOpaque},
		{"GET / HTTP/1.2\r\n", protoOpaque},
		{"GET  / HTTP/1.1\r\n", protoOpaque},
		{"GET / HTTP/1.1 \r\n", protoOpaque},
		{"GET /\x00 HTTP/1.1\r\n", protoOpaque},
		{"GETS / HTTP/1.1\r\n", protoOpaque},
		{"OPTIONSX", protoOpaque},
		{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", protoOpaque}, // TLS ClientHello
		{"SSH-2.0-OpenSSH_9.6\r\n", protoOpaque},
		{"*1\r\n$4\r\nPING\r\n", protoOpaque},
	} {
		if got := detectProtocol([]byte(tc.in)); got != tc.want {
			t.Errorf("detectProtocol(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzDetectProtocol(f *testing.F) {
	for _, m := range standardMethods() {
		req, err := http.NewRequest(m, "http://example.com/a/b?c=d", strings.NewReader("body"))
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for _, s := range []string{
		"", "G", "GET / HTTP/1.0\n\n", "OPTIONS * HTTP/1.1\r\n", "CONNECT h:443 HTTP/1.1\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "GET key\r\n", "\x16\x03\x01\x00", "SSH-2.0-x\r\n",
		"GET /%zz HTTP/1.1\r\n", "GET http://[::1 HTTP/1.1\r\n",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		got := detectProtocol(b)

		// The answer is final: no prefix of b was given a different definite answer, so
		// sniffing may stop at the first definite answer however the bytes were split.
		for i := range len(b) {
			if p := detectProtocol(b[:i]); p != protoUndecided && p != got {
				t.Fatalf("detectProtocol(%q) = %v but its prefix %q gave %v", b, got, b[:i], p)
			}
		}
		if got != protoHTTP1 {
			return
		}

		// What is taken for HTTP/1 parses as an HTTP/1 request line, failing only on the
		// request target's URL syntax (which the proxy answers with 400 Bad Request).
		line, _, ok := bytes.Cut(b, []byte("\n"))
		if !ok {
			t.Fatalf("detectProtocol(%q) = http/1 without a complete request line", b)
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		method, _, _ := strings.Cut(string(line), " ")
		if !isMethod([]byte(method)) {
			t.Fatalf("detectProtocol(%q) = http/1 with method %q", b, method)
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(line) + "\r\nHost: x\r\n\r\n")))
		if err != nil {
			if ue := (*url.Error)(nil); !errors.As(err, &ue) {
				t.Fatalf("detectProtocol(%q) = http/1 but net/http rejects the line: %v", b, err)
			}
			return
		}
		if req.Method != method || req.ProtoMajor != 1 || req.ProtoMinor > 1 {
			t.Fatalf("detectProtocol(%q) = http/1 but net/http read %s %s", b, req.Method, req.Proto)
		}
	})
}
