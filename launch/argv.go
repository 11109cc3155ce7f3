package launch

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ultravioletrs/cube-hal/internal/shellquote"
)

// Args builds QEMU's argument vector (without the program name) for c, with
// its control files at p. c must have its defaults applied and, for plain
// mode, a concrete accelerator (ResolveAccel). The vector is data: nothing
// is ever passed through a shell, so paths and the kernel command line need
// no quoting beyond QEMU's own doubling of commas inside option values.
func (c Config) Args(p RunPaths) ([]string, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	mem := FormatMemory(c.MemoryMB)
	var a []string
	add := func(s ...string) { a = append(a, s...) }

	name := c.Name + ",process=" + c.Name
	if c.Mode == ModeTDX {
		name += ",debug-threads=on" // as canonical/tdx run_td does
	}
	add("-name", name)
	netID := "vmnic"
	nic := "virtio-net-pci,disable-legacy=on,iommu_platform=true,netdev=vmnic,romfile="
	switch c.Mode {
	case ModeSNP:
		// cvm-facts §1.1: upstream >= 9.1 syntax, firmware through -bios.
		add("-accel", "kvm", "-cpu", c.SNP.CPUModel, "-smp", strconv.Itoa(c.CPUs), "-m", mem)
		add("-machine", "q35,confidential-guest-support=sev0,memory-backend=ram1")
		add("-object", "memory-backend-memfd,id=ram1,size="+mem+",share=true,prealloc=false")
		snp := fmt.Sprintf("sev-snp-guest,id=sev0,cbitpos=%d,reduced-phys-bits=%d,policy=0x%x,kernel-hashes=%s",
			c.SNP.CBitPos, c.SNP.ReducedPhysBits, c.SNP.Policy, onOff(c.SNP.KernelHashes))
		if c.SNP.HostData != "" {
			snp += ",host-data=" + c.SNP.HostData
		}
		add("-object", snp)
		add("-bios", c.Firmware)
	case ModeTDX:
		// cvm-facts §1.2: the JSON form of tdx-guest, as every source uses.
		obj := map[string]any{"qom-type": "tdx-guest", "id": "tdx0"}
		if addr, _ := qgsAddress(c.TDX.QGS); addr != nil {
			obj["quote-generation-socket"] = addr
		}
		js, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		add("-accel", "kvm", "-cpu", "host", "-smp", strconv.Itoa(c.CPUs), "-m", mem)
		add("-object", string(js))
		add("-object", "memory-backend-memfd,id=mem0,size="+mem)
		add("-machine", "q35,kernel_irqchip=split,confidential-guest-support=tdx0,memory-backend=mem0,hpet=off")
		add("-bios", c.Firmware, "-nodefaults")
		netID = "nic0_td"
		nic = "virtio-net-pci,netdev=nic0_td"
	case ModePlain:
		accel, cpu := "tcg", "max"
		switch c.Accel {
		case AccelKVM:
			accel, cpu = "kvm", "host"
		case AccelTCG:
		default:
			return nil, fmt.Errorf("accel: plain mode needs kvm or tcg resolved before building the command line")
		}
		add("-accel", accel, "-cpu", cpu, "-smp", strconv.Itoa(c.CPUs), "-m", mem)
		add("-machine", "q35")
		if c.Firmware != "" {
			add("-bios", c.Firmware)
		}
		// No default VGA, floppy or CD-ROM: nothing to initialise at boot.
		add("-nodefaults")
		nic = "virtio-net-pci,netdev=vmnic,romfile="
	}
	add("-kernel", c.Kernel)
	if c.Initrd != "" {
		add("-initrd", c.Initrd)
	}
	add("-append", c.Append)

	netdev := "user,id=" + netID
	if c.RestrictNet {
		netdev += ",restrict=on"
	}
	// Forwards bind 127.0.0.1 only: "tcp::6190-:22" would listen on every
	// host interface (cvm-facts §1.3).
	netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:22,hostfwd=tcp:127.0.0.1:%d-:%d",
		c.Ports.SSH, c.Ports.Agent, c.Ports.GuestAgent)
	add("-netdev", netdev, "-device", nic)

	add("-display", "none")
	// The serial console goes to a socket (interactive, one client) and,
	// whether or not anyone is connected, to a log file.
	add("-chardev", "socket,id=ser0,path="+escapeOpt(p.SerialSocket)+",server=on,wait=off,logfile="+escapeOpt(p.SerialLog)+",logappend=on")
	add("-serial", "chardev:ser0")
	add("-no-reboot")
	add("-qmp", "unix:"+escapeOpt(p.QMPSocket)+",server=on,wait=off")
	add("-pidfile", p.PIDFile)
	return a, nil
}

// CommandLine renders argv for humans (error messages, `--dry-run`), quoted
// the way a POSIX shell would read it back.
func CommandLine(argv []string) string { return shellquote.Join(argv) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// escapeOpt doubles commas, QEMU's escape for a comma inside an option value.
func escapeOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// qgsAddress turns a QGS spec into QEMU's SocketAddress (nil for "none").
func qgsAddress(spec string) (map[string]string, error) {
	switch {
	case spec == "none":
		return nil, nil
	case strings.HasPrefix(spec, "unix:") && len(spec) > len("unix:"):
		return map[string]string{"type": "unix", "path": strings.TrimPrefix(spec, "unix:")}, nil
	case strings.HasPrefix(spec, "vsock:"):
		f := strings.Split(strings.TrimPrefix(spec, "vsock:"), ":")
		if len(f) == 2 {
			if _, err := strconv.ParseUint(f[0], 10, 32); err == nil {
				if _, err := strconv.ParseUint(f[1], 10, 32); err == nil {
					return map[string]string{"type": "vsock", "cid": f[0], "port": f[1]}, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("qgs %q: want vsock:CID:PORT (Intel's QGS is vsock:2:4050), unix:PATH or none", spec)
}
