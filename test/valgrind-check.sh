#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# valgrind-check.sh - the basic integration tests with the daemon under
# valgrind memcheck; fails if the tests fail or valgrind reported any error
set -u
here=$(cd "$(dirname "$0")" && pwd)
VG_LOGS=$here/.work/valgrind.$$
export VG_LOGS
rm -rf "$VG_LOGS"
mkdir -p "$VG_LOGS"
chmod 1777 "$VG_LOGS"	# the daemon writes its logs as nobody
rc=0
PASST=$here/valgrind-passt.sh ONLY=basic "$here/run.sh" || rc=1
n=$(ls "$VG_LOGS"/*.vg 2>/dev/null | wc -l)
# valgrind -q writes nothing but errors, and its note on the seccomp(2)
# system call it doesn't know (libseccomp falls back to prctl())
errs=$(cat "$VG_LOGS"/*.vg 2>/dev/null | grep -v -e 'unhandled amd64-linux syscall: 317' \
	-e 'You may be able to write your own handler' \
	-e 'README_MISSING_SYSCALL_OR_IOCTL' -e 'Nevertheless we consider this a bug' \
	-e 'bug_reports.html' -e 'could not unlink .*vgdb-pipe' | grep -c '==[0-9]*==')
echo "# valgrind: $n daemon processes, $errs lines of errors"
if [ "$errs" -gt 0 ]; then
	cat "$VG_LOGS"/*.vg | head -60 | sed 's/^/# /'
	rc=1
fi
[ "$n" -gt 0 ] || { echo "# valgrind: no daemon ran under valgrind"; rc=1; }
[ $rc -ne 0 ] || rm -rf "$VG_LOGS"
echo "valgrind integration: $([ $rc -eq 0 ] && echo passed || echo failed)"
exit $rc
