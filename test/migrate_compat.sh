# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # guest commands expand in the guest
# migrate_compat.sh - migrations between the landed version 1 daemon and
# ours (sourced by run.sh, group migcompat)
#
# The version 1 daemon is the real one: commit MC_REV, the last that wrote
# version 1 streams, taken from this repository's history (git archive)
# and built, with its passt-repair, in $WORK/v1.  No git, or no such
# commit (a shallow clone), is a failure, not a skip: without it the test
# would prove nothing.
#
# (a) old -> new: a guest boots on the version 1 daemon (and its helper),
#     opens TCP connections to a host echo (MC_G4 over IPv4, one over
#     IPv6), and the host opens one over each family through a forwarded
#     port to the guest's echo; a paced stream runs each way (migrate.sh's
#     ramp streams) across the migration.  It migrates to our daemon, which
#     must read the version 1 stream: afterwards every echo connection
#     carries a round of data both ways, byte-exact, the streams end
#     byte-exact, the target's log says it read version 1 and started every
#     connection, and the old daemon and its helper exit 0.
# (b) new -> old: from that daemon, a migration to a target running the
#     version 1 daemon, which must refuse our stream (min_version 2) with
#     a log line naming both versions.  The migration fails, or completes
#     with a target QEMU that doesn't run, and the source gets "cont" as a
#     management layer would (migrate.sh's F3 does the same); the source
#     takes its state back, and every connection carries a round both ways
#     there.  Then a retry to a target of ours succeeds: a round on every
#     connection again, a second pair of streams that spanned the refused
#     migration and the retry ends byte-exact, and each echo connection
#     closes with an EOF both ways (no reset).
# (b) boots its own guest on our daemon if (a) left none.
#
# The host end of the echo connections is MC_DRV, a small Python program
# run in the daemon's namespace and driven through files in MC_DIR: one
# command a file (cmd.N), one answer a file (rep.N).  A round sends
# MC_ROUND bytes on each connection, a slice of the ramp at the
# connection's own offset (so that crossed connections show), and checks
# the echo byte by byte.  The guest's ends are socat with EXEC:cat,
# started without gbg's pid files, so that gkill leaves them alone.
#
# Ports: MC_PORT host echo (127.0.0.1 and ::1, 192.0.2.2 and 2001:db8::2
# for the guest); MC_FWD forwarded to the guest's echo; MIG_FWD (the ramp
# streams to the guest); sinks MC_SINK (a) and MC_SINK + 1 (b).
#
# Uses from run.sh: run_test, fail, oneline, DHCP_CMD; from migrate.sh:
# mig_boot, mig_prepare, mig_go, mig_launch, mig_poll, mig_streams_start,
# mig_streams_check, mig_streams_alive, mig_daemon_ok, MIG_*; from
# migrate_syn.sh: syn_v6; from tcp_udp.sh: tu_wait_file; from lib.sh:
# guest_run, qmp, qemu_wait_status, repair_ensure, repair_path.

MC_REV=69020e8		# the last commit that wrote version 1 streams
MC_PORT=10260		# host echo, the guest's connections
MC_FWD=10261		# forwarded to the guest's echo
MC_SINK=10262		# ramp sinks: (a), and + 1 for (b)
MC_G4=3			# guest-opened IPv4 connections (and one IPv6)
MC_CONNS=$((MC_G4 + 3))	# echo connections: those, and two forwarded
MC_TCP=$((MC_CONNS + 2))	# TCP connections to move: and the streams
MC_ROUND=65536		# bytes each way, each connection, each round
MC_A_SECS=16		# (a): seconds of its streams
MC_V1=			# the version 1 build, once made
MC_DIR=			# the host end's command and answer files
MC_DRV_PID=
MC_CMD_N=0
MC_REP=			# the host end's last answer
MC_BYTES=0		# bytes checked each way, echo rounds
MC_ROUNDS=0
MC_SBYTES=0		# bytes checked each way, streams
MC_STATE=		# "ok" once (a) left a guest with its connections open

# The host end: commands "accept N SECS", "connect ADDR", "round BYTES
# SECS", "close SECS"; answers "ok ..." or what went wrong, per connection
MC_DRV=$(cat <<'EOF'
import os, selectors, socket, sys, time
d, port, fwd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conns = []	# [socket, name, stream offset]

def answer(n, text):
    with open("%s/rep.tmp" % d, "w") as f:
        f.write(text + "\n")
    os.rename("%s/rep.tmp" % d, "%s/rep.%d" % (d, n))

def ramp(off, n):
    return bytes((i * 7 + i // 251) & 0xff for i in range(off, off + n))

def accept(lst, n, secs):
    sel = selectors.DefaultSelector()
    for s in lst:
        sel.register(s, selectors.EVENT_READ)
    end, got = time.monotonic() + secs, 0
    while got < n and time.monotonic() < end:
        for key, _ in sel.select(0.1):
            c, a = key.fileobj.accept()
            conns.append([c, "guest %s:%d" % (a[0], a[1]),
                          len(conns) * 1000003])
            got += 1
    return "ok %d" % got if got == n else "only %d of %d" % (got, n)

def connect(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    end = time.monotonic() + 15
    while True:
        c = socket.socket(fam, socket.SOCK_STREAM)
        try:
            c.settimeout(5)
            c.connect((addr, fwd))
            break
        except OSError as e:
            c.close()
            if time.monotonic() > end:
                return "connect %s: %s" % (addr, e)
            time.sleep(0.3)
    conns.append([c, "forward %s" % addr, len(conns) * 1000003])
    return "ok"

def round_(size, secs):
    sel = selectors.DefaultSelector()
    st = {}
    for k in conns:
        k[0].setblocking(False)
        st[k[0]] = [k, ramp(k[2], size), 0, 0, None]  # out, sent, got, err
        sel.register(k[0], selectors.EVENT_READ | selectors.EVENT_WRITE)
    end, left = time.monotonic() + secs, len(conns)
    while left and time.monotonic() < end:
        for key, ev in sel.select(0.1):
            s = key.fileobj
            k, buf, sent, got, err = st[s]
            try:
                if ev & selectors.EVENT_WRITE and sent < size:
                    sent += s.send(buf[sent:sent + 16384])
                if ev & selectors.EVENT_READ:
                    b = s.recv(65536)
                    if not b:
                        err = "EOF"
                    elif b != buf[got:got + len(b)]:
                        i = next(j for j in range(len(b))
                                 if got + j >= size or b[j] != buf[got + j])
                        err = "mismatch at %d" % (got + i)
                    else:
                        got += len(b)
            except BlockingIOError:
                pass
            except OSError as e:
                err = e.strerror or str(e)
            st[s] = [k, buf, sent, got, err]
            if sent == size and sel.get_key(s).events != selectors.EVENT_READ:
                sel.modify(s, selectors.EVENT_READ)
            if err or got == size:
                sel.unregister(s)
                left -= 1
    bad = []
    for s, (k, buf, sent, got, err) in st.items():
        k[2] += size
        if err or got != size:
            bad.append("%s: %s, sent %d, echoed %d of %d" %
                       (k[1], err or "timed out", sent, got, size))
    if bad:
        return "; ".join(bad)
    return "ok conns=%d bytes=%d" % (len(conns), size)

def close(secs):
    bad = []
    for c, name, _ in conns:
        try:
            c.setblocking(True)
            c.settimeout(secs)
            c.shutdown(socket.SHUT_WR)
            b = c.recv(1)
            if b:
                bad.append("%s: data after the round" % name)
        except OSError as e:
            bad.append("%s: %s" % (name, e.strerror or e))
        c.close()
    return "; ".join(bad) if bad else "ok closed=%d" % len(conns)

lst = []
for a in ("127.0.0.1", "::1"):
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, port))
    s.listen(16)
    lst.append(s)
open("%s/ready" % d, "w").close()
n, idle = 1, time.monotonic()
while time.monotonic() - idle < 900:
    try:
        with open("%s/cmd.%d" % (d, n)) as f:
            cmd = f.read().split()
    except FileNotFoundError:
        time.sleep(0.05)
        continue
    if cmd[0] == "accept":
        r = accept(lst, int(cmd[1]), float(cmd[2]))
    elif cmd[0] == "connect":
        r = connect(cmd[1])
    elif cmd[0] == "round":
        r = round_(int(cmd[1]), float(cmd[2]))
    elif cmd[0] == "close":
        r = close(float(cmd[1]))
    else:
        r = "unknown command %s" % cmd
    answer(n, r)
    n, idle = n + 1, time.monotonic()
EOF
)

# mc_build_v1() - the version 1 daemon and helper, from MC_REV, in $WORK/v1
#
# Sets MC_V1.  Fails, with the reason, without git, the commit, or a build
mc_build_v1() {
	local repo=$LIB_HERE/.. d=$WORK/v1 t0 out
	[ -z "$MC_V1" ] || return 0
	t0=$(now)
	command -v git >/dev/null ||
		fail "no git: the version 1 daemon is built from commit $MC_REV" ||
		return 1
	git -C "$repo" rev-parse -q --verify "$MC_REV^{commit}" >/dev/null ||
		fail "commit $MC_REV (the version 1 daemon) not in the history of $repo: a shallow clone?" ||
		return 1
	mkdir -p "$d"
	out=$(git -C "$repo" archive "$MC_REV" 2>&1 | tar -x -C "$d" 2>&1) ||
		fail "git archive $MC_REV: $(echo "$out" | oneline)" || return 1
	grep -Eq 'define MIGRATE_VERSION[[:space:]]+1[[:space:]]' \
		"$d/mig_wire.h" ||
		fail "commit $MC_REV does not write version 1: $(grep 'define MIGRATE_VERSION' "$d/mig_wire.h" | oneline)" ||
		return 1
	make -C "$d" -j2 passt passt-repair >"$WORK/v1.build" 2>&1 ||
		fail "building $MC_REV: $(tail -n 3 "$WORK/v1.build" | oneline)" ||
		return 1
	MC_V1=$d
	echo "# version 1 daemon: commit $MC_REV built in $(elapsed "$t0") s"
}

# mc_cmd() - a command to the host end; wait for its answer
# @1:	seconds to wait
# @@:	the command
#
# Sets MC_REP (the answer).  Return: 0 if it starts with "ok"
mc_cmd() {
	local tmo=$1 n
	shift
	MC_CMD_N=$((MC_CMD_N + 1))
	n=$MC_CMD_N
	echo "$*" >"$MC_DIR/cmd.tmp" && mv "$MC_DIR/cmd.tmp" "$MC_DIR/cmd.$n"
	if ! tu_wait_file "$MC_DIR/rep.$n" "$tmo"; then
		MC_REP="no answer to '$*' in $tmo s"
		pid_alive "$MC_DRV_PID" ||
			MC_REP="$MC_REP (it exited: $(oneline < "$MC_DIR/out"))"
		return 1
	fi
	MC_REP=$(cat "$MC_DIR/rep.$n")
	[[ $MC_REP == ok* ]]
}

# mc_round() - a round of MC_ROUND bytes both ways on every echo connection
# @1:	when, for the failure and the comment line
mc_round() {
	mc_cmd 70 round "$MC_ROUND" 60 ||
		fail "echo connections $1: $MC_REP" || return 1
	[ "$MC_REP" = "ok conns=$MC_CONNS bytes=$MC_ROUND" ] ||
		fail "echo connections $1: '$MC_REP', want $MC_CONNS" ||
		return 1
	MC_ROUNDS=$((MC_ROUNDS + 1))
	MC_BYTES=$((MC_BYTES + MC_CONNS * MC_ROUND))
	echo "# $1: $MC_CONNS echo connections, $MC_ROUND bytes each way each, byte-exact"
}

# mc_setup() - host end, a guest on a daemon, the echo connections open
# @1:	the daemon's directory (the version 1 build, or ours)
# @2:	daemon name
mc_setup() {
	local bin=$1 name=$2 out k
	MC_STATE='' MC_CMD_N=0
	lib_kill "$MC_DRV_PID"
	MC_DIR=$WORK/mc_$name
	mkdir -p "$MC_DIR"
	ip netns exec "$NS" python3 -c "$MC_DRV" "$MC_DIR" "$MC_PORT" \
		"$MC_FWD" </dev/null >"$MC_DIR/out" 2>&1 &
	MC_DRV_PID=$!
	LIB_PIDS+=("$MC_DRV_PID")
	tu_wait_file "$MC_DIR/ready" 10 || [ -e "$MC_DIR/ready" ] ||
		fail "host echo did not start: $(oneline < "$MC_DIR/out")" ||
		return 1

	PASST=$bin/passt PASST_REPAIR=$bin/passt-repair \
		mig_boot "$name" repair -t "$MIG_FWD" -t "$MC_FWD" &&
		syn_v6 || return 1
	out=$(guest_run -t 20 "
		socat TCP6-LISTEN:$MC_FWD,ipv6only=0,fork,reuseaddr EXEC:cat \
			</dev/null >/tmp/mc_fwd 2>&1 &
		for k in \$(seq $MC_G4); do
			socat TCP4:192.0.2.2:$MC_PORT EXEC:cat \
				</dev/null >/tmp/mc_c\$k 2>&1 &
		done
		socat TCP6:[2001:db8::2]:$MC_PORT EXEC:cat \
			</dev/null >/tmp/mc_c6 2>&1 &
		echo started") ||
		fail "guest echo ends: $(echo "$out" | oneline)" || return 1
	mc_cmd 30 accept $((MC_G4 + 1)) 20 ||
		fail "guest connections to the host echo: $MC_REP" || return 1
	for k in 127.0.0.1 ::1; do
		mc_cmd 30 connect "$k" ||
			fail "host connection through the forward: $MC_REP" ||
			return 1
	done
	mc_round "on the first daemon" || return 1
	MC_STATE=ok
}

# mc_moved() - the target's log: it started every TCP connection
mc_moved() {
	local got
	got=$(grep 'TCP connections running' "$PASST_LOG" | tail -n 1)
	[[ $got == *"migrate: $MC_TCP of $MC_TCP TCP connections running"* ]] ||
		fail "target: '$(echo "$got" | oneline)', want all $MC_TCP TCP connections running"
}

# mc_streams_check() - mig_streams_check, and count the bytes
# @1:	time the streams must have started before
# @2:	time they must have ended after
mc_streams_check() {
	mig_streams_check "$1" "$2" || return 1
	MC_SBYTES=$((MC_SBYTES + MIG_S_G2H))
}

# --- (a) -------------------------------------------------------------------
t_mig_compat_old_new() {
	local bytes=$((MC_A_SECS * MIG_F_RATE * 1024)) v
	mc_build_v1 || return 1
	mc_setup "$MC_V1" mcold || return 1
	MC_STATE=''
	mig_streams_start ca "$MC_SINK" "$bytes" "$MIG_F_RATE" || return 1
	mig_prepare repair || return 1
	sleep 1
	mig_go || return 1

	grep -q 'migrate: wrote .* bytes of state' "$MIG_SRC_LOG" ||
		fail "the version 1 source says nothing of its state: $(tail -n 2 "$MIG_SRC_LOG" | oneline)" ||
		return 1
	v=$(grep -o 'migrate: stream version [0-9]*[^,]*' "$PASST_LOG" |
	    tail -n 1)
	[ "$v" = "migrate: stream version 1 (oldest reader 1)" ] ||
		fail "target's log: '${v:-no stream version}', want it to have read version 1 (oldest reader 1)" ||
		return 1
	mc_moved || return 1
	mc_round "after the migration from version 1" || return 1
	mc_streams_check "$MIG_T0" "$MIG_T1" || return 1
	echo "# streams across the migration from version 1: $MIG_S_G2H bytes" \
	     "each way, byte-exact; target: $v"
	MC_STATE=ok
}

# --- (b) -------------------------------------------------------------------
# mc_refused() - a migration to a version 1 target: refused, the source
# runs again (by itself, or with "cont"); sets MIG_F_T
mc_refused() {
	local out v t
	repair_ensure "$(repair_path "$PASST_SOCK" "${MIG_OPTS[@]}")" \
		2>"$WORK/mc.err" ||
		fail "source helper: $(oneline < "$WORK/mc.err")" || return 1
	PASST=$MC_V1/passt PASST_REPAIR=$MC_V1/passt-repair \
		mig_prepare "" repair || return 1
	sleep 1
	mig_launch || fail "$MIG_ERR" || return 1
	mig_poll 60 || true
	MIG_F_T=$(now)
	case "$MIG_STATUS" in
	failed)
		t="failed: $MIG_ERR"
		;;
	completed)
		if qemu_wait_status running 10 "$QEMU_IN_QMP" "$QEMU_IN_PID"; then
			fail "the version 1 target runs the guest: it took our stream"
			return 1
		fi
		t="completed, target QEMU $QEMU_STATUS: cont on the source"
		out=$(qmp cont 2>&1) || fail "cont on the source: $out" ||
			return 1
		;;
	*)
		fail "migration to the version 1 target: status '$MIG_STATUS': $MIG_ERR"
		return 1
		;;
	esac
	echo "# migration $MIG_N to the version 1 daemon $t"
	v=$(grep -o 'migrate: stream version .*' "$PASST_IN_LOG" | tail -n 1)
	[ "$v" = "migrate: stream version 2 needs a reader of version 2, we are 1" ] ||
		fail "version 1 target's log: '${v:-nothing of the version}', want it to refuse version 2: $(tail -n 3 "$PASST_IN_LOG" | oneline)" ||
		return 1
	echo "# version 1 target: $v"
	qemu_wait_status running 10 ||
		fail "source QEMU '$QEMU_STATUS' 10 s after the refusal, want running" ||
		return 1
	out=$(guest_run -t 20 'echo alive' 2>&1) ||
		fail "the guest does not answer on the source: $(echo "$out" | oneline)" ||
		return 1
	mig_daemon_ok
}

t_mig_compat_new_old() {
	local t0
	mc_build_v1 || return 1
	if [ "$MC_STATE" != ok ] || ! pid_alive "$QEMU_PID" ||
	   ! pid_alive "$PASST_PID"; then
		echo "# no guest left from the migration from version 1: booting one on ours"
		qemu_stop
		mig_target_stop
		lib_kill "$REPAIR_PID"
		daemon_stop
		mc_setup "$(dirname "$PASST")" mcnew || return 1
	fi
	MC_STATE=''
	t0=$(now)
	mig_streams_start cb $((MC_SINK + 1)) "$MIG_F_BYTES" "$MIG_F_RATE" ||
		return 1
	mc_refused || return 1
	mc_round "on the source, once the version 1 target refused" ||
		return 1
	mig_streams_alive || return 1
	mig_target_stop
	mig_prepare repair || return 1
	sleep 1
	mig_go || return 1
	mc_moved || return 1
	mc_round "after the retry to our daemon" || return 1
	mc_streams_check "$MIG_F_T" "$MIG_T1" || return 1
	mc_cmd 30 close 20 ||
		fail "closing the echo connections: $MC_REP" || return 1
	echo "# streams across the refused migration and the retry: $MIG_S_G2H" \
	     "bytes each way, byte-exact, in $(elapsed "$t0") s; $MC_REP, EOF both ways"
}

migcompat_tests() {
	local t0
	t0=$(now)
	run_test "migration from the version 1 daemon ($MC_REV): $MC_TCP TCP connections carry on, byte-exact, on ours" \
		t_mig_compat_old_new
	run_test "migration to the version 1 daemon: refused, the source carries on, a retry to ours works" \
		t_mig_compat_new_old
	echo "# compatibility: $MC_CONNS echo connections, $MC_ROUNDS rounds," \
	     "$MC_BYTES bytes checked each way; streams $MC_SBYTES bytes each way"
	lib_kill "$MC_DRV_PID"
	lib_kill "$MIG_SPID"
	qemu_stop
	mig_target_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
	echo "# compatibility migration tests: $(elapsed "$t0") s"
}
