#!/bin/bash
# One step of the fake Buildroot (see Makefile): prints what Buildroot and
# a package's tools print for it, in their real formats.
#   fake-step.sh STEP PKG VERSION | global LABEL | show-info ENTRY...
set -u
step=$1
pkg=${2:-}
version=${3:-}
# The standout escapes come from the Makefile (worked out once per make, as
# Buildroot does); run by hand, the script asks tput.
SO=${FAKE_TERM_BOLD-$(tput smso 2>/dev/null)}
SE=${FAKE_TERM_RESET-$(tput rmso 2>/dev/null)}
ESC=$'\e'

# emit prints its argument verbatim and, with FAKE_RECORD set, appends the
# same bytes there: what the fake emitted, for the byte-exact log test.
emit() {
	printf '%s' "$1"
	if [ -n "${FAKE_RECORD:-}" ]; then printf '%s' "$1" >>"$FAKE_RECORD"; fi
}
# msg is support/misc/utils.mk's MESSAGE: standout, ">>> name version text".
msg() { emit "${SO}>>> ${pkg} ${version} $*${SE}"$'\n'; }
pause() { sleep "${FAKE_DELAY:-0.01}"; }

if [ "$step" = show-info ]; then
	shift
	if [ "${FAKE_HANG:-}" = show-info ]; then
		# A slow package list (a real tree takes seconds to minutes).
		echo $$ >>"${FAKE_PIDS:-/dev/null}"
		exec sleep 600
	fi
	out='{'
	sep=' '
	for e in "$@"; do
		IFS='|' read -r name type ver virt dir deps installs <<<"$e"
		depjson=''
		IFS=',' read -ra ds <<<"$deps"
		for d in "${ds[@]}"; do
			[ -n "$d" ] && depjson+="${depjson:+, }\"$d\""
		done
		if [ "$type" = rootfs ]; then
			out+="$sep\"$name\": { \"type\": \"rootfs\", \"image_name\": \"rootfs.cpio\", \"dependencies\": [ $depjson ] }"
		else
			v=false
			[ -n "$virt" ] && v=true
			it=false is=false ii=false
			for i in $installs; do
				case $i in target) it=true ;; staging) is=true ;; images) ii=true ;; esac
			done
			extra=''
			[ "$type" = target ] && extra=", \"install_target\": $it, \"install_staging\": $is, \"install_images\": $ii"
			out+="$sep\"$name\": { \"type\": \"$type\", \"name\": \"${name#host-}\", \"virtual\": $v, \"version\": \"$ver\", \"stamp_dir\": \"build/$dir\", \"source_dir\": \"build/$dir\", \"build_dir\": \"build/$dir/\"$extra, \"dependencies\": [ $depjson ] }"
		fi
		sep=', '
	done
	printf '%s }\n' "$out"
	exit 0
fi

if [ "$step" = global ]; then
	pkg='' version=''
	msg "$2"
	pause
	exit 0
fi

fail_kind=''
IFS=':' read -r fpkg fstep fkind <<<"${FAKE_FAIL:-}"
if [ "$fpkg" = "$pkg" ] && [ "$fstep" = "$step" ]; then fail_kind=${fkind:-compile}; fi
hang_kind=''
IFS=':' read -r hpkg hstep hkind <<<"${FAKE_HANG:-}"
if [ "$hpkg" = "$pkg" ] && [ "$hstep" = "$step" ]; then hang_kind=${hkind:-polite}; fi

tarball="$pkg-$version.tar.gz"
[ -z "$version" ] && tarball=''

case $step in
download)
	if [ -n "$tarball" ] && [ ! -e "$FAKE_DL_DIR/$tarball" ]; then
		msg Downloading
		url="https://sources.buildroot.net/${pkg#host-}/$tarball"
		emit "wget -nd -t 3 --connect-timeout=10 -O '$FAKE_DL_DIR/.$tarball.tmp/output' '$url' "$'\n'
		if [ "$fail_kind" = network ]; then
			emit "Resolving sources.buildroot.net (sources.buildroot.net)... failed: Name or service not known."$'\n'
			emit "wget: unable to resolve host address 'sources.buildroot.net'"$'\n'
			exit 1
		fi
		emit "Connecting to sources.buildroot.net (sources.buildroot.net)|203.0.113.7|:443... connected."$'\n'
		emit "HTTP request sent, awaiting response... 200 OK"$'\n'
		for pct in 0 25 50 75 100; do
			printf -v bar '%*s' $((pct / 10)) ''
			bar=${bar// /=}
			emit "$tarball ${pct}%[${bar}>]  $((pct * 12))K  1.2MB/s"$'\r'
			pause
		done
		emit $'\n'"'$FAKE_DL_DIR/.$tarball.tmp/output' saved"$'\n'
		mkdir -p "$FAKE_DL_DIR" && : >"$FAKE_DL_DIR/$tarball"
	fi
	;;
extract) msg Extracting ;;
patch)
	msg Patching
	[ "$pkg" = busybox ] && emit "Applying 0001-networking-libiproute-use-linux-if_packet.h.patch using patch: "$'\n'"patching file networking/libiproute/iproute.c"$'\n'
	;;
configure)
	msg Configuring
	for c in 'for gcc... gcc' 'whether the C compiler works... yes' 'for C compiler default output file name... a.out' 'for suffix of executables... ' 'whether we are cross compiling... yes'; do
		emit "checking $c"$'\n'
	done
	if [ "${FAKE_ASK:-}" = "$pkg" ]; then
		# Kconfig's syncconfig asking about a NEW symbol: it reads an answer
		# from stdin, and takes the default at end of file.
		emit "Cube agent (BR2_PACKAGE_CUBE_AGENT) [N/y/?] (NEW) "
		if ! read -r answer; then answer=''; fi
		emit $'\n'"answer: '${answer}'"$'\n'
	fi
	if [ "$fail_kind" = notool ]; then
		emit "./configure: line 4242: bison: command not found"$'\n'
		emit "configure: error: bison is required"$'\n'
		exit 127
	fi
	;;
build)
	msg Building
	n=${FAKE_LINES:-40}
	block=''
	for ((i = 1; i <= n; i++)); do
		block+="/fake/host/bin/x86_64-buildroot-linux-gnu-gcc -O2 -pipe -fstack-protector-strong -D_FORTIFY_SOURCE=2 -c src/file$i.c -o src/file$i.o"$'\n'
		if ((i % 1000 == 0)); then emit "$block"; block=''; fi
	done
	emit "$block"
	case $pkg in
	zlib) warnings=2 ;;
	busybox) warnings=1 ;;
	*) warnings=0 ;;
	esac
	for ((i = 1; i <= warnings; i++)); do
		emit "${ESC}[01m${ESC}[Ksrc/inflate.c:${i}42:9:${ESC}[m${ESC}[K ${ESC}[01;35m${ESC}[Kwarning: ${ESC}[m${ESC}[Kunused variable '${ESC}[01m${ESC}[Kstate$i${ESC}[m${ESC}[K' [${ESC}[01;35m${ESC}[K-Wunused-variable${ESC}[m${ESC}[K]"$'\n'
	done
	case $fail_kind in
	compile)
		emit "${ESC}[01m${ESC}[Ksrc/main.c:42:5:${ESC}[m${ESC}[K ${ESC}[01;31m${ESC}[Kerror: ${ESC}[m${ESC}[K'cube_token' undeclared (first use in this function)"$'\n'
		emit "make[1]: *** [Makefile:12: src/main.o] Error 1"$'\n'
		exit 2
		;;
	nospace)
		emit "cc1: fatal error: error writing to /tmp/ccA1b2C3.s: No space left on device"$'\n'
		emit "make[1]: *** [Makefile:12: src/main.o] Error 1"$'\n'
		exit 2
		;;
	esac
	;;
install-host) msg "Installing to host directory" ;;
install-staging) msg "Installing to staging directory" ;;
install-image) msg "Installing to images directory" ;;
install-target)
	msg "Installing to target"
	emit "install -D -m 0755 $pkg /fake/target/usr/bin/$pkg"$'\n'
	;;
esac

case $hang_kind in
polite)
	# A slow step that stops on SIGINT, leaving behind a daemon-like
	# child that ignores SIGINT and SIGHUP (but not SIGTERM). The child
	# writes its PID itself, once its trap is set, so a test that has read
	# it knows the signal will be ignored.
	emit "waiting for a very slow step"$'\n'
	(
		trap '' INT HUP
		echo "$BASHPID" >>"${FAKE_PIDS:-/dev/null}"
		exec sleep 600
	) &
	sleep 600 &
	echo $! >>"${FAKE_PIDS:-/dev/null}"
	wait
	;;
stubborn)
	# make's own child ignores SIGINT, SIGTERM and SIGHUP, so make waits
	# for it: only SIGKILL ends this build. Both PIDs are written after
	# the trap is set.
	emit "waiting for a step that ignores SIGINT and SIGTERM"$'\n'
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec bash -c 'trap "" INT TERM HUP; sleep 600 & echo $! >>"${FAKE_PIDS:-/dev/null}"; echo $$ >>"${FAKE_PIDS:-/dev/null}"; wait'
	;;
esac

if [ -n "$fail_kind" ]; then
	emit "error in $step of $pkg"$'\n'
	exit 1
fi
pause
exit 0
