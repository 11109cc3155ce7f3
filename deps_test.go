package main

import (
	"os/exec"
	"strings"
	"testing"
)

// cube-hal must not link go-sev-guest's test package: its testing/data
// parses three RSA-4096 keys at init, several milliseconds and ~0.4 MB on
// every start, and `cube-hal conf --olddefconfig` must stay well under half
// of Buildroot conf's time. Fake SNP evidence (agent/fakesnp) belongs to
// cube-agent's fake TSM and to tests only; --test-roots recognises the
// test ARK by a pinned key hash instead (agent/snptestroots).
func TestCubeHalLinksNoTestKeys(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps printed too little to trust: %q", out)
	}
	forbidden := []string{
		"github.com/google/go-sev-guest/testing",
		"github.com/ultravioletrs/cube-hal/agent/fakesnp",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("cube-hal links %s", d)
			}
		}
	}
}
