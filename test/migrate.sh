# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# migrate.sh - live migration tests (sourced by run.sh)
#
# Every migration is what a management layer does: a fresh target daemon
# (with its own TCP_REPAIR helper, passt-repair, where the test moves TCP
# connections) and a target QEMU started with -incoming, in the same
# namespace as the source; QMP migrate on the source, query-migrate until
# "completed"; then the source QEMU is told to quit (QEMU leaves it paused),
# and its daemon must exit with status 0.  The guest carries on with the
# target, which is the source of the next migration.  lib.sh has the
# mechanics (mig_target, mig_run).
#
# Streams are byte-exact: byte i of each is (i * 7 + i / 251) & 0xff,
# checked at the receiver, which also counts the bytes and wants an EOF
# (test/guest/ramp.c in the guest, test/l4host.py modes ramp-* on the host
# side).  They are paced so that they run before, across and after the
# migration, and each test checks from the host side's timestamps that
# they really did.
#
# Tests: (a) an idle guest, daemons with no forwards and no helpers; (b) a
# stream each way across each of MIG_RUNS migrations; (e) while a target
# waits, host connections to the forwarded port still reach the guest; (c)
# 1,000 idle connections and a half-closed one, used after the migration;
# (d) every old source daemon exited 0.  Tests b, e, c share one guest.
# (f), run.sh's group migfail (in migrate too), with a stream each way
# open throughout and a retry to a fresh target after each failure: F1
# the target QEMU, started with -S, killed once the migration completed,
# then "cont" on the source (libvirt's way); F2 migrate_cancel at
# pre-switchover; F3 a target daemon with no helper; F4 MIG_PINGPONG
# migrations in a row; F5 MIG_BULK_MIGS migrations while a bulk stream
# each way, unpaced, keeps the queues full (the source socket's hold
# megabytes: the guest, under TCG, reads slower than the host writes);
# F6 the source's passt-repair gone when the migration starts (the
# source refuses to hand over connections it can't freeze); F7 two
# hosts (lib.sh's hosts_setup): the source daemon in HOST1, the target
# (QEMU started with -S) in HOST2, the streams' far ends in HOSTP; once
# the migration completed, the address moves to HOST2, then "cont" on the
# target; F8 the same hosts, the target QEMU killed once the migration
# completed, "cont" on the source, then the retry is F7's migration.
# They share a guest while they pass (F7 and F8 boot their own, on
# HOST1); MIGFAIL_ONLY (e.g. "f5", "f1 f4") runs some of them alone.
#
# Ports: the daemons forward TCP 10021 to the guest (host to guest
# streams), and for (f) 10022 too (new connections).  Host side, on the
# daemon namespace's loopback (the guest's 192.0.2.2): 10201 echo (100
# idle connections), 10202 half-close sender, 10203 echo (idle
# migration), 10210 + N ramp sink of run N, 10230 + N of (f)'s stream N.
# F7 and F8: the host side is HOSTP, at 192.0.2.3 for the guest, and it
# connects to the forwarded ports at 192.0.2.1 (MIG_PEER_*).
#
# Uses from run.sh: run_test, fail, oneline, DHCP_CMD; from tcp_udp.sh:
# tu_server, tu_wait_file; from lib.sh, for guest commands: GUEST_FN.

MIG_HOST=$LIB_HERE/l4host.py
MIG_FWD=10021
MIG_RUNS=${MIG_RUNS:-5}			# migrations with streams (test b)
MIG_STREAM=$((24 * 1024 * 1024))	# bytes each way, each run
MIG_RATE=2048				# KiB/s: 12 s a stream
MIG_HALF=$((4 * 1024 * 1024))		# bytes the host sends after the
MIG_HALF_RATE=512			# guest's half-close, at KiB/s: 8 s
MIG_CONNS=1000			# idle connections, all used after (test c)
MIG_FWD_CONNS=8		# connections through the forward, target waiting
MIG_OPTS=()		# options of every daemon of the current guest
MIG_N=0			# migrations started, names the target daemons
MIG_FIGS=()		# "total/downtime" in ms, per completed migration
MIG_EXITS=()		# "daemon/helper" exit status of each old source
MIG_TOKEN=
MIG_SPID=		# host side sender of the current stream run
MIG_S_TAG=		# mig_streams_start: names the host side's files
MIG_S_STOP=		# unpaced streams: the host side's stop file
MIG_S_G2H=		# bytes each receiver wants: all of a paced stream,
MIG_S_H2G=		# what the sender says it sent of an unpaced one
MIG_S_END=0		# paced streams: when they should end, s (now)
MIG_GAP_G2H=		# mig_streams_check: longest stalls seen, ms
MIG_GAP_H2G=
MIG_FWD2=10022		# fault tests: forwarded, for new connections
MIG_F_RATE=512		# fault tests: KiB/s of both streams
MIG_F_SECS=36		# their length, failed migration and retry (F1-F3)
MIG_F_BYTES=$((MIG_F_SECS * MIG_F_RATE * 1024))
MIG_BULK_MIGS=${MIG_BULK_MIGS:-2}	# F5: migrations under the bulk streams
MIG_BULK_FILL=1		# F5: seconds the queues get to fill up first
MIG_BULK_AFTER=1	# F5: seconds the streams go on after the last one
MIG_BULK_STATE=$((384 * 1024))	# F5: least state the largest one carries
MIG_BULK_CAP=$((1 << 40))	# bound of an unpaced stream, never reached
MIG_BULK_TMO=150	# seconds the guest's ends of unpaced streams may run
MIG_PINGPONG=${MIG_PINGPONG:-4}	# migrations in a row under one stream pair
MIG_F_BOOTS=0		# guests booted for the fault tests
MIG_F_BAD=		# the last fault test failed: boot a fresh guest
MIG_F_STREAMS=0		# stream pairs of the fault tests, name sink ports
MIG_F_T=		# when the failure happened, now()
MIG_PEER_NS=		# namespace of the streams' host side (default NS)
MIG_PEER_ADDR=127.0.0.1	# address of its sinks
MIG_PEER_GUEST=192.0.2.2	# that address as the guest connects to it
MIG_PEER_FWD=127.0.0.1	# address it connects to for a forwarded port
MIG_2H_SECS=24		# F7: seconds of its streams, one migration

# mig_daemon_ok() - true if the current daemon runs, else a reason
mig_daemon_ok() {
	pid_alive "$PASST_PID" ||
		fail "daemon $PASST_NAME not running: $(daemon_tail "$PASST_NAME" 3 2>&1 | oneline)"
}

# mig_boot() - a daemon (and helper) for a fresh guest, the guest, a lease
# @1:	daemon name
# @2:	"repair" for a TCP_REPAIR helper, "" for none
# @@:	daemon options, kept in MIG_OPTS for every target
mig_boot() {
	local name=$1 helper=$2 out
	shift 2
	MIG_OPTS=("$@")
	# A helper left by an earlier group is not this guest's: its exit
	# status must not count as the next old source's helper's
	[ -z "$REPAIR_PID" ] || lib_kill "$REPAIR_PID"
	REPAIR_PID=
	daemon_start "$name" "${MIG_OPTS[@]}" 2>"$WORK/$name.err" ||
		fail "daemon did not start: $(oneline < "$WORK/$name.err")" ||
		return 1
	if [ "$helper" = repair ]; then
		repair_start "$(repair_path "$PASST_SOCK" "${MIG_OPTS[@]}")" \
			2>"$WORK/$name.err" ||
			fail "helper: $(oneline < "$WORK/$name.err")" || return 1
	fi
	qemu_start "$PASST_SOCK" 2>"$WORK/qemu_start.err" ||
		fail "guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	out=$(guest_run -t 30 "$DHCP_CMD" 2>&1) ||
		fail "no DHCP lease: $(echo "$out" | oneline)"
}

# mig_prepare() - the target of the next migration, with the current options
# -S:	its QEMU started with -S (mig_target)
# @1:	"repair" for a helper on each side (the source's started if missing)
# @2:	"repair" or "" for the target's helper alone (default: as @1)
mig_prepare() {
	local err=$WORK/mig_target.err paused=()
	if [ "${1:-}" = -S ]; then
		paused=(-S)
		shift
	fi
	MIG_N=$((MIG_N + 1))
	if [ "${1:-}" = repair ]; then
		repair_ensure "$(repair_path "$PASST_SOCK" "${MIG_OPTS[@]}")" \
			2>"$err" ||
			fail "source helper: $(oneline < "$err")" || return 1
	fi
	mig_target "${paused[@]}" "mig$MIG_N" "${2-${1:-}}" "${MIG_OPTS[@]}" \
		2>"$err" ||
		fail "migration target did not start: $(oneline < "$err")"
}

# mig_go() - migrate to the prepared target; record and print the figures
#
# Fails if the migration does not complete, if the guest does not answer on
# the target, or if the old source daemon (or its helper) did not exit 0.
mig_go() {
	if ! mig_run 60; then
		daemon_tail "mig$MIG_N" 5 2>&1 | sed 's/^#/# target:/'
		fail "migration $MIG_N: $MIG_ERR" || return 1
	fi
	mig_done
}

# mig_done() - the guest runs on the target, the source is ended (mig_run,
# mig_finish): record and print the figures, check the guest and the old
# source's exit
mig_done() {
	local out
	MIG_FIGS+=("$MIG_TOTAL/$MIG_DOWNTIME")
	MIG_EXITS+=("$MIG_SRC_RC/$MIG_SRC_REPAIR_RC")
	echo "# migration $MIG_N: total $MIG_TOTAL ms, downtime $MIG_DOWNTIME ms," \
	     "setup $MIG_SETUP ms; old source daemon exit $MIG_SRC_RC," \
	     "helper $MIG_SRC_REPAIR_RC"
	out=$(guest_run -t 20 'echo alive') ||
		fail "guest does not answer on the target: $(echo "$out" | oneline)" ||
		return 1
	mig_daemon_ok || return 1
	[ "$MIG_SRC_RC" = 0 ] ||
		fail "old source daemon: exit status '$MIG_SRC_RC' after its QEMU quit, want 0: $(tail -n 2 "$MIG_SRC_LOG" | oneline)" ||
		return 1
	[ "$MIG_SRC_REPAIR_RC" = 0 ] || [ "$MIG_SRC_REPAIR_RC" = - ] ||
		fail "old source helper: exit status '$MIG_SRC_REPAIR_RC', want 0"
}

# mig_between() - true if FIRST < T0 and T1 < LAST: a stream spans a time
# @1:	the stream's first time
# @2:	its last time
# @3:	T0, default the migration's start (MIG_T0)
# @4:	T1, default its end (MIG_T1)
mig_between() {
	awk -v a="$1" -v b="$2" -v m0="${3:-$MIG_T0}" -v m1="${4:-$MIG_T1}" \
		'BEGIN { exit !(a < m0 && m1 < b) }'
}

# mig_field() - value of NAME=VALUE in a report line
mig_field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# mig_guest_wait() - wait in the guest for a verdict in a file (lib.sh's
# gwait), print the file
# @1:	file
# @2:	extended regex for success
# @3:	seconds
mig_guest_wait() {
	guest_run -t $(($3 + 10)) "$GUEST_FN
		gwait $1 '$2' $3"
}

# --- (a) -------------------------------------------------------------------
# An idle guest, daemons with no forwards and no helpers: the plain case
t_mig_idle() {
	local out want
	MIG_TOKEN=m${RANDOM}${RANDOM}
	tu_server mig_echo.rep echo 127.0.0.1 10203 REP 1 0 ||
		fail "host echo server did not start" || return 1
	mig_boot migidle "" || return 1
	guest_run -t 15 'ping -c 1 -W 3 192.0.2.2' >/dev/null ||
		fail "no ping reply before the migration" || return 1
	mig_prepare "" && mig_go || return 1

	out=$(guest_run 'ip -4 -o addr show dev eth0') ||
		fail "ip addr on the target: $out" || return 1
	echo "$out" | grep -q ' inet 192\.0\.2\.1/24 ' ||
		fail "after migration eth0 has '$(echo "$out" | oneline)', want 192.0.2.1/24" ||
		return 1
	guest_run -t 15 'ping -c 2 -W 3 192.0.2.2' >/dev/null 2>&1 ||
		fail "no ping reply from the gateway 192.0.2.2 after migration" ||
		return 1
	want=after-$MIG_TOKEN
	out=$(guest_run -t 20 "echo '$want' | socat -t 10 - TCP4:192.0.2.2:10203") ||
		fail "new TCP connection after migration: $(echo "$out" | oneline)" ||
		return 1
	[ "$out" = "ack $want" ] ||
		fail "new TCP connection after migration got '$(echo "$out" | oneline)', want 'ack $want'"
}

# --- (b) -------------------------------------------------------------------
# mig_peer_server() - tcp_udp.sh's tu_server, in MIG_PEER_NS if set
mig_peer_server() {
	local NS=${MIG_PEER_NS:-$NS}
	tu_server "$@"
}

# mig_streams_start() - a ramp stream each way: guest to a host sink, host
# to the guest through the forwarded port MIG_FWD; wait until both run
# @1:	tag, names the host side's files: mig_sinkTAG.rep, mig_h2gTAG.out
# @2:	port of the host sink
# @3:	bytes each way
# @4:	KiB/s; 0 for unpaced streams (as fast as the connections go), which
#	run until mig_streams_check stops their senders, @3 only a bound
#
# Sets MIG_S_TAG, MIG_S_STOP, MIG_S_G2H, MIG_S_H2G and
# MIG_SPID (the host sender), for mig_streams_check and
# mig_streams_report.  The guest's ends are gbg jobs h2g and g2h; they
# give up 48 s after a paced stream should have ended, MIG_BULK_TMO s
# after an unpaced one started.
mig_streams_start() {
	local tag=$1 port=$2 bytes=$3 rate=$4 out tmo=$MIG_BULK_TMO want=0
	local gstop=/tmp/stop
	lib_kill "$MIG_SPID"
	mig_daemon_ok || return 1
	MIG_S_TAG=$tag MIG_S_STOP=$WORK/mig_stop$tag
	MIG_S_G2H='' MIG_S_H2G='' MIG_S_END=0
	rm -f "$MIG_S_STOP"
	if [ "$rate" -ne 0 ]; then
		tmo=$((bytes / 1024 / rate + 48))
		MIG_S_END=$(($(date +%s) + bytes / 1024 / rate))
		want=$bytes MIG_S_G2H=$bytes MIG_S_H2G=$bytes
		MIG_S_STOP='' gstop=''
	fi
	mig_peer_server "mig_sink$tag.rep" ramp-sink "$MIG_PEER_ADDR" "$port" \
		REP "$want" || fail "host sink did not start" || return 1
	out=$(guest_run "$GUEST_FN
		gkill
		rm -f /tmp/stop
		gbg h2g ramp -t $tmo recv $MIG_FWD $want
		gwait /tmp/h2g '^listening' 5 || exit 1
		gbg g2h ramp -t $tmo send $MIG_PEER_GUEST $port $bytes $rate $gstop") ||
		fail "guest stream ends did not start: $(echo "$out" | oneline)" ||
		return 1
	# shellcheck disable=SC2086 # MIG_S_STOP: one argument or none
	ip netns exec "${MIG_PEER_NS:-$NS}" python3 "$MIG_HOST" ramp-send \
		"$MIG_PEER_FWD" "$MIG_FWD" "$bytes" "$rate" $MIG_S_STOP \
		</dev/null >"$WORK/mig_h2g$tag.out" 2>&1 &
	MIG_SPID=$!
	LIB_PIDS+=("$MIG_SPID")
	out=$(mig_guest_wait /tmp/h2g '^accepted' 10)
	[ "$(echo "$out" | tail -n 1)" = accepted ] ||
		fail "host to guest: the guest accepted no connection: $(echo "$out" | oneline)"
}

# mig_streams_stop() - unpaced streams: stop both senders, wait for what
# they say they sent, which each receiver then wants
#
# Sets MIG_S_G2H and MIG_S_H2G
mig_streams_stop() {
	local out rep
	touch "$MIG_S_STOP"
	guest_run 'touch /tmp/stop' >/dev/null ||
		fail "could not stop the guest's sender" || return 1
	out=$(mig_guest_wait /tmp/g2h '^sent ' 60)
	MIG_S_G2H=$(echo "$out" | sed -n 's/^sent \([0-9]*\)$/\1/p')
	[ -n "$MIG_S_G2H" ] ||
		fail "guest to host: guest sender says '$(echo "$out" | oneline)'" ||
		return 1
	wait_gone "$MIG_SPID" 60 ||
		fail "host to guest: host sender still running 60 s after the stop" ||
		return 1
	rep=$(cat "$WORK/mig_h2g$MIG_S_TAG.out")
	MIG_S_H2G=$(echo "$rep" | sed -n 's/^sent \([0-9]*\) .*/\1/p')
	[ -n "$MIG_S_H2G" ] ||
		fail "host to guest: host sender: $(echo "$rep" | oneline)"
}

# mig_streams_check() - wait for both streams to end (stop them first if
# unpaced); all bytes, in order, and an EOF, at each receiver; both spanned
# a time span
# @1:	time the streams must have started before (default MIG_T0)
# @2:	time they must have ended after (default MIG_T1)
#
# Sets MIG_GAP_G2H (longest stall at the host sink) and MIG_GAP_H2G (at
# the host sender), ms
mig_streams_check() {
	local sink=$WORK/mig_sink$MIG_S_TAG.rep n out rep wait
	if [ -n "$MIG_S_STOP" ]; then
		mig_streams_stop || return 1
	fi
	n=$MIG_S_G2H
	# 60 s, or until 30 s after a paced stream should have ended
	wait=$((MIG_S_END - $(date +%s) + 30))
	[ "$wait" -gt 60 ] || wait=60
	tu_wait_file "$sink" "$wait" ||
		fail "guest to host: host sink had no EOF $wait s after the migration" ||
		return 1
	rep=$(cat "$sink")
	[[ $rep == "ok $n "* ]] ||
		fail "guest to host: $(echo "$rep" | oneline), want $n bytes" ||
		return 1
	mig_between "$(mig_field "$rep" first)" "$(mig_field "$rep" last)" \
		"${1:-}" "${2:-}" ||
		fail "guest to host stream did not span the migration: $rep" ||
		return 1
	MIG_GAP_G2H=$(mig_field "$rep" gap)

	n=$MIG_S_H2G
	out=$(mig_guest_wait /tmp/h2g '^ok ' 60)
	[ "$(echo "$out" | tail -n 1)" = "ok $n" ] ||
		fail "host to guest: guest receiver says '$(echo "$out" | oneline)', want 'ok $n'" ||
		return 1
	wait_gone "$MIG_SPID" 10 ||
		fail "host to guest: host sender still running" || return 1
	rep=$(cat "$WORK/mig_h2g$MIG_S_TAG.out")
	lib_kill "$MIG_SPID"
	[[ $rep == "sent $n "* ]] ||
		fail "host to guest: host sender: $(echo "$rep" | oneline)" ||
		return 1
	mig_between "$(mig_field "$rep" first)" "$(mig_field "$rep" last)" \
		"${1:-}" "${2:-}" ||
		fail "host to guest stream did not span the migration: $rep" ||
		return 1
	MIG_GAP_H2G=$(mig_field "$rep" gap)
	out=$(mig_guest_wait /tmp/g2h '^sent ' 10)
	[ "$out" = "sent $MIG_S_G2H" ] ||
		fail "guest to host: guest sender says '$(echo "$out" | oneline)'"
}

# mig_stream_run() - one migration with a stream each way running across it
# @1:	run number
mig_stream_run() {
	local i=$1
	mig_streams_start "$i" $((10210 + i)) "$MIG_STREAM" "$MIG_RATE" ||
		return 1
	# The streams are running: now the target, as a management layer would
	mig_prepare repair || return 1
	sleep 1
	mig_go || return 1
	mig_streams_check "$MIG_T0" "$MIG_T1" || return 1
	echo "# run $i: $MIG_STREAM bytes each way at $MIG_RATE KiB/s across the" \
	     "migration; longest stall: guest to host $MIG_GAP_G2H ms, host to" \
	     "guest $MIG_GAP_H2G ms (host send)"
}

t_mig_streams() {
	local i ok=0 first=
	mig_boot migsrc repair -t "$MIG_FWD" || return 1
	for i in $(seq "$MIG_RUNS"); do
		if mig_stream_run "$i"; then
			ok=$((ok + 1))
		else
			echo "# run $i failed: $REASON"
			[ -n "$first" ] || first="run $i: $REASON"
			# The guest is lost with a failed target: go on if not
			pid_alive "$QEMU_PID" || break
		fi
	done
	lib_kill "$MIG_SPID"
	[ "$ok" -eq "$MIG_RUNS" ] ||
		fail "$ok of $MIG_RUNS runs passed; first failure: $first"
}

# --- (e) -------------------------------------------------------------------
# While a target daemon waits for the migration, in the same namespace,
# host connections to the forwarded port must still reach the guest at
# once, through the source daemon: several, one after the other, so that
# one going astray (to the target) can hardly escape notice.
t_mig_fwd_waiting() {
	mig_daemon_ok || return 1
	mig_prepare repair || return 1
	guest_run "$GUEST_FN
		gkill" >/dev/null
	mig_fwd_check "$MIG_FWD" "$MIG_FWD_CONNS" "while the target waits"
}

# mig_fwd_check() - host connections to a forwarded port, one after the
# other, each 64 KiB of the ramp, all reach the guest
# @1:	port
# @2:	connections
# @3:	when, for the failure ("while the target waits")
mig_fwd_check() {
	local port=$1 count=$2 out rep k n=$((64 * 1024))
	out=$(guest_run "$GUEST_FN
		[ -s /tmp/fwd.pid ] && kill \$(cat /tmp/fwd.pid) 2>/dev/null
		gbg fwd ramp -t 30 recv $port $n $count
		gwait /tmp/fwd '^listening' 5") ||
		fail "guest listener: $(echo "$out" | oneline)" || return 1
	for k in $(seq "$count"); do
		rep=$(ip netns exec "${MIG_PEER_NS:-$NS}" timeout 5 python3 \
			"$MIG_HOST" ramp-send "$MIG_PEER_FWD" "$port" "$n" 100000 2>&1)
		[[ $rep == "sent $n "* ]] || break
	done
	out=$(mig_guest_wait /tmp/fwd "^ok $n\$" 1)
	[ "$(echo "$out" | grep -c "^ok $n\$")" = "$count" ] ||
		fail "connection $k of $count to the forwarded port $3: host '$(echo "$rep" | tail -n 1 | cut -d' ' -f1-6)', guest '$(echo "$out" | oneline)'"
}

# --- (c) -------------------------------------------------------------------
t_mig_idle_conns() {
	local out rep want_bytes
	if ! pid_alive "$QEMU_PID" || ! pid_alive "$PASST_PID"; then
		echo "# no guest left from the streams: booting one"
		qemu_stop
		lib_kill "$REPAIR_PID"
		daemon_stop
		mig_boot migsrc2 repair -t "$MIG_FWD" || return 1
	fi
	# A target of its own: one left by t_mig_fwd_waiting may hold a stray
	# connection, and this test would fail for that one's reason
	mig_prepare repair || return 1
	tu_server mig_keep.rep echo-keep 127.0.0.1 10201 REP &&
	tu_server mig_half.rep half-send 127.0.0.1 10202 REP "$MIG_HALF" \
		"$MIG_HALF_RATE" ||
		fail "host servers did not start" || return 1
	out=$(guest_run -t 90 "$GUEST_FN
		ulimit -n $((MIG_CONNS + 100))
		gkill
		rm -f /tmp/go
		gbg conns ramp -t 150 conns 192.0.2.2 10201 $MIG_CONNS /tmp/go
		gwait /tmp/conns '^open ' 80") ||
		fail "guest opening $MIG_CONNS connections: $(echo "$out" | oneline)" ||
		return 1
	[ "$out" = "open $MIG_CONNS" ] ||
		fail "guest opening $MIG_CONNS connections: $(echo "$out" | oneline)" ||
		return 1
	rep=$(cat "$WORK/mig_keep.rep")
	[ "$(mig_field "$rep" open)" = "$MIG_CONNS" ] ||
		fail "host echo before the migration: '$rep', want open=$MIG_CONNS" ||
		return 1
	out=$(guest_run -t 20 "$GUEST_FN
		gbg half ramp -t 150 half 192.0.2.2 10202 65536 $MIG_HALF
		gwait /tmp/half '^half-closed' 10") ||
		fail "guest half-closed connection: $(echo "$out" | oneline)" ||
		return 1
	tu_wait_file "$WORK/mig_half.rep.eof" 10 ||
		fail "host saw no EOF from the guest's half-close" || return 1

	mig_go || return 1

	out=$(guest_run -t 90 "$GUEST_FN
		touch /tmp/go
		gwait /tmp/conns '^ok ' 80")
	[ "$(echo "$out" | tail -1)" = "ok $MIG_CONNS" ] ||
		fail "idle connections after the migration: $(echo "$out" | tail -n 4 | oneline); host echo: $(cat "$WORK/mig_keep.rep")" ||
		return 1
	want_bytes=$((MIG_CONNS * (16 + 1000)))
	rep=$(cat "$WORK/mig_keep.rep")
	[ "$rep" = "open=0 peak=$MIG_CONNS closed=$MIG_CONNS bytes=$want_bytes bad=0" ] ||
		fail "host echo after the migration: '$rep', want $MIG_CONNS closed at EOF, $want_bytes bytes" ||
		return 1

	out=$(mig_guest_wait /tmp/half '^ok ' 30)
	[ "$out" = "$(printf 'half-closed\nok sent 65536 got %s eof' "$MIG_HALF")" ] ||
		fail "half-closed connection, guest: '$(echo "$out" | oneline)', want all $MIG_HALF bytes, then EOF" ||
		return 1
	tu_wait_file "$WORK/mig_half.rep" 20 ||
		fail "half-closed connection: host sender did not finish" || return 1
	rep=$(cat "$WORK/mig_half.rep")
	[[ $rep == "in=65536 out=$MIG_HALF eof "* ]] ||
		fail "half-closed connection, host: '$rep'" || return 1
	mig_between "$(mig_field "$rep" first)" "$(mig_field "$rep" last)" ||
		fail "host sent on the half-closed connection only before or after the migration: $rep"
}

# --- (d) -------------------------------------------------------------------
t_mig_source_exit() {
	local e bad=
	[ ${#MIG_EXITS[@]} -gt 0 ] || fail "no migration completed" || return 1
	for e in "${MIG_EXITS[@]}"; do
		[ "${e%/*}" = 0 ] || bad="$bad ${e%/*}"
	done
	[ -z "$bad" ] ||
		fail "old source daemons exited with:$bad (of ${#MIG_EXITS[@]} migrations), want 0 each"
}

# --- (f) -------------------------------------------------------------------
# Failed migrations, and many in a row.  Each test has a paced stream each
# way open (guest to host sink 10230 + N, host to the guest's MIG_FWD)
# across the failure, the source taking the guest back, and a retry to a
# fresh target; then the streams must end byte-exact, and new connections
# through the forwarded port MIG_FWD2 reach the guest, through the source
# after the failure and through the target after the retry.  A '#' line
# per test: bytes lost, connections reset, longest stalls.

# mig_fault_guest() - the guest of the fault tests: the one the last test
# left if that test passed and the guest and its daemon are well, else a
# fresh one (daemon and helper)
mig_fault_guest() {
	if [ "$MIG_F_BOOTS" -gt 0 ] && [ -z "$MIG_F_BAD" ] &&
	   pid_alive "$QEMU_PID" &&
	   pid_alive "$PASST_PID" && guest_run -t 10 true >/dev/null 2>&1; then
		return 0
	fi
	[ "$MIG_F_BOOTS" -eq 0 ] || echo "# booting a fresh guest"
	mig_target_stop
	qemu_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
	MIG_F_BOOTS=$((MIG_F_BOOTS + 1))
	MIG_F_BAD=
	mig_boot "migf$MIG_F_BOOTS" repair -t "$MIG_FWD" -t "$MIG_FWD2"
}

# mig_got() - bytes a receiver got, from its verdict; empty if none yet
mig_got() {
	echo "$1" | sed -n 's/^ok \([0-9]*\).*/\1/p
		s/^short \([0-9]*\) of .*/\1/p
		s/.* after \([0-9]*\) bytes.*/\1/p
		s/^mismatch at \([0-9]*\):.*/\1/p' | tail -n 1
}

# mig_lost() - bytes of the stream a receiver did not get, from its verdict
# @1:	the verdict
# @2:	bytes sent, empty if not known
mig_lost() {
	local got
	got=$(mig_got "$1")
	if [ -n "$got" ] && [ -n "$2" ]; then
		echo "$(($2 - got)) of $2"
	elif [ -n "$got" ]; then
		echo "? (got $got, sender's count unknown)"
	else
		echo "? (no verdict yet${1:+: '$(echo "$1" | tail -n 1 | oneline)'})"
	fi
}

# mig_streams_report() - a comment line on the streams: bytes lost,
# connections reset, longest stalls
# @1:	label
# @2:	seconds to wait for the host side's verdicts (default 0)
mig_streams_report() {
	local sink snd h2g g2h resets
	tu_wait_file "$WORK/mig_sink$MIG_S_TAG.rep" "${2:-0}" || true
	wait_gone "$MIG_SPID" "${2:-0}" || true
	sink=$(cat "$WORK/mig_sink$MIG_S_TAG.rep" 2>/dev/null) || true
	snd=$(cat "$WORK/mig_h2g$MIG_S_TAG.out" 2>/dev/null) || true
	h2g=$(guest_run -t 10 'cat /tmp/h2g' 2>/dev/null |
	      grep -v '^listening$\|^accepted$') || true
	g2h=$(guest_run -t 10 'cat /tmp/g2h' 2>/dev/null) || true
	resets=$(printf '%s\n' "$sink" "$snd" "$h2g" "$g2h" |
		 grep -ci reset) || true
	echo "# $1: bytes lost: guest to host $(mig_lost "$sink" "$MIG_S_G2H")," \
	     "host to guest $(mig_lost "$h2g" "$MIG_S_H2G");" \
	     "connections reset: $resets; longest stall: guest to host" \
	     "$(mig_field "$sink" gap) ms, host to guest" \
	     "$(mig_field "$snd" gap) ms (host send)"
}

# mig_streams_alive() - no end of the streams has given up yet
mig_streams_alive() {
	local f out
	for f in "$WORK/mig_sink$MIG_S_TAG.rep" "$WORK/mig_h2g$MIG_S_TAG.out"; do
		[ ! -s "$f" ] ||
			fail "a stream ended early, host side: $(oneline < "$f")" ||
			return 1
	done
	out=$(guest_run 'cat /tmp/h2g /tmp/g2h' 2>&1)
	! echo "$out" | grep -Eq '^(mismatch|short|long|timeout|bad) |: ' ||
		fail "a stream's guest end gave up: $(echo "$out" | oneline)"
}

# mig_fault_back() - after a failure, the source has the guest again: it
# answers, its daemon runs, new connections through the forwarded port
# reach it, and the streams are still open
mig_fault_back() {
	local out
	out=$(guest_run -t 20 'echo alive' 2>&1) ||
		fail "the guest does not answer on the source after the failure: $(echo "$out" | oneline)" ||
		return 1
	mig_daemon_ok || return 1
	mig_fwd_check "$MIG_FWD2" 3 "through the source after the failure" ||
		return 1
	echo "# guest answers and takes new connections through the source" \
	     "$(elapsed "$MIG_F_T") s after the failure"
	mig_streams_alive
}

# mig_retry() - a migration to a fresh target, with a helper each side
mig_retry() {
	mig_prepare repair && mig_go
}

# mig_fault_retry() - a fault, the checks of the source, then the failed
# target stopped and a migration to a fresh one
# @1:	the fault: a function that sets MIG_F_T and leaves the source running
# @2:	the retry (default mig_retry)
#
# A failed check of the source doesn't stop the retry: it is the first
# reason given, the retry's comes after it.
mig_fault_retry() {
	local why=
	"$1" || return 1
	mig_fault_back || why=$REASON
	mig_target_stop
	if ! "${2:-mig_retry}"; then
		fail "${why:+$why; }retry: $REASON"
		return 1
	fi
	[ -z "$why" ] || fail "$why (the retry then worked)"
}

# mig_fault_run() - streams, @@, then the streams' and the forward's checks
# @1:	name of the streams (and of their '#' line)
# @2:	bytes each way
# @3:	KiB/s, 0 for unpaced
# @@:	what to do to the guest across the streams; sets MIG_F_T to the
#	time of the failure (or the first migration), MIG_T1 to its last
#	migration's end
mig_fault_run() {
	local name=$1 bytes=$2 rate=$3 why rc=0 t0
	shift 3
	mig_fault_guest || return 1
	t0=$(now)
	MIG_F_T=
	MIG_F_STREAMS=$((MIG_F_STREAMS + 1))
	mig_streams_start "$name" $((10230 + MIG_F_STREAMS)) "$bytes" "$rate" ||
		return 1
	if ! "$@"; then
		# And the streams? (the check waits for their end)
		why=$REASON
		if mig_streams_check "$(now)" 0; then
			fail "$why (the streams went on, byte-exact)"
		else
			fail "$why; streams: $REASON"
		fi
		rc=1
	elif ! mig_streams_check "$MIG_F_T" "$MIG_T1" ||
	     ! mig_fwd_check "$MIG_FWD2" 3 "through the target after the migration"; then
		rc=1
	fi
	mig_streams_report "$name, $(elapsed "$t0") s" $((rc * 40))
	lib_kill "$MIG_SPID"
	mig_target_stop
	# The next test's guest is a fresh one if this one failed
	[ $rc -eq 0 ] || MIG_F_BAD=1
	return $rc
}

# migf_paused_target() - F1, libvirt's way out: the target QEMU, started
# with -S, has the whole guest, but is killed before it runs it; the
# source gets "cont"
migf_paused_target() {
	local out
	mig_prepare -S repair || return 1
	sleep 1
	mig_launch && mig_poll 60 ||
		fail "migration to a target started with -S: $MIG_ERR" ||
		return 1
	qemu_wait_status 'paused|prelaunch' 10 "$QEMU_IN_QMP" "$QEMU_IN_PID" ||
		fail "target QEMU '$QEMU_STATUS' once the migration completed, want paused" ||
		return 1
	echo "# migration $MIG_N to a target started with -S completed in" \
	     "$MIG_TOTAL ms (target $QEMU_STATUS): kill -9 the target QEMU," \
	     "cont on the source 1 s later"
	{ kill -9 "$QEMU_IN_PID"; wait "$QEMU_IN_PID"; } 2>/dev/null
	MIG_F_T=$(now)
	sleep 1
	out=$(qmp cont 2>&1) || fail "cont on the source: $out" || return 1
	qemu_wait_status running 10 ||
		fail "source QEMU '$QEMU_STATUS' 10 s after cont, want running"
}

# migf_cancel() - F2: migrate_cancel while paused before switch-over
migf_cancel() {
	local out rc=0
	mig_prepare repair || return 1
	out=$(mig_cap pause-before-switchover true 2>&1) ||
		fail "setting pause-before-switchover: $out" || return 1
	sleep 1
	if ! mig_launch || ! mig_poll 60 pre-switchover ||
	   [ "$MIG_STATUS" != pre-switchover ]; then
		fail "migration did not pause before switch-over: status '$MIG_STATUS' $MIG_ERR"
		rc=1
	elif ! out=$(qmp migrate_cancel 2>&1); then
		fail "migrate_cancel: $out"
		rc=1
	else
		MIG_F_T=$(now)
		mig_poll 20 || true
		if [ "$MIG_STATUS" != cancelled ]; then
			fail "status '$MIG_STATUS' after migrate_cancel, want cancelled"
			rc=1
		elif ! qemu_wait_status running 10; then
			fail "source QEMU '$QEMU_STATUS' 10 s after migrate_cancel, want running"
			rc=1
		else
			echo "# migration $MIG_N cancelled at pre-switchover; source" \
			     "running again $(elapsed "$MIG_F_T") s after migrate_cancel"
		fi
	fi
	out=$(mig_cap pause-before-switchover false 2>&1) || [ $rc -ne 0 ] ||
		fail "clearing pause-before-switchover: $out" || return 1
	return $rc
}

# migf_no_helper() - F3: a target daemon with no TCP_REPAIR helper, which
# can't restore the connections: the migration must fail (the source
# resumes by itself) or the target QEMU must not run (it gets "cont")
migf_no_helper() {
	local out
	mig_prepare repair "" || return 1
	sleep 1
	mig_launch || fail "$MIG_ERR" || return 1
	mig_poll 60 || true
	MIG_F_T=$(now)
	case "$MIG_STATUS" in
	failed)
		echo "# migration $MIG_N to a target without passt-repair" \
		     "failed: $MIG_ERR"
		;;
	completed)
		if qemu_wait_status running 10 "$QEMU_IN_QMP" "$QEMU_IN_PID"; then
			mig_finish
			fail "the migration to a target without passt-repair completed, and the guest runs there"
			return 1
		fi
		echo "# migration $MIG_N to a target without passt-repair" \
		     "completed, target QEMU $QEMU_STATUS: cont on the source"
		out=$(qmp cont 2>&1) || fail "cont on the source: $out" ||
			return 1
		;;
	*)
		fail "migration to a target without passt-repair: $MIG_ERR"
		return 1
		;;
	esac
	qemu_wait_status running 10 ||
		fail "source QEMU '$QEMU_STATUS' 10 s after the failure, want running"
}

# migf_src_helper_gone() - F6: the source's passt-repair is gone when the
# migration starts: the source can't freeze its connections, so it
# refuses to save its state, the migration fails, and the guest runs on
# with them; the retry (mig_fault_retry) starts a helper again
migf_src_helper_gone() {
	mig_prepare "" repair || return 1
	lib_kill "$REPAIR_PID"
	REPAIR_PID=
	sleep 1
	mig_launch || fail "$MIG_ERR" || return 1
	mig_poll 60 || true
	MIG_F_T=$(now)
	[ "$MIG_STATUS" = failed ] ||
		fail "migration without the source's helper: status '$MIG_STATUS', want failed" ||
		return 1
	echo "# migration $MIG_N without the source's helper failed: $MIG_ERR"
	qemu_wait_status running 10 ||
		fail "source QEMU '$QEMU_STATUS' 10 s after the failure, want running"
}

# migf_pingpong() - F4: MIG_PINGPONG migrations in a row, each to a fresh
# target
migf_pingpong() {
	local k
	for k in $(seq "$MIG_PINGPONG"); do
		mig_prepare repair && mig_go ||
			fail "migration $k of $MIG_PINGPONG: $REASON" || return 1
		[ -n "$MIG_F_T" ] || MIG_F_T=$MIG_T0
	done
}

# mig_state_bytes() - bytes of state a source daemon wrote in its last
# migration, from its log ("migrate: wrote N bytes of state"); empty if none
# @1:	the daemon's log
mig_state_bytes() {
	sed -n 's/.*migrate: wrote \([0-9]*\) bytes of state.*/\1/p' "$1" |
		tail -n 1
}

# migf_bulk() - F5: MIG_BULK_MIGS migrations in a row, each to a fresh
# target, while unpaced streams keep the queues full; a '#' line each
# with the bytes of state the source wrote
#
# Each migration starts once the streams have run MIG_BULK_FILL s (the
# first) or as soon as the target is up (the next ones).  How much the
# queues hold depends on how far the kernel has grown the buffers by then,
# within twice the guest's window (the daemon clamps the peer's window):
# 0.9 to 1.5 MB seen.  The largest state must be MIG_BULK_STATE or more,
# three times a default receive buffer, else the queues were not full,
# and the test would prove nothing.
migf_bulk() {
	local k st max=0 all=
	sleep "$MIG_BULK_FILL"
	for k in $(seq "$MIG_BULK_MIGS"); do
		mig_prepare repair && mig_go ||
			fail "migration $k of $MIG_BULK_MIGS: $REASON" || return 1
		[ -n "$MIG_F_T" ] || MIG_F_T=$MIG_T0
		st=$(mig_state_bytes "$MIG_SRC_LOG")
		echo "# bulk migration $k of $MIG_BULK_MIGS: ${st:-?} bytes of" \
		     "state written by the source"
		[ -n "$st" ] ||
			fail "migration $k: no 'wrote N bytes of state' in $MIG_SRC_LOG" ||
			return 1
		all="$all $st"
		[ "$st" -le "$max" ] || max=$st
	done
	[ "$max" -ge "$MIG_BULK_STATE" ] ||
		fail "the migrations carried${all} bytes of state, want $MIG_BULK_STATE or more in one: the queues were not full" ||
		return 1
	sleep "$MIG_BULK_AFTER"
}

# migf_two_hosts() - F7, and F8's retry: a migration to the other host,
# libvirt's way: the target QEMU started with -S; once the migration
# completed, the address moves to the target's host, then "cont" on the
# target, and the source QEMU is told to quit
migf_two_hosts() {
	local out t
	mig_prepare -S repair || return 1
	sleep 1
	mig_launch && mig_poll 60 ||
		fail "migration to the other host: $MIG_ERR" || return 1
	t=$(now)
	[ -n "$MIG_F_T" ] || MIG_F_T=$MIG_T0
	qemu_wait_status 'paused|prelaunch' 10 "$QEMU_IN_QMP" "$QEMU_IN_PID" ||
		fail "target QEMU '$QEMU_STATUS' once the migration completed, want paused" ||
		return 1
	out=$(hosts_attach 2 2>&1) ||
		fail "moving 192.0.2.1 to the target's host: $(echo "$out" | oneline)" ||
		return 1
	out=$(qmp cont "$QEMU_IN_QMP" 2>&1) ||
		fail "cont on the target: $out" || return 1
	qemu_wait_status running 10 "$QEMU_IN_QMP" "$QEMU_IN_PID" ||
		fail "target QEMU '$QEMU_STATUS' 10 s after cont, want running" ||
		return 1
	MIG_T1=$(now)
	echo "# migration $MIG_N to the other host completed in $MIG_TOTAL ms;" \
	     "address moved, target running $(elapsed "$t") s later"
	mig_finish 10
	mig_done
}

# mig_hosts_run() - mig_fault_run on two hosts (lib.sh's hosts_setup): a
# fresh guest with its daemon and helper on HOST1, targets on HOST2, the
# streams' far ends in HOSTP; the address on HOST1 to begin with.  The
# next fault test gets a fresh guest in NS.
# @@:	mig_fault_run's arguments
mig_hosts_run() {
	local NS NS_IN MIG_PEER_NS MIG_PEER_ADDR=192.0.2.3 rc=0
	local MIG_PEER_GUEST=192.0.2.3 MIG_PEER_FWD=192.0.2.1
	hosts_setup 2>"$WORK/hosts.err" && hosts_attach 1 2>>"$WORK/hosts.err" ||
		fail "setting up two hosts: $(oneline < "$WORK/hosts.err")" ||
		return 1
	# shellcheck disable=SC2034 # NS_IN: lib.sh's mig_target reads it
	NS=$HOST1 NS_IN=$HOST2 MIG_PEER_NS=$HOSTP
	MIG_F_BAD=1
	mig_fault_run "$@" || rc=1
	MIG_F_BAD=1
	return $rc
}

t_migf_two_hosts() {
	mig_hosts_run f7 $((MIG_2H_SECS * MIG_F_RATE * 1024)) "$MIG_F_RATE" \
		migf_two_hosts
}

t_migf_two_hosts_back() {
	mig_hosts_run f8 "$MIG_F_BYTES" "$MIG_F_RATE" \
		mig_fault_retry migf_paused_target migf_two_hosts
}

t_migf_paused_target() {
	mig_fault_run f1 "$MIG_F_BYTES" "$MIG_F_RATE" \
		mig_fault_retry migf_paused_target
}

t_migf_cancel() {
	mig_fault_run f2 "$MIG_F_BYTES" "$MIG_F_RATE" \
		mig_fault_retry migf_cancel
}

t_migf_no_helper() {
	mig_fault_run f3 "$MIG_F_BYTES" "$MIG_F_RATE" \
		mig_fault_retry migf_no_helper
}

t_migf_src_helper() {
	mig_fault_run f6 "$MIG_F_BYTES" "$MIG_F_RATE" \
		mig_fault_retry migf_src_helper_gone
}

t_migf_pingpong() {
	mig_fault_run f4 $(((MIG_PINGPONG * 16 + 6) * MIG_F_RATE * 1024)) \
		"$MIG_F_RATE" migf_pingpong
}

t_migf_bulk() {
	mig_fault_run f5 "$MIG_BULK_CAP" 0 migf_bulk
}

# mig_summary() - min/avg/max of the figures, a comment line
mig_summary() {
	[ ${#MIG_FIGS[@]} -gt 0 ] || return 0
	printf '%s\n' "${MIG_FIGS[@]}" | awk -F/ '
		function upd(i, v) {
			if (v == "-") return
			n[i]++; s[i] += v
			if (n[i] == 1 || v < lo[i]) lo[i] = v
			if (n[i] == 1 || v > hi[i]) hi[i] = v
		}
		{ upd(1, $1); upd(2, $2) }
		function f(i) {
			if (!n[i]) return "-"
			return sprintf("%d/%d/%d", lo[i], s[i] / n[i], hi[i])
		}
		END {
			printf "# %d migrations: total %s ms, downtime %s ms (min/avg/max)\n",
				NR, f(1), f(2)
		}'
}

migrate_tests() {
	local t0
	t0=$(now)
	run_test "migration: idle guest keeps 192.0.2.1, pings, opens TCP on the target" \
		t_mig_idle
	qemu_stop
	daemon_stop
	run_test "migration: TCP streams both ways, byte-exact, across $MIG_RUNS migrations" \
		t_mig_streams
	run_test "migration: forwarded port reaches the guest while a target waits" \
		t_mig_fwd_waiting
	run_test "migration: $MIG_CONNS idle TCP connections and a half-closed one carry on" \
		t_mig_idle_conns
	run_test "migration: each old source daemon exits 0 once its QEMU quits" \
		t_mig_source_exit
	mig_summary
	qemu_stop
	mig_target_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
	echo "# migration tests: $(elapsed "$t0") s"
}

# migf_only() - true if the fault test is to run (MIGFAIL_ONLY empty, or
# names it)
# @1:	its name, f1 to f8
migf_only() {
	[ -z "${MIGFAIL_ONLY:-}" ] || [[ " $MIGFAIL_ONLY " == *" $1 "* ]]
}

migfail_tests() {
	local t0
	t0=$(now)
	migf_only f1 &&
	run_test "failed migration: target QEMU (-S) killed once complete, cont on the source; streams carry on, retry works" \
		t_migf_paused_target
	migf_only f2 &&
	run_test "failed migration: migrate_cancel at pre-switchover; streams carry on, retry works" \
		t_migf_cancel
	migf_only f3 &&
	run_test "failed migration: target without passt-repair; streams stay with the source, retry works" \
		t_migf_no_helper
	migf_only f6 &&
	run_test "failed migration: the source's passt-repair gone; the source refuses, streams carry on, retry works" \
		t_migf_src_helper
	migf_only f4 &&
	run_test "migration: $MIG_PINGPONG migrations in a row under one pair of streams, byte-exact" \
		t_migf_pingpong
	migf_only f5 &&
	run_test "migration: $MIG_BULK_MIGS migrations under unpaced bulk streams both ways, queues full, byte-exact" \
		t_migf_bulk
	migf_only f7 &&
	run_test "migration: two hosts, target (-S) on the other, the address moves, cont there; streams carry on, forward reaches it" \
		t_migf_two_hosts
	migf_only f8 &&
	run_test "failed migration: two hosts, target (-S) killed once complete, cont on the source; streams carry on, retry to the other host works" \
		t_migf_two_hosts_back
	qemu_stop
	mig_target_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
	echo "# migration fault tests: $(elapsed "$t0") s"
}
