// Package identity is the root of Meshwarden's identity core (issue 4). It holds no code: the
// work is done by its sub-packages, each with one job.
//
//   - [github.com/meshwarden/meshwarden/userspace/identity/spiffeid]: SPIFFE ids for agents
//     (spiffe://<trust_domain>/ns/<namespace>/agent/<id>) and nodes (spiffe://<trust_domain>/node/<node>).
//   - [github.com/meshwarden/meshwarden/userspace/identity/ca]: the mesh trust root in local mode:
//     an Ed25519 CA created under a state directory or loaded from files, rotation with overlap,
//     the trust bundle, node certificate issuance.
//   - [github.com/meshwarden/meshwarden/userspace/identity/node]: the enforcer's own X.509
//     identity, rotated in the background, and mutual TLS 1.3 configurations that verify the peer's
//     node SPIFFE id against the live bundle.
//   - [github.com/meshwarden/meshwarden/userspace/identity/credential]: per-agent Ed25519 JWT
//     credentials, their rotators, per-request presentations bound to the tunnel connection, and
//     the receiving side's verifier (reason codes, replay cache, revocation).
//   - [github.com/meshwarden/meshwarden/userspace/identity/attest]: runtime attestation: the
//     sha256 of the executable behind /proc/<pid>/exe, cached per file version.
//   - [github.com/meshwarden/meshwarden/userspace/identity/clock]: the injectable clock every
//     time-driven part uses, with a fake for tests.
//
// README.md beside this file explains the choices.
package identity
