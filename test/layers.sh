#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# layers.sh - check that the daemon's includes run one way, and its size
#
# Reads the #include "..." lines of every .c and .h file in DIR (the
# daemon's sources: the top directory, not test/), and fails if
#  - the include graph has a cycle: two modules including each other,
#    directly or through others.  A module is a .c file and its .h (x.c
#    and x.h are one node, "x"), so a circle of calls shows even though
#    nobody includes a .c file: migrate.c including tcp_migrate.h, which
#    includes migrate.h, is the cycle migrate -> tcp_migrate -> migrate.
#    Each cycle is printed once, as a path, with the lines that make it;
#  - a .c file is over MAX_LINES lines (1,200).
# Headers we don't have (seccomp_allow.h, generated) are leaves.
#
# Usage: test/layers.sh [DIR]
# Output: one line per problem, then "layers: ok" or "layers: N problem(s)".
# Exit status: 0 if none, 1 otherwise.

set -u

DIR=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
MAX_LINES=1200

cd "$DIR" || exit 1
shopt -s nullglob
files=(*.c *.h)
if [ ${#files[@]} -eq 0 ]; then
	echo "layers: no .c or .h files in $DIR" >&2
	exit 1
fi

# "file included" pairs, then "=" lines with each file's length
{
	for f in "${files[@]}"; do
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
			"$f" | while read -r inc; do
			echo "$f $inc"
		done
	done
	for f in "${files[@]}"; do
		echo "= $f $(wc -l < "$f")"
	done
} | awk -v max="$MAX_LINES" '
	$1 == "=" {
		if ($2 ~ /\.c$/ && $3 > max) {
			printf "layers: %s is %d lines, over %d: split it\n",
			       $2, $3, max
			bad++
		}
		next
	}
	{
		from = $1; to = $2
		sub(/\.[ch]$/, "", from)
		sub(/\.[ch]$/, "", to)
		node[from] = 1
		node[to] = 1
		if (from == to || (from, to) in why)
			next
		why[from, to] = $1 " includes " $2
		n[from]++
		edge[from, n[from]] = to
	}

	# Depth-first search; a grey file met again closes a cycle
	function visit(f,    i, j, cyc, key, g, lines) {
		colour[f] = "grey"
		stack[++depth] = f
		for (i = 1; i <= n[f]; i++) {
			g = edge[f, i]
			if (colour[g] == "grey") {
				for (j = depth; stack[j] != g; j--)
					;
				cyc = ""
				lines = ""
				for (; j <= depth; j++) {
					cyc = cyc stack[j] " -> "
					lines = lines "; " why[stack[j], \
						(j < depth ? stack[j + 1] : g)]
				}
				cyc = cyc g
				key = canon(cyc)
				if (!(key in seen)) {
					seen[key] = 1
					printf "layers: include cycle: %s (%s)\n",
					       cyc, substr(lines, 3)
					bad++
				}
			} else if (colour[g] != "black") {
				visit(g)
			}
		}
		depth--
		colour[f] = "black"
	}

	# The same cycle found from another file: sorted members as its key
	function canon(cyc,    parts, k, m, i, j, t) {
		m = split(cyc, parts, " -> ") - 1
		for (i = 1; i <= m; i++)
			for (j = i + 1; j <= m; j++)
				if (parts[j] < parts[i]) {
					t = parts[i]; parts[i] = parts[j]; parts[j] = t
				}
		k = ""
		for (i = 1; i <= m; i++)
			k = k parts[i] " "
		return k
	}

	END {
		for (f in node)
			if (colour[f] == "")
				visit(f)
		if (bad) {
			printf "layers: %d problem(s)\n", bad
			exit 1
		}
		print "layers: ok"
	}
'
