# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# forward.sh - integration tests of the forwarding options (sourced by
# run.sh, group "forward")
#
# The daemon gets the options as libvirt writes them, one per forward,
# each with its own address:
#   -t 127.0.0.1/2222:22                     loopback only, to guest 22
#   -t 2001:db8::1%veth0/18080,14433:3444    one address, one interface
#   -u 192.0.2.1/5353                        UDP, one address
#   -t 10000-10010,~10005                    any address, a hole
# In the guest, socat listens on the guest ports and answers, after the
# client's EOF, "guest:DATA:PORT" (PORT: the guest port it was reached
# on; empty for UDP, where socat doesn't say).  Clients run in the daemon's namespace (its loopback, 192.0.2.1 and
# 2001:db8::1 are local there), and in the peer namespace for 2001:db8::1
# on veth0, so that the traffic comes in through that interface.
#
# Tests: (a) bad and conflicting options exit 1 naming the spec; (b) the
# ports listen from start-up, the PID file is 0600, and a client that
# connected before QEMU started gets its answer once the guest runs; (c)
# every forward reaches the guest port it maps to; (d) the restrictions
# hold: the port refuses on the addresses it isn't forwarded on, and the
# excluded port refuses; (e) UDP on its address only; (f) FW_MIG_RUNS
# same-host migrations (default 5) while clients connect to a forwarded
# port, one every 0.2 s, from before the migration starts to after it
# completed, both daemons listening: every client is answered.
#
# Uses from run.sh: run_test, fail, oneline, opt_error, DHCP_CMD; from
# tcp_udp.sh: tu_hex, tu_unhex, TU_G; from migrate.sh: mig_boot,
# mig_prepare, mig_go.

FW_HOST=$LIB_HERE/l4host.py
FW_OPTS=(-t 127.0.0.1/2222:22 -t "2001:db8::1%veth0/18080,14433:3444"
	 -u 192.0.2.1/5353 -t "10000-10010,~10005")
FW_GPORTS="22 18080 3444 $(seq -s ' ' 10000 10010)"
FW_MIG_PORT=10031
FW_MIG_RUNS=${FW_MIG_RUNS:-5}
FW_TOKEN=

# Guest: fwl PORT... a TCP answering service on every port given, both
# families; fwu PORT the same for UDP on IPv4
FW_G_LISTEN=$(cat <<'EOF'
fwl() {
	for p in "$@"; do
		socat -t 30 TCP6-LISTEN:$p,fork,reuseaddr,ipv6only=0 SYSTEM:'d=$(cat); printf "guest:%s:%s" "$d" "$SOCAT_SOCKPORT"' </dev/null >/tmp/fwl$p.log 2>&1 &
	done
}
fwu() {
	socat -t 10 -T 5 UDP4-RECVFROM:$1,reuseaddr,fork SYSTEM:'d=$(cat); printf "guest:%s:%s" "$d" "$SOCAT_SOCKPORT"' </dev/null >/tmp/fwu$1.log 2>&1 &
}
EOF
)

# fw_ask() - a TCP client in a namespace; true if the guest answered
# "guest:DATA:PORT"
# @1:	namespace
# @2:	address
# @3:	port
# @4:	guest port expected
fw_ask() {
	local want=fw-$FW_TOKEN-$2-$3 hex out
	hex=$(ip netns exec "$1" timeout 25 python3 "$FW_HOST" tcp-ask "$2" \
		"$3" "$(tu_hex "$want")" 2>&1) ||
		fail "$2 port $3: $(echo "$hex" | tail -n 1 | oneline)" || return 1
	out=$(tu_unhex "$hex")
	[ "$out" = "guest:$want:$4" ] ||
		fail "$2 port $3: answer '$out', want 'guest:$want:$4'"
}

# fw_refused() - true if a TCP connection from the daemon's namespace is
# refused
# @1:	address
# @2:	port
fw_refused() {
	local out
	out=$(in_ns timeout 10 python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("connected")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print(e)' "$1" "$2" 2>&1)
	[ "$out" = refused ] ||
		fail "$1 port $2: '$(echo "$out" | oneline)', want refused"
}

# --- (a) -------------------------------------------------------------------
t_fw_errors() {
	opt_error "'127\.0\.0\.1/2222' for -t: port 2222 already forwarded" \
		-t 127.0.0.1/2222:22 -t 127.0.0.1/2222 &&
	opt_error "'22,22' for --tcp-ports: port 22 given twice" \
		--tcp-ports 22,22 &&
	opt_error "'1\.2\.3/53' for -u: not an IPv4 or IPv6 address" \
		-u 1.2.3/53 &&
	opt_error "'%/22' for -t: empty or too long interface name" -t %/22 &&
	opt_error "'none' conflicts" -t 22 -t none
}

# --- (b) -------------------------------------------------------------------
# Listening before any front-end; a client connects then, QEMU starts
# afterwards, and the client's answer comes once the guest serves port 22
t_fw_early() {
	local mode ss out a n=0
	FW_TOKEN=$RANDOM$RANDOM
	daemon_start fwd "${FW_OPTS[@]}" 2>"$WORK/fwd.err" ||
		fail "daemon did not start: $(oneline < "$WORK/fwd.err")" ||
		return 1
	mode=$(stat -c %a "$WORK/fwd.pid")
	[ "$mode" = 600 ] || fail "PID file mode $mode, want 600" || return 1
	ss=$(in_ns ss -Hltn)
	for a in '127.0.0.1:2222' '\[2001:db8::1\]%veth0:18080' \
		 '\[2001:db8::1\]%veth0:14433' '\*:10004' '\*:10006'; do
		echo "$ss" | grep -q " $a " ||
			fail "nothing listens on $a before QEMU: $(echo "$ss" | oneline)" ||
			return 1
	done
	! echo "$ss" | grep -q ':10005 ' ||
		fail "the excluded port 10005 listens" || return 1
	in_ns ss -Hlun | grep -q ' 192\.0\.2\.1:5353 ' ||
		fail "UDP 192.0.2.1:5353 not bound before QEMU" || return 1

	in_ns socat -t 120 -T 120 - TCP4:127.0.0.1:2222 \
		<<< "early-$FW_TOKEN" >"$WORK/early.out" 2>&1 &
	FW_EARLY_PID=$!
	LIB_PIDS+=("$FW_EARLY_PID")
	# Established, and half-closed by the client already
	until [ -n "$(in_ns ss -Htn state established state fin-wait-2 \
		      '( dport = :2222 )')" ]; do
		n=$((n + 1))
		[ $n -lt 50 ] || fail "the early client's connection was not established" ||
			return 1
		sleep 0.1
	done

	qemu_start "$PASST_SOCK" 2>"$WORK/qemu_start.err" ||
		fail "guest did not boot: $(oneline < "$WORK/qemu_start.err")" ||
		return 1
	# Listeners first: until DHCP gives the guest its address, the
	# daemon's SYNs for the early client go unanswered and are retried
	out=$(guest_run -t 40 "$FW_G_LISTEN
		fwl $FW_GPORTS
		fwu 5353
		$DHCP_CMD
		i=0
		until ip -6 route show default | grep -q 'via fe80:.* dev eth0'; do
			i=\$((i + 1)); [ \$i -lt 100 ] || break; sleep 0.1
		done
		dhcp6c -a | grep -x 'type=7'" 2>&1) ||
		fail "guest set-up: $(echo "$out" | oneline)" || return 1
	wait_gone "$FW_EARLY_PID" 60 ||
		fail "the early client got no answer 60 s after the guest booted" ||
		return 1
	out=$(cat "$WORK/early.out")
	[ "$out" = "guest:early-$FW_TOKEN:22" ] ||
		fail "early client got '$(echo "$out" | oneline)', want 'guest:early-$FW_TOKEN:22'"
}

# --- (c) -------------------------------------------------------------------
t_fw_tcp() {
	daemon_running || return 1
	fw_ask "$NS" 127.0.0.1 2222 22 &&
	fw_ask "$PEER" 2001:db8::1 18080 18080 &&
	fw_ask "$PEER" 2001:db8::1 14433 3444 &&
	fw_ask "$NS" 127.0.0.1 10000 10000 &&
	fw_ask "$NS" 192.0.2.1 10004 10004 &&
	fw_ask "$NS" ::1 10006 10006 &&
	fw_ask "$PEER" 192.0.2.1 10010 10010
}

# --- (d) -------------------------------------------------------------------
t_fw_refused() {
	daemon_running || return 1
	fw_refused 2001:db8::1 2222 &&
	fw_refused 192.0.2.1 2222 &&
	fw_refused ::1 2222 &&
	fw_refused 127.0.0.1 10005 &&
	fw_refused 192.0.2.1 10005 &&
	fw_refused 127.0.0.1 18080 &&
	fw_refused 192.0.2.1 14433 &&
	fw_refused 127.0.0.1 22 &&
	fw_ask "$NS" 127.0.0.1 2222 22	# and the daemon still serves
}

# --- (e) -------------------------------------------------------------------
t_fw_udp() {
	local want=fwu-$FW_TOKEN hex out
	daemon_running || return 1
	hex=$(in_ns timeout 10 python3 "$FW_HOST" udp-ask 192.0.2.1 5353 \
		"$(tu_hex "$want")" 2>&1) ||
		fail "no answer from the guest to 192.0.2.1:5353: $hex" || return 1
	out=$(tu_unhex "$hex")
	[[ $out == "guest:$want:"* ]] ||
		fail "192.0.2.1:5353 answered '$out', want 'guest:$want:...'" ||
		return 1
	! in_ns timeout 10 python3 "$FW_HOST" udp-ask 127.0.0.1 5353 \
		"$(tu_hex "$want")" >/dev/null 2>&1 ||
		fail "127.0.0.1:5353 answered: only 192.0.2.1 is forwarded"
}

# --- (f) -------------------------------------------------------------------
# fw_mig_clients() - clients to the forwarded port, 0.2 s apart, each
# waiting for its answer, until $WORK/fwm.stop appears, then 3 more;
# outputs in $WORK/fwm.RUN.N, their number in $WORK/fwm.RUN.n
# @1:	run number
fw_mig_clients() {
	local i=0 more=3
	while [ $more -gt 0 ] && [ $i -lt 300 ]; do
		[ ! -e "$WORK/fwm.stop" ] || more=$((more - 1))
		i=$((i + 1))
		in_ns socat -t 60 -T 60 - TCP4:127.0.0.1:$FW_MIG_PORT \
			<<< "m$1-$i" >"$WORK/fwm.$1.$i" 2>&1 &
		sleep 0.2
	done
	echo "$i" >"$WORK/fwm.$1.n"
	wait
}

# fw_mig_check() - every client of a run got its answer
# @1:	run number
fw_mig_check() {
	local i n out bad=0 first=
	n=$(cat "$WORK/fwm.$1.n" 2>/dev/null || echo 0)
	[ "$n" -gt 3 ] || fail "migration $1: only $n clients" || return 1
	for i in $(seq "$n"); do
		out=$(cat "$WORK/fwm.$1.$i" 2>/dev/null)
		[ "$out" = "guest:m$1-$i:$FW_MIG_PORT" ] && continue
		bad=$((bad + 1))
		[ -n "$first" ] || first="client $i: '$(echo "$out" | oneline)'"
	done
	echo "# migration $1: $n clients, $((n - bad)) answered"
	[ $bad -eq 0 ] ||
		fail "migration $1: $bad of $n clients not answered, $first"
}

t_fw_migrate() {
	local run out spawner
	mig_boot fwmig repair -t "$FW_MIG_PORT" || return 1
	out=$(guest_run "$FW_G_LISTEN
		fwl $FW_MIG_PORT") ||
		fail "guest listener: $(echo "$out" | oneline)" || return 1
	fw_ask "$NS" 127.0.0.1 "$FW_MIG_PORT" "$FW_MIG_PORT" || return 1
	for run in $(seq "$FW_MIG_RUNS"); do
		mig_prepare repair || return 1
		rm -f "$WORK/fwm.stop"
		fw_mig_clients "$run" &
		spawner=$!
		sleep 0.5		# clients before the migration starts
		mig_go || { touch "$WORK/fwm.stop"; wait "$spawner"; return 1; }
		touch "$WORK/fwm.stop"	# and after it completed
		wait "$spawner"
		fw_mig_check "$run" || return 1
	done
}

forward_tests() {
	run_test "forward: bad or conflicting -t/-u exit 1 naming the spec" \
		t_fw_errors
	run_test "forward: listening from start-up, PID file 0600, a client from before QEMU served" \
		t_fw_early
	run_test "forward: libvirt-style -t ADDR[%DEV]/... each reach their guest port" \
		t_fw_tcp
	run_test "forward: other addresses and the excluded port refuse" \
		t_fw_refused
	run_test "forward: -u 192.0.2.1/5353 on that address only" t_fw_udp
	qemu_stop
	daemon_stop
	run_test "forward: $FW_MIG_RUNS same-host migrations, clients connecting throughout all served" \
		t_fw_migrate
	qemu_stop
	daemon_stop
}
