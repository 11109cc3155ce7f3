#!/bin/sh
# dotconfig.sh: the helpers the Cube tree's scripts share, sourced by them
# (it does nothing when run on its own):
#   config_get SYMBOL         a value of the Buildroot .config named by $config
#   env_line NAME VALUE       one NAME="VALUE" line for systemd and sh alike
#   write_file MODE OUT CMD.. CMD's output into OUT, atomically, with MODE
# Callers set $prog (their name, for messages) and $config.
# shellcheck disable=SC2154 # $prog and $config are the caller's

# config_get SYMBOL: the value of SYMBOL in $config as Kconfig holds it:
# strings unquoted and unescaped, "y" for an enabled bool, empty when unset
# or absent. The last assignment wins, as in Kconfig.
config_get() {
	v=$(sed -n "s/^$1=//p" "$config" | tail -n 1)
	case $v in
	\"*\")
		v=${v#\"}
		v=${v%\"}
		# Kconfig escapes " and \ with a backslash; undo that.
		v=$(printf '%s\n' "$v" | sed 's/\\\(.\)/\1/g')
		;;
	esac
	printf '%s' "$v"
}

# env_line NAME VALUE: VALUE double-quoted with \ " $ and ` escaped by a
# backslash, which systemd's EnvironmentFile= parser and POSIX sh (". FILE")
# both read back as the exact original string.
env_line() {
	printf '%s="%s"\n' "$1" "$(printf '%s\n' "$2" | sed 's/[\\"$`]/\\&/g')"
}

# write_file MODE OUT COMMAND...: runs COMMAND with its output going to a
# temporary file beside OUT (created private), gives it MODE and renames it
# over OUT, so OUT is never seen half written; a failing COMMAND leaves OUT
# as it was. With OUT empty, COMMAND writes to standard output.
write_file() {
	wf_mode=$1
	wf_out=$2
	shift 2
	if [ -z "$wf_out" ]; then
		"$@"
		return
	fi
	wf_dir=$(dirname -- "$wf_out")
	wf_tmp=$(umask 077 && mktemp "$wf_dir/.${wf_out##*/}.XXXXXX") || {
		echo "$prog: $wf_out: cannot create a temporary file in $wf_dir" >&2
		exit 1
	}
	trap 'rm -f "$wf_tmp"' EXIT
	"$@" >"$wf_tmp"
	chmod "$wf_mode" "$wf_tmp"
	mv -f "$wf_tmp" "$wf_out"
	trap - EXIT
}
