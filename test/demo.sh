#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh - the main job, shown: a QEMU guest on the daemon gets its address
# by DHCP and pings its gateway
#
# Builds the daemon and the guest if needed, then, inside private network
# namespaces (nothing leaves the machine): starts passt --vhost-user, boots
# a small guest connected to it, runs the guest's DHCP client, shows the
# guest's `ip addr`, `ip route` and a ping of the gateway, and tears it all
# down.  Exit status 0 if the guest got its lease and the ping answered.
# Run as root from anywhere: test/demo.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

say() {
	printf '\n== %s\n' "$*"
}

# show() - run a command in the guest, printing it and its output
show() {
	local out rc=0
	echo "guest# $1"
	out=$(guest_run -t 30 "$1") || rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/^/    /'
	return $rc
}

main() {
	local t0

	if [ -z "${PASST_NO_BUILD:-}" ]; then
		say "Installing what is missing (test/setup.sh), building the daemon"
		sh "$here/setup.sh" >/dev/null
		make -s -C "$REPO" passt
	fi
	[ -x "$PASST" ] || { echo "no daemon binary at $PASST" >&2; exit 1; }

	say "Building the test guest (cached in test/.cache/)"
	"$here/mkguest.sh"

	lib_init
	ns_setup || { echo "namespace set-up failed" >&2; exit 1; }
	say "Network namespaces: $NS (daemon), $PEER (peer)"
	echo "namespace addresses, which the guest will be given:"
	in_ns ip -br addr show dev veth0 | sed 's/^/    /'
	in_ns ip route show default | sed 's/^/    /'

	say "Starting: passt --vhost-user --socket $WORK/passt.sock (in $NS)"
	daemon_start passt || { lib_keep; exit 1; }
	echo "daemon running, pid $PASST_PID, log $PASST_LOG"

	say "Booting the guest: QEMU with -netdev vhost-user on that socket"
	t0=$(now)
	qemu_start "$PASST_SOCK" || { lib_keep; exit 1; }
	echo "guest console ready after $(elapsed "$t0") s"

	say "DHCP in the guest"
	show 'udhcpc -i eth0 -s /etc/udhcpc.script -O mtu -n -q -f -t 5 -T 2' ||
		{ echo "no lease" >&2; daemon_tail passt; lib_keep; exit 1; }
	echo "lease after $(elapsed "$t0") s from QEMU start"

	say "What the guest sees"
	show 'ip addr show eth0'
	show 'ip route'

	say "Ping of the gateway 192.0.2.2 (answered by the host's loopback)"
	if ! show 'ping -c 3 -W 3 192.0.2.2'; then
		echo "ping failed" >&2
		daemon_tail passt
		lib_keep
		exit 1
	fi

	say "Tearing down"
	qemu_stop
	daemon_stop
	echo "done"
}

main "$@"
