package kconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

func cubeExternal(t testing.TB) string {
	t.Helper()
	return filepath.Join(testenv.SharedDir(t), "testvectors", "kconfig", "upstream-cube-external")
}

// loadCube loads the upstream Cube tree standalone with its cube_defconfig.
func loadCube(t testing.TB) *Kconfig {
	t.Helper()
	ext := cubeExternal(t)
	k, err := LoadStandalone(ext, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ReadDefconfig(filepath.Join(ext, "configs", "cube_defconfig")); err != nil {
		t.Fatal(err)
	}
	return k
}

func loadText(t testing.TB, text string) *Kconfig {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Kconfig": text})
	k, err := Load("Kconfig", Options{Dir: dir, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestStandaloneLoad(t *testing.T) {
	k := loadCube(t)
	if got := k.Title(); got != "Cube HAL standalone configuration (no Buildroot tree)" {
		t.Errorf("title %q", got)
	}
	for name, want := range map[string]string{
		"BR2_PACKAGE_CUBE_AGENT": "y", "PACKAGE_CUBE_AGENT_PORT": "7001", "BR2_PACKAGE_OLLAMA": "y",
		"BR2_PACKAGE_VLLM": "n", "BR2_TOOLCHAIN_HAS_THREADS": "y", "BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA": "y",
	} {
		s := k.Find(name)
		if s == nil {
			t.Fatalf("%s not defined", name)
		}
		if got := s.Value(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !k.Find("BR2_TOOLCHAIN_HAS_THREADS").StandIn() || k.Find("BR2_PACKAGE_OLLAMA").StandIn() {
		t.Error("stand-ins are not reported right")
	}
	if !k.Find("BR2_PACKAGE_OLLAMA").InDir(k.ExternalDir()) || k.Find("BR2_STATIC_LIBS").InDir(k.ExternalDir()) {
		t.Error("InDir does not tell Cube symbols from Buildroot ones")
	}
}

func TestSetReportsChanges(t *testing.T) {
	k := loadCube(t)
	ch, err := k.Set("BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM", "y")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ch {
		got = append(got, c.String())
	}
	want := []string{
		"BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM: n -> y",
		"BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA: y -> n",
		"BR2_PACKAGE_VLLM: (absent) -> y",
		"BR2_PACKAGE_VLLM_MODEL: (absent) -> microsoft/DialoGPT-medium",
		"BR2_PACKAGE_VLLM_GPU_MEMORY: (absent) -> 0.85",
		"BR2_PACKAGE_VLLM_MAX_MODEL_LEN: (absent) -> 1024",
		"BR2_PACKAGE_VLLM_CUSTOM_MODEL_PATH: (absent) -> ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !k.Dirty() {
		t.Error("not dirty after Set")
	}
	// ollama stays: the defconfig enabled it explicitly
	if v := k.Find("BR2_PACKAGE_OLLAMA").Value(); v != "y" {
		t.Errorf("BR2_PACKAGE_OLLAMA = %s", v)
	}
}

func TestSetRefusals(t *testing.T) {
	k := loadCube(t)
	tests := []struct{ name, value, reason string }{
		{"BR2_PACKAGE_VLLM", "y", "it is hidden: BR2_PACKAGE_PYTHON3 [=n] is n, BR2_PACKAGE_PYTHON_PYTORCH [=n] is n"},
		{"BR2_PACKAGE_OLLAMA", "n", "it is forced to y by select from BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA && <choice>"},
		{"BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA", "n", "a choice member can only be set to y"},
		{"BR2_PACKAGE_CUBE_AGENT", "maybe", "a bool takes y or n"},
	}
	for _, tc := range tests {
		_, err := k.Set(tc.name, tc.value)
		se, ok := err.(*SetError)
		if !ok {
			t.Errorf("Set(%s=%s) = %v, want a *SetError", tc.name, tc.value, err)
			continue
		}
		if !strings.Contains(se.Reason, tc.reason) {
			t.Errorf("Set(%s=%s): reason %q, want %q", tc.name, tc.value, se.Reason, tc.reason)
		}
	}
	if _, err := k.Set("NO_SUCH_THING", "y"); err == nil || !strings.Contains(err.Error(), "unknown symbol") {
		t.Errorf("unknown symbol: %v", err)
	}
	r := loadText(t, "config I\n\tint \"i\"\n\trange 1 10\nconfig H\n\thex \"h\"\n")
	for _, tc := range []struct{ name, value, reason string }{
		{"I", "11", "out of range [1, 10]"}, {"I", "x", "not a decimal integer"}, {"H", "0xzz", "not a hexadecimal number"},
	} {
		if _, err := r.Set(tc.name, tc.value); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("Set(%s=%s) = %v, want %q", tc.name, tc.value, err, tc.reason)
		}
	}
	if _, err := r.Set("H", "ff"); err != nil || r.Lookup("H").Value() != "0xff" {
		t.Errorf("hex without 0x: %v, value %s", err, r.Lookup("H").Value())
	}
}

func TestExplain(t *testing.T) {
	k := loadCube(t)
	k.Set("BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM", "y")
	e := k.Explain(k.Find("BR2_PACKAGE_VLLM"))
	if e.Value != "y" || e.Visibility != No || !e.UnmetDependencies {
		t.Errorf("explanation %+v", e)
	}
	if len(e.HiddenBy) != 2 || e.HiddenBy[0].Expr != "BR2_PACKAGE_PYTHON3" || e.HiddenBy[0].Value != No {
		t.Errorf("HiddenBy %+v", e.HiddenBy)
	}
	var sel []string
	for _, s := range e.SelectedBy {
		if s.Value != No {
			sel = append(sel, s.Detail)
		}
	}
	if len(sel) != 1 || !strings.HasPrefix(sel[0], "BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM [=y]") {
		t.Errorf("SelectedBy %+v", e.SelectedBy)
	}
	if !strings.HasSuffix(e.SelectedBy[0].Where.File, "package/cube-agent/Config.in") || e.SelectedBy[0].Where.Line != 50 {
		t.Errorf("select location %+v", e.SelectedBy[0].Where)
	}
	text := e.Text()
	for _, want := range []string{"It is hidden because these dependencies are not met:", "BR2_PACKAGE_PYTHON3 [=n] is n",
		"It is forced on by select from:", "selected although its own dependencies are not met", "package/vllm/Config.in:1"} {
		if !strings.Contains(text, want) {
			t.Errorf("Text() lacks %q:\n%s", want, text)
		}
	}
	d := k.Explain(k.Find("BR2_PACKAGE_CUBE_AGENT_PORT"))
	if d.Default == nil || d.Default.Value != "\"7001\"" || d.DependsOn[0].Expr != "BR2_PACKAGE_CUBE_AGENT" {
		t.Errorf("default/deps %+v %+v", d.Default, d.DependsOn)
	}
	o := k.Explain(k.Find("BR2_PACKAGE_OLLAMA"))
	if len(o.Selects) != 1 || o.Selects[0].Target != "BR2_INSTALL_LIBSTDCPP" || !o.Selects[0].Active {
		t.Errorf("Selects %+v", o.Selects)
	}
	m := k.Explain(k.Find("BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA"))
	if m.Choice != "LLM Backend" || m.ChoiceSelection != "BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM" {
		t.Errorf("choice %q %q", m.Choice, m.ChoiceSelection)
	}
}

func TestSearch(t *testing.T) {
	k := loadCube(t)
	names := func(q string) []string {
		var out []string
		for _, r := range k.Search(q) {
			if r.Symbol != nil {
				out = append(out, r.Symbol.Name())
			} else {
				out = append(out, "menu:"+r.Menu.Prompt())
			}
		}
		return out
	}
	if got := names("PACKAGE_OLLAMA"); len(got) == 0 || got[0] != "BR2_PACKAGE_OLLAMA" {
		t.Errorf("exact name without BR2_ not first: %v", got)
	}
	if got := names("br2_package_vllm"); got[0] != "BR2_PACKAGE_VLLM" {
		t.Errorf("exact name with BR2_ not first: %v", got)
	}
	got := names("ollama gpu")
	if len(got) != 3 || got[0] != "BR2_PACKAGE_OLLAMA_GPU_AMD" {
		t.Errorf("all terms must match: %v", got)
	}
	if got := names("rocm"); !reflect.DeepEqual(got, []string{"BR2_PACKAGE_OLLAMA_GPU_AMD"}) {
		t.Errorf("prompt search: %v", got)
	}
	if got := names("huggingface"); len(got) != 2 {
		t.Errorf("help search: %v", got)
	}
	if got := names("cube ai"); len(got) == 0 || got[0] != "menu:Cube AI Services" {
		t.Errorf("menu search: %v", got)
	}
	if got := names("   "); got != nil {
		t.Errorf("empty query: %v", got)
	}
	if got := names("agent port"); got[0] != "BR2_PACKAGE_CUBE_AGENT_PORT" {
		t.Errorf("ranking: %v", got)
	}
}

func TestDiff(t *testing.T) {
	k := loadCube(t)
	before := k.Values()
	k.Set("BR2_PACKAGE_CUBE_AGENT_PORT", "7002")
	k.Set("BR2_PACKAGE_OLLAMA_GPU_SUPPORT", "y")
	after := k.Values()
	var got []string
	for _, d := range k.Diff(before, after) {
		got = append(got, d.Name+"|"+d.Prompt+"|"+d.Old+"|"+d.New)
	}
	want := []string{
		"BR2_PACKAGE_CUBE_AGENT_PORT|Agent Port|7001|7002",
		"BR2_PACKAGE_OLLAMA_GPU_SUPPORT|Enable GPU support|n|y",
		"BR2_PACKAGE_OLLAMA_GPU_NVIDIA|NVIDIA GPU||y",
		"BR2_PACKAGE_OLLAMA_GPU_AMD|AMD GPU (ROCm)||n",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	parsed := ParseConfig([]byte("A=y\n# B is not set\nS=\"q\\\"x\"\n# C=y\n#D is not set\n"), "")
	if !reflect.DeepEqual(parsed, map[string]string{"A": "y", "B": "n", "S": "q\"x"}) {
		t.Errorf("ParseConfig: %v", parsed)
	}
}

func TestUpdateDefconfigInPlace(t *testing.T) {
	ext := cubeExternal(t)
	orig, err := os.ReadFile(filepath.Join(ext, "configs", "cube_defconfig"))
	if err != nil {
		t.Fatal(err)
	}
	k := loadCube(t)
	cube := func(s *Symbol) bool { return s.InDir(k.ExternalDir()) }
	same, err := k.UpdateDefconfigText(orig, cube)
	if err != nil || string(same) != string(orig) {
		t.Fatalf("unchanged configuration rewrote the defconfig:\n%s", firstDiff(string(orig), string(same)))
	}
	k.Set("BR2_PACKAGE_CUBE_AGENT_PORT", "7002")
	k.Set("BR2_PACKAGE_CUBE_AGENT_BACKEND_CUSTOM", "y")
	k.Set("BR2_PACKAGE_CUBE_AGENT_TARGET_URL", "http://10.0.0.1:8000")
	k.Set("BR2_PACKAGE_OLLAMA_GPU_SUPPORT", "y")
	k.Set("BR2_PACKAGE_OLLAMA_GPU_AMD", "y")
	out, err := k.UpdateDefconfigText(orig, cube)
	if err != nil {
		t.Fatal(err)
	}
	// Only Cube symbol lines change; every other line stays.
	ol, nl := strings.Split(string(orig), "\n"), strings.Split(string(out), "\n")
	changed := map[string]bool{}
	for _, l := range nl {
		changed[l] = true
	}
	for _, l := range ol {
		if !changed[l] {
			name, _, ok := assignment(l, "")
			if !ok || k.Lookup(name) == nil || !cube(k.Lookup(name)) {
				t.Errorf("line %q was lost", l)
			}
		}
	}
	for _, want := range []string{"BR2_PACKAGE_CUBE_AGENT_PORT=\"7002\"", "# BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA is not set",
		"BR2_PACKAGE_CUBE_AGENT_BACKEND_CUSTOM=y", "BR2_PACKAGE_CUBE_AGENT_TARGET_URL=\"http://10.0.0.1:8000\"",
		"BR2_PACKAGE_OLLAMA_GPU_SUPPORT=y", "BR2_PACKAGE_OLLAMA_GPU_AMD=y"} {
		if !changed[want] {
			t.Errorf("updated defconfig lacks %q", want)
		}
	}
	if len(nl) != len(ol)+1 {
		t.Errorf("%d lines, want %d (one new line, for the URL)", len(nl), len(ol)+1)
	}
	// Reading the edited file back gives the same configuration.
	path := filepath.Join(t.TempDir(), "cube_defconfig")
	os.WriteFile(path, out, 0o644)
	k2, _ := LoadStandalone(ext, Options{})
	if err := k2.ReadDefconfig(path); err != nil {
		t.Fatal(err)
	}
	if d := k.Diff(k.Values(), k2.Values()); len(d) != 0 {
		t.Errorf("re-read differs: %+v", d)
	}
	// In place, atomically.
	os.WriteFile(path, orig, 0o644)
	if ch, err := k.UpdateDefconfigFile(path, cube); err != nil || !ch {
		t.Fatalf("UpdateDefconfigFile: %v %v", ch, err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(out) {
		t.Error("file content differs from UpdateDefconfigText")
	}
}

func TestMenuTree(t *testing.T) {
	k := loadCube(t)
	root := k.Root()
	if root.Kind() != KindRoot || !root.Visible() {
		t.Fatal("root")
	}
	var cube *Menu
	var walk func(m *Menu)
	walk = func(m *Menu) {
		for _, c := range m.Children() {
			if c.Kind() == KindMenu && c.Prompt() == "Cube AI Services" {
				cube = c
			}
			walk(c)
		}
	}
	walk(root)
	if cube == nil {
		t.Fatal("no Cube AI Services menu")
	}
	kids := cube.Children()
	agent := kids[0]
	if agent.Kind() != KindSymbol || agent.Symbol().Name() != "BR2_PACKAGE_CUBE_AGENT" || agent.Prompt() != "cube-agent" {
		t.Fatalf("first child %v %q", agent.Kind(), agent.Prompt())
	}
	// the if block became an automatic submenu of the agent
	sub := agent.Children()
	if len(sub) == 0 || sub[0].Symbol().Name() != "BR2_PACKAGE_CUBE_AGENT_INSTANCE_ID" || sub[0].Parent() != agent {
		t.Fatalf("submenu of cube-agent: %d children", len(sub))
	}
	var choice *Menu
	for _, c := range sub {
		if c.Kind() == KindChoice {
			choice = c
		}
	}
	if choice == nil || choice.Prompt() != "LLM Backend" || len(choice.Children()) != 3 || !choice.Symbol().IsChoice() {
		t.Fatal("LLM Backend choice")
	}
	if sel := choice.Symbol().Selection(); sel == nil || sel.Name() != "BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA" {
		t.Errorf("choice selection %v", sel)
	}
	loc := agent.Location()
	if !strings.HasSuffix(loc.File, "package/cube-agent/Config.in") || loc.Line != 1 || len(loc.SourcedFrom) != 2 ||
		loc.SourcedFrom[0].Line != 2 || loc.SourcedFrom[1].File != standaloneTop {
		t.Errorf("location %+v", loc)
	}
	if !strings.Contains(agent.Help(), "Ultraviolet Cube Agent") {
		t.Errorf("help %q", agent.Help())
	}
	vllm := k.Find("BR2_PACKAGE_VLLM").Menus()[0]
	if vllm.Visible() || len(vllm.HiddenBy()) != 2 {
		t.Errorf("vllm visible %v, hidden by %v", vllm.Visible(), vllm.HiddenBy())
	}
	port := k.Find("BR2_PACKAGE_CUBE_AGENT_PORT")
	if port.Type() != TypeString || port.Default() != "7001" || !port.Changeable() {
		t.Errorf("port %v %q", port.Type(), port.Default())
	}
	if v, ok := port.UserValue(); !ok || v != "7001" {
		t.Errorf("user value %q %v", v, ok)
	}
	gpu := k.Find("BR2_PACKAGE_OLLAMA_GPU_SUPPORT")
	if got := gpu.Assignable(); !reflect.DeepEqual(got, []Tristate{No, Yes}) {
		t.Errorf("assignable %v", got)
	}
}

func TestWriteConfigTwice(t *testing.T) {
	// The API may render several times; each render must be complete.
	k := loadCube(t)
	a := k.ConfigText()
	b := k.ConfigText()
	d := k.DefconfigText()
	c := k.ConfigText()
	if string(a) != string(b) || string(b) != string(c) || len(d) == 0 {
		t.Error("renders differ")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".config")
	if err := k.WriteConfig(cfg); err != nil {
		t.Fatal(err)
	}
	k.Set("BR2_PACKAGE_CUBE_AGENT_PORT", "1")
	if err := k.WriteConfig(cfg); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(cfg + ".old")
	now, _ := os.ReadFile(cfg)
	if string(old) != string(a) || !strings.Contains(string(now), "BR2_PACKAGE_CUBE_AGENT_PORT=\"1\"") {
		t.Error(".config.old is not the previous file")
	}
	if k.Dirty() {
		t.Error("dirty after WriteConfig")
	}
}
