package kconfig

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// The prefetcher reads ahead of the parser, in source order and only a
// few files ahead, and recycles the buffers of parsed files; a tree loaded
// with it must be the tree loaded from the same files without it. The
// generated tree nests sources four deep (259 files, far more than the
// read-ahead), sources one file from several places, names files in help
// texts (which the prefetcher reads and must drop) and sources through a
// $SYMBOL reference (which it cannot guess).
func TestPrefetchMatchesDirectReads(t *testing.T) {
	files := map[string]string{}
	var gen func(path string, depth int)
	gen = func(path string, depth int) {
		var b strings.Builder
		fmt.Fprintf(&b, "menu \"M%s\"\nconfig S%s\n\tbool \"s%s\"\n\tdefault y\n\thelp\n\t  See\n\tsource \"orphan%s.in\"\n\n", path, path, path, path)
		files["orphan"+path+".in"] = fmt.Sprintf("config ORPHAN%s\n\tbool \"never sourced\"\n", path)
		if depth < 3 {
			for i := 0; i < 6; i++ {
				child := fmt.Sprintf("%s_%d", path, i)
				fmt.Fprintf(&b, "source \"d/%s.in\"\n", child)
				gen(child, depth+1)
			}
		}
		if depth == 2 {
			b.WriteString("source \"shared.in\"\nsource \"$DIR/sub.in\"\n")
		}
		b.WriteString("endmenu\n")
		files["d/"+path+".in"] = b.String()
	}
	gen("0", 0)
	files["Kconfig"] = "mainmenu \"prefetch\"\nconfig DIR\n\tstring\n\tdefault \"d\"\nsource \"d/0.in\"\n"
	files["shared.in"] = "config SHARED\n\tbool \"shared\"\n\tdepends on S0\n"
	files["d/sub.in"] = "config SUB\n\tbool \"sub\"\n\tdefault y\n"
	dir := t.TempDir()
	writeTree(t, dir, files)

	k := newKconfig(Options{Dir: dir})
	if err := k.parse("Kconfig"); err != nil {
		t.Fatal(err)
	}
	if len(k.files) < 259 {
		t.Fatalf("only %d files read", len(k.files))
	}
	if k.bufs.reused < 200 {
		t.Errorf("%d file buffers reused for %d files", k.bufs.reused, len(k.files))
	}
	if k.bufs.free != nil {
		t.Error("the spare file buffers are kept after parsing")
	}

	direct := newKconfig(Options{Dir: dir})
	direct.virtual = map[string][]byte{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		direct.virtual[name] = []byte(files[name])
	}
	if err := direct.parse("Kconfig"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(k.ConfigText()), string(direct.ConfigText()); got != want {
		t.Errorf("with the prefetcher:\n%s\nwithout:\n%s", got, want)
	}
	if got, want := fmt.Sprint(k.diagnostics), fmt.Sprint(direct.diagnostics); got != want {
		t.Errorf("diagnostics with the prefetcher: %s, without: %s", got, want)
	}

	// The read-ahead stays bounded while the parser is slow to ask.
	p := newPrefetcher(newKconfig(Options{Dir: dir}), []byte(files["Kconfig"]))
	if data, err, ok := p.get("d/0.in"); err != nil || (ok && string(data) != files["d/0.in"]) {
		t.Errorf("get(d/0.in) = %q, %v, %v", data, err, ok)
	} else if !ok {
		// not started yet: read here, as the lexer does
		p.readByParser("d/0.in", []byte(files["d/0.in"]))
	}
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	ahead, most := len(p.ahead), p.most
	p.mu.Unlock()
	p.stop()
	if ahead != prefetchAhead || most != prefetchAhead {
		t.Errorf("%d files read ahead (at most %d), want %d", ahead, most, prefetchAhead)
	}
}
