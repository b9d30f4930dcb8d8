// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for udp.c and fwd.c, against real loopback sockets.
 *
 * The guest is 192.0.2.2 / 2001:db8::2 with gateway 192.0.2.1 / our
 * link-local fe80::1: those addresses only ever appear in the frames we
 * hand to tap_send_l4(), which is wrapped (-Wl,--wrap=tap_send_l4) to
 * record what would reach the guest.  Host-side traffic only uses 127.0.0.1
 * and ::1.  Events come from the real epoll instance udp.c registers with.
 */

/* WRAP: tap_send_l4 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctx.h"
#include "flow.h"
#include "fwd.h"
#include "udp.h"
#include "tap_out.h"
#include "checksum.h"
#include "common.h"

static char spec[32], err[FWD_ERR_LEN];	/* port specs parsed */

static struct ctx c;

/* fwd_rule_find() in c.udp for an address written out */
static int rule_find(const char *addr, bool v6, uint16_t port)
{
	union inany_addr a = v6 ? any6(addr) : any4(addr);

	return fwd_rule_find(&c.udp, &a, port);
}

/* What the last tap_send_l4() call carried */
static struct {
	int calls;
	union inany_addr src, dst;
	uint8_t proto;
	uint8_t l4[70000];
	size_t len;
} sent;

int __wrap_tap_send_l4(struct ctx *ctx, const union inany_addr *src,
		       const union inany_addr *dst, uint8_t proto,
		       const struct iovec *l4, size_t cnt);
int __wrap_tap_send_l4(struct ctx *ctx, const union inany_addr *src,
		       const union inany_addr *dst, uint8_t proto,
		       const struct iovec *l4, size_t cnt)
{
	(void)ctx;
	sent.calls++;
	sent.src = *src;
	sent.dst = *dst;
	sent.proto = proto;
	sent.len = iov_to_buf(l4, cnt, 0, sent.l4, sizeof(sent.l4));
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	c.mtu = 65520;
	c.v4 = c.v6 = true;
	inet_pton(AF_INET, "192.0.2.2", &c.ip4.addr);
	inet_pton(AF_INET, "192.0.2.1", &c.ip4.gw);
	c.ip4.dns[0] = c.ip4.gw;
	inet_pton(AF_INET6, "2001:db8::2", &c.ip6.addr);
	inet_pton(AF_INET6, "fe80::1", &c.ip6.our_ll);
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	memset(&sent, 0, sizeof(sent));
	flow_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* Free every flow (closing sockets), as if time ran out */
	c.now.tv_sec += UDP_TIMEOUT_MS / 1000 + 1;
	udp_timer(&c);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	close(c.epollfd);
	return 0;
}

/* A UDP socket bound to loopback, ephemeral port; *port set */
static int server(int af, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	sl = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Build a UDP datagram from the guest into buf; return its length */
static size_t dgram(uint8_t *buf, uint16_t sport, uint16_t dport,
		    const char *payload)
{
	struct udphdr uh;
	size_t plen = strlen(payload);

	uh.source = htons(sport);
	uh.dest = htons(dport);
	uh.len = htons(sizeof(uh) + plen);
	uh.check = 0;
	memcpy(buf, &uh, sizeof(uh));
	memcpy(buf + sizeof(uh), payload, plen);
	return sizeof(uh) + plen;
}

/* Wait for one event and dispatch it as passt.c would; return its kind */
static int dispatch(int timeout_ms)
{
	struct epoll_event ev;
	union evtag tag;

	if (epoll_wait(c.epollfd, &ev, 1, timeout_ms) != 1)
		return EV_NONE;
	tag.u64 = ev.data.u64;
	if (tag.kind == EV_UDP)
		udp_sock_handler(&c, tag, ev.events);
	else if (tag.kind == EV_UDP_LISTEN)
		udp_listen_handler(&c, tag, ev.events);
	return tag.kind;
}

/* Check the recorded datagram to the guest */
static void check_sent(const union inany_addr *src, uint16_t sport,
		       const union inany_addr *dst, uint16_t dport,
		       const char *payload)
{
	struct iovec iov = { sent.l4, sent.len };
	struct udphdr uh;

	assert_int_equal(sent.proto, IPPROTO_UDP);
	assert_memory_equal(&sent.src, src, 16);
	assert_memory_equal(&sent.dst, dst, 16);
	assert_int_equal(sent.len, sizeof(uh) + strlen(payload));
	memcpy(&uh, sent.l4, sizeof(uh));
	assert_int_equal(ntohs(uh.source), sport);
	assert_int_equal(ntohs(uh.dest), dport);
	assert_int_equal(ntohs(uh.len), sent.len);
	assert_int_not_equal(uh.check, 0);
	assert_int_equal(csum_l4(src, dst, IPPROTO_UDP, &iov, 1), 0);
	assert_memory_equal(sent.l4 + sizeof(uh), payload, strlen(payload));
}

static void assert_addr(const union inany_addr *got, union inany_addr want)
{
	assert_memory_equal(got, &want, sizeof(want));
}

/* ---------------------------------------------------------------- */
/* fwd.c                                                             */
/* ---------------------------------------------------------------- */

static void test_udp_nat_outbound(void **state)
{
	union inany_addr out, in;

	(void)state;
	in = any4("192.0.2.1");
	fwd_nat_outbound(&c, &in, 80, &out);
	assert_addr(&out, any4("127.0.0.1"));

	/* DNS to the gateway: plain loopback until the host has a resolver */
	fwd_nat_outbound(&c, &in, 53, &out);
	assert_addr(&out, any4("127.0.0.1"));
	inet_pton(AF_INET, "127.0.0.53", &c.ip4.dns_host);
	fwd_nat_outbound(&c, &in, 53, &out);
	assert_addr(&out, any4("127.0.0.53"));
	fwd_nat_outbound(&c, &in, 54, &out);
	assert_addr(&out, any4("127.0.0.1"));

	in = any4("198.51.100.7");
	fwd_nat_outbound(&c, &in, 53, &out);
	assert_memory_equal(&out, &in, 16);

	in = any6("fe80::1");
	fwd_nat_outbound(&c, &in, 80, &out);
	assert_addr(&out, any6("::1"));
	in = any6("2001:db8::99");
	fwd_nat_outbound(&c, &in, 80, &out);
	assert_memory_equal(&out, &in, 16);
	c.ip6.gw = in.a6;
	fwd_nat_outbound(&c, &in, 80, &out);
	assert_addr(&out, any6("::1"));

	/* In place */
	in = any4("192.0.2.1");
	fwd_nat_outbound(&c, &in, 80, &in);
	assert_addr(&in, any4("127.0.0.1"));
}

static void test_udp_nat_inbound_and_ports(void **state)
{
	union inany_addr out, in;

	(void)state;
	in = any4("127.0.0.5");
	fwd_nat_inbound(&c, &in, &out);
	assert_addr(&out, any4("192.0.2.1"));
	in = any4("192.0.2.2");		/* host's own = guest's address */
	fwd_nat_inbound(&c, &in, &out);
	assert_addr(&out, any4("192.0.2.1"));
	in = any4("198.51.100.7");
	fwd_nat_inbound(&c, &in, &out);
	assert_memory_equal(&out, &in, 16);

	in = any6("::1");
	fwd_nat_inbound(&c, &in, &out);
	assert_addr(&out, any6("fe80::1"));
	c.ip6.gw = any6("2001:db8::1").a6;
	fwd_nat_inbound(&c, &in, &out);
	assert_addr(&out, any6("2001:db8::1"));

	fwd_guest_addr(&c, AF_INET, &out);
	assert_addr(&out, any4("192.0.2.2"));
	inet_pton(AF_INET, "192.0.2.9", &c.ip4.addr_seen);
	fwd_guest_addr(&c, AF_INET, &out);
	assert_addr(&out, any4("192.0.2.9"));
	fwd_guest_addr(&c, AF_INET6, &out);
	assert_addr(&out, any6("2001:db8::2"));

	/* Ports: mapped up and down, found by local address and port */
	assert_int_equal(fwd_ports_parse(&c.udp, "5000:5010", err,
					 sizeof(err)), 0);
	assert_int_equal(fwd_ports_parse(&c.udp, "192.0.2.1/5000:1", err,
					 sizeof(err)), 0);
	assert_int_equal(fwd_guest_port(&c.udp, FWD_REF(0, 5000)), 5010);
	assert_int_equal(fwd_guest_port(&c.udp, FWD_REF(1, 5000)), 1);
	assert_int_equal(rule_find("0.0.0.0", false, 5000), 0);
	assert_int_equal(rule_find("::", true, 5000), 0);
	assert_int_equal(rule_find("192.0.2.1", false, 5000), 1);
	assert_int_equal(rule_find("192.0.2.2", false, 5000),
			 -ENOENT);
	assert_int_equal(rule_find("0.0.0.0", false, 5001),
			 -ENOENT);
	memset(&c.udp, 0, sizeof(c.udp));
}

/* ---------------------------------------------------------------- */
/* udp.c                                                             */
/* ---------------------------------------------------------------- */

/* Guest -> gateway:port reaches a loopback server; its reply comes back */
static void round_trip(int af, const char *gw, const char *guest)
{
	union inany_addr g = af == AF_INET ? any4(guest) : any6(guest);
	union inany_addr r = af == AF_INET ? any4(gw) : any6(gw);
	struct sockaddr_storage from;
	socklen_t sl = sizeof(from);
	uint8_t buf[100];
	uint16_t sport;
	char rx[16];
	int fd = server(af, &sport);
	ssize_t n;

	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40000, sport, "hello")), 0);
	n = recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&from, &sl);
	assert_int_equal(n, 5);
	assert_memory_equal(rx, "hello", 5);
	assert_int_equal(flow_stats()->active, 1);

	/* Same flow for the next datagram */
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40000, sport, "again")), 0);
	assert_int_equal(recv(fd, rx, sizeof(rx), 0), 5);
	assert_int_equal(flow_stats()->active, 1);

	assert_int_equal(sendto(fd, "world!", 6, 0, (struct sockaddr *)&from,
				sl), 6);
	assert_int_equal(dispatch(1000), EV_UDP);
	assert_int_equal(sent.calls, 1);
	check_sent(&r, sport, &g, 40000, "world!");
	close(fd);
}

static void test_udp_round_trip_v4(void **state)
{
	(void)state;
	round_trip(AF_INET, "192.0.2.1", "192.0.2.2");
}

static void test_udp_round_trip_v6(void **state)
{
	(void)state;
	round_trip(AF_INET6, "fe80::1", "2001:db8::2");
}

static void test_udp_bad_from_guest(void **state)
{
	union inany_addr g = any4("192.0.2.2"), r = any4("192.0.2.1");
	union inany_addr m = any4("224.0.0.251"), b = any4("255.255.255.255");
	union inany_addr g6 = any6("2001:db8::2");
	uint8_t buf[100];
	size_t len = dgram(buf, 40000, 9, "x");

	(void)state;
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf, 7), -EINVAL);
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf, len - 1), -EINVAL);
	assert_int_equal(udp_tap_handler(&c, &g6, &r, buf, len), -EINVAL);
	assert_int_equal(udp_tap_handler(&c, &g, &m, buf, len), -EINVAL);
	assert_int_equal(udp_tap_handler(&c, &g, &b, buf, len), -EINVAL);
	len = dgram(buf, 40000, 0, "x");
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf, len), -EINVAL);
	len = dgram(buf, 0, 9, "x");
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf, len), -EINVAL);
	buf[5] = 7;			/* UDP length below the header */
	buf[4] = 0;
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf, len), -EINVAL);

	assert_int_equal(udp_stats()->bad, 8);
	assert_int_equal(flow_stats()->active, 0);
}

static void test_udp_table_full(void **state)
{
	union inany_addr g = any4("192.0.2.2"), r = any4("192.0.2.1");
	uint64_t refused = udp_stats()->refused;
	struct flow_key k;
	uint8_t buf[100];
	unsigned i;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.proto = IPPROTO_TCP;
	for (i = 0; i < FLOW_MAX; i++) {
		k.gport = i + 1;
		assert_true(flow_alloc(FLOW_TCP, &k) >= 0);
	}
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40000, 9, "x")), -ENOSPC);
	assert_int_equal(udp_stats()->refused, refused + 1);

	for (i = 0; i < FLOW_MAX; i++)
		flow_free(i);
	flow_defer_handler();
}

static void test_udp_reply_too_big(void **state)
{
	union inany_addr g = any4("192.0.2.2"), r = any4("192.0.2.1");
	struct sockaddr_storage from;
	socklen_t sl = sizeof(from);
	uint64_t too_big = udp_stats()->too_big;
	static char big[2000];
	uint8_t buf[100];
	uint16_t sport;
	int fd = server(AF_INET, &sport);

	(void)state;
	c.mtu = 576;
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40001, sport, "q")), 0);
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0,
				  (struct sockaddr *)&from, &sl), 1);
	/* 548 bytes fit 576 with 20 + 8 of headers; 549 don't */
	assert_int_equal(sendto(fd, big, 549, 0, (struct sockaddr *)&from,
				sl), 549);
	assert_int_equal(sendto(fd, big, 548, 0, (struct sockaddr *)&from,
				sl), 548);
	assert_int_equal(dispatch(1000), EV_UDP);
	assert_int_equal(udp_stats()->too_big, too_big + 1);
	assert_int_equal(sent.calls, 1);
	assert_int_equal(sent.len, 8 + 548);
	close(fd);
}

static void test_udp_port_unreachable(void **state)
{
	union inany_addr g = any4("192.0.2.2"), r = any4("192.0.2.1");
	uint64_t icmp = udp_stats()->icmp_err;
	uint8_t buf[100];
	uint16_t port;
	int fd = server(AF_INET, &port);

	(void)state;
	close(fd);			/* nobody listens there now */
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40002, port, "x")), 0);
	assert_int_not_equal(dispatch(1000), EV_NONE);
	assert_int_equal(udp_stats()->icmp_err, icmp + 1);
	assert_int_equal(dispatch(50), EV_NONE);	/* cleared: no spin */
	assert_int_equal(sent.calls, 0);
}

/* Host peer -> forwarded port -> guest, and the guest's reply back */
static void forwarded(int af, const char *peer_str, const char *gw_str,
		      const char *guest_str)
{
	union inany_addr gw = af == AF_INET ? any4(gw_str) : any6(gw_str);
	union inany_addr g = af == AF_INET ? any4(guest_str) : any6(guest_str);
	struct sockaddr_storage from;
	socklen_t sl = sizeof(from);
	uint16_t hport, pport;
	uint8_t buf[100];
	int peer, tmp;
	char rx[16];

	(void)peer_str;
	tmp = server(af, &hport);	/* find a free port, then free it */
	close(tmp);
	snprintf(spec, sizeof(spec), "%u:%u", hport, hport + 1);
	assert_int_equal(fwd_ports_parse(&c.udp, spec, err, sizeof(err)), 0);
	c.v4 = af == AF_INET;
	c.v6 = af == AF_INET6;
	assert_int_equal(udp_init(&c), 0);
	udp_listen_start(&c);		/* the guest runs */

	peer = server(af, &pport);
	memset(&from, 0, sizeof(from));
	from.ss_family = af;
	if (af == AF_INET) {
		((struct sockaddr_in *)&from)->sin_port = htons(hport);
		((struct sockaddr_in *)&from)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
		sl = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&from)->sin6_port = htons(hport);
		((struct sockaddr_in6 *)&from)->sin6_addr = in6addr_loopback;
		sl = sizeof(struct sockaddr_in6);
	}
	assert_int_equal(sendto(peer, "ping", 4, 0, (struct sockaddr *)&from,
				sl), 4);
	assert_int_equal(dispatch(1000), EV_UDP_LISTEN);
	assert_int_equal(sent.calls, 1);
	check_sent(&gw, pport, &g, (uint16_t)(hport + 1), "ping");
	assert_int_equal(flow_stats()->active, 1);

	/* The guest answers from its port to the gateway, peer's port */
	assert_int_equal(udp_tap_handler(&c, &g, &gw, buf,
					 dgram(buf, hport + 1, pport, "pong")),
			 0);
	assert_int_equal(flow_stats()->active, 1);
	sl = sizeof(from);
	assert_int_equal(recvfrom(peer, rx, sizeof(rx), 0,
				  (struct sockaddr *)&from, &sl), 4);
	assert_memory_equal(rx, "pong", 4);
	assert_int_equal(ntohs(((struct sockaddr_in *)&from)->sin_port),
			 hport);
	close(peer);

	/* Idle: freed by the timer, the listening socket stays */
	c.now.tv_sec += UDP_TIMEOUT_MS / 1000 - 1;
	udp_timer(&c);
	assert_int_equal(flow_stats()->active, 1);
	c.now.tv_sec += 2;
	udp_timer(&c);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);

	peer = server(af, &pport);
	assert_int_equal(sendto(peer, "again", 5, 0, (struct sockaddr *)&from,
				sl), 5);
	assert_int_equal(dispatch(1000), EV_UDP_LISTEN);
	assert_int_equal(sent.calls, 2);
	close(peer);
	udp_listen_stop(&c);
	memset(&c.udp, 0, sizeof(c.udp));
}

static void test_udp_forwarded_v4(void **state)
{
	(void)state;
	forwarded(AF_INET, "127.0.0.1", "192.0.2.1", "192.0.2.2");
}

static void test_udp_forwarded_v6(void **state)
{
	(void)state;
	forwarded(AF_INET6, "::1", "fe80::1", "2001:db8::2");
}

static void test_udp_idle_flow_closed(void **state)
{
	union inany_addr g = any4("192.0.2.2"), r = any4("192.0.2.1");
	uint8_t buf[100];
	uint16_t sport;
	int fd = server(AF_INET, &sport);

	(void)state;
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40003, sport, "x")), 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 1);

	c.now.tv_sec += UDP_TIMEOUT_MS / 1000;
	udp_timer(&c);
	assert_int_equal(flow_next(FLOW_UDP, -1), -1);
	flow_defer_handler();

	/* A new datagram makes a new flow and socket: the server sees a
	 * different source port
	 */
	assert_int_equal(udp_tap_handler(&c, &g, &r, buf,
					 dgram(buf, 40003, sport, "y")), 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'y');
	assert_int_equal(flow_stats()->active, 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_udp_nat_outbound),
		T(test_udp_nat_inbound_and_ports),
		T(test_udp_round_trip_v4),
		T(test_udp_round_trip_v6),
		T(test_udp_bad_from_guest),
		T(test_udp_table_full),
		T(test_udp_reply_too_big),
		T(test_udp_port_unreachable),
		T(test_udp_forwarded_v4),
		T(test_udp_forwarded_v6),
		T(test_udp_idle_flow_closed),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
