package brenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/workspace"
)

const token = "BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN"

func TestSecretsFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "secrets.config")
	if err := WriteSecrets(path, map[string]string{token: ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("wrote a secrets file with nothing in it")
	}
	v := `a "quoted" \ token`
	if err := WriteSecrets(path, map[string]string{token: v, "BR2_NOT_SECRET": "x"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", st.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "BR2_NOT_SECRET") {
		t.Error("a symbol that is not secret went into the secrets file")
	}
	got, err := ReadSecrets(path)
	if err != nil || got[token] != v || len(got) != 1 {
		t.Fatalf("read back %q %v", got, err)
	}
	// Clearing the token empties the file.
	if err := WriteSecrets(path, map[string]string{token: ""}); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadSecrets(path); len(got) != 0 {
		t.Errorf("after clearing: %q", got)
	}
}

func TestDropAndWarnSecretLines(t *testing.T) {
	def := "BR2_A=y\n" + token + "=\"s3cr3t\"\nBR2_B=\"x\"\n"
	out, dropped := DropSecretLines([]byte(def))
	if string(out) != "BR2_A=y\nBR2_B=\"x\"\n" || dropped[token] != "s3cr3t" {
		t.Errorf("dropped: %q %q", out, dropped)
	}
	var w bytes.Buffer
	WarnSecretLines(&w, "configs/x_defconfig", []byte(def))
	if !strings.Contains(w.String(), "configs/x_defconfig:2: "+token+" is a secret") {
		t.Errorf("warning: %q", w.String())
	}
	w.Reset()
	WarnSecretLines(&w, "x", []byte(token+"=\"\"\n"))
	if w.Len() != 0 {
		t.Errorf("an empty secret warned: %q", w.String())
	}
}

// Standalone: a token set and saved goes to the secrets file only, is
// masked in what the engine shows, and comes back at the next open.
func TestStandaloneSecrets(t *testing.T) {
	ext := copyCube(t)
	w := &workspace.Workspace{ExternalDir: ext, StateDir: filepath.Join(t.TempDir(), "state")}
	s, err := Open(w, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.K.Set(token, "s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || strings.Contains(ch[0].String(), "s3cr3t") || !strings.Contains(ch[0].String(), kconfig.SecretMask) {
		t.Errorf("change report %v", ch)
	}
	if x := s.K.Explain(s.K.Lookup(token)).Text(); strings.Contains(x, "s3cr3t") {
		t.Errorf("explanation shows the secret:\n%s", x)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if note := s.SecretNote(); !strings.Contains(note, s.SecretsPath) {
		t.Errorf("note %q", note)
	}
	assertNoSecret(t, ext, "s3cr3t")
	if got, _ := ReadSecrets(s.SecretsPath); got[token] != "s3cr3t" {
		t.Errorf("secrets file has %q", got)
	}
	s2, err := Open(w, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := s2.K.Lookup(token).Value(); v != "s3cr3t" {
		t.Errorf("reopened: token %q", v)
	}
	// A defconfig holding a secret is warned about.
	def := filepath.Join(ext, "configs", "cube_defconfig")
	data, _ := os.ReadFile(def)
	os.WriteFile(def, append(data, []byte(token+"=\"leaked\"\n")...), 0o644)
	var warn bytes.Buffer
	if _, err := Open(w, OpenOptions{Stderr: &warn}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), def+":") || !strings.Contains(warn.String(), token+" is a secret") {
		t.Errorf("no warning naming the line: %q", warn.String())
	}
}

// assertNoSecret fails if any file under dir contains secret.
func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s contains the secret", p)
			}
		}
		return nil
	})
}
