package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyValidatePrintsUnreachableDomainWarnings(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mesh.yaml")
	src := `security_mesh:
  domains:
    - {name: everything, tier: PLAINTEXT, allowed_roles: [EXECUTOR], match: any}
    - name: tools
      tier: PLAINTEXT
      allowed_roles: [EXECUTOR]
      match: {http_paths: [/mcp]}
`
	if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"policy", "validate", f}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	want := "warning: " + f + `:7: domain "tools" is unreachable: domain "everything" (line 3) comes first and has match: any`
	if !strings.Contains(out.String(), want) {
		t.Errorf("output:\n%s\nwant a line %q", out.String(), want)
	}
}
