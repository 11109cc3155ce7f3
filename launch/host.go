package launch

import (
	"context"

	"github.com/ultravioletrs/cube-hal/host"
)

// HostFacts are the raw observations that decide which modes a host can
// run. They come from package host (the same probes `cube-hal doctor`
// reports); Assess turns them into decisions with reasons. Keeping the two
// apart lets tests feed any host to Assess.
type HostFacts struct {
	CPU  host.CPU
	KVM  host.KVM
	SEV  host.SEV
	TDX  host.TDX
	QEMU host.QEMU
}

// Prober gathers HostFacts; tests and the TUI can substitute one. With
// qemuDetails false only the QEMU binary's location is needed (plain mode
// decides nothing from its version), which saves running QEMU three times.
type Prober interface {
	Facts(ctx context.Context, qemu string, qemuDetails bool) HostFacts
}

// HostProbe reads a machine through package host: the real one by
// default, or Host (a fake root and PATH in tests).
type HostProbe struct {
	Host *host.Host
}

// Facts implements Prober. qemu is the QEMU binary: a name looked up on
// the host's PATH or a path.
func (p HostProbe) Facts(ctx context.Context, qemu string, qemuDetails bool) HostFacts {
	h := p.Host
	if h == nil {
		h = host.Local()
	}
	if qemu == "" {
		qemu = host.DefaultQEMU
	}
	f := HostFacts{CPU: h.CPU(), KVM: h.KVM(), SEV: h.SEV(), TDX: h.TDX()}
	if qemuDetails {
		f.QEMU = h.QEMU(ctx, qemu)
	} else {
		f.QEMU = host.QEMU{Name: qemu}
		f.QEMU.Path, _ = h.LookPath(qemu)
	}
	return f
}

// ProbeQEMU asks the QEMU binary for its version and object types.
func ProbeQEMU(ctx context.Context, qemu string) host.QEMU {
	return host.Local().QEMU(ctx, qemu)
}
