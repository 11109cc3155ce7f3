package build

import (
	"fmt"
	"sort"
	"strings"
)

// targetKind says how a make goal maps onto progress.
type targetKind int

const (
	targetAll     targetKind = iota // "" or "all": the whole image
	targetSource                    // "source": download everything
	targetPackage                   // "<pkg>", "<pkg>-rebuild", ...: a package and its dependencies
	targetOther                     // anything else: run it, progress indeterminate
)

// packageSuffixes are the per-package goals of package/pkg-generic.mk that
// build the package (or a step of it) together with its dependencies.
var packageSuffixes = []string{
	"rebuild", "reconfigure", "reinstall", "build", "configure", "patch",
	"extract", "source", "install", "install-target", "install-staging",
	"install-images", "install-host",
}

// noConfigTargets run without a .config; the rest need one.
var noConfigTargets = map[string]bool{
	"clean": true, "distclean": true, "help": true, "list-defconfigs": true,
	"manual": true, "show-info-all": true,
}

// interactiveGoal reports goals that need a real terminal with a person at
// it (they draw a full-screen menu), which a build pane cannot offer.
func interactiveGoal(t string) bool {
	for _, s := range []string{"menuconfig", "nconfig", "xconfig", "gconfig"} {
		if t == s || strings.HasSuffix(t, "-"+s) {
			return true
		}
	}
	return t == "config" || t == "oldconfig"
}

// CheckTargets rejects goals that cannot run under cube-hal's build pane,
// naming the offending one.
func CheckTargets(targets []string) error {
	for _, t := range targets {
		if t == "" || strings.ContainsAny(t, " \t\n") {
			return fmt.Errorf("target %q: not a make goal", t)
		}
		if strings.HasPrefix(t, "-") {
			return fmt.Errorf("target %q: make options are not passed through (use --jobs for -j)", t)
		}
		if strings.Contains(t, "=") {
			return fmt.Errorf("target %q: make variables are set by cube-hal from the workspace", t)
		}
		if interactiveGoal(t) {
			return fmt.Errorf("target %q is interactive: run 'cube-hal conf' for the configuration, or 'make -C $BUILDROOT_DIR O=<output> %s' in a terminal", t, t)
		}
	}
	return nil
}

// needsConfig reports whether make needs a .config for these goals.
func needsConfig(targets []string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if !noConfigTargets[t] && !strings.HasSuffix(t, "_defconfig") {
			return true
		}
	}
	return false
}

// needsPlan reports whether any goal builds packages, i.e. whether reading
// the package list (make show-info, several seconds) is worth it.
func needsPlan(targets []string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if noConfigTargets[t] || strings.HasSuffix(t, "_defconfig") || t == "savedefconfig" ||
			strings.HasSuffix(t, "-savedefconfig") || strings.HasPrefix(t, "show-") || t == "printvars" {
			continue
		}
		return true
	}
	return false
}

// classify maps a goal to its kind and, for package goals, the package.
func classify(t string, info map[string]*PackageInfo) (targetKind, string) {
	switch t {
	case "", "all", "world":
		return targetAll, ""
	case "source":
		return targetSource, ""
	}
	if info[t] != nil {
		return targetPackage, t
	}
	for _, s := range packageSuffixes {
		if p, ok := strings.CutSuffix(t, "-"+s); ok && info[p] != nil {
			return targetPackage, p
		}
	}
	return targetOther, ""
}

// planFor is what a set of goals builds: the counted packages, whether only
// downloads are done (make source), and the packages the goals rebuild
// whatever their stamps say (<pkg>-rebuild removes them first).
type planSpec struct {
	packages map[string]bool
	source   bool
	forced   map[string]bool
}

func planFor(targets []string, info map[string]*PackageInfo) planSpec {
	ps := planSpec{packages: map[string]bool{}, forced: map[string]bool{}}
	if len(targets) == 0 {
		targets = []string{"all"}
	}
	onlySource := true
	for _, t := range targets {
		kind, pkg := classify(t, info)
		switch kind {
		case targetAll, targetSource:
			for n, p := range info {
				if p.Counted() {
					ps.packages[n] = true
				}
			}
			if kind == targetAll {
				onlySource = false
			}
		case targetPackage:
			for n := range closure(info, []string{pkg}) {
				if p := info[n]; p != nil && p.Counted() {
					ps.packages[n] = true
				}
			}
			for _, s := range []string{"rebuild", "reconfigure", "reinstall"} {
				if strings.HasSuffix(t, "-"+s) {
					ps.forced[pkg] = true
				}
			}
			onlySource = onlySource && strings.HasSuffix(t, "-source")
		default:
			onlySource = false
		}
	}
	ps.source = onlySource && len(ps.packages) > 0
	return ps
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
