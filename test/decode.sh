# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# decode.sh - saved device state streams, decoded (sourced by run.sh, group
# decode)
#
# Both daemons of a migration run with --state-copy DIR; the guest holds a
# TCP connection open to a host echo (127.0.0.1:10251, 192.0.2.2:10251
# for the guest) across it.  Then:
#  - the source saved save-PID-N.state, the target load-PID-N.state, both
#    mode 0600, byte for byte the same stream;
#  - passt-ctl decode prints both whole (exit 0), and lists the guest's
#    address and that connection, by its port;
#  - the connection still carries data on the target;
#  - a copy with one byte flipped in the TCP section's payload is refused,
#    exit 1, naming the offset where that section starts (a bad CRC: any
#    of its bytes may be the bad one), after printing the sections before
#    it; one with a byte of the magic flipped names that byte's offset.
#
# Uses from run.sh: run_test, fail, oneline; from migrate.sh: mig_boot,
# mig_prepare, mig_go; from tcp_udp.sh: tu_server.

DEC_PORT=10251
DEC_CTL=${PASST_CTL:-$(dirname "$PASST")/passt-ctl}

# dec_flip() - copy a file with one byte XORed with 0xff
# @1:	file
# @2:	offset
# @3:	copy
dec_flip() {
	cp "$1" "$3"
	printf "$(printf '\\%03o' $(( $(od -An -tu1 -j "$2" -N1 "$1") ^ 255 )))" |
		dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

# dec_check_copy() - decode a saved stream; it lists the connection
# @1:	file
dec_check_copy() {
	local out
	out=$("$DEC_CTL" decode "$1" 2>"$WORK/dec.err") ||
		fail "passt-ctl decode $(basename "$1"): $(oneline < "$WORK/dec.err")" ||
		return 1
	echo "$out" > "$1.txt"
	echo "$out" | grep -q '^  IPv4 192\.0\.2\.1/24, ' ||
		fail "$(basename "$1"): no guest lease 192.0.2.1/24 in: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -q "^  tcp [0-9]*: guest \[192\.0\.2\.1\]:[0-9]* <-> \[192\.0\.2\.2\]:$DEC_PORT, .*ESTABLISHED" ||
		fail "$(basename "$1"): no connection to port $DEC_PORT in: $(echo "$out" | oneline)" ||
		return 1
	echo "$out" | grep -q '^section 0 (end): ' ||
		fail "$(basename "$1"): no end marker in: $(echo "$out" | oneline)"
}

t_decode() {
	local dir=$WORK/state-copy save load out off want rep
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 1777 "$dir"		# the daemons run as nobody
	tu_server dec_keep.rep echo-keep 127.0.0.1 "$DEC_PORT" REP ||
		fail "host echo did not start" || return 1
	mig_boot decsrc repair --state-copy "$dir" || return 1
	out=$(guest_run -t 30 "$GUEST_FN
		gkill
		rm -f /tmp/go
		gbg conns ramp -t 60 conns 192.0.2.2 $DEC_PORT 1 /tmp/go
		gwait /tmp/conns '^open ' 20") ||
		fail "guest's connection: $(echo "$out" | oneline)" || return 1
	mig_prepare repair && mig_go || return 1

	# The connection carries on, on the target
	out=$(guest_run -t 30 "$GUEST_FN
		touch /tmp/go
		gwait /tmp/conns '^ok ' 20")
	[ "$(echo "$out" | tail -1)" = "ok 1" ] ||
		fail "connection after the migration: $(echo "$out" | oneline); host: $(cat "$WORK/dec_keep.rep")" ||
		return 1

	save=$(ls "$dir"/save-*.state 2>/dev/null)
	load=$(ls "$dir"/load-*.state 2>/dev/null)
	[ "$(echo "$save" | wc -w)" = 1 ] && [ "$(echo "$load" | wc -w)" = 1 ] ||
		fail "want one copy saved and one loaded, got: $(ls "$dir" | oneline)" ||
		return 1
	[ "$(stat -c %a "$save") $(stat -c %a "$load")" = "600 600" ] ||
		fail "copies have modes $(stat -c %a "$save") and $(stat -c %a "$load"), want 600" ||
		return 1
	cmp -s "$save" "$load" ||
		fail "the copies of the source and the target differ" || return 1
	dec_check_copy "$save" && dec_check_copy "$load" || return 1
	echo "# $(basename "$save"), $(stat -c %s "$save") bytes:" \
		"$(grep "^  tcp .*:$DEC_PORT, " "$save.txt")"

	# One byte flipped in the first connection's record: that section's CRC
	off=$(sed -n 's/^section 5 (TCP): offset \([0-9]*\),.*/\1/p' "$load.txt")
	[ -n "$off" ] || fail "no TCP section in: $(oneline < "$load.txt")" ||
		return 1
	dec_flip "$load" $((off + 12 + 4 + 20)) "$dir/bad.state"
	if out=$("$DEC_CTL" decode "$dir/bad.state" 2>"$WORK/dec.err"); then
		fail "a corrupted copy decoded: $(echo "$out" | oneline)"
		return 1
	fi
	want="passt-ctl: $dir/bad.state: offset $off: section 5: bad CRC"
	[[ $(cat "$WORK/dec.err") == "$want"* ]] ||
		fail "corrupted copy: '$(oneline < "$WORK/dec.err")', want '$want ...'" ||
		return 1
	echo "$out" | grep -q '^section 1 (guest): ' ||
		fail "corrupted copy: the sections before it not printed: $(echo "$out" | oneline)" ||
		return 1

	# One byte of the magic: that byte
	dec_flip "$load" 5 "$dir/bad.state"
	"$DEC_CTL" decode "$dir/bad.state" >/dev/null 2>"$WORK/dec.err" &&
		fail "a stream with a bad magic decoded" && return 1
	want="passt-ctl: $dir/bad.state: offset 5: not a passt state stream (bad magic)"
	[ "$(cat "$WORK/dec.err")" = "$want" ] ||
		fail "bad magic: '$(oneline < "$WORK/dec.err")', want '$want'" ||
		return 1
	rep=$(cat "$WORK/dec_keep.rep")
	[[ $rep == "open=0 peak=1 closed=1 "* ]] ||
		fail "host echo: '$rep', want the one connection closed at its EOF"
}

decode_tests() {
	run_test "state copies of both daemons decode, list the connection; a flipped byte is refused at its offset" \
		t_decode
	qemu_stop
	mig_target_stop
	lib_kill "$REPAIR_PID"
	daemon_stop
}
