// SPDX-License-Identifier: GPL-2.0-or-later
/* ramp.c - byte-exact TCP streams for the migration tests (guest side)
 *
 * DOC: Theory of operation
 *
 * Byte i of every stream is ramp_byte(i) = (i * 7 + i / 251) & 0xff: a
 * pattern of period 64256 bytes (251 * 256), so that a lost, repeated or
 * reordered segment of any size up to that shows as a mismatch at a known
 * offset, and the byte count catches the rest.  test/l4host.py has the
 * host-side twin of every mode.  Built statically by test/mkguest.sh and
 * installed as /usr/bin/ramp in the test guest (busybox has no such tool).
 *
 * Modes (ADDR: an IPv4 or IPv6 address; output: one line per event on
 * stdout, unbuffered; exit status 0 only if everything was as expected):
 *   ramp [-t SECS] send ADDR PORT BYTES KIBPS [STOPFILE]
 *	connect, send BYTES of the ramp at KIBPS KiB/s (0: as fast as the
 *	connection takes them), or fewer if STOPFILE appears (looked for
 *	every STOP_EVERY bytes), shut down the write side, wait for the
 *	peer's EOF; prints "sent N"
 *   ramp [-t SECS] recv PORT BYTES [COUNT]
 *	listen on PORT (IPv4 and IPv6), print "listening"; then COUNT times
 *	(default 1) accept a connection, print "accepted", check every byte
 *	to EOF, print "ok N", or the first mismatch: "mismatch at OFF: got
 *	0xGG, want 0xWW", or "short N of M" (and stop there); BYTES 0: any
 *	number of bytes
 *   ramp [-t SECS] conns ADDR PORT N GOFILE
 *	open N connections to an echo server, each checked with a hello;
 *	print "open N"; wait until GOFILE exists; then on each, in turn, send
 *	a 1000-byte slice of the ramp (connection k: offset k * 1000) and
 *	check its echo, shut down the write side and wait for EOF; prints
 *	"ok N" or "bad B of N" after a line per failure (at most 5)
 *   ramp [-t SECS] half ADDR PORT SEND RECV
 *	connect, send SEND bytes of the ramp, shut down the write side, print
 *	"half-closed", then check RECV bytes of the ramp coming back, and EOF;
 *	prints "ok sent S got R eof"
 *
 * -t SECS bounds the whole run (default 120): then "timeout" and exit 2.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		16384		/* bytes per send() or recv() */
#define CONNS_MAX	16384		/* conns mode: most connections */
#define SLICE		1000		/* conns mode: bytes per connection */
#define STOP_EVERY	(1 << 20)	/* send mode: bytes between looks for
					 * the stop file */

static volatile sig_atomic_t timed_out;
static char where[32];		/* conns mode: "connection K: ", for errors */

/**
 * ramp_byte() - byte @i of every stream
 * @i:		offset in the stream
 *
 * Return: (i * 7 + i / 251) & 0xff
 */
static uint8_t ramp_byte(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/**
 * ramp_fill() - the ramp from offset @off into @buf
 * @buf:	buffer
 * @len:	bytes
 * @off:	stream offset of @buf[0]
 */
static void ramp_fill(uint8_t *buf, size_t len, uint64_t off)
{
	size_t j;

	for (j = 0; j < len; j++)
		buf[j] = ramp_byte(off + j);
}

/**
 * ramp_check() - compare @buf with the ramp at @off
 * @buf:	received bytes
 * @len:	bytes
 * @off:	stream offset of @buf[0]
 *
 * Return: index of the first mismatch, or @len if all match
 */
static size_t ramp_check(const uint8_t *buf, size_t len, uint64_t off)
{
	size_t j;

	for (j = 0; j < len; j++)
		if (buf[j] != ramp_byte(off + j))
			return j;
	return len;
}

/**
 * say() - one line on stdout, at once
 * @fmt:	printf() format
 */
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/**
 * on_alarm() - SIGALRM: note it; the blocked call returns EINTR
 * @sig:	unused
 */
static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/**
 * fail_errno() - report a failed call (or the timeout), exit
 * @what:	the call, and what we were doing
 * @done:	bytes moved so far
 */
static void fail_errno(const char *what, uint64_t done)
{
	if (timed_out) {
		say("%stimeout in %s after %llu bytes", where, what,
		    (unsigned long long)done);
		exit(2);
	}
	say("%s%s: %s after %llu bytes", where, what, strerror(errno),
	    (unsigned long long)done);
	exit(1);
}

/**
 * parse_u64() - a decimal argument, or exit
 * @s:		text
 *
 * Return: its value
 */
static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end) {
		say("bad number '%s'", s);
		exit(1);
	}
	return v;
}

/**
 * tcp_connect() - a TCP connection to ADDR:PORT
 * @addr:	IPv4 or IPv6 address, numeric
 * @port:	port, text
 *
 * Return: connected socket; exits on failure
 */
static int tcp_connect(const char *addr, const char *port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr *sa;
	socklen_t sl;
	int s;

	a4.sin_port = a6.sin6_port = htons((uint16_t)parse_u64(port));
	if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
		sa = (struct sockaddr *)&a4;
		sl = sizeof(a4);
	} else if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&a6;
		sl = sizeof(a6);
	} else {
		say("bad address '%s'", addr);
		exit(1);
	}
	s = socket(sa->sa_family, SOCK_STREAM, 0);
	if (s < 0)
		fail_errno("socket", 0);
	while (connect(s, sa, sl) < 0) {
		if (errno != EINTR || timed_out)
			fail_errno("connect", 0);
	}
	return s;
}

/**
 * send_all() - write all of @buf, or exit
 * @s:		socket
 * @buf:	bytes
 * @len:	length
 * @done:	stream bytes sent before, for the report
 */
static void send_all(int s, const uint8_t *buf, size_t len, uint64_t done)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(s, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			fail_errno("send", done + off);
		}
		off += (size_t)n;
	}
}

/**
 * recv_some() - one recv(), retried on a stray EINTR; exits on error
 * @s:		socket
 * @buf:	buffer
 * @len:	its size
 * @done:	stream bytes received before, for the report
 *
 * Return: bytes read, 0 at EOF
 */
static size_t recv_some(int s, uint8_t *buf, size_t len, uint64_t done)
{
	ssize_t n;

	for (;;) {
		n = recv(s, buf, len, 0);
		if (n >= 0)
			return (size_t)n;
		if (errno != EINTR || timed_out)
			fail_errno("recv", done);
	}
}

/**
 * wait_eof() - read until EOF, expecting nothing more
 * @s:		socket
 * @what:	for the report
 *
 * Return: 0 at EOF, -1 if data came (reported)
 */
static int wait_eof(int s, const char *what)
{
	uint8_t b[256];
	size_t n = recv_some(s, b, sizeof(b), 0);

	if (n) {
		say("%s: %zu unexpected bytes before EOF", what, n);
		return -1;
	}
	return 0;
}

/**
 * now_s() - CLOCK_MONOTONIC, seconds
 *
 * Return: seconds
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/**
 * pace() - sleep until @sent bytes are due at @rate bytes/s since @t0
 * @t0:		start, now_s()
 * @sent:	bytes sent
 * @rate:	bytes per second, 0 for no pacing
 */
static void pace(double t0, uint64_t sent, double rate)
{
	struct timespec ts;
	double ahead;

	if (rate <= 0)
		return;
	ahead = t0 + (double)sent / rate - now_s();
	if (ahead <= 0)
		return;
	ts.tv_sec = (time_t)ahead;
	ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
	if (nanosleep(&ts, NULL) < 0 && timed_out)
		fail_errno("sleep", sent);
}

/**
 * stopped() - true if the stop file exists, looked for each STOP_EVERY bytes
 * @stop:	path, or NULL for none
 * @sent:	bytes sent so far, a multiple of CHUNK
 *
 * Return: true if the sender is to stop here
 */
static int stopped(const char *stop, uint64_t sent)
{
	return stop && !(sent % STOP_EVERY) && !access(stop, F_OK);
}

/**
 * mode_send() - send BYTES of the ramp, paced or not; SHUT_WR; wait for EOF
 * @argv:	ADDR PORT BYTES KIBPS [STOPFILE]
 *
 * Return: exit status
 */
static int mode_send(char **argv)
{
	uint64_t total = parse_u64(argv[2]), sent = 0;
	double rate = (double)parse_u64(argv[3]) * 1024, t0;
	int s = tcp_connect(argv[0], argv[1]);
	uint8_t buf[CHUNK];
	size_t len;

	t0 = now_s();
	while (sent < total && !stopped(argv[4], sent)) {
		len = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
		ramp_fill(buf, len, sent);
		send_all(s, buf, len, sent);
		sent += len;
		pace(t0, sent, rate);
	}
	if (shutdown(s, SHUT_WR) < 0)
		fail_errno("shutdown", sent);
	if (wait_eof(s, "send"))
		return 1;
	say("sent %llu", (unsigned long long)sent);
	return 0;
}

/**
 * check_stream() - read @s to EOF checking the ramp; report a failure
 * @s:		socket
 * @total:	bytes expected, 0 for any number
 * @got:	bytes received, set
 *
 * Return: 0 if exactly @total bytes of the ramp came (or any number, for
 * 0), then EOF
 */
static int check_stream(int s, uint64_t total, uint64_t *got)
{
	uint8_t buf[CHUNK];
	size_t n, bad;

	*got = 0;
	while ((n = recv_some(s, buf, sizeof(buf), *got))) {
		bad = ramp_check(buf, n, *got);
		if (bad < n) {
			say("mismatch at %llu: got 0x%02x, want 0x%02x",
			    (unsigned long long)(*got + bad), buf[bad],
			    ramp_byte(*got + bad));
			return 1;
		}
		*got += n;
	}
	if (total && *got != total) {
		say("%s %llu of %llu", *got < total ? "short" : "long",
		    (unsigned long long)*got, (unsigned long long)total);
		return 1;
	}
	return 0;
}

/**
 * mode_recv() - listen, accept connections one by one, check each to EOF
 * @argv:	PORT BYTES [COUNT]
 *
 * Return: exit status
 */
static int mode_recv(char **argv)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_ANY_INIT };
	uint64_t total = parse_u64(argv[1]), k, count = 1, got;
	int l, s, one = 1, zero = 0, rc = 0;

	a.sin6_port = htons((uint16_t)parse_u64(argv[0]));
	l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		fail_errno("listen", 0);
	say("listening");
	if (argv[2])
		count = parse_u64(argv[2]);
	for (k = 0; k < count && !rc; k++) {
		while ((s = accept(l, NULL, NULL)) < 0) {
			if (errno != EINTR || timed_out)
				fail_errno("accept", 0);
		}
		say("accepted");
		rc = check_stream(s, total, &got);
		if (!rc)
			say("ok %llu", (unsigned long long)got);
		close(s);
	}
	close(l);
	return rc;
}

/**
 * echo_check() - send the slice of connection @k, check its echo
 * @s:		socket
 * @k:		connection number
 * @len:	bytes
 *
 * Return: 0 if the echo matched, -1 (reported) if not
 */
static int echo_check(int s, unsigned k, size_t len)
{
	uint8_t out[SLICE], in[SLICE];
	size_t got = 0, n;

	ramp_fill(out, len, (uint64_t)k * SLICE);
	send_all(s, out, len, 0);
	while (got < len) {
		n = recv_some(s, in + got, len - got, got);
		if (!n)
			break;
		got += n;
	}
	if (got == len && !memcmp(in, out, len))
		return 0;
	if (got < len)
		say("connection %u: echo %zu of %zu bytes, then EOF", k, got,
		    len);
	else
		say("connection %u: echo differs at byte %zu", k,
		    ramp_check(in, len, (uint64_t)k * SLICE));
	return -1;
}

/**
 * mode_conns() - many idle connections, used again once GOFILE exists
 * @argv:	ADDR PORT N GOFILE
 *
 * Return: exit status
 */
static int mode_conns(char **argv)
{
	uint64_t n = parse_u64(argv[2]);
	static int s[CONNS_MAX];
	unsigned k, bad = 0;

	if (!n || n > CONNS_MAX) {
		say("N must be 1 to %d", CONNS_MAX);
		return 1;
	}
	for (k = 0; k < n; k++) {
		snprintf(where, sizeof(where), "connection %u: ", k);
		s[k] = tcp_connect(argv[0], argv[1]);
		if (echo_check(s[k], k, 16))
			return 1;
	}
	say("open %u", k);
	while (access(argv[3], F_OK)) {
		if (usleep(50000) < 0 && timed_out)
			fail_errno("waiting for the go file", 0);
	}
	for (k = 0; k < n; k++) {
		snprintf(where, sizeof(where), "connection %u: ", k);
		if (echo_check(s[k], k, SLICE) ||
		    shutdown(s[k], SHUT_WR) || wait_eof(s[k], "conns")) {
			if (++bad <= 5)
				say("connection %u failed", k);
		}
		close(s[k]);
	}
	where[0] = '\0';
	if (bad) {
		say("bad %u of %u", bad, (unsigned)n);
		return 1;
	}
	say("ok %u", (unsigned)n);
	return 0;
}

/**
 * mode_half() - send, half-close, then check what comes back
 * @argv:	ADDR PORT SEND RECV
 *
 * Return: exit status
 */
static int mode_half(char **argv)
{
	uint64_t out = parse_u64(argv[2]), in = parse_u64(argv[3]);
	uint64_t sent = 0, got;
	int s = tcp_connect(argv[0], argv[1]), rc;
	uint8_t buf[CHUNK];
	size_t len;

	while (sent < out) {
		len = out - sent < CHUNK ? (size_t)(out - sent) : CHUNK;
		ramp_fill(buf, len, sent);
		send_all(s, buf, len, sent);
		sent += len;
	}
	if (shutdown(s, SHUT_WR) < 0)
		fail_errno("shutdown", sent);
	say("half-closed");
	rc = check_stream(s, in, &got);
	if (!rc)
		say("ok sent %llu got %llu eof", (unsigned long long)sent,
		    (unsigned long long)got);
	close(s);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned secs = 120;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		secs = (unsigned)parse_u64(argv[2]);
		argc -= 2;
		argv += 2;
	}
	sigaction(SIGALRM, &sa, NULL);		/* no SA_RESTART: EINTR */
	alarm(secs);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "send"))
		return mode_send(argv + 2);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "recv"))
		return mode_recv(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "conns"))
		return mode_conns(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "half"))
		return mode_half(argv + 2);
	fprintf(stderr, "usage: ramp [-t SECS] send ADDR PORT BYTES KIBPS "
		"[STOPFILE]\n"
		"       ramp [-t SECS] recv PORT BYTES [COUNT]\n"
		"       ramp [-t SECS] conns ADDR PORT N GOFILE\n"
		"       ramp [-t SECS] half ADDR PORT SEND RECV\n");
	return 1;
}
