package certs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// No private key or certificate is tracked by git, anywhere in the
// repository: not by name (*.key, *.pem, *.crt, *.csr, id_* key files,
// authorized_keys) and not by content (a PEM block of a key or certificate,
// an OpenSSH private key). Tests make their own in temporary directories.
func TestNoKeysOrCertificatesTracked(t *testing.T) {
	git := testenv.Tool(t, "git")[0]
	root := testenv.RepoRoot(t)
	cmd := exec.Command(git, "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		testenv.Missing(t, "a git checkout to list tracked files (%v)", err)
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(files) < 10 {
		t.Fatalf("git ls-files listed only %d files", len(files))
	}
	// The markers are assembled so this file does not match itself.
	begin := "-----" + "BEGIN "
	var markers [][]byte
	for _, kind := range []string{"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY",
		"ENCRYPTED PRIVATE KEY", "CERTIFICATE", "CERTIFICATE REQUEST", "TRUSTED CERTIFICATE"} {
		markers = append(markers, []byte(begin+kind+"-----"))
	}
	for _, f := range files {
		base := filepath.Base(f)
		switch ext := filepath.Ext(base); {
		case ext == ".key" || ext == ".pem" || ext == ".crt" || ext == ".csr" || ext == ".p12" || ext == ".pfx",
			strings.HasPrefix(base, "id_rsa") || strings.HasPrefix(base, "id_ecdsa") || strings.HasPrefix(base, "id_ed25519"),
			base == "authorized_keys":
			t.Errorf("%s is tracked by git: keys and certificates are generated, never committed", f)
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree, or a submodule
		}
		for _, m := range markers {
			if bytes.Contains(data, m) {
				t.Errorf("%s holds a PEM block %q: keys and certificates are never committed", f, m)
			}
		}
	}
}
