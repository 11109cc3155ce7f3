package launch

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// bootFiles makes a fake images directory; goldens show it as $IMAGES.
func bootFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"bzImage", "rootfs.cpio.gz", "OVMF.fd"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// factsConfig mirrors the example lines of cvm-facts §1.1/§1.2: 8G, 4
// vCPUs, the default VM name and ports.
func factsConfig(dir string, mode Mode) Config {
	return Config{
		Mode: mode, Kernel: filepath.Join(dir, "bzImage"), Initrd: filepath.Join(dir, "rootfs.cpio.gz"),
		Firmware: filepath.Join(dir, "OVMF.fd"), MemoryMB: 8192, CPUs: 4,
		Append: "console=ttyS0 quiet",
	}.WithDefaults()
}

var goldenRunPaths = PathsIn("/run/cube-hal/cube-ai-vm")

func TestArgsGolden(t *testing.T) {
	dir := bootFiles(t)
	cases := map[string]func(Config) Config{
		"snp": func(c Config) Config { c.Mode = ModeSNP; return c.WithDefaults() },
		"snp-hostdata": func(c Config) Config {
			c.Mode = ModeSNP
			c.SNP = DefaultSNP
			c.SNP.HostData = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
			c.SNP.Policy = 0x30000
			return c
		},
		"tdx":      func(c Config) Config { c.Mode = ModeTDX; return c.WithDefaults() },
		"tdx-unix": func(c Config) Config { c.Mode = ModeTDX; c.TDX.QGS = "unix:/run/qgs.sock"; return c },
		"plain-tcg": func(c Config) Config {
			c.Mode, c.Accel, c.MemoryMB, c.CPUs, c.Firmware, c.RestrictNet = ModePlain, AccelTCG, 512, 1, "", true
			return c
		},
		"plain-kvm-ovmf": func(c Config) Config {
			c.Mode, c.Accel = ModePlain, AccelKVM
			c.Ports = Ports{SSH: 16190, Agent: 16193, GuestAgent: 8901}
			return c
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			base := factsConfig(dir, ModeSNP)
			base.SNP, base.TDX = SNPOptions{}, TDXOptions{}
			c := mk(base).WithDefaults()
			args, err := c.Args(goldenRunPaths)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(strings.Join(args, "\n")+"\n", dir, "$IMAGES")
			golden := filepath.Join("testdata", "argv", name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("argv differs from %s (rerun with -update if intended):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// The snp and tdx argument vectors carry every option of the reference
// lines in the facts file, with the same keys and constant values.
func TestArgsMatchFactsFile(t *testing.T) {
	facts, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "docs", "cvm-facts.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := bootFiles(t)
	for _, tc := range []struct {
		section string
		mode    Mode
	}{{"### 1.1", ModeSNP}, {"### 1.2", ModeTDX}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			ref := factsOptions(t, string(facts), tc.section)
			if len(ref) < 10 {
				t.Fatalf("only %d options parsed from the facts file's %s block", len(ref), tc.section)
			}
			args, err := factsConfig(dir, tc.mode).Args(goldenRunPaths)
			if err != nil {
				t.Fatal(err)
			}
			ours := pairOptions(args)
			for _, r := range ref {
				if !haveOption(ours, r) {
					t.Errorf("facts option %s %s: not in our argv", r.flag, r.value)
				}
			}
		})
	}
}

type option struct{ flag, value string }

// factsOptions parses the first code block after heading into options,
// dropping the [bracketed] optional parts.
func factsOptions(t *testing.T, doc, heading string) []option {
	t.Helper()
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Fatalf("facts file has no %q section", heading)
	}
	rest := doc[i:]
	a := strings.Index(rest, "```\n")
	b := strings.Index(rest[a+4:], "```")
	if a < 0 || b < 0 {
		t.Fatalf("no code block under %q", heading)
	}
	block := strings.ReplaceAll(rest[a+4:a+4+b], "\\\n", " ")
	// Drop optional parts, which may span tokens.
	var sb strings.Builder
	depth := 0
	for _, r := range block {
		switch {
		case r == '[' && !strings.HasSuffix(sb.String(), "{"):
			depth++
		case r == ']' && depth > 0:
			depth--
		case depth == 0:
			sb.WriteRune(r)
		}
	}
	toks := shellSplit(sb.String())
	if len(toks) == 0 || toks[0] != "qemu-system-x86_64" {
		t.Fatalf("block under %q does not start with qemu-system-x86_64: %q", heading, toks)
	}
	return pairOptions(toks[1:])
}

var noArgFlags = map[string]bool{"-no-reboot": true, "-nodefaults": true, "-nographic": true}

func pairOptions(toks []string) []option {
	var out []option
	for i := 0; i < len(toks); i++ {
		o := option{flag: toks[i]}
		if !noArgFlags[o.flag] && i+1 < len(toks) {
			i++
			o.value = toks[i]
		}
		out = append(out, o)
	}
	return out
}

// shellSplit splits on blanks, honouring single and double quotes.
func shellSplit(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\n' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// variable reports whether a reference value depends on the installation
// (paths, placeholders, the kernel command line) rather than being fixed.
func variable(v string) bool {
	return strings.Contains(v, "<") || strings.Contains(v, "/") || strings.Contains(v, "...") ||
		v == "bzImage" || v == "rootfs.cpio.gz"
}

func haveOption(ours []option, ref option) bool {
	for _, o := range ours {
		if o.flag != ref.flag {
			continue
		}
		if ref.value == "" || variable(ref.value) && !strings.Contains(ref.value, ",") && !strings.HasPrefix(ref.value, "{") {
			return true
		}
		if strings.HasPrefix(ref.value, "{") {
			var a, b any
			if json.Unmarshal([]byte(ref.value), &a) == nil && json.Unmarshal([]byte(o.value), &b) == nil && reflect.DeepEqual(a, b) {
				return true
			}
			continue
		}
		if keyvalsMatch(o.value, ref.value) {
			return true
		}
	}
	return false
}

// keyvalsMatch compares QEMU keyval strings: same leading type, and every
// reference key present with the same value unless the value is variable.
func keyvalsMatch(ours, ref string) bool {
	op, rp := strings.Split(ours, ","), strings.Split(ref, ",")
	if len(op) == 0 || len(rp) == 0 {
		return false
	}
	head := func(s string) string {
		if strings.Contains(s, "=") {
			return ""
		}
		if i := strings.Index(s, ":"); i >= 0 && variable(s) {
			return s[:i]
		}
		return s
	}
	if head(op[0]) != head(rp[0]) {
		return false
	}
	have := map[string][]string{}
	for _, kv := range op {
		k, v, _ := strings.Cut(kv, "=")
		have[k] = append(have[k], v)
	}
	for _, kv := range rp {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		vals, present := have[k]
		if !present {
			return false
		}
		if variable(v) {
			continue
		}
		found := false
		for _, x := range vals {
			if x == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func TestArgsRefusesUnresolvedAccel(t *testing.T) {
	dir := bootFiles(t)
	c := factsConfig(dir, ModePlain)
	c.Mode, c.Accel, c.Firmware = ModePlain, AccelAuto, ""
	if _, err := c.Args(goldenRunPaths); err == nil {
		t.Fatal("Args accepted plain mode with an unresolved accelerator")
	}
}

// Commas inside option values are doubled; -kernel/-append stay verbatim
// (no shell is involved).
func TestArgsEscaping(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a,b dir")
	os.MkdirAll(dir, 0o755)
	k := filepath.Join(dir, "bzImage")
	os.WriteFile(k, []byte("x"), 0o644)
	c := Config{Mode: ModePlain, Accel: AccelTCG, Kernel: k, Append: `console=ttyS0 foo="a b" $(rm -rf /)`}.WithDefaults()
	run := PathsIn(filepath.Join(dir, "run"))
	args, err := c.Args(run)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(args, "\x00")
	if !strings.Contains(joined, "\x00-kernel\x00"+k+"\x00") {
		t.Errorf("kernel path not verbatim: %q", args)
	}
	if !strings.Contains(joined, "\x00-append\x00"+c.Append+"\x00") {
		t.Errorf("append not verbatim: %q", args)
	}
	if !strings.Contains(joined, "unix:"+strings.ReplaceAll(run.QMPSocket, ",", ",,")+",server=on") {
		t.Errorf("QMP path commas not doubled: %q", args)
	}
	if got := CommandLine([]string{"qemu", "-append", "a b", "it's"}); got != `qemu -append 'a b' 'it'\''s'` {
		t.Errorf("CommandLine = %s", got)
	}
}
