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

Ramp modes, twins of test/guest/ramp.c: byte i of a stream is
(i * 7 + i / 251) & 0xff.  Times are wall-clock seconds (the shell's
EPOCHREALTIME), GAP the longest wait between two recv() or send() calls
that moved data, in milliseconds: how long the stream stalled.
  ramp-sink ADDR PORT REPORT BYTES
      TCP: accept one connection, check every byte to EOF; report
      "ok N first=T last=T gap=MS peer=P", or "mismatch at OFF: got 0xGG,
      want 0xWW (N bytes) ...", or "short N of BYTES ...", or what error
      ended it ("timed out": nothing came for RAMP_IDLE seconds); BYTES
      0: any number of bytes
  ramp-send ADDR PORT BYTES KIBPS [STOPFILE]
      TCP client: send BYTES of the ramp at KIBPS KiB/s (0: as fast as
      the connection takes them), or fewer if STOPFILE appears (looked
      for every RAMP_STOP_EVERY bytes), shut down the write side, wait
      for EOF; print "sent N first=T last=T gap=MS", or "send: ERROR
      after N bytes" and exit 1
  echo-keep ADDR PORT REPORT
      TCP: echo every byte at once, on any number of connections; close
      one at its EOF; report "open=O peak=P closed=C bytes=B bad=X"
  half-send ADDR PORT REPORT BYTES KIBPS
      TCP: accept one connection, read it to EOF (the peer half-closes),
      checking the ramp; then send BYTES of the ramp at KIBPS KiB/s, shut
      down, and expect EOF (not a reset); report "in=N out=M eof
      first=T last=T gap=MS" (send times), or what went wrong
"""

import errno
import hashlib
import os
import resource
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


RAMP_IDLE = 30      # seconds a ramp stream may stall before we give up
RAMP_PERIOD = 251 * 256
RAMP_CHUNK = 1 << 16
RAMP_STOP_EVERY = 1 << 20   # ramp-send: bytes between looks for STOPFILE
# Three periods: any slice of up to RAMP_CHUNK bytes from offset < period
RAMP = bytes((i * 7 + i // 251) & 0xff for i in range(3 * RAMP_PERIOD))


def ramp_at(off, n):
    o = off % RAMP_PERIOD
    return RAMP[o:o + n]


class Gap:
    """Longest interval between two events, in milliseconds"""

    def __init__(self):
        self.first = self.last = None
        self.gap = 0.0

    def tick(self):
        t = time.time()
        if self.first is None:
            self.first = t
        else:
            self.gap = max(self.gap, t - self.last)
        self.last = t

    def __str__(self):
        return "first=%.3f last=%.3f gap=%.0f" % (
            self.first or 0, self.last or 0, self.gap * 1000)


def ramp_recv(c, total):
    """Read c to EOF checking the ramp: (error text or None, bytes, Gap)"""
    got, g = 0, Gap()
    c.settimeout(RAMP_IDLE)
    while True:
        try:
            b = c.recv(RAMP_CHUNK)
        except OSError as e:
            return "%s after %d bytes" % (e.strerror or e, got), got, g
        if not b:
            break
        g.tick()
        if b != ramp_at(got, len(b)):
            want = ramp_at(got, len(b))
            i = next(j for j in range(len(b)) if b[j] != want[j])
            return ("mismatch at %d: got 0x%02x, want 0x%02x (%d bytes)" %
                    (got + i, b[i], want[i], got + len(b))), got, g
        got += len(b)
    if total and got != total:
        return "%s %d of %d" % ("short" if got < total else "long", got,
                                total), got, g
    return None, got, g


def ramp_send(c, total, kibps, stop=None):
    """Send total bytes of the ramp at kibps KiB/s (0: unpaced), fewer if
    the file stop appears: (error or None, bytes sent, Gap)"""
    rate, sent, g = kibps * 1024.0, 0, Gap()
    c.settimeout(RAMP_IDLE)
    t0 = time.monotonic()
    while sent < total:
        if stop and not sent % RAMP_STOP_EVERY and os.path.exists(stop):
            break
        n = min(16384, total - sent)
        try:
            c.sendall(ramp_at(sent, n))
        except OSError as e:
            return "%s after %d bytes" % (e.strerror or e, sent), sent, g
        g.tick()
        sent += n
        if not rate:
            continue
        ahead = t0 + sent / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    return None, sent, g


def mode_ramp_sink(addr, port, rep, total):
    s = listener(addr, int(port))
    ready(rep)
    c, peer = s.accept()
    err, got, g = ramp_recv(c, int(total))
    c.close()
    report(rep, "%s %s peer=%s\n" % (err or "ok %d" % got, g, peer[0]))


def mode_ramp_send(addr, port, total, kibps, stop=None):
    s = socket.create_connection((addr, int(port)), timeout=RAMP_IDLE)
    err, sent, g = ramp_send(s, int(total), float(kibps), stop)
    try:
        if not err:
            s.shutdown(socket.SHUT_WR)
            if s.recv(1):
                err = "data before EOF"
    except OSError as e:
        err = "waiting for EOF: %s" % (e.strerror or e)
    if err:
        print("send: %s %s" % (err, g))
        return 1
    print("sent %d %s" % (sent, g))
    return 0


def mode_echo_keep(addr, port, rep):
    # A thousand connections and more: one descriptor each
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    s = listener(addr, int(port))
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ, None)
    st = {"open": 0, "peak": 0, "closed": 0, "bytes": 0, "bad": 0}

    def say():
        report(rep, " ".join("%s=%d" % kv for kv in st.items()) + "\n")

    ready(rep)
    say()
    while True:
        changed = False
        for key, _ in sel.select():
            if key.data is None:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    continue
                c.setblocking(True)
                sel.register(c, selectors.EVENT_READ, 1)
                st["open"] += 1
                st["peak"] = max(st["peak"], st["open"])
                changed = True
                continue
            c = key.fileobj
            try:
                b = c.recv(65536)
                if b:
                    c.sendall(b)
                    st["bytes"] += len(b)
                    continue
                st["closed"] += 1
            except OSError:
                st["bad"] += 1
            sel.unregister(c)
            c.close()
            st["open"] -= 1
            changed = True
        if changed:
            say()


def mode_half_send(addr, port, rep, total, kibps):
    s = listener(addr, int(port))
    ready(rep)
    c, _ = s.accept()
    err, got, _ = ramp_recv(c, None)
    if err:
        report(rep, "in: %s\n" % err)
        return 1
    report(rep + ".eof", "%.3f\n" % time.time())
    err, _, g = ramp_send(c, int(total), float(kibps))
    if err:
        report(rep, "in=%d out: %s %s\n" % (got, err, g))
        return 1
    try:
        c.shutdown(socket.SHUT_WR)
        # A reset from the peer once it has read our FIN would show here
        time.sleep(0.5)
        end = "eof" if not c.recv(1) else "data after EOF"
    except OSError as e:
        end = "after our FIN: %s" % (e.strerror or e)
    c.close()
    report(rep, "in=%d out=%d %s %s\n" % (got, int(total), end, g))
    return 0


MODES = {
    "sink": mode_sink, "echo": mode_echo, "reset": mode_reset,
    "udp-echo": mode_udp_echo, "udp-sink": mode_udp_sink,
    "udp-send": mode_udp_send, "udp-ask": mode_udp_ask,
    "tcp-ask": mode_tcp_ask, "ramp-sink": mode_ramp_sink,
    "ramp-send": mode_ramp_send, "echo-keep": mode_echo_keep,
    "half-send": mode_half_send,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    sys.exit(MODES[sys.argv[1]](*sys.argv[2:]) or 0)
