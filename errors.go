package main

import (
	"fmt"
	"strings"
)

// cliError is an error with the exit code it maps to and an optional hint
// printed on its own line after the message.
type cliError struct {
	code  int
	msg   string
	hint  string
	quiet bool // already reported (e.g. by a child process); just exit
}

func (e *cliError) Error() string { return e.msg }

// withHint adds a one-line hint telling the user what to do next.
func (e *cliError) withHint(format string, args ...any) *cliError {
	e.hint = fmt.Sprintf(format, args...)
	return e
}

// usageErrorf is bad usage or bad input: exit code 2.
func usageErrorf(format string, args ...any) *cliError {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// failf is an operation that failed: exit code 1.
func failf(format string, args ...any) *cliError {
	return &cliError{code: exitFailed, msg: fmt.Sprintf(format, args...)}
}

// exitCode ends the process with code without printing anything more; used
// when the failure was already shown (a child's output, a doctor report).
func exitCode(code int) *cliError {
	return &cliError{code: code, quiet: true}
}

// isCobraUsageError recognises the errors cobra itself returns for bad
// command lines (it has no typed errors for them).
func isCobraUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{
		"unknown command", "unknown flag", "unknown shorthand flag",
		"accepts ", "requires at least", "requires at most", "requires exactly",
		"invalid argument", "flag needs an argument", "received ",
	} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
