package launch

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseMemory(t *testing.T) {
	good := map[string]int{"512M": 512, "512m": 512, "8G": 8192, "8g": 8192, "2048": 2048, "1GiB": 1024, "100MB": 100, "1T": 1 << 20}
	for in, want := range good {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1G", "0", "1.5G", "lots", "99999999999999999T", "2000000T"} {
		if _, err := ParseMemory(in); err == nil || !strings.Contains(err.Error(), "memory") {
			t.Errorf("ParseMemory(%q) = %v, want an error naming memory", in, err)
		}
	}
	for mb, want := range map[int]string{512: "512M", 8192: "8G", 1536: "1536M"} {
		if got := FormatMemory(mb); got != want {
			t.Errorf("FormatMemory(%d) = %s", mb, got)
		}
	}
}

func TestParseModeAndAccel(t *testing.T) {
	if m, err := ParseMode(" SNP "); err != nil || m != ModeSNP {
		t.Errorf("ParseMode = %v %v", m, err)
	}
	if _, err := ParseMode("sev"); err == nil || !strings.Contains(err.Error(), "snp, tdx or plain") {
		t.Errorf("ParseMode(sev) = %v", err)
	}
	if a, err := ParseAccel("auto"); err != nil || a != AccelAuto {
		t.Errorf("ParseAccel(auto) = %v %v", a, err)
	}
	if _, err := ParseAccel("hvf"); err == nil {
		t.Error("ParseAccel(hvf) accepted")
	}
}

func TestFindImages(t *testing.T) {
	dir := t.TempDir()
	if _, err := FindImages(dir); err == nil || !strings.Contains(err.Error(), "no kernel (looked for bzImage, vmlinux)") {
		t.Errorf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "vmlinux"), []byte("k"), 0o644)
	if _, err := FindImages(dir); err == nil || !strings.Contains(err.Error(), "no initramfs") {
		t.Errorf("no initrd: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "rootfs.cpio"), []byte("i"), 0o644)
	os.WriteFile(filepath.Join(dir, "rootfs.cpio.gz"), []byte("i"), 0o644)
	os.WriteFile(filepath.Join(dir, "bzImage"), []byte("k"), 0o644)
	im, err := FindImages(dir)
	if err != nil || filepath.Base(im.Kernel) != "bzImage" || filepath.Base(im.Initrd) != "rootfs.cpio.gz" || im.Firmware != "" {
		t.Errorf("FindImages = %+v, %v", im, err)
	}
	os.WriteFile(filepath.Join(dir, "OVMF.fd"), []byte("f"), 0o644)
	if im, _ := FindImages(dir); filepath.Base(im.Firmware) != "OVMF.fd" {
		t.Errorf("firmware %q", im.Firmware)
	}
	if _, err := FindImages(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing dir: %v", err)
	}
}

// Each mistake names the field at fault.
func TestValidate(t *testing.T) {
	dir := bootFiles(t)
	base := factsConfig(dir, ModePlain)
	base.Mode, base.Accel = ModePlain, AccelTCG
	cases := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Mode = "sev" }, "mode"},
		{func(c *Config) { c.Name = "../x" }, "name"},
		{func(c *Config) { c.Kernel = "" }, "kernel: no kernel"},
		{func(c *Config) { c.Kernel = filepath.Join(dir, "nope") }, "kernel " + filepath.Join(dir, "nope") + ": no such file"},
		{func(c *Config) { c.Initrd = dir }, "initrd " + dir + ": is a directory"},
		{func(c *Config) { c.Mode, c.Firmware, c.Accel = ModeSNP, "", AccelAuto }, "firmware: snp needs firmware"},
		{func(c *Config) { c.Mode, c.Firmware, c.Accel = ModeTDX, "", AccelAuto }, "firmware: tdx needs firmware"},
		{func(c *Config) { c.MemoryMB = 16 }, "memory"},
		{func(c *Config) { c.CPUs = 300 }, "cpus"},
		{func(c *Config) { c.Ports.SSH = 70000 }, "ssh port"},
		{func(c *Config) { c.Ports.Agent = c.Ports.SSH }, "both use host port"},
		{func(c *Config) { c.Mode = ModeSNP; c.SNP = DefaultSNP }, "accel: snp needs KVM"},
		{func(c *Config) { c.Append = "a\nb" }, "append"},
		{func(c *Config) { c.Mode, c.Accel, c.SNP = ModeSNP, AccelAuto, DefaultSNP; c.SNP.HostData = "c2hvcnQ=" }, "host-data"},
		{func(c *Config) { c.Mode, c.Accel, c.TDX = ModeTDX, AccelAuto, TDXOptions{QGS: "tcp:1"} }, "qgs"},
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("base config invalid: %v", err)
	}
	for _, tc := range cases {
		c := base
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v, want it to mention %q", err, tc.want)
		}
	}
}

func TestFollowSerialStreamsGrowingLog(t *testing.T) {
	dir := t.TempDir()
	vm := &VM{Dir: dir, Record: Record{PID: os.Getpid()}} // "running" while this test runs
	log := vm.Paths().SerialLog
	os.WriteFile(log, []byte("boot line 1\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang guard, not a speed goal
	defer cancel()
	rc, err := vm.FollowSerial(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	go func() {
		time.Sleep(100 * time.Millisecond)
		f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("boot line 2\nlogin:")
		f.Close()
	}()
	var got bytes.Buffer
	buf := make([]byte, 100)
	for !strings.Contains(got.String(), "login:") {
		n, err := rc.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("read: %v after %q", err, got.String())
		}
	}
	if got.String() != "boot line 1\nboot line 2\nlogin:" {
		t.Errorf("streamed %q", got.String())
	}
	// From the end: only new output.
	rc2, _ := vm.FollowSerial(ctx, false)
	defer rc2.Close()
	go func() {
		time.Sleep(100 * time.Millisecond)
		f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("new")
		f.Close()
	}()
	n, _ := io.ReadAtLeast(rc2, buf, 3)
	if string(buf[:n]) != "new" {
		t.Errorf("from the end: %q", buf[:n])
	}
	// A VM that is not running ends the stream at the end of the log.
	dead := &VM{Dir: dir}
	rc3, _ := dead.FollowSerial(ctx, true)
	all, err := io.ReadAll(rc3)
	if err != nil || !strings.HasSuffix(string(all), "new") {
		t.Errorf("dead VM stream: %q %v", all, err)
	}
}

func TestDeploy(t *testing.T) {
	src := t.TempDir()
	for _, n := range []string{"bzImage", "rootfs.cpio.gz", "OVMF.fd"} {
		os.WriteFile(filepath.Join(src, n), []byte(n), 0o600)
	}
	files, err := DeployFiles(src, "")
	if err != nil || len(files) != 3 {
		t.Fatalf("DeployFiles = %v, %v", files, err)
	}
	dest := filepath.Join(t.TempDir(), "etc", "cube")
	done, err := Deploy(files, dest)
	if err != nil || len(done) != 3 {
		t.Fatalf("Deploy = %v, %v", done, err)
	}
	for _, d := range done {
		st, err := os.Stat(d.Dst)
		if err != nil || st.Mode().Perm() != 0o644 || d.Size != int64(len(filepath.Base(d.Src))) || len(d.SHA256) != 64 {
			t.Errorf("%+v: %v %v", d, st, err)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dest, ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
	if _, err := DeployFiles(t.TempDir(), ""); err == nil {
		t.Error("DeployFiles of an empty dir succeeded")
	}
}

func TestSSHArgs(t *testing.T) {
	got := SSHArgs("vm1", 6190, SSHOptions{KeyFile: "/k", KnownHostsFile: "/kh"}, "uname", "-a")
	want := "ssh -p 6190 -o HostKeyAlias=cube-hal-vm1 -o StrictHostKeyChecking=accept-new -o CheckHostIP=no -o ConnectTimeout=30 -o ServerAliveInterval=15 -o UserKnownHostsFile=/kh -o GlobalKnownHostsFile=/dev/null -o HashKnownHosts=no -i /k root@127.0.0.1 -- uname -a"
	if strings.Join(got, " ") != want {
		t.Errorf("SSHArgs =\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if got := SSHArgs("vm1", 1, SSHOptions{User: "admin", SSH: "/usr/bin/ssh", Extra: []string{"-t"}}); strings.Join(got, " ") !=
		"/usr/bin/ssh -p 1 -o HostKeyAlias=cube-hal-vm1 -o StrictHostKeyChecking=accept-new -o CheckHostIP=no -o ConnectTimeout=30 -o ServerAliveInterval=15 -t admin@127.0.0.1" {
		t.Errorf("interactive SSHArgs = %q", got)
	}
}

func TestScanWriterFindsMarkerAcrossWrites(t *testing.T) {
	var out bytes.Buffer
	s := &scanWriter{w: &out, marker: []byte(HostKeyChangedMarker)}
	s.Write([]byte("@@@ WARNING: REMOTE HOST IDENT"))
	s.Write([]byte("IFICATION HAS CHANGED! @@@\n"))
	if !s.found() || !strings.Contains(out.String(), HostKeyChangedMarker) {
		t.Errorf("found=%v out=%q", s.found(), out.String())
	}
}

func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"512M", "8G", "2048", "1GiB", "", "-1", "9999999999999G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mb, err := ParseMemory(s)
		if err != nil {
			return
		}
		if mb <= 0 {
			t.Fatalf("ParseMemory(%q) = %d without error", s, mb)
		}
		if back, err := ParseMemory(FormatMemory(mb)); err != nil || back != mb {
			t.Fatalf("round trip of %d MiB: %d, %v", mb, back, err)
		}
	})
}

func TestForgetHostKey(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := ForgetHostKey(kh, "vm"); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	in := "# comment cube-hal-vm\n" +
		"cube-hal-vm ssh-ed25519 AAAAold\n" +
		"cube-hal-vm2 ssh-ed25519 AAAAother\n" +
		"[127.0.0.1]:6190,cube-hal-vm ecdsa-sha2-nistp256 AAAAold2\n" +
		"cube-hal-vm.example ssh-ed25519 AAAAkeep\n"
	os.WriteFile(kh, []byte(in), 0o600)
	if err := ForgetHostKey(kh, "vm"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(kh)
	want := "# comment cube-hal-vm\ncube-hal-vm2 ssh-ed25519 AAAAother\ncube-hal-vm.example ssh-ed25519 AAAAkeep\n"
	if string(got) != want {
		t.Errorf("after ForgetHostKey:\n%s\nwant\n%s", got, want)
	}
	st, _ := os.Stat(kh)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

func TestStopResultString(t *testing.T) {
	for r, want := range map[StopResult]string{
		{How: "powerdown", Took: 2100 * time.Millisecond}: "the guest powered off (2.1s)",
		{How: "SIGKILL", Took: 31 * time.Second}:          "QEMU killed with SIGKILL (31.0s)",
		{How: "not running"}:                              "it was not running (0.0s)",
		{How: "something new", Took: time.Second}:         "something new (1.0s)",
	} {
		if got := r.String(); got != want {
			t.Errorf("%+v: %q, want %q", r, got, want)
		}
	}
}
