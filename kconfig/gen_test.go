package kconfig

import (
	"fmt"
	"math/rand"
	"path"
	"sort"
	"strings"
)

// treeGen writes random but valid Kconfig trees using every construct
// Buildroot's kconfig supports, for differential tests against reference
// implementations. Dependencies only point to earlier symbols and selects
// only to later ones, so trees have no dependency cycles (those are tested
// separately).
type treeGen struct {
	r        *rand.Rand
	tristate bool // use tristate symbols and "option modules"
	noMod    bool // never write the constant m (Linux 4.11 crashes on it without "option modules")
	// linux411 avoids the constructs where Linux 4.11's kconfig (Debian's
	// kconfig-conf) and 4.17's (Buildroot's) differ: choice members with
	// their own dependencies.
	linux411 bool
	files    map[string]string
	syms     []genSym
	next     int // index of the next symbol to define
	nfiles   int
	depth    int
}

type genSym struct {
	name       string
	typ        string // bool tristate int hex string
	choice     bool   // member of a choice
	promptless bool
}

// genTree returns the files of a random tree (path -> text); "Kconfig" is
// the top file.
func genTree(seed int64, tristate, linux411 bool) (map[string]string, []genSym) {
	g := &treeGen{r: rand.New(rand.NewSource(seed)), tristate: tristate, noMod: linux411, linux411: linux411, files: map[string]string{}}
	n := 12 + g.r.Intn(40)
	for i := 0; i < n; i++ {
		g.syms = append(g.syms, genSym{name: fmt.Sprintf("S%d", i), typ: g.pickType()})
	}
	var b strings.Builder
	b.WriteString("mainmenu \"Random tree $RANDVER\"\n\n")
	b.WriteString("config RANDVER\n\tstring\n\toption env=\"RANDVER\"\n\n")
	b.WriteString("config SUBDIR\n\tstring\n\toption env=\"SUBDIR\"\n\n")
	if tristate && g.r.Intn(3) > 0 {
		b.WriteString("config MODULES\n\tbool \"modules\"\n\tdefault y\n\toption modules\n\n")
	}
	for g.next < len(g.syms) {
		g.stmt(&b, 0)
	}
	g.files["Kconfig"] = b.String()
	return g.files, g.syms
}

// tri picks a tristate constant.
func (g *treeGen) tri() string {
	if g.noMod {
		return []string{"y", "n"}[g.r.Intn(2)]
	}
	return []string{"y", "n", "m"}[g.r.Intn(3)]
}

func (g *treeGen) pickType() string {
	x := g.r.Intn(100)
	switch {
	case x < 55:
		return "bool"
	case x < 65 && g.tristate:
		return "tristate"
	case x < 75:
		return "int"
	case x < 83:
		return "hex"
	}
	return "string"
}

func (g *treeGen) words(n int) string {
	ws := []string{"enable", "support", "the", "foo", "bar", "network", "driver", "Debug", "(experimental)", "x86_64",
		"level", "for", "path", "size", "v2", "is", "it's", "a/b", "50%", "GPU"}
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, ws[g.r.Intn(len(ws))])
	}
	return strings.Join(out, " ")
}

func (g *treeGen) quoted(s string) string {
	if g.r.Intn(6) == 0 {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\\", "\\\\"), "'", "\\'") + "'"
	}
	return "\"" + strings.ReplaceAll(strings.ReplaceAll(s, "\\", "\\\\"), "\"", "\\\"") + "\""
}

// ref picks an already defined symbol of one of the given types.
func (g *treeGen) ref(types ...string) (genSym, bool) {
	var cands []genSym
	for _, s := range g.syms[:g.next] {
		for _, t := range types {
			if s.typ == t {
				cands = append(cands, s)
			}
		}
	}
	if len(cands) == 0 {
		return genSym{}, false
	}
	return cands[g.r.Intn(len(cands))], true
}

func (g *treeGen) atom() string {
	x := g.r.Intn(100)
	switch {
	case x < 50:
		if s, ok := g.ref("bool", "tristate"); ok {
			return s.name
		}
	case x < 60:
		if s, ok := g.ref("bool", "tristate"); ok {
			v := g.tri()
			op := []string{"=", "!="}[g.r.Intn(2)]
			return s.name + op + v
		}
	case x < 68:
		if s, ok := g.ref("string"); ok {
			op := []string{"=", "!="}[g.r.Intn(2)]
			return s.name + op + g.quoted(g.words(1))
		}
	case x < 76:
		if s, ok := g.ref("int", "hex"); ok {
			op := []string{"<", "<=", ">", ">=", "=", "!="}[g.r.Intn(6)]
			v := fmt.Sprint(g.r.Intn(40))
			if s.typ == "hex" {
				v = fmt.Sprintf("0x%x", g.r.Intn(64))
			}
			if g.r.Intn(2) == 0 {
				if s2, ok := g.ref(s.typ); ok {
					v = s2.name
				}
			}
			return s.name + op + v
		}
	case x < 80:
		return fmt.Sprintf("UNDEF%d", g.r.Intn(3))
	case x < 84:
		return g.tri()
	}
	if s, ok := g.ref("bool", "tristate"); ok {
		return s.name
	}
	return "y"
}

func (g *treeGen) expr(depth int) string {
	x := g.r.Intn(100)
	switch {
	case depth > 2 || x < 55:
		return g.atom()
	case x < 65:
		return "!" + g.expr(depth+1)
	case x < 80:
		return g.expr(depth+1) + " && " + g.expr(depth+1)
	case x < 92:
		return g.expr(depth+1) + " || " + g.expr(depth+1)
	}
	return "(" + g.expr(depth+1) + ")"
}

func (g *treeGen) cond() string {
	if g.r.Intn(3) == 0 {
		return " if " + g.expr(0)
	}
	return ""
}

func (g *treeGen) help(b *strings.Builder) {
	ind := []string{"\t  ", "\t", "  ", "\t\t", "        "}[g.r.Intn(5)]
	b.WriteString([]string{"\thelp\n", "\t---help---\n", "  help\n"}[g.r.Intn(3)])
	n := 1 + g.r.Intn(3)
	for i := 0; i < n; i++ {
		switch {
		case i > 0 && g.r.Intn(4) == 0:
			b.WriteString("\n")
		case i > 0 && g.r.Intn(3) == 0:
			b.WriteString(ind + "  " + g.words(3) + "  \n")
		default:
			b.WriteString(ind + g.words(4) + "\n")
		}
	}
	if g.r.Intn(3) == 0 {
		b.WriteString("\n")
	}
}

func (g *treeGen) defaultValue(typ string) string {
	switch typ {
	case "bool", "tristate":
		if g.r.Intn(2) == 0 {
			return g.tri()
		}
		return g.expr(1)
	case "int":
		if s, ok := g.ref("int"); ok && g.r.Intn(4) == 0 {
			return s.name
		}
		return fmt.Sprint(g.r.Intn(50) - 5)
	case "hex":
		if g.r.Intn(6) == 0 {
			return fmt.Sprint(g.r.Intn(50))
		}
		return fmt.Sprintf("0x%x", g.r.Intn(300))
	}
	if s, ok := g.ref("string"); ok && g.r.Intn(4) == 0 {
		return s.name
	}
	return g.quoted(g.words(g.r.Intn(3)))
}

// config writes the definition of the next symbol.
func (g *treeGen) config(b *strings.Builder, inChoice bool) {
	s := &g.syms[g.next]
	if inChoice {
		s.choice = true
		if s.typ != "bool" && s.typ != "tristate" {
			s.typ = "bool"
		}
	}
	kw := "config"
	if !inChoice && g.r.Intn(10) == 0 {
		kw = "menuconfig"
	}
	fmt.Fprintf(b, "%s %s\n", kw, s.name)
	defBool := !inChoice && kw == "config" && (s.typ == "bool" || s.typ == "tristate") && g.r.Intn(12) == 0
	if defBool {
		fmt.Fprintf(b, "\tdef_%s %s%s\n", s.typ, g.defaultValue(s.typ), g.cond())
		s.promptless = true
	} else if inChoice || kw == "menuconfig" || g.r.Intn(5) > 0 {
		cond := g.cond()
		if inChoice && g.linux411 {
			cond = ""
		}
		fmt.Fprintf(b, "\t%s %s%s\n", s.typ, g.quoted(g.words(1+g.r.Intn(3))), cond)
	} else {
		fmt.Fprintf(b, "\t%s\n", s.typ)
		s.promptless = true
	}
	for i := g.r.Intn(3); i > 0 && !(inChoice && g.linux411); i-- {
		fmt.Fprintf(b, "\tdepends on %s\n", g.expr(0))
	}
	if !inChoice {
		for i := g.r.Intn(3); i > 0; i-- {
			fmt.Fprintf(b, "\tdefault %s%s\n", g.defaultValue(s.typ), g.cond())
		}
	}
	if (s.typ == "int" || s.typ == "hex") && g.r.Intn(3) == 0 {
		lo, hi := g.r.Intn(10), 10+g.r.Intn(30)
		if s.typ == "hex" {
			fmt.Fprintf(b, "\trange 0x%x 0x%x%s\n", lo, hi, g.cond())
		} else {
			fmt.Fprintf(b, "\trange %d %d%s\n", lo-3, hi, g.cond())
		}
	}
	if s.typ == "bool" || s.typ == "tristate" {
		for i := g.r.Intn(3); i > 0; i-- {
			if t := g.later(); t != "" {
				kind := "select"
				if g.r.Intn(5) == 0 {
					kind = "imply"
				}
				fmt.Fprintf(b, "\t%s %s%s\n", kind, t, g.cond())
			}
		}
	}
	if g.r.Intn(4) == 0 {
		g.help(b)
	}
	b.WriteString("\n")
	g.next++
}

// later picks a bool/tristate symbol not defined yet (select target).
func (g *treeGen) later() string {
	var c []string
	for _, s := range g.syms[g.next+1:] {
		if s.typ == "bool" || s.typ == "tristate" {
			c = append(c, s.name)
		}
	}
	if len(c) == 0 {
		return ""
	}
	return c[g.r.Intn(len(c))]
}

func (g *treeGen) stmt(b *strings.Builder, depth int) {
	if g.next >= len(g.syms) {
		return
	}
	x := g.r.Intn(100)
	switch {
	case depth < 3 && x < 8:
		g.choice(b)
	case depth < 3 && x < 16:
		fmt.Fprintf(b, "menu %s\n", g.quoted(g.words(2)))
		if g.r.Intn(5) == 0 {
			fmt.Fprintf(b, "\tvisible if %s\n", g.expr(0))
		}
		if g.r.Intn(3) == 0 {
			fmt.Fprintf(b, "\tdepends on %s\n", g.expr(0))
		}
		b.WriteString("\n")
		for i := 1 + g.r.Intn(4); i > 0; i-- {
			g.stmt(b, depth+1)
		}
		b.WriteString("endmenu\n\n")
	case depth < 3 && x < 24:
		fmt.Fprintf(b, "if %s\n\n", g.expr(0))
		for i := 1 + g.r.Intn(4); i > 0; i-- {
			g.stmt(b, depth+1)
		}
		b.WriteString("endif\n\n")
	case x < 29:
		fmt.Fprintf(b, "comment %s\n", g.quoted(g.words(3)))
		if g.r.Intn(2) == 0 {
			fmt.Fprintf(b, "\tdepends on %s\n", g.expr(0))
		}
		b.WriteString("\n")
	case depth < 3 && x < 34 && g.nfiles < 6:
		g.nfiles++
		name := fmt.Sprintf("sub/f%d.in", g.nfiles)
		var sb strings.Builder
		for i := 1 + g.r.Intn(4); i > 0; i-- {
			g.stmt(&sb, depth+1)
		}
		g.files[name] = sb.String()
		if g.r.Intn(2) == 0 {
			fmt.Fprintf(b, "source \"$SUBDIR/%s\"\n\n", path.Base(name))
		} else {
			fmt.Fprintf(b, "source \"%s\"\n\n", name)
		}
	default:
		g.config(b, false)
	}
}

func (g *treeGen) choice(b *strings.Builder) {
	n := 1 + g.r.Intn(4)
	if g.next+n > len(g.syms) {
		n = len(g.syms) - g.next
	}
	b.WriteString("choice\n")
	fmt.Fprintf(b, "\tprompt %s%s\n", g.quoted(g.words(2)), g.cond())
	if g.tristate && g.r.Intn(4) == 0 {
		b.WriteString("\ttristate\n")
	}
	if g.r.Intn(10) == 0 {
		b.WriteString("\toptional\n")
	}
	if g.r.Intn(2) == 0 {
		fmt.Fprintf(b, "\tdepends on %s\n", g.expr(0))
	}
	if g.r.Intn(3) > 0 {
		for i := 1 + g.r.Intn(2); i > 0; i-- {
			fmt.Fprintf(b, "\tdefault %s%s\n", g.syms[g.next+g.r.Intn(n)].name, g.cond())
		}
	}
	if g.r.Intn(5) == 0 {
		g.help(b)
	}
	b.WriteString("\n")
	for i := 0; i < n; i++ {
		if g.r.Intn(8) == 0 {
			fmt.Fprintf(b, "comment %s\n\n", g.quoted(g.words(2)))
		}
		g.config(b, true)
	}
	b.WriteString("endchoice\n\n")
}

// genConfig writes a random .config for the symbols, with the kinds of
// damage real files have: missing and duplicated lines, wrong types, odd
// quoting, unknown symbols, stray text.
func genConfig(seed int64, syms []genSym, prefix string) string {
	r := rand.New(rand.NewSource(seed))
	var lines []string
	for _, s := range syms {
		if r.Intn(10) < 3 {
			continue
		}
		n := prefix + s.name
		var v string
		switch s.typ {
		case "bool", "tristate":
			switch r.Intn(12) {
			case 0:
				lines = append(lines, "# "+n+" is not set")
				continue
			case 1:
				v = "m"
			case 2:
				v = "yes"
			case 3:
				v = "\"y\""
			case 4:
				v = ""
			default:
				v = []string{"y", "n", "y", "y"}[r.Intn(4)]
			}
		case "int":
			v = []string{fmt.Sprint(r.Intn(60) - 10), "0x10", "12abc", "007", "-0", "\"5\"", ""}[min(r.Intn(12), 6)]
		case "hex":
			v = []string{fmt.Sprintf("0x%x", r.Intn(80)), fmt.Sprintf("%x", r.Intn(80)), "0X1F", "0x", "zz", "\"0x3\""}[min(r.Intn(10), 5)]
		case "string":
			v = []string{"\"hello world\"", "\"with \\\"quote\\\"\"", "\"back\\\\slash\"", "unquoted", "\"unterminated", "\"\"", "\"tail\" junk"}[r.Intn(7)]
		}
		lines = append(lines, n+"="+v)
		if r.Intn(25) == 0 {
			lines = append(lines, n+"="+v)
		}
	}
	r.Shuffle(len(lines)/3, func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	extra := []string{"", "# a comment", prefix + "UNKNOWN_SYM=y", "# " + prefix + "UNKNOWN2 is not set", "garbage line", " " + prefix + "S1=y",
		prefix + "S0 =y", "#" + prefix + "S2 is not set"}
	for i := r.Intn(4); i > 0; i-- {
		at := r.Intn(len(lines) + 1)
		lines = append(lines[:at], append([]string{extra[r.Intn(len(extra))]}, lines[at:]...)...)
	}
	out := strings.Join(lines, "\n")
	if r.Intn(4) > 0 {
		out += "\n"
	}
	return out
}

func symbolNames(syms []genSym) []string {
	var out []string
	for _, s := range syms {
		out = append(out, s.name)
	}
	sort.Strings(out)
	return out
}
