package kconfig

import (
	"slices"
	"strings"
)

// SearchResult is one match of Search: a symbol (or choice), or a menu or
// comment node found by its prompt.
type SearchResult struct {
	Symbol *Symbol // nil for menus and comments
	Menu   *Menu   // the first node defining the match
	Score  int     // higher is better
	order  int     // menu order, the last tie-breaker
}

type searchEntry struct {
	sym    *Symbol
	menu   *Menu
	name   string // lower case
	short  string // lower case, without "br2_"
	prompt string // lower case, all prompts joined by "\n"
	help   string // lower case
}

type searchIndex struct {
	entries []searchEntry
}

func (k *Kconfig) buildSearch() *searchIndex {
	idx := &searchIndex{}
	seen := map[*Symbol]int{}
	k.walkMenus(func(m *Menu) {
		s := m.sym
		if s == nil {
			if m.prompt == nil {
				return
			}
			idx.entries = append(idx.entries, searchEntry{menu: m, prompt: strings.ToLower(m.prompt.text)})
			return
		}
		if i, ok := seen[s]; ok {
			e := &idx.entries[i]
			if m.prompt != nil && !strings.Contains(e.prompt, strings.ToLower(m.prompt.text)) {
				e.prompt += "\n" + strings.ToLower(m.prompt.text)
			}
			if m.flags&menuHasHelp != 0 {
				e.help += "\n" + strings.ToLower(m.help)
			}
			return
		}
		e := searchEntry{sym: s, menu: m}
		if s.hasName {
			e.name = strings.ToLower(s.name)
			e.short = strings.TrimPrefix(e.name, "br2_")
		}
		if m.prompt != nil {
			e.prompt = strings.ToLower(m.prompt.text)
		}
		if m.flags&menuHasHelp != 0 {
			e.help = strings.ToLower(m.help)
		}
		seen[s] = len(idx.entries)
		idx.entries = append(idx.entries, e)
	})
	return idx
}

// scoreTerm rates how well one (lower-case) term matches an entry; 0 is
// no match.
func (e *searchEntry) scoreTerm(t string) int {
	switch {
	case e.name != "" && (e.name == t || e.short == t):
		return 1000
	case e.name != "" && (strings.HasPrefix(e.short, t) || strings.HasPrefix(e.name, t)):
		return 400
	}
	best := 0
	if e.name != "" && strings.Contains(e.name, t) {
		best = 200
		// a match at a word boundary of the name ("_ssh" in "openssh")
		if i := strings.Index(e.name, t); i > 0 && e.name[i-1] == '_' {
			best = 300
		}
	}
	if e.prompt != "" {
		if i := strings.Index(e.prompt, t); i >= 0 {
			sc := 100
			if e.prompt == t {
				sc = 350
			} else if i == 0 || !isAlnum(e.prompt[i-1]) {
				sc = 150
			}
			if sc > best {
				best = sc
			}
		}
	}
	if best == 0 && e.help != "" && strings.Contains(e.help, t) {
		best = 10
	}
	return best
}

// Search finds symbols, choices, menus and comments whose name (with or
// without the BR2_ prefix), prompt or help text contain every term of
// query (case-insensitive, terms separated by spaces), best matches first:
// exact names, then name prefixes, names, prompts, and help text last.
func (k *Kconfig) Search(query string) []SearchResult {
	terms := strings.Fields(strings.ToLower(query))
	if len(terms) == 0 {
		return nil
	}
	if k.search == nil {
		k.search = k.buildSearch()
	}
	phrase := strings.Join(terms, " ")
	var out []SearchResult
	for i := range k.search.entries {
		e := &k.search.entries[i]
		total := 0
		for _, t := range terms {
			sc := e.scoreTerm(t)
			if sc == 0 {
				total = 0
				break
			}
			total += sc
		}
		if total > 0 {
			if len(terms) > 1 && strings.Contains(e.prompt, phrase) {
				total += 500 // the whole query as a phrase of the prompt
			}
			out = append(out, SearchResult{Symbol: e.sym, Menu: e.menu, Score: total, order: i})
		}
	}
	slices.SortFunc(out, func(a, b SearchResult) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		an, bn := resultName(a), resultName(b)
		if len(an) != len(bn) {
			return len(an) - len(bn)
		}
		if c := strings.Compare(an, bn); c != 0 {
			return c
		}
		return a.order - b.order
	})
	return out
}

func resultName(r SearchResult) string {
	if r.Symbol != nil && r.Symbol.hasName {
		return r.Symbol.name
	}
	return r.Menu.Prompt()
}
