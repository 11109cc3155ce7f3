package measure

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CPUSig computes the CPUID Fn0000_0001 EAX signature (family, model,
// stepping) as AMD's CPUID specification encodes it: families above 0xf are
// split into base 0xf plus an extended family, models into low and extended
// nibbles. QEMU puts this value in RDX at reset, so it lands in every VMSA.
func CPUSig(family, model, stepping uint32) uint32 {
	famLow, famExt := family, uint32(0)
	if family > 0xf {
		famLow, famExt = 0xf, (family-0xf)&0xff
	}
	return famExt<<20 | (model>>4&0xf)<<16 | famLow<<8 | (model&0xf)<<4 | stepping&0xf
}

// vcpuModels are the QEMU x86 CPU models an SEV-SNP guest is started with,
// with their family, model and stepping (QEMU target/i386/cpu.c,
// builtin_x86_defs). Versions (-v1, -v2, ...) and aliases change features
// only, never the signature.
var vcpuModels = map[string][3]uint32{
	"EPYC":          {23, 1, 2},
	"EPYC-v1":       {23, 1, 2},
	"EPYC-v2":       {23, 1, 2},
	"EPYC-IBPB":     {23, 1, 2},
	"EPYC-v3":       {23, 1, 2},
	"EPYC-v4":       {23, 1, 2},
	"EPYC-Rome":     {23, 49, 0},
	"EPYC-Rome-v1":  {23, 49, 0},
	"EPYC-Rome-v2":  {23, 49, 0},
	"EPYC-Rome-v3":  {23, 49, 0},
	"EPYC-Rome-v4":  {23, 49, 0},
	"EPYC-Rome-v5":  {23, 49, 0},
	"EPYC-Milan":    {25, 1, 1},
	"EPYC-Milan-v1": {25, 1, 1},
	"EPYC-Milan-v2": {25, 1, 1},
	"EPYC-Milan-v3": {25, 1, 1},
	"EPYC-Genoa":    {25, 17, 0},
	"EPYC-Genoa-v1": {25, 17, 0},
	"EPYC-Genoa-v2": {25, 17, 0},
	"EPYC-Turin":    {26, 0, 0},
	"EPYC-Turin-v1": {26, 0, 0},
}

// ErrUnknownVCPUType reports a vCPU model whose signature is not known.
var ErrUnknownVCPUType = errors.New("unknown vCPU type")

// VCPUTypes lists the known vCPU model names, sorted.
func VCPUTypes() []string {
	names := make([]string, 0, len(vcpuModels))
	for n := range vcpuModels {
		names = append(names, n)
	}
	// By generation first (EPYC, Rome, Milan, Genoa, Turin), then by name.
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(generation(a), generation(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return names
}

func generation(name string) int {
	for i, g := range []string{"EPYC-Turin", "EPYC-Genoa", "EPYC-Milan", "EPYC-Rome"} {
		if strings.HasPrefix(name, g) {
			return 4 - i
		}
	}
	return 0
}

// VCPUSignature returns the CPUID signature of a QEMU -cpu value: a model
// name from [VCPUTypes], optionally followed by QEMU's comma-separated
// properties ("EPYC-v4,+avx512f,stepping=3"). Feature flags do not change
// the signature; family=, model= and stepping= do, as they do in QEMU.
func VCPUSignature(cpu string) (uint32, error) {
	name, props, _ := strings.Cut(cpu, ",")
	fms, ok := vcpuModels[name]
	if !ok {
		var extra string
		for n := range vcpuModels {
			if strings.EqualFold(n, name) {
				extra = fmt.Sprintf("; did you mean %q?", n)
			}
		}
		if name == "host" || name == "max" {
			extra = "; the signature of -cpu " + name + " depends on the host: give it as a number (CPUID 1 EAX)"
		}
		return 0, fmt.Errorf("%w %q (known: %s)%s", ErrUnknownVCPUType, name, strings.Join(VCPUTypes(), ", "), extra)
	}
	for _, p := range strings.Split(props, ",") {
		k, v, isKV := strings.Cut(p, "=")
		idx := slices.Index([]string{"family", "model", "stepping"}, k)
		if !isKV || idx < 0 {
			continue // a feature flag: no effect on the signature
		}
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return 0, fmt.Errorf("vCPU %q: %s=%q is not a number", cpu, k, v)
		}
		fms[idx] = uint32(n)
	}
	return CPUSig(fms[0], fms[1], fms[2]), nil
}
