// Package tunnel is the node-to-node tunnel of the enforcers: when an agent's original
// destination lives on another node, the sending enforcer does not dial it in the clear but opens
// a stream to the peer node's enforcer over one pooled mutual-TLS 1.3 connection, and the
// receiving enforcer verifies the source agent's credential on every stream before delivering
// the bytes to the local destination.
//
// The Client (sending node) keeps one connection per peer node, reconnects when it fails, and
// opens a stream per Dial carrying the original destination and a credential presentation
// bound to that connection. The Server (receiving node) authenticates the peer node by its
// certificate, verifies each stream's presentation (credential.Verifier: signature, expiry,
// audience, replay, revocation, issuing node), and hands the verified Stream to a Handler; every
// refusal is answered with a status and a reason code and reported to a callback for audit and
// metrics.
//
// Framing is package mux: a small HTTP/2-like multiplexer (SETTINGS, OPEN/REPLY, DATA with FIN,
// per-stream WINDOW, RESET, PING, GOAWAY), chosen over HTTP/2 CONNECT because golang.org/x/net's
// HTTP/2 server cannot half-close a response while still reading the request body, which a TCP
// tunnel needs. See README.md for the protocol.
package tunnel
