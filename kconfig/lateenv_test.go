package kconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Late environment variables give the same tree, values and files as
// variables read at their line; only the undefined warning moves.
func TestLateEnv(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"Kconfig": `mainmenu "Test $VER"
config VER
	string
	option env="VERSION"
config SUB
	string
	option env="SUBDIR"
config INDIRECT
	string
	default VER
source "$SUB/Kconfig"
config ARCH
	string
	option env="ARCH"
config MISSING
	string
	option env="NOPE"
config A
	bool "a"
	default y if ARCH = "x86_64"
config LATER
	string
	option env="LATEVAR"
	default "fallback"
`,
		"sub/Kconfig": "config B\n\tstring \"b\"\n\tdefault \"$INDIRECT\"\n",
	})
	env := map[string]string{"VERSION": "1.2", "SUBDIR": "sub", "ARCH": "x86_64", "LATEVAR": "late"}
	var waits []string
	load := func(late []string) (*Kconfig, string) {
		var so, se bytes.Buffer
		k, err := Load("Kconfig", Options{Dir: dir, Stdout: &so, Stderr: &se, LateEnv: late,
			LookupEnv: func(n string) (string, bool) {
				waits = append(waits, n)
				v, ok := env[n]
				return v, ok
			}})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.ReadDefconfig(filepath.Join(dir, "none")); err == nil {
			t.Fatal("read a missing defconfig")
		}
		k.fillUnset(defDefault)
		return k, se.String()
	}
	ref, refWarn := load(nil)
	waits = nil
	late, lateWarn := load([]string{"VERSION", "SUBDIR", "ARCH", "NOPE", "LATEVAR"})
	if a, b := ref.ConfigText(), late.ConfigText(); !bytes.Equal(a, b) {
		t.Errorf(".config differs with late variables:\n%s\n---\n%s", a, b)
	}
	if ref.Title() != late.Title() || late.Title() != "Test 1.2" {
		t.Errorf("title %q / %q", ref.Title(), late.Title())
	}
	if refWarn != lateWarn {
		t.Errorf("warnings %q / %q", refWarn, lateWarn)
	}
	// SUBDIR is needed by the source statement, so it is read early; the
	// others once the tree is parsed.
	if len(waits) == 0 {
		t.Error("late variables were never read")
	}
}

// The Buildroot tree with make's slow variables late gives the same
// .config.
func TestLateEnvBuildroot(t *testing.T) {
	if os.Getenv("BUILDROOT_DIR") == "" {
		t.Skip("BUILDROOT_DIR not set")
	}
	e := buildrootBench(&testing.B{})
	load := func(late []string) []byte {
		k, err := Load("Config.in", Options{Dir: e.br, LookupEnv: e.lookup, LateEnv: late})
		if err != nil {
			t.Fatal(err)
		}
		k.ReadConfig(e.config)
		return k.ConfigText()
	}
	if a, b := load(nil), load([]string{"BR2_VERSION_FULL", "HOSTARCH", "HOST_GCC_VERSION", "BASE_DIR"}); !bytes.Equal(a, b) {
		t.Error(".config differs with late variables")
	}
}

// A LateDefaults symbol ends up with the variable's value, as if the
// tree had said it: in values, in what a $SYMBOL reference sources
// (early, while parsing) and in the title (expanded after the parse);
// an undefined variable leaves the tree's own default.
func TestLateDefaults(t *testing.T) {
	tree := func(version string) map[string]string {
		return map[string]string{
			"Kconfig": `mainmenu "Test $EXT_VERSION ($EXT_PATH)"
config SUB
	string
	option env="SUBDIR"
source "$SUB/Kconfig"
config EXT_VERSION
	string
	default "` + version + `"
config EXT_PATH
	string
	default "sub"
source "$EXT_PATH/more"
config USES
	string "uses"
	default EXT_VERSION
config IS_V2
	bool "is v2"
	default y if EXT_VERSION = "v2"
source "$EXT_VERSION.in"
`,
			"sub/Kconfig": "config A\n\tbool \"a\"\n",
			"sub/more":    "config B\n\tstring \"b\"\n\tdefault \"$EXT_PATH\"\n",
			"v2.in":       "config FROM_V2\n\tbool \"from v2\"\n\tdefault y\n",
			"stale.in":    "config FROM_STALE\n\tbool \"from stale\"\n\tdefault y\n",
		}
	}
	load := func(version string, env map[string]string, late map[string]string) *Kconfig {
		t.Helper()
		dir := t.TempDir()
		writeTree(t, dir, tree(version))
		var se bytes.Buffer
		k, err := Load("Kconfig", Options{Dir: dir, Stderr: &se, LateDefaults: late, LookupEnv: func(n string) (string, bool) {
			v, ok := env[n]
			return v, ok
		}})
		if err != nil {
			t.Fatalf("%v\n%s", err, se.String())
		}
		if err := k.ReadDefconfig(filepath.Join(dir, "none")); err == nil {
			t.Fatal("read a missing defconfig")
		}
		k.fillUnset(defDefault)
		return k
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // the tree whose written default it must match
	}{
		{"defined", map[string]string{"SUBDIR": "sub", "EXTV": "v2"}, "v2"},
		{"undefined", map[string]string{"SUBDIR": "sub"}, "stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := load(tc.want, tc.env, nil)
			late := load("stale", tc.env, map[string]string{"EXT_VERSION": "EXTV"})
			if a, b := ref.ConfigText(), late.ConfigText(); !bytes.Equal(a, b) {
				t.Errorf(".config differs:\n%s\n---\n%s", a, b)
			}
			if got := late.Lookup("EXT_VERSION").Value(); got != tc.want {
				t.Errorf("EXT_VERSION = %q, want %q", got, tc.want)
			}
			if got := late.Lookup("USES").Value(); got != tc.want {
				t.Errorf("USES = %q, want %q", got, tc.want)
			}
			if late.Title() != "Test "+tc.want+" (sub)" {
				t.Errorf("title %q", late.Title())
			}
			if late.Find("FROM_"+strings.ToUpper(tc.want)) == nil {
				t.Errorf("did not source %s.in", tc.want)
			}
		})
	}
}
