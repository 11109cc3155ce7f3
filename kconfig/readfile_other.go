//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package kconfig

import "os"

func readWhole(path string, _ *fileBufs) ([]byte, error) { return os.ReadFile(path) }
