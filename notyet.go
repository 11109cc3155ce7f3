package main

// notYet is what a subcommand whose issue has not landed yet returns: an
// honest failure, never a silent success.
func notYet(cmd, issue string) error {
	return failf("'%s' is not implemented yet", cmd).withHint("it arrives with the %s work; see the README's status table", issue)
}
