package kconfig

import (
	"bytes"
	"os"
	"path/filepath"
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
