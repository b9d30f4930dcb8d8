#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mkguest.sh - build the test guest: a Debian kernel and a busybox initramfs
#
# Output, in test/.cache/ (never committed):
#   vmlinuz         the kernel of the package linux-image-amd64 depends on
#   kernel          what to boot: vmlinuz decompressed to its ELF image when
#                   it has a PVH entry point (QEMU then starts it directly,
#                   skipping ~5 s of decompression under TCG), else vmlinuz
#   initramfs.gz    busybox-static, iperf3 and socat with their libraries,
#                   the virtio-net driver stack, test/guest/init as /init,
#                   test/guest/dhcp6c (a DHCPv6 client in sh) as dhcp6c,
#                   test/guest/ramp.c (byte-exact TCP streams, for the
#                   migration tests) compiled statically as ramp
#   guest.stamp     hash of every input; the build is skipped while it holds
#
# Usage: test/mkguest.sh [--force] [--check]
#   --force  rebuild even if the stamp says the guest is up to date
#   --check  then boot the guest with no NIC and show that it answers on
#            its console and has loaded virtio_net
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${GUEST_CACHE:-$here/.cache}

# The virtio-net driver stack; dependencies come from modules.dep anyway
mods_wanted="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	     virtio_pci failover net_failover virtio_net"
tools="iperf3 socat"

force=
check=
for a in "$@"; do
	case "$a" in
	--force) force=1 ;;
	--check) check=1 ;;
	*) echo "usage: $0 [--force] [--check]" >&2; exit 1 ;;
	esac
done

msg() { echo "mkguest: $*" >&2; }
die() { msg "$*"; exit 1; }

cc=${CC:-gcc}
for t in busybox cpio gzip dpkg-deb depmod apt-get apt-cache "$cc" $tools; do
	command -v "$t" >/dev/null || die "missing $t (run test/setup.sh)"
done

# kernel_pkg() - name of the linux-image-*-amd64 that linux-image-amd64 pulls
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -1
}

mkdir -p "$cache/deb"
kpkg=$(kernel_pkg)
if [ -z "$kpkg" ]; then
	msg "apt lists lack linux-image-amd64, running apt-get update"
	apt-get -q update >/dev/null || true
	kpkg=$(kernel_pkg)
fi
if [ -z "$kpkg" ] && [ -s "$cache/kernel.pkg" ]; then
	kpkg=$(cat "$cache/kernel.pkg")
	msg "apt unavailable, keeping cached $kpkg"
fi
[ -n "$kpkg" ] || die "cannot find the kernel package linux-image-amd64 depends on"

deb=$(ls "$cache/deb/${kpkg}_"*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	msg "downloading $kpkg"
	out=$(cd "$cache/deb" && apt-get -q download "$kpkg" 2>&1) ||
		die "apt-get download $kpkg failed: $out"
	deb=$(ls "$cache/deb/${kpkg}_"*.deb | tail -1)
fi
echo "$kpkg" > "$cache/kernel.pkg"

# bin_files() - a binary and every shared library it loads, one per line
bin_files() {
	echo "$1"
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
			$1 ~ /^\// { print $1 }'
}

# pvh_vmlinux() - decompress the ELF kernel out of a bzImage, if bootable
# @1:	bzImage
# @2:	output file
#
# Return: 0 if @2 is an ELF image with a PVH entry note (Xen note 0x12)
pvh_vmlinux() {
	local magic tool off
	for magic in "\xfd7zXZ:xz -dc" "\x28\xb5\x2f\xfd:zstd -qdc" \
		     "\x1f\x8b\x08:gzip -dc"; do
		tool=${magic#*:}
		off=$(LC_ALL=C grep -abo -m1 "$(printf "${magic%%:*}")" "$1" |
		      head -1 | cut -d: -f1)
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$1" | $tool > "$2" 2>/dev/null
		[ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
			continue
		command -v readelf >/dev/null || return 1
		readelf -n "$2" 2>/dev/null | grep -q 'note type: (0x00000012)' &&
			return 0
	done
	return 1
}

# Everything the image is made of: change any of it, and the guest is rebuilt
inputs() {
	echo "$deb"
	# Contents only: the same inputs hash the same from any directory
	cat "$here/mkguest.sh" "$here/guest/init" "$here/guest/udhcpc.script" \
	    "$here/guest/dhcp6c" "$here/guest/ramp.c" |
		sha256sum
	for t in busybox $tools; do
		for f in $(bin_files "$(command -v "$t")"); do
			echo "$f $(sha256sum < "$(readlink -f "$f")")"
		done
	done
	echo "$mods_wanted"
	"$cc" --version | head -n 1
}
stamp=$(inputs | sha256sum | cut -d' ' -f1)

if [ -z "$force" ] && [ -s "$cache/kernel" ] && [ -s "$cache/initramfs.gz" ] &&
   [ "$(cat "$cache/guest.stamp" 2>/dev/null)" = "$stamp" ]; then
	msg "guest up to date ($(basename "$deb"))"
else
	msg "building guest from $(basename "$deb")"
	tmp=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	kx=$tmp/pkg
	root=$tmp/root

	dpkg-deb -x "$deb" "$kx"
	kver=$(ls "$kx/lib/modules" | head -1)
	[ -n "$kver" ] || die "no modules in $deb"
	kmod=$kx/lib/modules/$kver
	# The package leaves modules.dep to its postinst: make it here
	[ -s "$kmod/modules.dep" ] || depmod -b "$kx" "$kver"

	# Dependency order, from modules.dep: a module after what it needs
	declare -A mdep mpath mseen
	while IFS=: read -r m d; do
		n=${m##*/}
		n=${n%%.ko*}
		mpath[$n]=$m
		mdep[$n]=$d
	done < "$kmod/modules.dep"
	order=()
	visit() {
		local n=$1 d
		[ -z "${mseen[$n]:-}" ] || return 0
		mseen[$n]=1
		for d in ${mdep[$n]}; do
			d=${d##*/}
			visit "${d%%.ko*}"
		done
		order+=("$n")
	}
	for m in $mods_wanted; do
		if [ -n "${mpath[$m]:-}" ]; then
			visit "$m"
		else
			msg "note: $m is not a module in $kver (built in or absent)"
		fi
	done

	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib/modules}
	for n in "${order[@]}"; do
		src=$kmod/${mpath[$n]}
		dst=$root/lib/modules/$n.ko
		case "$src" in
		*.ko.xz)  xz -dc "$src" > "$dst" ;;
		*.ko.zst) zstd -qdc "$src" > "$dst" ;;
		*.ko.gz)  gzip -dc "$src" > "$dst" ;;
		*)        cp "$src" "$dst" ;;
		esac
		echo "$n.ko" >> "$root/etc/modules"
	done
	msg "modules: ${order[*]}"

	install -m 755 "$(command -v busybox)" "$root/bin/busybox"
	for a in $(busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	for t in $tools; do
		p=$(command -v "$t")
		for f in $(bin_files "$p"); do
			if [ "$f" = "$p" ]; then
				install -D -m 755 "$(readlink -f "$f")" "$root/usr/bin/$t"
			else
				install -D -m 755 "$(readlink -f "$f")" "$root$f"
			fi
		done
	done

	install -m 755 "$here/guest/init" "$root/init"
	install -m 755 "$here/guest/udhcpc.script" "$root/etc/udhcpc.script"
	install -m 755 "$here/guest/dhcp6c" "$root/usr/bin/dhcp6c"
	"$cc" -static -O2 -Wall -Wextra -Werror -o "$root/usr/bin/ramp" \
		"$here/guest/ramp.c" || die "cannot build test/guest/ramp.c"
	echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
	echo "root:x:0:" > "$root/etc/group"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$root/etc/hosts"
	echo guest > "$root/etc/hostname"

	(cd "$root" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -6 > "$tmp/initramfs.gz"
	cp "$kx/boot/vmlinuz-$kver" "$tmp/vmlinuz"
	if pvh_vmlinux "$tmp/vmlinuz" "$tmp/kernel"; then
		msg "booting the uncompressed kernel through its PVH entry"
	else
		msg "no PVH entry point: booting the compressed vmlinuz"
		cp "$tmp/vmlinuz" "$tmp/kernel"
	fi

	mv -f "$tmp/vmlinuz" "$cache/vmlinuz"
	mv -f "$tmp/kernel" "$cache/kernel"
	mv -f "$tmp/initramfs.gz" "$cache/initramfs.gz"
	echo "$kver" > "$cache/kernel.version"
	echo "$stamp" > "$cache/guest.stamp"
	rm -rf "$tmp"
	trap - EXIT
	msg "built $cache/kernel ($kver), $cache/initramfs.gz" \
	    "($(du -k "$cache/initramfs.gz" | cut -f1) KiB)"
fi

[ -n "$check" ] || exit 0

# Boot once with no NIC at all: the console loop must answer
. "$here/lib.sh"
lib_init
t0=$(now)
qemu_start "" || die "guest did not boot; console: $(tail -5 "$QEMU_CONSOLE")"
msg "guest console ready after $(elapsed "$t0") s"
out=$(guest_run 'uname -r; lsmod | cut -d" " -f1 | sort | tr "\n" " "') ||
	die "guest_run failed"
echo "$out"
case "$out" in
*virtio_net*) msg "virtio_net loaded" ;;
*) die "virtio_net not loaded" ;;
esac
qemu_stop
