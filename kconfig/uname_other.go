//go:build !linux

package kconfig

import (
	"os/exec"
	"strings"
)

// unameRelease is the running kernel's release, conf's default for
// UNAME_RELEASE.
func unameRelease() string {
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
