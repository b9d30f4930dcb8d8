// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the decoder of saved device state streams (mig_decode.c,
 * passt-ctl decode) and the frame walk it shares with the daemon's reader
 * (mig_stream.c).
 *
 * Streams come from the daemon's own save code: migrate_build() of a
 * context with a guest, a UDP flow and a ping flow (real sockets on the
 * loopback of a network namespace of our own), and a TCP section whose
 * record tcp_mig_rec_put() encodes.  The decoder must print what they
 * hold, and refuse every truncation and every flipped byte at the offset
 * doc/migration.md and mig_stream.c promise, exactly when the daemon's
 * reader, migrate_parse(), refuses them.
 */

/* WRAP: logmsg */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctx.h"
#include "flow.h"
#include "udp.h"
#include "icmp.h"
#include "migrate.h"
#include "mig_decode.h"
#include "mig_buf.h"
#include "mig_wire.h"
#include "tcp_conn.h"
#include "tcp_mig_wire.h"
#include "common.h"

static struct ctx c;
static struct mig_buf b;		/* stream under test */
static struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
static char *text;			/* what the decoder printed */
static uint16_t sport;			/* UDP peer's port */

void __wrap_logmsg(int pri, const char *fmt, ...) PRINTF(2, 3);
void __wrap_logmsg(int pri, const char *fmt, ...)
{
	(void)pri;
	(void)fmt;
}

static uint32_t get32(const uint8_t *p)
{
	__be32 be;

	memcpy(&be, p, sizeof(be));
	return ntohl(be);
}

/* Decode @len bytes of @p into text; return the result, @s filled */
static int decode(const uint8_t *p, size_t len, struct mig_stream *s)
{
	size_t size;
	FILE *f;
	int rc;

	free(text);
	text = NULL;
	f = open_memstream(&text, &size);
	assert_non_null(f);
	rc = mig_decode(p, len, f, s);
	assert_int_equal(fclose(f), 0);
	return rc;
}

static void assert_printed(const char *needle)
{
	if (!strstr(text, needle)) {
		print_error("no '%s' in:\n%s\n", needle, text);
		fail();
	}
}

static int setup(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	(void)state;
	memset(&c, 0, sizeof(c));
	c.mtu = 65520;
	c.v4 = c.v6 = true;
	c.ip4.addr = c.ip4.addr_seen = a4("192.0.2.2");
	c.ip4.prefix_len = 24;
	c.ip4.gw = a4("192.0.2.1");
	c.ip6.addr = c.ip6.addr_seen = a6("2001:db8::2");
	c.ip6.prefix_len = 64;
	c.ip6.addr_ll_seen = a6("fe80::2");
	c.ip6.gw = a6("2001:db8::1");
	c.ip6.our_ll = a6("fe80::1");
	memcpy(c.guest_mac, mac, sizeof(mac));
	c.guest_mac_set = true;
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	flow_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	udp_mig_release(&c);
	icmp_mig_release(&c);
	flow_defer_handler();
	mig_buf_free(&b);
	close(c.epollfd);
	free(text);
	text = NULL;
	return 0;
}

/* A UDP peer on 127.0.0.1; sport set */
static int server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	sport = ntohs(sa.sin_port);
	return fd;
}

/* The guest's datagram from port 5555 to its gateway, port sport */
static void guest_udp(void)
{
	union inany_addr g, gw;
	uint8_t buf[sizeof(struct udphdr) + 3];
	struct udphdr uh = { .source = htons(5555), .dest = htons(sport),
			     .len = htons(sizeof(buf)) };

	inany_from_v4(&g, c.ip4.addr);
	inany_from_v4(&gw, c.ip4.gw);
	memcpy(buf, &uh, sizeof(uh));
	memcpy(buf + sizeof(uh), "one", 3);
	assert_int_equal(udp_tap_handler(&c, &g, &gw, buf, sizeof(buf)), 0);
}

/* The guest's echo request to its gateway, identifier 0x5151 */
static void guest_ping(void)
{
	union inany_addr g, gw;
	struct icmphdr ih = { .type = ICMP_ECHO };
	uint8_t buf[sizeof(ih) + 8] = { 0 };

	inany_from_v4(&g, c.ip4.addr);
	inany_from_v4(&gw, c.ip4.gw);
	ih.un.echo.id = htons(0x5151);
	ih.un.echo.sequence = htons(7);
	memcpy(buf, &ih, sizeof(ih));
	assert_int_equal(icmp_tap_handler(&c, &g, &gw, buf, sizeof(buf)), 0);
}

/* b: a stream of ours, from migrate_build(), with one UDP and one ping
 * flow; the UDP peer's socket is returned
 */
static int build_stream(void)
{
	int s = server();

	guest_udp();
	guest_ping();
	mig_buf_free(&b);
	assert_int_equal(migrate_build(&c, &b), 0);
	return s;
}

/* An IPv4-mapped address */
static void mapped(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, s, a + 12), 1);
}

/* b: a version 2 stream with one established TCP connection, its record
 * encoded by tcp_mig_rec_put(), 3 bytes in its send queue and 2 in its
 * receive queue
 */
static void build_tcp_stream(void)
{
	struct mig_hdr h = { htobe64(MIGRATE_MAGIC), htonl(2), htonl(2) };
	struct mig_buf p = { 0 };
	struct mig_tcp_conn r = { 0 };
	struct mig_tcp_rec w;
	__be32 n = htonl(1);

	mapped(r.gaddr, "10.0.2.15");
	mapped(r.faddr, "10.0.2.2");
	mapped(r.laddr, "127.0.0.1");
	mapped(r.raddr, "127.0.0.1");
	r.gport = htons(40000);
	r.fport = htons(8080);
	r.lport = htons(41000);
	r.rport = htons(8080);
	r.state = CS_ESTABLISHED;
	r.ws_guest = 7;
	r.mss = htons(1460);
	r.mss_host = htonl(65483);
	r.seq_to_guest = htonl(1000);
	r.seq_acked = htonl(990);
	r.seq_max = htonl(1000);
	r.seq_from_guest = htonl(5000);
	r.wnd_from_guest = htonl(65536);
	r.wnd_to_guest = htonl(32768);
	r.sndq_len = htonl(3);
	r.sndq_unsent = htonl(1);
	r.rcvq_len = htonl(2);

	tcp_mig_addrs_reset();
	assert_int_equal(tcp_mig_rec_put(&r, &w), 0);
	assert_int_equal(mig_buf_put(&p, &n, sizeof(n)), 0);
	assert_int_equal(mig_buf_put(&p, &w, sizeof(w)), 0);
	assert_int_equal(mig_buf_put(&p, "abcde", 5), 0);
	assert_int_equal(tcp_mig_addrs_put(&p), 0);

	mig_buf_free(&b);
	assert_int_equal(mig_buf_put(&b, &h, sizeof(h)), 0);
	sec_put(&b, MIG_SEC_TCP2, p.p, p.len);
	sec_put(&b, MIG_SEC_END, NULL, 0);
	mig_buf_free(&p);
}

/* ---------------------------------------------------------------- */
/* Tests: what is printed                                            */
/* ---------------------------------------------------------------- */

static void test_decode_built_stream(void **state)
{
	struct mig_stream s;
	char want[128];
	int fd;

	(void)state;
	fd = build_stream();
	assert_int_equal(decode(b.p, b.len, &s), 0);

	assert_printed("passt state stream: version 2, oldest reader 2\n");
	assert_printed("section 1 (guest): offset 16, 68 bytes, CRC ok\n");
	assert_printed("  MAC 52:54:00:12:34:56 (known), IPv4 on, IPv6 on\n");
	assert_printed("  IPv4 192.0.2.2/24, seen 192.0.2.2\n");
	assert_printed("  IPv6 2001:db8::2/64, seen 2001:db8::2, "
		       "link-local fe80::2\n");
	assert_printed("section 5 (TCP): offset 96, 8 bytes, CRC ok\n"
		       "  0 connections, 0 addresses\n");
	snprintf(want, sizeof(want), "  udp 0: own socket, guest "
		 "[192.0.2.2]:5555 <-> [192.0.2.1]:%u, host ", sport);
	assert_printed(want);
	snprintf(want, sizeof(want), "<-> [127.0.0.1]:%u\n", sport);
	assert_printed(want);
	assert_printed("  icmp 0: guest 192.0.2.2 -> 192.0.2.1, id 20817, ");
	assert_printed(", last seq 7\n");
	snprintf(want, sizeof(want), "section 0 (end): offset %zu, 0 bytes, "
		 "CRC ok\n4 sections, %zu bytes\n", b.len - 12, b.len);
	assert_printed(want);
	close(fd);
}

static void test_decode_tcp_connection(void **state)
{
	struct mig_stream s;

	(void)state;
	build_tcp_stream();
	assert_int_equal(decode(b.p, b.len, &s), 0);
	assert_printed("  1 connections, 3 addresses\n");
	assert_printed("  tcp 0: guest [10.0.2.15]:40000 <-> [10.0.2.2]:8080, "
		       "host [127.0.0.1]:41000 <-> [127.0.0.1]:8080, "
		       "ESTABLISHED, flags 0x0, fin 0x0\n");
	assert_printed("    to guest: next 1000, unacked 990, max 1000, fin 0; "
		       "from guest: next 5000; windows: guest's 65536, "
		       "ours 32768, scale 7, MSS 1460\n");
	assert_printed("    host: send queue 3 bytes (1 unsent) from 0, "
		       "receive queue 2 bytes from 0, MSS 65483");
}

static void test_decode_unknown_section_skipped(void **state)
{
	static const uint8_t any[4] = { 1, 2, 3, 4 };
	struct mig_stream s;
	size_t at;

	(void)state;
	build_tcp_stream();
	at = b.len - 12;		/* the end marker goes after it */
	b.len = at;
	sec_put(&b, 99, any, sizeof(any));
	sec_put(&b, MIG_SEC_END, NULL, 0);

	assert_int_equal(decode(b.p, b.len, &s), 0);
	assert_int_equal(migrate_parse(&c, b.p, b.len, refs), 2);
	{
		char want[96];

		snprintf(want, sizeof(want), "section 99 (unknown): offset %zu,"
			 " 4 bytes, CRC ok, skipped\n", at);
		assert_printed(want);
	}
}

/* ---------------------------------------------------------------- */
/* Tests: refused streams                                            */
/* ---------------------------------------------------------------- */

/* Section boundaries of b, from the documented layout */
static size_t sec_start[MIGRATE_SECTIONS_MAX], sec_end[MIGRATE_SECTIONS_MAX];
static unsigned nsec;

static void layout(void)
{
	size_t off = 16;

	for (nsec = 0; off < b.len; nsec++) {
		sec_start[nsec] = off;
		off += 12 + get32(b.p + off + 4);
		sec_end[nsec] = off;
	}
	assert_int_equal(off, b.len);
}

/* Index of the section holding byte @off of b */
static unsigned sec_of(size_t off)
{
	unsigned k;

	for (k = 0; k < nsec; k++) {
		if (off >= sec_start[k] && off < sec_end[k])
			return k;
	}
	fail();
	return 0;
}

/* Every length short of the whole: refused where the stream is cut, or at
 * the length field that runs past the end; the daemon refuses too
 */
static void truncated_every_length(void)
{
	struct mig_stream s;
	size_t len, want;

	layout();
	for (len = 0; len < b.len; len++) {
		assert_int_equal(decode(b.p, len, &s), -EINVAL);
		assert_true(migrate_parse(&c, b.p, len, refs) < 0);
		if (len < 16) {
			want = len;
		} else {
			unsigned k = sec_of(len);

			want = len - sec_start[k] < 12 ? len :
							 sec_start[k] + 4;
		}
		if (s.bad != want)
			print_error("length %zu: bad %zu, want %zu (%s)\n",
				    len, s.bad, want, s.why);
		assert_int_equal(s.bad, want);
		if (len >= 16)
			assert_printed("passt state stream: version 2");
	}
}

static void test_decode_truncated_every_length(void **state)
{
	int fd;

	(void)state;
	fd = build_stream();
	truncated_every_length();
	close(fd);
	build_tcp_stream();
	truncated_every_length();
}

/* Flip @mask at every offset: refused at the flipped byte (magic, oldest
 * reader, a length running past the end) or at the start of its section
 * (bad CRC); a newer version number is read as ours, as the daemon does
 */
static void flipped_every_offset(uint8_t mask)
{
	struct mig_stream s;
	size_t i;

	layout();
	for (i = 0; i < b.len; i++) {
		int rc, daemon;

		b.p[i] ^= mask;
		rc = decode(b.p, b.len, &s);
		daemon = migrate_parse(&c, b.p, b.len, refs);
		b.p[i] ^= mask;

		if (i >= 8 && i < 12) {		/* version: now above 2 */
			assert_int_equal(rc, 0);
			assert_true(daemon >= 0);
			assert_printed(", read as version 2\n");
			continue;
		}
		assert_true(rc < 0);
		assert_true(daemon < 0);
		if (i < 8) {
			assert_int_equal(s.bad, i);
		} else if (i < 16) {
			assert_int_equal(s.bad, 12);
		} else {
			unsigned k = sec_of(i);

			if (i >= sec_start[k] + 4 && i < sec_start[k] + 8 &&
			    s.bad == sec_start[k] + 4)
				continue;	/* length past the end */
			if (s.bad != sec_start[k])
				print_error("offset %zu: bad %zu (%s)\n", i,
					    s.bad, s.why);
			assert_int_equal(s.bad, sec_start[k]);
			assert_non_null(strstr(s.why, "bad CRC"));
		}
	}
}

static void test_decode_flipped_byte_every_offset(void **state)
{
	int fd;

	(void)state;
	fd = build_stream();
	flipped_every_offset(0x01);
	flipped_every_offset(0x80);
	close(fd);
	build_tcp_stream();
	flipped_every_offset(0x01);
	flipped_every_offset(0x80);
}

/* A payload with a right CRC that the section's own checks refuse: at the
 * start of that section, what came before printed
 */
static void test_decode_section_check_refuses(void **state)
{
	struct mig_hdr h = { htobe64(MIGRATE_MAGIC), htonl(2), htonl(2) };
	struct mig_guest g = { .prefix4 = 33 };
	struct mig_stream s;
	size_t at;

	(void)state;
	build_tcp_stream();
	at = b.len - 12;
	b.len = at;
	sec_put(&b, MIG_SEC_GUEST, &g, sizeof(g));
	sec_put(&b, MIG_SEC_END, NULL, 0);

	assert_int_equal(decode(b.p, b.len, &s), -EINVAL);
	assert_true(migrate_parse(&c, b.p, b.len, refs) < 0);
	assert_int_equal(s.bad, at);
	assert_string_equal(s.why, "section 1: guest state refused: "
			    "Invalid argument");
	assert_printed("  tcp 0: guest [10.0.2.15]:40000");

	/* The same section twice, both valid: the second one is refused */
	g.prefix4 = 24;
	mig_buf_free(&b);
	assert_int_equal(mig_buf_put(&b, &h, sizeof(h)), 0);
	sec_put(&b, MIG_SEC_GUEST, &g, sizeof(g));
	at = b.len;
	sec_put(&b, MIG_SEC_GUEST, &g, sizeof(g));
	sec_put(&b, MIG_SEC_END, NULL, 0);
	assert_int_equal(decode(b.p, b.len, &s), -EINVAL);
	assert_true(migrate_parse(&c, b.p, b.len, refs) < 0);
	assert_int_equal(s.bad, at);
	assert_string_equal(s.why, "section 1: twice in the stream");
}

/* Bytes after the end marker: the first of them is the bad one */
static void test_decode_after_end_marker(void **state)
{
	struct mig_stream s;
	size_t len;

	(void)state;
	build_tcp_stream();
	len = b.len;
	assert_int_equal(mig_buf_put(&b, "x", 1), 0);
	assert_int_equal(decode(b.p, b.len, &s), -EINVAL);
	assert_int_equal(s.bad, len);
	assert_string_equal(s.why, "1 bytes after the end marker");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_decode_built_stream),
		T(test_decode_tcp_connection),
		T(test_decode_unknown_section_skipped),
		T(test_decode_truncated_every_length),
		T(test_decode_flipped_byte_every_offset),
		T(test_decode_section_check_refuses),
		T(test_decode_after_end_marker),
#undef T
	};

	netns_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
