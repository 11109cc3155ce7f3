package cubecfg

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/kconfig"
)

// externalDir is the Cube BR2_EXTERNAL tree of this checkout.
func externalDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(testenv.RepoRoot(t), "buildroot")
}

// conf runs conf --olddefconfig on the stub base (which sources the Cube
// tree) over input, with the project's engine and Debian's kconfig-conf
// (see confWarnings), and returns the resulting .config text and values.
func conf(t *testing.T, input string) (string, Values) {
	t.Helper()
	text, vals, warnings := confWarnings(t, input)
	if warnings != "" {
		t.Errorf("conf warned on the Cube tree:\n%s", warnings)
	}
	return text, vals
}

// confWarnings is conf that returns the warnings instead of failing on
// them. It runs the project's Go Kconfig engine and, when installed,
// Debian's kconfig-conf on the same input, and insists both write the same
// .config: the tree parses with both.
func confWarnings(t *testing.T, input string) (string, Values, string) {
	t.Helper()
	base, err := filepath.Abs(filepath.Join("testdata", "stub-base", "Config.in"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BR2_EXTERNAL_CUBE_PATH": externalDir(t), "CONFIG_": ""}

	// The project's engine.
	goDir := t.TempDir()
	goCfg := filepath.Join(goDir, ".config")
	if err := os.WriteFile(goCfg, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := kconfig.RunConf("conf", []string{"--olddefconfig", base}, kconfig.ConfIO{
		Stdout: &stdout, Stderr: &stderr, Dir: goDir,
		LookupEnv: func(k string) (string, bool) {
			if k == "KCONFIG_CONFIG" {
				return goCfg, true
			}
			v, ok := env[k]
			return v, ok
		},
	})
	if code != 0 {
		t.Fatalf("kconfig engine: conf --olddefconfig exited %d\n%s%s", code, stdout.String(), stderr.String())
	}
	text, err := os.ReadFile(goCfg)
	if err != nil {
		t.Fatal(err)
	}
	warnings := warningLines(stdout.String() + stderr.String())

	// Debian's kconfig-conf, the C reference.
	if bin, err := exec.LookPath("kconfig-conf"); err != nil {
		testenv.Missing(t, "kconfig-conf (kconfig-frontends-nox) to compare with")
	} else {
		dir := t.TempDir()
		cfg := filepath.Join(dir, ".config")
		if err := os.WriteFile(cfg, []byte(input), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--olddefconfig", base)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "BR2_EXTERNAL_CUBE_PATH="+externalDir(t), "CONFIG_=", "KCONFIG_CONFIG="+cfg)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kconfig-conf --olddefconfig: %v\n%s", err, out)
		}
		ref, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if string(ref) != string(text) {
			t.Errorf("the Go engine and kconfig-conf disagree on input %q:\n%s", input, lineDiff(string(text), string(ref)))
		}
		if w := warningLines(string(out)); (w == "") != (warnings == "") {
			t.Errorf("warnings differ: engine %q, kconfig-conf %q", warnings, w)
		}
	}
	vals, err := ParseConfig(strings.NewReader(string(text)), goCfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(text), vals, warnings
}

func warningLines(out string) string {
	var w []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "warning") {
			w = append(w, l)
		}
	}
	return strings.Join(w, "\n")
}

// The whole tree parses, without a warning, and every option of the table
// exists with its default once its package is enabled.
func TestTreeDefaultsMatchTable(t *testing.T) {
	text, vals := conf(t, "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_VLLM=y\nBR2_PACKAGE_OLLAMA_GPU_SUPPORT=y\n"+
		"BR2_PACKAGE_CUBE_AGENT_BACKEND_CUSTOM=y\nBR2_PACKAGE_OLLAMA=y\n")
	for _, o := range options {
		t.Run(o.Symbol, func(t *testing.T) {
			switch o.Kind {
			case Choice:
				for _, m := range o.Members {
					if _, ok := vals[m.Symbol]; !ok {
						t.Fatalf("choice member %s missing from the .config", m.Symbol)
					}
				}
				if o.Symbol == ChoiceBackend {
					return // this run selects the custom backend; TestChoices covers the default
				}
				if got := o.Selected(vals.Get); got != o.Default {
					t.Errorf("default member = %q, table says %q", got, o.Default)
				}
			default:
				got, ok := vals[o.Symbol]
				if !ok && o.Default == "" && o.Kind == Bool {
					return // a bool left at n may be written as "is not set" or not at all
				}
				if !ok {
					t.Fatalf("%s missing from the .config", o.Symbol)
				}
				want := o.Default
				switch o.Symbol {
				case SymAgent, SymOllama, SymVLLM, SymOllamaGPU:
					want = "y" // enabled by this test's input
				}
				if got != want {
					t.Errorf("value = %q, table default %q", got, want)
				}
				line := o.Symbol + "="
				switch o.Kind {
				case String:
					line += Quote(got)
				default:
					line += got
				}
				if got != "" && !strings.Contains(text, "\n"+line+"\n") {
					t.Errorf("the .config does not hold %s as a %s (want the line %s)", o.Symbol, o.Kind, line)
				}
			}
		})
	}
}

var configRE = regexp.MustCompile(`^(?:config|menuconfig) (\w+)$`)
var typeRE = regexp.MustCompile(`^\t(bool|string|int|hex|tristate)(?: "(.*)")?$`)
var choicePromptRE = regexp.MustCompile(`^\tprompt "(.*)"$`)

// kconfigDecls reads the Config.in files of the Cube packages: the type and
// prompt of each symbol, and the prompt of each choice keyed by its first
// member.
func kconfigDecls(t *testing.T) (types, prompts, choices map[string]string) {
	types, prompts, choices = map[string]string{}, map[string]string{}, map[string]string{}
	for _, pkg := range []string{"cube-agent", "ollama", "vllm"} {
		f, err := os.Open(filepath.Join(externalDir(t), "package", pkg, "Config.in"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		cur, choicePrompt, inChoice := "", "", false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "choice":
				inChoice, choicePrompt = true, ""
			case line == "endchoice":
				inChoice = false
			case inChoice && choicePromptRE.MatchString(line) && cur == "":
				choicePrompt = choicePromptRE.FindStringSubmatch(line)[1]
			}
			if m := configRE.FindStringSubmatch(line); m != nil {
				cur = m[1]
				if inChoice && choicePrompt != "" {
					choices[cur], choicePrompt = choicePrompt, ""
				}
				continue
			}
			if m := typeRE.FindStringSubmatch(line); m != nil && cur != "" {
				types[cur], prompts[cur] = m[1], m[2]
				cur = ""
			}
		}
		f.Close()
	}
	return types, prompts, choices
}

// Every option of the table has the same type and prompt in the tree.
func TestTreeTypesAndPromptsMatchTable(t *testing.T) {
	types, prompts, choices := kconfigDecls(t)
	for _, o := range options {
		if o.Kind == Choice {
			if got := choices[o.Members[0].Symbol]; got != o.Label {
				t.Errorf("%s: choice prompt %q in the tree, %q in the table", o.Symbol, got, o.Label)
			}
			for _, m := range o.Members {
				if types[m.Symbol] != "bool" || prompts[m.Symbol] != m.Label {
					t.Errorf("%s: member %s is %s %q in the tree, bool %q in the table",
						o.Symbol, m.Symbol, types[m.Symbol], prompts[m.Symbol], m.Label)
				}
			}
			continue
		}
		if got := types[o.Symbol]; got != o.Kind.String() {
			t.Errorf("%s: type %q in the tree, %q in the table", o.Symbol, got, o.Kind)
		}
		if got := prompts[o.Symbol]; got != o.Label {
			t.Errorf("%s: prompt %q in the tree, %q in the table", o.Symbol, got, o.Label)
		}
	}
	// And the table misses no prompted option of the tree.
	for sym, p := range prompts {
		if p == "" {
			continue
		}
		if _, ok := Lookup(sym); !ok {
			t.Errorf("%s (%q) is in the tree but not in the option table", sym, p)
		}
	}
}

// The choices select what they should, and the derived log level follows.
func TestChoices(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		want  map[string]string
	}{
		{"default backend is Ollama", "BR2_PACKAGE_CUBE_AGENT=y\n", map[string]string{
			SymBackendOllama: "y", SymOllama: "y", SymOllamaModels: "y", SymVLLM: "",
			SymLogInfo: "y", SymLogLevel: "info",
		}},
		{"vLLM backend selects vllm and python", "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM=y\n", map[string]string{
			SymBackendVLLM: "y", SymVLLM: "y", SymOllama: "", "BR2_PACKAGE_PYTHON3": "y",
			"BR2_PACKAGE_PYTHON_PIP": "y", "BR2_PACKAGE_PYTHON3_SSL": "y",
		}},
		{"custom backend installs nothing", "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_BACKEND_CUSTOM=y\nBR2_PACKAGE_CUBE_AGENT_TARGET_URL=\"http://10.0.2.2:8000\"\n", map[string]string{
			SymBackendCustom: "y", SymOllama: "", SymVLLM: "", SymTargetURL: "http://10.0.2.2:8000",
		}},
		{"debug log level", "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_DEBUG=y\n", map[string]string{
			SymLogDebug: "y", SymLogInfo: "", SymLogLevel: "debug"}},
		{"warn log level", "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_WARN=y\n", map[string]string{
			SymLogWarn: "y", SymLogLevel: "warn"}},
		{"error log level", "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_ERROR=y\n", map[string]string{
			SymLogError: "y", SymLogLevel: "error"}},
		{"an old free-form log level is ignored", "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_LOG_LEVEL=\"debug\"\n", map[string]string{
			SymLogInfo: "y", SymLogLevel: "info"}},
		{"NVIDIA GPU by default, with its driver", "BR2_PACKAGE_OLLAMA=y\nBR2_PACKAGE_OLLAMA_GPU_SUPPORT=y\n", map[string]string{
			SymOllamaGPUNvidia: "y", "BR2_PACKAGE_NVIDIA_DRIVER": "y"}},
		{"AMD GPU needs no NVIDIA driver", "BR2_PACKAGE_OLLAMA=y\nBR2_PACKAGE_OLLAMA_GPU_SUPPORT=y\nBR2_PACKAGE_OLLAMA_GPU_AMD=y\n", map[string]string{
			SymOllamaGPUAMD: "y", SymOllamaGPUNvidia: "", "BR2_PACKAGE_NVIDIA_DRIVER": ""}},
		{"without glibc only the custom backend is left", "BR2_PACKAGE_CUBE_AGENT=y\n# BR2_TOOLCHAIN_USES_GLIBC is not set\n", map[string]string{
			SymBackendCustom: "y", SymBackendOllama: "", SymOllama: "", SymVLLM: ""}},
		{"no Go, no agent", "BR2_PACKAGE_CUBE_AGENT=y\n# BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS is not set\n", map[string]string{
			SymAgent: "", SymPort: ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, vals := conf(t, tc.input)
			for sym, want := range tc.want {
				if got := vals[sym]; got != want {
					t.Errorf("%s = %q, want %q", sym, got, want)
				}
			}
		})
	}
}

// When a dependency is missing, the tree says so in a comment, as Buildroot
// packages do.
func TestMissingDependencyComments(t *testing.T) {
	for _, tc := range []struct{ input, comment string }{
		{"BR2_PACKAGE_CUBE_AGENT=y\n# BR2_TOOLCHAIN_HAS_THREADS is not set\n", "# cube-agent needs a toolchain w/ threads"},
		{"# BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS is not set\n", "# cube-agent needs a target architecture supported by Go"},
		{"# BR2_INSTALL_LIBSTDCPP is not set\n", "# ollama needs a glibc toolchain w/ C++, threads, dynamic library"},
		{"BR2_STATIC_LIBS=y\n", "# vllm needs a glibc toolchain w/ wchar, threads, dynamic library"},
		{"BR2_PACKAGE_CUBE_AGENT=y\n# BR2_TOOLCHAIN_USES_GLIBC is not set\n", "# Ollama needs x86_64 or aarch64 and a glibc toolchain w/ C++, threads, dynamic library"},
		{"BR2_PACKAGE_OLLAMA=y\n# BR2_x86_64 is not set\nBR2_aarch64=y\n", "# ollama GPU support is only available on x86_64"},
	} {
		text, _ := conf(t, tc.input)
		if !strings.Contains(text, "\n"+tc.comment+"\n") {
			t.Errorf("input %q: no comment %q in\n%s", tc.input, tc.comment, text)
		}
	}
	// And none of them with everything present.
	text, _ := conf(t, "BR2_PACKAGE_CUBE_AGENT=y\n")
	if strings.Contains(text, " needs ") {
		t.Errorf("a 'needs' comment with every dependency present:\n%s", text)
	}
}

// The upstream Cube defconfig's Cube lines still load: the symbols it sets
// keep their names (the free-form log level and the string port excepted,
// which fall back to their defaults).
func TestUpstreamDefconfigLoads(t *testing.T) {
	up := filepath.Join(testenv.SharedDir(t), "testvectors", "kconfig", "upstream-cube-external", "configs", "cube_defconfig")
	data, err := os.ReadFile(up)
	if err != nil {
		testenv.Missing(t, "%s: %v", up, err)
	}
	var cube []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "BR2_PACKAGE_CUBE_AGENT") || strings.HasPrefix(l, "BR2_PACKAGE_OLLAMA") {
			cube = append(cube, l)
		}
	}
	_, vals, warnings := confWarnings(t, strings.Join(cube, "\n")+"\n")
	// Upstream wrote the port as a string; Kconfig says so and keeps the
	// default, which is the value upstream used.
	if warnings != "" && !strings.Contains(warnings, "invalid for "+SymPort) {
		t.Errorf("unexpected warnings:\n%s", warnings)
	}
	for sym, want := range map[string]string{
		SymAgent: "y", SymInstanceID: "cube-agent-01", SymHost: "0.0.0.0", SymPort: "7001",
		SymBackendOllama: "y", SymOllama: "y", SymOllamaModels: "y", SymLogLevel: "info",
	} {
		if got := vals[sym]; got != want {
			t.Errorf("%s = %q, want %q", sym, got, want)
		}
	}
}

// The table follows the tree: the options of each package's Config.in
// come in the file's order, and each cube-agent option is in the group
// whose comment ("Agent", "LLM backend", "Certificates and TLS") heads it
// in the menu, so the Cube view and the full menu show the same grouping.
func TestTableOrderAndGroupsFollowTree(t *testing.T) {
	commentRE := regexp.MustCompile(`^comment "(.*)"$`)
	groups := map[string]bool{string(GroupAgent): true, string(GroupLLM): true, string(GroupTLS): true}
	type place struct {
		pkg   string
		index int
		group string // the group comment above it ("" before the first)
	}
	at := map[string]place{}
	for _, pkg := range []string{"cube-agent", "ollama", "vllm"} {
		data, err := os.ReadFile(filepath.Join(externalDir(t), "package", pkg, "Config.in"))
		if err != nil {
			t.Fatal(err)
		}
		group := ""
		for i, line := range strings.Split(string(data), "\n") {
			if m := commentRE.FindStringSubmatch(line); m != nil && groups[m[1]] {
				group = m[1]
			}
			if m := configRE.FindStringSubmatch(line); m != nil {
				at[m[1]] = place{pkg, i, group}
			}
		}
	}
	last := map[string]place{}
	var lastSym = map[string]string{}
	for _, o := range options {
		sym := o.Symbol
		if o.Kind == Choice {
			sym = o.Members[0].Symbol
		}
		p, ok := at[sym]
		if !ok {
			t.Errorf("%s is not declared in the tree", sym)
			continue
		}
		if prev, ok := last[p.pkg]; ok && prev.index > p.index {
			t.Errorf("%s comes after %s in the table but before it in package/%s/Config.in", o.Symbol, lastSym[p.pkg], p.pkg)
		}
		last[p.pkg], lastSym[p.pkg] = p, o.Symbol
		if p.pkg == "cube-agent" && p.group != "" && p.group != string(o.Group) {
			t.Errorf("%s (%s) is in group %q in the table, under the comment %q in the tree", o.Symbol, o.Label, o.Group, p.group)
		}
	}
	// The CVM ID names the VM, as the instance ID names the agent: both are
	// in the Agent group.
	if o, _ := Lookup(SymCVMID); o.Group != GroupAgent {
		t.Errorf("CVM ID is in group %q, want %q", o.Group, GroupAgent)
	}
}
