package brenv

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// Secrets (cubecfg options marked Secret, such as the agent's certs
// token) never go into a defconfig, which git may track: the workspace
// commands and the configurator keep them in $(O)/.config (an untracked
// output directory) and in <StateDir>/secrets.config, a private .config
// fragment (0600) that is applied again on top whenever a defconfig is
// loaded. `cube-hal conf` stays byte-identical to conf and knows nothing
// of this.

// SecretSymbols are the symbols whose values are secrets.
func SecretSymbols() []string {
	var out []string
	for _, o := range cubecfg.Options() {
		if o.Secret {
			out = append(out, o.Symbol)
		}
	}
	return out
}

func isSecretName(name string) bool {
	for _, s := range SecretSymbols() {
		if s == name {
			return true
		}
	}
	return false
}

// SecretsFile is where a workspace keeps its secrets ("" without a state
// directory).
func SecretsFile(w *workspace.Workspace) string {
	if w.StateDir == "" {
		return ""
	}
	return filepath.Join(w.StateDir, "secrets.config")
}

// ReadSecrets reads a secrets file (missing: none), as NAME -> value.
func ReadSecrets(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, v := range kconfig.ParseConfig(data, "") {
		if isSecretName(name) {
			out[name] = v
		}
	}
	return out, nil
}

// FormatSecrets is the secrets file for values: NAME="value" lines for
// the non-empty ones, sorted.
func FormatSecrets(values map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("# cube-hal: secret configuration values, applied on top of a defconfig\n# when one is loaded. Kept out of defconfigs (git may track them).\n")
	var names []string
	for n, v := range values {
		if v != "" && isSecretName(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s\n", n, kconfig.Quote(values[n]))
	}
	return b.Bytes()
}

// WriteSecrets replaces the secrets file (0600, atomically). With no
// secret set and no file yet it writes nothing.
func WriteSecrets(path string, values map[string]string) error {
	if path == "" {
		return nil
	}
	data := FormatSecrets(values)
	if old, err := os.ReadFile(path); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
	} else if !hasValue(values) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600) // an existing file keeps no wider mode
}

func hasValue(values map[string]string) bool {
	for n, v := range values {
		if v != "" && isSecretName(n) {
			return true
		}
	}
	return false
}

// SecretValues are the current values of the secret symbols k defines.
func SecretValues(k *kconfig.Kconfig) map[string]string {
	out := map[string]string{}
	for _, n := range SecretSymbols() {
		if s := k.Lookup(n); s != nil {
			out[n] = s.Value()
		}
	}
	return out
}

// ApplySecrets sets the secrets file's values on k (those k defines and
// can take now), returning the names set.
func ApplySecrets(k *kconfig.Kconfig, path string) ([]string, error) {
	values, err := ReadSecrets(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	var set []string
	for _, n := range names {
		if s := k.Lookup(n); s != nil && s.Value() != values[n] {
			if _, err := k.Set(n, values[n]); err == nil {
				set = append(set, n)
			}
		}
	}
	return set, nil
}

// WarnSecretLines warns, naming file:line, about each secret with a value
// in a defconfig.
func WarnSecretLines(w io.Writer, path string, data []byte) {
	as, err := kconfig.ReadAssignments(bytes.NewReader(data), path, "")
	if err != nil {
		// conf's reading is more lenient; look line by line instead
		for i, l := range strings.Split(string(data), "\n") {
			for _, n := range SecretSymbols() {
				if v, ok := strings.CutPrefix(l, n+"="); ok && v != "" && v != `""` {
					warnSecret(w, path, i+1, n)
				}
			}
		}
		return
	}
	for _, a := range as {
		if a.Value != "" && !a.Unset && isSecretName(a.Name) {
			warnSecret(w, path, a.Line, a.Name)
		}
	}
}

func warnSecret(w io.Writer, path string, line int, name string) {
	fmt.Fprintf(w, "warning: %s:%d: %s is a secret in a defconfig (git may track it); cube-hal keeps secrets out of defconfigs\n", path, line, name)
}

// DropSecretLines removes the lines assigning secret symbols from a
// defconfig text, returning the text and the dropped values.
func DropSecretLines(data []byte) ([]byte, map[string]string) {
	var b strings.Builder
	dropped := map[string]string{}
	for _, l := range strings.SplitAfter(string(data), "\n") {
		drop := false
		for _, n := range SecretSymbols() {
			if strings.HasPrefix(l, n+"=") || strings.TrimRight(l, "\n") == "# "+n+" is not set" {
				drop = true
				dropped[n] = kconfig.ParseConfig([]byte(l), "")[n]
			}
		}
		if !drop {
			b.WriteString(l)
		}
	}
	return []byte(b.String()), dropped
}
