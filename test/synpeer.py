#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""synpeer.py - host-side ends of handshakes held open across a migration

Run in the daemon's namespace by test/migrate_syn.sh.  Each mode writes
READY to REPORT.ready once set up, and its verdict to REPORT (replaced
atomically), one line: "ok ..." or what went wrong.

Modes:
  slow-server ADDR PORT REPORT RELEASE SECS
      A listener with an accept queue of one, filled at once by a
      connection of our own: the kernel drops every SYN to it, so a
      client's connect() stays in SYN_SENT.  Once the file RELEASE exists,
      the filler is accepted and closed, and the next connection (within
      SECS) is served: we send b"banner\\n", read to EOF (the client
      half-closes), answer b"ack " + data, close.  Report "ok
      after=T data=DATA" (T: seconds from RELEASE to the accept), and
      how many connections came beside the filler: "conns=N".
  client ADDR PORT REPORT TOKEN SECS
      Connect (the daemon accepts at once), send TOKEN and half-close,
      read to EOF for up to SECS; report "ok got=DATA", or the error.
"""

import os
import socket
import sys
import time


def report(path, text):
    """Write the verdict atomically"""
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def ready(path):
    """Say we are set up"""
    with open(path + ".ready", "w") as f:
        f.write("READY\n")


def family(addr):
    """Address family of a literal address"""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def read_eof(c, secs):
    """Everything until EOF, within secs"""
    c.settimeout(secs)
    data = b""
    while True:
        b = c.recv(4096)
        if not b:
            return data
        data += b


def mode_slow_server(addr, port, rep, release, secs):
    """Hold SYNs off until RELEASE exists, then serve one connection"""
    fam = family(addr)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(0)
    filler = socket.socket(fam, socket.SOCK_STREAM)
    filler.connect((addr, int(port)))
    time.sleep(0.1)
    ready(rep)
    while not os.path.exists(release):
        time.sleep(0.05)
    t0 = time.time()
    f, _ = ls.accept()
    f.close()
    filler.close()
    ls.settimeout(float(secs))
    try:
        c, _ = ls.accept()
    except OSError as e:
        report(rep, "no connection %s s after the release: %s" % (secs, e))
        return
    after = time.time() - t0
    try:
        c.sendall(b"banner\n")
        data = read_eof(c, float(secs))
        c.sendall(b"ack " + data)
        c.shutdown(socket.SHUT_WR)
        read_eof(c, 5)
    except OSError as e:
        report(rep, "connection failed: %s" % e)
        return
    c.close()
    ls.settimeout(1)
    conns = 1
    try:
        while True:
            ls.accept()[0].close()
            conns += 1
    except OSError:
        pass
    report(rep, "ok after=%.1f conns=%d data=%s" %
           (after, conns, data.decode(errors="replace").strip()))


def mode_client(addr, port, rep, token, secs):
    """Connect, send TOKEN, half-close, read the answer to EOF"""
    ready(rep)
    try:
        c = socket.create_connection((addr, int(port)), timeout=5)
        c.sendall(token.encode() + b"\n")
        c.shutdown(socket.SHUT_WR)
        data = read_eof(c, float(secs))
    except OSError as e:
        report(rep, "client: %s" % e)
        return
    report(rep, "ok got=%s" % data.decode(errors="replace").strip())


MODES = {"slow-server": mode_slow_server, "client": mode_client}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit("usage: synpeer.py MODE ARGS (see the source)")
    MODES[sys.argv[1]](*sys.argv[2:])
