package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PackageInfo is one entry of `make -s show-info` (package/pkg-utils.mk,
// json-info), reduced to what progress needs.
type PackageInfo struct {
	Name           string   // the show-info key: "host-tar", "busybox"
	Type           string   // "host", "target" or "rootfs"
	Virtual        bool     // virtual packages only pull in a provider
	Version        string   // empty for packages without one
	StampDir       string   // relative to O: "build/host-tar-1.35"
	BuildDir       string   // relative to O: "build/host-tar-1.35/"
	InstallTarget  bool     // has an install-target step
	InstallStaging bool     // has an install-staging step
	InstallImages  bool     // has an install-image step
	Dependencies   []string // direct dependencies (_FINAL_ALL_DEPENDENCIES)
}

// Counted reports whether the package counts towards a build's total:
// neither virtual nor a root filesystem (tui-facts §3.3).
func (p *PackageInfo) Counted() bool { return !p.Virtual && p.Type != "rootfs" }

// InstallSteps are the instrumentation steps whose end completes the package.
func (p *PackageInfo) InstallSteps() []string {
	if p.Type == "host" {
		return []string{"install-host"}
	}
	var s []string
	if p.InstallStaging {
		s = append(s, "install-staging")
	}
	if p.InstallImages {
		s = append(s, "install-image")
	}
	if p.InstallTarget {
		s = append(s, "install-target")
	}
	return s
}

// ExpectedSteps is how many instrumented steps a from-scratch build of the
// package runs: download, extract, patch, configure, build and its installs.
func (p *PackageInfo) ExpectedSteps() int { return 5 + len(p.InstallSteps()) }

type showInfoEntry struct {
	Type           string   `json:"type"`
	Virtual        bool     `json:"virtual"`
	Version        string   `json:"version"`
	StampDir       string   `json:"stamp_dir"`
	BuildDir       string   `json:"build_dir"`
	InstallTarget  bool     `json:"install_target"`
	InstallStaging bool     `json:"install_staging"`
	InstallImages  bool     `json:"install_images"`
	Dependencies   []string `json:"dependencies"`
}

// ParseShowInfo decodes the JSON object `make -s show-info` prints. Lines
// before the object (a sub-make's chatter) are skipped.
func ParseShowInfo(data []byte) (map[string]*PackageInfo, error) {
	i := bytes.IndexByte(data, '{')
	if i < 0 {
		return nil, fmt.Errorf("show-info: no JSON object in the output (%d bytes)", len(data))
	}
	var raw map[string]showInfoEntry
	if err := json.Unmarshal(bytes.TrimSpace(data[i:]), &raw); err != nil {
		return nil, fmt.Errorf("show-info: %w", err)
	}
	out := make(map[string]*PackageInfo, len(raw))
	for name, e := range raw {
		if e.Type == "" {
			return nil, fmt.Errorf("show-info: package %q has no type", name)
		}
		out[name] = &PackageInfo{
			Name: name, Type: e.Type, Virtual: e.Virtual, Version: e.Version,
			StampDir: strings.TrimSuffix(e.StampDir, "/"), BuildDir: e.BuildDir,
			InstallTarget: e.InstallTarget, InstallStaging: e.InstallStaging, InstallImages: e.InstallImages,
			Dependencies: e.Dependencies,
		}
	}
	return out, nil
}

// buildOrder lists packages so that each comes after its dependencies (ties
// broken by name), which is close to the order Buildroot builds them in
// without top-level parallelism.
func buildOrder(info map[string]*PackageInfo, want map[string]bool) []string {
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		p := info[n]
		if p == nil {
			return
		}
		deps := append([]string(nil), p.Dependencies...)
		sort.Strings(deps)
		for _, d := range deps {
			visit(d)
		}
		if want[n] {
			order = append(order, n)
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		visit(n)
	}
	return order
}

// closure is a package and everything it depends on, recursively.
func closure(info map[string]*PackageInfo, roots []string) map[string]bool {
	out := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if out[n] {
			return
		}
		out[n] = true
		if p := info[n]; p != nil {
			for _, d := range p.Dependencies {
				visit(d)
			}
		}
	}
	for _, r := range roots {
		visit(r)
	}
	return out
}

// stampInstalled reports whether the package's final stamp exists in O: it
// was built by an earlier run and make will skip it.
func stampInstalled(outputDir string, p *PackageInfo) bool {
	if p.StampDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(outputDir, p.StampDir, ".stamp_installed"))
	return err == nil
}

// stampExists reports whether a step's stamp exists (used for `make source`,
// where a package is done once downloaded).
func stampExists(outputDir string, p *PackageInfo, stamp string) bool {
	if p.StampDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(outputDir, p.StampDir, stamp))
	return err == nil
}
