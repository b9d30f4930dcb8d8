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
#   PASST         the daemon binary; PASST_PID, PASST_SOCK, PASST_LOG
#   PASST_DEBUG   log level option daemon_start gives (default --debug)
#   QEMU_PID, QEMU_QMP, QEMU_CONSOLE (the whole serial transcript)

LIB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB_HERE/.." && pwd)
PASST=${PASST:-$REPO/passt}
GUEST_KERNEL=${GUEST_KERNEL:-$LIB_HERE/.cache/kernel}
GUEST_INITRD=${GUEST_INITRD:-$LIB_HERE/.cache/initramfs.gz}
QEMU=${QEMU:-qemu-system-x86_64}
# Log level option for daemon_start (empty for none: the benchmark)
PASST_DEBUG=${PASST_DEBUG---debug}

# guest_run returns this when the harness itself gave up (no answer)
GUEST_NO_ANSWER=255

LIB_PIDS=()
LIB_KEEP=
LIB_KEEP_SAID=
NS=
PEER=
WORK=
PASST_PID=
PASST_SOCK=
PASST_LOG=
QEMU_PID=
QEMU_QMP=
QEMU_CONSOLE=
QEMU_SERIAL_FD=
QEMU_CAT_PID=
QEMU_N=0
QEMU_READY_TIME=

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
	for ns in "$NS" "$PEER"; do
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

# daemon_stop() - end the daemon started last
daemon_stop() {
	lib_kill "$PASST_PID"
	PASST_PID=
}

# qemu_start() - boot the test guest; wait for its console loop
# @1:	vhost-user socket to connect to, or "" for a guest with no NIC
# @@:	extra QEMU options
#
# Sets QEMU_PID, QEMU_QMP, QEMU_CONSOLE, and QEMU_READY_TIME: seconds from
# QEMU's start to the guest's console loop.  Returns 1, with the reason on
# stderr, if QEMU exits or the guest does not answer within 60 s.
qemu_start() {
	local sock=$1 d net=() t0
	shift
	t0=$(now)
	QEMU_N=$((QEMU_N + 1))
	d=$WORK/vm$QEMU_N
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

	local n=1200
	while ! grep -qa '^@@READY@@' "$QEMU_CONSOLE"; do
		if ! pid_alive "$QEMU_PID"; then
			wait "$QEMU_PID" 2>/dev/null
			lib_log "QEMU exited ($?) before the guest was ready:"
			sed 's/^/#   /' "$d.qemu.log" >&2
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
