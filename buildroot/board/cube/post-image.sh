#!/bin/sh
# post-image.sh IMAGES_DIR
#
# Buildroot runs this after the images are made (BR2_ROOTFS_POST_IMAGE_SCRIPT).
# It writes SHA256SUMS for the boot artefacts, the inputs of the launch
# measurement (kernel and initramfs), and lists what was built.
set -eu

prog=${0##*/}
images=${1:?usage: $prog IMAGES_DIR}
cd "$images"

set --
for f in bzImage rootfs.cpio.gz rootfs.cpio rootfs.ext4; do
	[ ! -e "$f" ] || set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
	echo "$prog: no kernel or root filesystem image in $images" >&2
	exit 1
fi
tmp=$(mktemp SHA256SUMS.XXXXXX)
sha256sum "$@" >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" SHA256SUMS

echo "Cube HAL images in $images:"
for f in "$@"; do
	printf '  %-16s %s bytes\n' "$f" "$(wc -c <"$f" | tr -d ' ')"
done
echo "Boot with -kernel bzImage -initrd rootfs.cpio.gz (the initramfs is measured"
echo "with the kernel); or run: cube-hal launch"
