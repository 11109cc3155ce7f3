package kconfig

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata goldens from Buildroot's conf (needs BUILDROOT_DIR)")

// TestConfGolden runs small Kconfig trees that each exercise a group of
// constructs (testdata/conf/<case>/, conf command lines in "runs") and
// compares everything conf produces with goldens recorded from
// Buildroot's own conf. -update re-records them from Buildroot's conf,
// never from our output.
func TestConfGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "conf", "*", "runs"))
	if err != nil || len(cases) == 0 {
		t.Fatal("no testdata/conf cases")
	}
	var ref string
	if *update {
		ref = buildrootConf(t)
	}
	for _, runsFile := range cases {
		dir, _ := filepath.Abs(filepath.Dir(runsFile))
		data, err := os.ReadFile(runsFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			f := strings.Split(line, "\t")
			name := filepath.Base(dir) + "/" + f[0]
			t.Run(name, func(t *testing.T) {
				c := confCase{tree: dir, args: strings.Fields(f[1]), env: map[string]string{
					"VER": "1.0", "PROJECT": "demo", "VERSION": "2.5", "SUBDIR": "sub", "ENV_BOOL": "y",
				}, setup: map[string]string{"auto/.keep": ""}}
				if cfg, err := os.ReadFile(filepath.Join(dir, "config")); err == nil {
					c.setup[".config"] = string(cfg)
				}
				for _, kv := range f[2:] {
					k, v, _ := strings.Cut(kv, "=")
					c.env[k] = v
				}
				golden := filepath.Join(dir, "golden", f[0]+".txt")
				if *update {
					res := runExternal(t, ref, c, filepath.Join(t.TempDir(), "w"))
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, []byte(renderResult(res)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (record goldens with -update and BUILDROOT_DIR set)", err)
				}
				got := renderResult(runOurs(t, c, filepath.Join(t.TempDir(), "w")))
				if got != string(want) {
					t.Errorf("differs from Buildroot's conf (%s):\n%s", golden, firstDiff(string(want), got))
				}
			})
		}
	}
}

// renderResult writes a run as one text: exit status, outputs, files.
func renderResult(r runResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit status: %d\n", r.rc)
	fmt.Fprintf(&b, "=== stdout\n%s", r.stdout)
	fmt.Fprintf(&b, "=== stderr\n%s", r.stderr)
	var names []string
	for n := range r.files {
		if n != "auto/.keep" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "=== file %s\n%s", n, r.files[n])
	}
	return b.String()
}
