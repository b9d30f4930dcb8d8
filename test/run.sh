#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh - integration tests: the daemon, QEMU 10 and a real guest kernel
#
# One line per test, "ok N - name" or "not ok N - name: reason", comment
# lines starting with "#", and last a line "N passed, M failed".  Exit
# status 1 if any test failed.  Run as root from anywhere (test/run.sh);
# the guest image is built first if needed (test/mkguest.sh).  On failure
# the logs (daemon log, QEMU console) are kept in test/.work/PID/.
# The TCP, UDP, DNS and IPv6 tests are in tcp_udp.sh (needs dnsmasq and
# python3, see setup.sh), the live migration tests in migrate.sh.
#
# Environment: PASST (daemon binary, default ./passt), PASST_REPAIR (its
# TCP_REPAIR helper, default passt-repair beside it), GUEST_KERNEL,
# GUEST_INITRD, QEMU; ONLY: the groups to run, of "basic tcp_udp migrate
# migfail migsyn migflows migcompat storm decode distro forward libvirt"
# (default all; migrate includes migfail, the failed migrations and the
# ping-pong; migsyn is TCP handshakes across a migration, migrate_syn.sh;
# migflows is UDP and ping across a migration, migrate_flows.sh; migcompat
# is migrations from and to the landed version 1 daemon, built from git
# history, migrate_compat.sh; storm is a storm of refused front-ends while
# a guest runs, storm.sh; decode is --state-copy and passt-ctl decode on a
# migration's streams, decode.sh; distro is a Debian guest built by
# test/mkdebian.sh, distro.sh; forward: the -t/-u options as libvirt
# writes them, forward.sh; libvirt is libvirt 11.3 starting the daemon,
# libvirt.sh), e.g. ONLY=tcp_udp or ONLY="basic migrate" or
# ONLY=migfail; MIG_RUNS: the number of migrations with streams running
# (default 5); MIG_PINGPONG: migrations in a row in the ping-pong (4);
# MIGFAIL_ONLY: the fault tests of group migfail to run, of "f1 f2 f3 f4
# f5 f6 f7 f8" (default all), e.g. ONLY=migfail MIGFAIL_ONLY=f5 for the
# bulk streams alone, MIGFAIL_ONLY="f7 f8" for the two hosts;
# MIG_BULK_MIGS: F5's migrations under them (2); group migsyn
# (migrate_syn.sh): handshakes in progress across a migration,
# MIGSYN_RUNS times (1).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/tcp_udp.sh"
. "$here/migrate.sh"
. "$here/migrate_syn.sh"
. "$here/migrate_flows.sh"
. "$here/migrate_compat.sh"
. "$here/storm.sh"
. "$here/decode.sh"
. "$here/distro.sh"
. "$here/forward.sh"
. "$here/libvirt.sh"

MTU_DEFAULT=65520
DHCP_CMD='udhcpc -i eth0 -s /etc/udhcpc.script -O mtu -n -q -f -t 5 -T 2'

N=0
PASSED=0
FAILED=0
SKIPPED=0
REASON=
BOOT_TIMES=()

# fail() - record why the current test fails; always returns 1
fail() {
	REASON="$*"
	return 1
}

# run_test() - run one test function, print its result line
run_test() {
	local name=$1 fn=$2 t0
	N=$((N + 1))
	REASON=
	t0=$(now)
	if "$fn"; then
		PASSED=$((PASSED + 1))
		echo "ok $N - $name ($(elapsed "$t0") s)"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $name: ${REASON:-failed}"
		lib_keep
	fi
}

# only() - true if the group of tests is to run (ONLY empty, or names it)
only() {
	[ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}

# oneline() - squeeze text to one short line, for a reason
oneline() {
	tr '\n' ' ' | sed 's/  */ /g; s/ $//' | cut -c1-200
}

# guest_lease() - boot a guest on $PASST_SOCK and get a DHCP lease
# Sets LEASE_TIME (seconds from QEMU start to lease).
guest_lease() {
	local t0 out
	t0=$(now)
	qemu_start "$PASST_SOCK" 2>"$WORK/qemu_start.err" ||
		fail "guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	out=$(guest_run -t 30 "$DHCP_CMD" 2>&1) ||
		fail "no DHCP lease: $(echo "$out" | oneline)" || return 1
	LEASE_TIME=$(elapsed "$t0")
	BOOT_TIMES+=("$QEMU_READY_TIME/$LEASE_TIME")
}

# guest_ping() - ping an address from the guest; true if it answered
guest_ping() {
	guest_run -t 15 "ping -c 2 -W 3 $1" >/dev/null 2>&1
}

# daemon_running() - true if the shared daemon is up, else a reason
daemon_running() {
	[ -n "$PASST_PID" ] && pid_alive "$PASST_PID" ||
		fail "daemon not running: $(daemon_tail passt 3 2>&1 | oneline)"
}

# --- (a) -------------------------------------------------------------------
t_capabilities() {
	local out rc=0
	[ -x "$PASST" ] || fail "no daemon binary at $PASST" || return 1
	out=$(timeout 5 "$PASST" --print-capabilities 2>&1) || rc=$?
	[ $rc -eq 0 ] || fail "exit status $rc: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d.get("type") == "net" else 1)' 2>/dev/null ||
		fail "not JSON with \"type\": \"net\": $(echo "$out" | oneline)"
}

# --- (b) -------------------------------------------------------------------
# opt_error() - a bad option: exit 1, one line on stderr matching a pattern
opt_error() {
	local pattern=$1 rc=0 lines
	shift
	in_ns timeout 5 "$PASST" --vhost-user --socket "$WORK/opt.sock" -f \
		"$@" >"$WORK/opt.out" 2>"$WORK/opt.err" </dev/null || rc=$?
	lines=$(wc -l < "$WORK/opt.err")
	[ $rc -eq 1 ] ||
		fail "'$*': exit status $rc, not 1: $(oneline < "$WORK/opt.err")" ||
		return 1
	[ "$lines" -eq 1 ] ||
		fail "'$*': $lines lines on stderr: $(oneline < "$WORK/opt.err")" ||
		return 1
	grep -qE -- "$pattern" "$WORK/opt.err" ||
		fail "'$*': stderr does not name the option: $(cat "$WORK/opt.err")"
}

t_option_errors() {
	[ -x "$PASST" ] || fail "no daemon binary at $PASST" || return 1
	opt_error 'no-such-option' --no-such-option &&
	opt_error '(-m|mtu)' -m abc &&
	opt_error '(-t|tcp)' -t 0
}

# --- (c) -------------------------------------------------------------------
t_lease() {
	local addr route mtu lmtu
	daemon_running || return 1
	guest_lease || return 1
	addr=$(guest_run 'ip -4 -o addr show dev eth0') ||
		fail "ip addr failed: $addr" || return 1
	[ "$(echo "$addr" | grep -c ' inet ')" -eq 1 ] &&
		echo "$addr" | grep -q ' inet 192\.0\.2\.1/24 ' ||
		fail "eth0 has '$(echo "$addr" | oneline)', want 192.0.2.1/24" ||
		return 1
	route=$(guest_run 'ip -4 route show default') ||
		fail "ip route failed: $route" || return 1
	[ "$(echo "$route" | grep -c default)" -eq 1 ] &&
		echo "$route" | grep -q '^default via 192\.0\.2\.2 dev eth0' ||
		fail "default route '$(echo "$route" | oneline)', want via 192.0.2.2" ||
		return 1
	lmtu=$(guest_run 'sed -n "s/^mtu=//p" /tmp/lease')
	mtu=$(guest_run 'cat /sys/class/net/eth0/mtu')
	[ "$lmtu" = "$MTU_DEFAULT" ] ||
		fail "DHCP announced MTU '$lmtu', want $MTU_DEFAULT" || return 1
	[ "$mtu" = "$lmtu" ] ||
		fail "eth0 MTU $mtu, DHCP announced $lmtu" || return 1
	echo "# guest boot: console ready after $QEMU_READY_TIME s, DHCP lease after $LEASE_TIME s"
}

# --- (d) -------------------------------------------------------------------
t_ping() {
	daemon_running || return 1
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	guest_ping 192.0.2.2 ||
		fail "no reply from the gateway 192.0.2.2" || return 1
	guest_ping 192.0.2.3 ||
		fail "no reply from the peer namespace 192.0.2.3" || return 1
	! guest_run -t 15 'ping -c 1 -W 2 192.0.2.99' >/dev/null 2>&1 ||
		fail "reply from 192.0.2.99, where nothing is" || return 1
	# The guest_run of that last ping must have been an answer, not silence
	guest_run 'true' >/dev/null || fail "guest stopped answering"
}

# --- (e) -------------------------------------------------------------------
t_reconnect() {
	local pid=$PASST_PID old=$QEMU_PID
	daemon_running || return 1
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	qmp quit >/dev/null || fail "QMP quit failed" || return 1
	wait_gone "$old" 10 || fail "QEMU still running after QMP quit" ||
		return 1
	qemu_stop
	sleep 0.5
	pid_alive "$pid" ||
		fail "daemon exited when QEMU quit: $(daemon_tail passt 3 2>&1 | oneline)" ||
		return 1
	guest_lease || return 1
	[ "$PASST_PID" = "$pid" ] && pid_alive "$pid" &&
		[ "$(cat "$WORK/passt.pid" 2>/dev/null)" = "$pid" ] ||
		fail "daemon pid changed or pid file wrong" || return 1
	guest_ping 192.0.2.2 || fail "no ping reply after reconnection"
}

# --- (f) -------------------------------------------------------------------
t_second_client() {
	local rc=0 out
	daemon_running || return 1
	pid_alive "$QEMU_PID" || fail "no guest" || return 1
	out=$(timeout 5 socat -u "UNIX-CONNECT:$PASST_SOCK" - 2>&1 </dev/null) ||
		rc=$?
	[ $rc -ne 124 ] ||
		fail "second connection kept open for 5 s" || return 1
	[ -z "$out" ] ||
		fail "daemon sent data to the second client: $(echo "$out" | oneline)" ||
		return 1
	pid_alive "$PASST_PID" || fail "daemon died" || return 1
	guest_ping 192.0.2.2 || fail "guest no longer pings the gateway"
}

# --- sandbox ---------------------------------------------------------------
# t_sandbox() - what the kernel says of the running daemon's confinement
t_sandbox() {
	local st v root
	daemon_running || return 1
	st=$(cat "/proc/$PASST_PID/status" 2>/dev/null) ||
		fail "no /proc/$PASST_PID/status" || return 1
	for v in "Seccomp:	2" "NoNewPrivs:	1" \
		 "CapEff:	0000000000000000" "CapPrm:	0000000000000000" \
		 "CapBnd:	0000000000000000"; do
		echo "$st" | grep -qx "$v" ||
			fail "status has '$(echo "$st" | grep "^${v%%:*}:" | oneline)', want '$v'" ||
			return 1
	done
	echo "$st" | grep -q "^Uid:	0	" && { fail "daemon still runs as root"; return 1; }
	root=$(ls -A "/proc/$PASST_PID/root/" 2>&1) ||
		fail "can't list /proc/$PASST_PID/root: $root" || return 1
	[ -z "$root" ] || fail "root not empty: $(echo "$root" | oneline)" ||
		return 1
	echo "# sandbox: $(echo "$st" | grep -E '^(Uid|Seccomp|NoNewPrivs|CapEff):' | oneline)"
}

# --- (g) -------------------------------------------------------------------
t_background() {
	local rc=0 sock=$WORK/bg.sock pidf=$WORK/bg.pid pid comm sock_ok='' pid_ok=''
	[ -x "$PASST" ] || fail "no daemon binary at $PASST" || return 1
	in_ns timeout 10 "$PASST" --vhost-user --socket "$sock" --pid "$pidf" \
		-l "$WORK/bg.log" >"$WORK/bg.out" 2>&1 </dev/null || rc=$?
	# Look right away: the parent must exit only once both exist
	[ -S "$sock" ] && sock_ok=1
	[ -s "$pidf" ] && pid_ok=1
	pid=$(cat "$pidf" 2>/dev/null || true)
	[ $rc -eq 0 ] || fail "parent exit status $rc: $(oneline < "$WORK/bg.out")" ||
		return 1
	[ -n "$sock_ok" ] || fail "parent exited before the socket existed" ||
		return 1
	[ -n "$pid_ok" ] || fail "parent exited before writing the pid file" ||
		return 1
	[[ $pid =~ ^[0-9]+$ ]] || fail "pid file holds '$pid'" || return 1
	pid_alive "$pid" || fail "pid file names $pid, not running" || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	# Under test/valgrind-passt.sh, the daemon's process is valgrind's
	[[ $comm == passt* || ( $PASST == *valgrind* && $comm == memcheck* ) ]] ||
		fail "pid $pid is '$comm', not passt" ||
		return 1
	kill "$pid"
	wait_gone "$pid" 5 || { kill -9 "$pid"; fail "daemon ignored SIGTERM"; }
}

# --- (h) -------------------------------------------------------------------
t_one_off() {
	local pid rc=0
	daemon_start oneoff --one-off 2>"$WORK/oneoff.err" ||
		fail "daemon did not start: $(oneline < "$WORK/oneoff.err")" ||
		return 1
	pid=$PASST_PID
	guest_lease || return 1
	qmp quit >/dev/null || fail "QMP quit failed" || return 1
	qemu_stop
	wait_gone "$pid" 5 ||
		fail "--one-off daemon still running 5 s after QEMU quit" || return 1
	wait "$pid" 2>/dev/null || rc=$?
	[ $rc -eq 0 ] || fail "--one-off daemon exit status $rc"
}

main() {
	local t0 rc=0 g
	t0=$(now)
	for g in ${ONLY:-}; do
		case "$g" in
		basic|tcp_udp|migrate|migfail|migsyn|migflows|migcompat) ;;
		storm|decode|distro|forward|libvirt) ;;
		*) echo "ONLY: unknown group '$g' (basic tcp_udp migrate migfail migsyn migflows migcompat storm decode distro forward libvirt)"; exit 1 ;;
		esac
	done
	for g in ${MIGFAIL_ONLY:-}; do
		case "$g" in
		f[1-8]) ;;
		*) echo "MIGFAIL_ONLY: unknown test '$g' (f1 f2 f3 f4 f5 f6 f7 f8)"; exit 1 ;;
		esac
	done
	lib_init

	if ! "$here/mkguest.sh" 2>"$WORK/mkguest.err"; then
		echo "# mkguest.sh failed:"
		sed 's/^/#   /' "$WORK/mkguest.err"
	fi
	ns_setup || { echo "# namespace set-up failed"; exit 1; }

	if only basic; then
		run_test "--print-capabilities prints vhost-user JSON" t_capabilities
		run_test "option errors exit 1 with one line naming the option" \
			t_option_errors
		run_test "without --foreground, detaches once socket and pid file exist" \
			t_background

		daemon_start passt 2>"$WORK/start.err" ||
			echo "# daemon did not start: $(oneline < "$WORK/start.err")"
		run_test "guest boots, DHCP gives 192.0.2.1/24, via 192.0.2.2, MTU $MTU_DEFAULT" \
			t_lease
		run_test "guest pings the gateway and the peer, not an absent host" t_ping
		run_test "QEMU quits, a new QEMU reconnects to the same daemon" \
			t_reconnect
		run_test "second front-end refused while QEMU is connected" \
			t_second_client
		run_test "sandbox: seccomp filter, no_new_privs, no capabilities, empty root" \
			t_sandbox
		qemu_stop
		daemon_stop

		run_test "--one-off: daemon exits when QEMU quits" t_one_off
		qemu_stop
	fi

	if only tcp_udp; then
		tcp_udp_tests
	fi
	if only migrate; then
		migrate_tests
	fi
	if only migrate || only migfail; then
		migfail_tests
	fi
	if only migsyn; then
		migsyn_tests
	fi
	if only migflows; then
		migflows_tests
	fi
	if only migcompat; then
		migcompat_tests
	fi
	if only storm; then
		storm_tests
	fi
	if only decode; then
		decode_tests
	fi
	if only distro; then
		distro_tests
	fi
	if only forward; then
		forward_tests
	fi
	if only libvirt; then
		libvirt_tests
	fi

	if [ ${#BOOT_TIMES[@]} -gt 0 ]; then
		echo "# guest boots (console ready/lease, seconds from QEMU start): ${BOOT_TIMES[*]}"
	fi
	echo "# suite: $(elapsed "$t0") s"
	if [ -n "$LIB_KEEP" ]; then
		echo "# logs kept in $WORK"
		LIB_KEEP_SAID=1
	fi
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ] || rc=1
	return $rc
}

main "$@"
