package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every subcommand has --help with an example, and it exits 0.
func TestEverySubcommandHasHelpWithExample(t *testing.T) {
	root := newRootCmd()
	cmds := root.Commands()
	if len(cmds) < 17 {
		t.Fatalf("only %d subcommands registered", len(cmds))
	}
	for _, c := range cmds {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, out, errOut := runCLI(t, c.Name(), "--help")
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, "Examples:") || !strings.Contains(out, "cube-hal") {
				t.Errorf("help has no example:\n%s", out)
			}
		})
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"doctor", "--no-such-flag"}, {"no-such-command"}, {"version", "extra"}} {
		code, _, errOut := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if len(lines) < 1 || !strings.HasPrefix(lines[0], "cube-hal: ") {
			t.Errorf("%v: stderr %q: want a 'cube-hal: ...' line", args, errOut)
		}
		if !strings.Contains(errOut, args[len(args)-1]) {
			t.Errorf("%v: stderr %q does not name the offending argument", args, errOut)
		}
	}
}

func TestBadWorkspaceFlagNamesIt(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "--buildroot", dir, "status")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, errOut)
	}
	if !strings.Contains(errOut, "--buildroot") || !strings.Contains(errOut, dir) {
		t.Errorf("stderr %q does not name --buildroot and the path", errOut)
	}
}
