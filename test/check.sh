#!/bin/sh
# check.sh - install what is missing, build, and run the whole test suite:
# unit tests (also under valgrind), then the QEMU integration tests
set -eu
cd "$(dirname "$0")/.."
sh test/setup.sh >/dev/null
make -j2 all
make check
