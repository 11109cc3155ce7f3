#!/bin/sh
# post-build.sh TARGET_DIR
#
# Buildroot runs this after the overlays are copied and before the root
# filesystem images are made (BR2_ROOTFS_POST_BUILD_SCRIPT), with BR2_CONFIG
# in the environment. It:
#   - removes the git bookkeeping files the overlay carries (README.md and
#     .gitignore next to where generated keys go);
#   - restores the modes Buildroot's overlay copy loosens (it makes every
#     file world-readable): private keys, agent.env and root's SSH files;
#   - makes root's SSH login key-only;
#   - fails the build, naming what is missing, when the agent needs
#     certificate files (no CA URL) that are not in the image, and warns
#     when root has no authorized SSH key.
set -eu

prog=${0##*/}
target=${1:?usage: $prog TARGET_DIR}
config=${BR2_CONFIG:?BR2_CONFIG is not set (run by Buildroot)}

# shellcheck source-path=SCRIPTDIR source=dotconfig.sh
. "$(dirname -- "$0")/dotconfig.sh"

# 1. Bookkeeping from the overlay's git tree, not meant for the image.
rm -f "$target/etc/cube/certs/README.md" "$target/etc/cube/certs/.gitignore" \
	"$target/root/.ssh/.gitignore"

# 2. Modes.
if [ -d "$target/root/.ssh" ]; then
	chmod 0700 "$target/root/.ssh"
	[ ! -f "$target/root/.ssh/authorized_keys" ] || chmod 0600 "$target/root/.ssh/authorized_keys"
fi
[ ! -f "$target/etc/cube/agent.env" ] || chmod 0600 "$target/etc/cube/agent.env"
if [ -d "$target/etc/cube/certs" ]; then
	find "$target/etc/cube/certs" -type f -name '*.key' -exec chmod 0600 {} +
fi

# 3. Key-only root login. sshd keeps the first value it reads for a keyword,
# so the block goes first in sshd_config.
sshd_config=$target/etc/ssh/sshd_config
marker="# cube: key-only login (board/cube/post-build.sh)"
if [ -f "$sshd_config" ] && ! grep -qF "$marker" "$sshd_config"; then
	tmp=$(mktemp "$sshd_config.XXXXXX")
	{
		echo "$marker"
		echo "PermitRootLogin prohibit-password"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "PermitEmptyPasswords no"
		echo
		cat "$sshd_config"
	} >"$tmp"
	chmod 0644 "$tmp"
	mv -f "$tmp" "$sshd_config"
fi

# 4. What the agent needs.
if [ "$(config_get BR2_PACKAGE_CUBE_AGENT)" = y ]; then
	if [ -z "$(config_get BR2_PACKAGE_CUBE_AGENT_CA_URL)" ]; then
		missing=
		for sym in SERVER_CA_CERTS SERVER_CERT SERVER_KEY CLIENT_CA_CERTS; do
			path=$(config_get "BR2_PACKAGE_CUBE_AGENT_$sym")
			if [ -z "$path" ]; then
				missing="$missing
  BR2_PACKAGE_CUBE_AGENT_$sym is empty"
			elif [ ! -f "$target$path" ]; then
				missing="$missing
  $path (BR2_PACKAGE_CUBE_AGENT_$sym)"
			fi
		done
		if [ -n "$missing" ]; then
			echo "$prog: the Cube agent has no CA URL, so its certificates must be in the image, but these are missing:$missing" >&2
			echo "$prog: generate development ones into the overlay with 'cube-hal certs', or set BR2_PACKAGE_CUBE_AGENT_CA_URL" >&2
			exit 1
		fi
		key=$(config_get BR2_PACKAGE_CUBE_AGENT_SERVER_KEY)
		chmod 0600 "$target$key"
	fi
fi
if [ "$(config_get BR2_PACKAGE_OPENSSH)" = y ] && [ ! -s "$target/root/.ssh/authorized_keys" ]; then
	echo "$prog: WARNING: /root/.ssh/authorized_keys is missing or empty: nobody can log in over SSH" >&2
	echo "$prog: WARNING: 'cube-hal certs' generates cube-hal's SSH key and puts it into the overlay" >&2
fi
