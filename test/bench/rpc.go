package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
)

// rpcAnswerText is the text of every tools/call result: with the envelope, about 1 kB.
var rpcAnswerText = strings.Repeat("document 17: revenue grew in every region. ", 22)

// rpcBackend serves JSON-RPC on addr (ip:0 picks a port): every call is answered with a
// tools/call result of about 1 kB under the call's id. It returns the bound address.
func rpcBackend(r *lab.Runner, addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.Fatalf("%v", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m struct{ ID json.RawMessage }
		if err := json.Unmarshal(b, &m); err != nil || len(m.ID) == 0 {
			http.Error(w, "not a JSON-RPC call", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}],"isError":false}}`, m.ID, rpcAnswerText)
	})}
	go srv.Serve(ln)
	r.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
