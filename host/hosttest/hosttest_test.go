package hosttest_test

import (
	"context"
	"testing"

	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/host/hosttest"
)

// The presets read back as the machines they claim to be.
func TestPresets(t *testing.T) {
	ctx := context.Background()

	snp := hosttest.SNPHost(t).Host().Probe(ctx)
	if !snp.KVM.Usable || !snp.SEV.SNPHost || !snp.SEV.Device.ReadWrite || snp.TDX.Host || snp.Cores != 16 ||
		!snp.QEMU.HasObject(host.ObjectSEVSNPGuest) || snp.QEMU.Version != (host.Version{Major: 10, Minor: 1}) {
		t.Errorf("SNPHost = %+v", snp)
	}
	hashes := false
	for _, fw := range snp.Firmware {
		hashes = hashes || fw.SEVHashTable
	}
	if len(snp.Firmware) != 2 || !hashes {
		t.Errorf("SNPHost firmware %+v", snp.Firmware)
	}

	tdx := hosttest.TDXHost(t).Host().Probe(ctx)
	if !tdx.KVM.Usable || !tdx.TDX.Host || !tdx.TDX.SGXEnclave.ReadWrite || tdx.SEV.SNPHost || !tdx.QEMU.HasObject(host.ObjectTDXGuest) {
		t.Errorf("TDXHost = %+v", tdx)
	}

	pvm := hosttest.PVMGuest(t).Host().Probe(ctx)
	if pvm.KVM.Usable || !pvm.KVM.Device.ReadWrite || pvm.SEV.SNPHost || pvm.TDX.Host || pvm.Cores != 2 ||
		pvm.QEMU.HasObject(host.ObjectSEVSNPGuest) || !pvm.QEMU.HasObject(host.ObjectSEVGuest) || pvm.QEMU.Version.Micro != 22 {
		t.Errorf("PVMGuest = %+v", pvm)
	}
	if fw := pvm.Firmware; len(fw) != 1 || fw[0].SEVHashTable || !fw[0].SEVMetadata || !fw[0].TDXMetadata {
		t.Errorf("PVMGuest firmware %+v", fw)
	}

	m := hosttest.SNPHost(t).LockedDevice("/dev/kvm").RemoveTool("gcc")
	h := m.Host()
	if k := h.KVM(); k.Usable || !k.Device.Present || k.Device.ReadWrite {
		t.Errorf("locked /dev/kvm: %+v", k)
	}
	if _, err := h.LookPath("gcc"); err == nil {
		t.Error("gcc still on PATH after RemoveTool")
	}
	m.Avail = 1 << 30
	if d, err := h.FreeDisk(t.TempDir()); err != nil || d.Avail != 1<<30 {
		t.Errorf("FreeDisk = %+v, %v", d, err)
	}

	bare := hosttest.Bare(t).Host().Probe(ctx)
	if bare.CPU.Err == "" || bare.Memory.Err == "" || bare.QEMU.Found() || bare.KVM.Device.Present || len(bare.Firmware) != 0 {
		t.Errorf("Bare = %+v", bare)
	}
}
