# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh - helpers for the integration tests: namespaces, daemon, QEMU, guest
#
# Source it from bash, then call lib_init once.  Everything a test starts is
# recorded and torn down on exit: processes are killed, both namespaces
# deleted.  Nothing sent by the guest can leave the machine: the daemon runs
# in a namespace whose only link is a veth pair to a second namespace.
#
# Addresses (TEST-NET-1, RFC 5737, and the documentation prefix, RFC 3849):
#   daemon namespace  veth0  192.0.2.1/24  2001:db8::1/64, default routes
#                            via 192.0.2.2 and 2001:db8::2
#   peer namespace    veth1  192.0.2.2/24  192.0.2.3/24  2001:db8::2/64
#                            2001:db8::3/64
# The daemon copies the first to the guest; 192.0.2.2 and 2001:db8::2 (the
# gateways) map to the daemon namespace's loopback, 192.0.2.3 and
# 2001:db8::3 are really the peer.
#
# Globals set here, for the tests to read:
#   WORK          scratch directory of this run (test/.work/PID)
#   NS, PEER      namespace names
#   PASST         the daemon binary; PASST_PID, PASST_SOCK, PASST_LOG,
#                 PASST_NAME (its name in $WORK)
#   PASST_DEBUG   log level option daemon_start gives (default --debug)
#   PASST_REPAIR  the TCP_REPAIR helper (default passt-repair beside PASST)
#   QEMU_PID, QEMU_QMP, QEMU_CONSOLE (the whole serial transcript)
#
# Migration (mig_target, mig_run; mig_launch and mig_poll for the steps
# of a migration that is meant to fail): a second daemon and a QEMU started with
# -incoming make the target, in the same namespace; their variables are
# PASST_IN_* and QEMU_IN_* until mig_run succeeds, which then makes them the
# current PASST_* and QEMU_* (guest_run, qmp and qemu_stop follow) and ends
# what is left of the source.  REPAIR_PID and REPAIR_IN_PID: the helpers.
#
# Two hosts (hosts_setup, hosts_attach): namespaces HOST1 and HOST2 stand
# for two hosts, both with the daemon namespace's addresses and routes, and
# HOSTP for the network between them: a bridge holding the peer's
# addresses, with a veth to each host.  Only one host is attached to the
# bridge at a time: the address 192.0.2.1 moves with the guest.  Daemons
# and helpers start in NS, and a migration target in NS_IN if set: a test
# makes them local (bash scopes them dynamically) to pick the hosts.

LIB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB_HERE/.." && pwd)
PASST=${PASST:-$REPO/passt}
GUEST_KERNEL=${GUEST_KERNEL:-$LIB_HERE/.cache/kernel}
GUEST_INITRD=${GUEST_INITRD:-$LIB_HERE/.cache/initramfs.gz}
QEMU=${QEMU:-qemu-system-x86_64}
PASST_REPAIR=${PASST_REPAIR:-$(dirname "$PASST")/passt-repair}
# Log level option for daemon_start (empty for none: the benchmark)
PASST_DEBUG=${PASST_DEBUG---debug}

# guest_run returns this when the harness itself gave up (no answer)
GUEST_NO_ANSWER=255

# Shell functions to put before a guest command that needs them:
#   gbg NAME CMD...	run CMD in the background, its output in /tmp/NAME,
#			its PID in /tmp/NAME.pid
#   gwait FILE RE SECS	wait until FILE has a line matching RE, or a verdict
#			of test/guest/ramp (a failure); print FILE; true if
#			RE matched
#   gkill		end what gbg started
# shellcheck disable=SC2016 # expands in the guest
GUEST_FN='gbg() {
	n=$1; shift
	"$@" >/tmp/$n 2>&1 &
	echo $! >/tmp/$n.pid
}
gwait() {
	end=$(($(date +%s) + $3))
	until grep -Eq "$2|^(mismatch|short|long|timeout|bad) |: " "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt $end ] || { echo "no verdict after $3 s:"; break; }
		sleep 0.1
	done
	cat "$1" 2>/dev/null
	grep -Eq "$2" "$1" 2>/dev/null
}
gkill() {
	for f in /tmp/*.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
}
'

LIB_PIDS=()
LIB_KEEP=${TEST_KEEP:-}		# TEST_KEEP=1: keep the logs anyway
LIB_KEEP_SAID=
NS=
PEER=
WORK=
PASST_PID=
PASST_SOCK=
PASST_LOG=
PASST_NAME=
QEMU_PID=
QEMU_QMP=
QEMU_CONSOLE=
QEMU_SERIAL_FD=
QEMU_CAT_PID=
QEMU_N=0
QEMU_READY_TIME=
QEMU_DIR=
# The migration target, and the TCP_REPAIR helpers (mig_target, repair_start)
PASST_IN_PID=
PASST_IN_SOCK=
PASST_IN_LOG=
PASST_IN_NAME=
QEMU_IN_PID=
QEMU_IN_QMP=
QEMU_IN_CONSOLE=
QEMU_IN_SERIAL_FD=
QEMU_IN_CAT_PID=
QEMU_IN_URI=
QEMU_IN_DIR=
REPAIR_PID=
REPAIR_IN_PID=
QEMU_STATUS=		# qemu_wait_status: the run state seen last
NS_IN=			# namespace of a migration target, if not NS
HOST1=			# hosts_setup: the two hosts and the network between
HOST2=
HOSTP=
LIB_NETNS=()		# further namespaces to delete on exit

# now() - wall clock, seconds with microseconds
now() {
	echo "$EPOCHREALTIME"
}

# elapsed() - seconds since a now() reading, one decimal
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", b - a }'
}

# lib_log() - a line on stderr, for progress and diagnostics
lib_log() {
	echo "# $*" >&2
}

# lib_init() - make the scratch directory and arm the teardown
lib_init() {
	[ "$(id -u)" = 0 ] || { echo "tests need root (namespaces)" >&2; exit 1; }
	mkdir -p "$LIB_HERE/.work"
	WORK=$LIB_HERE/.work/$$
	rm -rf "$WORK"
	mkdir -p "$WORK"
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
}

# lib_keep() - keep the scratch directory (logs) after exit, for a failure
lib_keep() {
	LIB_KEEP=1
}

# pid_alive() - true if the process exists and is not a zombie
pid_alive() {
	local st
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_gone() - wait up to $2 seconds (default 10) for a process to end
wait_gone() {
	local pid=$1 n=$((${2:-10} * 20))
	while pid_alive "$pid"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.05
	done
	return 0
}

# lib_kill() - end a process we started: TERM, then KILL after 3 s; reap it
lib_kill() {
	local pid=$1
	[ -n "$pid" ] || return 0
	if pid_alive "$pid"; then
		kill "$pid" 2>/dev/null || true
		wait_gone "$pid" 3 || kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# lib_cleanup() - EXIT trap: kill what we started, delete the namespaces
lib_cleanup() {
	local rc=$? p ns
	trap - EXIT INT TERM
	for p in "${LIB_PIDS[@]}"; do
		lib_kill "$p"
	done
	for ns in "$NS" "$PEER" "${LIB_NETNS[@]}"; do
		[ -n "$ns" ] || continue
		# Anything left in our namespaces was started by us (daemonised)
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ -n "$LIB_KEEP" ]; then
			[ -n "$LIB_KEEP_SAID" ] || echo "# logs kept in $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit $rc
}

# ns_setup() - the daemon's namespace, and a peer namespace behind a veth
ns_setup() {
	NS=passt-test-$$
	PEER=passt-peer-$$
	ip netns add "$NS" || return 1
	ip netns add "$PEER" || return 1
	# Deleted on exit even if a test made NS local (see "Two hosts")
	LIB_NETNS+=("$NS" "$PEER")
	# ip netns exec bind-mounts this over /etc/resolv.conf: the daemon
	# then announces a resolver inside the namespace, never the host's
	mkdir -p "/etc/netns/$NS"
	printf 'nameserver 127.0.0.53\nsearch example.test\n' \
		>"/etc/netns/$NS/resolv.conf"
	ip -n "$NS" link add veth0 type veth peer name veth1 netns "$PEER" &&
	ip -n "$NS" link set lo up &&
	ip -n "$PEER" link set lo up &&
	ip -n "$NS" addr add 192.0.2.1/24 dev veth0 &&
	ip -n "$NS" addr add 2001:db8::1/64 dev veth0 nodad &&
	ip -n "$PEER" addr add 192.0.2.2/24 dev veth1 &&
	ip -n "$PEER" addr add 192.0.2.3/24 dev veth1 &&
	ip -n "$PEER" addr add 2001:db8::2/64 dev veth1 nodad &&
	ip -n "$PEER" addr add 2001:db8::3/64 dev veth1 nodad &&
	ip -n "$NS" link set veth0 up &&
	ip -n "$PEER" link set veth1 up &&
	ip -n "$NS" route add default via 192.0.2.2 dev veth0 &&
	ip -n "$NS" -6 route add default via 2001:db8::2 dev veth0 &&
	ip netns exec "$NS" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
}

# hosts_host() - configure a host namespace as ns_setup does NS, on a veth
# to the bridge of HOSTP
# @1:	namespace
# @2:	the veth's end in HOSTP
# @3:	MAC address of the host's end
hosts_host() {
	local ns=$1 port=$2
	ip netns add "$ns" || return 1
	LIB_NETNS+=("$ns")
	mkdir -p "/etc/netns/$ns"
	printf 'nameserver 127.0.0.53\nsearch example.test\n' \
		>"/etc/netns/$ns/resolv.conf"
	ip -n "$ns" link add veth0 address "$3" type veth peer name "$port" \
		netns "$HOSTP" &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add 192.0.2.1/24 dev veth0 &&
	ip -n "$ns" addr add 2001:db8::1/64 dev veth0 nodad &&
	ip -n "$HOSTP" link set "$port" up &&
	ip -n "$ns" link set veth0 up &&
	ip -n "$ns" route add default via 192.0.2.2 dev veth0 &&
	ip -n "$ns" -6 route add default via 2001:db8::2 dev veth0 &&
	ip netns exec "$ns" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
}

# hosts_setup() - two hosts and the network between them, HOST1 attached
#
# HOSTP: bridge br0 (its MAC fixed, so that it doesn't change with its
# ports) with 192.0.2.2, 192.0.2.3, 2001:db8::2, 2001:db8::3, and ports
# vh1, vh2, the ends of veths to HOST1 and HOST2.  Both hosts have the
# daemon namespace's addresses and routes (as ns_setup: 192.0.2.1/24,
# 2001:db8::1/64), and different MACs.  Does nothing if already done.
hosts_setup() {
	[ -z "$HOSTP" ] || return 0
	HOSTP=passt-hp-$$
	HOST1=passt-h1-$$
	HOST2=passt-h2-$$
	ip netns add "$HOSTP" || return 1
	LIB_NETNS+=("$HOSTP")
	ip -n "$HOSTP" link set lo up &&
	ip -n "$HOSTP" link add br0 address 02:00:00:00:02:02 type bridge &&
	ip -n "$HOSTP" addr add 192.0.2.2/24 dev br0 &&
	ip -n "$HOSTP" addr add 192.0.2.3/24 dev br0 &&
	ip -n "$HOSTP" addr add 2001:db8::2/64 dev br0 nodad &&
	ip -n "$HOSTP" addr add 2001:db8::3/64 dev br0 nodad &&
	ip -n "$HOSTP" link set br0 up &&
	hosts_host "$HOST1" vh1 02:00:00:00:01:01 &&
	hosts_host "$HOST2" vh2 02:00:00:00:01:02 &&
	hosts_attach 1
}

# hosts_attach() - the address moves to a host: attach it to the bridge,
# detach the other one (its veth down: no carrier, nothing goes through)
# @1:	1 for HOST1, 2 for HOST2
#
# The neighbour caches are flushed on both sides, as a gratuitous ARP from
# the new holder would update them.
hosts_attach() {
	local on=$1 off=$((3 - $1)) ns
	ns=HOST$on
	ip -n "$HOSTP" link set "vh$off" nomaster &&
	ip -n "$HOSTP" link set "vh$off" down &&
	ip -n "$HOSTP" link set "vh$on" up &&
	ip -n "$HOSTP" link set "vh$on" master br0 &&
	ip -n "$HOSTP" neigh flush dev br0 &&
	ip -n "${!ns}" neigh flush dev veth0
}

# in_ns() - run a command in the daemon's namespace
in_ns() {
	ip netns exec "$NS" "$@"
}

# wait_socket() - wait up to $2 seconds for a UNIX socket to appear
wait_socket() {
	local n=$((${2:-5} * 20))
	while [ ! -S "$1" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.05
	done
}

# daemon_start() - start the daemon in the namespace, in the foreground
# @1:	name for its files in $WORK: NAME.sock, NAME.pid, NAME.log, NAME.out
# @@:	extra options
#
# Sets PASST_PID, PASST_SOCK, PASST_LOG.  Returns 1 if the daemon died or
# had no socket after 5 s (its output and log tail are then on stderr).
daemon_start() {
	local name=$1
	shift
	PASST_SOCK=$WORK/$name.sock
	PASST_LOG=$WORK/$name.log
	PASST_NAME=$name
	rm -f "$PASST_SOCK" "$WORK/$name.pid"
	[ -x "$PASST" ] || { lib_log "no daemon binary at $PASST"; return 1; }
	# shellcheck disable=SC2086 # PASST_DEBUG: one option or none
	ip netns exec "$NS" "$PASST" --vhost-user --socket "$PASST_SOCK" -f \
		--pid "$WORK/$name.pid" -l "$PASST_LOG" $PASST_DEBUG "$@" \
		</dev/null >"$WORK/$name.out" 2>&1 &
	PASST_PID=$!
	LIB_PIDS+=("$PASST_PID")
	local n=100
	while [ ! -S "$PASST_SOCK" ]; do
		if ! pid_alive "$PASST_PID"; then
			wait "$PASST_PID" 2>/dev/null
			lib_log "daemon exited ($?) before making its socket:"
			daemon_tail "$name"
			return 1
		fi
		n=$((n - 1))
		if [ $n -le 0 ]; then
			lib_log "daemon made no socket in 5 s:"
			daemon_tail "$name"
			return 1
		fi
		sleep 0.05
	done
}

# daemon_tail() - last lines of a daemon's output and log, on stderr
daemon_tail() {
	local f
	for f in "$WORK/${1:-passt}.out" "$WORK/${1:-passt}.log"; do
		[ -s "$f" ] || continue
		echo "# --- $f:" >&2
		tail -n "${2:-15}" "$f" | sed 's/^/#   /' >&2
	done
}

# daemon_last() - the last two lines a daemon logged, on one line
daemon_last() {
	local f=$WORK/$1.log
	[ -s "$f" ] || f=$WORK/$1.out
	tail -n 2 "$f" 2>/dev/null | tr '\n' ' '
}

# daemon_stop() - end the daemon started last
daemon_stop() {
	lib_kill "$PASST_PID"
	PASST_PID=
}

# qemu_launch() - start QEMU on the test guest's kernel; wait for nothing
# @1:	vhost-user socket to connect to, or "" for a guest with no NIC
# @@:	extra QEMU options
#
# Sets QEMU_PID, QEMU_QMP, QEMU_CONSOLE, QEMU_SERIAL_FD, QEMU_CAT_PID and
# QEMU_DIR (the prefix of its files).  Every QEMU gets the same machine and
# devices, a migration source as well as its target.
qemu_launch() {
	local sock=$1 d net=()
	shift
	QEMU_N=$((QEMU_N + 1))
	d=$WORK/vm$QEMU_N
	QEMU_DIR=$d
	QEMU_QMP=$d.qmp
	QEMU_CONSOLE=$d.console
	[ -s "$GUEST_KERNEL" ] && [ -s "$GUEST_INITRD" ] ||
		{ lib_log "no guest image: run test/mkguest.sh"; return 1; }
	if [ -n "$sock" ]; then
		net=(-chardev "socket,id=c0,path=$sock"
		     -netdev vhost-user,id=n0,chardev=c0
		     -device virtio-net-pci,netdev=n0)
	fi

	# Serial port: a FIFO pair, QEMU reads $d.serial.in, writes .out;
	# every byte of output is kept in the console file.  Both ends are
	# opened read-write so that no open() ever waits for the other side.
	mkfifo "$d.serial.in" "$d.serial.out"
	: > "$QEMU_CONSOLE"
	cat 0<>"$d.serial.out" >>"$QEMU_CONSOLE" &
	QEMU_CAT_PID=$!
	LIB_PIDS+=("$QEMU_CAT_PID")
	exec {QEMU_SERIAL_FD}<>"$d.serial.in"

	"$QEMU" -name "passt-test-$QEMU_N" -nodefaults -no-user-config \
		-machine pc -accel tcg -smp 1 -m 512 \
		-object memory-backend-memfd,id=mem,size=512M,share=on \
		-numa node,memdev=mem \
		"${net[@]}" \
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1" \
		-display none -no-reboot \
		-chardev "pipe,id=ser0,path=$d.serial" -serial chardev:ser0 \
		-qmp "unix:$QEMU_QMP,server=on,wait=off" \
		-pidfile "$d.pid" "$@" </dev/null >"$d.qemu.log" 2>&1 &
	QEMU_PID=$!
	LIB_PIDS+=("$QEMU_PID")
}

# qemu_start() - boot the test guest; wait for its console loop
# @1:	vhost-user socket to connect to, or "" for a guest with no NIC
# @@:	extra QEMU options
#
# Sets what qemu_launch sets, and QEMU_READY_TIME: seconds from QEMU's
# start to the guest's console loop.  Returns 1, with the reason on
# stderr, if QEMU exits or the guest does not answer within 60 s.
qemu_start() {
	local t0
	t0=$(now)
	qemu_launch "$@" || return 1

	local n=1200
	while ! grep -qa '^@@READY@@' "$QEMU_CONSOLE"; do
		if ! pid_alive "$QEMU_PID"; then
			wait "$QEMU_PID" 2>/dev/null
			lib_log "QEMU exited ($?) before the guest was ready:"
			sed 's/^/#   /' "$QEMU_DIR.qemu.log" >&2
			tail -n 5 "$QEMU_CONSOLE" | sed 's/^/#   /' >&2
			return 1
		fi
		n=$((n - 1))
		if [ $n -le 0 ]; then
			lib_log "guest not ready after 60 s; console tail:"
			tail -n 10 "$QEMU_CONSOLE" | sed 's/^/#   /' >&2
			return 1
		fi
		sleep 0.05
	done
	QEMU_READY_TIME=$(elapsed "$t0")
}

# qemu_stop() - quit QEMU (QMP, then signals); close its console
qemu_stop() {
	[ -n "$QEMU_PID" ] || return 0
	if pid_alive "$QEMU_PID"; then
		qmp quit >/dev/null 2>&1 || true
		wait_gone "$QEMU_PID" 10 || true
	fi
	lib_kill "$QEMU_PID"
	lib_kill "$QEMU_CAT_PID"
	[ -z "$QEMU_SERIAL_FD" ] || exec {QEMU_SERIAL_FD}>&-
	QEMU_PID=
	QEMU_CAT_PID=
	QEMU_SERIAL_FD=
}

# guest_run() - run a shell command in the guest, over the serial console
# -t SECS:	give up after SECS seconds (default 30); the guest kills the
#		command then too
# @1:		the command (any sh script, several lines allowed)
#
# Prints the command's output (stdout and stderr together, trailing blank
# lines dropped).  Return: the command's exit status, or GUEST_NO_ANSWER
# (255) with a message on stderr if the guest did not answer in time.
guest_run() {
	local tmo=30 cmd b64 tag n rc
	if [ "${1:-}" = -t ]; then
		tmo=$2
		shift 2
	fi
	cmd=$1
	[ -n "$QEMU_SERIAL_FD" ] && pid_alive "$QEMU_PID" ||
		{ echo "guest_run: no guest running" >&2; return $GUEST_NO_ANSWER; }
	b64=$(printf '%s\n' "$cmd" | base64 -w0)
	# The guest's tty reads lines of at most 4095 bytes
	[ ${#b64} -lt 4000 ] ||
		{ echo "guest_run: command too long" >&2; return $GUEST_NO_ANSWER; }
	tag=g${BASHPID}_${RANDOM}${RANDOM}_$SECONDS
	printf '%s %s %s\n' "$tag" "$tmo" "$b64" >&"$QEMU_SERIAL_FD"

	n=$(((tmo + 5) * 20))
	while ! grep -qa "^@@END $tag [0-9]*@@" "$QEMU_CONSOLE"; do
		n=$((n - 1))
		if [ $n -le 0 ] || ! pid_alive "$QEMU_PID"; then
			echo "guest_run: no answer from the guest to: $cmd" >&2
			return $GUEST_NO_ANSWER
		fi
		sleep 0.05
	done
	rc=$(tr -d '\r' < "$QEMU_CONSOLE" |
	     sed -n "s/^@@END $tag \([0-9]*\)@@\$/\1/p" | head -1)
	tr -d '\r' < "$QEMU_CONSOLE" | awk -v b="@@BEGIN $tag@@" \
		-v e="@@END $tag " '
		$0 == b { on = 1; next }
		on && index($0, e) == 1 { exit }
		on { buf = buf $0 "\n" }
		END { sub(/\n+$/, "", buf); if (buf != "") print buf }'
	return "$rc"
}

# qmp() - send one QMP command to the current QEMU (or the one at $2)
# @1:	a command name ("quit") or a whole JSON request
#
# Prints the reply line.  Returns 1 on an error reply or no reply in 10 s.
qmp() {
	local req=$1 sock=${2:-$QEMU_QMP} f line rc=1 w r spid
	case "$req" in
	\{*) ;;
	*) req="{\"execute\": \"$req\"}" ;;
	esac
	[ -S "$sock" ] || return 1
	f=$WORK/qmp.$BASHPID.$RANDOM
	mkfifo "$f.in" "$f.out"
	socat - "UNIX-CONNECT:$sock" <"$f.in" >"$f.out" 2>/dev/null &
	spid=$!
	exec {w}<>"$f.in" {r}<>"$f.out"

	# qmp_read_reply() - next line that is a reply, not an event
	qmp_read_reply() {
		while read -r -t 10 line <&"$r"; do
			case "$line" in
			*'"return"'*|*'"error"'*) return 0 ;;
			esac
		done
		return 1
	}
	if read -r -t 10 line <&"$r" && [[ $line == *QMP* ]]; then
		echo '{"execute": "qmp_capabilities"}' >&"$w"
		if qmp_read_reply && [[ $line == *'"return"'* ]]; then
			echo "$req" >&"$w"
			if qmp_read_reply; then
				echo "$line"
				[[ $line == *'"return"'* ]] && rc=0
			fi
		fi
	fi
	exec {w}>&- {r}<&-
	lib_kill "$spid"
	rm -f "$f.in" "$f.out"
	return $rc
}

# --- Migration --------------------------------------------------------------
# json_field() - fields of the "return" object of a QMP reply, one a line
# @1:	the reply
# @@:	field names, "a" or "a.b" for a nested one; "-" for a missing one
json_field() {
	python3 -c 'import json, sys
try:
    d = json.loads(sys.argv[1]).get("return", {})
except ValueError:
    d = {}
for p in sys.argv[2:]:
    v = d
    for k in p.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    print("-" if v is None else v)' "$@"
}

# proc_rc() - exit status of a child process, once it has ended
# @1:	PID
# @2:	seconds to wait for the end (default 10)
#
# Prints the status, or "running" if it is still alive then (left alone)
proc_rc() {
	local rc=0
	[ -n "${1:-}" ] || { echo -; return; }
	wait_gone "$1" "${2:-10}" || { echo running; return; }
	wait "$1" 2>/dev/null || rc=$?
	echo "$rc"
}

# lib_swap_target() - exchange the current daemon, helper and QEMU with the
# migration target's: PASST_x with PASST_IN_x, QEMU_x with QEMU_IN_x
lib_swap_target() {
	local a b t
	for a in PASST_PID PASST_SOCK PASST_LOG PASST_NAME REPAIR_PID \
		 QEMU_PID QEMU_QMP QEMU_CONSOLE QEMU_SERIAL_FD QEMU_CAT_PID \
		 QEMU_DIR; do
		b=${a%%_*}_IN_${a#*_}
		t=${!a}
		printf -v "$a" '%s' "${!b}"
		printf -v "$b" '%s' "$t"
	done
}

# repair_path() - the repair socket a daemon listens on
# @1:	its vhost-user socket
# @@:	its options: the path given to --repair-path, else SOCKET.repair
repair_path() {
	local p=$1.repair
	shift
	while [ $# -gt 0 ]; do
		[ "$1" = --repair-path ] && [ $# -gt 1 ] && p=$2
		shift
	done
	echo "$p"
}

# repair_start() - start the TCP_REPAIR helper for the current daemon
# @1:	the daemon's repair socket
#
# Runs $PASST_REPAIR (as root, in the namespace: it needs CAP_NET_ADMIN
# there), output in $WORK/$PASST_NAME.repair.out.  Sets REPAIR_PID.  Waits
# up to 5 s for the socket, then 0.3 s to see that the helper stayed (a
# helper that cannot connect exits at once).  Returns 1, reason on stderr.
repair_start() {
	local path=$1 out=$WORK/$PASST_NAME.repair.out
	REPAIR_PID=
	[ -x "$PASST_REPAIR" ] ||
		{ lib_log "no helper binary at $PASST_REPAIR"; return 1; }
	wait_socket "$path" 5 ||
		{ lib_log "no repair socket at $path after 5 s"; return 1; }
	ip netns exec "$NS" "$PASST_REPAIR" "$path" </dev/null >"$out" 2>&1 &
	REPAIR_PID=$!
	LIB_PIDS+=("$REPAIR_PID")
	sleep 0.3
	pid_alive "$REPAIR_PID" && return 0
	lib_log "helper exited ($(proc_rc "$REPAIR_PID")) at once:" \
		"$(tr '\n' ' ' < "$out")"
	REPAIR_PID=
	return 1
}

# repair_ensure() - a running helper for the current daemon, started if
# there is none (a daemon may let its helper go once a migration is over)
# @1:	the daemon's repair socket
repair_ensure() {
	pid_alive "$REPAIR_PID" && return 0
	[ -z "$REPAIR_PID" ] || lib_kill "$REPAIR_PID"
	repair_start "$1"
}

# mig_target() - start a migration target: a daemon and an incoming QEMU
# -S:	start the QEMU with -S, as libvirt does: once the migration is in,
#	the guest stays paused until a "cont"
# @1:	name of the target daemon's files in $WORK
# @2:	"repair" to give the target daemon a TCP_REPAIR helper, "" for none
# @@:	daemon options: give the target the source's
#
# The daemon and helper start in NS_IN if set, else in NS.  The QEMU has
# the source's machine and devices, and -incoming on a UNIX socket
# (QEMU_IN_URI).  Sets PASST_IN_*, REPAIR_IN_PID and QEMU_IN_*; the
# current daemon and QEMU stay current.  Returns 1, the reason on stderr,
# if anything fails to start or the target daemon dies once QEMU connects.
mig_target() {
	local name helper rc=0 st n=200 paused=() NS=${NS_IN:-$NS}
	if [ "$1" = -S ]; then
		paused=(-S)
		shift
	fi
	name=$1 helper=$2
	shift 2
	mig_target_stop
	QEMU_IN_URI=unix:$WORK/$name.mig
	lib_swap_target
	if daemon_start "$name" "$@" &&
	   { [ "$helper" != repair ] ||
	     repair_start "$(repair_path "$PASST_SOCK" "$@")"; } &&
	   qemu_launch "$PASST_SOCK" -incoming "$QEMU_IN_URI" "${paused[@]}"; then
		# Ready: QMP answers, QEMU has done its vhost-user handshake
		while :; do
			st=$(json_field "$(qmp query-status 2>/dev/null)" status)
			[ "$st" = inmigrate ] && break
			if ! pid_alive "$PASST_PID"; then
				lib_log "target daemon exited ($(proc_rc "$PASST_PID")): $(daemon_last "$name")"
				rc=1
				break
			fi
			if ! pid_alive "$QEMU_PID" || [ $n -le 0 ]; then
				lib_log "incoming QEMU not ready (status $st):" \
					"$(tr '\n' ' ' < "$QEMU_DIR.qemu.log")"
				rc=1
				break
			fi
			n=$((n - 1))
			sleep 0.1
		done
		# A daemon that fails once QEMU is there might take a moment
		sleep 0.2
		if [ $rc -eq 0 ] && ! pid_alive "$PASST_PID"; then
			lib_log "target daemon exited ($(proc_rc "$PASST_PID")): $(daemon_last "$name")"
			rc=1
		fi
	else
		rc=1
	fi
	lib_swap_target
	[ $rc -eq 0 ] || mig_target_stop
	return $rc
}

# mig_target_stop() - end a migration target that is left over, if any
mig_target_stop() {
	lib_kill "$QEMU_IN_PID"
	lib_kill "$QEMU_IN_CAT_PID"
	[ -z "$QEMU_IN_SERIAL_FD" ] || exec {QEMU_IN_SERIAL_FD}>&-
	lib_kill "$REPAIR_IN_PID"
	lib_kill "$PASST_IN_PID"
	QEMU_IN_PID=''
	QEMU_IN_CAT_PID=''
	QEMU_IN_SERIAL_FD=''
	REPAIR_IN_PID=''
	PASST_IN_PID=''
}

# mig_poll() - poll query-migrate until the migration ends, or for @1 s
# @1:	seconds (default 60)
# @2:	a status to stop at too, as if completed (e.g. "pre-switchover")
#
# Sets MIG_STATUS, MIG_TOTAL, MIG_DOWNTIME, MIG_SETUP (ms), MIG_REPLY (the
# last reply), MIG_ERR if it did not complete.  Return: 0 if completed
mig_poll() {
	local n=$((${1:-60} * 10)) out
	while :; do
		out=$(qmp query-migrate 2>&1) ||
			{ MIG_ERR="query-migrate: $out"; return 1; }
		MIG_REPLY=$out
		{ read -r MIG_STATUS; read -r MIG_TOTAL; read -r MIG_DOWNTIME
		  read -r MIG_SETUP; } < <(json_field "$out" status total-time \
					   downtime setup-time)
		case "$MIG_STATUS" in
		completed|"${2:-completed}") return 0 ;;
		failed|cancelled)
			MIG_ERR="migration $MIG_STATUS: $(json_field "$out" error-desc)"
			return 1 ;;
		esac
		n=$((n - 1))
		[ $n -gt 0 ] ||
			{ MIG_ERR="migration still $MIG_STATUS after ${1:-60} s"; return 1; }
		sleep 0.1
	done
}

# qemu_status() - the run state of the current QEMU (or the one at $1), as
# query-status says it ("running", "paused", "inmigrate"...); empty if no
# answer
qemu_status() {
	json_field "$(qmp query-status "${1:-$QEMU_QMP}" 2>/dev/null)" status |
		grep -v '^-$' || true
}

# qemu_wait_status() - wait until a QEMU's run state matches
# @1:	extended regex for the whole state, e.g. "running" or "paused|prelaunch"
# @2:	seconds (default 10)
# @3:	its QMP socket (default the current QEMU's)
# @4:	its PID: give up at once if it has exited (optional)
#
# Sets QEMU_STATUS (the last state seen, "exited" if @4 ended).  Return: 0
# if the state matched in time
qemu_wait_status() {
	local n=$((${2:-10} * 10))
	while :; do
		if [ -n "${4:-}" ] && ! pid_alive "$4"; then
			QEMU_STATUS=exited
			return 1
		fi
		QEMU_STATUS=$(qemu_status "${3:-$QEMU_QMP}")
		[[ $QEMU_STATUS =~ ^($1)$ ]] && return 0
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# mig_cap() - set a migration capability of the current QEMU
# @1:	capability, e.g. "pause-before-switchover"
# @2:	true or false
mig_cap() {
	qmp "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \"$1\", \"state\": $2}]}}"
}

# mig_launch() - send QMP migrate to the current QEMU, for the target
#
# Sets what mig_run describes to its value before the migration, MIG_T0
# to now() and MIG_ERR if QEMU refused.  Return: 0 if the migration started
mig_launch() {
	local out
	MIG_STATUS=none MIG_TOTAL=- MIG_DOWNTIME=- MIG_SETUP=- MIG_ERR=
	MIG_SRC_RC=- MIG_SRC_REPAIR_RC=- MIG_SRC_LOG=$PASST_LOG MIG_T1=
	MIG_T0=$(now)
	if ! pid_alive "$QEMU_IN_PID"; then
		MIG_ERR="no target QEMU"
	elif ! out=$(qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"$QEMU_IN_URI\"}}" 2>&1); then
		MIG_ERR="migrate refused: $out"
	fi
	[ -z "$MIG_ERR" ]
}

# mig_run() - migrate the guest from the current QEMU to the target
# @1:	bound on the migration, seconds (default 60)
# @2:	seconds the source daemon gets to exit once its QEMU quit (10)
#
# QMP migrate to QEMU_IN_URI, then query-migrate every 0.1 s.  Once it
# completes and the target runs, the source QEMU is told to quit (QEMU
# leaves it paused in "postmigrate"; a management layer ends it), and the
# source daemon and its helper are given @2 and 5 seconds to exit.  The
# target becomes the current daemon, helper and QEMU.  On failure the
# migration is cancelled and the target stopped; the source stays current.
#
# Sets MIG_STATUS (last status, "none" if it never started), MIG_TOTAL,
# MIG_DOWNTIME and MIG_SETUP (ms, query-migrate's figures, "-" if absent),
# MIG_T0 and MIG_T1 (now() when migrate was sent, when completion was
# seen), MIG_ERR (why it failed), MIG_SRC_RC and MIG_SRC_REPAIR_RC (exit
# status of the source daemon and its helper, "running" if still alive
# when its time is up, "-" for no helper), MIG_SRC_LOG (the source
# daemon's log).  Return: 0 if the guest now runs on the target.
mig_run() {
	local bound=${1:-60}
	if mig_launch && mig_poll "$bound"; then
		MIG_T1=$(now)
		qemu_wait_status running 10 "$QEMU_IN_QMP" ||
			MIG_ERR="target QEMU is '$QEMU_STATUS', not running, 10 s after completion"
	fi
	if [ -n "$MIG_ERR" ]; then
		[ "$MIG_STATUS" = none ] || qmp migrate_cancel >/dev/null 2>&1
		mig_target_stop
		return 1
	fi
	mig_finish "${2:-10}"
}

# mig_finish() - the target runs the guest: end the source, make the target
# current
# @1:	seconds the source daemon gets to exit once its QEMU quit (10)
#
# Sets MIG_SRC_RC and MIG_SRC_REPAIR_RC (see mig_run)
mig_finish() {
	qemu_stop
	MIG_SRC_RC=$(proc_rc "$PASST_PID" "${1:-10}")
	[ -z "$REPAIR_PID" ] || MIG_SRC_REPAIR_RC=$(proc_rc "$REPAIR_PID" 5)
	lib_kill "$PASST_PID"
	lib_kill "$REPAIR_PID"
	lib_swap_target
	mig_target_stop
}
