#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""dgram_peer.py - host-side ends of test/migrate_flows.sh: UDP and ping

Each mode runs until killed (the test's teardown does it), writes LOG as
it goes, one line per event, times in wall-clock seconds (the shell's
EPOCHREALTIME, as now() in lib.sh), and LOG.ready once it is set up.

Modes:
  echo ADDR PORT LOG
      UDP: answer every datagram, to its sender, with b"ack WORD\n" for
      each word in it; log "T SRCPORT WORD" per word
  ask ADDR PORT LOG
      UDP client, one unconnected socket: send b"q<N>" every 0.1 s to
      ADDR PORT (N counts from 0); log "s T N" per datagram sent and
      "r T SRCADDR SRCPORT DATA" per answer
  icmpcap LOG
      A raw ICMP socket: log "T ID SEQ" per echo request (type 8) the
      namespace receives
"""

import select
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def out(log, line):
    log.write("%.6f %s\n" % (time.time(), line))
    log.flush()


def ready(path):
    with open(path + ".ready", "w") as f:
        f.write("READY\n")


def mode_echo(addr, port, path):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    log = open(path, "w")
    ready(path)
    while True:
        try:
            data, peer = s.recvfrom(65535)
        except OSError:
            continue        # an ICMP error for an earlier answer
        lines = data.split()    # the guest's socat may send several
        for line in lines:
            out(log, "%d %s" % (peer[1], line.decode(errors="replace")))
        try:
            s.sendto(b"".join(b"ack " + x + b"\n" for x in lines), peer)
        except OSError:
            pass


def mode_ask(addr, port, path):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind(("::" if ":" in addr else "0.0.0.0", 0))
    log = open(path, "w")
    ready(path)
    n = 0
    nxt = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= nxt:
            try:
                s.sendto(b"q%d" % n, (addr, int(port)))
                out(log, "s %d" % n)
            except OSError as e:
                out(log, "e %d %s" % (n, e.strerror))
            n += 1
            nxt += 0.1
            continue
        r, _, _ = select.select([s], [], [], nxt - now)
        if not r:
            continue
        try:
            data, peer = s.recvfrom(65535)
        except OSError:
            continue
        out(log, "r %s %d %s" % (peer[0], peer[1],
                                 data.decode(errors="replace").strip()))


def mode_icmpcap(path):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    log = open(path, "w")
    ready(path)
    while True:
        pkt = s.recv(65535)
        ihl = (pkt[0] & 0x0f) * 4
        if len(pkt) < ihl + 8:
            continue
        typ, _, _, ident, seq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
        if typ == 8:
            out(log, "%d %d" % (ident, seq))


MODES = {"echo": mode_echo, "ask": mode_ask, "icmpcap": mode_icmpcap}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit("usage: dgram_peer.py echo|ask|icmpcap ARGS...")
    MODES[sys.argv[1]](*sys.argv[2:])
