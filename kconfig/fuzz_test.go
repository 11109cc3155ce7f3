package kconfig

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets: go test -fuzz=FuzzParse ./kconfig (and FuzzReadConfig,
// FuzzConfArgs). Any input must give a tree or a LoadError, never a panic
// or a hang; a loaded tree must evaluate and write.

func addSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

func loadVirtual(data []byte) (*Kconfig, error) {
	k := newKconfig(Options{LookupEnv: func(n string) (string, bool) {
		if n == "VER" {
			return "1.0", true
		}
		return "", false
	}, Release: "fuzz"})
	k.virtual = map[string][]byte{
		"Kconfig": data,
		"sub.in":  []byte("config SUB\n\tbool \"sub\"\n\tdepends on A\n"),
	}
	err := k.parse("Kconfig")
	return k, err
}

func FuzzParse(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "conf", "*", "Kconfig"))
	f.Add([]byte("config A\n\tbool \"a\"\n\tselect B if C\nsource \"sub.in\"\nchoice\n\tprompt \"c\"\nconfig B\n\tbool \"b\"\nendchoice\n"))
	f.Add([]byte("menu \"m\"\n\tvisible if A\nif A\nconfig X\n\tint \"x\"\n\trange 1 5\nendif\nendmenu\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := loadVirtual(data)
		if err != nil {
			if !IsLoadError(err) {
				t.Fatalf("error is not a LoadError: %v", err)
			}
			return
		}
		k.read("")
		k.fillUnset(defDefault)
		k.formatConfig()
		k.formatMinimal()
		for _, s := range k.Symbols() {
			_ = k.Explain(s).Text()
			break
		}
		k.Search("a b")
	})
}

const fuzzTree = `config A
	bool "a"
	default y
config B
	tristate "b"
config S
	string "s"
	default "x"
config I
	int "i"
	range 1 100
	default 5
config H
	hex "h"
	default 0x10
choice
	prompt "c"
config C1
	bool "c1"
config C2
	bool "c2"
	select B
endchoice
config MODULES
	bool "modules"
	option modules
`

func FuzzReadConfig(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "conf", "*", "config*"))
	f.Add([]byte("A=y\nB=m\nS=\"q\\\"x\"\nI=500\nH=ff\nC1=y\nC2=y\n# A is not set\n"))
	k, err := loadVirtual([]byte(fuzzTree))
	if err != nil {
		f.Fatal(err)
	}
	st := k.snapshot()
	f.Fuzz(func(t *testing.T, data []byte) {
		k.restore(st)
		k.setChangeCount(0)
		k.readData(".config", data, defUser)
		k.reconcileRead()
		out := k.formatConfig()
		k.formatMinimal()
		// what we write must read back to the same values
		k2, _ := loadVirtual([]byte(fuzzTree))
		k2.readData(".config", out, defUser)
		k2.reconcileRead()
		if again := k2.formatConfig(); string(again) != string(out) {
			t.Fatalf("written config does not read back:\n%s\n---\n%s", out, again)
		}
	})
}

func FuzzConfArgs(f *testing.F) {
	f.Add("--olddefconfig")
	f.Add("-s --defconfig=x --old")
	f.Add("--savedefconfig --randconfig -- Kconfig")
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "Kconfig"), []byte(fuzzTree), 0o644)
	f.Fuzz(func(t *testing.T, args string) {
		a := strings.Fields(args)
		a = append(a, "Kconfig")
		env := map[string]string{"BR2_CONFIG": filepath.Join(dir, ".config"), "KCONFIG_SEED": "1"}
		RunConf("conf", a, ConfIO{Dir: dir, Stdout: io.Discard, Stderr: io.Discard,
			LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }})
	})
}
