// Package ca is the mesh's trust root in local mode.
//
// An [Authority] owns one or more CA generations. Each generation is an Ed25519 key and a
// self-signed CA certificate whose URI SAN is the trust domain's SPIFFE id
// (spiffe://<trust_domain>). The active generation signs the node certificates the enforcers use
// for mutual TLS and the agent credentials (JWTs) they present for their agents; the key id of a
// generation is the RFC 7638 thumbprint of its public key, which is also the `kid` of every
// credential it signs.
//
// The [Bundle] is the set of CA certificates a verifier trusts: the active generation, a prepared
// one not yet signing, and retired ones until their certificates expire. Rotation is therefore
// overlap by construction: [Authority.Prepare] publishes a new generation in the bundle,
// [Authority.Activate] makes it sign (and forgets the old key), and the old certificate stays
// trusted until its NotAfter, which no certificate or credential it signed outlives.
//
// In local mode ([Config].StateDir) the authority keeps its generations under
// <state>/ca/<kid>/{ca.crt,ca.key} with the active kid in <state>/ca/active; keys are written
// 0600 in a 0700 directory and a key file others may read is refused. With [Config].KeyFile and
// CertFile it uses an externally managed CA instead and does not rotate it.
//
// No key material is ever logged or formatted: private keys live behind pointers to a type whose
// every formatting method prints "[redacted]".
package ca
