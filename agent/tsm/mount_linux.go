package tsm

import (
	"os"
	"syscall"
)

// mountConfigFS mounts configfs at /sys/kernel/config when nothing is
// mounted there yet. systemd does this at boot; a BusyBox init without an
// fstab line does not, and the TSM would look absent. Failure is silent: the
// caller reports the missing report directory.
func mountConfigFS() {
	const dir = "/sys/kernel/config"
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) > 0 {
		return // no configfs support, or already mounted
	}
	_ = syscall.Mount("configfs", dir, "configfs", 0, "")
}
