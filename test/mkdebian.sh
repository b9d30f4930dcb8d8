#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mkdebian.sh - build the distribution guest: Debian from its own packages
#
# A Debian root file system made by debootstrap (variant minbase) from the
# mirror and release this machine's apt uses, with systemd as init,
# systemd-networkd (DHCPv4, RA, DHCPv6) and systemd-resolved configuring
# the network, and socat and iproute2 for the tests.  It boots the test
# kernel of test/mkguest.sh; a small busybox initramfs loads the virtio
# and ext4 modules of that kernel's package and switches to the disk.  On
# the console, a systemd unit serves the protocol of test/lib.sh's
# guest_run() (see test/guest/init), so the tests drive it as they drive
# the busybox guest.
#
# Output, in test/.cache/debian/ (never committed):
#   rootfs.img      raw ext4 image of the root file system, for virtio-blk
#                   (boot it with snapshot=on: it stays as built)
#   initrd.gz       busybox, the modules, and an /init that mounts
#                   /dev/vda and hands over to systemd
#   debian.stamp    hash of every input; the build is skipped while it holds
#   build.log       debootstrap's output, for a failed build
#
# Usage: test/mkdebian.sh [--force]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${GUEST_CACHE:-$here/.cache}
out=$cache/debian

# Modules the initramfs loads, with what they need (modprobe resolves it)
mods_wanted="virtio_pci virtio_blk virtio_net ext4 crc32c_generic"
# What the guest has besides minbase (debootstrap resolves no alternatives:
# dbus stands for the dbus-system-bus systemd-resolved depends on)
pkgs="systemd systemd-sysv systemd-resolved dbus udev iproute2 socat"
img_mib=1024

force=
for a in "$@"; do
	case "$a" in
	--force) force=1 ;;
	*) echo "usage: $0 [--force]" >&2; exit 1 ;;
	esac
done

msg() { echo "mkdebian: $*" >&2; }
die() { msg "$*"; exit 1; }

for t in debootstrap mkfs.ext4 busybox cpio gzip dpkg-deb modprobe depmod; do
	command -v "$t" >/dev/null || die "missing $t (run test/setup.sh)"
done

# The kernel to boot, and the package its modules come from
"$here/mkguest.sh" || die "test/mkguest.sh failed"
kpkg=$(cat "$cache/kernel.pkg")
deb=$(ls "$cache/deb/${kpkg}_"*.deb 2>/dev/null | tail -1 || true)
[ -n "$deb" ] || die "no $kpkg package in $cache/deb"

# apt_mirror() - the first URI apt takes this release's main from
# @1:	release (codename)
apt_mirror() {
	local f
	# One-line format: deb [options] URI SUITE COMPONENTS...
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -e 's/\[[^]]*\]//' "$f" |
			awk -v s="$1" '$1 == "deb" && $3 == s { print $2; exit }'
	done
	# deb822: a stanza with Types deb and the suite among its Suites
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$1" '
			function flush() {
				if (deb && suite && uri != "") { print uri; exit }
				deb = 0; suite = 0; uri = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) suite = 1 }
			tolower($1) == "uris:" { uri = $2 }
			END { flush() }' "$f"
	done
}

release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$release" ] || die "no VERSION_CODENAME in /etc/os-release"
mirror=$(apt_mirror "$release" | head -1)
[ -n "$mirror" ] || die "apt has no source for $release"

# Everything the image is made of: change any of it, and it is rebuilt
inputs() {
	sha256sum < "$here/mkdebian.sh"
	echo "$(basename "$deb") $release $mirror"
	for f in $(command -v busybox) $(command -v debootstrap); do
		echo "$f $(sha256sum < "$(readlink -f "$f")")"
	done
}
stamp=$(inputs | sha256sum | cut -d' ' -f1)

if [ -z "$force" ] && [ -s "$out/rootfs.img" ] && [ -s "$out/initrd.gz" ] &&
   [ "$(cat "$out/debian.stamp" 2>/dev/null)" = "$stamp" ]; then
	msg "Debian guest up to date ($release)"
	exit 0
fi

msg "building Debian $release from $mirror (takes minutes)"
t0=$SECONDS
mkdir -p "$out"
tmp=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# --- root file system ------------------------------------------------------
debootstrap --variant=minbase --include="${pkgs// /,}" "$release" "$root" \
	"$mirror" >"$out/build.log" 2>&1 || {
	cat "$root/debootstrap/debootstrap.log" >>"$out/build.log" 2>/dev/null
	die "debootstrap failed, see $out/build.log: $(tail -3 "$out/build.log")"
}

echo guest > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tguest\n::1\tlocalhost\n' \
	> "$root/etc/hosts"
: > "$root/etc/fstab"
# No password for root: the console unit below needs no login anyway
sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"

# Every Ethernet link by DHCPv4, RA and DHCPv6 (the daemon's RA has M set);
# the MTU too, as the busybox guest takes it
cat > "$root/etc/systemd/network/50-wired.network" <<'EOF'
[Match]
Type=ether

[Network]
DHCP=yes
IPv6AcceptRA=yes

[DHCPv4]
UseMTU=yes
EOF
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

# The console protocol of test/lib.sh guest_run(), as a unit on ttyS0
cat > "$root/usr/local/sbin/test-console" <<'EOF'
#!/bin/sh
# test-console - serve test/lib.sh guest_run() commands on the console:
# "TAG TIMEOUT BASE64" in, "@@BEGIN TAG@@", output, "@@END TAG RC@@" out
stty -echo
echo
echo "@@READY@@"
while read -r tag tmo b64; do
	[ -n "$tag" ] && [ -n "$b64" ] || continue
	echo "$b64" | base64 -d > /run/test-cmd
	echo "@@BEGIN $tag@@"
	timeout -s KILL "$tmo" sh /run/test-cmd </dev/null 2>&1
	rc=$?
	echo
	echo "@@END $tag $rc@@"
done
EOF
chmod 755 "$root/usr/local/sbin/test-console"
cat > "$root/etc/systemd/system/test-console.service" <<'EOF'
[Unit]
Description=Test harness console on ttyS0
After=systemd-networkd.service systemd-resolved.service
Conflicts=serial-getty@ttyS0.service

[Service]
ExecStart=/usr/local/sbin/test-console
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=yes
Restart=always
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' \
	> "$root/etc/systemd/journald.conf.d/test.conf"

# Enable what the test needs, mask what only costs boot time under TCG
chroot "$root" systemctl -q enable systemd-networkd systemd-resolved \
	test-console
chroot "$root" systemctl -q mask getty@tty1 serial-getty@ttyS0 \
	systemd-networkd-wait-online apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap fstrim.timer \
	systemd-timesyncd systemd-hwdb-update systemd-update-utmp \
	systemd-journal-flush systemd-random-seed 2>/dev/null || true
chroot "$root" systemctl -q set-default multi-user.target
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

# --- initramfs: modules, then the disk -------------------------------------
ird=$tmp/initrd
kx=$tmp/kernel
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
dpkg-deb -x "$deb" "$kx"
kver=$(ls "$kx/lib/modules" | head -1)
[ -s "$kx/lib/modules/$kver/modules.dep" ] || depmod -b "$kx" "$kver"
# shellcheck disable=SC2086 # one argument a module
# modprobe lists them in load order, a module after what it needs; not
# crc32c-intel, a soft dependency of ext4 that needs SSE 4.2, which TCG's
# CPU lacks (crc32c_generic does the work)
modprobe -d "$kx" -S "$kver" --show-depends -a $mods_wanted |
	awk '$1 == "insmod" && $2 !~ /crc32c-intel/ && !seen[$2]++ { print $2 }' \
	> "$tmp/mods" ||
	die "modprobe cannot resolve $mods_wanted in $kver"
grep -q '/virtio_blk\.ko$' "$tmp/mods" && grep -q '/ext4\.ko$' "$tmp/mods" ||
	die "modprobe found no virtio_blk or ext4 in $kver"
while read -r m; do
	cp "$m" "$ird/lib/modules/"
	echo "${m##*/}" >> "$ird/lib/modules/order"
done < "$tmp/mods"
install -m 755 "$(command -v busybox)" "$ird/bin/busybox"
for a in sh mount insmod switch_root sleep echo; do
	ln -s busybox "$ird/bin/$a"
done
cat > "$ird/init" <<'EOF'
#!/bin/sh
# init - load the virtio and ext4 modules, mount /dev/vda, start systemd
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null || echo "initrd: insmod $m failed"
done < /lib/modules/order
i=0
until [ -b /dev/vda ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: no /dev/vda"; exec sh; }
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$ird/init"
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -6 > "$tmp/initrd.gz"

# --- disk image ------------------------------------------------------------
rm -f "$tmp/rootfs.img"
truncate -s "${img_mib}M" "$tmp/rootfs.img"
mkfs.ext4 -q -F -L debian -d "$root" "$tmp/rootfs.img" ||
	die "mkfs.ext4 -d failed"

mv -f "$tmp/rootfs.img" "$out/rootfs.img"
mv -f "$tmp/initrd.gz" "$out/initrd.gz"
echo "$stamp" > "$out/debian.stamp"
rm -rf "$tmp"
trap - EXIT
msg "built $out/rootfs.img ($(du -k "$out/rootfs.img" | cut -f1) KiB used)" \
    "in $((SECONDS - t0)) s"
