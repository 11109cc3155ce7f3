package host

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/ovmf"
)

// machine builds a fake root: files under root, tools in bin.
type machine struct {
	t    *testing.T
	root string
	bin  string
}

func newMachine(t *testing.T) *machine {
	t.Helper()
	d := t.TempDir()
	m := &machine{t: t, root: filepath.Join(d, "root"), bin: filepath.Join(d, "bin")}
	for _, p := range []string{m.root, m.bin} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *machine) host() *Host { return &Host{Root: m.root, Path: m.bin} }

// file writes a file at the system path p inside the fake root.
func (m *machine) file(p, content string) string {
	m.t.Helper()
	real := filepath.Join(m.root, p)
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(content), 0o644); err != nil {
		m.t.Fatal(err)
	}
	return real
}

func (m *machine) dir(p string) {
	m.t.Helper()
	if err := os.MkdirAll(filepath.Join(m.root, p), 0o755); err != nil {
		m.t.Fatal(err)
	}
}

// tool writes an executable shell script named name into the fake PATH.
func (m *machine) tool(name, script string) string {
	m.t.Helper()
	p := filepath.Join(m.bin, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		m.t.Fatal(err)
	}
	return p
}

func (m *machine) cpuinfo(vendor string, flags string) {
	m.file("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: "+vendor+"\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: Test CPU\nstepping\t: 1\nflags\t\t: "+flags+"\n\nprocessor\t: 1\nvendor_id\t: "+vendor+"\nflags\t\t: "+flags+"\n")
}

// firmwareImage returns the end of an OVMF image carrying a GUIDed table
// with the given entries, after pad bytes.
func firmwareImage(pad int, entries ...ovmf.Entry) []byte {
	return ovmf.AppendTable(make([]byte, pad), entries...)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
