# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# storm.sh - a connection storm on the vhost-user socket (sourced by run.sh)
#
# What QEMU's cpr-transfer did to a daemon: a second front-end connecting
# again and again while the first is connected, each time refused, each
# refusal a log line (1.9 million of them in 4 minutes).  Here a guest
# pings the gateway and streams 16 MiB to a host sink, in 1 MiB chunks
# 0.5 s apart (sha256 checked), while STORM_CONNS connections, each
# sending a GET_FEATURES header, hit the daemon's socket: 1,000 a second,
# or slower if the daemon can't keep up (bounded by STORM_SECS).  Then:
#   - the daemon's log grew by fewer than 100 lines per minute of storm
#     (rounded up to whole minutes);
#   - every refusal is accounted for: refusal lines plus the counts of the
#     "N similar messages suppressed" summaries equal the connections made;
#   - the guest lost at most 3 pings, the stream arrived byte-exact;
#   - the daemon still runs, and still answers the guest.
#
# Uses from run.sh and tcp_udp.sh: run_test, fail, oneline, daemon_running,
# guest_ping, DHCP_CMD, tu_server, tu_wait_file.

STORM_CONNS=${STORM_CONNS:-10000}
STORM_SECS=${STORM_SECS:-40}		# bound on the storm's duration
STORM_MIN_SECS=10			# the storm lasts at least this long
STORM_CHUNKS=16				# the stream: 1 MiB chunks, 0.5 s apart
STORM_BYTES=$((STORM_CHUNKS * 1024 * 1024))
STORM_PINGS=25				# at 1 s: longer than the storm
STORM_RL_WAIT=7				# > LOG_RL_INTERVAL_MS: summaries out

# storm_client() - connect STORM_CONNS times to a UNIX socket, sending a
# GET_FEATURES header each time, spread over at least STORM_MIN_SECS (so
# that the storm spans several of the limiter's windows); prints
# "CONNECTED SECONDS"
storm_client() {
	timeout $((STORM_SECS + 10)) python3 - "$1" "$STORM_CONNS" \
		"$STORM_MIN_SECS" "$STORM_SECS" <<'EOF'
import socket, struct, sys, time

path, n = sys.argv[1], int(sys.argv[2])
least, bound = float(sys.argv[3]), float(sys.argv[4])
hdr = struct.pack('<III', 1, 1, 0)	# GET_FEATURES, version 1, no payload
ok = 0
t0 = time.monotonic()
for i in range(n):
    ahead = i * least / n - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
    if time.monotonic() - t0 > bound:
        break
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)		# blocking: waits while the backlog is full
        ok += 1
        s.send(hdr)
    except OSError:
        pass			# closed on us already: that's the point
    finally:
        s.close()
print(ok, '%.1f' % (time.monotonic() - t0))
EOF
}

# storm_start() - host sink, the daemon, the guest with a lease
storm_start() {
	local out
	tu_server storm.rep sink 127.0.0.1 10100 REP ||
		fail "host sink did not start" || return 1
	daemon_start storm 2>"$WORK/storm.err" ||
		fail "daemon did not start: $(oneline < "$WORK/storm.err")" ||
		return 1
	qemu_start "$PASST_SOCK" 2>"$WORK/qemu_start.err" ||
		fail "guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	out=$(guest_run -t 30 "$DHCP_CMD" 2>&1) ||
		fail "no DHCP lease: $(echo "$out" | oneline)"
}

# storm_refusals() - refusals in log lines after the first $1: lines
# written plus the counts of the summaries of that call site
storm_refusals() {
	tail -n +"$(($1 + 1))" "$PASST_LOG" | awk '
		/front-end already connected, refusing another/ { n++; site = 1 }
		/vhost_user\.c:[0-9]+: [0-9]+ similar messages suppressed/ {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^vhost_user\.c:/) { n += $(i + 1); break }
		}
		END { print n + 0 }'
}

t_storm() {
	local sum out before after lines dur made mins refused tx rx rep
	daemon_running || return 1
	sum=$(guest_run -t 60 "head -c 1048576 /dev/urandom > /tmp/chunk
		printf '%s\n' 'i=0; while [ \$i -lt $STORM_CHUNKS ]; do' \
			'cat /tmp/chunk; sleep \$1; i=\$((i + 1)); done' > /tmp/chunks
		sh /tmp/chunks 0 | sha256sum | cut -d' ' -f1") ||
		fail "guest could not make its data: $sum" || return 1
	[[ $sum =~ ^[0-9a-f]{64}$ ]] || fail "guest sha256: '$sum'" || return 1

	out=$(guest_run "$GUEST_FN
		gbg ping ping -c $STORM_PINGS 192.0.2.2
		gbg send sh -c 'sh /tmp/chunks 0.5 | socat -u - TCP4:192.0.2.2:10100'") ||
		fail "guest traffic did not start: $(echo "$out" | oneline)" ||
		return 1

	before=$(wc -l < "$PASST_LOG")
	read -r made dur < <(storm_client "$PASST_SOCK") ||
		fail "storm client failed" || return 1
	after=$(wc -l < "$PASST_LOG")
	lines=$((after - before))
	mins=$(awk -v d="$dur" 'BEGIN { m = int(d / 60); print (m * 60 < d) ? m + 1 : m }')
	[ "$mins" -ge 1 ] || mins=1
	echo "# storm: $made connections in $dur s, the log grew by $lines lines"
	[ "$made" -ge "$STORM_CONNS" ] ||
		fail "only $made of $STORM_CONNS connections in $dur s" || return 1
	[ "$lines" -lt $((100 * mins)) ] ||
		fail "log grew by $lines lines during a storm of $dur s" ||
		return 1
	daemon_running || return 1

	# Every refusal shows up, as a line or in a count
	sleep "$STORM_RL_WAIT"
	refused=$(storm_refusals "$before")
	[ "$refused" -eq "$made" ] ||
		fail "$made connections refused, log accounts for $refused" ||
		return 1
	grep -q "similar messages suppressed" "$PASST_LOG" ||
		fail "no summary line in the log" || return 1

	# (not gwait: every reply line has the ': ' it takes for a verdict)
	out=$(guest_run -t 60 "i=0
		until grep -q 'packets received' /tmp/ping; do
			i=\$((i + 1)); [ \$i -lt 50 ] || break; sleep 1
		done
		cat /tmp/ping") ||
		fail "ping did not finish: $(echo "$out" | oneline)" || return 1
	read -r tx rx < <(echo "$out" |
		sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p')
	[ -n "$rx" ] && [ "$tx" -eq "$STORM_PINGS" ] && [ "$rx" -ge $((tx - 3)) ] ||
		fail "pings during the storm: '$(echo "$out" | oneline)'" ||
		return 1
	tu_wait_file "$WORK/storm.rep" 60 ||
		fail "host sink got no EOF within 60 s" || return 1
	read -r rep < "$WORK/storm.rep"
	[ "$rep" = "$sum $STORM_BYTES ${rep##* }" ] ||
		fail "sink report '$rep', sent $STORM_BYTES bytes, $sum" ||
		return 1
	echo "# guest: $rx of $tx pings answered, $STORM_BYTES bytes byte-exact"

	daemon_running || return 1
	guest_ping 192.0.2.2 || fail "guest no longer pings after the storm"
}

storm_tests() {
	run_test "storm: guest boots, host sink listens" storm_start
	run_test "storm: $STORM_CONNS refused front-ends, log bounded, guest traffic intact" \
		t_storm
	if [ -n "$PASST_PID" ] && ! pid_alive "$PASST_PID"; then
		echo "# the storm daemon died:"
		daemon_tail storm 10 2>&1
	fi
	qemu_stop
	daemon_stop
}
