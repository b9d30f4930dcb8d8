# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# migrate_flows.sh - UDP flows and pings across a live migration (sourced by
# run.sh, group migflows)
#
# One guest, one daemon forwarding UDP MF_FWD to it (-u), flows of every
# kind running at once, then one migration (migrate.sh's mig_prepare and
# mig_go: a target daemon and QEMU in the same namespace), then the flows
# keep running for MF_AFTER seconds and each is checked from both ends:
#   (a) guest-opened UDP, IPv4 and IPv6: the guest sends "g<N>" every 0.1 s
#       from port MF_GPORT4 (MF_GPORT6) to a host echo on MF_OUT (through
#       the gateway 192.0.2.2, 2001:db8::2: the namespace's loopback), which
#       answers "ack g<N>" to the sender's address and port.  The echo must
#       see ONE source port before and after the migration, and the guest
#       must get the answers to what the echo got after it: those went to
#       the host-side port the target took over.
#   (b) peer-opened UDP through the forward, IPv4 and IPv6: a host client
#       sends "q<N>" every 0.1 s to MF_FWD on 127.0.0.1 (::1); the guest
#       echoes it (socat PIPE, which may answer two in one).  Answers must come from MF_FWD before and
#       after the migration, and for what was sent after it.
#   (c) ping from the guest to 192.0.2.3 (the peer namespace), once a
#       second: a raw socket there sees the echo requests: one identifier
#       before and after, the sequence going on; the guest's replies miss
#       at most MF_PING_LOSS sequence numbers.
# Losses: (a) and (b) may lose what was in flight during the downtime, at
# most MF_LOSS datagrams each (0.1 s apart).
#   (d) the same flows, started again, across a failed migration (F1 of
#       migrate.sh: the target QEMU, started with -S, killed once the
#       migration completed, then "cont" on the source): the source takes
#       them back, with the same ports and identifier.  The guest stood
#       still from the completion to the "cont": (b) may lose what the
#       host client sent meanwhile, and MF_LOSS more; the ping may lose
#       MF_PING_LOSS_BACK echoes.
#
# Uses from run.sh: run_test, fail, oneline; from migrate.sh: mig_boot,
# mig_prepare, mig_go, MIG_T0, MIG_T1, MIG_DOWNTIME; from lib.sh: in_ns,
# guest_run, GUEST_FN, LIB_PIDS, WORK, NS, PEER.

MF_PEER=$LIB_HERE/dgram_peer.py
MF_OUT=10301		# host echo, (a)
MF_FWD=10311		# forwarded to the guest, (b)
MF_GPORT4=40001		# guest's source ports, (a)
MF_GPORT6=40002
MF_BEFORE=3		# seconds of traffic before the migration
MF_AFTER=4		# and after it
MF_LOSS=${MF_LOSS:-20}	# datagrams each flow may lose, (a) and (b)
MF_PING_LOSS=${MF_PING_LOSS:-3}	# echoes the ping may lose, (c)
MF_PING_LOSS_BACK=${MF_PING_LOSS_BACK:-5}	# the ping, (d)
MF_STATE=		# "ok" once the flows ran across the migration
MF_T_END=		# when the flows were stopped, now()
MF_TAG=			# names the host ends' logs: "" (a-c), "back" (d)
MF_PIDS=()		# host ends of the current run
MF_LOSS_NOW=		# the bounds of the current run
MF_PING_LOSS_NOW=

# mf_bg() - start dgram_peer.py in a namespace, wait for it to be set up
# @1:	namespace
# @2:	log name in $WORK
# @@:	mode and arguments before the log
mf_bg() {
	local ns=$1 log=$WORK/$2 n=100
	shift 2
	rm -f "$log" "$log.ready"
	ip netns exec "$ns" python3 "$MF_PEER" "$@" "$log" \
		</dev/null >>"$WORK/mf_bg.out" 2>&1 &
	LIB_PIDS+=("$!")
	MF_PIDS+=("$!")
	while [ ! -e "$log.ready" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || { lib_log "dgram_peer.py $* did not start"; return 1; }
		sleep 0.05
	done
}

# mf_guest_start() - the guest's ends: IPv6 address, UDP echo on MF_FWD,
# senders to the host echo, the ping
mf_guest_start() {
	guest_run -t 40 "$GUEST_FN
		i=0
		until ip -6 route show default | grep -q via; do
			i=\$((i + 1)); [ \$i -lt 100 ] || { echo 'no IPv6 route'; exit 1; }
			sleep 0.1
		done
		ip -6 addr show dev eth0 | grep -q 'inet6 2001:db8::1/128' ||
			dhcp6c -a >/dev/null || { echo 'no DHCPv6 lease'; exit 1; }
		rm -f /tmp/mfstop
		gbg fwd4 socat UDP4-LISTEN:$MF_FWD PIPE
		gbg fwd6 socat UDP6-LISTEN:$MF_FWD,ipv6only=1 PIPE
		gen() { i=0; while [ ! -e /tmp/mfstop ]; do echo g\$i; i=\$((i + 1)); sleep 0.1; done; }
		gen | socat -t 1 - UDP4:192.0.2.2:$MF_OUT,sourceport=$MF_GPORT4 >/tmp/out4 2>&1 &
		echo \$! > /tmp/out4.pid
		gen | socat -t 1 - UDP6:[2001:db8::2]:$MF_OUT,sourceport=$MF_GPORT6 >/tmp/out6 2>&1 &
		echo \$! > /tmp/out6.pid
		gbg ping ping 192.0.2.3
		i=0
		until [ \$(netstat -lnu | grep -c ':$MF_FWD ') -ge 2 ]; do
			i=\$((i + 1)); [ \$i -lt 100 ] || { echo 'no UDP echo'; exit 1; }
			sleep 0.1
		done"
}

# mf_flows_start() - host ends, guest ends (in a guest already booted),
# host clients; tagged MF_TAG
mf_flows_start() {
	local out t=$MF_TAG
	MF_STATE=
	MF_PIDS=()
	mf_bg "$NS" "mf_echo4$t" echo 127.0.0.1 "$MF_OUT" &&
	mf_bg "$NS" "mf_echo6$t" echo ::1 "$MF_OUT" &&
	mf_bg "$PEER" "mf_icmp$t" icmpcap ||
		fail "host ends did not start" || return 1
	out=$(mf_guest_start) ||
		fail "guest ends did not start: $(echo "$out" | oneline)" || return 1
	mf_bg "$NS" "mf_ask4$t" ask 127.0.0.1 "$MF_FWD" &&
	mf_bg "$NS" "mf_ask6$t" ask ::1 "$MF_FWD" ||
		fail "host clients did not start"
}

# mf_flows_stop() - let the flows run MF_AFTER s more, stop them; the guest
# keeps its output, the host ends their logs
mf_flows_stop() {
	local p
	sleep "$MF_AFTER"
	MF_T_END=$(now)
	guest_run 'touch /tmp/mfstop' >/dev/null
	sleep 1.5
	guest_run "$GUEST_FN
		gkill" >/dev/null
	for p in "${MF_PIDS[@]}"; do
		lib_kill "$p"
	done
	MF_PIDS=()
}

# t_mf_migrate() - boot, start every flow, migrate once, let them run on
t_mf_migrate() {
	MF_TAG='' MF_LOSS_NOW=$MF_LOSS MF_PING_LOSS_NOW=$MF_PING_LOSS
	mig_boot mfsrc "" -u "$MF_FWD" || return 1
	mf_flows_start || return 1
	sleep "$MF_BEFORE"
	mig_prepare "" && mig_go || return 1
	mf_flows_stop
	MF_STATE=ok
}

# t_mf_failed() - the flows again, across a failed migration (F1's way):
# the source takes them back
t_mf_failed() {
	local out t_done
	MF_TAG=back MF_PING_LOSS_NOW=$MF_PING_LOSS_BACK
	MF_STATE=
	pid_alive "$QEMU_PID" && mig_daemon_ok || fail "no guest left" ||
		return 1
	mf_flows_start || return 1
	sleep "$MF_BEFORE"
	mig_prepare -S "" || return 1
	mig_launch && mig_poll 60 ||
		fail "migration to a target started with -S: $MIG_ERR" ||
		return 1
	t_done=$(now)
	qemu_wait_status 'paused|prelaunch' 10 "$QEMU_IN_QMP" "$QEMU_IN_PID" ||
		fail "target QEMU '$QEMU_STATUS' once the migration completed, want paused" ||
		return 1
	{ kill -9 "$QEMU_IN_PID"; wait "$QEMU_IN_PID"; } 2>/dev/null
	sleep 1
	out=$(qmp cont 2>&1) || fail "cont on the source: $out" || return 1
	qemu_wait_status running 10 ||
		fail "source QEMU '$QEMU_STATUS' 10 s after cont, want running" ||
		return 1
	MIG_T1=$(now)
	# What the host client sent while the guest stood still, and more
	MF_LOSS_NOW=$(awk -v a="$t_done" -v b="$MIG_T1" -v m="$MF_LOSS" \
		'BEGIN { printf "%d\n", (b - a) * 10 + m }')
	echo "# migration $MIG_N completed to a target started with -S, its QEMU killed, cont on the source"
	mf_flows_stop
	mig_target_stop
	mig_daemon_ok || return 1
	MF_STATE=ok
}

# mf_ready() - true if t_mf_migrate got its flows across the migration
mf_ready() {
	[ "$MF_STATE" = ok ] || fail "no migration with the flows running"
}

# mf_out_check() - (a) for one family
# @1:	4 or 6
mf_out_check() {
	local f=$1 log=$WORK/mf_echo$1$MF_TAG ports got res b a lost late
	ports=$(awk '{ print $2 }' "$log" | sort -u)
	[ -n "$ports" ] && [ "$(echo "$ports" | wc -l)" -eq 1 ] ||
		fail "IPv$f: the host echo saw source ports '$(echo "$ports" | oneline)', want one" ||
		return 1
	got=$(guest_run "cat /tmp/out$f") ||
		fail "IPv$f: can't read the guest's answers: $(echo "$got" | oneline)" ||
		return 1
	echo "$got" > "$WORK/mf_out$f$MF_TAG.guest"
	# before/after: datagrams seen at the echo; lost: gaps in g<N> there;
	# late: sent after the migration, answered, answer not in the guest
	res=$(awk -v t0="$MIG_T0" -v t1="$MIG_T1" -v te="$MF_T_END" '
		FILENAME == ARGV[1] { if ($1 == "ack") acked[$2] = 1; next }
		{
			n = substr($3, 2) + 0
			if (!(n in seen)) { seen[n] = 1; cnt++ }
			if (cnt == 1 || n < min) min = n
			if (cnt == 1 || n > max) max = n
			if ($1 < t0) before++
			if ($1 > t1 && $1 < te - 1) { after++; if (!($3 in acked)) late++ }
		}
		END { printf "%d %d %d %d\n", before, after, max - min + 1 - cnt, late }
	' "$WORK/mf_out$f$MF_TAG.guest" "$log")
	read -r b a lost late <<< "$res"
	echo "# (a) IPv$f: host-side port $ports; at the echo: $b datagrams before, $a after, $lost lost; $late answers after it missing at the guest"
	[ "$b" -ge 3 ] && [ "$a" -ge 10 ] ||
		fail "IPv$f: $b datagrams before the migration, $a after: want 3 and 10" ||
		return 1
	[ "$lost" -le "$MF_LOSS_NOW" ] ||
		fail "IPv$f: $lost datagrams lost, more than $MF_LOSS_NOW" || return 1
	[ "$late" -le 2 ] ||
		fail "IPv$f: $late answers to the host-side port $ports did not reach the guest after the migration"
}

t_mf_udp_out() {
	mf_ready || return 1
	mf_out_check 4 && mf_out_check 6
}

# mf_fwd_check() - (b) for one family
# @1:	4 or 6
# @2:	the address the answers must come from
mf_fwd_check() {
	local f=$1 from=$2 res b a lost late bad
	res=$(awk -v t0="$MIG_T0" -v t1="$MIG_T1" -v te="$MF_T_END" \
		-v from="$from" -v port="$MF_FWD" '
		$2 == "s" { sent[$3] = $1; next }
		$2 == "r" {
			if ($3 != from || $4 != port) bad++
			if ($1 < t0) before++
			if ($1 > t1) after++
			# The guest echo may answer two in one: "q5q6"
			k = split($5, q, "q")
			for (j = 2; j <= k; j++) {
				n = q[j] + 0
				got[n] = 1
				if (!first || n < lo) lo = n
				first = 1
			}
		}
		END {
			for (n in sent) {
				if (n + 0 < lo || sent[n] > te - 1) continue
				if (!(n in got)) lost++
				if (sent[n] > t1 && !(n in got)) late++
			}
			printf "%d %d %d %d %d\n", before, after, lost, late, bad
		}' "$WORK/mf_ask$f$MF_TAG")
	read -r b a lost late bad <<< "$res"
	echo "# (b) IPv$f: answers from $from:$MF_FWD: $b before, $a after the migration, $lost lost ($late of them sent after it), $bad from elsewhere"
	[ "$bad" -eq 0 ] ||
		fail "IPv$f: $bad answers not from $from:$MF_FWD" || return 1
	[ "$b" -ge 3 ] && [ "$a" -ge 10 ] ||
		fail "IPv$f: $b answers before the migration, $a after: want 3 and 10" ||
		return 1
	[ "$lost" -le "$MF_LOSS_NOW" ] ||
		fail "IPv$f: $lost datagrams lost, more than $MF_LOSS_NOW" || return 1
	[ "$late" -le 2 ] ||
		fail "IPv$f: $late datagrams sent after the migration got no answer"
}

t_mf_udp_fwd() {
	mf_ready || return 1
	mf_fwd_check 4 127.0.0.1 && mf_fwd_check 6 ::1
}

# t_mf_back_udp() - (d): (a) and (b) across the failed migration
t_mf_back_udp() {
	t_mf_udp_out && t_mf_udp_fwd
}

t_mf_ping() {
	local ids res b a seq0 seq1 lost out
	mf_ready || return 1
	ids=$(awk '{ print $2 }' "$WORK/mf_icmp$MF_TAG" | sort -u)
	[ -n "$ids" ] && [ "$(echo "$ids" | wc -l)" -eq 1 ] ||
		fail "192.0.2.3 saw echo identifiers '$(echo "$ids" | oneline)', want one" ||
		return 1
	res=$(awk -v t0="$MIG_T0" -v t1="$MIG_T1" '
		$1 < t0 { before++; if ($3 > s0) s0 = $3 }
		$1 > t1 { after++; if (!s1 || $3 < s1) s1 = $3 }
		END { printf "%d %d %d %d\n", before, after, s0, s1 }' \
		"$WORK/mf_icmp$MF_TAG")
	read -r b a seq0 seq1 <<< "$res"
	out=$(guest_run 'cat /tmp/ping') ||
		fail "can't read the guest's ping output" || return 1
	echo "$out" > "$WORK/mf_ping$MF_TAG.guest"
	lost=$(echo "$out" | sed -n 's/.*seq=\([0-9]*\) .*/\1/p' | sort -un |
		awk 'NR == 1 { lo = $1 } { hi = $1; n++ }
		     END { print (n ? hi - lo + 1 - n : -1) }')
	echo "# (c) identifier $ids at 192.0.2.3: $b echo requests before the migration (last seq $seq0), $a after (first seq $seq1); the guest missed $lost replies"
	[ "$b" -ge 2 ] && [ "$a" -ge 2 ] ||
		fail "$b echo requests before the migration, $a after: want 2 each" ||
		return 1
	[ "$seq1" -gt "$seq0" ] ||
		fail "sequence did not go on: $seq0 before, $seq1 after" || return 1
	[ "$lost" -ge 0 ] && [ "$lost" -le "$MF_PING_LOSS_NOW" ] ||
		fail "the guest missed $lost replies, more than $MF_PING_LOSS_NOW"
}

migflows_tests() {
	local t0
	t0=$(now)
	run_test "migration: UDP, guest-opened and through -u, and a ping carry on across it" \
		t_mf_migrate
	run_test "migration: guest's UDP flows keep their host-side port, answers reach the guest, IPv4 and IPv6" \
		t_mf_udp_out
	run_test "migration: UDP through a forwarded port carries on both ways, IPv4 and IPv6" \
		t_mf_udp_fwd
	run_test "migration: a ping keeps its identifier and sequence, at most $MF_PING_LOSS echoes lost" \
		t_mf_ping
	run_test "failed migration: target QEMU (-S) killed once complete, cont on the source, with the same flows" \
		t_mf_failed
	run_test "failed migration: the source takes its UDP flows back, same host-side ports, both ways" \
		t_mf_back_udp
	run_test "failed migration: the source takes the ping back, same identifier, at most $MF_PING_LOSS_BACK echoes lost" \
		t_mf_ping
	qemu_stop
	mig_target_stop
	daemon_stop
	echo "# migration flow tests: $(elapsed "$t0") s"
}
