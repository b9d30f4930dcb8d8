#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test/fuzz/run.sh - run the libFuzzer targets, each in its own network
# namespace, and summarise
#
#   run.sh SECONDS TARGET...           fuzz each target for SECONDS: new
#                                      inputs go to build/corpus/TARGET and
#                                      are used again next time
#   run.sh --check SECONDS TARGET...   the same from the seeds only, in a
#                                      scratch corpus thrown away after
#   run.sh --seeds TARGET...           rewrite corpus/TARGET from the seed
#                                      builders in the targets themselves
#
# Binaries are build/fuzz_TARGET (make fuzz builds them).  Each runs under
# "unshare -n" (root) or "unshare -rn": lo is its only interface, so what
# the daemon's code sends can't leave the machine.  A crash leaves its
# input in build/crash/TARGET-*, and the exit status is 1 once all targets
# ran.  The log of each run is build/TARGET.log.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
build="$dir/build"

mode=fuzz
case "${1:-}" in
--check)	mode=check; shift ;;
--seeds)	mode=seeds; shift ;;
esac
if [ "$mode" != seeds ]; then
	secs=${1:?usage: run.sh [--check] SECONDS TARGET...}
	shift
	# libFuzzer takes 0 as "forever"
	case "$secs" in
	''|*[!0-9]*|0)	echo "run.sh: SECONDS must be a positive number" >&2
			exit 2 ;;
	esac
fi
[ $# -gt 0 ] || { echo "run.sh: no targets" >&2; exit 2; }

if [ "$(id -u)" = 0 ]; then
	netns="unshare -n"
else
	netns="unshare -rn"
fi

# Largest inputs: the ring images of the virtio target are bigger
max_len() {
	case "$1" in
	virtio)	echo 16384 ;;
	*)	echo 4096 ;;
	esac
}

# Pick "field: value" out of libFuzzer's last status line
stat_of() {
	sed -n "s|.*[[:space:]]$1:[[:space:]]*\([^[:space:]]*\).*|\1|p" "$2" |
		tail -n 1
}

failed=0
mkdir -p "$build/crash"
[ "$mode" = seeds ] ||
	printf '%-11s %8s %10s %8s %7s %7s  %s\n' target seconds runs \
		exec/s cov: ft: result
for t in "$@"; do
	bin="$build/fuzz_$t"
	log="$build/$t.log"
	[ -x "$bin" ] || { echo "run.sh: $bin missing (make fuzz)" >&2; exit 2; }

	if [ "$mode" = seeds ]; then
		rm -rf "$dir/corpus/$t"
		FUZZ_SEED_DIR="$dir/corpus/$t" $netns "$bin"
		continue
	fi

	if [ "$mode" = check ]; then
		work="$build/check-$t"
		rm -rf "$work"
	else
		work="$build/corpus/$t"
	fi
	mkdir -p "$work"

	start=$(date +%s)
	rc=0
	$netns "$bin" -max_total_time="$secs" -timeout=30 \
		-max_len="$(max_len "$t")" -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$build/crash/$t-" \
		"$work" "$dir/corpus/$t" >"$log" 2>&1 || rc=$?
	end=$(date +%s)

	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ]; then
		result=ok
	else
		failed=1
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		      tail -n 1)
		why=$(grep -m 1 -E 'ERROR: |INVARIANT|daemon called' "$log" |
		      sed 's/^==[0-9]*== *//' | cut -c 1-100)
		result="CRASH: ${why:-exit status $rc} (${art:-no input saved})"
	fi
	printf '%-11s %8s %10s %8s %7s %7s  %s\n' "$t" $((end - start)) \
		"${runs:-?}" "$(stat_of exec/s "$log")" "$(stat_of cov "$log")" \
		"$(stat_of ft "$log")" "$result"
	if [ "$mode" = check ]; then
		rm -rf "$work"
	fi
done

if [ $failed -ne 0 ]; then
	echo "run.sh: some targets crashed: logs in $build/*.log"
	exit 1
fi
exit 0
