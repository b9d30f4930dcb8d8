// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the migration of UDP and ICMP echo flows (udp.c, icmp.c:
 * sections MIG_SEC_UDP and MIG_SEC_ICMP) and for the version rule between
 * stream versions 1 and 2 (migrate.c).
 *
 * One process plays both daemons: the source saves a section and releases
 * its flows (as after a hand-over), then the same tables load it as a
 * target would.  Host-side traffic uses real sockets on the loopback of a
 * network namespace of our own (made in main(): ping sockets need
 * net.ipv4.ping_group_range, which we set there).  Frames to the guest go
 * to the wrapped tap_send_l4(), which records the last one.
 */

/* WRAP: tap_send_l4 logmsg */

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
#include <time.h>
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
#include "fwd.h"
#include "udp.h"
#include "icmp.h"
#include "migrate.h"
#include "mig_buf.h"
#include "mig_wire.h"
#include "tap_out.h"
#include "log.h"
#include "common.h"

static char spec[32], err[FWD_ERR_LEN];	/* port specs parsed */

#define UREC	76		/* doc: section 3, per flow */
#define IREC	40		/* doc: section 4, per flow */

static struct ctx c;
static struct mig_buf b;
static struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];

/* What the last tap_send_l4() call carried */
static struct {
	int calls;
	uint8_t proto;
	uint8_t l4[2048];
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
	(void)src;
	(void)dst;
	sent.calls++;
	sent.proto = proto;
	sent.len = iov_to_buf(l4, cnt, 0, sent.l4, sizeof(sent.l4));
	return 0;
}

static char logs[4096];

void __wrap_logmsg(int pri, const char *fmt, ...) PRINTF(2, 3);
void __wrap_logmsg(int pri, const char *fmt, ...)
{
	size_t n = strlen(logs);
	va_list ap;

	(void)pri;
	if (n > sizeof(logs) - 256)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(logs + n, sizeof(logs) - n - 1, fmt, ap);
	va_end(ap);
	strcat(logs, "\n");
}

static bool logged(const char *needle)
{
	return strstr(logs, needle);
}

/* Wait for the next second: rate-limited messages may be logged again */
static void next_second(void)
{
	time_t t = time(NULL);

	while (time(NULL) == t)
		usleep(10000);
}

static void put32(uint8_t *p, uint32_t v)
{
	__be32 be = htonl(v);

	memcpy(p, &be, sizeof(be));
}

static uint32_t get32(const uint8_t *p)
{
	__be32 be;

	memcpy(&be, p, sizeof(be));
	return ntohl(be);
}

static int setup(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	c.mtu = 65520;
	c.v4 = c.v6 = true;
	c.ip4.addr = a4("192.0.2.2");
	c.ip4.gw = a4("192.0.2.1");
	c.ip6.addr = a6("2001:db8::2");
	c.ip6.gw = a6("2001:db8::1");
	c.ip6.our_ll = a6("fe80::1");
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	memset(&sent, 0, sizeof(sent));
	logs[0] = 0;
	flow_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	udp_mig_release(&c);	/* closes everything */
	icmp_mig_release(&c);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	mig_buf_free(&b);
	close(c.epollfd);
	return 0;
}

/* A UDP socket bound to the loopback of @af; *port set (0: ephemeral) */
static int server(int af, uint16_t *port)
{
	union inany_addr lo = { .a6 = IN6ADDR_LOOPBACK_INIT };
	union sockaddr_inany sa;
	socklen_t sl;
	int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	if (af == AF_INET)
		lo = any4("127.0.0.1");
	sl = inany_sockaddr(&sa.ss, &lo, *port);
	assert_int_equal(bind(fd, &sa.sa, sl), 0);
	sl = sizeof(sa);
	assert_int_equal(getsockname(fd, &sa.sa, &sl), 0);
	*port = ntohs(af == AF_INET ? sa.sa4.sin_port : sa.sa6.sin6_port);
	return fd;
}

/* Receive one datagram on @fd (waiting up to 1 s); return its source port */
static uint16_t recv_from(int fd, const char *want)
{
	union sockaddr_inany sa;
	socklen_t sl = sizeof(sa);
	char buf[64];
	ssize_t n = -1;
	int i;

	for (i = 0; i < 100 && n < 0; i++) {
		n = recvfrom(fd, buf, sizeof(buf), 0, &sa.sa, &sl);
		if (n < 0)
			usleep(10000);
	}
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	return ntohs(sa.sa.sa_family == AF_INET ? sa.sa4.sin_port :
		     sa.sa6.sin6_port);
}

/* Send @msg from @fd to the loopback of @af, port @port */
static void send_to(int fd, int af, uint16_t port, const char *msg)
{
	union inany_addr lo = { .a6 = IN6ADDR_LOOPBACK_INIT };
	union sockaddr_inany sa;
	socklen_t sl;

	if (af == AF_INET)
		lo = any4("127.0.0.1");
	sl = inany_sockaddr(&sa.ss, &lo, port);
	assert_int_equal(sendto(fd, msg, strlen(msg), 0, &sa.sa, sl),
			 (ssize_t)strlen(msg));
}

/* The guest sends @msg from @gport to its gateway, port @fport */
static int guest_udp(int af, uint16_t gport, uint16_t fport, const char *msg)
{
	union inany_addr g, gw;
	uint8_t buf[128];
	struct udphdr uh;
	size_t plen = strlen(msg);

	if (af == AF_INET) {
		inany_from_v4(&g, c.ip4.addr);
		inany_from_v4(&gw, c.ip4.gw);
	} else {
		g.a6 = c.ip6.addr;
		gw.a6 = c.ip6.gw;
	}
	uh.source = htons(gport);
	uh.dest = htons(fport);
	uh.len = htons(sizeof(uh) + plen);
	uh.check = 0;
	memcpy(buf, &uh, sizeof(uh));
	memcpy(buf + sizeof(uh), msg, plen);
	return udp_tap_handler(&c, &g, &gw, buf, sizeof(uh) + plen);
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
	else if (tag.kind == EV_ICMP)
		icmp_sock_handler(&c, tag, ev.events);
	return tag.kind;
}

/* The last frame to the guest was UDP carrying @payload to @gport */
static void assert_sent_udp(uint16_t gport, const char *payload)
{
	struct udphdr uh;

	assert_int_equal(sent.proto, IPPROTO_UDP);
	assert_int_equal(sent.len, sizeof(uh) + strlen(payload));
	memcpy(&uh, sent.l4, sizeof(uh));
	assert_int_equal(ntohs(uh.dest), gport);
	assert_memory_equal(sent.l4 + sizeof(uh), payload, strlen(payload));
}

/* Source: save the UDP section into @b; return its payload */
static const uint8_t *save_udp(uint32_t want)
{
	mig_buf_free(&b);
	assert_int_equal(udp_mig_save(&c, &b), 0);
	assert_int_equal(b.len, 4 + want * UREC);
	assert_int_equal(get32(b.p), want);
	return b.p;
}

/* ---------------------------------------------------------------- */
/* UDP                                                               */
/* ---------------------------------------------------------------- */

/* Guest-opened flow: same host-side port after the move, both ways */
static void udp_round_trip(int af)
{
	uint16_t sport = 0, hport;
	struct mig_udp_flow r;
	int s = server(af, &sport);

	assert_int_equal(guest_udp(af, 5555, sport, "one"), 0);
	hport = recv_from(s, "one");

	/* The record, at the documented offsets */
	save_udp(1);
	memcpy(&r, b.p + 4, sizeof(r));
	assert_int_equal(ntohs(r.gport), 5555);
	assert_int_equal(ntohs(r.fport), sport);
	assert_int_equal(ntohs(r.lport), hport);
	assert_int_equal(ntohs(r.rport), sport);
	assert_int_equal(r.kind, MIG_UDP_OWN);
	assert_int_equal(b.p[4 + 68] << 8 | b.p[4 + 69], hport);	/* doc */

	/* Source hands over: flows and sockets gone */
	udp_mig_release(&c);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);

	/* Target: staged, deaf; a datagram waits in the kernel meanwhile */
	assert_int_equal(udp_mig_check(&c, b.p, b.len), 0);
	assert_int_equal(udp_mig_stage(&c, b.p, b.len), 0);
	assert_int_equal(flow_stats()->active, 1);
	send_to(s, af, hport, "two");
	assert_int_equal(dispatch(100), EV_NONE);
	assert_int_equal(sent.calls, 0);

	/* The guest runs: the datagram reaches it, its next one leaves
	 * from the same port
	 */
	udp_mig_activate(&c);
	assert_int_equal(dispatch(1000), EV_UDP);
	assert_int_equal(sent.calls, 1);
	assert_sent_udp(5555, "two");
	assert_int_equal(guest_udp(af, 5555, sport, "three"), 0);
	assert_int_equal(recv_from(s, "three"), hport);
	assert_int_equal(flow_stats()->active, 1);
	close(s);
}

static void test_udp_migrate_round_trip_v4(void **state)
{
	(void)state;
	udp_round_trip(AF_INET);
}

static void test_udp_migrate_round_trip_v6(void **state)
{
	(void)state;
	udp_round_trip(AF_INET6);
}

/* A port still held: retried once the guest runs, until it's free */
static void test_udp_migrate_port_held(void **state)
{
	uint16_t sport = 0, hport;
	int s = server(AF_INET, &sport), h;

	(void)state;
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "one"), 0);
	hport = recv_from(s, "one");
	save_udp(1);
	udp_mig_release(&c);
	flow_defer_handler();

	h = server(AF_INET, &hport);		/* someone else has it */
	assert_int_equal(udp_mig_stage(&c, b.p, b.len), 0);
	assert_int_equal(flow_stats()->active, 1);	/* kept, waiting */
	udp_mig_activate(&c);
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "lost"), -EAGAIN);
	assert_int_equal(flow_stats()->active, 1);	/* no new flow */
	udp_mig_timer(&c);
	assert_int_equal(flow_stats()->active, 1);

	close(h);
	udp_mig_timer(&c);
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "back"), 0);
	assert_int_equal(recv_from(s, "back"), hport);
	close(s);
}

/* A port held for good: the flow is dropped after the retry time, logged */
static void test_udp_migrate_port_held_gives_up(void **state)
{
	uint16_t sport = 0, hport;
	int s = server(AF_INET, &sport), h;

	(void)state;
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "one"), 0);
	hport = recv_from(s, "one");
	save_udp(1);
	udp_mig_release(&c);
	flow_defer_handler();

	h = server(AF_INET, &hport);
	assert_int_equal(udp_mig_stage(&c, b.p, b.len), 0);
	udp_mig_activate(&c);
	next_second();
	c.now.tv_sec += 61;
	udp_mig_timer(&c);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	assert_true(logged("its port stayed in use"));

	/* The guest's next datagram opens a new flow */
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "new"), 0);
	assert_int_not_equal(recv_from(s, "new"), hport);
	close(h);
	close(s);
}

/* A target that unstages (its QEMU went away) sends nothing, keeps nothing,
 * and the same stream loads again, as the source's rollback does
 */
static void test_udp_migrate_unstage_and_reload(void **state)
{
	uint16_t sport = 0, hport;
	int s = server(AF_INET6, &sport);

	(void)state;
	assert_int_equal(guest_udp(AF_INET6, 6000, sport, "one"), 0);
	hport = recv_from(s, "one");
	save_udp(1);
	udp_mig_release(&c);
	flow_defer_handler();

	assert_int_equal(udp_mig_stage(&c, b.p, b.len), 0);
	assert_int_equal(udp_mig_stage(&c, b.p, b.len), 0);	/* retried */
	assert_int_equal(flow_stats()->active, 1);
	udp_mig_unstage(&c);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(sent.calls, 0);

	assert_int_equal(udp_mig_stage(&c, b.p, b.len), 0);
	udp_mig_activate(&c);
	send_to(s, AF_INET6, hport, "two");
	assert_int_equal(dispatch(1000), EV_UDP);
	assert_sent_udp(6000, "two");
	close(s);
}

/* A forwarded flow: replies leave from the target's own forwarded port */
static void test_udp_migrate_forwarded(void **state)
{
	uint16_t fport = 0, pport = 0;
	int p = server(AF_INET, &pport), tmp = server(AF_INET, &fport);
	struct mig_udp_flow r = { 0 };
	uint8_t pl[4 + UREC];

	(void)state;
	close(tmp);			/* a free port to forward */
	inany_from_v4((union inany_addr *)r.gaddr, c.ip4.addr);
	inany_from_v4((union inany_addr *)r.faddr, c.ip4.gw);
	inany_from_v4((union inany_addr *)r.laddr, (struct in_addr){ 0 });
	inany_from_v4((union inany_addr *)r.raddr, a4("127.0.0.1"));
	r.gport = htons(fport + 1);
	r.fport = htons(pport);
	r.lport = htons(fport);
	r.rport = htons(pport);
	r.kind = MIG_UDP_FWD;
	put32(pl, 1);
	memcpy(pl + 4, &r, sizeof(r));
	assert_int_equal(udp_mig_check(&c, pl, sizeof(pl)), 0);

	/* Not forwarded here: dropped, logged */
	next_second();
	assert_int_equal(udp_mig_stage(&c, pl, sizeof(pl)), 0);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 0);
	assert_true(logged("not forwarded here"));
	udp_mig_unstage(&c);

	/* Forwarded, to the same guest port */
	snprintf(spec, sizeof(spec), "%u:%u", fport, fport + 1);
	assert_int_equal(fwd_ports_parse(&c.udp, spec, err, sizeof(err)), 0);
	assert_int_equal(udp_mig_stage(&c, pl, sizeof(pl)), 0);
	assert_int_equal(flow_stats()->active, 1);
	udp_mig_activate(&c);		/* serves the forwarded ports too */
	assert_int_equal(guest_udp(AF_INET, fport + 1, pport, "reply"), 0);
	assert_int_equal(recv_from(p, "reply"), fport);

	/* ...and the peer's next datagram reaches the guest */
	send_to(p, AF_INET, fport, "more");
	assert_int_equal(dispatch(1000), EV_UDP_LISTEN);
	assert_sent_udp(fport + 1, "more");
	assert_int_equal(flow_stats()->active, 1);
	udp_listen_stop(&c);
	memset(&c.udp, 0, sizeof(c.udp));
	close(p);
}

/* A valid IPv4 record to break in the refusal tests */
static void udp_rec(struct mig_udp_flow *r)
{
	memset(r, 0, sizeof(*r));
	inany_from_v4((union inany_addr *)r->gaddr, a4("192.0.2.2"));
	inany_from_v4((union inany_addr *)r->faddr, a4("192.0.2.1"));
	inany_from_v4((union inany_addr *)r->laddr, a4("127.0.0.1"));
	inany_from_v4((union inany_addr *)r->raddr, a4("127.0.0.1"));
	r->gport = htons(1000);
	r->fport = htons(2000);
	r->lport = htons(3000);
	r->rport = htons(2000);
	r->kind = MIG_UDP_OWN;
}

/* check() of one record: 0 or -EINVAL; nothing applied either way */
static int udp_check_one(const struct mig_udp_flow *r)
{
	uint8_t pl[4 + UREC];

	put32(pl, 1);
	memcpy(pl + 4, r, sizeof(*r));
	return udp_mig_check(&c, pl, sizeof(pl));
}

static void test_udp_migrate_check_refuses(void **state)
{
	struct mig_udp_flow r;
	uint8_t pl[4 + 2 * UREC];
	size_t len;

	(void)state;
	udp_rec(&r);
	assert_int_equal(udp_check_one(&r), 0);

	/* Family mismatch, in each address */
	udp_rec(&r);
	memcpy(r.raddr, &in6addr_loopback, 16);
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	memcpy(r.laddr, &in6addr_loopback, 16);
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	memcpy(r.faddr, &in6addr_loopback, 16);
	assert_int_equal(udp_check_one(&r), -EINVAL);

	/* Port 0, each of them */
	udp_rec(&r);
	r.gport = 0;
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	r.fport = 0;
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	r.lport = 0;
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	r.rport = 0;
	assert_int_equal(udp_check_one(&r), -EINVAL);

	/* Unknown kind, padding, multicast and unspecified peers */
	udp_rec(&r);
	r.kind = 3;
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	r.pad[2] = 1;
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	inany_from_v4((union inany_addr *)r.raddr, a4("224.0.0.1"));
	assert_int_equal(udp_check_one(&r), -EINVAL);
	udp_rec(&r);
	inany_from_v4((union inany_addr *)r.laddr, a4("0.0.0.0"));
	assert_int_equal(udp_check_one(&r), -EINVAL);	/* own: not "any" */
	r.kind = MIG_UDP_FWD;
	assert_int_equal(udp_check_one(&r), 0);		/* forward: may be */

	/* Truncated or padded: every length but the right ones */
	udp_rec(&r);
	put32(pl, 2);
	memcpy(pl + 4, &r, UREC);
	memcpy(pl + 4 + UREC, &r, UREC);
	for (len = 0; len < sizeof(pl); len++)
		assert_int_equal(udp_mig_check(&c, pl, len), -EINVAL);
	assert_int_equal(udp_mig_check(&c, pl, sizeof(pl)), 0);

	/* A count past the table */
	put32(pl, FLOW_MAX + 1);
	assert_int_equal(udp_mig_check(&c, pl, sizeof(pl)), -EINVAL);
	put32(pl, 0xffffffff);
	assert_int_equal(udp_mig_check(&c, pl, sizeof(pl)), -EINVAL);
	assert_int_equal(flow_stats()->active, 0);
}

/* The same flow twice in a stream: one is rebuilt, the other dropped */
static void test_udp_migrate_twice_in_stream(void **state)
{
	uint16_t sport = 0;
	int s = server(AF_INET, &sport);
	uint8_t pl[4 + 2 * UREC];

	(void)state;
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "one"), 0);
	recv_from(s, "one");
	save_udp(1);
	udp_mig_release(&c);
	flow_defer_handler();

	put32(pl, 2);
	memcpy(pl + 4, b.p + 4, UREC);
	memcpy(pl + 4 + UREC, b.p + 4, UREC);
	assert_int_equal(udp_mig_check(&c, pl, sizeof(pl)), 0);
	assert_int_equal(udp_mig_stage(&c, pl, sizeof(pl)), 0);
	flow_defer_handler();
	assert_int_equal(flow_stats()->active, 1);
	assert_true(logged("twice in the stream"));
	close(s);
}

/* ---------------------------------------------------------------- */
/* ICMP                                                              */
/* ---------------------------------------------------------------- */

/* An echo request from the guest to the gateway (the host's loopback) */
static int guest_ping(int af, uint16_t id, uint16_t seq)
{
	union inany_addr g, gw;
	struct icmphdr ih = { 0 };
	uint8_t buf[sizeof(ih) + 8] = { 0 };

	if (af == AF_INET) {
		inany_from_v4(&g, c.ip4.addr);
		inany_from_v4(&gw, c.ip4.gw);
		ih.type = ICMP_ECHO;
	} else {
		g.a6 = c.ip6.addr;
		gw.a6 = c.ip6.gw;
		ih.type = 128;		/* ICMP6_ECHO_REQUEST */
	}
	ih.un.echo.id = htons(id);
	ih.un.echo.sequence = htons(seq);
	memcpy(buf, &ih, sizeof(ih));
	return icmp_tap_handler(&c, &g, &gw, buf, sizeof(buf));
}

/* The guest gets the reply to @seq, with its identifier @id */
static void assert_echo_reply(uint16_t id, uint16_t seq)
{
	struct icmphdr ih;

	assert_int_equal(dispatch(1000), EV_ICMP);
	assert_true(sent.len >= sizeof(ih));
	memcpy(&ih, sent.l4, sizeof(ih));
	assert_int_equal(ntohs(ih.un.echo.id), id);
	assert_int_equal(ntohs(ih.un.echo.sequence), seq);
}

/* Can another ping socket take this identifier? */
static bool ping_id_free(int af, uint16_t id)
{
	union inany_addr any = { .a6 = IN6ADDR_ANY_INIT };
	union sockaddr_inany sa;
	socklen_t sl;
	int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC,
			af == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	bool ok;

	assert_true(fd >= 0);
	if (af == AF_INET)
		any = any4("0.0.0.0");
	sl = inany_sockaddr(&sa.ss, &any, id);
	ok = !bind(fd, &sa.sa, sl);
	close(fd);
	return ok;
}

/* The host side uses the guest's identifier; it moves, sequence goes on */
static void icmp_round_trip(int af)
{
	struct mig_icmp_flow r;

	assert_int_equal(guest_ping(af, 0x4242, 1), 0);
	assert_echo_reply(0x4242, 1);
	assert_false(ping_id_free(af, 0x4242));	/* ours */

	mig_buf_free(&b);
	assert_int_equal(icmp_mig_save(&c, &b), 0);
	assert_int_equal(b.len, 4 + IREC);
	memcpy(&r, b.p + 4, sizeof(r));
	assert_int_equal(ntohs(r.id), 0x4242);
	assert_int_equal(ntohs(r.hid), 0x4242);
	assert_int_equal(ntohs(r.seq), 1);

	icmp_mig_release(&c);
	assert_true(ping_id_free(af, 0x4242));

	assert_int_equal(icmp_mig_check(&c, b.p, b.len), 0);
	assert_int_equal(icmp_mig_stage(&c, b.p, b.len), 0);
	assert_false(ping_id_free(af, 0x4242));	/* staged, holds it */
	icmp_mig_activate(&c);
	assert_int_equal(guest_ping(af, 0x4242, 2), 0);
	assert_echo_reply(0x4242, 2);
}

static void test_icmp_migrate_round_trip_v4(void **state)
{
	(void)state;
	icmp_round_trip(AF_INET);
}

static void test_icmp_migrate_round_trip_v6(void **state)
{
	(void)state;
	icmp_round_trip(AF_INET6);
}

/* The guest's identifier taken: the kernel picks one, which then moves */
static void test_icmp_migrate_id_taken(void **state)
{
	union inany_addr any = any4("0.0.0.0");
	struct mig_icmp_flow r;
	union sockaddr_inany sa;
	socklen_t sl = inany_sockaddr(&sa.ss, &any, 0x4343);
	int h = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

	(void)state;
	assert_true(h >= 0);
	assert_int_equal(bind(h, &sa.sa, sl), 0);
	assert_int_equal(guest_ping(AF_INET, 0x4343, 7), 0);
	assert_echo_reply(0x4343, 7);
	mig_buf_free(&b);
	assert_int_equal(icmp_mig_save(&c, &b), 0);
	memcpy(&r, b.p + 4, sizeof(r));
	assert_int_not_equal(ntohs(r.hid), 0x4343);
	assert_int_not_equal(ntohs(r.hid), 0);
	close(h);

	/* Its identifier held on the target: waits, then carries on */
	icmp_mig_release(&c);
	h = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
	sl = inany_sockaddr(&sa.ss, &any, ntohs(r.hid));
	assert_int_equal(bind(h, &sa.sa, sl), 0);
	assert_int_equal(icmp_mig_stage(&c, b.p, b.len), 0);
	icmp_mig_activate(&c);
	assert_int_equal(guest_ping(AF_INET, 0x4343, 8), -EAGAIN);
	close(h);
	icmp_mig_timer(&c);
	assert_int_equal(guest_ping(AF_INET, 0x4343, 9), 0);
	assert_echo_reply(0x4343, 9);
	assert_false(ping_id_free(AF_INET, ntohs(r.hid)));
}

static void icmp_rec(struct mig_icmp_flow *r)
{
	memset(r, 0, sizeof(*r));
	inany_from_v4((union inany_addr *)r->dst, a4("192.0.2.1"));
	inany_from_v4((union inany_addr *)r->src, a4("192.0.2.2"));
	r->id = htons(1);
	r->hid = htons(1);
	r->seq = htons(5);
}

static int icmp_check_one(const struct mig_icmp_flow *r)
{
	uint8_t pl[4 + IREC];

	put32(pl, 1);
	memcpy(pl + 4, r, sizeof(*r));
	return icmp_mig_check(&c, pl, sizeof(pl));
}

static void test_icmp_migrate_check_refuses(void **state)
{
	struct mig_icmp_flow r;
	uint8_t pl[4 + 2 * IREC];
	size_t len;

	(void)state;
	icmp_rec(&r);
	assert_int_equal(icmp_check_one(&r), 0);
	memcpy(r.src, &in6addr_loopback, 16);		/* families differ */
	assert_int_equal(icmp_check_one(&r), -EINVAL);
	icmp_rec(&r);
	r.hid = 0;					/* "port" 0 */
	assert_int_equal(icmp_check_one(&r), -EINVAL);
	icmp_rec(&r);
	r.pad = htons(1);
	assert_int_equal(icmp_check_one(&r), -EINVAL);
	icmp_rec(&r);
	inany_from_v4((union inany_addr *)r.dst, a4("255.255.255.255"));
	assert_int_equal(icmp_check_one(&r), -EINVAL);
	icmp_rec(&r);
	memcpy(r.dst, &(struct in6_addr)IN6ADDR_ANY_INIT, 16);
	memcpy(r.src, &in6addr_loopback, 16);
	assert_int_equal(icmp_check_one(&r), -EINVAL);

	/* Truncated, and one flow twice */
	icmp_rec(&r);
	put32(pl, 2);
	memcpy(pl + 4, &r, IREC);
	memcpy(pl + 4 + IREC, &r, IREC);
	for (len = 0; len < sizeof(pl); len++)
		assert_int_equal(icmp_mig_check(&c, pl, len), -EINVAL);
	assert_int_equal(icmp_mig_check(&c, pl, sizeof(pl)), -EINVAL);
	r.id = htons(2);
	memcpy(pl + 4 + IREC, &r, IREC);
	assert_int_equal(icmp_mig_check(&c, pl, sizeof(pl)), 0);
	put32(pl, ICMP_FLOWS + 1);
	assert_int_equal(icmp_mig_check(&c, pl, sizeof(pl)), -EINVAL);
}

/* ---------------------------------------------------------------- */
/* Versions                                                          */
/* ---------------------------------------------------------------- */

/* Start a stream of ours (version 2) with one UDP and one ICMP flow */
static uint16_t build_with_flows(int *s)
{
	uint16_t sport = 0;

	*s = server(AF_INET, &sport);
	assert_int_equal(guest_udp(AF_INET, 5555, sport, "one"), 0);
	recv_from(*s, "one");
	assert_int_equal(guest_ping(AF_INET, 0x5151, 1), 0);
	assert_echo_reply(0x5151, 1);
	mig_buf_free(&b);
	assert_int_equal(migrate_build(&c, &b), 0);
	assert_int_equal(get32(b.p + 8), 2);	/* version */
	assert_int_equal(get32(b.p + 12), 2);	/* oldest reader */
	udp_mig_release(&c);
	icmp_mig_release(&c);
	flow_defer_handler();
	return sport;
}

/* A version 2 reader reads a version 1 stream: no UDP or ICMP section */
static void test_migrate_v2_reads_v1_stream(void **state)
{
	struct mig_buf v1 = { 0 };
	struct mig_hdr h = {
		htobe64(MIGRATE_MAGIC), htonl(1), htonl(1),
	};
	uint8_t g[sizeof(struct mig_guest)] = { 0 };
	__be32 zero = 0;

	(void)state;
	g[7] = 1;			/* IPv4 on the source */
	g[9] = 24;
	memcpy(g + 12, "\xc0\x00\x02\x09", 4);	/* 192.0.2.9 */
	assert_int_equal(mig_buf_put(&v1, &h, sizeof(h)), 0);
	sec_put(&v1, MIG_SEC_GUEST, g, sizeof(g));
	sec_put(&v1, MIG_SEC_TCP, &zero, sizeof(zero));
	sec_put(&v1, MIG_SEC_END, NULL, 0);

	assert_int_equal(migrate_parse(&c, v1.p, v1.len, refs), 2);
	assert_int_equal(refs[0].sec->id, MIG_SEC_GUEST);
	assert_int_equal(refs[1].sec->id, MIG_SEC_TCP);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(c.ip4.addr.s_addr, a4("192.0.2.9").s_addr);
	assert_int_equal(flow_stats()->active, 0);
	mig_buf_free(&v1);
}

/* A version 1 reader (our table for version 1) would skip every new
 * section, after its CRC, the compact TCP records (section 5) included:
 * that is why our streams say min_version 2, and a version 1 daemon
 * refuses them (test_migrate_version_newer_refused covers the refusal)
 */
static void test_migrate_v1_reader_skips_new_sections(void **state)
{
	uint8_t *flip;
	int s, n;

	(void)state;
	build_with_flows(&s);

	put32(b.p + 8, 1);	/* read with the v1 table */
	put32(b.p + 12, 1);
	logs[0] = 0;
	n = migrate_parse(&c, b.p, b.len, refs);
	assert_int_equal(n, 4);
	assert_int_equal(refs[0].sec->id, MIG_SEC_GUEST);
	assert_null(refs[1].sec);		/* TCP, section 5 */
	assert_null(refs[2].sec);
	assert_null(refs[3].sec);
	assert_int_equal(refs[2].len, 4 + UREC);
	assert_int_equal(refs[3].len, 4 + IREC);
	assert_true(logged("skipping unknown section 5"));
	assert_true(logged("skipping unknown section 3"));
	assert_true(logged("skipping unknown section 4"));
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(flow_stats()->active, 0);	/* nothing of them */

	/* Skipped, but still checked: a flipped byte fails the stream */
	flip = (uint8_t *)refs[2].p + 10;
	*flip ^= 1;
	assert_true(migrate_parse(&c, b.p, b.len, refs) < 0);
	assert_true(logged("bad CRC"));

	/* Our own version reads them all back */
	*flip ^= 1;
	put32(b.p + 8, 2);
	put32(b.p + 12, 2);
	assert_int_equal(migrate_parse(&c, b.p, b.len, refs), 4);
	assert_int_equal(refs[2].sec->id, MIG_SEC_UDP);
	assert_int_equal(refs[3].sec->id, MIG_SEC_ICMP);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(flow_stats()->active, 1);
	udp_mig_activate(&c);
	icmp_mig_activate(&c);
	assert_int_equal(guest_ping(AF_INET, 0x5151, 2), 0);
	assert_echo_reply(0x5151, 2);
	close(s);
}

/* A hostile UDP section refuses the whole stream, with nothing applied */
static void test_migrate_bad_udp_section_refused(void **state)
{
	struct mig_buf bad = { 0 };
	struct mig_udp_flow r;
	static struct ctx before;
	uint8_t pl[4 + UREC];
	int s;

	(void)state;
	build_with_flows(&s);
	memcpy(&before, &c, sizeof(c));

	/* Our stream, its UDP record with port 0 */
	assert_int_equal(migrate_parse(&c, b.p, b.len, refs), 4);
	memcpy(pl, refs[2].p, sizeof(pl));
	memcpy(&r, pl + 4, sizeof(r));
	r.lport = 0;
	memcpy(pl + 4, &r, sizeof(r));
	assert_int_equal(mig_buf_put(&bad, b.p, sizeof(struct mig_hdr)), 0);
	sec_put(&bad, MIG_SEC_GUEST, refs[0].p, refs[0].len);
	sec_put(&bad, MIG_SEC_UDP, pl, sizeof(pl));
	sec_put(&bad, MIG_SEC_END, NULL, 0);
	assert_int_equal(migrate_parse(&c, bad.p, bad.len, refs), -EINVAL);
	assert_true(logged("UDP state refused"));
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(flow_stats()->active, 0);
	mig_buf_free(&bad);
	close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_udp_migrate_round_trip_v4),
		T(test_udp_migrate_round_trip_v6),
		T(test_udp_migrate_port_held),
		T(test_udp_migrate_port_held_gives_up),
		T(test_udp_migrate_unstage_and_reload),
		T(test_udp_migrate_forwarded),
		T(test_udp_migrate_check_refuses),
		T(test_udp_migrate_twice_in_stream),
		T(test_icmp_migrate_round_trip_v4),
		T(test_icmp_migrate_round_trip_v6),
		T(test_icmp_migrate_id_taken),
		T(test_icmp_migrate_check_refuses),
		T(test_migrate_v2_reads_v1_stream),
		T(test_migrate_v1_reader_skips_new_sections),
		T(test_migrate_bad_udp_section_refused),
#undef T
	};

	netns_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
