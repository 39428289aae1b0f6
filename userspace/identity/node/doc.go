// Package node is the enforcer's own identity: an Ed25519 key and an X.509 certificate whose URI
// SAN is the node's SPIFFE id (spiffe://<trust_domain>/node/<node>), signed by the mesh CA and
// rotated in the background; and the mutual TLS configurations of the node-to-node tunnel, which
// verify the peer's certificate against the live trust bundle and check its node id.
//
// Certificates are served through GetCertificate / GetClientCertificate and peers are verified
// in VerifyPeerCertificate against the bundle of the moment, so neither a node certificate
// rotation nor a CA rotation needs a listener restart. The configurations never fall back to
// the system roots.
package node
