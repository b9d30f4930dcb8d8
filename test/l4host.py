#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""l4host.py - host-side TCP and UDP ends for the integration tests

Runs in the daemon's network namespace (test/tcp_udp.sh starts it with
ip netns exec).  Each mode is one small server or client; servers write
READY to a file once they listen, and their findings to a report file,
replaced atomically, so the shell never reads half a report.

Modes (ADDR is 127.0.0.1 or ::1, the loopback the gateway maps to):
  sink ADDR PORT REPORT [COUNT]
      TCP: accept COUNT connections one after the other (default 1), read
      each to EOF; report one line per connection: "SHA256 BYTES PEER"
  echo ADDR PORT REPORT N HOLD
      TCP: accept connections; read each to EOF (the client half-closes),
      then answer b"ack " + data and close.  Answers are held until N
      connections are open at once (or HOLD seconds passed since the first
      one), so N flows are really open together; report
      "peak=P served=S bad=B"
  reset ADDR PORT REPORT
      TCP: accept one connection and read from it without sending; report
      how it ended: "ECONNRESET SECS" or "EOF SECS", SECS since accept
  udp-echo ADDR PORT [REPORT]
      UDP: answer every datagram with b"host:" + data, forever (REPORT:
      only its READY file)
  udp-sink ADDR PORT REPORT SECS
      UDP: count datagrams and bytes for SECS seconds after the first
      one; report "PACKETS BYTES SECONDS"
  udp-send ADDR PORT SIZE SECS
      UDP: send SIZE-byte datagrams as fast as possible for SECS seconds;
      print "PACKETS"
  udp-ask ADDR PORT HEXPAYLOAD
      UDP client: send the payload (retried 3 times, 2 s apart), print the
      first answer as hex; exit 1 if none
  tcp-ask ADDR PORT HEXPAYLOAD
      TCP client: send the payload, shut down the write side, print what
      comes back until EOF, as hex
"""

import errno
import hashlib
import os
import selectors
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def report(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def ready(path):
    report(path + ".ready", "READY\n")


def listener(addr, port, kind=socket.SOCK_STREAM):
    s = socket.socket(family(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM:
        s.listen(512)
    return s


def mode_sink(addr, port, rep, count="1"):
    s = listener(addr, int(port))
    ready(rep)
    lines = []
    for _ in range(int(count)):
        c, peer = s.accept()
        h = hashlib.sha256()
        n = 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        c.close()
        lines.append("%s %d %s\n" % (h.hexdigest(), n, peer[0]))
        report(rep, "".join(lines))


def mode_echo(addr, port, rep, want, hold):
    want, hold = int(want), float(hold)
    s = listener(addr, int(port))
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ, None)
    conns = {}          # socket -> [data, eof]
    peak = served = bad = 0
    first = None
    releasing = False
    ready(rep)
    while True:
        if first is not None and not releasing:
            if len(conns) >= want or time.monotonic() - first > hold:
                releasing = True
        if releasing:
            for c, st in list(conns.items()):
                if st[1]:
                    try:
                        c.setblocking(True)
                        c.sendall(b"ack " + st[0])
                        served += 1
                    except OSError:
                        bad += 1
                    c.close()
                    del conns[c]
            if not conns:
                releasing = False
                first = None
            report(rep, "peak=%d served=%d bad=%d\n" % (peak, served, bad))
        for key, _ in sel.select(timeout=0.1):
            if key.data is None:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                conns[c] = [b"", False]
                sel.register(c, selectors.EVENT_READ, 1)
                if first is None:
                    first = time.monotonic()
                peak = max(peak, len(conns))
                continue
            c = key.fileobj
            try:
                b = c.recv(65536)
            except OSError:
                b = None
            if b:
                conns[c][0] += b
                continue
            if b is None:
                bad += 1
                sel.unregister(c)
                c.close()
                del conns[c]
                continue
            conns[c][1] = True
            sel.unregister(c)


def mode_reset(addr, port, rep):
    s = listener(addr, int(port))
    ready(rep)
    c, _ = s.accept()
    t0 = time.monotonic()
    how = "EOF"
    try:
        while c.recv(65536):
            pass
    except ConnectionResetError:
        how = "ECONNRESET"
    except OSError as e:
        how = errno.errorcode.get(e.errno, str(e.errno))
    report(rep, "%s %.2f\n" % (how, time.monotonic() - t0))


def mode_udp_echo(addr, port, rep=None):
    s = listener(addr, int(port), socket.SOCK_DGRAM)
    if rep:
        ready(rep)
    while True:
        b, peer = s.recvfrom(65536)
        s.sendto(b"host:" + b, peer)


def mode_udp_sink(addr, port, rep, secs):
    s = listener(addr, int(port), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
    ready(rep)
    s.recv(65536)
    n, nbytes = 1, 0
    t0 = time.monotonic()
    end = t0 + float(secs)
    s.settimeout(0.2)
    while time.monotonic() < end:
        try:
            nbytes += len(s.recv(65536))
            n += 1
        except socket.timeout:
            pass
    report(rep, "%d %d %.3f\n" % (n, nbytes, time.monotonic() - t0))


def mode_udp_send(addr, port, size, secs):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    payload = b"x" * int(size)
    end = time.monotonic() + float(secs)
    n = 0
    while time.monotonic() < end:
        for _ in range(64):
            try:
                s.send(payload)
                n += 1
            except OSError:
                pass
    print(n)


def mode_udp_ask(addr, port, hexp):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    s.settimeout(2)
    for _ in range(3):
        s.send(bytes.fromhex(hexp))
        try:
            print(s.recv(65536).hex())
            return 0
        except (socket.timeout, ConnectionRefusedError):
            continue
    return 1


def mode_tcp_ask(addr, port, hexp):
    s = socket.create_connection((addr, int(port)), timeout=20)
    s.sendall(bytes.fromhex(hexp))
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    print(out.hex())
    return 0


MODES = {
    "sink": mode_sink, "echo": mode_echo, "reset": mode_reset,
    "udp-echo": mode_udp_echo, "udp-sink": mode_udp_sink,
    "udp-send": mode_udp_send, "udp-ask": mode_udp_ask,
    "tcp-ask": mode_tcp_ask,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    sys.exit(MODES[sys.argv[1]](*sys.argv[2:]) or 0)
