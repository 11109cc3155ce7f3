package tui

import (
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// The adapter reports the engine's state in the screen's terms.
func TestKconfigEngineEntries(t *testing.T) {
	eng, _ := openTestTree(t)
	port := eng.Entry(eng.Lookup(cubecfg.SymPort))
	if port.Kind != NodeSymbol || port.Type != TypeInt || port.Value != "7001" || port.Default != "7001" ||
		!port.Visible || !port.Changeable || port.Forced || port.Prompt != "Agent Port" {
		t.Errorf("port: %+v", port)
	}
	ollama := eng.Entry(eng.Lookup(cubecfg.SymOllama))
	if !ollama.Forced || ollama.Changeable || ollama.Value != "y" {
		t.Errorf("ollama (selected by the backend choice): %+v", ollama)
	}
	choice := eng.Parent(eng.Lookup(cubecfg.SymLogInfo))
	if c := eng.Entry(choice); c.Kind != NodeChoice || c.Value != cubecfg.SymLogInfo || c.Default != cubecfg.SymLogInfo {
		t.Errorf("log level choice: %+v", c)
	}
	if m := eng.Entry(eng.Lookup(cubecfg.SymLogInfo)); !m.Member || m.Value != "y" || m.Default != "y" {
		t.Errorf("info member: %+v", m)
	}
	if v := eng.Entry(eng.Lookup(cubecfg.SymVLLM)); v.Visible || eng.WhyHidden(eng.Lookup(cubecfg.SymVLLM)) == "" {
		t.Errorf("vllm should be hidden with a reason: %+v", v)
	}
	if got := eng.Value(cubecfg.SymVLLM); got != "" {
		t.Errorf("Value of an n bool = %q, want \"\"", got)
	}
	// Prompt-less if blocks are flattened: no child is a grouping.
	for _, c := range eng.Children(eng.Root()) {
		if e := eng.Entry(c); e.Kind == NodeMenu && e.Prompt == "" {
			t.Errorf("a prompt-less grouping is listed")
		}
	}
}

// Changes fold what each Set reports: a value set back is no change.
func TestKconfigEngineChanges(t *testing.T) {
	eng, _ := openTestTree(t)
	if _, err := eng.Set(cubecfg.SymLogWarn, "y"); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range eng.Changes() {
		got[c.Symbol] = c.Old + "->" + c.New
	}
	if got[cubecfg.SymLogWarn] != "n->y" || got[cubecfg.SymLogInfo] != "y->n" || got[cubecfg.SymLogLevel] != "info->warn" {
		t.Fatalf("changes: %v", got)
	}
	if _, err := eng.Set(cubecfg.SymLogInfo, "y"); err != nil {
		t.Fatal(err)
	}
	if c := eng.Changes(); len(c) != 0 {
		t.Fatalf("changes after setting it back: %v", c)
	}
	// Turning openssl on writes its entries' options to .config as "is
	// not set": their value does not change, so they are not reported.
	changes, err := eng.Set("BR2_PACKAGE_OPENSSL", "y")
	if err != nil {
		t.Fatal(err)
	}
	var reported []string
	for _, c := range changes {
		reported = append(reported, c.Symbol+":"+c.Old+"->"+c.New)
	}
	if got := strings.Join(reported, " "); got != "BR2_PACKAGE_OPENSSL:n->y BR2_PACKAGE_LIBOPENSSL:n->y" {
		t.Fatalf("Set reports %s", got)
	}
	if n := len(eng.Changes()); n != 2 {
		t.Fatalf("%d pending changes, want 2: %v", n, eng.Changes())
	}
	if _, err := eng.Set(cubecfg.SymPort, "7002"); err != nil {
		t.Fatal(err)
	}
	eng.MarkSaved()
	if c := eng.Changes(); len(c) != 0 {
		t.Fatalf("changes after a save: %v", c)
	}
}

// A refused value is explained without being repeated (it may be secret),
// and Check says the same without setting anything.
func TestKconfigEngineRefusals(t *testing.T) {
	eng, _ := openTestTree(t)
	if _, err := eng.Set(cubecfg.SymAgent, "n"); err != nil {
		t.Fatal(err)
	}
	_, err := eng.Set(cubecfg.SymCertsToken, "s3cret-value")
	if err == nil || strings.Contains(err.Error(), "s3cret-value") || !strings.Contains(err.Error(), "hidden") {
		t.Fatalf("Set on a hidden secret: %v", err)
	}
	if err := eng.Check(cubecfg.SymPort, "70000"); err == nil {
		t.Fatal("Check took a hidden symbol's value")
	}
	if _, err := eng.Set(cubecfg.SymAgent, "y"); err != nil {
		t.Fatal(err)
	}
	if err := eng.Check(cubecfg.SymPort, "70000"); err == nil || !strings.Contains(err.Error(), "range") {
		t.Fatalf("Check of an out-of-range port: %v", err)
	}
	if err := eng.Check(cubecfg.SymPort, "7002"); err != nil {
		t.Fatal(err)
	}
	if eng.Value(cubecfg.SymPort) != "7001" {
		t.Fatal("Check set the value")
	}
}
