//go:build linux || darwin || freebsd || netbsd || openbsd

package kconfig

import (
	"io/fs"
	"sync"
	"syscall"
)

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// readWhole reads a whole file with the fewest system calls (open, read
// until end, close): loading Buildroot opens some 2,800 small files, and
// os.ReadFile adds a poller registration and a stat to each. The contents
// are copied into bufs.get's buffer.
func readWhole(path string, bufs *fileBufs) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	sp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(sp)
	buf := (*sp)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			*sp = buf[:0]
			data := bufs.get(len(buf))
			copy(data, buf)
			return data, nil
		}
		buf = buf[:len(buf)+n]
	}
}
