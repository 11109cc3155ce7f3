package build

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// unsetVars are removed from make's environment, each with the reason.
// Buildroot's Makefile unexports most of them itself once a .config exists;
// removing them up front also covers the early goals (show-info, the
// dependency check) and says so in the log instead of failing obscurely.
var unsetVars = map[string]string{
	"PERL_MM_OPT":            "breaks the perl packages, as Buildroot's Makefile says",
	"RUBYOPT":                "breaks packages that need host-ruby",
	"DESTDIR":                "confuses the install steps of some packages",
	"PKG_CONFIG_PATH":        "makes pkg-config look outside the Buildroot tree",
	"PKG_CONFIG_SYSROOT_DIR": "makes pkg-config look outside the Buildroot tree",
	"PKG_CONFIG_LIBDIR":      "makes pkg-config look outside the Buildroot tree",
	"CROSS_COMPILE":          "overrides the toolchain of package builds",
	"ARCH":                   "overrides the architecture of package builds",
	"CC":                     "overrides the compiler of package builds",
	"CXX":                    "overrides the compiler of package builds",
	"CPP":                    "overrides the preprocessor of package builds",
	"LD":                     "overrides the linker of package builds",
	"AR":                     "overrides the archiver of package builds",
	"RANLIB":                 "overrides ranlib of package builds",
	"CFLAGS":                 "leaks host flags into package builds",
	"CXXFLAGS":               "leaks host flags into package builds",
	"LDFLAGS":                "leaks host flags into package builds",
	"CPPFLAGS":               "leaks host flags into package builds",
	"CONFIG_SITE":            "feeds foreign answers to autoconf",
	"GREP_OPTIONS":           "changes grep's output that scripts parse",
	"TAR_OPTIONS":            "changes how tar extracts sources",
	"GCC_COLORS":             "is unexported by Buildroot",
	"TERMINFO":               "points tput at another terminal database",
	"MAKEFLAGS":              "belongs to an outer make: its jobserver descriptors are not open here",
	"MFLAGS":                 "belongs to an outer make",
	"GNUMAKEFLAGS":           "belongs to an outer make",
	"MAKELEVEL":              "belongs to an outer make",
	"MAKEOVERRIDES":          "belongs to an outer make",
	"COLUMNS":                "would override the size of the build pane",
	"LINES":                  "would override the size of the build pane",
	EventsEnv:                "is set by cube-hal for this build",
}

// CleanEnv returns env fit for running Buildroot's make, and one note per
// change. support/dependencies/dependencies.sh refuses to build when PATH or
// LD_LIBRARY_PATH holds the current directory (an empty entry or ".") or
// PATH holds a blank, tab or newline; such entries (and other relative
// ones, which mean the current directory too) are dropped. Variables that
// Buildroot's Makefile unexports, or that an outer make leaves behind, are
// removed. TERM is set to xterm-256color: the terminal make writes to is
// cube-hal's VT emulator, which is an xterm.
func CleanEnv(env []string) (clean []string, notes []string) {
	var removed []string
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if why, bad := unsetVars[name]; bad {
			if name != EventsEnv {
				removed = append(removed, fmt.Sprintf("%s (%s)", name, why))
			}
			continue
		}
		switch name {
		case "PATH", "LD_LIBRARY_PATH":
			kept, dropped := cleanPathList(value, name == "PATH")
			if len(dropped) > 0 {
				notes = append(notes, fmt.Sprintf("removed %s from %s: Buildroot refuses to build with the current directory (or blanks) in it",
					strings.Join(quoteAll(dropped), ", "), name))
			}
			if kept == "" && name == "LD_LIBRARY_PATH" {
				continue
			}
			kv = name + "=" + kept
		case "TERM":
			continue
		}
		clean = append(clean, kv)
	}
	clean = append(clean, "TERM=xterm-256color")
	if len(removed) > 0 {
		sort.Strings(removed)
		notes = append(notes, "removed from make's environment: "+strings.Join(removed, "; "))
	}
	return clean, notes
}

// cleanPathList drops empty, "." and relative entries, and (for PATH)
// entries with blanks.
func cleanPathList(v string, isPATH bool) (kept string, dropped []string) {
	var keep []string
	for _, e := range strings.Split(v, ":") {
		switch {
		case e == "" || e == "." || !filepath.IsAbs(e):
			dropped = append(dropped, e)
		case isPATH && strings.ContainsAny(e, " \t\n"):
			dropped = append(dropped, e)
		default:
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ":"), dropped
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
