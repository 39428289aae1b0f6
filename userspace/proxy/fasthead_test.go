package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// fastHeadSeeds are heads the fast path takes and heads it must leave to net/http.
var fastHeadSeeds = []string{
	"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 5\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\nhello",
	"GET /a/b%2Fc?x=1&y=%20 HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n",
	"GET / HTTP/1.1\r\nconnection: \tclose \t\r\nx-lower: v\r\n\r\n",
	"POST / HTTP/1.1\r\nContent-Length: 0010\r\n\r\n0123456789rest",
	"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",
	"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
	"GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
	"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
	"GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",
	"GET / HTTP/1.1\r\nPragma: no-cache\r\n\r\n",
	"GET / HTTP/1.1\r\nX:\r\nX: two\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\n\r\n",
	"GET http://example.com/ HTTP/1.1\r\nHost: other\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
	"G{T / HTTP/1.1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Thu, 26 Nov 2026 02:58:00 GMT\r\nContent-Length: 2\r\n\r\n{}",
	"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1  200 OK\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 200 OK\r\n\r\nuntil close",
	"HTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n",
	"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
	"GET /\r HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n",
}

// FuzzFastHeadAgreesWithNetHTTP checks that the fast path only takes heads net/http takes too,
// and reads them into the same Request or Response, body and what follows it included.
func FuzzFastHeadAgreesWithNetHTTP(f *testing.F) {
	for _, s := range fastHeadSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		compareFastRequest(t, data)
		compareFastResponse(t, data, head)
	})
}

func TestFastHeadSeedsAgreeWithNetHTTP(t *testing.T) {
	for _, s := range fastHeadSeeds {
		compareFastRequest(t, []byte(s))
		compareFastResponse(t, []byte(s), false)
		compareFastResponse(t, []byte(s), true)
	}
}

// TestFastHeadTakesWhatClientsAndServersWrite checks that the heads net/http's own client and
// server write for a JSON POST and its answer take the fast path: the path this is for.
func TestFastHeadTakesWhatClientsAndServersWrite(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/mcp?session=1", strings.NewReader(`{"jsonrpc":"2.0"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mcp-Session-Id", "s-1")
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(bytes.NewReader(wire.Bytes()))
	_, _ = br.Peek(1)
	got, ok := fastReadRequest(br)
	if !ok {
		t.Fatalf("the fast path left a Go client's request to net/http:\n%q", wire.Bytes())
	}
	if got.URL.Path != "/mcp" || got.Host != "127.0.0.1:8080" || got.ContentLength != 17 || got.Header.Get("Mcp-Session-Id") != "s-1" {
		t.Fatalf("request read as %+v", got)
	}
	resp := &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, ContentLength: 2,
		Header: http.Header{"Content-Type": {"application/json"}, "Date": {"Thu, 26 Nov 2026 02:58:00 GMT"}},
		Body:   io.NopCloser(strings.NewReader("{}"))}
	wire.Reset()
	if err := resp.Write(&wire); err != nil {
		t.Fatal(err)
	}
	br = bufio.NewReader(bytes.NewReader(wire.Bytes()))
	if _, ok := fastReadResponse(br, got); !ok {
		t.Fatalf("the fast path left a Go server's response to net/http:\n%q", wire.Bytes())
	}
}

// compareFastRequest reads data with the fast path and, when it takes it, with net/http.
func compareFastRequest(t *testing.T, data []byte) {
	t.Helper()
	fast := bufio.NewReaderSize(bytes.NewReader(data), 16<<10)
	_, _ = fast.Peek(1)
	got, ok := fastReadRequest(fast)
	if !ok {
		if fast.Buffered() != min(len(data), 16<<10) {
			t.Fatalf("the fast path declined %q but consumed bytes", data)
		}
		return
	}
	std := bufio.NewReaderSize(bytes.NewReader(data), 16<<10)
	want, err := http.ReadRequest(std)
	if err != nil {
		t.Fatalf("the fast path took %q, which net/http refuses: %v", data, err)
	}
	if got.Method != want.Method || got.RequestURI != want.RequestURI || !reflect.DeepEqual(got.URL, want.URL) ||
		got.Proto != want.Proto || got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor ||
		!reflect.DeepEqual(got.Header, want.Header) || got.Host != want.Host || got.Close != want.Close ||
		got.ContentLength != want.ContentLength || !reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) ||
		(got.Body == http.NoBody) != (want.Body == http.NoBody) {
		t.Fatalf("%q read differently:\nfast    %+v\nnet/http %+v", data, got, want)
	}
	compareRest(t, data, got.Body, want.Body, fast, std)
}

// compareFastResponse reads data as the response to a GET (or a HEAD) with the fast path and,
// when it takes it, with net/http.
func compareFastResponse(t *testing.T, data []byte, head bool) {
	t.Helper()
	req := &http.Request{Method: http.MethodGet}
	if head {
		req.Method = http.MethodHead
	}
	fast := bufio.NewReaderSize(bytes.NewReader(data), 4096)
	got, ok := fastReadResponse(fast, req)
	if !ok {
		if len(data) > 0 && fast.Buffered() != min(len(data), 4096) {
			t.Fatalf("the fast path declined %q but consumed bytes", data)
		}
		return
	}
	std := bufio.NewReaderSize(bytes.NewReader(data), 4096)
	want, err := http.ReadResponse(std, req)
	if err != nil {
		t.Fatalf("the fast path took %q, which net/http refuses: %v", data, err)
	}
	if got.Status != want.Status || got.StatusCode != want.StatusCode || got.Proto != want.Proto ||
		got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor ||
		!reflect.DeepEqual(got.Header, want.Header) || got.Close != want.Close || got.ContentLength != want.ContentLength ||
		!reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) || got.Request != want.Request ||
		(got.Body == http.NoBody) != (want.Body == http.NoBody) {
		t.Fatalf("%q read differently:\nfast    %+v\nnet/http %+v", data, got, want)
	}
	compareRest(t, data, got.Body, want.Body, fast, std)
}

// compareRest reads both bodies to their ends, then what both readers hold after them.
func compareRest(t *testing.T, data []byte, gotBody, wantBody io.ReadCloser, fast, std *bufio.Reader) {
	t.Helper()
	gb, gerr := io.ReadAll(gotBody)
	wb, werr := io.ReadAll(wantBody)
	if !bytes.Equal(gb, wb) || (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: body %q (%v), net/http's %q (%v)", data, gb, gerr, wb, werr)
	}
	if gerr != nil {
		return
	}
	grest, _ := io.ReadAll(fast)
	wrest, _ := io.ReadAll(std)
	if !bytes.Equal(grest, wrest) {
		t.Fatalf("%q: %q left after the message, net/http leaves %q", data, grest, wrest)
	}
}

// BenchmarkReadHead reads a Go client's JSON POST head and a Go server's answer head, with the
// fast path and with net/http alone.
func BenchmarkReadHead(b *testing.B) {
	req := []byte(fastHeadSeeds[0])
	resp := []byte(fastHeadSeeds[22])
	for _, c := range []struct {
		name string
		read func(br *bufio.Reader) (*http.Request, error)
	}{
		{"fast", func(br *bufio.Reader) (*http.Request, error) {
			if r, ok := fastReadRequest(br); ok {
				return r, nil
			}
			return http.ReadRequest(br)
		}},
		{"net-http", http.ReadRequest},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			src := bytes.NewReader(req)
			br := bufio.NewReaderSize(src, 16<<10)
			rsrc := bytes.NewReader(resp)
			rbr := bufio.NewReaderSize(rsrc, 4096)
			for b.Loop() {
				src.Reset(req)
				br.Reset(src)
				_, _ = br.Peek(1)
				r, err := c.read(br)
				if err != nil {
					b.Fatal(err)
				}
				rsrc.Reset(resp)
				rbr.Reset(rsrc)
				var answer *http.Response
				if c.name == "fast" {
					answer, _ = fastReadResponse(rbr, r)
				}
				if answer == nil {
					if answer, err = http.ReadResponse(rbr, r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
