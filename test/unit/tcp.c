// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/tcp.c - TCP: sequence arithmetic, options, and real sockets
 *
 * The first tests are pure: sequence numbers across the 2^32 wrap against
 * a 64-bit reference, and option parsing on hostile input.
 *
 * The rest play the guest against real loopback sockets in this process.
 * tap_send_l4() is wrapped (-Wl,--wrap=tap_send_l4): each segment the
 * daemon would send to the guest has its checksum checked and is either
 * kept (cap[]) or, in bulk mode, consumed at once by a small "guest" that
 * checks the byte stream.  Segments from the guest are built here and fed
 * to tcp_tap_handler(); host socket events are pumped with epoll_wait()
 * and dispatched like the main loop does, flow_defer_handler() after each
 * batch.  The clock (c.now) is ours, so retransmission timeouts are
 * tested without waiting.
 */

/* WRAP: tap_send_l4 setsockopt */

#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctx.h"
#include "vu_dev.h"
#include "checksum.h"
#include "flow.h"
#include "tap_out.h"
#include "tcp.h"
#include "tcp_guest.h"
#include "tcp_listen.h"
#include "fwd.h"
#include "tcp_seq.h"
#include "common.h"

static char spec[32], err[FWD_ERR_LEN];	/* port specs parsed */

#define CAP_MAX		64
#define CAP_LEN		65536

/**
 * struct cap - A segment the daemon sent to the guest
 */
struct cap {
	union inany_addr src, dst;
	size_t len;
	uint8_t b[CAP_LEN];
};

/**
 * struct guest - Our fake guest's side of one connection
 */
struct guest {
	union inany_addr gaddr, faddr;
	uint16_t gport, fport;
	uint32_t snd_nxt, snd_una, rcv_nxt;
	uint32_t peer_wnd;		/* scaled */
	unsigned peer_ws, peer_mss;
	unsigned my_ws;
	uint16_t my_wnd;		/* unscaled, 0: 65535 */
	/* bulk receive: expected stream, counted */
	uint64_t rcvd;
	bool bad_stream;
	bool fin_rcvd;
};

static struct ctx c;
static struct cap cap[CAP_MAX];
static unsigned ncap;
static int send_rc;			/* what the wrapped send returns */
static struct guest *bulk;		/* consume segments for this guest */
static long long clock_offset_ms;	/* added to the real clock */
static bool count_fins;			/* don't keep: count FINs */
static bool no_peek_off;		/* SO_PEEK_OFF fails, as on old kernels */
static unsigned nfin;

/* ---------------------------------------------------------------- */
/* Harness                                                           */
/* ---------------------------------------------------------------- */

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 11) + (i >> 19));
}

static void bulk_consume(const uint8_t *seg, size_t len)
{
	struct tcp_hdr h;
	uint32_t seq;
	size_t doff, plen, skip, i;

	memcpy(&h, seg, sizeof(h));
	doff = (size_t)(h.doff >> 4) * 4;
	plen = len - doff;
	seq = ntohl(h.seq);

	if (h.flags & TCP_F_ACK) {
		uint32_t ack = ntohl(h.ack);

		if (seq_gt(ack, bulk->snd_una))
			bulk->snd_una = ack;
		bulk->peer_wnd = (uint32_t)ntohs(h.wnd) << bulk->peer_ws;
	}
	if (seq_gt(seq, bulk->rcv_nxt))
		return;				/* gap: dropped */
	skip = (size_t)(bulk->rcv_nxt - seq);
	if (skip > plen)
		return;
	for (i = skip; i < plen; i++) {
		if (seg[doff + i] != pattern(bulk->rcvd + i - skip))
			bulk->bad_stream = true;
	}
	bulk->rcvd += plen - skip;
	bulk->rcv_nxt += (uint32_t)(plen - skip);
	if ((h.flags & TCP_F_FIN) && skip <= plen) {
		bulk->rcv_nxt++;
		bulk->fin_rcvd = true;
	}
}

/* Test double: check the segment, keep or consume it */
int __wrap_tap_send_l4(struct ctx *cc, const union inany_addr *src,
		       const union inany_addr *dst, uint8_t proto,
		       const struct iovec *l4, size_t cnt)
{
	static uint8_t buf[CAP_LEN];
	size_t len = iov_size(l4, cnt);
	struct iovec iov = { buf, len };

	(void)cc;
	if (send_rc)
		return send_rc;
	assert_int_equal(proto, IPPROTO_TCP);
	assert_true(len <= CAP_LEN);
	iov_to_buf(l4, cnt, 0, buf, len);
	assert_int_equal(csum_l4(src, dst, IPPROTO_TCP, &iov, 1), 0);

	if (bulk) {
		bulk_consume(buf, len);
		return 0;
	}
	if (count_fins) {
		nfin += !!(buf[13] & TCP_F_FIN);
		return 0;
	}
	assert_true(ncap < CAP_MAX);
	cap[ncap].src = *src;
	cap[ncap].dst = *dst;
	cap[ncap].len = len;
	memcpy(cap[ncap].b, buf, len);
	ncap++;
	return 0;
}

int __real_setsockopt(int fd, int level, int name, const void *v,
		       socklen_t len);

/* Test double: optionally a kernel without SO_PEEK_OFF for TCP */
int __wrap_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len)
{
	if (no_peek_off && level == SOL_SOCKET && name == SO_PEEK_OFF) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return __real_setsockopt(fd, level, name, v, len);
}

static void set_now(void)
{
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	c.now.tv_sec += clock_offset_ms / 1000;
	c.now.tv_nsec += (clock_offset_ms % 1000) * 1000000;
	if (c.now.tv_nsec >= 1000000000) {
		c.now.tv_sec++;
		c.now.tv_nsec -= 1000000000;
	}
}

/* One batch of events, as the main loop does it */
static int pump(int timeout_ms)
{
	struct epoll_event ev[64];
	int n, i;

	n = epoll_wait(c.epollfd, ev, 64, timeout_ms);
	set_now();
	for (i = 0; i < n; i++) {
		union evtag tag = { .u64 = ev[i].data.u64 };

		if (tag.kind == EV_TCP)
			tcp_sock_handler(&c, tag, ev[i].events);
		else if (tag.kind == EV_TCP_LISTEN)
			tcp_listen_handler(&c, tag, ev[i].events);
	}
	flow_defer_handler();
	return n;
}

/* Pump until at least @want segments are captured, or time out */
static void pump_for(unsigned want)
{
	int i;

	for (i = 0; i < 200 && ncap < want; i++)
		pump(10);
}

static int setup(void **state)
{
	static struct vu_dev vdev;	/* no features: every sum computed */

	(void)state;
	memset(&c, 0, sizeof(c));
	c.vdev = &vdev;
	c.v4 = c.v6 = true;
	c.mtu = 1500;
	inet_pton(AF_INET, "10.0.2.15", &c.ip4.addr);
	inet_pton(AF_INET, "10.0.2.2", &c.ip4.gw);
	inet_pton(AF_INET6, "2001:db8::15", &c.ip6.addr);
	inet_pton(AF_INET6, "2001:db8::2", &c.ip6.gw);
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);
	log_set_level(getenv("TCP_TEST_DEBUG") ? LOG_TRACE : LOG_ERR);
	log_set_stderr(true);
	log_set_syslog(false);
	flow_init();
	assert_int_equal(tcp_init(&c), 0);
	ncap = 0;
	nfin = 0;
	count_fins = false;
	no_peek_off = false;
	send_rc = 0;
	bulk = NULL;
	clock_offset_ms = 0;
	set_now();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(c.epollfd);
	return 0;
}

/* A listening socket on loopback, port chosen by the kernel */
static int server(int af, uint16_t *port)
{
	struct sockaddr_storage sa = { 0 };
	socklen_t sl;
	int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(fd, 256), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port :
				      ((struct sockaddr_in6 *)&sa)->sin6_port);
	return fd;
}

/* Send a segment as the guest; returns tcp_tap_handler()'s result */
static int g_send(struct guest *g, uint8_t flags, const void *data,
		  size_t len, const uint8_t *opts, size_t olen)
{
	static uint8_t b[CAP_LEN];
	struct tcp_hdr h = { 0 };
	struct iovec iov;
	int rc;

	h.sport = htons(g->gport);
	h.dport = htons(g->fport);
	h.seq = htonl(g->snd_nxt);
	h.ack = (flags & TCP_F_ACK) ? htonl(g->rcv_nxt) : 0;
	h.doff = (uint8_t)(((sizeof(h) + olen) / 4) << 4);
	h.flags = flags;
	h.wnd = htons(g->my_wnd ? g->my_wnd : 65535);
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), opts, olen);
	memcpy(b + sizeof(h) + olen, data, len);
	iov = (struct iovec){ b, sizeof(h) + olen + len };
	h.csum = csum_l4(&g->gaddr, &g->faddr, IPPROTO_TCP, &iov, 1);
	memcpy(b + offsetof(struct tcp_hdr, csum), &h.csum, 2);

	rc = tcp_tap_handler(&c, &g->gaddr, &g->faddr, b, iov.iov_len);
	g->snd_nxt += (uint32_t)len + !!(flags & TCP_F_SYN) +
		      !!(flags & TCP_F_FIN);
	return rc;
}

/* Header of captured segment @i, with payload pointer and length */
static struct tcp_hdr cap_hdr(unsigned i, const uint8_t **data, size_t *len)
{
	struct tcp_hdr h;
	size_t doff;

	assert_true(i < ncap);
	memcpy(&h, cap[i].b, sizeof(h));
	doff = (size_t)(h.doff >> 4) * 4;
	assert_true(doff >= 20 && doff <= cap[i].len);
	if (data)
		*data = cap[i].b + doff;
	if (len)
		*len = cap[i].len - doff;
	return h;
}

static void guest_init(struct guest *g, bool v6, uint16_t gport,
		       uint16_t fport)
{
	memset(g, 0, sizeof(*g));
	if (v6) {
		g->gaddr = any6("2001:db8::15");
		g->faddr = any6("::1");
	} else {
		g->gaddr = any4("10.0.2.15");
		g->faddr = any4("10.0.2.2");	/* gateway: host loopback */
	}
	g->gport = gport;
	g->fport = fport;
	g->snd_nxt = g->snd_una = 0xfffffff8;	/* wraps soon */
	g->my_ws = 7;
}

/* Guest connects to the server through the daemon; returns accepted fd */
static int g_connect(struct guest *g, int lfd)
{
	static const uint8_t opts[8] = { TCP_OPT_MSS, 4, 0x05, 0xb4,
					 TCP_OPT_NOP, TCP_OPT_WS, 3, 7 };
	const uint8_t *d;
	struct tcp_hdr h;
	struct tcp_opts o;
	int fd;

	ncap = 0;
	assert_int_equal(g_send(g, TCP_F_SYN, NULL, 0, opts, 8), 0);
	pump_for(1);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, &d, NULL);
	assert_int_equal(h.flags, TCP_F_SYN | TCP_F_ACK);
	assert_int_equal(ntohl(h.ack), g->snd_nxt);
	assert_true(inany_equals(&cap[0].src, &g->faddr));
	assert_true(inany_equals(&cap[0].dst, &g->gaddr));
	assert_int_equal(ntohs(h.sport), g->fport);
	assert_int_equal(ntohs(h.dport), g->gport);
	assert_int_equal(tcp_opts_parse(cap[0].b + 20, (h.doff >> 4) * 4 - 20,
					&o), 0);
	assert_true(o.mss > 0 && o.ws >= 0);
	g->peer_mss = o.mss;
	g->peer_ws = (unsigned)o.ws;
	g->peer_wnd = ntohs(h.wnd);
	g->rcv_nxt = ntohl(h.seq) + 1;
	g->snd_una = g->snd_nxt;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	ncap = 0;
	assert_int_equal(g_send(g, TCP_F_ACK, NULL, 0, NULL, 0), 0);
	return fd;
}

/* ---------------------------------------------------------------- */
/* Sequence arithmetic                                               */
/* ---------------------------------------------------------------- */

static void test_tcp_seq_wraparound(void **state)
{
	(void)state;
	assert_true(seq_lt(0xfffffff0, 0x10));
	assert_true(seq_gt(0x10, 0xfffffff0));
	assert_true(seq_le(0xffffffff, 0));
	assert_true(seq_ge(0, 0xffffffff));
	assert_false(seq_lt(5, 5));
	assert_true(seq_le(5, 5));
	assert_int_equal(seq_diff(0x10, 0xfffffff0), 0x20);
	assert_int_equal(seq_diff(0xfffffff0, 0x10), -0x20);
	assert_true(seq_in(2, 0xfffffffe, 8));
	assert_false(seq_in(6, 0xfffffffe, 8));
	assert_false(seq_in(0xfffffffd, 0xfffffffe, 8));
	/* Window arithmetic across the wrap, and a shrunk window */
	assert_int_equal(wnd_avail(100, 0xffffffd0, 0x10), 36);
	assert_int_equal(wnd_avail(100, 0xffffffd0, 0x40), 0);
	assert_int_equal(wnd_avail(0, 5, 5), 0);
}

static void test_tcp_seq_random_vs_reference(void **state)
{
	unsigned i;

	(void)state;
	srand(1);
	for (i = 0; i < 100000; i++) {
		uint64_t base = ((uint64_t)rand() << 16) ^ (uint64_t)rand();
		int64_t d = (int64_t)(rand() % 0x7fffffff) - 0x3fffffff;
		uint32_t a = (uint32_t)base, b = (uint32_t)(base + d);

		/* b is d after a on the unwrapped line */
		assert_int_equal(seq_diff(b, a), d);
		assert_int_equal(seq_lt(a, b), d > 0);
		assert_int_equal(seq_le(a, b), d >= 0);
		assert_int_equal(seq_gt(a, b), d < 0);
	}
}

/* ---------------------------------------------------------------- */
/* Option parsing                                                    */
/* ---------------------------------------------------------------- */

static void test_tcp_opts_good(void **state)
{
	const uint8_t o1[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0 };
	struct tcp_opts o;

	(void)state;
	assert_int_equal(tcp_opts_parse(o1, sizeof(o1), &o), 0);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.ws, 7);

	assert_int_equal(tcp_opts_parse(o1, 0, &o), 0);
	assert_int_equal(o.mss, 0);
	assert_int_equal(o.ws, -1);
}

static void test_tcp_opts_hostile(void **state)
{
	const uint8_t trunc_len[] = { 1, 1, 1, 2 };		/* no length */
	const uint8_t trunc_body[] = { 2, 4, 0x05 };		/* MSS cut */
	const uint8_t zero_len[] = { 30, 0, 2, 4, 5, 0xb4 };	/* loops? */
	const uint8_t one_len[] = { 30, 1, 2, 4, 5, 0xb4 };
	const uint8_t mss_len3[] = { 2, 3, 9, 3, 3, 20, 0, 0 }; /* bad MSS */
	const uint8_t mss_len5[] = { 2, 5, 9, 9, 9, 0, 0, 0 };
	const uint8_t tiny_mss[] = { 2, 4, 0, 1 };
	const uint8_t past_end[] = { 2, 40, 0, 0 };
	const uint8_t after_eol[] = { 0, 2, 4, 5, 0xb4 };
	struct tcp_opts o;

	(void)state;
	assert_int_equal(tcp_opts_parse(trunc_len, sizeof(trunc_len), &o),
			 -EINVAL);
	assert_int_equal(tcp_opts_parse(trunc_body, sizeof(trunc_body), &o),
			 -EINVAL);
	assert_int_equal(o.mss, 0);
	assert_int_equal(tcp_opts_parse(zero_len, sizeof(zero_len), &o),
			 -EINVAL);
	assert_int_equal(tcp_opts_parse(one_len, sizeof(one_len), &o),
			 -EINVAL);
	assert_int_equal(tcp_opts_parse(past_end, sizeof(past_end), &o),
			 -EINVAL);

	/* Wrong lengths for known kinds: skipped, and what follows parsed;
	 * window scale over 14 is taken as 14 */
	assert_int_equal(tcp_opts_parse(mss_len3, sizeof(mss_len3), &o), 0);
	assert_int_equal(o.mss, 0);
	assert_int_equal(o.ws, TCP_WS_MAX);
	assert_int_equal(tcp_opts_parse(mss_len5, sizeof(mss_len5), &o), 0);
	assert_int_equal(o.mss, 0);

	assert_int_equal(tcp_opts_parse(tiny_mss, sizeof(tiny_mss), &o), 0);
	assert_int_equal(o.mss, TCP_MSS_MIN);

	assert_int_equal(tcp_opts_parse(after_eol, sizeof(after_eol), &o), 0);
	assert_int_equal(o.mss, 0);
}

/* ---------------------------------------------------------------- */
/* Headers the daemon must not trust                                 */
/* ---------------------------------------------------------------- */

static void test_tcp_bad_headers(void **state)
{
	union inany_addr g, f;
	uint8_t b[64] = { 0 };
	uint64_t before = tcp_stats()->bad_hdr;

	(void)state;
	g = any4("10.0.2.15");
	f = any4("10.0.2.2");
	b[1] = 80;
	b[3] = 80;		/* ports */

	assert_int_equal(tcp_tap_handler(&c, &g, &f, b, 19), -EINVAL);
	b[12] = 4 << 4;		/* data offset 4: below 5 */
	assert_int_equal(tcp_tap_handler(&c, &g, &f, b, 40), -EINVAL);
	b[12] = 15 << 4;	/* 60 bytes: past the segment */
	assert_int_equal(tcp_tap_handler(&c, &g, &f, b, 40), -EINVAL);
	b[12] = 5 << 4;
	b[1] = 0;		/* source port 0 */
	assert_int_equal(tcp_tap_handler(&c, &g, &f, b, 40), -EINVAL);
	assert_int_equal(tcp_stats()->bad_hdr, before + 4);

	/* SYN with garbage options: still parsed safely (table untouched) */
	b[1] = 80;
	b[12] = 15 << 4;
	b[13] = TCP_F_SYN | TCP_F_ACK;	/* not a plain SYN: RST */
	memset(b + 20, 0x02, 40);
	assert_int_equal(tcp_tap_handler(&c, &g, &f, b, 60), -ENOENT);
	assert_int_equal(ncap, 1);
	assert_int_equal(flow_stats()->active, 0);
}

/* ---------------------------------------------------------------- */
/* Real sockets                                                      */
/* ---------------------------------------------------------------- */

static void outbound_data_both_ways(bool v6)
{
	struct guest g;
	const uint8_t *d;
	struct tcp_hdr h;
	char buf[64];
	uint16_t port;
	size_t len;
	int lfd, fd;

	lfd = server(v6 ? AF_INET6 : AF_INET, &port);
	guest_init(&g, v6, 40000, port);
	fd = g_connect(&g, lfd);
	assert_int_equal(flow_stats()->active, 1);

	/* Guest to server: data crosses the sequence wrap */
	assert_int_equal(g_send(&g, TCP_F_ACK | TCP_F_PSH, "hello, world",
				12, NULL, 0), 0);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(h.flags, TCP_F_ACK);
	assert_int_equal(ntohl(h.ack), g.snd_nxt);
	assert_true(seq_lt(0xfffffff0, ntohl(h.ack)) && ntohl(h.ack) < 16);
	assert_int_equal(read(fd, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "hello, world", 12);

	/* Server to guest */
	ncap = 0;
	assert_int_equal(write(fd, "pong", 4), 4);
	pump_for(1);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, &d, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(d, "pong", 4);
	assert_int_equal(ntohl(h.seq), g.rcv_nxt);
	g.rcv_nxt += 4;

	/* Server closes: FIN after the data; guest acks and closes too */
	ncap = 0;
	assert_int_equal(g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0), 0);
	shutdown(fd, SHUT_WR);
	pump_for(1);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_true(h.flags & TCP_F_FIN);
	assert_int_equal(ntohl(h.seq), g.rcv_nxt);
	g.rcv_nxt++;
	ncap = 0;
	assert_int_equal(g_send(&g, TCP_F_ACK | TCP_F_FIN, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(ncap, 1);		/* ACK of the guest's FIN */
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(ntohl(h.ack), g.snd_nxt);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);	/* EOF */
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);

	close(fd);
	close(lfd);
}

/* A batch of data segments from the guest (one pass over its TX queue)
 * gets one ACK per connection for all of them, at the end of the batch,
 * with everything written to the sockets, a FIN included
 */
static void test_tcp_batch_one_ack(void **state)
{
	static char chunk[1000], buf[20000];
	struct guest g, g2;
	struct tcp_hdr h;
	uint16_t port;
	int lfd, fd, fd2, i;
	size_t got = 0;
	ssize_t n;

	(void)state;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40010, port);
	fd = g_connect(&g, lfd);
	guest_init(&g2, false, 40011, port);
	fd2 = g_connect(&g2, lfd);

	memset(chunk, 'b', sizeof(chunk));
	ncap = 0;
	tcp_guest_batch(&c, true);
	for (i = 0; i < 16; i++)
		assert_int_equal(g_send(&g, TCP_F_ACK, chunk, sizeof(chunk),
					NULL, 0), 0);
	assert_int_equal(g_send(&g2, TCP_F_ACK | TCP_F_FIN, "bye", 3,
				NULL, 0), 0);
	assert_int_equal(ncap, 0);		/* nothing yet: */
	tcp_guest_batch(&c, false);
	assert_int_equal(ncap, 2);		/* one ACK each */
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(ntohl(h.ack), g.snd_nxt);	/* all 16 */
	assert_int_equal(ntohs(h.dport), 40010);
	h = cap_hdr(1, NULL, NULL);
	assert_int_equal(ntohl(h.ack), g2.snd_nxt);	/* data and FIN */

	while (got < 16 * sizeof(chunk) &&
	       (n = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	assert_int_equal(got, 16 * sizeof(chunk));
	assert_int_equal(read(fd2, buf, sizeof(buf)), 3);
	assert_int_equal(read(fd2, buf, sizeof(buf)), 0);	/* the FIN */

	close(fd);
	close(fd2);
	close(lfd);
}

static void test_tcp_outbound_v4(void **state)
{
	(void)state;
	outbound_data_both_ways(false);
}

static void test_tcp_outbound_v6(void **state)
{
	(void)state;
	outbound_data_both_ways(true);
}

/* The host socket's window clamp follows the guest's window: twice it, a
 * power of two, at least 256 KiB; down only when four times too large
 */
static int clamp_of(void)
{
	int idx = flow_next(FLOW_TCP, -1), v = 0;
	socklen_t sl = sizeof(v);

	assert_true(idx >= 0);
	assert_int_equal(getsockopt(tcp_conn_at((unsigned)idx)->fd,
				    IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, &sl), 0);
	return v;
}

static void test_tcp_window_clamp_follows_guest(void **state)
{
	struct guest g;
	uint16_t port;
	int lfd, fd;

	(void)state;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40030, port);
	fd = g_connect(&g, lfd);		/* window 65535 << 7: 8 MiB */
	assert_int_equal(clamp_of(), 16 << 20);

	g.my_wnd = 256;				/* 32 KiB: the least clamp */
	assert_int_equal(g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0), 0);
	assert_int_equal(clamp_of(), 256 << 10);

	g.my_wnd = 8192;			/* 1 MiB: up to 2 MiB */
	assert_int_equal(g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0), 0);
	assert_int_equal(clamp_of(), 2 << 20);

	g.my_wnd = 4096;			/* 512 KiB wants 1 MiB: kept */
	assert_int_equal(g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0), 0);
	assert_int_equal(clamp_of(), 2 << 20);

	g.my_wnd = 1024;			/* 128 KiB wants 256 KiB: 8x less */
	assert_int_equal(g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0), 0);
	assert_int_equal(clamp_of(), 256 << 10);

	tcp_conn_drop(&c, (unsigned)flow_next(FLOW_TCP, -1));
	flow_defer_handler();
	close(fd);
	close(lfd);
}

static void test_tcp_refused_port_rst(void **state)
{
	struct guest g;
	struct tcp_hdr h;
	uint16_t port;
	int lfd;

	(void)state;
	lfd = server(AF_INET, &port);
	close(lfd);			/* nobody listens there now */
	guest_init(&g, false, 40001, port);
	ncap = 0;
	g_send(&g, TCP_F_SYN, NULL, 0, NULL, 0);
	pump_for(1);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(h.flags, TCP_F_RST | TCP_F_ACK);
	assert_int_equal(ntohl(h.ack), g.snd_nxt);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
}

static void test_tcp_unknown_flow_rst(void **state)
{
	struct guest g;
	struct tcp_hdr h;

	(void)state;
	guest_init(&g, false, 40002, 9);
	g.rcv_nxt = 12345;
	assert_int_equal(g_send(&g, TCP_F_ACK, "x", 1, NULL, 0), -ENOENT);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(h.flags, TCP_F_RST);
	assert_int_equal(ntohl(h.seq), 12345);

	/* Never a RST for a RST */
	ncap = 0;
	assert_int_equal(g_send(&g, TCP_F_RST, NULL, 0, NULL, 0), -ENOENT);
	assert_int_equal(ncap, 0);
	assert_int_equal(tcp_stats()->no_flow, 1);
}

static void test_tcp_out_of_window_dup_ack(void **state)
{
	struct guest g;
	struct tcp_hdr h;
	uint16_t port;
	char buf[8];
	int lfd, fd;
	uint32_t nxt;

	(void)state;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40003, port);
	fd = g_connect(&g, lfd);

	nxt = g.snd_nxt;
	g.snd_nxt += 1000;		/* a gap: as if a segment was lost */
	assert_int_equal(g_send(&g, TCP_F_ACK, "late", 4, NULL, 0), 0);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(ntohl(h.ack), nxt);	/* duplicate ACK */
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);

	/* An ACK for data never sent: dropped, duplicate ACK */
	ncap = 0;
	g.snd_nxt = nxt;
	g.rcv_nxt += 5000;
	assert_int_equal(g_send(&g, TCP_F_ACK, "x", 1, NULL, 0), -EINVAL);
	assert_int_equal(ncap, 1);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);

	close(fd);
	close(lfd);
}

static void test_tcp_guest_rst_resets_host(void **state)
{
	struct guest g;
	uint16_t port;
	char buf[8];
	int lfd, fd;

	(void)state;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40004, port);
	fd = g_connect(&g, lfd);
	assert_int_equal(g_send(&g, TCP_F_RST, NULL, 0, NULL, 0), 0);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	close(fd);
	close(lfd);
}

static void test_tcp_retransmit_then_give_up(void **state)
{
	struct guest g;
	const uint8_t *d;
	struct tcp_hdr h;
	uint16_t port;
	char buf[8];
	int lfd, fd, i;
	size_t len;

	(void)state;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40005, port);
	fd = g_connect(&g, lfd);
	assert_int_equal(write(fd, "abc", 3), 3);
	pump_for(1);
	assert_int_equal(ncap, 1);

	/* No ACK: after the timeout the same bytes come again */
	ncap = 0;
	tcp_timer(&c);
	assert_int_equal(ncap, 0);
	clock_offset_ms += 1100;
	set_now();
	tcp_timer(&c);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, &d, &len);
	assert_int_equal(ntohl(h.seq), g.rcv_nxt);
	assert_int_equal(len, 3);
	assert_memory_equal(d, "abc", 3);
	assert_int_equal(tcp_stats()->retrans, 1);

	/* Acknowledged: the kernel drops them, nothing more is sent */
	g.rcv_nxt += 3;
	ncap = 0;
	g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0);
	clock_offset_ms += 5000;
	set_now();
	tcp_timer(&c);
	assert_int_equal(ncap, 0);

	/* More data, never acknowledged: RST both ways in the end */
	assert_int_equal(write(fd, "def", 3), 3);
	pump_for(1);
	for (i = 0; i < 10 && flow_stats()->active; i++) {
		clock_offset_ms += 40000;
		set_now();
		tcp_timer(&c);
		flow_defer_handler();
	}
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(tcp_stats()->gave_up, 1);
	h = cap_hdr(ncap - 1, NULL, NULL);
	assert_true(h.flags & TCP_F_RST);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	close(fd);
	close(lfd);
}

static void test_tcp_rx_full_then_ready(void **state)
{
	struct guest g;
	const uint8_t *d;
	size_t len;
	uint16_t port;
	int lfd, fd;

	(void)state;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40006, port);
	fd = g_connect(&g, lfd);

	send_rc = -ENOBUFS;
	assert_int_equal(write(fd, "queued", 6), 6);
	pump_for(1);
	pump(10);
	assert_int_equal(ncap, 0);

	send_rc = 0;
	tcp_rx_ready(&c);
	assert_int_equal(ncap, 1);
	cap_hdr(0, &d, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "queued", 6);
	close(fd);
	close(lfd);
}

static void test_tcp_table_full_syn_rst(void **state)
{
	struct flow_key k = { .proto = IPPROTO_UDP };
	struct guest g;
	struct tcp_hdr h;
	unsigned n = 0;

	(void)state;
	k.gaddr = any4("10.0.2.15");
	k.faddr = any4("192.0.2.1");
	for (k.gport = 1; flow_alloc(FLOW_UDP, &k) >= 0; k.gport++)
		n++;
	assert_int_equal(n, FLOW_MAX);

	guest_init(&g, false, 40007, 80);
	assert_int_equal(g_send(&g, TCP_F_SYN, NULL, 0, NULL, 0), -ENOSPC);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(h.flags, TCP_F_RST | TCP_F_ACK);
	assert_int_equal(tcp_stats()->syn_full, 1);
}

static void test_tcp_inbound_forwarded_port(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct guest g;
	struct tcp_hdr h;
	const uint8_t *d;
	uint16_t port, gport = 8080;
	char buf[8];
	size_t len;
	int lfd, cfd;

	(void)state;
	lfd = server(AF_INET, &port);	/* find a free port */
	close(lfd);
	snprintf(spec, sizeof(spec), "%u:%u", port, gport);
	assert_int_equal(fwd_ports_parse(&c.tcp, spec, err, sizeof(err)), 0);
	c.v6 = false;			/* one IPv4 socket */
	assert_int_equal(tcp_init(&c), 0);

	/* Listening from start-up: no guest yet, the connection waits */
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pump_for(1);
	assert_int_equal(ncap, 0);

	/* A guest is there: the waiting connection reaches it */
	tcp_listen_start(&c);
	pump_for(1);
	assert_int_equal(ncap, 1);
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(h.flags, TCP_F_SYN);
	assert_int_equal(ntohs(h.dport), gport);

	/* From the gateway (loopback mapped) to the guest's address */
	memset(&g, 0, sizeof(g));
	g.faddr = any4("10.0.2.2");
	g.gaddr = any4("10.0.2.15");
	assert_true(inany_equals(&cap[0].src, &g.faddr));
	assert_true(inany_equals(&cap[0].dst, &g.gaddr));
	g.gport = gport;
	g.fport = ntohs(h.sport);
	g.rcv_nxt = ntohl(h.seq) + 1;
	g.snd_nxt = 777;

	ncap = 0;
	assert_int_equal(g_send(&g, TCP_F_SYN | TCP_F_ACK, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(ncap, 1);	/* the ACK completing it */
	h = cap_hdr(0, NULL, NULL);
	assert_int_equal(h.flags, TCP_F_ACK);
	assert_int_equal(ntohl(h.ack), 778);

	ncap = 0;
	assert_int_equal(write(cfd, "in", 2), 2);
	pump_for(1);
	assert_int_equal(ncap, 1);
	cap_hdr(0, &d, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(d, "in", 2);

	/* The guest refuses: the host peer sees a reset */
	g_send(&g, TCP_F_RST, NULL, 0, NULL, 0);
	assert_int_equal(read(cfd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	close(cfd);
}

static void test_tcp_many_connections(void **state)
{
	static struct guest g[200];
	static int fd[200];
	uint16_t port;
	unsigned i;
	char buf[4];
	int lfd;

	(void)state;
	lfd = server(AF_INET, &port);
	for (i = 0; i < 200; i++) {
		guest_init(&g[i], false, (uint16_t)(20000 + i), port);
		fd[i] = g_connect(&g[i], lfd);
	}
	assert_int_equal(flow_stats()->active, 200);

	for (i = 0; i < 200; i++) {
		ncap = 0;
		assert_int_equal(g_send(&g[i], TCP_F_ACK | TCP_F_FIN, "bye", 3,
					NULL, 0), 0);
		assert_int_equal(read(fd[i], buf, sizeof(buf)), 3);
		assert_int_equal(read(fd[i], buf, sizeof(buf)), 0);
		close(fd[i]);
	}
	/* The host sides close: each FIN reaches the guest, which acks */
	count_fins = true;
	for (i = 0; i < 100 && nfin < 200; i++)
		pump(10);
	assert_int_equal(nfin, 200);
	for (i = 0; i < 200; i++) {
		g[i].rcv_nxt++;		/* their FIN */
		g_send(&g[i], TCP_F_ACK, NULL, 0, NULL, 0);
	}
	count_fins = false;
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	close(lfd);
}

/* Bulk transfer, @mb MiB each way, with MTU 65520 */
static void test_tcp_bulk_both_ways(void **state)
{
	static uint8_t chunk[1 << 16];
	const char *env = getenv("TCP_BULK_MB");
	uint64_t total = (uint64_t)(env ? atoi(env) : 16) << 20, i;
	uint64_t rcvd = 0, wrote = 0;
	uint32_t g0;
	struct timespec t0, t1;
	struct guest g;
	uint16_t port;
	int lfd, fd;

	(void)state;
	c.mtu = 65520;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40008, port);
	fd = g_connect(&g, lfd);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* Guest to host: stop-and-go on our ACKs, go back on partial ones */
	bulk = &g;
	g0 = g.snd_nxt;
	while (rcvd < total) {
		ssize_t n;

		for (;;) {
			uint64_t off = (uint32_t)(g.snd_nxt - g0);
			size_t l = (size_t)MIN(total - off, g.peer_mss);

			l = MIN(l, wnd_avail(g.peer_wnd, g.snd_una, g.snd_nxt));
			if (!l)
				break;
			for (i = 0; i < l; i++)
				chunk[i] = pattern(off + i);
			g_send(&g, TCP_F_ACK, chunk, l, NULL, 0);
			if (g.snd_una != g.snd_nxt) {	/* partial write */
				g.snd_nxt = g.snd_una;
				break;
			}
		}
		n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n > 0) {
			for (i = 0; i < (uint64_t)n; i++)
				assert_int_equal(chunk[i], pattern(rcvd + i));
			rcvd += (uint64_t)n;
		}
		pump(0);
	}
	assert_int_equal(rcvd, total);

	/* Host to guest */
	while (g.rcvd < total) {
		if (wrote < total) {
			ssize_t n;
			size_t l = (size_t)MIN(total - wrote, sizeof(chunk));

			for (i = 0; i < l; i++)
				chunk[i] = pattern(wrote + i);
			n = send(fd, chunk, l, MSG_DONTWAIT);
			if (n > 0)
				wrote += (uint64_t)n;
		}
		pump(1);
		g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0);
		assert_false(g.bad_stream);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("      %llu MiB each way in %lld ms\n",
		      (unsigned long long)(total >> 20),
		      (long long)timespec_diff_ms(&t1, &t0));
	bulk = NULL;
	close(fd);
	close(lfd);
}

/* Host to guest with retransmissions, with and without SO_PEEK_OFF */
static void host_to_guest_retransmit(bool fallback)
{
	static uint8_t chunk[1 << 16];
	uint64_t total = 4 << 20, wrote = 0, i;
	unsigned round = 0;
	uint32_t acked;
	struct guest g;
	uint16_t port;
	int lfd, fd;

	no_peek_off = fallback;
	c.mtu = 9000;
	lfd = server(AF_INET, &port);
	guest_init(&g, false, 40009, port);
	fd = g_connect(&g, lfd);
	bulk = &g;
	acked = g.rcv_nxt;

	while (g.rcvd < total) {
		if (wrote < total) {
			size_t l = (size_t)MIN(total - wrote, sizeof(chunk));
			ssize_t n;

			for (i = 0; i < l; i++)
				chunk[i] = pattern(wrote + i);
			n = send(fd, chunk, l, MSG_DONTWAIT);
			if (n > 0)
				wrote += (uint64_t)n;
		}
		pump(1);
		if (++round % 3) {
			g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0);
			acked = g.rcv_nxt;
		} else {
			/* Lose some of what came since our last ACK: the
			 * daemon must send it again from there */
			uint32_t lose = MIN(g.rcv_nxt - acked, 3000U);

			g.rcv_nxt -= lose;
			g.rcvd -= lose;
			clock_offset_ms += 60000;
			set_now();
			tcp_timer(&c);
			g_send(&g, TCP_F_ACK, NULL, 0, NULL, 0);
		}
		assert_false(g.bad_stream);
	}
	assert_true(tcp_stats()->retrans > 0);
	assert_int_equal(tcp_stats()->gave_up, 0);
	bulk = NULL;
	close(fd);
	close(lfd);
}

static void test_tcp_retransmit_peek_off(void **state)
{
	(void)state;
	host_to_guest_retransmit(false);
}

static void test_tcp_retransmit_no_peek_off(void **state)
{
	(void)state;
	host_to_guest_retransmit(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		cmocka_unit_test(test_tcp_seq_wraparound),
		cmocka_unit_test(test_tcp_seq_random_vs_reference),
		cmocka_unit_test(test_tcp_opts_good),
		cmocka_unit_test(test_tcp_opts_hostile),
		T(test_tcp_bad_headers),
		T(test_tcp_batch_one_ack),
		T(test_tcp_outbound_v4),
		T(test_tcp_outbound_v6),
		T(test_tcp_window_clamp_follows_guest),
		T(test_tcp_refused_port_rst),
		T(test_tcp_unknown_flow_rst),
		T(test_tcp_out_of_window_dup_ack),
		T(test_tcp_guest_rst_resets_host),
		T(test_tcp_retransmit_then_give_up),
		T(test_tcp_rx_full_then_ready),
		T(test_tcp_table_full_syn_rst),
		T(test_tcp_many_connections),
		T(test_tcp_bulk_both_ways),
		T(test_tcp_retransmit_peek_off),
		T(test_tcp_retransmit_no_peek_off),
		T(test_tcp_inbound_forwarded_port),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
