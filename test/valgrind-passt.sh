#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# valgrind-passt.sh - the daemon under valgrind memcheck, for test/run.sh
#
# Use as PASST=test/valgrind-passt.sh: runs passt.valgrind (the daemon whose
# seccomp filter also allows what valgrind needs) with the same arguments,
# one valgrind log per process in $VG_LOGS (default test/.work/valgrind).
# test/valgrind-check.sh reads them afterwards: any error fails the run.
here=$(cd "$(dirname "$0")" && pwd)
logs=${VG_LOGS:-$here/.work/valgrind}
mkdir -p "$logs"
exec valgrind -q --vgdb=no --log-file="$logs/passt.%p.vg" --track-fds=no \
	--leak-check=no --error-exitcode=99 "$here/../passt.valgrind" "$@"
