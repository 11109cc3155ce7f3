package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// Benchmarks of what a user feels (goals from issue 8): start to first
// frame <= 250 ms, a keystroke's Update+View <= 16 ms (one frame at 60
// Hz), a search <= 5 ms. On a generated 10k-symbol tree always, and on
// Buildroot's own tree with the Cube external when BUILDROOT_DIR is set.

// generatedTree writes a Kconfig tree of about n symbols: menus of
// packages, each with dependent string, int (with a range) and bool
// options, choices, selects and help, in the proportions of Buildroot's
// tree; plus the Cube external tree sourced at the end, over stand-ins
// for the Buildroot symbols it uses. It returns the top file and the
// environment the tree reads.
func generatedTree(tb testing.TB, n int) (string, map[string]string) {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	b.WriteString("mainmenu \"Generated $GEN_VERSION Configuration\"\n\n")
	b.WriteString("config GEN_VERSION\n\tstring\n\toption env=\"GEN_VERSION\"\n\n")
	b.WriteString("config BR2_EXTERNAL_CUBE_PATH\n\tstring\n\toption env=\"BR2_EXTERNAL_CUBE_PATH\"\n\n")
	b.WriteString("menu \"Toolchain\"\n")
	for _, s := range []string{"BR2_x86_64", "BR2_TOOLCHAIN_HAS_THREADS", "BR2_TOOLCHAIN_USES_GLIBC", "BR2_INSTALL_LIBSTDCPP",
		"BR2_USE_MMU", "BR2_USE_WCHAR", "BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS"} {
		fmt.Fprintf(&b, "config %s\n\tbool \"%s\"\n\tdefault y\n\n", s, s)
	}
	for _, s := range []string{"BR2_aarch64", "BR2_STATIC_LIBS", "BR2_PACKAGE_HOST_GO", "BR2_PACKAGE_CA_CERTIFICATES",
		"BR2_PACKAGE_NVIDIA_DRIVER", "BR2_PACKAGE_PYTHON3", "BR2_PACKAGE_PYTHON3_PYEXPAT", "BR2_PACKAGE_PYTHON3_SQLITE",
		"BR2_PACKAGE_PYTHON3_SSL", "BR2_PACKAGE_PYTHON3_ZLIB", "BR2_PACKAGE_PYTHON_PIP"} {
		fmt.Fprintf(&b, "config %s\n\tbool\n\n", s)
	}
	b.WriteString("endmenu\n\nmenu \"Target packages\"\n\n")
	const perMenu = 250
	menus := n / perMenu
	for m := 0; m < menus; m++ {
		fmt.Fprintf(&b, "menu \"Package group %d\"\n\n", m)
		for p := 0; p < perMenu/5; p++ {
			pkg := fmt.Sprintf("BR2_PACKAGE_GEN_%d_%d", m, p)
			fmt.Fprintf(&b, "config %s\n\tbool \"gen-%d-%d\"\n\tdepends on BR2_USE_MMU\n", pkg, m, p)
			if p > 0 {
				fmt.Fprintf(&b, "\tselect BR2_PACKAGE_GEN_%d_%d_LIB\n", m, p-1)
			}
			fmt.Fprintf(&b, "\thelp\n\t  Package %d of group %d: a generated package with\n\t  a few options of every type.\n\n", p, m)
			fmt.Fprintf(&b, "if %s\n\n", pkg)
			fmt.Fprintf(&b, "config %s_NAME\n\tstring \"Name of gen-%d-%d\"\n\tdefault \"gen%d\"\n\n", pkg, m, p, p)
			fmt.Fprintf(&b, "config %s_PORT\n\tint \"Port of gen-%d-%d\"\n\tdefault %d\n\trange 1 65535\n\n", pkg, m, p, 1000+p)
			fmt.Fprintf(&b, "config %s_LIB\n\tbool \"Library of gen-%d-%d\"\n\n", pkg, m, p)
			if p%10 == 0 {
				fmt.Fprintf(&b, "choice\n\tprompt \"Flavour of gen-%d-%d\"\n\tdefault %s_A\n\n", m, p, pkg)
				fmt.Fprintf(&b, "config %s_A\n\tbool \"flavour A\"\n\nconfig %s_B\n\tbool \"flavour B\"\n\nendchoice\n\n", pkg, pkg)
			} else {
				fmt.Fprintf(&b, "config %s_DEBUG\n\tbool \"Debug build of gen-%d-%d\"\n\n", pkg, m, p)
			}
			b.WriteString("endif\n\n")
			fmt.Fprintf(&b, "comment \"gen-%d-%d needs a toolchain w/ threads\"\n\tdepends on !BR2_TOOLCHAIN_HAS_THREADS\n\n", m, p)
		}
		b.WriteString("endmenu\n\n")
	}
	b.WriteString("endmenu\n\nmenu \"External options\"\nsource \"$BR2_EXTERNAL_CUBE_PATH/Config.in\"\nendmenu\n")
	top := filepath.Join(dir, "Config.in")
	if err := os.WriteFile(top, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{"GEN_VERSION": "1.0", "BR2_EXTERNAL_CUBE_PATH": filepath.Join(testenv.RepoRoot(tb), "buildroot")}
	return top, env
}

// openTree loads a tree and the Cube defconfig into an Engine.
func openTree(tb testing.TB, top, dir string, env map[string]string) Engine {
	tb.Helper()
	k, err := kconfig.Load(top, kconfig.Options{Dir: dir, Quiet: true, LookupEnv: func(s string) (string, bool) {
		v, ok := env[s]
		return v, ok
	}})
	if err != nil {
		tb.Fatal(err)
	}
	def := filepath.Join(testenv.RepoRoot(tb), "buildroot", "configs", "cube_defconfig")
	if err := k.ReadDefconfig(def); err != nil {
		tb.Fatal(err)
	}
	out := tb.TempDir()
	return NewKconfigEngine(k, KconfigFiles{Source: def, ConfigPath: filepath.Join(out, ".config"), DefconfigPath: filepath.Join(out, "defconfig")})
}

// buildrootWorkspace is a workspace on the Buildroot checkout with the
// repository's Cube external and an empty output directory (so the Cube
// defconfig is read), or skips without a checkout.
func buildrootWorkspace(tb testing.TB, out string) *workspace.Workspace {
	tb.Helper()
	br := testenv.BuildrootDir(tb)
	ws, err := workspace.Resolve(workspace.Options{Buildroot: br, Output: out,
		External: filepath.Join(testenv.RepoRoot(tb), "buildroot"), Overlay: tb.TempDir(), StateDir: tb.TempDir(),
		CacheDir: tb.TempDir(), Getenv: func(string) string { return "" }})
	if err != nil {
		tb.Fatal(err)
	}
	return ws
}

type benchTree struct {
	name string
	load func(testing.TB) Engine
}

func benchTrees(b *testing.B) []benchTree {
	trees := []benchTree{{"generated10k", func(tb testing.TB) Engine {
		top, env := generatedTree(tb, 10000)
		return openTree(tb, top, filepath.Dir(top), env)
	}}}
	if os.Getenv("BUILDROOT_DIR") != "" {
		trees = append(trees, benchTree{"buildroot", func(tb testing.TB) Engine {
			eng, err := OpenWorkspace(buildrootWorkspace(tb, tb.TempDir()))
			if err != nil {
				tb.Fatal(err)
			}
			return eng
		}})
	}
	return trees
}

// loadedApp is an app at 120x40 with eng loaded.
func loadedApp(eng Engine) *App {
	a := New(Options{Open: func() (Engine, error) { return eng, nil }, OverlayDir: os.TempDir()})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	a.Update(loadedMsg{eng: eng})
	return a
}

// From nothing to the first full frame of the Cube view: load and
// evaluate the tree, read the defconfig, build the app, draw. For
// Buildroot this includes preparing the tree as make would (brenv), as
// cube-hal does at every start.
func BenchmarkStartToFirstFrame(b *testing.B) {
	for _, tr := range benchTrees(b) {
		b.Run(tr.name, func(b *testing.B) {
			var open func() Engine
			if tr.name == "buildroot" {
				ws := buildrootWorkspace(b, b.TempDir())
				open = func() Engine {
					eng, err := OpenWorkspace(ws)
					if err != nil {
						b.Fatal(err)
					}
					return eng
				}
			} else {
				top, env := generatedTree(b, 10000)
				open = func() Engine { return openTree(b, top, filepath.Dir(top), env) }
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !strings.Contains(loadedApp(open()).View(), "Cube packages") {
					b.Fatal("no Cube view")
				}
			}
		})
	}
}

// The UI's own share of the first frame: the app built on a loaded
// configuration and drawn once (loading the tree is kconfig's share).
func BenchmarkFirstFrameLoaded(b *testing.B) {
	for _, tr := range benchTrees(b) {
		eng := tr.load(b)
		b.Run(tr.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if !strings.Contains(loadedApp(eng).View(), "Cube packages") {
					b.Fatal("no Cube view")
				}
			}
		})
	}
}

// A key press in the biggest lists: Update then View, as Bubble Tea does.
func BenchmarkKeystroke(b *testing.B) {
	for _, tr := range benchTrees(b) {
		eng := tr.load(b)
		b.Run(tr.name+"/cube-down", func(b *testing.B) {
			a := loadedApp(eng)
			benchKeys(b, a, keyMsg("down"), keyMsg("up"))
		})
		b.Run(tr.name+"/tree-down", func(b *testing.B) {
			a := loadedApp(eng)
			a.Update(keyMsg("tab"))
			bigMenu(b, a)
			benchKeys(b, a, keyMsg("down"), keyMsg("up"))
		})
		b.Run(tr.name+"/toggle", func(b *testing.B) {
			// The heaviest key: a Set, the changes it causes, a refresh
			// of the rows and the diff count in the status line.
			a := loadedApp(eng)
			a.Update(keyMsg("tab"))
			bigMenu(b, a)
			for i := 0; i < 200; i++ {
				if r, ok := a.config.focused(); ok && r.entry.Type == TypeBool && r.entry.Changeable {
					break
				}
				a.Update(keyMsg("down"))
			}
			benchKeys(b, a, keyMsg(" "), keyMsg(" "))
		})
		b.Run(tr.name+"/open-menu-show-all", func(b *testing.B) {
			// Entering and leaving a big menu with hidden entries shown:
			// every row's state is read again.
			a := loadedApp(eng)
			a.Update(keyMsg("tab"))
			a.Update(keyMsg("A"))
			bigMenu(b, a)
			a.Update(keyMsg("esc"))
			benchKeys(b, a, keyMsg("enter"), keyMsg("esc"))
		})
		b.Run(tr.name+"/search-type", func(b *testing.B) {
			a := loadedApp(eng)
			a.Update(keyMsg("/"))
			benchKeys(b, a, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("p")}, keyMsg("backspace"))
		})
	}
}

// bigMenu opens the menu with the most entries the tree has near the top
// (Target packages > its first submenu).
func bigMenu(b *testing.B, a *App) {
	cfg := a.config
	for _, want := range []string{"Target packages", ""} {
		for i := 0; i < 50; i++ {
			r, ok := cfg.focused()
			if ok && opens(r.entry) && r.entry.Kind == NodeMenu && (want == "" || r.entry.Prompt == want) {
				break
			}
			a.Update(keyMsg("down"))
		}
		a.Update(keyMsg("enter"))
	}
	if len(cfg.rows) < 20 {
		b.Fatalf("menu %q has only %d rows", cfg.crumb(), len(cfg.rows))
	}
	b.ReportMetric(float64(len(cfg.rows)), "rows")
}

func benchKeys(b *testing.B, a *App, k1, k2 tea.Msg) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := k1
		if i%2 == 1 {
			k = k2
		}
		a.Update(k)
		_ = a.View()
	}
}

// A search as the user types it: several terms over names, prompts and
// help of every symbol.
func BenchmarkSearch(b *testing.B) {
	for _, tr := range benchTrees(b) {
		eng := tr.load(b)
		eng.Search("warm up the index", maxHits)
		for _, q := range []string{"agent port", "br2_package_cube", "library gen", "xyzzy"} {
			b.Run(tr.name+"/"+strings.ReplaceAll(q, " ", "_"), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					eng.Search(q, maxHits)
				}
			})
		}
	}
}
