package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

// SSHOptions say how to reach a guest with the system OpenSSH client.
type SSHOptions struct {
	SSH            string // the ssh binary; default "ssh" on PATH
	User           string // default root
	KeyFile        string // workspace.SSHKeyFile(); made by `cube-hal certs`
	KnownHostsFile string // workspace.KnownHostsFile(); cube-hal's own
	// Extra options go before the destination (e.g. "-t", "-o", "LogLevel=ERROR").
	Extra []string
}

// HostKeyAlias is the name a VM's host key is pinned under in cube-hal's
// known_hosts: per VM name, not per port, so `--ports auto` does not
// re-pin and a changed key is caught whatever port the VM got.
//
// The pin lasts one run of the VM. The Cube image boots from an
// initramfs and makes fresh SSH host keys at every boot, so Start forgets
// the previous run's key (ForgetHostKey); the first SSH contact of the new
// run pins its key, and a key that changes within the run is refused.
func HostKeyAlias(name string) string { return "cube-hal-" + name }

// ForgetHostKey removes the host key pinned for VM name from the
// known_hosts file (atomically; other entries stay). A missing file is
// fine.
func ForgetHostKey(knownHosts, name string) error {
	b, err := os.ReadFile(knownHosts)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	alias := HostKeyAlias(name)
	var keep []string
	changed := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) > 0 && !strings.HasPrefix(f[0], "#") && !strings.HasPrefix(f[0], "@") && slices.Contains(strings.Split(f[0], ","), alias) {
			changed = true
			continue
		}
		keep = append(keep, line)
	}
	if !changed {
		return nil
	}
	return atomicfile.WriteFile(knownHosts, []byte(strings.Join(keep, "")), 0o600)
}

// SSHArgs builds the ssh argument vector (argv[0] included) that reaches
// the guest on its forwarded port. The user's ~/.ssh/config and agent stay
// in play; cube-hal adds its key, its own known_hosts with the host key
// pinned on first contact (StrictHostKeyChecking=accept-new: a changed key
// is refused), and never touches ~/.ssh/known_hosts. The TUI runs this in
// a pty; `cube-hal ssh` runs it on the terminal.
func SSHArgs(name string, port int, o SSHOptions, command ...string) []string {
	bin := o.SSH
	if bin == "" {
		bin = "ssh"
	}
	user := o.User
	if user == "" {
		user = "root"
	}
	a := []string{bin,
		"-p", strconv.Itoa(port),
		"-o", "HostKeyAlias=" + HostKeyAlias(name),
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "CheckHostIP=no",
		"-o", "ConnectTimeout=30", // a TCG guest on a busy host can take over 10 s to send its banner
		"-o", "ServerAliveInterval=15",
	}
	if o.KnownHostsFile != "" {
		// Unhashed: the file lists only cube-hal's VMs, and stays readable.
		a = append(a, "-o", "UserKnownHostsFile="+o.KnownHostsFile, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "HashKnownHosts=no")
	}
	if o.KeyFile != "" {
		a = append(a, "-i", o.KeyFile)
	}
	a = append(a, o.Extra...)
	a = append(a, user+"@127.0.0.1")
	if len(command) > 0 {
		a = append(a, "--")
		a = append(a, command...)
	}
	return a
}

// SSHArgs is SSHArgs for this VM's name and forwarded SSH port.
func (vm *VM) SSHArgs(o SSHOptions, command ...string) []string {
	return SSHArgs(vm.Record.Name, vm.Record.Ports.SSH, o, command...)
}

// PrepareSSH checks the key and creates the known_hosts directory, so ssh
// itself does not fail with a less helpful message.
func PrepareSSH(o SSHOptions) error {
	if o.KeyFile != "" {
		if _, err := os.Stat(o.KeyFile); err != nil {
			return fmt.Errorf("SSH key %s: %w", o.KeyFile, unwrapPathError(err))
		}
	}
	if o.KnownHostsFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.KnownHostsFile), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// HostKeyChangedMarker is what OpenSSH prints when a pinned key changed.
const HostKeyChangedMarker = "REMOTE HOST IDENTIFICATION HAS CHANGED"

// RunSSH runs ssh with the terminal's stdin/stdout and stderr passed
// through, and reports whether ssh refused a changed host key (so the
// caller can say so loudly) along with ssh's exit code.
func RunSSH(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) (code int, hostKeyChanged bool, err error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	sc := &scanWriter{w: stderr, marker: []byte(HostKeyChangedMarker)}
	cmd.Stderr = sc
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), sc.found(), nil
	}
	if err != nil {
		return -1, false, err
	}
	return 0, false, nil
}

// scanWriter passes bytes through and notices a marker in them.
type scanWriter struct {
	w      io.Writer
	marker []byte
	mu     sync.Mutex
	tail   []byte
	hit    bool
}

func (s *scanWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	buf := append(s.tail, p...)
	if bytes.Contains(buf, s.marker) {
		s.hit = true
	}
	if keep := len(s.marker) - 1; len(buf) > keep {
		buf = buf[len(buf)-keep:]
	}
	s.tail = append([]byte(nil), buf...)
	s.mu.Unlock()
	return s.w.Write(p)
}

func (s *scanWriter) found() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hit
}

// ProbeSSH connects to the guest's forwarded SSH port once and returns nil
// when an SSH server answers with its banner. QEMU's user network accepts
// the connection before the guest listens, so a connect alone proves
// nothing. The TUI polls it to know when the SSH console can open.
func ProbeSSH(ctx context.Context, port int) error { return probeSSHBanner(ctx, port) }
