package build

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseStepLine(t *testing.T) {
	tests := []struct {
		raw  string
		want StepLine
		ok   bool
	}{
		// As measured in a pty on buildroot e991fa07 (tui-facts §3.2).
		{"\x1b[7m>>> host-skeleton  Extracting\x1b[27m\r", StepLine{"host-skeleton", "", "Extracting"}, true},
		{"\x1b[7m>>> host-pkgconf 2.3.0 Downloading\x1b[27m", StepLine{"host-pkgconf", "2.3.0", "Downloading"}, true},
		{">>> busybox 1.38.0 Installing to target", StepLine{"busybox", "1.38.0", "Installing to target"}, true},
		{">>> linux 6.18.7 Updating kernel config with fixups", StepLine{"linux", "6.18.7", "Updating kernel config with fixups"}, true},
		{">>> cube-agent custom Syncing from source dir /src/cube", StepLine{"cube-agent", "custom", "Syncing from source dir /src/cube"}, true},
		{"\x1b[7m>>>   Finalizing target directory\x1b[27m", StepLine{"", "", "Finalizing target directory"}, true},
		{">>>   Generating filesystem image rootfs.cpio", StepLine{"", "", "Generating filesystem image rootfs.cpio"}, true},
		// A progress bar redrawn over, then the message.
		{"  45%[=====>   ]\r>>> zlib 1.3.1 Patching", StepLine{"zlib", "1.3.1", "Patching"}, true},
		{"echo '>>> not a message'", StepLine{}, false},
		{">>> lonely", StepLine{}, false},
		{">>> pkg 1.0 ", StepLine{}, false},
		{">>>x y z", StepLine{}, false},
		{"gcc -c foo.c", StepLine{}, false},
		{"", StepLine{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseStepLine([]byte(tc.raw))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseStepLine(%q) = %+v, %v; want %+v, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseMakeError(t *testing.T) {
	tests := []struct {
		raw  string
		want MakeError
		ok   bool
	}{
		// The real line from an offline build of qemu_x86_64_defconfig.
		{"make: *** [package/pkg-generic.mk:179: /tmp/brtest/build/host-pkgconf-2.3.0/.stamp_downloaded] Error 1\r",
			MakeError{Target: "/tmp/brtest/build/host-pkgconf-2.3.0/.stamp_downloaded", Dir: "host-pkgconf-2.3.0", Step: "download", Status: 1}, true},
		{"make[1]: *** [/o/build/linux-6.18.7/.stamp_built] Error 2",
			MakeError{Target: "/o/build/linux-6.18.7/.stamp_built", Dir: "linux-6.18.7", Step: "build", Status: 2}, true},
		{"make: *** [Makefile:132: /o/build/zlib-1.3.1/.stamp_staging_installed] Interrupt",
			MakeError{Target: "/o/build/zlib-1.3.1/.stamp_staging_installed", Dir: "zlib-1.3.1", Step: "install-staging", Interrupted: true}, true},
		{"make[2]: *** [Makefile:12: src/main.o] Error 1", MakeError{Target: "src/main.o", Status: 1}, true},
		{"/usr/bin/make[3]: *** [Makefile:9: all] Error 2", MakeError{Target: "all", Status: 2}, true},
		{"echo 'make: *** [x] Error 1'", MakeError{}, false},
		{"make: *** No rule to make target 'foo'.  Stop.", MakeError{}, false},
		{"*** error", MakeError{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseMakeError([]byte(tc.raw))
		got.Line = ""
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseMakeError(%q) = %+v, %v; want %+v, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
	if s, ok := parseMakeStop([]byte("make: *** No rule to make target 'foo'.  Stop.")); !ok || s != "No rule to make target 'foo'" {
		t.Errorf("parseMakeStop: %q %v", s, ok)
	}
}

func TestIsWarning(t *testing.T) {
	for raw, want := range map[string]bool{
		"\x1b[01m\x1b[Kfoo.c:12:5:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kunused variable": true,
		"foo.c:12: warning: implicit declaration":                                                     true,
		"cc1: warning: command-line option '-std=c++11'":                                              true,
		"/usr/bin/ld: warning: libfoo.so.1, not found":                                                true,
		"configure: WARNING: unrecognized options":                                                    false,
		"checking whether -Wno-warning: flag works... yes":                                            false,
		"warning: the word alone":                                                                     false,
		"foo.c:1:2: error: bad":                                                                       false,
	} {
		if got := isWarning([]byte(raw)); got != want {
			t.Errorf("isWarning(%q) = %v, want %v", raw, got, want)
		}
	}
}

func TestParseStepEvent(t *testing.T) {
	for line, want := range map[string]StepEvent{
		"start download host-skeleton\n": {Start: true, Step: "download", Package: "host-skeleton"},
		"end install-target busybox":     {Step: "install-target", Package: "busybox"},
		"start build":                    {Start: true, Step: "build"},
	} {
		got, err := ParseStepEvent(line)
		if err != nil || got != want {
			t.Errorf("ParseStepEvent(%q) = %+v, %v; want %+v", line, got, err, want)
		}
	}
	for _, bad := range []string{"", "begin build x", "start", "start a b c"} {
		if _, err := ParseStepEvent(bad); err == nil {
			t.Errorf("ParseStepEvent(%q): no error", bad)
		}
	}
}

func TestParseBuildTimeLog(t *testing.T) {
	// Two builds: the second one's durations win; a step that never ended
	// (a failure) is ignored.
	log := `1795626331.000000000:start:download            : host-skeleton
1795626331.500000000:end  :download            : host-skeleton
1795626331.500000000:start:build               : host-skeleton
1795626333.500000000:end  :build               : host-skeleton
1795626340.000000000:start:build               : busybox
1795626400.000000000:start:build               : host-skeleton
1795626401.000000000:end  :build               : host-skeleton
`
	h, err := ParseBuildTimeLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := h.Step("host-skeleton", "build"); !ok || d != time.Second {
		t.Errorf("host-skeleton build = %s, %v; want 1s from the latest build", d, ok)
	}
	if d, ok := h.Package("host-skeleton"); !ok || d != 1500*time.Millisecond {
		t.Errorf("host-skeleton total = %s, %v", d, ok)
	}
	if _, ok := h.Package("busybox"); ok || h.Len() != 1 {
		t.Errorf("busybox (never ended) has a duration; %d packages", h.Len())
	}
	for _, bad := range []string{"nonsense\n", "x:start:build: p\n", "1.0:middle:build: p\n"} {
		if _, err := ParseBuildTimeLog(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseBuildTimeLog(%q): error %v, want one naming line 1", bad, err)
		}
	}
	if h, err := readHistory(filepath.Join(t.TempDir(), "missing")); err != nil || h.Len() != 0 {
		t.Errorf("missing build-time.log: %v, %d", err, h.Len())
	}
}

func TestParseShowInfo(t *testing.T) {
	// An excerpt of the real output (make -s show-info, qemu_x86_64_defconfig).
	data := `{ "busybox": { "type": "target", "name": "busybox", "virtual": false, "version": "1.38.0", "licenses": "GPL-2.0,\u0020bzip2-1.0.6", "dl_dir": "busybox", "downloads": [ { "source": "busybox-1.38.0.tar.bz2", "uris": [ "https+https://www.busybox.net/downloads" ] } ], "package_dir": "package/busybox", "stamp_dir": "build/busybox-1.38.0", "source_dir": "build/busybox-1.38.0", "build_dir": "build/busybox-1.38.0/", "install_target": true, "install_staging": false, "install_images": false, "dependencies": ["host-skeleton", "host-tar", "skeleton", "toolchain"] },` +
		` "host-tar": { "type": "host", "name": "tar", "virtual": false, "version": "1.35", "stamp_dir": "build/host-tar-1.35", "build_dir": "build/host-tar-1.35/", "dependencies": ["host-skeleton"] },` +
		` "host-skeleton": { "type": "host", "name": "skeleton", "virtual": false, "version": "", "stamp_dir": "build/host-skeleton", "dependencies": [] },` +
		` "toolchain": { "type": "target", "name": "toolchain", "virtual": true, "stamp_dir": "build/toolchain", "install_target": true, "install_staging": true, "install_images": false, "dependencies": ["host-skeleton"] },` +
		` "skeleton": { "type": "target", "name": "skeleton", "virtual": true, "stamp_dir": "build/skeleton", "dependencies": ["host-skeleton"] },` +
		` "rootfs-cpio": { "type": "rootfs", "image_name": "rootfs.cpio", "dependencies": ["host-cpio", "rootfs-common"] } }` + "\n"
	info, err := ParseShowInfo([]byte("make[1]: chatter\n" + data))
	if err != nil {
		t.Fatal(err)
	}
	bb := info["busybox"]
	if bb == nil || bb.Type != "target" || bb.Version != "1.38.0" || bb.StampDir != "build/busybox-1.38.0" ||
		!bb.InstallTarget || bb.InstallStaging || !reflect.DeepEqual(bb.InstallSteps(), []string{"install-target"}) || bb.ExpectedSteps() != 6 {
		t.Errorf("busybox: %+v", bb)
	}
	if !reflect.DeepEqual(info["host-tar"].InstallSteps(), []string{"install-host"}) {
		t.Errorf("host-tar installs %v", info["host-tar"].InstallSteps())
	}
	var counted []string
	for n, p := range info {
		if p.Counted() {
			counted = append(counted, n)
		}
	}
	if got := strings.Join(sortedKeys(toSet(counted)), " "); got != "busybox host-skeleton host-tar" {
		t.Errorf("counted: %s (virtual and rootfs entries do not count)", got)
	}
	if got := strings.Join(buildOrder(info, toSet(counted)), " "); got != "host-skeleton host-tar busybox" {
		t.Errorf("build order: %s", got)
	}
	for _, bad := range []string{"", "no json here", "{ broken", `{"x": {"virtual": false}}`} {
		if _, err := ParseShowInfo([]byte(bad)); err == nil {
			t.Errorf("ParseShowInfo(%q): no error", bad)
		}
	}
}

func toSet(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func TestPlanForTargets(t *testing.T) {
	info := map[string]*PackageInfo{
		"host-a":    {Name: "host-a", Type: "host"},
		"b":         {Name: "b", Type: "target", Dependencies: []string{"host-a", "toolchain"}},
		"c":         {Name: "c", Type: "target", Dependencies: []string{"b"}},
		"d":         {Name: "d", Type: "target"},
		"toolchain": {Name: "toolchain", Type: "target", Virtual: true, Dependencies: []string{"host-a"}},
		"rootfs-x":  {Name: "rootfs-x", Type: "rootfs"},
	}
	tests := []struct {
		targets []string
		want    string
		source  bool
		forced  string
	}{
		{nil, "b c d host-a", false, ""},
		{[]string{"all"}, "b c d host-a", false, ""},
		{[]string{"source"}, "b c d host-a", true, ""},
		{[]string{"c-rebuild"}, "b c host-a", false, "c"},
		{[]string{"b"}, "b host-a", false, ""},
		{[]string{"b-source"}, "b host-a", true, ""},
		{[]string{"b-reinstall", "d-reconfigure"}, "b d host-a", false, "b d"},
		{[]string{"clean"}, "", false, ""},
		{[]string{"legal-info"}, "", false, ""},
	}
	for _, tc := range tests {
		ps := planFor(tc.targets, info)
		if got := strings.Join(sortedKeys(ps.packages), " "); got != tc.want || ps.source != tc.source || strings.Join(sortedKeys(ps.forced), " ") != tc.forced {
			t.Errorf("planFor(%v) = %q source=%v forced=%v; want %q source=%v forced=%q", tc.targets, got, ps.source, sortedKeys(ps.forced), tc.want, tc.source, tc.forced)
		}
	}
}

func TestCheckTargets(t *testing.T) {
	for _, ok := range [][]string{nil, {"clean"}, {"busybox-rebuild", "all"}, {"source"}, {"qemu_x86_64_defconfig"}} {
		if err := CheckTargets(ok); err != nil {
			t.Errorf("CheckTargets(%v): %v", ok, err)
		}
	}
	for _, bad := range []string{"menuconfig", "linux-menuconfig", "busybox-nconfig", "-k", "V=1", "two words", ""} {
		err := CheckTargets([]string{"all", bad})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("CheckTargets(%q): %v (want an error naming it)", bad, err)
		}
	}
	if needsConfig([]string{"clean"}) || needsConfig([]string{"foo_defconfig"}) || !needsConfig(nil) || !needsConfig([]string{"clean", "all"}) {
		t.Error("needsConfig")
	}
	if needsPlan([]string{"distclean"}) || needsPlan([]string{"savedefconfig"}) || !needsPlan([]string{"busybox"}) {
		t.Error("needsPlan")
	}
}

func TestCleanEnv(t *testing.T) {
	env := []string{
		"HOME=/root",
		"PATH=/usr/local/bin:.:/usr/bin::bin:/opt/my tools/bin:/bin",
		"LD_LIBRARY_PATH=.:",
		"PERL_MM_OPT=INSTALL_BASE=/home/me/perl5",
		"MAKEFLAGS=-j8 --jobserver-auth=3,4",
		"TERM=dumb",
		"BR2_DL_DIR=/srv/dl",
		"CUBE_HAL_EVENTS=/stale",
		"LANG=C.UTF-8",
	}
	got, notes := CleanEnv(env)
	want := []string{"HOME=/root", "PATH=/usr/local/bin:/usr/bin:/bin", "BR2_DL_DIR=/srv/dl", "LANG=C.UTF-8", "TERM=xterm-256color"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CleanEnv =\n %q\nwant\n %q", got, want)
	}
	all := strings.Join(notes, "\n")
	for _, w := range []string{`"."`, `""`, `"bin"`, `"/opt/my tools/bin"`, "from PATH", "from LD_LIBRARY_PATH", "PERL_MM_OPT (breaks the perl packages", "MAKEFLAGS"} {
		if !strings.Contains(all, w) {
			t.Errorf("notes do not mention %s:\n%s", w, all)
		}
	}
	if strings.Contains(all, "CUBE_HAL_EVENTS") {
		t.Errorf("notes mention cube-hal's own variable:\n%s", all)
	}
	if _, notes := CleanEnv([]string{"PATH=/usr/bin:/bin", "HOME=/root"}); len(notes) != 0 {
		t.Errorf("a clean environment got notes: %v", notes)
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		f     Failure
		tail  []string
		stop  string
		cause Cause
		hint  string
	}{
		{Failure{Package: "host-pkgconf", Step: "download", Lines: []string{
			"Resolving sources.buildroot.net (sources.buildroot.net)... failed: Name or service not known.",
			"wget: unable to resolve host address ‘sources.buildroot.net’"}}, nil, "", CauseNetwork, "/srv/dl"},
		{Failure{Package: "foo", Step: "download", Lines: []string{"ERROR 404: Not Found."}}, nil, "", CauseDownload, "/srv/dl"},
		{Failure{Package: "foo", Step: "download", Lines: []string{"ERROR: while checking hashes"}}, nil, "", CauseHash, "hash"},
		{Failure{Lines: []string{"You must install 'rsync' on your build machine"}}, nil, "", CauseMissingTool, "apt-get install rsync"},
		{Failure{Package: "foo", Step: "build", Lines: []string{"/bin/sh: 1: makeinfo: not found"}}, nil, "", CauseMissingTool, "apt-get install texinfo"},
		{Failure{Package: "foo", Step: "build", Lines: []string{"x.c:1:1: error: boom"}}, []string{"cc1: fatal error: error writing to /tmp/x.s: No space left on device"}, "", CauseDiskFull, "df -h /out"},
		{Failure{Package: "gcc", Step: "build", Lines: []string{"g++: fatal error: Killed signal terminated program cc1plus"}}, nil, "", CauseMemory, "--jobs"},
		{Failure{Package: "foo", Step: "build", Lines: []string{"x.c:1:1: error: boom"}}, nil, "", CauseCompile, "foo-rebuild"},
		{Failure{Lines: []string{"You seem to have the current working directory in your PATH environment variable."}}, nil, "", CauseHostSetup, "current working directory"},
		{Failure{}, nil, "No rule to make target 'nosuch'", CauseTarget, "make help"},
		{Failure{Package: "foo", Step: "patch", Lines: []string{"something odd"}}, nil, "", CauseUnknown, "foo-dirclean"},
	}
	for i, tc := range tests {
		f := tc.f
		diagnose(&f, tc.tail, tc.stop, "/out", "/srv/dl")
		if f.Cause != tc.cause || !strings.Contains(f.Hint, tc.hint) {
			t.Errorf("case %d: cause %q hint %q; want %q, a hint with %q", i, f.Cause, f.Hint, tc.cause, tc.hint)
		}
	}
}

func TestAppendLineKeepsTheLatestProgress(t *testing.T) {
	var b []byte
	for i := 0; i < 5000; i++ {
		b = appendLine(b, []byte("\r 10% [=>      ] "))
	}
	b = appendLine(b, []byte("\rdone 100%"))
	if len(b) > maxLineBytes || displayText(b) != "done 100%" {
		t.Errorf("len %d, shows %q", len(b), displayText(b))
	}
	b = appendLine(nil, []byte(strings.Repeat("x", maxLineBytes+10)))
	if len(b) != maxLineBytes {
		t.Errorf("len %d", len(b))
	}
}

func TestTailLastLines(t *testing.T) {
	var tb tailBuffer
	tb.write([]byte("a\nb\nc\n"))
	for n, want := range map[int]string{1: "c", 2: "b\nc", 3: "a\nb\nc", 9: "a\nb\nc"} {
		if got := string(tb.lastLines(n)); got != want {
			t.Errorf("lastLines(%d) = %q, want %q", n, got, want)
		}
	}
	tb.write([]byte("partial"))
	if got := string(tb.lastLines(2)); got != "c\npartial" {
		t.Errorf("lastLines(2) = %q", got)
	}
	// The buffer stays bounded and keeps whole lines.
	line := strings.Repeat("y", 99) + "\n"
	for i := 0; i < 10000; i++ {
		tb.write([]byte(line))
	}
	if len(tb.buf) > 2*tailKeep || len(tb.buf) < tailKeep || string(tb.lastLines(1)) != line[:99] {
		t.Errorf("tail holds %d bytes", len(tb.buf))
	}
}

func TestScreenRendersCarriageReturnsAndColour(t *testing.T) {
	tail := []byte("one\n\x1b[31mred\x1b[0m\nfile.tar 10%\rfile.tar 90%\rfile.tar 100%\nlast")
	got := renderScreen(tail, 20, 4)
	want := []string{"one", "\x1b[31mred\x1b[m", "file.tar 100%", "last"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("renderScreen = %q, want %q", got, want)
	}
	// Fewer lines than rows: only the rows written; long lines wrap and the
	// last rows are kept.
	if got := renderScreen([]byte("x\ny"), 20, 4); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("short: %q", got)
	}
	if got := renderScreen([]byte(strings.Repeat("z", 30)+"\nend"), 10, 2); !reflect.DeepEqual(got, []string{"zzzzzzzzzz", "end"}) {
		t.Errorf("wrapped: %q", got)
	}
	// A cursor report request must not block the renderer.
	if got := renderScreen([]byte("ask\x1b[6n\nok"), 10, 2); !reflect.DeepEqual(got, []string{"ask", "ok"}) {
		t.Errorf("with a query: %q", got)
	}
}

func FuzzParseStepLine(f *testing.F) {
	f.Add([]byte("\x1b[7m>>> host-skeleton  Extracting\x1b[27m\r"))
	f.Add([]byte(">>>   Finalizing target directory"))
	f.Add([]byte(">>> a b"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		sl, ok := ParseStepLine(raw)
		if ok && (sl.Label == "" || strings.Contains(sl.Package, " ") || strings.Contains(sl.Version, " ")) {
			t.Errorf("ParseStepLine(%q) = %+v", raw, sl)
		}
	})
}

func FuzzParseMakeError(f *testing.F) {
	f.Add([]byte("make: *** [package/pkg-generic.mk:179: /o/build/host-tar-1.35/.stamp_downloaded] Error 1"))
	f.Add([]byte("make[2]: *** [x] Interrupt"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, ok := ParseMakeError(raw)
		if ok && e.Step != "" && e.Dir == "" {
			t.Errorf("ParseMakeError(%q) = %+v: a step without a package directory", raw, e)
		}
	})
}

func FuzzParseBuildTimeLog(f *testing.F) {
	f.Add("1795626331.282190285:start:download            : host-skeleton\n1795626332.0:end  :download            : host-skeleton\n")
	f.Add("1:end:x: y\n")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseBuildTimeLog(strings.NewReader(s))
		if err == nil {
			for pkg, steps := range h.steps {
				for step, d := range steps {
					if d < 0 {
						t.Errorf("%s %s: negative duration %s", pkg, step, d)
					}
				}
			}
		}
	})
}

func FuzzParseShowInfo(f *testing.F) {
	f.Add([]byte(`{ "a": { "type": "host", "virtual": false, "dependencies": ["b"] }, "b": { "type": "target", "dependencies": ["a"] } }`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseShowInfo(data)
		if err != nil {
			return
		}
		want := map[string]bool{}
		for n := range info {
			want[n] = true
		}
		// Dependency cycles and unknown names must not hang or panic.
		if got := buildOrder(info, want); len(got) != len(want) {
			t.Errorf("build order %v misses packages of %v", got, sortedKeys(want))
		}
	})
}

// FuzzScan feeds arbitrary output, split arbitrarily, through the model's
// line parser: it must never panic, count every byte, and keep its
// buffers bounded.
func FuzzScan(f *testing.F) {
	f.Add([]byte("\x1b[7m>>> zlib 1.3.1 Building\x1b[27m\nfoo.c:1:1: warning: x\nmake: *** [/o/build/zlib-1.3.1/.stamp_built] Error 1\n"), uint8(7))
	f.Add([]byte("a\rb\rc\n\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		m := newModel(nil, "", "", time.Now())
		n := int(split)%64 + 1
		for i := 0; i < len(data); i += n {
			m.scan(data[i:min(len(data), i+n)])
		}
		if m.bytes != int64(len(data)) || len(m.partial) > maxLineBytes || len(m.tail.buf) > 2*tailKeep {
			t.Errorf("bytes %d/%d, partial %d, tail %d", m.bytes, len(data), len(m.partial), len(m.tail.buf))
		}
		_ = m.snapshot(time.Now())
	})
}
