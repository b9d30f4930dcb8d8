# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# migrate_syn.sh - handshakes in progress across a migration (sourced by
# run.sh, group migsyn)
#
# Two connections are caught in their handshake when the guest migrates,
# and must complete on the target, carrying data both ways:
#
# (a) the guest's connect() to a host peer whose SYN-ACK hasn't come:
#     the peer (test/synpeer.py slow-server) listens with an accept queue
#     of one, filled by a connection of its own, so its kernel drops the
#     daemon's SYNs; once the migration is over, it makes room.  The source
#     saves the connection as CS_CONNECTING, the target connects again once
#     its guest runs, and its connect() completes the guest's.
# (b) a host connection to a forwarded port that the guest hasn't
#     answered: the guest's listener (socat, backlog 0) is stopped
#     (SIGSTOP) and its queue filled by a first connection, so the guest's
#     kernel drops the daemon's SYN for the second; the daemon accepted it
#     on the host already.  Once the migration is over, the listener goes
#     on (SIGCONT).  The source saves it as CS_SYN_SENT, the target sends
#     the SYN again, and the guest's SYN-ACK completes it.
#
# Both, over IPv4 and over IPv6, in one migration, MIGSYN_RUNS times (a
# fresh guest each time).
# Checked: the guest gets the peer's banner and answer, the peer the
# guest's token, in (a), and in (b) the host client its answer; the peer
# of (a) saw one connection only (no second one from the guest's own SYN
# retransmission); the source saved both connections and the target
# started both, connecting (a) again: without that, (a) would complete
# only from the guest's next SYN retransmission, and (b) would be lost
# with the source.
#
# Ports: 10240 (IPv4) and 10242 (IPv6) the peers of (a), on the daemon
# namespace's loopback, 192.0.2.2 and 2001:db8::2 for the guest; 10241 and
# 10243 forwarded to the guest, for (b), reached from 127.0.0.1 and ::1.
#
# Uses from run.sh: run_test, fail, oneline, DHCP_CMD; from migrate.sh:
# mig_boot, mig_prepare, mig_go, mig_guest_wait; from tcp_udp.sh:
# tu_wait_file; from lib.sh: GUEST_FN, guest_run, in_ns.

SYN_PEER=$LIB_HERE/synpeer.py
SYN_PORT=10240		# (a): the slow server, IPv4; + 2 for IPv6
SYN_FWD=10241		# (b): forwarded to the guest's listener; + 2 for IPv6
MIGSYN_RUNS=${MIGSYN_RUNS:-1}
SYN_WAIT=40		# seconds for a handshake to complete after the switch

# syn_peer() - start a synpeer.py mode in the namespace, wait until READY
# @1:	report file name, under $WORK
# @@:	mode and arguments, REP standing for the report file
syn_peer() {
	local rep=$WORK/$1 a args=() n=100
	shift
	for a in "$@"; do
		[ "$a" = REP ] && a=$rep
		args+=("$a")
	done
	rm -f "$rep" "$rep.ready"
	ip netns exec "$NS" python3 "$SYN_PEER" "${args[@]}" \
		>"$rep.out" 2>&1 &
	LIB_PIDS+=("$!")
	while [ ! -e "$rep.ready" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || { lib_log "synpeer.py $* did not start"; return 1; }
		sleep 0.05
	done
}

# syn_fam() - addresses and ports of a family, in SF_*
# @1:	4 or 6
syn_fam() {
	if [ "$1" = 4 ]; then
		SF_HOST=127.0.0.1 SF_GUEST=192.0.2.2 SF_PORT=$SYN_PORT
		SF_FWD=$SYN_FWD
	else
		SF_HOST=::1 SF_GUEST='[2001:db8::2]' SF_PORT=$((SYN_PORT + 2))
		SF_FWD=$((SYN_FWD + 2))
	fi
}

# syn_hold() - both handshakes open and stuck, on the current source
# @1:	4 or 6
# @2:	token the guest sends in (a)
# @3:	token the host client sends in (b)
syn_hold() {
	local f=$1 tok_a=$2 tok_b=$3 out
	syn_fam "$f"
	syn_peer "syn_a$f.rep" slow-server "$SF_HOST" "$SF_PORT" REP \
		"$WORK/syn.release" "$SYN_WAIT" ||
		fail "IPv$f: slow server did not start" || return 1

	# (b): the guest's listener, its queue filled, stopped
	out=$(guest_run -t 20 "$GUEST_FN
		gbg lst$f socat TCP$f-LISTEN:$SF_FWD,backlog=0,reuseaddr,fork SYSTEM:'read l; echo ack \$l'
		sleep 1
		kill -STOP \$(cat /tmp/lst$f.pid) && echo stopped") &&
		[ "$out" = stopped ] ||
		fail "IPv$f: guest listener: $(echo "$out" | oneline)" || return 1
	syn_peer "syn_fill$f.rep" client "$SF_HOST" "$SF_FWD" REP fill 90 ||
		fail "IPv$f: filler client did not start" || return 1
	sleep 1
	syn_peer "syn_b$f.rep" client "$SF_HOST" "$SF_FWD" REP "$tok_b" 90 ||
		fail "IPv$f: host client did not start" || return 1

	# (a): the guest connects; its SYN-ACK is held back
	out=$(guest_run -t 10 "$GUEST_FN
		gbg syn$f sh -c 'echo $tok_a | socat -t 30 - TCP$f:$SF_GUEST:$SF_PORT'
		echo started") ||
		fail "IPv$f: guest client: $(echo "$out" | oneline)" || return 1
}

# syn_v6() - wait for the RA's route, take a DHCPv6 lease: the daemon
# knows the guest's IPv6 address then, for connections to forwarded ports
syn_v6() {
	local out
	out=$(guest_run -t 30 'i=0
		until ip -6 route show default | grep -q "via fe80:.* dev eth0"; do
			i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
		done
		dhcp6c -a') ||
		fail "IPv6 set-up: $(echo "$out" | oneline)"
}

# syn_check() - after the switch-over: both complete, the data went through
# @1:	4 or 6
# @2:	token of (a)
# @3:	token of (b)
syn_check() {
	local f=$1 tok_a=$2 tok_b=$3 out rep
	tu_wait_file "$WORK/syn_a$f.rep" $((SYN_WAIT + 5))
	rep=$(cat "$WORK/syn_a$f.rep" 2>/dev/null)
	[[ $rep == "ok "*" conns=1 data=$tok_a" ]] ||
		fail "IPv$f (a) guest's connect(), host side: '${rep:-nothing}'" ||
		return 1
	out=$(mig_guest_wait "/tmp/syn$f" "^ack $tok_a\$" 20)
	[ "$out" = "banner
ack $tok_a" ] ||
		fail "IPv$f (a) guest's connect(), guest side: '$(echo "$out" | oneline)'" ||
		return 1
	echo "# IPv$f (a): accepted $(echo "$rep" | sed -n 's/.*after=\([0-9.]*\).*/\1/p') s after the release"

	tu_wait_file "$WORK/syn_b$f.rep" $((SYN_WAIT + 5))
	rep=$(cat "$WORK/syn_b$f.rep" 2>/dev/null)
	[ "$rep" = "ok got=ack $tok_b" ] ||
		fail "IPv$f (b) connection to the forwarded port: '${rep:-nothing}'" ||
		return 1
	tu_wait_file "$WORK/syn_fill$f.rep" 10
	rep=$(cat "$WORK/syn_fill$f.rep" 2>/dev/null)
	[ "$rep" = "ok got=ack fill" ] ||
		fail "IPv$f (b) the first connection to the forwarded port: '${rep:-nothing}'"
}

# syn_moved() - the source saved the handshakes, the target started them
syn_moved() {
	grep -q "migrate: 6 TCP connections saved" "$MIG_SRC_LOG" ||
		fail "source: '$(grep 'TCP connections saved' "$MIG_SRC_LOG" | oneline)', want 6 (the filler, (a), (b), each family)" ||
		return 1
	grep -q "6 of 6 TCP connections running, 2 of them connecting again" \
		"$PASST_LOG" ||
		fail "target: '$(grep 'TCP connections running' "$PASST_LOG" | oneline)'"
}

# t_mig_syn() - MIGSYN_RUNS times: a guest, both handshakes, a migration
t_mig_syn() {
	local run f out salt
	for run in $(seq "$MIGSYN_RUNS"); do
		salt=$run-$RANDOM$RANDOM
		rm -f "$WORK/syn.release"
		mig_boot "migsyn$run" repair -t "$SYN_FWD" -t "$((SYN_FWD + 2))" &&
			syn_v6 || return 1
		for f in 4 6; do
			syn_hold $f "a$f-$salt" "b$f-$salt" ||
				return 1
		done
		sleep 2
		for f in 4 6; do	# nobody got anywhere yet
			out=$(cat "$WORK/syn_a$f.rep" "$WORK/syn_b$f.rep" \
			      2>/dev/null)
			[ -z "$out" ] ||
				fail "IPv$f: a handshake completed before the migration: '$(echo "$out" | oneline)'" ||
				return 1
		done

		mig_prepare repair && mig_go || return 1
		syn_moved || return 1
		touch "$WORK/syn.release"
		out=$(guest_run -t 10 'kill -CONT $(cat /tmp/lst4.pid) $(cat /tmp/lst6.pid) && echo resumed') ||
			fail "guest listeners not resumed: $(echo "$out" | oneline)" ||
			return 1
		for f in 4 6; do
			syn_check $f "a$f-$salt" "b$f-$salt" || return 1
		done
		qemu_stop
		mig_target_stop
		lib_kill "$REPAIR_PID"
		daemon_stop
	done
}

migsyn_tests() {
	local t0
	t0=$(now)
	run_test "migration: handshakes in progress both ways complete on the target, $MIGSYN_RUNS run(s)" \
		t_mig_syn
	qemu_stop
	mig_target_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
	echo "# handshake migration tests: $(elapsed "$t0") s"
}
