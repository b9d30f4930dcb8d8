# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# libvirt.sh - libvirt starts the daemon for a vhost-user interface
# (sourced by run.sh, group "libvirt")
#
# libvirt 11.3 (test/setup.sh installs it from bookworm-backports) runs
# "passt" from its PATH for <interface type='vhostuser'> with <backend
# type='passt'/>, and gives it the interface's <portForward> elements as
# options.  Here a libvirtd of our own, with virtlogd, runs as root in the
# daemon's namespace NS and in a mount namespace of its own, where
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt are directories of $WORK/libvirt: a system libvirtd, if
# any, is neither used nor disturbed, and the teardown of run.sh ends ours
# with everything else in NS.  Its PATH starts with a directory holding
# only "passt" and "passt-repair", links to $PASST and $PASST_REPAIR.
# virsh reaches it on its socket, $WORK/libvirt/run/libvirt-sock.
#
# The guest (test/libvirt/domain.xml) boots the test kernel under TCG with
# its serial console on a FIFO pair, as qemu_launch does, so that
# guest_run works as for the other groups.  Its forwards, reached from
# the peer namespace: TCP 192.0.2.1:10001-10003 to the guest's
# 20001-20003 but 10002 excluded, TCP [2001:db8::1]:10010-10011 to
# 20010-20011, UDP 10020-10021 (both families) to 20020-20021.
#
# Uses from run.sh: run_test, fail, oneline, DHCP_CMD; from tcp_udp.sh:
# TU_G, tu_hex, tu_unhex.

LV_XML=$LIB_HERE/libvirt
LV_DOM=passt-test
LV_DIR=
LV_URI=
LV_PID=

# lv_virsh() - virsh on our libvirtd
lv_virsh() {
	timeout 60 virsh -q -c "$LV_URI" "$@"
}

# lv_conf() - our libvirtd's configuration, in $LV_DIR/etc
#
# QEMU and passt run as root with no security driver, cgroups or mount
# namespace: nothing of the host's is relabelled or moved.  The log keeps
# the command lines libvirt runs.
lv_conf() {
	local e=$LV_DIR/etc
	mkdir -p "$e/qemu"
	cat > "$e/libvirtd.conf" <<-EOC
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_filters = "1:util.command 1:qemu.qemu_passt 3:*"
	log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
	EOC
	cat > "$e/virtlogd.conf" <<-EOC
	log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
	EOC
	cat > "$e/qemu.conf" <<-EOC
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	cgroup_controllers = [ ]
	namespaces = [ ]
	EOC
}

# lv_start() - our virtlogd and libvirtd, in NS and a mount namespace of
# their own; wait until virsh gets an answer
#
# Sets LV_DIR, LV_URI, LV_PID (libvirtd, in the foreground).  Returns 1,
# the reason on stderr, if it does not answer within 30 s.
lv_start() {
	local d n=300 m
	LV_DIR=$WORK/libvirt
	LV_URI="qemu+unix:///system?socket=$LV_DIR/run/libvirt-sock"
	mkdir -p "$LV_DIR/bin" "$LV_DIR/run" "$LV_DIR/lib" "$LV_DIR/cache" \
		"$LV_DIR/log"
	ln -sf "$PASST" "$LV_DIR/bin/passt"
	ln -sf "$PASST_REPAIR" "$LV_DIR/bin/passt-repair"
	lv_conf
	m=
	for d in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt \
		 cache:/var/cache/libvirt log:/var/log/libvirt; do
		m="$m mkdir -p ${d#*:} && mount --bind $LV_DIR/${d%%:*} ${d#*:} &&"
	done
	ip netns exec "$NS" unshare -m --propagation private sh -c "$m
		virtlogd -d -p /run/libvirt/virtlogd.pid &&
		PATH=$LV_DIR/bin:\$PATH exec libvirtd -p /run/libvirt/libvirtd.pid" \
		</dev/null >"$LV_DIR/libvirtd.out" 2>&1 &
	LV_PID=$!
	LIB_PIDS+=("$LV_PID")
	until lv_virsh uri >/dev/null 2>&1; do
		pid_alive "$LV_PID" ||
			{ lib_log "libvirtd exited: $(oneline < "$LV_DIR/libvirtd.out")"; return 1; }
		n=$((n - 1))
		[ $n -gt 0 ] || { lib_log "libvirtd not answering after 30 s"; return 1; }
		sleep 0.1
	done
}

# lv_fill() - a template of test/libvirt/ with its @NAME@s filled in
# @1:	template file name
# @2:	output file
# @@:	NAME=VALUE pairs
lv_fill() {
	local in=$LV_XML/$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$in" > "$out"
}

# lv_console() - the guest's serial console: a FIFO pair, as qemu_launch
# makes it, every byte it writes kept in $QEMU_CONSOLE
#
# Sets QEMU_DIR, QEMU_CONSOLE, QEMU_CAT_PID, QEMU_SERIAL_FD
lv_console() {
	local d=$LV_DIR/vm
	QEMU_CONSOLE=$d.console
	rm -f "$d.serial.in" "$d.serial.out"
	mkfifo "$d.serial.in" "$d.serial.out"
	: > "$QEMU_CONSOLE"
	cat 0<>"$d.serial.out" >>"$QEMU_CONSOLE" &
	QEMU_CAT_PID=$!
	LIB_PIDS+=("$QEMU_CAT_PID")
	exec {QEMU_SERIAL_FD}<>"$d.serial.in"
}

# lv_define() - define the test domain from test/libvirt/domain.xml
lv_define() {
	local emu
	emu=$(command -v "$QEMU") || { lib_log "no $QEMU"; return 1; }
	lv_fill domain.xml "$LV_DIR/domain.xml" NAME="$LV_DOM" \
		EMULATOR="$emu" KERNEL="$GUEST_KERNEL" INITRD="$GUEST_INITRD" \
		SERIAL="$LV_DIR/vm.serial" PASST_LOG="$LV_DIR/passt1.log"
	lv_virsh define "$LV_DIR/domain.xml" >/dev/null
}

# lv_stop() - end the domain, libvirtd and virtlogd, close the console
lv_stop() {
	local p
	if [ -n "$LV_PID" ] && pid_alive "$LV_PID"; then
		lv_virsh destroy "$LV_DOM" >/dev/null 2>&1 || true
		lv_virsh undefine "$LV_DOM" >/dev/null 2>&1 || true
	fi
	lib_kill "$LV_PID"
	p=$(cat "$LV_DIR/run/virtlogd.pid" 2>/dev/null || true)
	[ -z "$p" ] || lib_kill "$p"
	lib_kill "$QEMU_CAT_PID"
	[ -z "$QEMU_SERIAL_FD" ] || exec {QEMU_SERIAL_FD}>&-
	LV_PID=
	QEMU_PID=
	QEMU_CAT_PID=
	QEMU_SERIAL_FD=
}

# lv_passt_pid() - PID of the running daemon libvirt started for a NIC
# @1:	the NIC's alias, net0 or net1
#
# Prints it, from the PID file libvirt gave it; empty if none is running
lv_passt_pid() {
	local f p
	for f in "$LV_DIR"/run/qemu/passt/*-"$1"-passt.pid; do
		p=$(cat "$f" 2>/dev/null) || continue
		pid_alive "$p" && echo "$p" && return 0
	done
	return 0
}

# lv_wait_passt() - wait up to @3 seconds for a running daemon for a NIC
# whose PID is not @2
# @1:	the NIC's alias
# @2:	a PID to ignore (the one killed), or ""
# @3:	seconds
#
# Prints the PID; returns 1 if there is none in time
lv_wait_passt() {
	local n=$(($3 * 10)) p
	while :; do
		p=$(lv_passt_pid "$1")
		[ -n "$p" ] && [ "$p" != "$2" ] && { echo "$p"; return 0; }
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# lv_our_passt() - true if a PID runs our binary, $PASST; else a reason
lv_our_passt() {
	local exe
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) ||
		fail "no /proc/$1/exe" || return 1
	[ "$exe" = "$(readlink -f "$PASST")" ] ||
		fail "pid $1 runs $exe, not $(readlink -f "$PASST")"
}

# lv_peer() - run a command in the peer namespace, with a time bound
lv_peer() {
	ip netns exec "$PEER" timeout 20 "$@"
}

# lv_tcp() - what the guest sends on a forwarded TCP port, seen from the peer
# @1:	4 or 6
# @2:	address
# @3:	port
#
# Prints the data, or socat's error; the exit status is socat's
lv_tcp() {
	local a=$2
	[ "$1" = 6 ] && a="[$2]"
	lv_peer socat -u "TCP$1:$a:$3,connect-timeout=5" - 2>&1 </dev/null
}

# --- tests -------------------------------------------------------------------
t_lv_daemons() {
	lv_start 2>"$WORK/lv_start.err" ||
		fail "libvirtd: $(oneline < "$WORK/lv_start.err")" || return 1
	local v
	v=$(lv_virsh version 2>&1) || fail "virsh version: $(echo "$v" | oneline)" ||
		return 1
	echo "# $(echo "$v" | grep -E 'Using library|Running hypervisor' | oneline)"
}

# The domain with the three forwards starts; libvirt ran our daemon
t_lv_start() {
	local out p
	[ -n "$LV_PID" ] && pid_alive "$LV_PID" || fail "no libvirtd" || return 1
	out=$(lv_define 2>&1) || fail "virsh define: $(echo "$out" | oneline)" ||
		return 1
	lv_console
	if ! out=$(lv_virsh start "$LV_DOM" 2>&1); then
		# libvirt's message holds the daemon's whole command line first
		echo "$out" | sed 's/^/# /'
		fail "virsh start: $(echo "$out" | sed 's/.*unexpected exit status/exit status/' |
			oneline)"
		return 1
	fi
	QEMU_PID=$(cat "$LV_DIR/run/qemu/$LV_DOM.pid" 2>/dev/null)
	pid_alive "$QEMU_PID" || fail "no QEMU running" || return 1
	p=$(lv_passt_pid net0)
	[ -n "$p" ] || fail "no daemon running for net0" || return 1
	lv_our_passt "$p" || return 1
	echo "# libvirt ran: $(tr '\0' ' ' < "/proc/$p/cmdline")"
}

# The guest boots and gets its lease from the daemon libvirt started
t_lv_lease() {
	local n=1200 out
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	while ! grep -qa '^@@READY@@' "$QEMU_CONSOLE"; do
		pid_alive "$QEMU_PID" || fail "QEMU exited while booting" ||
			return 1
		n=$((n - 1))
		[ $n -gt 0 ] ||
			fail "guest not ready in 60 s: $(tail -n 3 "$QEMU_CONSOLE" | oneline)" ||
			return 1
		sleep 0.05
	done
	out=$(guest_run -t 30 "$DHCP_CMD" 2>&1) ||
		fail "no DHCP lease: $(echo "$out" | oneline)" || return 1
	out=$(guest_run 'ip -4 -o addr show dev eth0')
	echo "$out" | grep -q ' inet 192\.0\.2\.1/24 ' ||
		fail "eth0 has '$(echo "$out" | oneline)', want 192.0.2.1/24" ||
		return 1
	# The IPv6 forwards go to the address the daemon leases; the router
	# advertisement first (the link-local address is usable then)
	out=$(guest_run -t 30 'i=0
		until ip -6 route show default | grep -q "via fe80:.* dev eth0"; do
			i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
		done
		dhcp6c -a && ip -6 -o addr show dev eth0') ||
		fail "DHCPv6: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -q ' inet6 2001:db8::1/128 ' ||
		fail "eth0 has '$(echo "$out" | oneline)', want 2001:db8::1"
}

# Every forward reaches the guest's listener; the excluded port, and each
# address's forward on the other address, are refused
t_lv_forwards() {
	local out spec fam a port want
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	out=$(guest_run "$TU_G
		for p in 20001 20002 20003; do
			socat TCP4-LISTEN:\$p,reuseaddr,fork \
				SYSTEM:\"echo guest-\$p\" </dev/null >/dev/null 2>&1 &
		done
		for p in 20010 20011; do
			socat TCP6-LISTEN:\$p,reuseaddr,fork,ipv6only=1 \
				SYSTEM:\"echo guest-\$p\" </dev/null >/dev/null 2>&1 &
		done
		socat UDP4-RECVFROM:20020,reuseaddr,fork \
			SYSTEM:'printf guest-20020' </dev/null >/dev/null 2>&1 &
		socat UDP6-RECVFROM:20021,reuseaddr,fork,ipv6only=1 \
			SYSTEM:'printf guest-20021' </dev/null >/dev/null 2>&1 &
		wl 20001 && wl 20002 && wl 20003 && wl 20010 && wl 20011 &&
		wl 20020 u && wl 20021 u") ||
		fail "guest listeners: $(echo "$out" | oneline)" || return 1
	for spec in "4 192.0.2.1 10001 20001" "4 192.0.2.1 10003 20003" \
		    "6 2001:db8::1 10010 20010" "6 2001:db8::1 10011 20011"; do
		read -r fam a port want <<< "$spec"
		out=$(lv_tcp "$fam" "$a" "$port") && [ "$out" = "guest-$want" ] ||
			fail "TCP $a:$port: '$(echo "$out" | oneline)', want guest-$want" ||
			return 1
	done
	for spec in "4 192.0.2.1 10002" "6 2001:db8::1 10001" \
		    "4 192.0.2.1 10010"; do
		read -r fam a port <<< "$spec"
		! out=$(lv_tcp "$fam" "$a" "$port") &&
			[[ $out == *refused* ]] ||
			fail "TCP $a:$port: '$(echo "$out" | oneline)', want refused" ||
			return 1
	done
	for spec in "192.0.2.1 10020 20020" "2001:db8::1 10021 20021"; do
		read -r a port want <<< "$spec"
		out=$(lv_peer python3 "$LIB_HERE/l4host.py" udp-ask "$a" "$port" \
			"$(tu_hex ask)" 2>&1) ||
			fail "UDP $a:$port: no answer" || return 1
		out=$(tu_unhex "$out")
		[ "$out" = "guest-$want" ] ||
			fail "UDP $a:$port: '$out', want guest-$want" || return 1
	done
}

# A second interface plugged in: a second daemon, a NIC the guest gets a
# lease on; unplugged: that daemon ends, the first one and eth0 go on
t_lv_hotplug() {
	local out p1 p2
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	p1=$(lv_passt_pid net0)
	lv_fill nic2.xml "$LV_DIR/nic2.xml" PASST_LOG="$LV_DIR/passt2.log"
	out=$(lv_virsh attach-device "$LV_DOM" "$LV_DIR/nic2.xml" --live 2>&1) ||
		fail "attach-device: $(echo "$out" | oneline)" || return 1
	p2=$(lv_wait_passt net1 "" 10) ||
		fail "no second daemon running after attach-device" || return 1
	[ "$p2" != "$p1" ] || fail "net1 has net0's daemon" || return 1
	lv_our_passt "$p2" || return 1
	out=$(guest_run -t 30 'i=0
		while ! ip link show eth1 >/dev/null 2>&1; do
			i=$((i + 1)); [ $i -lt 200 ] || { echo "no eth1"; exit 1; }
			sleep 0.1
		done
		cat /sys/class/net/eth1/address
		ip link set eth1 up &&
		udhcpc -i eth1 -s /bin/true -n -q -f -t 5 -T 2 2>&1 | tail -1') ||
		fail "hotplugged NIC: $(echo "$out" | oneline)" || return 1
	echo "$out" | grep -q '^52:54:00:00:00:02$' ||
		fail "eth1 is not the plugged NIC: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -q 'lease of 192\.0\.2\.1 obtained' ||
		fail "no lease on eth1: $(echo "$out" | oneline)" || return 1

	out=$(lv_virsh detach-device "$LV_DOM" "$LV_DIR/nic2.xml" --live 2>&1) ||
		fail "detach-device: $(echo "$out" | oneline)" || return 1
	wait_gone "$p2" 20 ||
		fail "second daemon $p2 still running 20 s after detach-device" ||
		return 1
	out=$(guest_run '! ip link show eth1 >/dev/null 2>&1') ||
		fail "the guest still has eth1" || return 1
	[ "$(lv_passt_pid net0)" = "$p1" ] ||
		fail "net0's daemon $p1 is gone" || return 1
	out=$(lv_tcp 4 192.0.2.1 10001) && [ "$out" = guest-20001 ] ||
		fail "forward after unplug: '$(echo "$out" | oneline)'"
}

# kill -9 of the daemon: libvirt starts a new one, QEMU reconnects, the
# forwards and the guest's own traffic work again
t_lv_restart() {
	local p1 p2 out n=300 t0
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	p1=$(lv_passt_pid net0)
	[ -n "$p1" ] || fail "no daemon running for net0" || return 1
	t0=$(now)
	kill -9 "$p1"
	p2=$(lv_wait_passt net0 "$p1" 15) ||
		fail "no new daemon 15 s after kill -9 of $p1" || return 1
	lv_our_passt "$p2" || return 1
	until out=$(lv_tcp 4 192.0.2.1 10001) && [ "$out" = guest-20001 ]; do
		n=$((n - 1))
		[ $n -gt 0 ] ||
			fail "forward not back 30 s after the restart: '$(echo "$out" | oneline)'" ||
			return 1
		sleep 0.1
	done
	echo "# daemon $p1 killed, $p2 started by libvirt, forward back after $(elapsed "$t0") s"
	out=$(guest_run -t 15 'ping -c 2 -W 3 192.0.2.3') ||
		fail "guest does not ping the peer: $(echo "$out" | oneline)" ||
		return 1
	out=$(lv_tcp 6 2001:db8::1 10010) && [ "$out" = guest-20010 ] ||
		fail "IPv6 forward after the restart: '$(echo "$out" | oneline)'"
}

# virsh destroy ends QEMU and the daemon
t_lv_destroy() {
	local p out
	p=$(lv_passt_pid net0)
	[ -n "$p" ] || fail "no daemon running for net0" || return 1
	out=$(lv_virsh destroy "$LV_DOM" 2>&1) ||
		fail "virsh destroy: $(echo "$out" | oneline)" || return 1
	wait_gone "$QEMU_PID" 10 || fail "QEMU still running" || return 1
	wait_gone "$p" 10 ||
		fail "daemon $p still running 10 s after virsh destroy" || return 1
}

libvirt_tests() {
	local t0
	t0=$(now)
	run_test "libvirt: our libvirtd and virtlogd answer virsh" t_lv_daemons
	run_test "libvirt: domain with three <portForward>s starts, runs our daemon" \
		t_lv_start
	run_test "libvirt: guest boots, DHCP lease 192.0.2.1/24, DHCPv6 2001:db8::1" \
		t_lv_lease
	run_test "libvirt: TCP IPv4 range, exclusion, TCP IPv6, UDP forwards" \
		t_lv_forwards
	run_test "libvirt: attach-device starts a second daemon, NIC gets a lease; detach ends it" \
		t_lv_hotplug
	run_test "libvirt: kill -9 of the daemon, libvirt restarts it, guest back" \
		t_lv_restart
	run_test "libvirt: virsh destroy ends the daemon" t_lv_destroy
	[ -z "$LIB_KEEP" ] || [ -z "$LV_DIR" ] ||
		echo "# libvirt logs: $LV_DIR/log, daemons' logs: $LV_DIR/passt*.log"
	lv_stop
	echo "# libvirt tests: $(elapsed "$t0") s"
}
