package kconfig

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// newlines answers every question with Enter after the given keys, like
// the kernel test suite's `printf keys; yes ”`.
type newlines struct{ keys *strings.Reader }

func (n newlines) Read(p []byte) (int, error) {
	if n.keys.Len() > 0 {
		return n.keys.Read(p)
	}
	for i := range p {
		p[i] = '\n'
	}
	return len(p), nil
}

var modeFile = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// TestKernelTestVectors runs Linux's scripts/kconfig/tests cases (shared
// test vectors, used in place) and compares with what Buildroot's own conf
// produced on them (buildroot-expected/): exit status, .config, stdout and
// stderr. The preprocess/ cases use a macro language Buildroot's kconfig
// does not have: both reject them; only the exit status is compared.
func TestKernelTestVectors(t *testing.T) {
	root := filepath.Join(testenv.SharedDir(t), "testvectors", "kconfig", "kernel-tests")
	manifest, err := os.ReadFile(filepath.Join(root, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	pass, fail := 0, 0
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(manifest))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			t.Fatalf("bad MANIFEST line %q", line)
		}
		rows = append(rows, f)
	}
	for ri, f := range rows {
		test, mode, dot, keys, checks := f[0], f[1], f[2], f[3], f[4]
		// buildroot-expected/ keeps one recording per test and mode: when
		// a later row reuses them, this row is judged by the kernel's
		// own expectations instead.
		shadowed := false
		for _, g := range rows[ri+1:] {
			if g[0] == test && g[1] == mode {
				shadowed = true
			}
		}
		n := 1
		if i := strings.IndexByte(mode, '*'); i >= 0 {
			n, _ = strconv.Atoi(mode[i+1:])
		}
		ok := true
		for seed := 1; seed <= n; seed++ {
			name := test + " " + mode
			exp := filepath.Join(root, "buildroot-expected", test, modeFile.ReplaceAllString(mode, "_"))
			env := map[string]string{"srctree": filepath.Join(root, test), "CONFIG_": "CONFIG_",
				"KCONFIG_CONFIG": ".config", "BR2_CONFIG": ".config"}
			if n > 1 {
				exp += ".seed" + strconv.Itoa(seed)
				env["KCONFIG_SEED"] = strconv.Itoa(seed)
				name += " seed " + strconv.Itoa(seed)
			}
			dir := t.TempDir()
			if dot != "-" {
				data, err := os.ReadFile(filepath.Join(root, test, dot))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, ".config"), data, 0o644)
			}
			var arg string
			switch {
			case strings.HasPrefix(mode, "defconfig="):
				arg = "--defconfig=" + filepath.Join(root, test, strings.TrimPrefix(mode, "defconfig="))
			case strings.HasPrefix(mode, "randconfig"):
				arg = "--randconfig"
			default:
				arg = "--" + mode
			}
			k := ""
			if keys != "-" {
				k = keys + "\n"
			}
			var so, se bytes.Buffer
			rc := RunConf("conf", []string{arg, "Kconfig"}, ConfIO{
				Stdin: newlines{strings.NewReader(k)}, Stdout: &so, Stderr: &se, Dir: dir,
				LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok },
			})
			want := func(ext string) (string, bool) {
				d, err := os.ReadFile(exp + "." + ext)
				return string(d), err == nil
			}
			got, _ := os.ReadFile(filepath.Join(dir, ".config"))
			if shadowed {
				for _, c := range strings.Split(checks, ",") {
					kind, file, _ := strings.Cut(c, ":")
					w, err := os.ReadFile(filepath.Join(root, test, file))
					if err != nil {
						t.Fatal(err)
					}
					var subject string
					switch {
					case strings.HasPrefix(kind, "config_"):
						subject = string(got)
					case strings.HasPrefix(kind, "stdout_"):
						subject = so.String()
					default:
						subject = se.String()
					}
					if (strings.HasSuffix(kind, "_contains") && !strings.Contains(subject, string(w))) ||
						(strings.HasSuffix(kind, "_matches") && subject != string(w)) {
						t.Errorf("%s: %s %s fails", name, kind, file)
						ok = false
					}
				}
				continue
			}
			wrc, _ := want("rc")
			if strconv.Itoa(rc) != strings.TrimSpace(wrc) {
				t.Errorf("%s: exit status %d, Buildroot's conf %s", name, rc, strings.TrimSpace(wrc))
				ok = false
				continue
			}
			if strings.HasPrefix(test, "preprocess/") {
				continue
			}
			for _, c := range []struct{ ext, got string }{{"config", string(got)}, {"stdout", so.String()}, {"stderr", se.String()}} {
				w, present := want(c.ext)
				if !present {
					continue
				}
				if w != c.got {
					t.Errorf("%s: %s differs from Buildroot's conf:\n%s", name, c.ext, firstDiff(w, c.got))
					ok = false
				}
			}
		}
		count(ok, &pass, &fail)
	}
	t.Logf("kernel test vectors: %d passed, %d failed", pass, fail)
}

var _ io.Reader = newlines{}
