# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# tcp_udp.sh - integration tests of TCP, UDP, DNS and IPv6 (sourced by run.sh)
#
# One daemon, one guest boot for all of them.  The daemon runs with TCP
# ports 10001-10003 and UDP ports 10011-10012 forwarded to the guest.  In
# the daemon's namespace, test/l4host.py plays the host side on the
# loopback (the guest reaches it through the gateway 192.0.2.2, 2001:db8::2
# or fe80::1), and dnsmasq answers DNS on 127.0.0.53, the namespace's
# resolver.  Host-side ports, all on 127.0.0.1 and ::1:
#   10100  sink: 100 MiB guest to host, IPv4 (10101: IPv6)
#   10102  echo, answers held until 200 connections are open at once
#   10103  echo (half-close), answers at once
#   10104  reset watcher
#   10999  nothing: connection refused
#   5000   UDP echo
# Guest side, reached through the forwards: TCP 10001 (sha256 of what
# arrives), TCP 10002 (answers after EOF), UDP 10011 (echo naming the peer).
# Every transfer is checked by content: SHA-256 of the bytes, or the exact
# bytes of an answer that depends on what was sent.
#
# Uses from run.sh: run_test, fail, oneline, daemon_running, DHCP_CMD.

TU_HOST=${LIB_HERE}/l4host.py
TU_TOKEN=
TU_BIG=$((100 * 1024 * 1024))	# guest to host, bytes
TU_H2G=$((16 * 1024 * 1024))	# host to guest: the guest's sha256 is slow
TU_GW6_LL=fe80::1	# our link-local address; t_tu_ipv6 reads it from the RA

# Shell functions for guest commands: wl PORT [PROTO] waits for a listener
TU_G='wl() {
	i=0
	while ! netstat -ln${2:-t} 2>/dev/null | grep -q ":$1 "; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "no listener on $1"; return 1; }
		sleep 0.1
	done
}
'

# tu_bg() - start a host-side process in the daemon's namespace, recorded
# for the teardown
tu_bg() {
	ip netns exec "$NS" "$@" </dev/null >>"$WORK/tu_bg.out" 2>&1 &
	LIB_PIDS+=("$!")
}

# tu_server() - start an l4host.py server; wait until it listens
# @1:	report file name in $WORK
# @@:	mode and arguments, the report path given as REP
tu_server() {
	local rep=$WORK/$1 a args=() n=100
	shift
	for a in "$@"; do
		[ "$a" = REP ] && a=$rep
		args+=("$a")
	done
	rm -f "$rep" "$rep.ready"
	tu_bg python3 "$TU_HOST" "${args[@]}"
	while [ ! -e "$rep.ready" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || { lib_log "l4host.py $* did not start"; return 1; }
		sleep 0.05
	done
}

# tu_wait_file() - wait up to $2 seconds (default 10) for a non-empty file
tu_wait_file() {
	local n=$((${2:-10} * 20))
	while [ ! -s "$1" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.05
	done
}

# tu_hex() - hex of a string, no spaces
tu_hex() {
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'
}

# tu_unhex() - bytes of a hex string, shown printable
tu_unhex() {
	python3 -c 'import sys; sys.stdout.write(bytes.fromhex(sys.argv[1]).decode("latin-1"))' "$1"
}

# tu_addr() - an address as Python's ipaddress writes it: socat prints IPv6
# peers in full, in brackets; empty output if it isn't an address
tu_addr() {
	python3 -c 'import ipaddress, sys
try:
    print(ipaddress.ip_address(sys.argv[1].strip("[]")))
except ValueError:
    pass' "$1"
}

# tu_dnsmasq() - a resolver on 127.0.0.53 in the daemon's namespace
tu_dnsmasq() {
	command -v dnsmasq >/dev/null ||
		{ lib_log "dnsmasq missing (test/setup.sh installs dnsmasq-base)"; return 1; }
	tu_bg dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --bind-interfaces --listen-address=127.0.0.53 \
		--port=53 --user=root --group=root --pid-file= \
		--address=/host.example.test/192.0.2.77 \
		--address=/host.example.test/2001:db8::77 \
		--log-queries --log-facility="$WORK/dnsmasq.log"
	local n=100
	until in_ns ss -lnu 2>/dev/null | grep -q '127\.0\.0\.53:53 '; do
		n=$((n - 1))
		[ $n -gt 0 ] || { lib_log "dnsmasq did not start"; return 1; }
		sleep 0.05
	done
}

# --- set-up ----------------------------------------------------------------
# tu_start() - host ends, the daemon with forwards, the guest, DHCPv4
tu_start() {
	local out
	TU_TOKEN=t${RANDOM}${RANDOM}
	tu_dnsmasq || fail "dnsmasq did not start" || return 1
	tu_server big4.rep sink 127.0.0.1 10100 REP &&
	tu_server big6.rep sink ::1 10101 REP &&
	tu_server many.rep echo 127.0.0.1 10102 REP 200 60 &&
	tu_server half4.rep echo 127.0.0.1 10103 REP 1 0 &&
	tu_server half6.rep echo ::1 10103 REP 1 0 &&
	tu_server reset.rep reset 127.0.0.1 10104 REP &&
	tu_server udp4.rep udp-echo 127.0.0.1 5000 REP &&
	tu_server udp6.rep udp-echo ::1 5000 REP ||
		fail "host-side servers did not start" || return 1
	daemon_start tcpudp -t 10001-10003 -u 10011-10012 \
		2>"$WORK/tcpudp.err" ||
		fail "daemon did not start: $(oneline < "$WORK/tcpudp.err")" ||
		return 1
	qemu_start "$PASST_SOCK" 2>"$WORK/qemu_start.err" ||
		fail "guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	out=$(guest_run -t 30 "$DHCP_CMD" 2>&1) ||
		fail "no DHCPv4 lease: $(echo "$out" | oneline)"
}

# --- IPv6 configuration ----------------------------------------------------
# busybox has no DHCPv6 client: test/guest/dhcp6c sends a Solicit with Rapid
# Commit from sh and socat, and adds the leased address as a /128.  The
# default route (via fe80::1) and the on-link /64 come from the daemon's RA
# (the guest kernel also makes a SLAAC address from the prefix).  No address
# is set statically.
t_tu_ipv6() {
	local out lease ll
	daemon_running || return 1
	out=$(guest_run -t 20 'i=0
		until ip -6 route show default | grep -q "via fe80:.* dev eth0"; do
			i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
		done
		ip -6 route show default; ip -6 route show 2001:db8::/64') ||
		fail "ip -6 route failed: $(echo "$out" | oneline)" || return 1
	ll=$(echo "$out" | sed -n 's/^default via \(fe80:[0-9a-f:]*\) dev eth0.*/\1/p')
	[ -n "$ll" ] ||
		fail "no default route via a link-local router from the RA: $(echo "$out" | oneline)" ||
		return 1
	# The later tests use the router the RA named, so that they say
	# something about another daemon too; ours is documented as fe80::1
	TU_GW6_LL=$ll
	echo "$out" | grep -q '^2001:db8::/64 dev eth0' ||
		fail "no on-link 2001:db8::/64 from the RA: $(echo "$out" | oneline)" ||
		return 1
	lease=$(guest_run -t 20 'dhcp6c -a') ||
		fail "DHCPv6: $(echo "$lease" | oneline)" || return 1
	echo "$lease" | grep -qx 'type=7' ||
		fail "DHCPv6 ended without a Reply: $(echo "$lease" | oneline)" ||
		return 1
	echo "$lease" | grep -qx 'addr=2001:0db8:0000:0000:0000:0000:0000:0001' ||
		fail "DHCPv6 leased $(echo "$lease" | oneline), want 2001:db8::1" ||
		return 1
	echo "$lease" | grep -qx 'search=example.test' ||
		fail "DHCPv6 search list: $(echo "$lease" | oneline), want example.test" ||
		return 1
	out=$(guest_run 'ip -6 addr show dev eth0 scope global')
	echo "$out" | grep -q 'inet6 2001:db8::1/128 scope global' &&
		! echo "$out" | grep -q tentative ||
		fail "eth0 addresses: $(echo "$out" | oneline)" || return 1
	if echo "$lease" | grep -qx 'via=advertise'; then
		echo "# DHCPv6: Solicit, Advertise, Request, Reply (no Rapid Commit)"
	else
		echo "# DHCPv6: Solicit, Reply (Rapid Commit)"
	fi
	[ "$ll" = fe80::1 ] ||
		fail "RA router is $ll, want fe80::1 (passt.1)"
}

# --- ICMP ------------------------------------------------------------------
t_tu_ping() {
	local a
	daemon_running || return 1
	for a in 192.0.2.2 192.0.2.3; do
		guest_run -t 15 "ping -c 2 -W 3 $a" >/dev/null 2>&1 ||
			fail "ping $a: no reply" || return 1
	done
	for a in 2001:db8::2 "$TU_GW6_LL%eth0" 2001:db8::3; do
		guest_run -t 15 "ping6 -c 2 -W 3 $a" >/dev/null 2>&1 ||
			fail "ping6 $a: no reply" || return 1
	done
	! guest_run -t 15 'ping6 -c 1 -W 2 2001:db8::99' >/dev/null 2>&1 ||
		fail "ping6 reply from 2001:db8::99, where nothing is"
}

# --- DNS -------------------------------------------------------------------
# Query host.example.test A over TCP by hand: busybox nslookup is UDP only
TU_DNS_Q=12340100000100000000000004686f7374076578616d706c65047465737400\
00010001

t_tu_dns() {
	local out hex
	daemon_running || return 1
	out=$(guest_run -t 20 'cat /etc/resolv.conf; nslookup host.example.test') ||
		fail "nslookup failed: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -q '^nameserver 192\.0\.2\.2$' ||
		fail "guest resolver is not the gateway: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -q '^Address: 192\.0\.2\.77$' ||
		fail "no A 192.0.2.77 over UDP: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -q '^Address: 2001:db8::77$' ||
		fail "no AAAA 2001:db8::77 over UDP: $(echo "$out" | oneline)" ||
		return 1
	# TCP: two-byte length, then the query; answer: same ID, QR set,
	# RCODE 0, and an A record of length 4 holding 192.0.2.77
	hex=$(guest_run -t 20 "printf '0023$TU_DNS_Q' | xxd -r -p |
		socat -t 5 - TCP4:192.0.2.2:53 | od -An -tx1 -v | tr -d ' \n'") ||
		fail "DNS over TCP failed: $hex" || return 1
	[[ $hex =~ ^[0-9a-f]{4}1234(8|9)[0-9a-f]{2}[0-9a-f]0 ]] &&
		[[ $hex == *00010001????????0004c000024d* ]] ||
		fail "DNS over TCP answer wrong: $hex" || return 1
	grep -q 'query\[A\] host.example.test from 127.0.0.1' "$WORK/dnsmasq.log" ||
		fail "dnsmasq did not see the query from the loopback"
}

# --- UDP -------------------------------------------------------------------
# Outbound: the guest to a host echo server through the gateway addresses.
# A 20000-byte datagram (one datagram: socat -b) must come back whole.
t_tu_udp_out() {
	local out
	daemon_running || return 1
	out=$(guest_run -t 30 "
		head -c 20000 /dev/urandom > /tmp/u
		n=0
		for dst in 192.0.2.2 '[2001:db8::2]' '[$TU_GW6_LL%eth0]'; do
			n=\$((n + 1))
			echo \"udp-$TU_TOKEN-\$dst\" > /tmp/us\$n
			socat -t 2 - UDP:\$dst:5000 < /tmp/us\$n > /tmp/usr\$n 2>&1 &
			socat -b 65536 -t 2 - UDP:\$dst:5000 < /tmp/u > /tmp/ur\$n 2>&1 &
		done
		wait
		n=0; bad=0
		for dst in 192.0.2.2 '[2001:db8::2]' '[$TU_GW6_LL%eth0]'; do
			n=\$((n + 1))
			[ \"\$(cat /tmp/usr\$n)\" = \"host:\$(cat /tmp/us\$n)\" ] || {
				echo \"\$dst small: got '\$(head -c 80 /tmp/usr\$n)'\"; bad=1; }
			[ \"\$(head -c 5 /tmp/ur\$n)\" = host: ] &&
				tail -c +6 /tmp/ur\$n | cmp -s - /tmp/u || {
				echo \"\$dst 20000 bytes: got \$(wc -c < /tmp/ur\$n) bytes, not the same\"
				bad=1; }
		done
		exit \$bad") ||
		fail "UDP echo: $(echo "$out" | oneline)"
}

# Inbound: a host client on the loopback to the guest's echo through -u;
# the guest's answer names the peer it saw, which must be the gateway
t_tu_udp_in() {
	local out hex want spec a peer
	daemon_running || return 1
	out=$(guest_run "$TU_G
		for a in 4 6; do
			o=; [ \$a = 6 ] && o=,ipv6only=1
			socat -T 5 UDP\$a-RECVFROM:10011,reuseaddr,fork\$o \
				SYSTEM:'d=\$(cat); printf \"guest:%s:%s\" \"\$d\" \"\$SOCAT_PEERADDR\"' \
				</dev/null >/tmp/udpecho\$a.log 2>&1 &
		done
		wl 10011 u") || fail "guest UDP echo did not start: $(echo "$out" | oneline)" ||
		return 1
	for spec in "127.0.0.1 192.0.2.2" "::1 2001:db8::2"; do
		read -r a peer <<< "$spec"
		want=udp-in-$TU_TOKEN-$a
		hex=$(in_ns timeout 10 python3 "$TU_HOST" udp-ask "$a" 10011 \
			"$(tu_hex "$want")" 2>&1) ||
			fail "no answer from the guest to $a:10011: $hex" || return 1
		out=$(tu_unhex "$hex")
		[[ $out == "guest:$want:"* ]] ||
			fail "guest answered '$out' to $a, want guest:$want:..." ||
			return 1
		[ "$(tu_addr "${out#guest:"$want":}")" = "$peer" ] ||
			fail "guest saw $a as '${out#guest:"$want":}', want the gateway $peer" ||
			return 1
	done
}

# --- TCP -------------------------------------------------------------------
# Guest to host, 100 MiB of random data, through both gateways
t_tu_tcp_big_out() {
	local out sum spec fam dst port rep hsum hbytes hpeer t0 dt
	daemon_running || return 1
	sum=$(guest_run -t 120 "head -c $TU_BIG /dev/urandom | tee /tmp/big |
		sha256sum | cut -d' ' -f1") ||
		fail "guest could not make its data: $sum" || return 1
	[[ $sum =~ ^[0-9a-f]{64}$ ]] || fail "guest sha256: '$sum'" || return 1
	for spec in "4 192.0.2.2 10100 big4" "6 [2001:db8::2] 10101 big6"; do
		read -r fam dst port rep <<< "$spec"
		t0=$(now)
		out=$(guest_run -t 150 "socat -u OPEN:/tmp/big 'TCP$fam:$dst:$port'") ||
			fail "IPv$fam send to $dst:$port failed: $(echo "$out" | oneline)" ||
			return 1
		dt=$(elapsed "$t0")
		tu_wait_file "$WORK/$rep.rep" 20 ||
			fail "IPv$fam: host sink got no EOF within 20 s" || return 1
		read -r hsum hbytes hpeer < "$WORK/$rep.rep"
		[ "$hbytes" = "$TU_BIG" ] && [ "$hsum" = "$sum" ] ||
			fail "IPv$fam: host got $hbytes bytes, sha256 $hsum; sent $TU_BIG, $sum" ||
			return 1
		echo "# IPv$fam guest to host: $TU_BIG bytes in $dt s, sha256 equal, host saw peer $hpeer"
	done
	guest_run 'rm -f /tmp/big' >/dev/null
}

# Host to guest through the -t forward of port 10001, both families
t_tu_tcp_in() {
	local out hsum gsum a fam
	daemon_running || return 1
	head -c "$TU_H2G" /dev/urandom > "$WORK/h2g.bin"
	hsum=$(sha256sum < "$WORK/h2g.bin" | cut -d' ' -f1)
	for a in 127.0.0.1 ::1; do
		fam=4
		[ "$a" = ::1 ] && fam=6
		out=$(guest_run "$TU_G
			rm -f /tmp/h2g.sum
			socat -u TCP$fam-LISTEN:10001,reuseaddr - </dev/null 2>/tmp/h2g.err |
				sha256sum > /tmp/h2g.sum &
			wl 10001") ||
			fail "guest listener: $(echo "$out" | oneline)" || return 1
		[ $fam = 6 ] && a="[::1]"
		out=$(in_ns timeout 60 socat -u "OPEN:$WORK/h2g.bin" \
			"TCP$fam:$a:10001" 2>&1) ||
			fail "host client to $a:10001: $(echo "$out" | oneline)" ||
			return 1
		gsum=$(guest_run -t 60 'i=0
			while [ ! -s /tmp/h2g.sum ] && [ $i -lt 500 ]; do
				sleep 0.1; i=$((i + 1))
			done
			cut -d" " -f1 /tmp/h2g.sum; cat /tmp/h2g.err')
		[ "$gsum" = "$hsum" ] ||
			fail "IPv$fam host to guest: guest sha256 '$(echo "$gsum" | oneline)', sent $hsum" ||
			return 1
	done
}

# Many connections at once: 200 clients in the guest, each with its own
# payload; the host holds every answer until all 200 are open together
t_tu_tcp_many() {
	local out rep
	daemon_running || return 1
	out=$(guest_run -t 120 "
		rm -rf /tmp/cc; mkdir /tmp/cc
		for i in \$(seq 200); do
			(echo \"p\$i-$TU_TOKEN\" | timeout 90 nc 192.0.2.2 10102 > /tmp/cc/\$i 2>&1) &
		done
		wait
		bad=0
		for i in \$(seq 200); do
			[ \"\$(cat /tmp/cc/\$i)\" = \"ack p\$i-$TU_TOKEN\" ] && continue
			bad=\$((bad + 1))
			[ \$bad -le 3 ] && echo \"connection \$i got: \$(head -c 80 /tmp/cc/\$i)\"
		done
		echo bad=\$bad") ||
		fail "guest clients: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -qx 'bad=0' ||
		fail "$(echo "$out" | oneline)" || return 1
	rep=$(cat "$WORK/many.rep" 2>/dev/null)
	[ "$rep" = "peak=200 served=200 bad=0" ] ||
		fail "host side: '$rep', want 200 open at once and 200 answered"
}

# Half-close, guest first: the guest sends and shuts down its write side;
# the host answers only after that EOF.  Host first: the host sends and shuts
# down; the guest's answer, a second later, names the peer it saw.
t_tu_tcp_half() {
	local out dst want hex spec a fam peer
	daemon_running || return 1
	for dst in 192.0.2.2:4 "[$TU_GW6_LL%eth0]:6"; do
		want=half-$TU_TOKEN-${dst%:*}
		out=$(guest_run -t 20 "echo '$want' | socat -t 10 - 'TCP${dst##*:}:${dst%:*}:10103'") ||
			fail "guest client to ${dst%:*}: $(echo "$out" | oneline)" ||
			return 1
		[ "$out" = "ack $want" ] ||
			fail "guest half-closed to ${dst%:*}, got '$(echo "$out" | oneline)', want 'ack $want'" ||
			return 1
	done
	for spec in "127.0.0.1 4 192.0.2.2" "::1 6 2001:db8::2"; do
		read -r a fam peer <<< "$spec"
		out=$(guest_run "$TU_G
			socat -t 10 TCP$fam-LISTEN:10002,reuseaddr \
				SYSTEM:'d=\$(cat); sleep 1; printf \"guest:%s:%s\" \"\$d\" \"\$SOCAT_PEERADDR\"' \
				</dev/null >/tmp/half.log 2>&1 &
			wl 10002") ||
			fail "guest listener: $(echo "$out" | oneline)" || return 1
		want=hc-$TU_TOKEN-$fam
		hex=$(in_ns timeout 20 python3 "$TU_HOST" tcp-ask "$a" 10002 \
			"$(tu_hex "$want")" 2>&1) ||
			fail "host client to $a:10002: $(echo "$hex" | oneline)" ||
			return 1
		out=$(tu_unhex "$hex")
		[[ $out == "guest:$want:"* ]] &&
			[ "$(tu_addr "${out#guest:"$want":}")" = "$peer" ] ||
			fail "host half-closed to $a, got '$out', want 'guest:$want:$peer'" ||
			return 1
	done
}

# Nothing listens on the host's port 10999: the guest must get an RST at
# once ("Connection refused"), not wait for a SYN timeout
t_tu_tcp_refused() {
	local out dst t0 dt
	daemon_running || return 1
	for dst in 4:192.0.2.2 "6:[2001:db8::2]"; do
		t0=$(now)
		out=$(guest_run -t 15 "socat -T 10 - 'TCP${dst%%:*}:${dst#*:}:10999' </dev/null")
		dt=$(elapsed "$t0")
		[[ $out == *"Connection refused"* ]] ||
			fail "to ${dst#*:}:10999: '$(echo "$out" | oneline)', want Connection refused" ||
			return 1
		awk -v d="$dt" 'BEGIN { exit !(d < 5) }' ||
			fail "to ${dst#*:}:10999: refused only after $dt s" || return 1
	done
}

# The guest resets a connection (SO_LINGER 0, then killed): the host side
# must see ECONNRESET or EOF right away
t_tu_tcp_reset() {
	local out how secs
	daemon_running || return 1
	out=$(guest_run -t 20 "timeout -s KILL 2 socat -u TCP4:192.0.2.2:10104,linger=0 /dev/null
		echo done") || true
	tu_wait_file "$WORK/reset.rep" 3 ||
		fail "host socket still open 3 s after the guest reset it (guest: $(echo "$out" | oneline))" ||
		return 1
	read -r how secs < "$WORK/reset.rep"
	case "$how" in
	ECONNRESET|EOF) ;;
	*) fail "host socket ended with $how" || return 1 ;;
	esac
	awk -v d="$secs" 'BEGIN { exit !(d < 5) }' ||
		fail "host saw $how $secs s after accept, the guest reset after 2 s" ||
		return 1
	echo "# guest reset: host saw $how $secs s after accept (guest reset at ~2 s)"
}

# --- resource limits -------------------------------------------------------
TU_RL_NOFILE=64		# the daemon's file limit: ~15 descriptors of its own
TU_RL_KEEP=30		# connections held open: fit
TU_RL_FLOOD=60		# more: some must be refused

# t_tu_rlimit() - with a low file limit, a flood of connections from the
# guest is refused cleanly, held connections keep working, and new ones
# work again once the flood is gone
t_tu_rlimit() {
	local out wrap=$WORK/rlimit-passt keep_pid
	printf '#!/bin/sh\nexec prlimit --nofile=%s:%s %s "$@"\n' \
		"$TU_RL_NOFILE" "$TU_RL_NOFILE" "$PASST" > "$wrap"
	chmod +x "$wrap"
	tu_server rl.rep echo-keep 127.0.0.1 10105 REP ||
		fail "host echo server did not start" || return 1
	PASST=$wrap daemon_start rlimit 2>"$WORK/rlimit.err" ||
		fail "daemon did not start: $(oneline < "$WORK/rlimit.err")" ||
		return 1
	keep_pid=$PASST_PID
	qemu_start "$PASST_SOCK" 2>"$WORK/qemu_start.err" ||
		fail "guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	out=$(guest_run -t 30 "$DHCP_CMD" 2>&1) ||
		fail "no DHCP lease: $(echo "$out" | oneline)" || return 1

	out=$(guest_run -t 60 "$GUEST_FN
		rm -f /tmp/go1 /tmp/go2
		gbg keep ramp -t 120 conns 192.0.2.2 10105 $TU_RL_KEEP /tmp/go1
		gwait /tmp/keep '^open ' 40") ||
		fail "holding $TU_RL_KEEP connections: $(echo "$out" | oneline)" ||
		return 1

	# The flood: refused (a reset, at once), never a hang
	out=$(guest_run -t 60 "touch /tmp/go2
		ramp -t 40 conns 192.0.2.2 10105 $TU_RL_FLOOD /tmp/go2; echo rc=\$?")
	[[ $out == *"rc=1"* ]] ||
		fail "flood of $TU_RL_FLOOD connections not refused: $(echo "$out" | oneline)" ||
		return 1
	[[ $out == *connection*reset* || $out == *connection*refused* || $out == *"Connection reset"* || $out == *"Connection refused"* ]] ||
		fail "flood failed, but not with a reset: $(echo "$out" | oneline)" ||
		return 1
	pid_alive "$keep_pid" ||
		fail "daemon died in the flood: $(daemon_tail rlimit 3 2>&1 | oneline)" ||
		return 1

	out=$(guest_run -t 60 "$GUEST_FN
		touch /tmp/go1
		gwait /tmp/keep '^ok ' 40") ||
		fail "held connections after the flood: $(echo "$out" | oneline)" ||
		return 1
	out=$(guest_run -t 60 "touch /tmp/go3
		ramp -t 40 conns 192.0.2.2 10105 $TU_RL_KEEP /tmp/go3") ||
		fail "new connections after the flood: $(echo "$out" | oneline)" ||
		return 1
	[[ $out == *"ok $TU_RL_KEEP"* ]] ||
		fail "new connections after the flood: $(echo "$out" | oneline)" ||
		return 1
	echo "# file limit $TU_RL_NOFILE: $(grep -c 'TCP flow' "$PASST_LOG") flow log lines, refused: $(grep -ci "too many open files\|EMFILE" "$PASST_LOG")"
}

tcp_udp_tests() {
	local t0
	t0=$(now)
	run_test "TCP/UDP guest boots with -t/-u forwards, DHCPv4 lease" tu_start
	run_test "IPv6: RA route via fe80::1, DHCPv6 leases 2001:db8::1" t_tu_ipv6
	run_test "ping and ping6: gateways and the peer namespace" t_tu_ping
	run_test "DNS: nslookup (UDP) and a TCP query answered by 127.0.0.53" \
		t_tu_dns
	run_test "UDP guest to host echo via 192.0.2.2, 2001:db8::2, fe80::1" \
		t_tu_udp_out
	run_test "UDP host to guest echo through -u, IPv4 and IPv6" t_tu_udp_in
	run_test "TCP host to guest through -t, IPv4 and IPv6, sha256" \
		t_tu_tcp_in
	run_test "TCP half-close each way, answers after EOF" t_tu_tcp_half
	run_test "TCP refused on the host is an RST in the guest" \
		t_tu_tcp_refused
	run_test "TCP reset by the guest closes the host socket" \
		t_tu_tcp_reset
	run_test "TCP 200 concurrent connections, each payload echoed" \
		t_tu_tcp_many
	run_test "TCP guest to host 100 MiB, IPv4 and IPv6, sha256" \
		t_tu_tcp_big_out
	if [ -n "$PASST_PID" ] && ! pid_alive "$PASST_PID"; then
		echo "# the TCP/UDP daemon died:"
		daemon_tail tcpudp 10 2>&1
	fi
	qemu_stop
	daemon_stop
	run_test "file limit $TU_RL_NOFILE: a connection flood is refused, held ones go on" \
		t_tu_rlimit
	qemu_stop
	daemon_stop
	echo "# TCP/UDP tests: $(elapsed "$t0") s"
}
