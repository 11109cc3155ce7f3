package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// A secret (the certs token) set in the configurator is saved to the
// private secrets file, never to the defconfig.
func TestSavePlanKeepsSecretsOutOfDefconfig(t *testing.T) {
	const token, secret = "BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN", "s3cr3t-T0ken"
	ext := filepath.Join(t.TempDir(), "external")
	copyTree(t, filepath.Join(testenv.RepoRoot(t), "buildroot"), ext)
	state := t.TempDir()
	ws, err := workspace.Resolve(workspace.Options{External: ext, Overlay: t.TempDir(), StateDir: state,
		CacheDir: t.TempDir(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := OpenWorkspace(ws)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Set(token, secret); err != nil {
		t.Fatal(err)
	}
	plan, err := eng.SavePlan(true)
	if err != nil {
		t.Fatal(err)
	}
	var private *FileWrite
	for i, f := range plan {
		if f.Private {
			private = &plan[i]
		} else if strings.Contains(string(f.Data), secret) {
			t.Errorf("%s (%s) would get the secret", f.What, f.Path)
		}
	}
	if private == nil || private.Path != filepath.Join(state, "secrets.config") || !strings.Contains(string(private.Data), secret) {
		t.Fatalf("no private secrets write in the plan: %+v", plan)
	}
	if msg := writeFilesCmd(0, plan)().(savedMsg); msg.err != nil {
		t.Fatal(msg.err)
	}
	if st, err := os.Stat(private.Path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode: %v %v", st.Mode(), err)
	}
	def, _ := os.ReadFile(filepath.Join(ext, "configs", "cube_defconfig"))
	if strings.Contains(string(def), secret) {
		t.Error("the defconfig got the secret")
	}
}
