// Package api is the node daemon's local operator API: a unix socket under the state directory
// that `meshwarden status` and `meshwarden observe` use. It speaks HTTP/1.1 over the socket:
//
//	GET /v1/status                      the daemon's state, one JSON object (Status)
//	GET /v1/events?agent=&verdict=&kind=&since=&follow=
//	                                    flows and exchanges, one JSON object (Event) per line
//	POST /v1/identity/revoke            revoke an agent on this node
//	GET /debug/pprof/...                Go's profiles (net/http/pprof): CPU, heap, goroutines, trace
//
// The socket is created with mode 0600 in the state directory, and every connection's peer is
// checked with SO_PEERCRED: only uid 0 is served, anyone else gets 403.
package api

import "path/filepath"

// SocketName is the socket's file name in the state directory.
const SocketName = "meshwarden.sock"

// SocketPath is the socket of the daemon whose state directory is stateDir.
func SocketPath(stateDir string) string { return filepath.Join(stateDir, SocketName) }
