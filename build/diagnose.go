package build

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Cause is a recognised common reason for a failed build.
type Cause string

const (
	CauseUnknown     Cause = ""
	CauseNetwork     Cause = "network"      // a download failed: no network, DNS, unreachable site
	CauseDownload    Cause = "download"     // a download failed for another reason (404, server error)
	CauseMissingTool Cause = "missing-tool" // a host program Buildroot or a package needs is not installed
	CauseDiskFull    Cause = "disk-full"    // no space left on the device holding the output
	CauseHash        Cause = "hash"         // a downloaded file does not match Buildroot's hash
	CauseMemory      Cause = "memory"       // the compiler was killed, most likely out of memory
	CauseCompile     Cause = "compile"      // a compiler or build error in a package
	CauseTarget      Cause = "target"       // make does not know the goal
	CauseHostSetup   Cause = "host-setup"   // Buildroot's host checks refused the machine
)

// failurePatterns are the regular expressions diagnose matches against the
// lines of a failed build.
type failurePatterns struct {
	network, diskFull, hash, memory, compile, host *regexp.Regexp
	tools                                          []*regexp.Regexp
}

// patterns compiles them on the first failure: a build that succeeds, and
// every other cube-hal command, never needs them (compiled at init they cost
// every start 170 KB and 0.3 ms).
var patterns = sync.OnceValue(func() *failurePatterns {
	return &failurePatterns{
		network: regexp.MustCompile(`(?i)unable to resolve host|name or service not known|temporary failure in name resolution|could not resolve host|could not resolve hostname|network is unreachable|no route to host|connection timed out|connection refused|failed to connect to|unable to establish ssl|unable to access '`),
		tools: []*regexp.Regexp{
			regexp.MustCompile(`You must install '([^']+)' on your build machine`),
			regexp.MustCompile(`(?:^|[\s:])([A-Za-z0-9_.+-]+): (?:command )?not found$`),
			regexp.MustCompile(`^/bin/(?:ba|da)?sh: (?:line )?\d+: ([A-Za-z0-9_.+-]+): (?:command )?not found`),
			regexp.MustCompile(`^make(?:\[\d+\])?: ([A-Za-z0-9_.+/-]+): No such file or directory`),
		},
		diskFull: regexp.MustCompile(`(?i)no space left on device|disk quota exceeded`),
		hash:     regexp.MustCompile(`ERROR: while checking hashes|ERROR: .*: hash mismatch|Hash (?:mismatch|verification failed)`),
		memory:   regexp.MustCompile(`Killed signal terminated program|virtual memory exhausted|Cannot allocate memory|out of memory`),
		compile:  regexp.MustCompile(`: (?:fatal )?error: |undefined reference to|collect2: error|ld returned \d+ exit status|^error(?:\[E\d+\])?: `),
		host:     regexp.MustCompile(`You seem to have the current working directory|Your PATH contains spaces|Your Perl installation is not complete|You have (?:make|gcc|g\+\+) '.*' installed|Please configure Buildroot first`),
	}
})

// debianPackage names the Debian package that provides a host program, for
// the ones whose package name differs.
var debianPackage = map[string]string{
	"makeinfo": "texinfo", "cc": "gcc", "c++": "g++", "hg": "mercurial", "svn": "subversion",
	"bzr": "brz", "xz": "xz-utils", "which": "debianutils", "python": "python3", "scp": "openssh-client",
	"ssh": "openssh-client", "mkimage": "u-boot-tools", "lzip": "lzip", "zstd": "zstd", "msgfmt": "gettext",
	"autoreconf": "autoconf", "aclocal": "automake", "pkg-config": "pkgconf", "yacc": "bison",
	"lex": "flex", "cmp": "diffutils", "tput": "ncurses-bin", "file": "file", "xargs": "findutils",
	"find": "findutils", "awk": "gawk",
}

// diagnose names the cause of a failure from the failing step's lines (and
// the end of the whole output) and says what to do about it.
func diagnose(f *Failure, tail []string, makeStop, outputDir, dlDir string) {
	lines := append(append([]string(nil), f.Lines...), tail...)
	re := patterns()
	match := func(re *regexp.Regexp) string {
		for i := len(lines) - 1; i >= 0; i-- {
			if re.MatchString(lines[i]) {
				return lines[i]
			}
		}
		return ""
	}
	pkg := f.Package
	if pkg == "" {
		pkg = "the build"
	}
	if makeStop != "" && strings.HasPrefix(makeStop, "No rule to make target") {
		f.Cause = CauseTarget
		f.Hint = fmt.Sprintf("make says: %s; 'make help' in the Buildroot tree lists the goals", makeStop)
		return
	}
	if l := match(re.diskFull); l != "" {
		f.Cause = CauseDiskFull
		f.Hint = fmt.Sprintf("the disk is full (%q): free space where %s lives (df -h %s); a full image build needs tens of GB, and 'cube-hal build clean' removes the build tree", l, outputDir, outputDir)
		return
	}
	for _, re := range re.tools {
		for i := len(lines) - 1; i >= 0; i-- {
			m := re.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			tool := m[1]
			if strings.Contains(tool, "/") && !strings.HasPrefix(tool, "/usr/bin/") {
				continue // a missing build file, not a program
			}
			tool = strings.TrimPrefix(tool, "/usr/bin/")
			deb := debianPackage[tool]
			if deb == "" {
				deb = tool
			}
			f.Cause = CauseMissingTool
			f.Hint = fmt.Sprintf("the host program %q is missing: install it on the build machine (Debian: apt-get install %s), then run the build again", tool, deb)
			return
		}
	}
	if l := match(re.host); l != "" {
		f.Cause = CauseHostSetup
		f.Hint = fmt.Sprintf("Buildroot's host check refused this machine (%q); fix that and run the build again", l)
		return
	}
	if l := match(re.hash); l != "" {
		f.Cause = CauseHash
		f.Hint = fmt.Sprintf("a downloaded file for %s does not match Buildroot's hash: delete it from %s and build again; if it fails again the upstream file changed", pkg, dlDirHint(dlDir))
		return
	}
	if f.Step == "download" || f.Step == "actual-download" {
		if l := match(re.network); l != "" {
			f.Cause = CauseNetwork
			f.Hint = fmt.Sprintf("the download of %s failed and there seems to be no network (%q): copy its source into %s from a machine that has one ('make %s-source' there, or 'make source' for every package), or point BR2_PRIMARY_SITE at a mirror you can reach",
				pkg, l, dlDirHint(dlDir), f.Package)
			return
		}
		f.Cause = CauseDownload
		f.Hint = fmt.Sprintf("the download of %s failed (see the lines above); check the URL in its .mk file, or put the file into %s by hand", pkg, dlDirHint(dlDir))
		return
	}
	if l := match(re.memory); l != "" {
		f.Cause = CauseMemory
		f.Hint = fmt.Sprintf("the compiler was killed (%q), most likely out of memory: build again with fewer jobs (--jobs 1 or 2)", l)
		return
	}
	if f.Package != "" && match(re.compile) != "" {
		f.Cause = CauseCompile
		f.Hint = fmt.Sprintf("%s failed to build (the error is in the lines above; the full output is in the log); after a fix, 'cube-hal build %s-rebuild' retries only that package", f.Package, f.Package)
		return
	}
	if f.Package != "" {
		f.Hint = fmt.Sprintf("%s failed in its %s step: read the lines above and the full log; 'cube-hal build %s-dirclean %s' starts that package afresh", f.Package, f.Step, f.Package, f.Package)
		return
	}
	f.Hint = "read the last lines above and the full log"
}

func dlDirHint(dlDir string) string {
	if dlDir == "" {
		return "the download directory (BR2_DL_DIR)"
	}
	return dlDir
}
