package kconfig

import (
	"path/filepath"
	"testing"
)

// Finished dependency expressions are shared between a menu and what it
// contains (withInherited copies the inherited part only when merging
// rewrites it), so the rewrites that follow must leave a shared input as
// it was.
func TestRewritesKeepSharedExpressions(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Kconfig": "config T\n\ttristate \"t\"\nconfig U\n\ttristate \"u\"\nconfig A\n\tbool \"a\"\n"})
	k, err := Load("Kconfig", Options{Dir: filepath.Clean(dir)})
	if err != nil {
		t.Fatal(err)
	}
	T, U, A := k.Lookup("T"), k.Lookup("U"), k.Lookup("A")
	shared := exprAnd(newCompExpr(eUnequal, T, k.symNo), exprOr(newSymExpr(A), newCompExpr(eUnequal, U, k.symNo)))
	before := exprString(shared)
	got := k.dropNotNo(shared)
	if s := exprString(got); s != "T && (A || U)" {
		t.Errorf("dropNotNo = %q, want %q", s, "T && (A || U)")
	}
	if s := exprString(shared); s != before {
		t.Errorf("dropNotNo changed its input: %q, was %q", s, before)
	}
	if same := k.dropNotNo(newSymExpr(A)); same != A.leaf {
		t.Error("dropNotNo copied an expression it did not change")
	}

	// mergesDuplicates predicts mergeDuplicates without rewriting.
	for _, c := range []struct {
		e     *Expr
		merge bool
	}{
		{exprAnd(newSymExpr(A), newSymExpr(T)), false},
		{exprAnd(newSymExpr(A), exprAnd(newSymExpr(T), newSymExpr(A))), true},
		{exprOr(newSymExpr(A), exprOr(newSymExpr(T), newSymExpr(A))), true},
		{exprAnd(newSymExpr(T), newCompExpr(eUnequal, T, k.symNo)), true},
		{exprAnd(exprOr(newSymExpr(A), newSymExpr(T)), newSymExpr(U)), false},
		{exprAnd(exprOr(newSymExpr(A), newSymExpr(A)), newSymExpr(U)), true},
		{newSymExpr(A), false},
	} {
		text := exprString(c.e)
		if got := k.mergesDuplicates(c.e); got != c.merge {
			t.Errorf("mergesDuplicates(%s) = %v, want %v", text, got, c.merge)
		}
		if s := exprString(c.e); s != text {
			t.Errorf("mergesDuplicates changed %q to %q", text, s)
		}
		if merged := exprString(k.mergeDuplicates(c.e.copy())); (merged != text) != c.merge {
			t.Errorf("mergeDuplicates(%s) = %s, disagreeing with mergesDuplicates", text, merged)
		}
	}
}
