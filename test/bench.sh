#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench.sh - throughput of the daemon: iperf3 from a guest, UDP packet rates
# with DPDK testpmd as the front-end (make bench; never part of make check)
#
# Prints figures and never judges them.  Two parts, each in the test
# namespaces of lib.sh (nothing leaves the machine):
#
# 1. iperf3 between the TCG guest and an iperf3 server on the daemon
#    namespace's loopback (the guest connects to the gateway 192.0.2.2):
#    guest to host and back (-R), 1 and 4 streams, BENCH_TIME seconds each,
#    for each guest MTU of BENCH_MTUS (the guest sets its link's MTU, as a
#    guest that ignores DHCP's MTU option or is given --mtu would have it).
#    Prints Gbit/s (iperf3's receiver side) and the daemon's CPU seconds
#    (utime + stime from /proc/PID/stat) per GB moved.  Under TCG the guest
#    is the bottleneck: these are end-to-end figures, not the daemon's limit.
#
# 2. No guest: dpdk-testpmd as the vhost-user front-end (virtio-user),
#    64- and 1514-byte frames.  txonly: testpmd sends UDP from 192.0.2.1 to
#    the gateway 192.0.2.2 port 9999, which the daemon sends to a socket
#    bound to 127.0.0.1:9999; the rate is the namespace's UDP OutDatagrams
#    (datagrams the daemon sent) per second over the measured window.
#    rxonly: a UDP source on the host side sends to 127.0.0.1:10011, which
#    the daemon forwards (-u) to testpmd; the rate is what testpmd received
#    per second.  testpmd busy-polls one of the two cores, so the daemon and
#    the source share the other.
#
# 3. Live migration of a TCG guest (lib.sh's mig_target and mig_run: a target
#    daemon with its TCP_REPAIR helper and an incoming QEMU, in the same
#    namespace) with 0, 10, 100, 1,000 and 10,000 TCP connections open from
#    the guest to an echo server on the host side, idle for a second.
#    Prints the size of the daemon's device state and the time it took to
#    write it (from the source daemon's log line "migrate: wrote N bytes of
#    state in T ms"; "-" for a daemon that logs none), the time of each
#    phase the daemons log (source: freeze, dump, write, and release once
#    QEMU has the answer to CHECK_DEVICE_STATE; target: read, check,
#    restore, and activate once the guest runs), and the
#    downtime and total time query-migrate reports.  After each migration
#    the connections are used once (comment line: how many still echoed).
#
# Environment:
#   BENCH_TIME   seconds per measurement (default 10)
#   BENCH_MTUS   guest MTUs of part 1 (default "65520 1500")
#   BENCH_PEER   another daemon binary, e.g. upstream passt installed with
#                ../shared/peer/get-upstream-passt DIR (DIR/passt-upstream;
#                the shared folder beside the project):
#                run the same on it, and print both with the ratio ours/peer
#   BENCH_PEER_REPAIR  the peer's TCP_REPAIR helper (default:
#                passt-repair-upstream beside BENCH_PEER)
#   BENCH_MIG_CONNS  the numbers of connections of part 3 ("0 10 100 1000
#                10000")
#   BENCH_PARTS  "iperf pmd mig fail" (default): which parts to run;
#                "fail" runs the failed-migration tests (test/migrate.sh,
#                group migfail) on our daemon and prints, per fault, the
#                bytes lost, connections reset and how long the source's
#                flows stalled (upstream has no rollback to measure)
#   BENCH_PMD_MAIN  testpmd's main lcore, 0 (default) or 1: its forwarding
#                lcore, which busy-polls, is the other CPU
# Installs dpdk-dev (for dpdk-testpmd) with apt-get if it is missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

BENCH_TIME=${BENCH_TIME:-10}
BENCH_PEER=${BENCH_PEER:-}
BENCH_PEER_REPAIR=${BENCH_PEER_REPAIR:-${BENCH_PEER:+$(dirname "$BENCH_PEER")/passt-repair-upstream}}
BENCH_PARTS=${BENCH_PARTS:-iperf pmd mig fail}
BENCH_MIG_CONNS=${BENCH_MIG_CONNS:-0 10 100 1000 10000}
BENCH_MTUS=${BENCH_MTUS:-65520 1500}
BENCH_PMD_MAIN=${BENCH_PMD_MAIN:-0}
# shellcheck disable=SC2034 # read by lib.sh: no --debug, it costs CPU
PASST_DEBUG=
OURS=$PASST
HZ=$(getconf CLK_TCK)
GUEST_MAC=52:54:00:12:34:56
DHCP_CMD='udhcpc -i eth0 -s /etc/udhcpc.script -O mtu -n -q -f -t 5 -T 2'

declare -A RES		# RES[impl|row] = figure
ROWS=()			# row names, in order

# res() - record a figure for the table
# @1:	implementation (ours, peer)
# @2:	row name
# @3:	value, or "-" when the measurement failed
res() {
	local r
	for r in "${ROWS[@]}"; do
		[ "$r" = "$2" ] && { RES[$1|$2]=$3; return; }
	done
	ROWS+=("$2")
	RES[$1|$2]=$3
}

# cpu_ticks() - utime + stime of a process, in clock ticks
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

# bg_ns() - a background process in the daemon's namespace, torn down at exit
bg_ns() {
	ip netns exec "$NS" "$@" </dev/null &
	LIB_PIDS+=("$!")
}

# wait_listen() - wait until something listens on a port in the namespace
# @1:	ss option (-lnt, -lnu)
# @2:	local address:port as ss prints it
wait_listen() {
	local n=100
	until in_ns ss "$1" 2>/dev/null | grep -qF " $2 "; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.05
	done
}

# --- 1. iperf3 with a TCG guest --------------------------------------------
# iperf_one() - one iperf3 run; records Gbit/s and CPU s/GB
# @1:	implementation
# @2:	label
# @@:	iperf3 client options
iperf_one() {
	local impl=$1 label=$2 json=$WORK/iperf.$1.$RANDOM.json c0 c1 out spid
	local gbps cpugb bytes cpu
	shift 2
	ip netns exec "$NS" iperf3 -s -1 -J -B 127.0.0.1 -p 5201 \
		</dev/null >"$json" 2>&1 &
	spid=$!
	LIB_PIDS+=("$spid")
	wait_listen -lnt 127.0.0.1:5201 ||
		{ res "$impl" "$label Gbit/s" -; res "$impl" "$label CPU s/GB" -; return; }
	c0=$(cpu_ticks "$PASST_PID")
	out=$(guest_run -t $((BENCH_TIME + 30)) \
		"iperf3 -c 192.0.2.2 -t $BENCH_TIME $* 2>&1 | tail -4")
	c1=$(cpu_ticks "$PASST_PID")
	wait_gone "$spid" 10 || lib_kill "$spid"
	if ! python3 - "$json" "$c0" "$c1" "$HZ" >"$WORK/iperf.res" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
e = d["end"]
r = e.get("sum_received") or {}
if not r.get("bytes"):
    r = e.get("sum_sent") or {}
b, s = r["bytes"], r["seconds"]
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
print("%.2f %.2f %d %.1f" % (b * 8 / s / 1e9, cpu / (b / 1e9), b, cpu))
EOF
	   [ ! -s "$WORK/iperf.res" ]; then
		echo "# $impl $label: iperf3 failed: $(echo "$out" | tail -2 | tr '\n' ' ')"
		res "$impl" "$label Gbit/s" -
		res "$impl" "$label CPU s/GB" -
		return
	fi
	read -r gbps cpugb bytes cpu < "$WORK/iperf.res"
	echo "# $impl $label: $bytes bytes, $gbps Gbit/s, daemon CPU $cpu s"
	res "$impl" "$label Gbit/s" "$gbps"
	res "$impl" "$label CPU s/GB" "$cpugb"
}

# bench_iperf() - boot a guest on one implementation, run the four iperf3s
bench_iperf() {
	local impl=$1 bin=$2 mtu m
	PASST=$bin daemon_start "$impl" 2>"$WORK/$impl.err" ||
		{ echo "# $impl: daemon did not start: $(tr '\n' ' ' < "$WORK/$impl.err")"; return 1; }
	if ! qemu_start "$PASST_SOCK" 2>"$WORK/$impl.qemu.err" ||
	   ! guest_run -t 30 "$DHCP_CMD" >/dev/null 2>&1; then
		echo "# $impl: guest did not boot or got no lease"
		qemu_stop
		daemon_stop
		return 1
	fi
	for mtu in $BENCH_MTUS; do
		m=
		[ "$mtu" = 65520 ] || m=" MTU $mtu"
		guest_run -t 10 "ip link set eth0 mtu $mtu" >/dev/null 2>&1 ||
			echo "# $impl: guest MTU $mtu not set"
		iperf_one "$impl" "iperf3$m guest->host 1 stream" -P 1
		iperf_one "$impl" "iperf3$m guest->host 4 streams" -P 4
		iperf_one "$impl" "iperf3$m host->guest 1 stream" -R -P 1
		iperf_one "$impl" "iperf3$m host->guest 4 streams" -R -P 4
	done
	qemu_stop
	daemon_stop
}

# --- 2. testpmd, no guest --------------------------------------------------
# pmd_ensure() - dpdk-testpmd, installed if missing
#
# libvirt 11.3 (test/setup.sh) brings libudev1 from bookworm-backports, and
# bookworm's dpdk-dev wants the udev of bookworm: with that libudev1, take
# dpdk-dev's dependencies from bookworm-backports as well.
pmd_ensure() {
	local t=()
	command -v dpdk-testpmd >/dev/null && return 0
	echo "# installing dpdk-dev for dpdk-testpmd"
	dpkg-query -W -f='${Version}' libudev1 2>/dev/null | grep -q bpo &&
		t=(-t bookworm-backports)
	DEBIAN_FRONTEND=noninteractive apt-get -q -y install "${t[@]}" \
		--no-install-recommends dpdk-dev librte-net-virtio23 \
		librte-mempool-ring23 >/dev/null 2>&1 ||
		{ apt-get -q update >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get -q -y install "${t[@]}" \
			--no-install-recommends dpdk-dev librte-net-virtio23 \
			librte-mempool-ring23 >/dev/null 2>&1; }
	command -v dpdk-testpmd >/dev/null
}

# pmd_start() - testpmd on the daemon's socket, in the background
# @1:	output file
# @@:	testpmd application options
pmd_start() {
	local out=$1
	shift
	dpdk-testpmd -l 0-1 --main-lcore="$BENCH_PMD_MAIN" --no-huge -m 512 --no-pci --log-level=5 \
		--file-prefix="passt-bench-$$" \
		--vdev="net_virtio_user0,path=$PASST_SOCK,queues=1,mac=$GUEST_MAC" \
		-- --total-num-mbufs=8192 --stats-period 1 "$@" \
		</dev/null >"$out" 2>&1 &
	PMD_PID=$!
	LIB_PIDS+=("$PMD_PID")
}

# pmd_stop() - stop testpmd (SIGINT: it prints its totals and quits)
pmd_stop() {
	kill -INT "$PMD_PID" 2>/dev/null
	wait_gone "$PMD_PID" 15 || lib_kill "$PMD_PID"
	wait "$PMD_PID" 2>/dev/null
}

# udp_out() - the namespace's UDP OutDatagrams counter
udp_out() {
	in_ns awk '/^Udp:/ { n++; if (n == 2) print $5 }' /proc/net/snmp
}

# pmd_txonly() - testpmd sends SIZE-byte frames; datagrams/s the daemon sent
pmd_txonly() {
	local impl=$1 size=$2 o0 o1 c0 c1 t0 dt pps out=$WORK/pmd.$1.tx.$2
	pmd_start "$out" --forward-mode=txonly --eth-peer="0,$PEER_MAC" \
		--tx-ip=192.0.2.1,192.0.2.2 --tx-udp=5000,9999 --txpkts="$size"
	sleep 3		# connect, start, fill the pipe
	o0=$(udp_out); c0=$(cpu_ticks "$PASST_PID"); t0=$(now)
	sleep "$BENCH_TIME"
	o1=$(udp_out); c1=$(cpu_ticks "$PASST_PID"); dt=$(elapsed "$t0")
	pmd_stop
	pps=$(awk -v a="$o0" -v b="$o1" -v t="$dt" 'BEGIN {
		if (b - a > 0) printf "%.0f", (b - a) / t / 1000; else print "-" }')
	local tp
	tp=$(awk '/Tx-pps:/ { s += $2; n++ } END { if (n) printf "%.0f", s / n / 1000 }' "$out")
	echo "# $impl txonly ${size} B: daemon sent $((o1 - o0)) datagrams in $dt s" \
	     "(testpmd offered ${tp:-?} kpps), daemon CPU $(cpu_s "$c0" "$c1") s"
	res "$impl" "testpmd txonly ${size} B kpps (to host)" "$pps"
	res "$impl" "testpmd txonly ${size} B daemon CPU us/datagram" "$(cpu_us "$c0" "$c1" $((o1 - o0)))"
}

# cpu_s() - seconds between two cpu_ticks() readings
cpu_s() {
	awk -v a="$1" -v b="$2" -v h="$HZ" 'BEGIN { printf "%.1f", (b - a) / h }'
}

# cpu_us() - microseconds of CPU per packet, from two cpu_ticks() readings
# and a packet count; "-" for no packets
cpu_us() {
	awk -v a="$1" -v b="$2" -v h="$HZ" -v n="$3" 'BEGIN {
		if (n > 0) printf "%.2f", (b - a) / h * 1e6 / n; else print "-" }'
}

# pmd_rxonly() - a host UDP source sends; frames/s testpmd received
pmd_rxonly() {
	local impl=$1 size=$2 out=$WORK/pmd.$1.rx.$2 sent rx pps c0 c1
	pmd_start "$out" --forward-mode=rxonly
	sleep 3
	c0=$(cpu_ticks "$PASST_PID")
	# Payload for a SIZE-byte frame: Ethernet 14, IPv4 20, UDP 8
	sent=$(in_ns python3 "$here/l4host.py" udp-send 127.0.0.1 10011 \
		$((size - 42)) "$BENCH_TIME")
	sleep 0.5
	c1=$(cpu_ticks "$PASST_PID")
	pmd_stop
	rx=$(awk '/Accumulated forward statistics/ { f = 1 }
		  f && /RX-packets:/ { print $2; exit }' "$out")
	pps=$(awk -v r="${rx:-0}" -v t="$BENCH_TIME" 'BEGIN {
		if (r > 0) printf "%.0f", r / t / 1000; else print "-" }')
	echo "# $impl rxonly ${size} B: source sent ${sent:-?}, testpmd received" \
	     "${rx:-?} in $BENCH_TIME s, daemon CPU $(cpu_s "$c0" "$c1") s"
	res "$impl" "testpmd rxonly ${size} B kpps (to front-end)" "$pps"
	res "$impl" "testpmd rxonly ${size} B daemon CPU us/frame" "$(cpu_us "$c0" "$c1" "${rx:-0}")"
}

# bench_pmd() - the testpmd measurements on one implementation
bench_pmd() {
	local impl=$1 bin=$2 size
	PASST=$bin daemon_start "${impl}-pmd" -u 10011 2>"$WORK/$impl.pmd.err" ||
		{ echo "# $impl: daemon did not start: $(tr '\n' ' ' < "$WORK/$impl.pmd.err")"; return 1; }
	for size in 64 1514; do
		pmd_txonly "$impl" "$size"
		pmd_rxonly "$impl" "$size"
	done
	daemon_stop
}

# --- 3. live migration ----------------------------------------------------
# mig_one() - migrate the guest with N idle connections open; record figures
# @1:	implementation
# @2:	daemon binary
# @3:	its helper
# @4:	number of connections
# @5:	migration number, for file names
mig_one() {
	local impl=$1 bin=$2 helper=$3 n=$4 k=$5 out bytes ms row
	row="migration, $n TCP connections:"
	PASST=$bin PASST_REPAIR=$helper mig_target "$impl-mig$k" repair \
		2>"$WORK/mig.err" ||
		{ echo "# $impl $n connections: no target: $(tr '\n' ' ' < "$WORK/mig.err")"; return 1; }
	if [ "$n" -gt 0 ]; then
		out=$(guest_run -t 120 "$GUEST_FN
			ulimit -n $((n + 100))
			gkill
			rm -f /tmp/go
			gbg conns ramp -t 300 conns 192.0.2.2 10201 $n /tmp/go
			gwait /tmp/conns '^open ' 100")
		[ "$out" = "open $n" ] ||
			echo "# $impl: opening $n connections: $(echo "$out" | tr '\n' ' ')"
		sleep 1		# idle: no peer sent anything for a second
	fi
	if ! mig_run 120 3; then
		echo "# $impl $n connections: $MIG_ERR"
		return 1
	fi
	read -r bytes ms < <(sed -nE \
		's/.*migrate: wrote ([0-9]+) bytes.* in ([0-9.]+) ms.*/\1 \2/p' \
		"$MIG_SRC_LOG" | tail -n 1)
	res "$impl" "$row state bytes" "${bytes:--}"
	res "$impl" "$row state write ms" "${ms:--}"
	mig_phases "$impl" "$row" save "$MIG_SRC_LOG"
	mig_phases "$impl" "$row" after-check "$MIG_SRC_LOG"
	mig_phases "$impl" "$row" load "$PASST_LOG"
	mig_phases "$impl" "$row" guest-run "$PASST_LOG"
	res "$impl" "$row downtime ms" "$MIG_DOWNTIME"
	res "$impl" "$row total ms" "$MIG_TOTAL"
	out=
	if [ "$n" -gt 0 ]; then
		out=$(guest_run -t 120 "$GUEST_FN
			touch /tmp/go
			gwait /tmp/conns '^ok ' 100 | tail -n 1")
		out=", after it: $out"
	fi
	echo "# $impl $n connections: state ${bytes:--} bytes in ${ms:--} ms," \
	     "downtime $MIG_DOWNTIME ms, total $MIG_TOTAL ms, old source" \
	     "daemon exit $MIG_SRC_RC$out"
}

# mig_phases() - record the phase times a daemon logged for a transfer
# @1:	implementation
# @2:	row prefix
# @3:	"save" or "after-check" (source), "load" or "guest-run" (target)
# @4:	the daemon's log
mig_phases() {
	local impl=$1 row=$2 dir=$3 log=$4 line name ms
	line=$(sed -n "s/.*migrate: $dir phases, ms: //p" "$log" | tail -n 1)
	set -- $line
	while [ $# -ge 2 ]; do
		name=$1 ms=$2
		shift 2
		res "$impl" "$row $dir: $name ms" "$ms"
	done
	echo "# $impl: $dir phases, ms: ${line:--}"
}

# bench_mig() - boot a guest on one implementation, migrate it once for
# each number of connections (a new target each time)
bench_mig() {
	local impl=$1 bin=$2 helper=$3 n k=0
	PASST=$bin daemon_start "$impl-mig" 2>"$WORK/$impl.err" ||
		{ echo "# $impl: daemon did not start: $(tr '\n' ' ' < "$WORK/$impl.err")"; return 1; }
	if ! PASST_REPAIR=$helper repair_start "$PASST_SOCK.repair" \
		2>"$WORK/$impl.err"; then
		echo "# $impl: helper: $(tr '\n' ' ' < "$WORK/$impl.err")"
	elif ! qemu_start "$PASST_SOCK" 2>"$WORK/$impl.qemu.err" ||
	     ! guest_run -t 30 "$DHCP_CMD" >/dev/null 2>&1; then
		echo "# $impl: guest did not boot or got no lease"
	else
		for n in $BENCH_MIG_CONNS; do
			k=$((k + 1))
			PASST_REPAIR=$helper repair_ensure "$PASST_SOCK.repair" \
				2>/dev/null || true
			mig_one "$impl" "$bin" "$helper" "$n" "$k" || break
		done
	fi
	qemu_stop
	mig_target_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
}

# table() - every figure, one row each; with a peer, its figures and ours/peer
table() {
	local r o p
	[ ${#ROWS[@]} -gt 0 ] || return 0
	echo
	if [ -n "$BENCH_PEER" ]; then
		printf '%-48s %10s %10s %7s\n' "" ours peer ratio
	else
		printf '%-48s %10s\n' "" ours
	fi
	for r in "${ROWS[@]}"; do
		o=${RES[ours|$r]:--}
		if [ -n "$BENCH_PEER" ]; then
			p=${RES[peer|$r]:--}
			printf '%-48s %10s %10s %7s\n' "$r" "$o" "$p" \
				"$(awk -v a="$o" -v b="$p" 'BEGIN {
					if (a == "-" || b == "-" || b + 0 == 0) print "-";
					else printf "%.2f", a / b }')"
		else
			printf '%-48s %10s\n' "$r" "$o"
		fi
	done
}

main() {
	local impls=("ours|$OURS") i impl bin
	lib_init
	[ -x "$OURS" ] || { echo "no daemon binary at $OURS (make passt)" >&2; exit 1; }
	if [ -n "$BENCH_PEER" ]; then
		[ -x "$BENCH_PEER" ] || { echo "BENCH_PEER=$BENCH_PEER: not executable" >&2; exit 1; }
		impls+=("peer|$BENCH_PEER")
	fi
	"$here/mkguest.sh" 2>"$WORK/mkguest.err" ||
		{ cat "$WORK/mkguest.err" >&2; exit 1; }
	ns_setup || { echo "namespace set-up failed" >&2; exit 1; }
	# The gateway's MAC: both daemons default to this one
	PEER_MAC=${BENCH_GW_MAC:-9a:55:9a:55:9a:55}
	echo "# bench: $(nproc) CPUs, BENCH_TIME=$BENCH_TIME s, ours: $OURS${BENCH_PEER:+, peer: $BENCH_PEER}"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the figures)"

	for i in "${impls[@]}"; do
		impl=${i%%|*}
		bin=${i#*|}
		case " $BENCH_PARTS " in
		*" iperf "*) bench_iperf "$impl" "$bin" ;;
		esac
	done
	case " $BENCH_PARTS " in
	*" pmd "*)
		if pmd_ensure; then
			# The sink: txonly's datagrams must find a socket
			bg_ns socat -u UDP4-RECV:9999,bind=127.0.0.1 /dev/null
			wait_listen -lnu 127.0.0.1:9999 || echo "# no UDP sink"
			for i in "${impls[@]}"; do
				bench_pmd "${i%%|*}" "${i#*|}"
			done
		else
			echo "# dpdk-testpmd unavailable: testpmd part skipped"
		fi
		;;
	esac
	case " $BENCH_PARTS " in
	*" mig "*)
		# The guest's connections go here; it echoes, and keeps them
		bg_ns python3 "$here/l4host.py" echo-keep 127.0.0.1 10201 \
			"$WORK/mig_echo.rep"
		wait_listen -lnt 127.0.0.1:10201 || echo "# no echo server"
		bench_mig ours "$OURS" "$PASST_REPAIR"
		[ -z "$BENCH_PEER" ] ||
			bench_mig peer "$BENCH_PEER" "$BENCH_PEER_REPAIR"
		;;
	esac
	table
	case " $BENCH_PARTS " in
	*" fail "*) bench_fail ;;
	esac
}

# bench_fail() - the failed-migration tests, and their figures
bench_fail() {
	local out
	echo "# failed migrations (ours): fault, bytes lost each way, resets, longest stall"
	out=$(ONLY=migfail PASST="$OURS" "$here/run.sh" 2>&1)
	echo "$out" | grep -E '^(ok|not ok) |^# f[0-9]+,|taken back|after the failure'
}

main "$@"
