# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# distro.sh - a real distribution as the guest (sourced by run.sh)
#
# The Debian guest of test/mkdebian.sh boots under TCG against the daemon,
# and its own network stack configures itself: systemd-networkd takes the
# DHCPv4 lease, the RA (route, SLAAC) and a DHCPv6 address, and
# systemd-resolved the DNS server.  Nothing in the guest is set by hand.
# The tests check what a user of that guest would: the addresses and
# routes the daemon announced, a name resolved through the daemon's DNS
# forwarding to dnsmasq on 127.0.0.53 in the daemon's namespace (see
# tcp_udp.sh, tu_dnsmasq: any name under host.example.test is 192.0.2.77
# and 2001:db8::77), and TCP and UDP through the gateways to host-side
# echo servers on the loopback, both ways, IPv4 and IPv6, by content.
# Host-side ports, on 127.0.0.1 and ::1: TCP 10200 (echo after EOF, "ack "
# and the data), UDP 5200 (echo, "host:" and the data).
#
# Uses from run.sh and tcp_udp.sh: run_test, fail, oneline,
# daemon_running, tu_dnsmasq, tu_server, TU_HOST.

DG_DIR=${GUEST_CACHE:-$LIB_HERE/.cache}/debian
DG_TOKEN=
DG_BOOT=		# seconds from QEMU's start to the console

# Shell functions for guest commands: the Ethernet link networkd manages
# (its name is udev's, predictable), and waiting for a condition
DG_G='dev=$(for l in /sys/class/net/*; do
	[ "$(cat "$l/type")" = 1 ] && [ -e "$l/device" ] && { echo "${l##*/}"; break; }
done)
until_ok() {
	i=0; n=$1; shift
	until eval "$*"; do
		i=$((i + 1)); [ $i -lt $((n * 10)) ] || return 1; sleep 0.1
	done
}
'

# dg_resolver() - dnsmasq on 127.0.0.53 in the namespace, unless the TCP/UDP
# group left one there
dg_resolver() {
	in_ns ss -lnu 2>/dev/null | grep -q '127\.0\.0\.53:53 ' && return 0
	tu_dnsmasq
}

# dg_start() - image, host ends, daemon, and the boot of the Debian guest
dg_start() {
	local t0
	DG_TOKEN=d${RANDOM}${RANDOM}
	"$LIB_HERE/mkdebian.sh" 2>"$WORK/mkdebian.err" ||
		fail "test/mkdebian.sh failed: $(tail -3 "$WORK/mkdebian.err" | oneline)" ||
		return 1
	sed 's/^/# /' "$WORK/mkdebian.err"
	dg_resolver || fail "dnsmasq did not start" || return 1
	tu_server dgtcp4.rep echo 127.0.0.1 10200 REP 1 0 &&
	tu_server dgtcp6.rep echo ::1 10200 REP 1 0 &&
	tu_server dgudp4.rep udp-echo 127.0.0.1 5200 REP &&
	tu_server dgudp6.rep udp-echo ::1 5200 REP ||
		fail "host-side servers did not start" || return 1
	daemon_start distro 2>"$WORK/distro.err" ||
		fail "daemon did not start: $(oneline < "$WORK/distro.err")" ||
		return 1
	t0=$(now)
	# The test kernel, the Debian image's initrd and its disk (snapshot:
	# the image stays as built); the later -append replaces lib.sh's
	# shellcheck disable=SC2034 # read by qemu_launch (dynamic scope)
	local GUEST_KERNEL=${GUEST_CACHE:-$LIB_HERE/.cache}/kernel
	# shellcheck disable=SC2034
	local GUEST_INITRD=$DG_DIR/initrd.gz
	qemu_start "$PASST_SOCK" \
		-drive "file=$DG_DIR/rootfs.img,if=virtio,format=raw,snapshot=on" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1 systemd.show_status=0" \
		2>"$WORK/qemu_start.err" ||
		fail "Debian guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	DG_BOOT=$(elapsed "$t0")
	echo "# Debian guest console ready after $DG_BOOT s"
}

# dg_ipv4() - networkd's DHCPv4 lease: 192.0.2.1/24, default via 192.0.2.2,
# the MTU of the daemon's option 26 (networkd takes it: UseMTU, mkdebian.sh)
dg_ipv4() {
	local out
	daemon_running || return 1
	out=$(guest_run -t 60 "$DG_G
		until_ok 50 'ip -4 route show default | grep -q via' || echo timeout
		echo dev=\$dev
		ip -4 addr show dev \$dev; ip -4 route show default
		cat /run/systemd/netif/leases/*") ||
		fail "ip failed: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -q '^dev=.' ||
		fail "no Ethernet link in the guest: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -qx 'ADDRESS=192.0.2.1' ||
		fail "networkd holds no lease of 192.0.2.1: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -Eq 'inet 192\.0\.2\.1/24 .*scope global' ||
		fail "no address 192.0.2.1/24: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -Eq "mtu $MTU_DEFAULT " ||
		fail "link MTU is not the leased $MTU_DEFAULT: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -Eq '^default via 192\.0\.2\.2 dev [a-z0-9]+ proto dhcp' ||
		fail "no default route via 192.0.2.2 from DHCP: $(echo "$out" | oneline)"
}

# dg_ipv6() - RA: default route via fe80::1, SLAAC address in
# 2001:db8::/64; DHCPv6: 2001:db8::1/128; none of them tentative
dg_ipv6() {
	local out
	daemon_running || return 1
	out=$(guest_run -t 60 "$DG_G
		until_ok 40 'ip -6 addr show dev \$dev scope global | grep -q \"2001:db8::1/128\" &&
			ip -6 addr show dev \$dev scope global | grep -q \"2001:db8::[0-9a-f:]*/64\" &&
			! ip -6 addr show dev \$dev | grep -q tentative &&
			ip -6 route show default | grep -q via' || echo timeout
		ip -6 addr show dev \$dev scope global; ip -6 route show default") ||
		fail "ip failed: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -q 'inet6 2001:db8::1/128 scope global' ||
		fail "no DHCPv6 address 2001:db8::1/128: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -Eq 'inet6 2001:db8::[0-9a-f:]+/64 scope global' ||
		fail "no SLAAC address in 2001:db8::/64: $(echo "$out" | oneline)" ||
		return 1
	! echo "$out" | grep -q tentative ||
		fail "address still tentative: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -Eq '^default via fe80::1 dev [a-z0-9]+ proto ra' ||
		fail "no default route via fe80::1 from the RA: $(echo "$out" | oneline)"
}

# dg_dns() - getent through glibc, resolved's stub and the daemon's DNS
# forwarding to the namespace's dnsmasq: A and AAAA of a fresh name
dg_dns() {
	local out name=$DG_TOKEN.host.example.test
	daemon_running || return 1
	out=$(guest_run -t 40 "
		readlink -f /etc/resolv.conf
		SYSTEMD_COLORS=0 resolvectl dns 2>&1
		getent ahostsv4 $name | head -1
		getent ahostsv6 $name | head -1") ||
		fail "resolution failed: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -qx '/run/systemd/resolve/stub-resolv.conf' ||
		fail "resolv.conf is not resolved's stub: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -q ': .*192\.0\.2\.2' ||
		fail "resolved did not learn 192.0.2.2 by DHCP: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -Eq '^192\.0\.2\.77 +STREAM' ||
		fail "no A 192.0.2.77 for $name: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -Eq '^2001:db8::77 +STREAM' ||
		fail "no AAAA 2001:db8::77 for $name: $(echo "$out" | oneline)" ||
		return 1
	grep -Eq "query\[A\] $name from (127\.0\.0\.1|::1)" "$WORK/dnsmasq.log" ||
		fail "dnsmasq saw no query for $name from the loopback"
}

# dg_tcp() - 256 KiB of random data to the echo of each host loopback,
# through 192.0.2.2 and 2001:db8::2: the answer is "ack " and the same data
dg_tcp() {
	local out
	daemon_running || return 1
	out=$(guest_run -t 90 "
		head -c 262144 /dev/urandom > /tmp/blob
		want=\$({ printf 'ack '; cat /tmp/blob; } | sha256sum)
		bad=0
		for dst in TCP4:192.0.2.2:10200 TCP6:[2001:db8::2]:10200; do
			socat -t 30 - \$dst < /tmp/blob > /tmp/ans 2>/tmp/err
			got=\$(sha256sum < /tmp/ans)
			[ \"\$got\" = \"\$want\" ] && echo \"ok \$dst\" || {
				echo \"\$dst: \$(wc -c < /tmp/ans) bytes back, not the echo: \$(head -c 200 /tmp/err)\"
				bad=1; }
		done
		exit \$bad") ||
		fail "$(echo "$out" | oneline)"
}

# dg_udp() - a datagram to the echo of each host loopback and its answer
dg_udp() {
	local out
	daemon_running || return 1
	out=$(guest_run -t 40 "
		bad=0
		for dst in UDP4:192.0.2.2:5200 UDP6:[2001:db8::2]:5200; do
			want=\"udp-$DG_TOKEN-\$dst\"
			got=\$(echo \"\$want\" | socat -t 3 - \$dst 2>&1)
			[ \"\$got\" = \"host:\$want\" ] && echo \"ok \$dst\" || {
				echo \"\$dst: got '\$got'\"; bad=1; }
		done
		exit \$bad") ||
		fail "$(echo "$out" | oneline)"
}

distro_tests() {
	local t0
	t0=$(now)
	run_test "Debian guest (debootstrap, systemd) boots under TCG on the daemon" \
		dg_start
	run_test "Debian: networkd leases 192.0.2.1/24, via 192.0.2.2, MTU $MTU_DEFAULT by DHCPv4" \
		dg_ipv4
	run_test "Debian: networkd takes the RA (fe80::1, SLAAC) and DHCPv6 2001:db8::1" \
		dg_ipv6
	run_test "Debian: getent resolves A and AAAA via resolved and the daemon's DNS" \
		dg_dns
	run_test "Debian: TCP to the host over IPv4 and IPv6, 256 KiB echoed" dg_tcp
	run_test "Debian: UDP to the host over IPv4 and IPv6, echoed" dg_udp
	if [ -n "$PASST_PID" ] && ! pid_alive "$PASST_PID"; then
		echo "# the distribution guest's daemon died:"
		daemon_tail distro 10 2>&1
	fi
	qemu_stop
	daemon_stop
	echo "# distribution guest tests: $(elapsed "$t0") s"
}
