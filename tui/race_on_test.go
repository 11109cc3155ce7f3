//go:build race

package tui

// raceEnabled: the race detector slows everything down several times, so
// timing assertions are not meaningful under it.
const raceEnabled = true
