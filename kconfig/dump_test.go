package kconfig

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestDumpTree(t *testing.T) {
	seed, _ := strconv.ParseInt(os.Getenv("SEED"), 10, 64)
	tri := os.Getenv("TRI") != ""
	files, syms := genTree(seed, tri, os.Getenv("NOMOD") != "")
	dir := os.Getenv("OUT")
	writeTree(t, dir, files)
	os.WriteFile(filepath.Join(dir, "cfg"), []byte(genConfig(seed*31+1, syms, "")), 0644)
	os.WriteFile(filepath.Join(dir, "def"), []byte(genConfig(seed*31+2, syms, "")), 0644)
}
