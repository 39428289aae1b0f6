package credential

import (
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary presentations to a fresh verifier: it must never panic, every
// refusal must carry a reason, and the only input it may accept is the one genuine
// presentation (the fuzzer cannot forge an Ed25519 signature or an HMAC, and strict base64
// leaves a genuine presentation a single spelling).
func FuzzVerify(f *testing.F) {
	m := newMesh(f, 0)
	c := m.issue(f)
	genuine := m.present(f, c)
	parts := strings.Split(genuine, "~")
	f.Add(genuine)
	f.Add(c.Token())
	f.Add(parts[0] + "~" + parts[1] + "~")
	f.Add(strings.Replace(genuine, ".", "..", 1))
	f.Add(genuine + "=")
	f.Add("eyJhbGciOiJub25lIn0.e30.~e30~")
	f.Add(strings.ToUpper(genuine))
	f.Fuzz(func(t *testing.T, p string) {
		v, err := NewVerifier(VerifierConfig{Bundle: m.auth, Self: nodeB, Clock: m.clk, ReplayCapacity: 16, CacheCapacity: 4})
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(p, m.binding, nodeA)
		if err == nil {
			if p != genuine {
				t.Fatalf("accepted a non-genuine presentation: %q", p)
			}
			if got.Claims.Subject != agent {
				t.Fatalf("accepted with subject %s", got.Claims.Subject)
			}
			return
		}
		if ReasonOf(err) == "" {
			t.Fatalf("refusal without a reason: %v", err)
		}
		if _, err := v.VerifyCredential(p, nodeA); err == nil && p != c.Token() {
			t.Fatalf("VerifyCredential accepted a non-genuine credential: %q", p)
		}
	})
}
