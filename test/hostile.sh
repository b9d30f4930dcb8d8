#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hostile.sh - a misbehaving vhost-user front-end against a running daemon
#
# Starts the daemon (daemon_start: ./passt --debug in a namespace whose only
# link is a veth pair to a second one, so nothing leaves the machine), runs
# test/hostile against its socket and PID, then checks the daemon is still
# alive.  On failure, the tail of the daemon's log goes to stderr and the
# scratch directory is kept.
#
# Usage: test/hostile.sh [CASE-SUBSTRING]
# Output: test/hostile's "ok N - ..." lines, then "N passed, M failed".
# Exit status: 0 if everything passed, 1 otherwise.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

HOSTILE=${HOSTILE:-$HERE/hostile}

main() {
	local out rc=0 passed failed t0 last n st

	lib_init
	# Up to date, with the Makefile's flags (quiet if nothing to do)
	if [ "$HOSTILE" = "$HERE/hostile" ]; then
		make -C "$REPO" --no-print-directory -s test/hostile >&2 ||
			{ echo "0 passed, 1 failed"; exit 1; }
	fi
	[ -x "$PASST" ] || make -C "$REPO" --no-print-directory -s passt >&2 ||
		{ echo "0 passed, 1 failed"; exit 1; }

	if ! ns_setup; then
		lib_log "can't set up the namespaces"
		echo "0 passed, 1 failed"
		exit 1
	fi
	if ! daemon_start passt; then
		lib_keep
		echo "0 passed, 1 failed"
		exit 1
	fi

	t0=$(now)
	out=$WORK/hostile.out
	# Bound the whole run: test/hostile bounds each wait, this is a backstop
	timeout -k 5 170 "$HOSTILE" "$PASST_SOCK" "$PASST_PID" "$@" |
		tee "$out" | grep -v ' passed, [0-9]* failed$'
	rc=${PIPESTATUS[0]}

	last=$(tail -n 1 "$out")
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=${BASH_REMATCH[1]}
		failed=${BASH_REMATCH[2]}
	else
		lib_log "test/hostile ended without a summary (status $rc)"
		passed=$(grep -c '^ok ' "$out")
		failed=$(($(grep -c '^not ok ' "$out") + 1))
	fi
	[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1

	n=$((passed + failed + 1))
	if pid_alive "$PASST_PID"; then
		echo "ok $n - daemon still alive"
		passed=$((passed + 1))
	else
		wait "$PASST_PID" 2>/dev/null
		st=$?
		[ $st -gt 128 ] && st="$st (signal $(kill -l $((st - 128))))"
		echo "not ok $n - daemon still alive: exited with status $st"
		failed=$((failed + 1))
	fi

	lib_log "run time $(elapsed "$t0") s"
	if [ "$failed" -gt 0 ]; then
		lib_keep
		daemon_tail passt 40
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"
