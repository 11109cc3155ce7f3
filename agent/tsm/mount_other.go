//go:build !linux

package tsm

// mountConfigFS is a no-op where configfs does not exist.
func mountConfigFS() {}
