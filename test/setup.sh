#!/bin/sh
# setup.sh - install everything the build and the test suite need, on Debian 12
#
# Idempotent: run it as often as you like.  Adds bookworm-backports (QEMU 10
# lives there: bookworm's own 7.2 lacks vhost-user device-state migration;
# so does libvirt 11.3, the first to start passt for a vhost-user
# interface, test/libvirt.sh).  libvirt pulls systemd's libraries from
# there too: test/bench.sh then takes dpdk-dev from there as well.
set -eu

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root" >&2; exit 1; }

bp=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deb http://deb.debian.org/debian bookworm-backports main" > "$bp"
fi

pkgs="build-essential pkg-config libseccomp-dev libcap-ng-dev libcmocka-dev
      valgrind busybox-static cpio iperf3 socat iproute2 kmod xz-utils
      zstd cppcheck clang-tidy procps python3 dnsmasq-base debootstrap e2fsprogs
      clang libclang-rt-14-dev"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
qemu_ok=
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
	v=$(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
	[ "${v:-0}" -ge 10 ] && qemu_ok=1
fi

if [ -n "$missing" ] || [ -z "$qemu_ok" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update >/dev/null
	[ -z "$missing" ] || apt-get -q -y install --no-install-recommends $missing
	[ -n "$qemu_ok" ] || apt-get -q -y install --no-install-recommends \
		-t bookworm-backports qemu-system-x86 qemu-system-common \
		qemu-system-data ipxe-qemu seabios
fi

# libvirt 11.3: its QEMU driver, its log daemon and virsh.  The driver
# depends on "qemu-kvm | qemu-system": qemu-system-x86 above, QEMU 10,
# provides qemu-kvm, so bookworm's QEMU 7.2 never comes in.
lv=$(virsh --version 2>/dev/null || echo 0)
if ! dpkg-query -W -f='${Status}' libvirt-daemon-driver-qemu 2>/dev/null |
	grep -q 'ok installed' || [ "${lv%%.*}" -lt 11 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update >/dev/null
	apt-get -q -y install --no-install-recommends -t bookworm-backports \
		libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients
fi
qemu-system-x86_64 --version | head -1
echo "libvirt $(virsh --version)"
