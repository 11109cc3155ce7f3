package buildroot

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestTreeIsAnExternalTree(t *testing.T) {
	if err := fstest.TestFS(Tree(), "external.desc"); err != nil {
		t.Fatal(err)
	}
	desc, err := fs.ReadFile(Tree(), "external.desc")
	if err != nil || !bytes.Contains(desc, []byte("name: CUBE")) {
		t.Fatalf("external.desc: %q, %v", desc, err)
	}
	// Go sources and anything outside the tree's roots stay hidden.
	for _, hidden := range []string{"embed.go", "embed_test.go"} {
		if _, err := fs.Stat(Tree(), hidden); err == nil {
			t.Errorf("%s is visible in the tree", hidden)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(Digest()) || Digest() != Digest() {
		t.Errorf("Digest() = %q", Digest())
	}
}

func TestInclude(t *testing.T) {
	for p, want := range map[string]bool{
		"external.desc":                               true,
		"Config.in":                                   true,
		"external.mk":                                 true,
		"configs/cube_defconfig":                      true,
		"package/cube-agent/cube-agent.mk":            true,
		"board/cube/post-build.sh":                    true,
		"board/cube/overlay/etc/cube/certs/ca.pem":    false,
		"board/cube/rootfs/root/.ssh/authorized_keys": false,
		"board/cube/server.key":                       false,
		"board/cube/id_ed25519.pub":                   false,
		"embed.go":                                    false,
		"package/x/tree_test.go":                      false,
		"README.md":                                   false,
		"configsX/foo":                                false,
	} {
		if got := Include(p); got != want {
			t.Errorf("Include(%q) = %v, want %v", p, got, want)
		}
	}
}

var pemSecret = regexp.MustCompile(`-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----`)

// go:embed takes every file under the tree's directories, so a key or
// certificate generated there would ship inside the binary even though
// Tree() hides it.
func TestNothingSecretIsEmbedded(t *testing.T) {
	err := fs.WalkDir(Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if IsSecretName(p) {
			t.Errorf("%s is embedded in the binary: move it out of buildroot/ (keys and certificates belong in the overlay)", p)
		}
		if strings.HasSuffix(p, ".go") {
			return nil // our own sources (this test names the markers it looks for)
		}
		b, err := fs.ReadFile(Embedded(), p)
		if err != nil {
			return err
		}
		if m := pemSecret.Find(b); m != nil {
			t.Errorf("%s contains %q: it would ship inside the binary", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The filter over a tree with everything a developer's checkout may hold.
func TestFilteredTree(t *testing.T) {
	raw := fstest.MapFS{
		"external.desc":                            {Data: []byte("name: CUBE\n")},
		"Config.in":                                {Data: []byte("menu \"Cube\"\nendmenu\n")},
		"configs/cube_defconfig":                   {Data: []byte("BR2_x86_64=y\n")},
		"package/cube-agent/cube-agent.mk":         {Data: []byte("#\n")},
		"board/cube/post-build.sh":                 {Data: []byte("#!/bin/sh\n")},
		"board/cube/overlay/etc/cube/certs/ca.pem": {Data: []byte("secret")},
		"board/cube/overlay/etc/cube/server.key":   {Data: []byte("secret")},
		"embed.go":                                 {Data: []byte("package buildroot")},
		"README.md":                                {Data: []byte("readme")},
		"testdata/x":                               {Data: []byte("x")},
	}
	tree := filtered{raw}
	if err := fstest.TestFS(tree, "external.desc", "Config.in", "configs/cube_defconfig",
		"package/cube-agent/cube-agent.mk", "board/cube/post-build.sh"); err != nil {
		t.Fatal(err)
	}
	var files []string
	if err := fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Errorf("tree files %v, want the 5 tree files only", files)
	}
	for _, hidden := range []string{"board/cube/overlay/etc/cube/server.key", "board/cube/overlay/etc/cube/certs/ca.pem", "embed.go", "README.md", "testdata", "testdata/x"} {
		if _, err := tree.Open(hidden); err == nil {
			t.Errorf("%s opens", hidden)
		}
	}
}
