#!/bin/sh
# models-list.sh CONFIG [OUTPUT]
#
# Writes the list of Ollama models to pull on first boot (one per line) from
# a Buildroot .config: the default models when BR2_PACKAGE_OLLAMA_MODELS=y,
# then each entry of BR2_PACKAGE_OLLAMA_CUSTOM_MODELS (separated by commas or
# white space), without duplicates. A name that is not name[:tag] made of
# letters, digits and . _ - /, starting with a letter or digit, is refused,
# naming it. Without OUTPUT the list
# goes to standard output.
set -eu

prog=${0##*/}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $prog CONFIG [OUTPUT]" >&2
	exit 2
fi
config=$1
out=${2:-}
[ -r "$config" ] || { echo "$prog: $config: cannot read the configuration" >&2; exit 1; }

# The models BR2_PACKAGE_OLLAMA_MODELS installs (see Config.in).
DEFAULT_MODELS="tinyllama:1.1b starcoder2:3b nomic-embed-text:v1.5"

# shellcheck source-path=SCRIPTDIR source=../../board/cube/dotconfig.sh
. "$(dirname -- "$0")/../../board/cube/dotconfig.sh"

models=
if [ "$(config_get BR2_PACKAGE_OLLAMA_MODELS)" = y ]; then
	models=$DEFAULT_MODELS
fi
custom=$(config_get BR2_PACKAGE_OLLAMA_CUSTOM_MODELS | tr ',\t' '  ')

list() {
	seen=' '
	set -f
	# shellcheck disable=SC2086 # split on white space on purpose
	for m in $models $custom; do
		case $m in
		*[!A-Za-z0-9._:/-]* | [!A-Za-z0-9]* | *: | *:*:*)
			echo "$prog: $config: BR2_PACKAGE_OLLAMA_CUSTOM_MODELS: '$m' is not a model name (name[:tag])" >&2
			return 1
			;;
		esac
		case $seen in
		*" $m "*) continue ;;
		esac
		seen="$seen$m "
		printf '%s\n' "$m"
	done
	set +f
}

write_file 0644 "$out" list
