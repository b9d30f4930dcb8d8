// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/migrate.c - The device state stream, and the transfer around it
 *
 * What is tested, against the real migrate.o and tcp_migrate.o:
 *
 * - crc32c() against published check values and a bitwise reference
 * - streams written by migrate_build(), checked byte by byte against the
 *   layout tables in doc/migration.md, read back into another context
 * - hostile streams, built here by hand with correct CRCs (sb_*()): every
 *   truncation, a flipped byte at every offset, the version rules, each
 *   field check of the guest and TCP sections, and random mutations of
 *   both sections compared with a naive reference checker written from
 *   the documentation (ref_guest_ok(), ref_tcp_check())
 * - the transfer as QEMU drives it: migrate_devstate_ops with real pipes
 *   and a real epoll instance, for loads and saves, short, early closed,
 *   full pipes, replaced and abandoned transfers
 * - TCP records applied without a working helper: sockets are made and
 *   dropped, nothing leaks
 * - as root only (CAP_NET_ADMIN, else skipped): real connections over
 *   loopback frozen, dumped, closed and rebuilt with TCP_REPAIR
 *
 * Wrapped functions (-Wl,--wrap=...):
 * - tap_send_l4(): counts frames that would go to the guest
 * - repair_ready(), repair_set(): the real ones (c.repair_fd decides), or
 *   a fake helper that claims success, fails every request, or sets
 *   TCP_REPAIR itself in this process (root)
 * - socket(): fails on demand (all calls, or the n-th)
 * - recv(): passes through; on demand, makes the peer send one more byte
 *   while the daemon peeks at a receive queue in repair mode
 * - close(): passes through; on demand, makes the peer send a few bytes
 *   just before the daemon closes a socket it dumped
 * - logmsg(): keeps the recent messages, so tests check what is logged;
 *   MIGRATE_TEST_DEBUG=1 in the environment also prints them
 *
 * Descriptors are counted in /proc/self/fd around every test.
 */

/* WRAP: tap_send_l4 repair_ready setsockopt repair_set socket recv close logmsg */

#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "passt.h"
#include "flow.h"
#include "migrate.h"
#include "repair.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "tcp_migrate.h"
#include "common.h"

/* The layouts in doc/migration.md, checked against the wire structs */
static_assert(offsetof(struct mig_guest, mac_set) == 6, "doc");
static_assert(offsetof(struct mig_guest, v4) == 7, "doc");
static_assert(offsetof(struct mig_guest, v6) == 8, "doc");
static_assert(offsetof(struct mig_guest, prefix4) == 9, "doc");
static_assert(offsetof(struct mig_guest, prefix6) == 10, "doc");
static_assert(offsetof(struct mig_guest, addr4) == 12, "doc");
static_assert(offsetof(struct mig_guest, addr4_seen) == 16, "doc");
static_assert(offsetof(struct mig_guest, addr6) == 20, "doc");
static_assert(offsetof(struct mig_guest, addr6_seen) == 36, "doc");
static_assert(offsetof(struct mig_guest, addr6_ll_seen) == 52, "doc");
static_assert(offsetof(struct mig_tcp_conn, gport) == 32, "doc");
static_assert(offsetof(struct mig_tcp_conn, state) == 36, "doc");
static_assert(offsetof(struct mig_tcp_conn, ws_guest) == 37, "doc");
static_assert(offsetof(struct mig_tcp_conn, flags) == 38, "doc");
static_assert(offsetof(struct mig_tcp_conn, mss) == 40, "doc");
static_assert(offsetof(struct mig_tcp_conn, seq_to_guest) == 44, "doc");
static_assert(offsetof(struct mig_tcp_conn, wnd_to_guest) == 68, "doc");
static_assert(offsetof(struct mig_tcp_conn, laddr) == 72, "doc");
static_assert(offsetof(struct mig_tcp_conn, raddr) == 88, "doc");
static_assert(offsetof(struct mig_tcp_conn, lport) == 104, "doc");
static_assert(offsetof(struct mig_tcp_conn, rport) == 106, "doc");
static_assert(offsetof(struct mig_tcp_conn, snd_una) == 108, "doc");
static_assert(offsetof(struct mig_tcp_conn, rcv_seq) == 112, "doc");
static_assert(offsetof(struct mig_tcp_conn, sndq_len) == 116, "doc");
static_assert(offsetof(struct mig_tcp_conn, sndq_unsent) == 120, "doc");
static_assert(offsetof(struct mig_tcp_conn, rcvq_len) == 124, "doc");
static_assert(offsetof(struct mig_tcp_conn, mss_host) == 128, "doc");
static_assert(offsetof(struct mig_tcp_conn, snd_wscale) == 132, "doc");
static_assert(offsetof(struct mig_tcp_conn, rcv_wscale) == 133, "doc");
static_assert(offsetof(struct mig_tcp_conn, opts) == 134, "doc");
static_assert(offsetof(struct mig_tcp_conn, fin) == 135, "doc");
static_assert(offsetof(struct mig_tcp_conn, timestamp) == 136, "doc");
static_assert(offsetof(struct mig_tcp_conn, snd_wl1) == 140, "doc");

#define GUEST_LEN	68		/* doc: section 1 */
#define REC_LEN		160		/* doc: section 2, per connection */
#define QUEUE_MAX	(64U << 20)	/* doc: "at most 64 MiB" */
#define SB_SIZE		(4U << 20)	/* streams built or read here */

static struct ctx c;		/* the daemon under test: the target */
static struct ctx src;		/* a source, for migrate_build() */
static struct ctx snap;		/* copy of c, to show nothing changed */
static struct ctx want;		/* what c should become */
static int fd_base;		/* descriptors open before the test */
static int kept[8];		/* test's own sockets, closed at teardown */
static unsigned nkept;
static struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];

/* ---------------------------------------------------------------- */
/* Wrapped functions                                                 */
/* ---------------------------------------------------------------- */

static unsigned tap_frames;

/* Test double: frames to the guest are only counted */
int __wrap_tap_send_l4(struct ctx *cc, const union inany_addr *s,
		       const union inany_addr *d, uint8_t proto,
		       const struct iovec *l4, size_t cnt)
{
	(void)cc;
	(void)s;
	(void)d;
	(void)proto;
	(void)l4;
	(void)cnt;
	tap_frames++;
	return 0;
}

/* How repair_ready() and repair_set() behave */
enum helper_mode {
	HELPER_REAL,		/* repair.c itself: c.repair_fd decides */
	HELPER_FAKE_OK,		/* "connected", claims success, does nothing */
	HELPER_FAKE_FAIL,	/* "connected", every request fails */
	HELPER_INPROC,		/* "connected", sets TCP_REPAIR here (root) */
};

static enum helper_mode helper;
static unsigned repair_requests;

bool __real_repair_ready(const struct ctx *cc);
int __real_repair_set(struct ctx *cc, const int *fds, size_t n, int cmd);

/* Test double: is the helper there? */
bool __wrap_repair_ready(const struct ctx *cc)
{
	if (helper == HELPER_REAL)
		return __real_repair_ready(cc);
	return true;
}

static bool filter_eperm;	/* attaching filters takes the helper */
static unsigned helper_filters;	/* sockets it attached or detached one */

int __real_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len);
int __wrap_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len);

/* Test double: setsockopt(), as on kernels where only CAP_NET_ADMIN may
 * attach a socket filter, if filter_eperm
 */
int __wrap_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len)
{
	if (filter_eperm && level == SOL_SOCKET && name == SO_ATTACH_FILTER) {
		errno = EPERM;
		return -1;
	}
	return __real_setsockopt(fd, level, name, v, len);
}

/* What passt-repair does with a command, here in the test */
static int inproc_apply(int fd, int cmd)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { 1, &drop };
	int v = cmd;

	if (cmd == REPAIR_DEAF)
		return __real_setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER,
					 &prog, sizeof(prog));
	if (cmd == REPAIR_HEAR)
		return __real_setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v,
					 sizeof(v)) && errno != ENOENT ? -1 : 0;
	return __real_setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &v, sizeof(v));
}

/* Test double: passt-repair's commands for @n sockets */
int __wrap_repair_set(struct ctx *cc, const int *fds, size_t n, int cmd)
{
	int rc = 0;
	size_t i;

	repair_requests++;
	switch (helper) {
	case HELPER_REAL:
		return __real_repair_set(cc, fds, n, cmd);
	case HELPER_FAKE_OK:
		return 0;
	case HELPER_FAKE_FAIL:
		return n ? -EIO : 0;
	case HELPER_INPROC:
		if (cmd == REPAIR_DEAF || cmd == REPAIR_HEAR)
			helper_filters += n;
		for (i = 0; i < n; i++) {
			if (inproc_apply(fds[i], cmd) && !rc)
				rc = -errno;
		}
		return rc;
	}
	return -EINVAL;
}

static int socket_fail_at;	/* fail the n-th call from now, 0: none */
static bool socket_fail_all;
static unsigned socket_calls;

int __real_socket(int domain, int type, int protocol);

/* Test double: socket(), failing on demand */
int __wrap_socket(int domain, int type, int protocol)
{
	socket_calls++;
	if (socket_fail_all ||
	    (socket_fail_at && (int)socket_calls == socket_fail_at)) {
		errno = EMFILE;
		return -1;
	}
	return __real_socket(domain, type, protocol);
}

static int inject_fd = -1;	/* socket the daemon dumps */
static int inject_peer = -1;	/* its peer: sends a byte meanwhile */
static bool injected;

ssize_t __real_recv(int fd, void *buf, size_t len, int flags);

/* Wait until @fd holds more than @inq bytes in its receive queue */
static bool inq_grows(int fd, int inq)
{
	int i, now = 0;

	for (i = 0; i < 1000; i++) {
		if (!ioctl(fd, SIOCINQ, &now) && now > inq)
			return true;
		usleep(1000);
	}
	return false;
}

static bool injected_queued;	/* the frozen socket took it */

/* Test double: recv(), and a segment arriving in the middle of a dump */
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = __real_recv(fd, buf, len, flags);
	int q = -1, inq = 0, saved = errno;
	socklen_t sl = sizeof(q);

	if (fd != inject_fd || injected || !(flags & MSG_PEEK))
		return n;
	if (getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, &sl) ||
	    q != TCP_RECV_QUEUE)
		return n;

	injected = send(inject_peer, "!", 1, MSG_NOSIGNAL) == 1;
	ioctl(fd, SIOCINQ, &inq);
	injected_queued = inq_grows(fd, inq);
	errno = saved;
	return n;
}

static int late_fd = -1;	/* socket the daemon will close */
static int late_peer = -1;	/* its peer: sends just before that */
static bool late_done;
static bool late_queued;	/* the frozen socket took it */

int __real_close(int fd);

/* Test double: close(), and data arriving between a dump and the close */
int __wrap_close(int fd)
{
	if (fd >= 0 && fd == late_fd) {
		int inq = 0;

		late_fd = -1;
		ioctl(fd, SIOCINQ, &inq);
		late_done = send(late_peer, "late", 4, MSG_NOSIGNAL) == 4;
		late_queued = inq_grows(fd, inq);
	}
	return __real_close(fd);
}

#define LOG_KEEP	64

static struct {
	int pri;
	char msg[256];
} logs[LOG_KEEP];
static unsigned nlogs;
static bool log_echo;

void __real_logmsg(int pri, const char *fmt, ...);
void __wrap_logmsg(int pri, const char *fmt, ...) PRINTF(2, 3);

/* Test double: keep messages, print them only when asked to */
void __wrap_logmsg(int pri, const char *fmt, ...)
{
	unsigned slot = nlogs++ % LOG_KEEP;
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logs[slot].msg, sizeof(logs[slot].msg), fmt, ap);
	va_end(ap);
	logs[slot].pri = pri;
	if (log_echo)
		__real_logmsg(pri, "%s", logs[slot].msg);
	errno = saved;
}

static void log_clear(void)
{
	memset(logs, 0, sizeof(logs));
	nlogs = 0;
}

/* Was a message with @needle logged at @maxpri or more urgent? */
static bool logged(int maxpri, const char *needle)
{
	unsigned i, n = nlogs < LOG_KEEP ? nlogs : LOG_KEEP;

	for (i = 0; i < n; i++) {
		if (logs[i].pri <= maxpri && strstr(logs[i].msg, needle))
			return true;
	}
	return false;
}

/* Print the kept messages: for a failure's diagnosis */
static void log_dump(void)
{
	unsigned i, n = nlogs < LOG_KEEP ? nlogs : LOG_KEEP;

	for (i = 0; i < n; i++)
		print_error("  logged: %s\n", logs[(nlogs - n + i) % LOG_KEEP].msg);
}

/* ---------------------------------------------------------------- */
/* Harness                                                           */
/* ---------------------------------------------------------------- */

/* A context as conf.c leaves it: no helper, no forwarded ports */
static void ctx_base(struct ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->mode_vu = true;
	x->repair_fd = x->repair_listen_fd = x->fd_conn = -1;
	x->timerfd = x->epollfd = -1;
	snprintf(x->repair_path, sizeof(x->repair_path),
		 "/nonexistent/migrate-test.repair");
	x->mtu = 65520;
	x->v4 = x->v6 = true;
	x->our_mac[0] = 0x9a;
	x->our_mac[5] = 0x01;
	x->ip4.gw = a4("10.0.2.2");
	x->ip6.gw = a6("fe80::1");
}

/* The source: what it learnt about its guest */
static void ctx_source(struct ctx *x)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	ctx_base(x);
	memcpy(x->guest_mac, mac, sizeof(mac));
	x->guest_mac_set = true;
	x->ip4.addr = a4("10.0.2.15");
	x->ip4.prefix_len = 24;
	x->ip4.addr_seen = a4("10.0.2.16");
	x->ip6.addr = a6("2001:db8::15");
	x->ip6.prefix_len = 64;
	x->ip6.addr_seen = a6("2001:db8::16");
	x->ip6.addr_ll_seen = a6("fe80::5054:ff:fe12:3456");
}

/* The target: configured differently, knows nothing of the guest yet */
static void ctx_target(struct ctx *x)
{
	ctx_base(x);
	x->ip4.addr = a4("192.168.7.10");
	x->ip4.prefix_len = 16;
	x->ip6.addr = a6("2001:db8:7::10");
	x->ip6.prefix_len = 48;
	x->ip6.addr_ll_seen = a6("fe80::7");
}

static void snapshot(void)
{
	memcpy(&snap, &c, sizeof(c));
}

static void assert_unchanged(void)
{
	assert_memory_equal(&c, &snap, sizeof(c));
}

static void drop_tcp_flows(void)
{
	int idx;

	while ((idx = flow_next(FLOW_TCP, -1)) >= 0)
		tcp_conn_drop(&c, (unsigned)idx);
	flow_defer_handler();
}

static int setup(void **state)
{
	(void)state;
	helper = HELPER_REAL;
	socket_fail_all = false;
	socket_fail_at = 0;
	socket_calls = 0;
	inject_fd = inject_peer = -1;
	injected = false;
	late_fd = late_peer = -1;
	late_done = late_queued = injected_queued = false;
	tap_frames = 0;
	repair_requests = 0;
	filter_eperm = false;
	helper_filters = 0;
	log_clear();

	fd_base = fd_count();
	ctx_source(&src);
	ctx_target(&c);
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);
	src.epollfd = c.epollfd;
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	flow_init();
	assert_int_equal(tcp_init(&c), 0);
	migrate_init(&c);
	assert_ptr_equal(c.vdev.devstate, &migrate_devstate_ops);
	assert_ptr_equal(c.vdev.devstate_opaque, &c);
	snapshot();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	c.vdev.devstate->reset(c.vdev.devstate_opaque);
	drop_tcp_flows();
	while (nkept) {		/* the daemon closed some: EBADF */
		int fd = kept[--nkept];

		if (fd != c.epollfd)
			close(fd);
	}
	helper = HELPER_REAL;
	socket_fail_all = false;
	socket_fail_at = 0;
	inject_fd = late_fd = -1;
	close(c.epollfd);
	if (fd_count() != fd_base) {
		print_error("descriptors leaked: %d before, %d after\n",
			    fd_base, fd_count());
		return -1;
	}
	return 0;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 8) + 5);
}

/* ---------------------------------------------------------------- */
/* Streams built by hand                                             */
/* ---------------------------------------------------------------- */

/**
 * struct sb - A stream or a section payload being built
 * @b:		Bytes
 * @len:	Used
 */
struct sb {
	uint8_t b[SB_SIZE];
	size_t len;
};

static struct sb s1, s2, tp;

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void sb_raw(struct sb *s, const void *p, size_t len)
{
	assert_true(len <= SB_SIZE - s->len);
	if (len)
		memcpy(s->b + s->len, p, len);
	s->len += len;
}

/* Start a stream: magic as the doc spells it, then the versions */
static void sb_hdr(struct sb *s, uint32_t version, uint32_t min_version)
{
	static const uint8_t magic[8] = { 'p', 'a', 's', 's', 't', 'v', 'm',
					  's' };
	uint8_t v[8];

	s->len = 0;
	sb_raw(s, magic, sizeof(magic));
	be32_put(v, version);
	be32_put(v + 4, min_version);
	sb_raw(s, v, sizeof(v));
}

/* Append a section: id, length, payload, correct CRC32C */
static void sb_sec(struct sb *s, uint32_t id, const void *p, size_t len)
{
	size_t start = s->len;
	uint8_t h[8], t[4];

	be32_put(h, id);
	be32_put(h + 4, (uint32_t)len);
	sb_raw(s, h, sizeof(h));
	sb_raw(s, p, len);
	be32_put(t, crc32c(0, s->b + start, sizeof(h) + len));
	sb_raw(s, t, sizeof(t));
}

static void sb_end(struct sb *s)
{
	sb_sec(s, MIG_SEC_END, NULL, 0);
}

/* Section 1 payload from a context, at the offsets of the doc's table */
static void guest_put(uint8_t *p, const struct ctx *x)
{
	memset(p, 0, GUEST_LEN);
	memcpy(p, x->guest_mac, 6);
	p[6] = x->guest_mac_set;
	p[7] = x->v4;
	p[8] = x->v6;
	p[9] = (uint8_t)x->ip4.prefix_len;
	p[10] = (uint8_t)x->ip6.prefix_len;
	memcpy(p + 12, &x->ip4.addr, 4);
	memcpy(p + 16, &x->ip4.addr_seen, 4);
	memcpy(p + 20, &x->ip6.addr, 16);
	memcpy(p + 36, &x->ip6.addr_seen, 16);
	memcpy(p + 52, &x->ip6.addr_ll_seen, 16);
}

/* What applying section 1 does to a context, as the doc says */
static void guest_ref_apply(struct ctx *x, const uint8_t *p)
{
	if (p[6]) {
		memcpy(x->guest_mac, p, 6);
		x->guest_mac_set = true;
	}
	if (p[7] && x->v4) {
		memcpy(&x->ip4.addr, p + 12, 4);
		x->ip4.prefix_len = p[9];
		memcpy(&x->ip4.addr_seen, p + 16, 4);
	}
	if (p[8] && x->v6) {
		memcpy(&x->ip6.addr, p + 20, 16);
		x->ip6.prefix_len = p[10];
		memcpy(&x->ip6.addr_seen, p + 36, 16);
		memcpy(&x->ip6.addr_ll_seen, p + 52, 16);
	}
}

/* Naive checker of a section 1 payload, from the doc */
static bool ref_guest_ok(const uint8_t *p, size_t len)
{
	return len == GUEST_LEN && p[6] <= 1 && p[7] <= 1 && p[8] <= 1 &&
	       p[9] <= 32 && p[10] <= 128;
}

static void mapped4(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, s, a + 12), 1);
}

static void addr6(uint8_t *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* A valid TCP record, number @i, with queue lengths as given */
static void rec_init(struct mig_tcp_conn *r, unsigned i, bool v6,
		     uint32_t sndq, uint32_t unsent, uint32_t rcvq)
{
	memset(r, 0, sizeof(*r));
	if (v6) {
		addr6(r->gaddr, "2001:db8::15");
		addr6(r->faddr, "2001:db8:1::1");
		addr6(r->laddr, "::1");
		addr6(r->raddr, "::1");
	} else {
		mapped4(r->gaddr, "10.0.2.15");
		mapped4(r->faddr, "10.0.2.2");
		mapped4(r->laddr, "127.0.0.1");
		mapped4(r->raddr, "127.0.0.1");
	}
	r->gport = htons((uint16_t)(40000 + i));
	r->fport = htons((uint16_t)(7000 + i));
	r->state = CS_ESTABLISHED;
	r->ws_guest = 7;
	r->flags = htons(CONN_WS);
	r->mss = htons(1460);
	r->seq_to_guest = htonl(0x1000 + i);
	r->seq_acked = htonl(0x1000 + i);
	r->seq_max = htonl(0x1000 + i);
	r->seq_from_guest = htonl(0xfffffff0 + i);
	r->wnd_from_guest = htonl(65535U << 7);
	r->wnd_to_guest = htonl(65535);
	r->lport = htons((uint16_t)(45000 + i));
	r->rport = htons((uint16_t)(7000 + i));
	r->snd_una = htonl(0x20000 + i);
	r->rcv_seq = htonl(0x30000 + i);
	r->sndq_len = htonl(sndq);
	r->sndq_unsent = htonl(unsent);
	r->rcvq_len = htonl(rcvq);
	r->mss_host = htonl(65483);
	r->snd_wscale = 7;
	r->rcv_wscale = 7;
	r->opts = 7;
	r->timestamp = htonl(12345);
	r->snd_wnd = htonl(65535);
	r->max_window = htonl(65535);
	r->rcv_wnd = htonl(65535);
	r->snd_wl1 = htonl(0x30000 + i);
	r->rcv_wup = htonl(0x30000 + i + rcvq);
}

/* Start a TCP payload: the count */
static void tp_begin(struct sb *t, uint32_t count)
{
	uint8_t b[4];

	t->len = 0;
	be32_put(b, count);
	sb_raw(t, b, sizeof(b));
}

/* Append a record and as many queue bytes as it announces */
static void tp_rec(struct sb *t, const struct mig_tcp_conn *r)
{
	size_t q = (size_t)ntohl(r->sndq_len) + ntohl(r->rcvq_len), i;

	sb_raw(t, r, sizeof(*r));
	assert_true(q <= SB_SIZE - t->len);
	for (i = 0; i < q; i++)
		t->b[t->len + i] = pattern(i);
	t->len += q;
}

/* Naive checker of a section 2 payload, from the doc's table */
static bool ref_mapped(const uint8_t *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

static int ref_tcp_check(const uint8_t *p, size_t len, unsigned active)
{
	size_t off = 4;
	uint32_t n, i;

	if (len < 4)
		return -EINVAL;
	n = be32_get(p);
	if ((uint64_t)n + active > FLOW_MAX)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		const uint8_t *r = p + off;
		uint32_t s, u, q;
		bool closed;

		if (len - off < REC_LEN)
			return -EINVAL;
		closed = r[135] & 4;	/* host side gone: no addresses */
		if (r[36] != 4 || r[37] > 14 || !be16_get(r + 40) ||
		    r[132] > 14 || r[133] > 14 || (r[135] & ~7))
			return -EINVAL;
		if (ref_mapped(r) != ref_mapped(r + 16) ||
		    (!closed && ref_mapped(r + 72) != ref_mapped(r + 88)))
			return -EINVAL;
		if (!be16_get(r + 32) || !be16_get(r + 34) ||
		    (!closed && (!be16_get(r + 104) || !be16_get(r + 106))))
			return -EINVAL;
		s = be32_get(r + 116);
		u = be32_get(r + 120);
		q = be32_get(r + 124);
		if (closed && s)
			return -EINVAL;
		if (s > QUEUE_MAX || q > QUEUE_MAX || u > s ||
		    (uint64_t)s + q > len - off - REC_LEN)
			return -EINVAL;
		off += REC_LEN + s + q;
	}
	return off == len ? 0 : -EINVAL;
}

/* A whole stream: header, guest section of @src, TCP payload, end */
static void sb_full(struct sb *s, uint32_t version, uint32_t min_version,
		    const struct sb *tcp)
{
	uint8_t g[GUEST_LEN];

	guest_put(g, &src);
	sb_hdr(s, version, min_version);
	sb_sec(s, MIG_SEC_GUEST, g, sizeof(g));
	if (tcp)
		sb_sec(s, MIG_SEC_TCP, tcp->b, tcp->len);
	sb_end(s);
}

/* A stream with just one section */
static void sb_one(struct sb *s, uint32_t id, const void *p, size_t len)
{
	sb_hdr(s, MIGRATE_VERSION, MIGRATE_MIN_VERSION);
	sb_sec(s, id, p, len);
	sb_end(s);
}

static int parse(const struct sb *s)
{
	return migrate_parse(&c, s->b, s->len, refs);
}

/* Parse a stream with only this TCP payload */
static int parse_tcp(const struct sb *t)
{
	sb_one(&s2, MIG_SEC_TCP, t->b, t->len);
	return parse(&s2);
}

/* Three records: IPv4 with both queues, IPv6 without, IPv4 small ones */
static void tp_three(struct sb *t)
{
	struct mig_tcp_conn r;

	tp_begin(t, 3);
	rec_init(&r, 0, false, 40, 10, 25);
	tp_rec(t, &r);
	rec_init(&r, 1, true, 0, 0, 0);
	tp_rec(t, &r);
	rec_init(&r, 2, false, 5, 5, 7);
	tp_rec(t, &r);
}

/* ---------------------------------------------------------------- */
/* The transfer, as QEMU drives it                                   */
/* ---------------------------------------------------------------- */

static int x_start(int fd, uint32_t dir)
{
	return c.vdev.devstate->start(c.vdev.devstate_opaque, fd, dir);
}

static int x_check(void)
{
	return c.vdev.devstate->check(c.vdev.devstate_opaque);
}

static void x_reset(void)
{
	c.vdev.devstate->reset(c.vdev.devstate_opaque);
}

/* Load @len bytes through a pipe whose writer is closed; check() */
static int load_pipe(const uint8_t *p, size_t len, bool handler)
{
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_true(len <= (size_t)fcntl(fds[1], F_GETPIPE_SZ));
	assert_int_equal(write_all(fds[1], p, len), 0);
	close(fds[1]);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	if (handler)
		migrate_handler(&c, EPOLLIN | EPOLLHUP);
	return x_check();
}

/* Load a stream of any size, written in pieces as the pipe takes them */
static int load_pieces(const uint8_t *p, size_t len)
{
	size_t off = 0;
	int fds[2], i;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	for (i = 0; off < len && i < 100000; i++) {
		ssize_t n = write(fds[1], p + off, len - off);

		if (n > 0)
			off += (size_t)n;
		else
			assert_int_equal(errno, EAGAIN);
		migrate_handler(&c, EPOLLIN);
	}
	assert_int_equal(off, len);
	close(fds[1]);
	migrate_handler(&c, EPOLLIN | EPOLLHUP);
	return x_check();
}

/* Save through a pipe, read as QEMU reads it, into @s; check() */
static int save_pipe(struct sb *s)
{
	int fds[2], i;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	s->len = 0;
	for (i = 0; i < 100000; i++) {
		ssize_t n = read(fds[0], s->b + s->len, SB_SIZE - s->len);

		if (!n)
			break;
		if (n > 0) {
			s->len += (size_t)n;
			continue;
		}
		assert_int_equal(errno, EAGAIN);
		migrate_handler(&c, EPOLLOUT);
	}
	assert_true(i < 100000);	/* the daemon closed its end */
	close(fds[0]);
	return x_check();
}

/* ---------------------------------------------------------------- */
/* Tests: CRC32C                                                     */
/* ---------------------------------------------------------------- */

/* Bitwise, reflected, polynomial 0x1edc6f41 (0x82f63b78 reversed) */
static uint32_t crc32c_ref(uint32_t crc, const uint8_t *p, size_t len)
{
	unsigned k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & (0U - (crc & 1)));
	}
	return ~crc;
}

static void crc32c_check_values(void **state)
{
	static const char check[] = "123456789";
	uint8_t b[32];
	unsigned i;

	(void)state;
	assert_int_equal(crc32c(0, check, 9), 0xe3069283);

	/* RFC 3720, B.4 */
	memset(b, 0, sizeof(b));
	assert_int_equal(crc32c(0, b, 32), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(crc32c(0, b, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, b, 32), 0x46dd794e);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, b, 32), 0x113fdb5c);

	/* Nothing: the CRC so far, unchanged */
	assert_int_equal(crc32c(0, b, 0), 0);
	assert_int_equal(crc32c(0xdeadbeef, b, 0), 0xdeadbeef);
}

static void crc32c_incremental(void **state)
{
	static uint8_t b[4096];
	unsigned i, k;

	(void)state;
	for (k = 0; k <= 9; k++)
		assert_int_equal(crc32c(crc32c(0, "123456789", k),
					"123456789" + k, 9 - k), 0xe3069283);

	srand(3720);
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)rand() % sizeof(b), cut, j;
		uint32_t whole;

		for (j = 0; j < len; j++)
			b[j] = (uint8_t)rand();
		cut = len ? (size_t)rand() % (len + 1) : 0;
		whole = crc32c(0, b, len);
		assert_int_equal(whole, crc32c_ref(0, b, len));
		assert_int_equal(crc32c(crc32c(0, b, cut), b + cut, len - cut),
				 whole);
	}
}

/* ---------------------------------------------------------------- */
/* Tests: streams from migrate_build()                               */
/* ---------------------------------------------------------------- */

/* Build from @src into s1, via migrate_build() */
static void build_src(void)
{
	struct mig_buf b = { 0 };

	assert_int_equal(migrate_build(&src, &b), 0);
	assert_non_null(b.p);
	s1.len = 0;
	sb_raw(&s1, b.p, b.len);
	mig_buf_free(&b);
	assert_null(b.p);
}

static void build_layout_as_documented(void **state)
{
	uint8_t g[GUEST_LEN];
	const uint8_t *p;

	(void)state;
	build_src();
	guest_put(g, &src);

	/* Header */
	assert_int_equal(s1.len, 16 + (8 + GUEST_LEN + 4) + (8 + 4 + 4) +
			 (8 + 4));
	assert_memory_equal(s1.b, "passtvms", 8);
	assert_int_equal(be32_get(s1.b + 8), MIGRATE_VERSION);
	assert_int_equal(be32_get(s1.b + 12), MIGRATE_MIN_VERSION);

	/* Guest: id 1, 68 bytes at the offsets of the doc's table */
	p = s1.b + 16;
	assert_int_equal(be32_get(p), 1);
	assert_int_equal(be32_get(p + 4), GUEST_LEN);
	assert_memory_equal(p + 8, g, GUEST_LEN);
	assert_int_equal(be32_get(p + 8 + GUEST_LEN),
			 crc32c_ref(0, p, 8 + GUEST_LEN));

	/* TCP: id 2, no connection without a helper: a zero count */
	p += 8 + GUEST_LEN + 4;
	assert_int_equal(be32_get(p), 2);
	assert_int_equal(be32_get(p + 4), 4);
	assert_int_equal(be32_get(p + 8), 0);
	assert_int_equal(be32_get(p + 12), crc32c_ref(0, p, 12));

	/* End marker, nothing after it */
	p += 16;
	assert_int_equal(be32_get(p), 0);
	assert_int_equal(be32_get(p + 4), 0);
	assert_int_equal(be32_get(p + 8), crc32c_ref(0, p, 8));
	assert_ptr_equal(p + 12, s1.b + s1.len);
}

static void round_trip(void **state)
{
	uint8_t g[GUEST_LEN];
	int n;

	(void)state;
	build_src();
	guest_put(g, &src);

	n = parse(&s1);
	assert_int_equal(n, 2);
	assert_non_null(refs[0].sec);
	assert_int_equal(refs[0].sec->id, MIG_SEC_GUEST);
	assert_int_equal(refs[0].len, GUEST_LEN);
	assert_non_null(refs[1].sec);
	assert_int_equal(refs[1].sec->id, MIG_SEC_TCP);
	assert_int_equal(refs[1].len, 4);
	assert_null(refs[2].p);
	assert_null(refs[2].sec);
	assert_unchanged();			/* parsing touched nothing */

	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	assert_true(c.guest_mac_set);
	assert_memory_equal(&c.ip4.addr, &src.ip4.addr, 4);
	assert_int_equal(c.ip4.prefix_len, src.ip4.prefix_len);
	assert_memory_equal(&c.ip4.addr_seen, &src.ip4.addr_seen, 4);
	assert_memory_equal(&c.ip6.addr, &src.ip6.addr, 16);
	assert_int_equal(c.ip6.prefix_len, src.ip6.prefix_len);
	assert_memory_equal(&c.ip6.addr_seen, &src.ip6.addr_seen, 16);
	assert_memory_equal(&c.ip6.addr_ll_seen, &src.ip6.addr_ll_seen, 16);
	/* ...and nothing else changed */
	assert_memory_equal(&c, &want, sizeof(c));
	assert_int_equal(flow_stats()->active, 0);

	/* The lease that replaced ours is logged */
	assert_true(logged(LOG_INFO, "IPv4 lease"));
	assert_true(logged(LOG_INFO, "IPv6 lease"));
}

static void round_trip_partial(void **state)
{
	uint8_t g[GUEST_LEN];

	(void)state;

	/* Source without a known MAC, without IPv6: target keeps those */
	src.guest_mac_set = false;
	src.v6 = false;
	build_src();
	guest_put(g, &src);
	c.guest_mac[0] = 0x02;
	c.guest_mac_set = true;
	/* Target without IPv4: it takes no IPv4 state */
	c.v4 = false;
	snapshot();

	assert_int_equal(parse(&s1), 2);
	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_memory_equal(&want, &snap, sizeof(c));	/* nothing applies */
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_unchanged();

	/* Now the target has IPv4: it takes the lease */
	c.v4 = true;
	snapshot();
	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_memory_equal(&c, &want, sizeof(c));
	assert_memory_equal(&c.ip4.addr, &src.ip4.addr, 4);
	assert_memory_equal(&c.ip6.addr, &snap.ip6.addr, 16);
	assert_int_equal(c.guest_mac[0], 0x02);
}

static void tcp_zero_connections_accepted(void **state)
{
	(void)state;
	tp_begin(&tp, 0);
	sb_full(&s1, MIGRATE_VERSION, MIGRATE_MIN_VERSION, &tp);
	assert_int_equal(parse(&s1), 2);
	assert_int_equal(refs[1].sec->id, MIG_SEC_TCP);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(socket_calls, 0);
}

/* ---------------------------------------------------------------- */
/* Tests: truncated and corrupted streams                            */
/* ---------------------------------------------------------------- */

static void truncated_parse(const struct sb *s, int full)
{
	size_t len;

	for (len = 0; len < s->len; len++) {
		unsigned before = nlogs;
		int rc = migrate_parse(&c, s->b, len, refs);

		if (rc >= 0)
			fail_msg("stream cut at %zu of %zu bytes accepted",
				 len, s->len);
		assert_true(nlogs > before);	/* refusals are logged */
		assert_unchanged();
	}
	assert_int_equal(migrate_parse(&c, s->b, s->len, refs), full);
}

static void truncated_every_length(void **state)
{
	(void)state;
	build_src();
	truncated_parse(&s1, 2);

	tp_three(&tp);
	sb_full(&s1, MIGRATE_VERSION, MIGRATE_MIN_VERSION, &tp);
	truncated_parse(&s1, 2);
}

static void truncated_every_length_transfer(void **state)
{
	size_t len;
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		if (k == 0) {
			build_src();
		} else {
			tp_three(&tp);
			sb_full(&s1, MIGRATE_VERSION, MIGRATE_MIN_VERSION,
				&tp);
		}

		for (len = 0; len < s1.len; len++) {
			int rc = load_pipe(s1.b, len, len % 2);

			if (!rc)
				fail_msg("load cut at %zu of %zu bytes passed",
					 len, s1.len);
			assert_unchanged();
			assert_int_equal(flow_stats()->active, 0);
		}
		assert_int_equal(socket_calls, 0);	/* nothing applied */
		assert_int_equal(fd_count(), fd_base + 1);	/* epoll */
	}
}

/* What a stream with these header fields should give, per the doc */
static int ref_hdr_rc(uint32_t version, uint32_t min_version)
{
	if (!version || !min_version || min_version > version)
		return -EINVAL;
	if (min_version > MIGRATE_VERSION)
		return -ENOTSUP;
	return 0;
}

static void flip_every_offset(struct sb *s)
{
	static const uint8_t masks[] = { 1, 2, 4, 8, 16, 32, 64, 128, 0xff };
	int full = parse(s);
	size_t off;
	unsigned m;

	assert_true(full > 0);
	for (off = 0; off < s->len; off++) {
		for (m = 0; m < sizeof(masks); m++) {
			int rc, want_rc = -EINVAL;

			s->b[off] ^= masks[m];
			if (off >= 8 && off < 16)
				want_rc = ref_hdr_rc(be32_get(s->b + 8),
						     be32_get(s->b + 12));
			rc = parse(s);
			s->b[off] ^= masks[m];

			if (!want_rc && rc != full)
				fail_msg("flip 0x%02x at %zu: %d, not %d",
					 masks[m], off, rc, full);
			if (want_rc && rc != want_rc)
				fail_msg("flip 0x%02x at %zu: %d, not %d",
					 masks[m], off, rc, want_rc);
		}
	}
	assert_unchanged();
}

static void flipped_byte_every_offset(void **state)
{
	static const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	uint8_t g[GUEST_LEN];

	(void)state;
	build_src();
	flip_every_offset(&s1);

	/* Records with queues, an unknown section, a newer version */
	guest_put(g, &src);
	tp_three(&tp);
	sb_hdr(&s1, 7, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_end(&s1);
	flip_every_offset(&s1);
}

static void flipped_byte_transfer(void **state)
{
	size_t off;

	(void)state;
	build_src();
	for (off = 0; off < s1.len; off++) {
		int want_rc = -EINVAL, rc;

		s1.b[off] ^= 0xff;
		if (off >= 8 && off < 16)
			want_rc = ref_hdr_rc(be32_get(s1.b + 8),
					     be32_get(s1.b + 12));
		rc = load_pipe(s1.b, s1.len, true);
		s1.b[off] ^= 0xff;

		if (want_rc) {
			if (!rc)
				fail_msg("load with 0x%02x at %zu passed",
					 s1.b[off] ^ 0xff, off);
			assert_unchanged();
		} else {
			assert_int_equal(rc, 0);
			assert_memory_equal(c.guest_mac, src.guest_mac, 6);
			memcpy(&c, &snap, sizeof(c));
		}
	}
}

/* Random changes to a guest payload, CRC fixed: same verdict as ours */
static void guest_fuzz_vs_reference(void **state)
{
	uint8_t g[GUEST_LEN + 8] = { 0 };
	unsigned i, accepted = 0;

	(void)state;
	srand(68);
	for (i = 0; i < 20000; i++) {
		size_t len = GUEST_LEN;
		unsigned k, n = 1 + (unsigned)rand() % 3;
		bool ok;
		int rc;

		guest_put(g, &src);
		for (k = 0; k < n; k++) {
			size_t off = (size_t)rand() % 12;  /* flags, prefixes */

			if (rand() % 4 == 0)
				off = (size_t)rand() % GUEST_LEN;
			g[off] = (uint8_t)(rand() % 3 ? rand() % 3 :
					   rand() % 256);
			if (off == 9)		/* around the limit, or any */
				g[off] = (uint8_t)(rand() % 2 ? 31 + rand() % 4 :
						   rand() % 256);
			if (off == 10)
				g[off] = (uint8_t)(rand() % 2 ?
						   127 + rand() % 4 :
						   rand() % 256);
		}
		if (rand() % 16 == 0)
			len = (size_t)rand() % sizeof(g);

		sb_one(&s1, MIG_SEC_GUEST, g, len);
		ok = ref_guest_ok(g, len);
		rc = parse(&s1);
		if (ok != (rc >= 0))
			fail_msg("guest payload case %u: ours %s, reference %s",
				 i, rc >= 0 ? "accepts" : "refuses",
				 ok ? "accepts" : "refuses");
		accepted += ok;
	}
	/* Both verdicts were exercised */
	assert_true(accepted > 1000 && accepted < 19000);
}

/* Random changes to a TCP payload, CRC fixed: same verdict as ours */
static void tcp_fuzz_vs_reference(void **state)
{
	static const size_t fields[] = {
		0, 10, 11, 15, 16, 26, 27, 32, 33, 34, 35, 36, 37, 40, 41,
		72, 82, 83, 88, 98, 99, 104, 105, 106, 107, 116, 117, 118,
		119, 120, 121, 122, 123, 124, 125, 126, 127, 132, 133, 135,
	};
	static const uint8_t vals[] = { 0, 1, 2, 3, 4, 5, 7, 13, 14, 15, 16,
					0x7f, 0x80, 0xfe, 0xff };
	/* Where tp_three() puts its records: after the count, and queues */
	static const size_t rec_at[3] = { 4, 4 + REC_LEN + 40 + 25,
					  4 + 2 * REC_LEN + 40 + 25 };
	static struct sb base;
	unsigned i, accepted = 0;

	(void)state;
	tp_three(&base);
	for (i = 0; i < 3; i++)
		assert_int_equal(base.b[rec_at[i] + 36], CS_ESTABLISHED);
	assert_int_equal(ref_tcp_check(base.b, base.len, 0), 0);
	srand(160);
	for (i = 0; i < 30000; i++) {
		unsigned k, n = 1 + (unsigned)rand() % 2;
		bool ok;
		int rc;

		memcpy(tp.b, base.b, base.len);
		tp.len = base.len;
		for (k = 0; k < n; k++) {
			size_t off;
			uint8_t v;

			switch (rand() % 4) {
			case 0:		/* the count */
				off = 3;
				v = (uint8_t)(rand() % 5);
				break;
			case 1:		/* anywhere */
				off = (size_t)rand() % tp.len;
				v = (uint8_t)rand();
				break;
			default:	/* a checked field of some record */
				off = rec_at[rand() % 3] +
				      fields[(size_t)rand() % ARRAY_SIZE(fields)];
				v = vals[(size_t)rand() % sizeof(vals)];
				break;
			}
			if (off < tp.len)
				tp.b[off] = v;
		}
		if (rand() % 8 == 0)
			tp.len = (size_t)rand() % (tp.len + 2);

		ok = !ref_tcp_check(tp.b, tp.len, flow_stats()->active);
		rc = parse_tcp(&tp);
		if (ok != (rc >= 0))
			fail_msg("TCP payload case %u: ours %d, reference %s",
				 i, rc, ok ? "accepts" : "refuses");
		accepted += ok;
	}
	assert_true(accepted > 1000 && accepted < 29000);
	assert_unchanged();
}

/* ---------------------------------------------------------------- */
/* Tests: version rules and stream structure                         */
/* ---------------------------------------------------------------- */

static void version_needs_newer_reader(void **state)
{
	(void)state;
	build_src();
	be32_put(s1.b + 8, MIGRATE_VERSION + 1);
	be32_put(s1.b + 12, MIGRATE_VERSION + 1);
	assert_int_equal(parse(&s1), -ENOTSUP);
	assert_true(logged(LOG_ERR, "needs a reader"));

	sb_full(&s1, 7, MIGRATE_VERSION + 1, NULL);
	assert_int_equal(parse(&s1), -ENOTSUP);
	sb_full(&s1, 0xffffffff, 0xffffffff, NULL);
	assert_int_equal(parse(&s1), -ENOTSUP);
	assert_unchanged();

	/* Through the transfer: refused, nothing applied */
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
}

static void version_newer_readable(void **state)
{
	static const uint8_t junk[] = "a section from version 7";
	uint8_t g[GUEST_LEN];

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);
	sb_hdr(&s1, 7, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_sec(&s1, 100, NULL, 0);
	sb_end(&s1);

	assert_int_equal(parse(&s1), 4);
	assert_int_equal(refs[0].sec->id, MIG_SEC_GUEST);
	assert_null(refs[1].sec);			/* skipped */
	assert_int_equal(refs[1].len, sizeof(junk));
	assert_int_equal(refs[2].sec->id, MIG_SEC_TCP);
	assert_null(refs[3].sec);
	assert_true(logged(LOG_INFO, "skipping unknown section 99"));

	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(&c, &want, sizeof(c));

	/* The unknown section's CRC is still checked */
	s1.b[16 + 8 + GUEST_LEN + 4 + 8 + 3] ^= 0x20;
	memcpy(&c, &snap, sizeof(c));
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
}

static void version_invalid(void **state)
{
	static const uint32_t bad[][2] = {
		{ 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 2 }, { 3, 5 },
		{ 7, 0 }, { 0xffffffff, 0 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sb_full(&s1, bad[i][0], bad[i][1], NULL);
		assert_int_equal(parse(&s1), -EINVAL);
		assert_true(load_pipe(s1.b, s1.len, true) < 0);
		assert_unchanged();
	}

	/* Not our magic */
	sb_full(&s1, 1, 1, NULL);
	s1.b[7] = 'S';
	assert_int_equal(parse(&s1), -EINVAL);
	assert_true(logged(LOG_ERR, "not a passt state stream"));
}

static void after_end_marker(void **state)
{
	static const uint8_t more[68];
	unsigned extra;

	(void)state;
	for (extra = 1; extra <= 12; extra++) {
		build_src();
		memset(s1.b + s1.len, 0, extra);
		s1.len += extra;
		assert_true(parse(&s1) < 0);
		assert_true(load_pipe(s1.b, s1.len, true) < 0);
		assert_unchanged();
	}

	/* A whole valid section after the end marker */
	build_src();
	sb_sec(&s1, 99, more, sizeof(more));
	assert_true(parse(&s1) < 0);
	assert_true(logged(LOG_ERR, "after the end marker"));

	/* Two end markers */
	build_src();
	sb_end(&s1);
	assert_true(parse(&s1) < 0);

	/* An end marker with a payload, its CRC right */
	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_END, more, 4);
	assert_true(parse(&s1) < 0);
	assert_unchanged();
}

static void missing_end_marker(void **state)
{
	uint8_t g[GUEST_LEN];

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);
	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();

	/* Header only */
	sb_hdr(&s1, 1, 1);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
}

static void only_end_marker(void **state)
{
	(void)state;
	sb_hdr(&s1, 1, 1);
	sb_end(&s1);
	assert_int_equal(parse(&s1), 0);
	assert_null(refs[0].p);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_unchanged();
}

static void section_twice(void **state)
{
	static const uint8_t junk[3];
	uint8_t g[GUEST_LEN];

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);

	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_true(logged(LOG_ERR, "twice"));
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();

	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();

	/* Twice in a newer stream, read with our table: still refused */
	sb_hdr(&s1, 9, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_unchanged();
}

static void too_many_sections(void **state)
{
	uint8_t g[GUEST_LEN];
	unsigned i;

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);

	/* MIGRATE_SECTIONS_MAX sections in all, with the end marker: fine */
	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	for (i = 0; i < MIGRATE_SECTIONS_MAX - 3; i++)
		sb_sec(&s1, 100 + i, &i, sizeof(i));
	memcpy(&s2, &s1, sizeof(s1));
	sb_end(&s1);
	assert_int_equal(parse(&s1), MIGRATE_SECTIONS_MAX - 1);
	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(&c, &want, sizeof(c));
	memcpy(&c, &snap, sizeof(c));

	/* One more */
	sb_sec(&s2, 200, NULL, 0);
	sb_end(&s2);
	assert_true(parse(&s2) < 0);
	assert_true(logged(LOG_ERR, "more than"));
	assert_true(load_pipe(s2.b, s2.len, true) < 0);
	assert_unchanged();

	/* Many more, all skippable: still refused, no overrun */
	sb_hdr(&s1, 1, 1);
	for (i = 0; i < 1000; i++)
		sb_sec(&s1, 1000 + i, NULL, 0);
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_unchanged();
}

static void section_length_past_end(void **state)
{
	static const uint32_t lens[] = { 69, 80, 0x7fffffff, 0x80000000,
					 0xfffffff3, 0xfffffff4, 0xffffffff };
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		build_src();
		be32_put(s1.b + 16 + 4, lens[i]);
		assert_true(parse(&s1) < 0);
		assert_unchanged();
	}
}

/* ---------------------------------------------------------------- */
/* Tests: the guest section                                          */
/* ---------------------------------------------------------------- */

static void guest_expect(const uint8_t *g, size_t len, bool ok)
{
	int rc;

	sb_one(&s1, MIG_SEC_GUEST, g, len);
	rc = parse(&s1);
	if (ok && rc != 1)
		fail_msg("valid guest section (%zu bytes) refused: %d", len, rc);
	if (!ok && rc >= 0)
		fail_msg("bad guest section (%zu bytes) accepted", len);
	if (!ok) {
		assert_true(load_pipe(s1.b, s1.len, true) < 0);
		assert_unchanged();
	}
}

static void guest_section_checks(void **state)
{
	static const size_t bad_len[] = { 0, 1, 67, 69, 136 };
	uint8_t g[GUEST_LEN * 2];
	unsigned i, v;

	(void)state;
	guest_put(g, &src);
	memcpy(g + GUEST_LEN, g, GUEST_LEN);
	guest_expect(g, GUEST_LEN, true);

	for (i = 0; i < ARRAY_SIZE(bad_len); i++)
		guest_expect(g, bad_len[i], false);

	for (v = 0; v < 256; v++) {
		guest_put(g, &src);
		g[9] = (uint8_t)v;				/* prefix4 */
		guest_expect(g, GUEST_LEN, v <= 32);
		guest_put(g, &src);
		g[10] = (uint8_t)v;				/* prefix6 */
		guest_expect(g, GUEST_LEN, v <= 128);
		for (i = 6; i <= 8; i++) {		/* mac_set, v4, v6 */
			guest_put(g, &src);
			g[i] = (uint8_t)v;
			guest_expect(g, GUEST_LEN, v <= 1);
		}
	}
}

/* ---------------------------------------------------------------- */
/* Tests: the TCP section                                            */
/* ---------------------------------------------------------------- */

/* One record, changed by @edit, alone in a payload */
static int tcp_one(void (*edit)(struct mig_tcp_conn *r))
{
	struct mig_tcp_conn r;

	rec_init(&r, 0, false, 100, 30, 50);
	if (edit)
		edit(&r);
	tp_begin(&tp, 1);
	sb_raw(&tp, &r, sizeof(r));
	memset(tp.b + tp.len, 0xa5, 150);
	tp.len += 150;
	return parse_tcp(&tp);
}

static void e_state3(struct mig_tcp_conn *r) { r->state = CS_SYN_SENT; }
static void e_state5(struct mig_tcp_conn *r) { r->state = CS_COUNT; }
static void e_state0(struct mig_tcp_conn *r) { r->state = CS_CLOSED; }
static void e_wsg15(struct mig_tcp_conn *r) { r->ws_guest = 15; }
static void e_wsg14(struct mig_tcp_conn *r) { r->ws_guest = 14; }
static void e_snd15(struct mig_tcp_conn *r) { r->snd_wscale = 15; }
static void e_rcv15(struct mig_tcp_conn *r) { r->rcv_wscale = 15; }
static void e_ws14(struct mig_tcp_conn *r)
{
	r->snd_wscale = r->rcv_wscale = 14;
}
static void e_mss0(struct mig_tcp_conn *r) { r->mss = 0; }
static void e_fin3(struct mig_tcp_conn *r)
{
	r->fin = MIG_TCP_FIN_SENT | MIG_TCP_FIN_RCVD;
}
static void e_fin4(struct mig_tcp_conn *r) { r->fin = 4; }
static void e_g4f6(struct mig_tcp_conn *r) { addr6(r->faddr, "2001:db8::1"); }
static void e_g6f4(struct mig_tcp_conn *r) { addr6(r->gaddr, "2001:db8::2"); }
static void e_l4r6(struct mig_tcp_conn *r) { addr6(r->raddr, "::1"); }
static void e_all6(struct mig_tcp_conn *r)
{
	addr6(r->gaddr, "2001:db8::2");
	addr6(r->faddr, "2001:db8::1");
	addr6(r->laddr, "::1");
	addr6(r->raddr, "::1");
}
static void e_gport0(struct mig_tcp_conn *r) { r->gport = 0; }
static void e_fport0(struct mig_tcp_conn *r) { r->fport = 0; }
static void e_lport0(struct mig_tcp_conn *r) { r->lport = 0; }
static void e_rport0(struct mig_tcp_conn *r) { r->rport = 0; }
static void e_unsent_all(struct mig_tcp_conn *r)
{
	r->sndq_unsent = r->sndq_len;
}
static void e_unsent_over(struct mig_tcp_conn *r)
{
	r->sndq_unsent = htonl(ntohl(r->sndq_len) + 1);
}
static void e_sndq_over(struct mig_tcp_conn *r)
{
	r->sndq_len = htonl(101);
}
static void e_rcvq_over(struct mig_tcp_conn *r)
{
	r->rcvq_len = htonl(51);
}
static void e_queues_moved(struct mig_tcp_conn *r)
{
	r->sndq_len = htonl(150);
	r->rcvq_len = 0;
}
static void e_sndq_huge(struct mig_tcp_conn *r)
{
	r->sndq_len = htonl(QUEUE_MAX + 1);
	r->sndq_unsent = 0;
}
static void e_rcvq_huge(struct mig_tcp_conn *r)
{
	r->rcvq_len = htonl(0xffffffff);
}
static void e_wrap(struct mig_tcp_conn *r)	/* 2^32 - 50 + 50 */
{
	r->sndq_len = htonl(0xffffffce);
	r->sndq_unsent = 0;
}

static void tcp_record_checks(void **state)
{
	static const struct {
		void (*edit)(struct mig_tcp_conn *r);
		bool ok;
		const char *what;
	} t[] = {
		{ NULL,		true,	"valid record with queues" },
		{ e_state0,	false,	"state CLOSED" },
		{ e_state3,	false,	"state SYN_SENT" },
		{ e_state5,	false,	"state past the last" },
		{ e_wsg15,	false,	"guest window scale 15" },
		{ e_wsg14,	true,	"guest window scale 14" },
		{ e_snd15,	false,	"peer window scale 15" },
		{ e_rcv15,	false,	"our window scale 15" },
		{ e_ws14,	true,	"socket window scales 14" },
		{ e_mss0,	false,	"MSS 0" },
		{ e_fin3,	true,	"both FINs" },
		{ e_fin4,	false,	"unknown FIN flag" },
		{ e_g4f6,	false,	"IPv4 guest, IPv6 foreign" },
		{ e_g6f4,	false,	"IPv6 guest, IPv4 foreign" },
		{ e_l4r6,	false,	"IPv4 local, IPv6 peer" },
		{ e_all6,	true,	"all IPv6" },
		{ e_gport0,	false,	"guest port 0" },
		{ e_fport0,	false,	"foreign port 0" },
		{ e_lport0,	false,	"local port 0" },
		{ e_rport0,	false,	"peer port 0" },
		{ e_unsent_all,	true,	"all of the send queue unsent" },
		{ e_unsent_over, false,	"more unsent than queued" },
		{ e_sndq_over,	false,	"send queue past the payload" },
		{ e_rcvq_over,	false,	"receive queue past the payload" },
		{ e_queues_moved, true,	"same total, other split" },
		{ e_sndq_huge,	false,	"send queue over 64 MiB" },
		{ e_rcvq_huge,	false,	"receive queue of 4 GiB" },
		{ e_wrap,	false,	"queue lengths adding up past 2^32" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int rc = tcp_one(t[i].edit);

		if (t[i].ok && rc != 1)
			fail_msg("%s: refused (%d)", t[i].what, rc);
		if (!t[i].ok && rc >= 0)
			fail_msg("%s: accepted", t[i].what);
		if (!t[i].ok) {
			assert_true(load_pipe(s2.b, s2.len, true) < 0);
			assert_unchanged();
		}
	}
	assert_int_equal(socket_calls, 0);
	assert_int_equal(flow_stats()->active, 0);
}

static void tcp_payload_checks(void **state)
{
	struct mig_tcp_conn r;
	static const uint8_t zero[REC_LEN];
	unsigned len;
	int i;

	(void)state;
	/* Shorter than the count */
	for (len = 0; len < 4; len++) {
		tp_begin(&tp, 0);
		tp.len = len;
		assert_true(parse_tcp(&tp) < 0);
	}

	/* Count larger than the records present */
	tp_begin(&tp, 1);
	assert_true(parse_tcp(&tp) < 0);
	tp_three(&tp);
	be32_put(tp.b, 4);
	assert_true(parse_tcp(&tp) < 0);
	be32_put(tp.b, 3);
	assert_int_equal(parse_tcp(&tp), 1);

	/* A record cut short */
	tp_begin(&tp, 1);
	rec_init(&r, 0, false, 0, 0, 0);
	sb_raw(&tp, &r, sizeof(r) - 1);
	assert_true(parse_tcp(&tp) < 0);

	/* Count smaller: what's left is trailing garbage */
	tp_three(&tp);
	be32_put(tp.b, 2);
	assert_true(parse_tcp(&tp) < 0);

	/* Trailing garbage */
	tp_three(&tp);
	tp.b[tp.len++] = 0;
	assert_true(parse_tcp(&tp) < 0);
	tp_three(&tp);
	sb_raw(&tp, zero, sizeof(zero));
	assert_true(parse_tcp(&tp) < 0);
	tp_begin(&tp, 0);
	tp.b[tp.len++] = 1;
	assert_true(parse_tcp(&tp) < 0);

	/* A bad record after a good one */
	tp_begin(&tp, 2);
	rec_init(&r, 0, false, 3, 1, 2);
	tp_rec(&tp, &r);
	rec_init(&r, 1, false, 0, 0, 0);
	r.state = CS_CONNECTING;
	tp_rec(&tp, &r);
	assert_true(parse_tcp(&tp) < 0);

	/* Counts the flow table can't take */
	tp_three(&tp);
	be32_put(tp.b, FLOW_MAX + 1);
	assert_int_equal(parse_tcp(&tp), -ENOSPC);
	be32_put(tp.b, 0xffffffff);
	assert_int_equal(parse_tcp(&tp), -ENOSPC);
	for (i = 0; i < 10; i++) {
		struct flow_key k = { .proto = IPPROTO_UDP, .gport = 1,
				      .fport = (uint16_t)(i + 1) };

		assert_true(flow_alloc(FLOW_UDP, &k) >= 0);
	}
	be32_put(tp.b, FLOW_MAX - 9);
	assert_int_equal(parse_tcp(&tp), -ENOSPC);
	be32_put(tp.b, FLOW_MAX - 10);		/* room, but no records */
	assert_int_equal(parse_tcp(&tp), -EINVAL);
	assert_int_equal(flow_stats()->active, 10);
	flow_init();

	/* The TCP section refused: the guest section isn't applied either */
	tp_three(&tp);
	tp.b[tp.len++] = 0;
	sb_full(&s1, 1, 1, &tp);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
	assert_int_equal(socket_calls, 0);
}

/* Apply records without a working helper: made, dropped, nothing leaks */
static void tcp_apply_expect_dropped(const char *why)
{
	int fds = fd_count();

	tp_three(&tp);
	sb_full(&s1, 1, 1, &tp);
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);
	log_clear();
	socket_calls = 0;
	repair_requests = 0;

	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(&c, &want, sizeof(c));	/* guest applied */
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(flow_next(FLOW_TCP, -1), -1);
	assert_int_equal(fd_count(), fds);
	if (!logged(LOG_WARNING, why))
		fail_msg("no warning with \"%s\"", why);
	memcpy(&c, &snap, sizeof(c));
}

static void tcp_apply_no_helper(void **state)
{
	(void)state;
	helper = HELPER_REAL;			/* c.repair_fd is -1 */
	tcp_apply_expect_dropped("no passt-repair connected");
	assert_int_equal(socket_calls, 3);
	assert_int_equal(repair_requests, 0);
}

static void tcp_apply_helper_fails(void **state)
{
	(void)state;
	helper = HELPER_FAKE_FAIL;
	tcp_apply_expect_dropped("TCP connections dropped");
	assert_int_equal(socket_calls, 3);
	assert_int_equal(repair_requests, 1);		/* on: refused */
}

static void tcp_apply_repair_not_really_on(void **state)
{
	(void)state;
	/* The helper says yes, but the sockets aren't in repair mode: each
	 * restore fails on the first repair-only option
	 */
	helper = HELPER_FAKE_OK;
	tcp_apply_expect_dropped("can't be restored");
	assert_int_equal(socket_calls, 3);
	assert_int_equal(repair_requests, 2);		/* on, off */
}

static void tcp_apply_socket_fails(void **state)
{
	(void)state;
	helper = HELPER_FAKE_OK;
	socket_fail_all = true;
	tcp_apply_expect_dropped("TCP socket");
	socket_fail_all = false;

	/* Only the second socket fails */
	socket_fail_at = 2;
	tcp_apply_expect_dropped("TCP socket");
	socket_fail_at = 0;

	helper = HELPER_REAL;
	socket_fail_at = 3;
	tcp_apply_expect_dropped("no passt-repair connected");
}

/* ---------------------------------------------------------------- */
/* Tests: the transfer                                               */
/* ---------------------------------------------------------------- */

static void check_before_any_transfer(void **state)
{
	(void)state;
	/* Runs first: nothing was transferred in this process yet */
	assert_true(x_check() < 0);
	assert_false(migrate_source_done(&c));
	migrate_handler(&c, EPOLLIN);		/* nothing running: ignored */
	assert_true(x_check() < 0);
	assert_unchanged();
}

static void load_valid(void **state)
{
	struct epoll_event ev;
	union evtag tag;
	int fds[2];

	(void)state;
	build_src();
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(write_all(fds[1], s1.b, s1.len), 0);
	close(fds[1]);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	assert_unchanged();			/* not before it's read */

	/* The pipe is served by the loop: an EV_DEVSTATE event */
	assert_int_equal(epoll_wait(c.epollfd, &ev, 1, 1000), 1);
	tag.u64 = ev.data.u64;
	assert_int_equal(tag.kind, EV_DEVSTATE);
	assert_int_equal(tag.fd, fds[0]);
	assert_true(ev.events & (EPOLLIN | EPOLLHUP));
	migrate_handler(&c, ev.events);

	assert_int_equal(x_check(), 0);
	assert_int_equal(x_check(), 0);		/* asking again: same */
	assert_memory_equal(&c, &want, sizeof(c));
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);	/* closed by us */
	assert_int_equal(epoll_wait(c.epollfd, &ev, 1, 0), 0);
	assert_false(migrate_source_done(&c));
}

static void load_check_reads_rest(void **state)
{
	(void)state;
	/* QEMU closes its end, then asks: check() reads and loads */
	build_src();
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);
	assert_int_equal(load_pipe(s1.b, s1.len, false), 0);
	assert_memory_equal(&c, &want, sizeof(c));
}

static void load_in_pieces(void **state)
{
	int fds[2];
	size_t cut;

	(void)state;
	build_src();
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);

	for (cut = 0; cut <= s1.len; cut += 7) {
		memcpy(&c, &snap, sizeof(c));
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
		assert_int_equal(write_all(fds[1], s1.b, cut), 0);
		migrate_handler(&c, EPOLLIN);
		assert_unchanged();			/* not yet */
		assert_int_equal(write_all(fds[1], s1.b + cut, s1.len - cut),
				 0);
		migrate_handler(&c, EPOLLIN);
		assert_unchanged();			/* no end of file */
		close(fds[1]);
		migrate_handler(&c, EPOLLIN | EPOLLHUP);
		assert_int_equal(x_check(), 0);
		assert_memory_equal(&c, &want, sizeof(c));
	}
}

static void load_nothing_or_garbage(void **state)
{
	static uint8_t junk[4096];
	unsigned i;

	(void)state;
	assert_true(load_pipe(NULL, 0, true) < 0);	/* closed at once */
	assert_unchanged();
	assert_true(load_pipe(NULL, 0, false) < 0);
	assert_unchanged();

	srand(4096);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	assert_true(load_pipe(junk, sizeof(junk), true) < 0);
	memcpy(junk, "passtvms\0\0\0\1\0\0\0\1", 16);
	assert_true(load_pipe(junk, sizeof(junk), true) < 0);
	assert_unchanged();
}

static void load_writer_closes_early(void **state)
{
	size_t cut;

	(void)state;
	build_src();
	/* QEMU closes its end halfway: what came is refused */
	for (cut = 1; cut < s1.len; cut += 13) {
		assert_true(load_pipe(s1.b, cut, true) < 0);
		assert_unchanged();
	}
}

static void load_large_stream(void **state)
{
	struct mig_tcp_conn r;
	unsigned i;

	(void)state;
	/* 1 MiB of queues, more than a pipe holds: read across many
	 * events; the records are dropped, with no helper
	 */
	tp_begin(&tp, 4);
	for (i = 0; i < 4; i++) {
		rec_init(&r, i, i % 2, 200000, 1000, 62144);
		tp_rec(&tp, &r);
	}
	sb_full(&s1, 1, 1, &tp);
	assert_true(s1.len > (1 << 20));
	assert_int_equal(parse(&s1), 2);
	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	assert_int_equal(flow_stats()->active, 0);

	/* Cut by one byte: refused */
	memcpy(&c, &snap, sizeof(c));
	assert_true(load_pieces(s1.b, s1.len - 1) < 0);
	assert_unchanged();
}

static void save_valid(void **state)
{
	struct mig_buf b = { 0 };

	(void)state;
	ctx_source(&c);			/* this daemon is the source now */
	c.epollfd = src.epollfd;
	migrate_init(&c);
	snapshot();

	assert_int_equal(save_pipe(&s1), 0);
	assert_int_equal(parse(&s1), 2);
	assert_int_equal(be32_get(refs[1].p), 0);	/* no connection */
	assert_true(logged(LOG_INFO, "wrote"));

	/* The same bytes as a stream built directly */
	assert_int_equal(migrate_build(&c, &b), 0);
	assert_int_equal(b.len, s1.len);
	assert_memory_equal(b.p, s1.b, s1.len);
	mig_buf_free(&b);

	assert_true(migrate_source_done(&c));
	assert_unchanged();

	/* And it loads into a target */
	ctx_target(&c);
	c.epollfd = src.epollfd;
	migrate_init(&c);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	assert_memory_equal(&c.ip6.addr, &src.ip6.addr, 16);
}

static void save_reader_closed(void **state)
{
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[0]);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	assert_true(x_check() < 0);
	assert_true(logged(LOG_ERR, "save failed"));
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);	/* closed by us */
	migrate_handler(&c, EPOLLERR);			/* stale: ignored */
	assert_true(x_check() < 0);
	assert_unchanged();
}

/* A pipe of one page, full, as a slow reader leaves it */
static void pipe_full(int fds[2])
{
	static uint8_t fill[4096];
	ssize_t n;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_true(fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 4096);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	do
		n = write(fds[1], fill, sizeof(fill));
	while (n > 0);
	assert_int_equal(errno, EAGAIN);
}

static void save_pipe_full(void **state)
{
	static uint8_t drain[1 << 16];
	int fds[2], i;
	ssize_t n;

	(void)state;
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	migrate_handler(&c, EPOLLOUT);		/* still full */
	assert_int_equal(fcntl(fds[1], F_GETFD) >= 0, 1);	/* waiting */

	while (read(fds[0], drain, sizeof(drain)) > 0)
		;
	s1.len = 0;
	for (i = 0; i < 1000; i++) {
		migrate_handler(&c, EPOLLOUT);
		n = read(fds[0], s1.b + s1.len, SB_SIZE - s1.len);
		if (!n)
			break;
		if (n > 0)
			s1.len += (size_t)n;
	}
	close(fds[0]);
	assert_int_equal(x_check(), 0);
	assert_int_equal(parse(&s1), 2);
}

static void save_reader_closes_midway(void **state)
{
	int fds[2];

	(void)state;
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	close(fds[0]);
	migrate_handler(&c, EPOLLOUT | EPOLLERR);
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);

	/* Same, but the daemon finds out by writing */
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	close(fds[0]);
	migrate_handler(&c, EPOLLOUT);
	assert_true(x_check() < 0);
	assert_unchanged();
}

static void check_abandons_incomplete(void **state)
{
	static uint8_t drain[1 << 16];
	int fds[2];
	ssize_t n;

	(void)state;
	build_src();

	/* CHECK_DEVICE_STATE while the load pipe is still open: fails, and
	 * nothing of it is applied later
	 */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(fds[1], s1.b, s1.len / 2), 0);
	migrate_handler(&c, EPOLLIN);
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(write_all(fds[1], s1.b + s1.len / 2,
				   s1.len - s1.len / 2), -EPIPE);
	close(fds[1]);
	migrate_handler(&c, EPOLLIN | EPOLLHUP);	/* stale */
	assert_true(x_check() < 0);
	assert_unchanged();

	/* All of it there, but the writer still open: same */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(fds[1], s1.b, s1.len), 0);
	assert_true(x_check() < 0);
	close(fds[1]);
	migrate_handler(&c, EPOLLIN | EPOLLHUP);
	assert_true(x_check() < 0);
	assert_unchanged();

	/* A save QEMU stopped reading */
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);
	while ((n = read(fds[0], drain, sizeof(drain))) > 0)
		assert_int_equal(drain[0], 0);		/* the filler only */
	assert_int_equal(n, 0);
	close(fds[0]);
	migrate_handler(&c, EPOLLOUT);
	assert_true(x_check() < 0);
	assert_unchanged();
}

static void transfer_replaced_or_reset(void **state)
{
	int a[2], b[2];

	(void)state;
	build_src();

	/* A load left hanging, replaced by another one */
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(x_start(a[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(a[1], s1.b, 20), 0);
	migrate_handler(&c, EPOLLIN);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	assert_int_equal(write_all(b[1], s1.b, s1.len), 0);
	close(b[1]);
	assert_int_equal(x_start(b[0], VHOST_USER_STATE_LOAD), 0);
	assert_true(logged(LOG_WARNING, "abandoned"));
	assert_int_equal(fcntl(a[0], F_GETFD), -1);	/* old one closed */
	migrate_handler(&c, EPOLLIN | EPOLLHUP);
	assert_int_equal(x_check(), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	close(a[1]);
	memcpy(&c, &snap, sizeof(c));

	/* The session ends during a load: abandoned, nothing applied */
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(x_start(a[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(a[1], s1.b, s1.len), 0);
	x_reset();
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(a[0], F_GETFD), -1);
	migrate_handler(&c, EPOLLIN);
	assert_true(x_check() < 0);
	close(a[1]);
	assert_unchanged();

	/* A save while a load is hanging */
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(x_start(a[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(save_pipe(&s2), 0);
	assert_int_equal(parse(&s2), 2);
	assert_int_equal(fcntl(a[0], F_GETFD), -1);
	close(a[1]);
	assert_unchanged();
}

static void start_bad_fd(void **state)
{
	int fds[2];

	(void)state;
	assert_true(x_start(-1, VHOST_USER_STATE_LOAD) < 0);
	assert_true(x_check() < 0);
	assert_true(x_start(-1, VHOST_USER_STATE_SAVE) < 0);
	assert_true(x_check() < 0);

	/* No epoll instance: refused, the fd is closed */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	c.epollfd = -1;
	assert_true(x_start(fds[0], VHOST_USER_STATE_LOAD) < 0);
	c.epollfd = snap.epollfd;
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_true(x_check() < 0);
	close(fds[1]);
	assert_unchanged();
}

/* ---------------------------------------------------------------- */
/* Tests: mig_buf limits                                             */
/* ---------------------------------------------------------------- */

static void buf_limits(void **state)
{
	struct mig_buf b = { 0 };
	static uint8_t big[1 << 18];
	size_t i, total = 0;

	(void)state;
	/* Over the limit, on an empty buffer: refused, nothing mapped */
	assert_null(mig_buf_reserve(&b, MIGRATE_STREAM_MAX + 1));
	assert_null(mig_buf_reserve(&b, SIZE_MAX));
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(mig_buf_put(&b, big, MIGRATE_STREAM_MAX + 1),
			 -ENOMEM);
	assert_null(b.p);

	/* Growth keeps what's there */
	for (i = 0; i < sizeof(big); i++)
		big[i] = pattern(i);
	while (total < (3U << 20)) {
		size_t n = 1 + (total * 7919) % sizeof(big);

		assert_int_equal(mig_buf_put(&b, big, n), 0);
		total += n;
		assert_int_equal(b.len, total);
		assert_true(b.cap >= b.len);
	}
	for (i = 0, total = 0; total < b.len; i++) {
		size_t n = 1 + (total * 7919) % sizeof(big);

		assert_memory_equal(b.p + total, big, n);
		total += n;
	}

	/* Reserving doesn't count, and leaves the contents */
	assert_non_null(mig_buf_reserve(&b, 1 << 20));
	assert_int_equal(b.len, total);
	assert_true(b.cap >= total + (1 << 20));
	assert_memory_equal(b.p, big, 1);

	/* Past the limit from here: refused, the buffer as it was */
	assert_null(mig_buf_reserve(&b, MIGRATE_STREAM_MAX - b.len + 1));
	assert_null(mig_buf_reserve(&b, SIZE_MAX - b.len + 1));
	assert_null(mig_buf_reserve(&b, SIZE_MAX));
	assert_int_equal(mig_buf_put(&b, big, MIGRATE_STREAM_MAX), -ENOMEM);
	assert_int_equal(b.len, total);
	assert_memory_equal(b.p, big, 1);

	/* Freed: empty, and usable again; freeing twice is harmless */
	mig_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	mig_buf_free(&b);
	assert_int_equal(mig_buf_put(&b, "x", 1), 0);
	assert_int_equal(b.p[0], 'x');
	mig_buf_free(&b);
}

static void buf_limit_exact(void **state)
{
	struct mig_buf b = { 0 };
	uint8_t *p;

	(void)state;
	/* Exactly MIGRATE_STREAM_MAX: allowed (mapped, never touched) */
	assert_int_equal(mig_buf_put(&b, "abc", 3), 0);
	p = mig_buf_reserve(&b, MIGRATE_STREAM_MAX - 3);
	assert_non_null(p);
	assert_ptr_equal(p, b.p + 3);
	assert_memory_equal(b.p, "abc", 3);
	assert_true(b.cap >= MIGRATE_STREAM_MAX);
	assert_null(mig_buf_reserve(&b, MIGRATE_STREAM_MAX - 2));
	mig_buf_free(&b);
}

/* ---------------------------------------------------------------- */
/* Tests: real connections, as root                                  */
/* ---------------------------------------------------------------- */

static bool can_repair(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	bool ok;

	assert_true(s >= 0);
	ok = !setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one));
	close(s);
	return ok;
}

/**
 * struct pair - A loopback connection: the guest's side and the peer
 * @lfd:	Listening socket of the peer
 * @cfd:	Our side (the daemon's socket for a guest connection)
 * @sfd:	The peer's side
 * @port:	Peer's port
 * @local:	Address of @cfd
 */
struct pair {
	int lfd, cfd, sfd;
	uint16_t port;
	struct sockaddr_in local;
};

static void pair_open(struct pair *p, int peer_rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(nkept + 3 <= ARRAY_SIZE(kept));
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->lfd >= 0);
	kept[nkept++] = p->lfd;
	if (peer_rcvbuf)
		assert_int_equal(setsockopt(p->lfd, SOL_SOCKET, SO_RCVBUF,
					    &peer_rcvbuf,
					    sizeof(peer_rcvbuf)), 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sa, &sl), 0);
	p->port = ntohs(sa.sin_port);

	p->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->cfd >= 0);
	kept[nkept++] = p->cfd;		/* if the daemon doesn't take it */
	assert_int_equal(connect(p->cfd, (struct sockaddr *)&sa, sl), 0);
	p->sfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->sfd >= 0);
	kept[nkept++] = p->sfd;
	sl = sizeof(p->local);
	assert_int_equal(getsockname(p->cfd, (struct sockaddr *)&p->local,
				     &sl), 0);
	assert_int_equal(fcntl(p->cfd, F_SETFL, O_NONBLOCK), 0);
}

static void wait_inq(int fd, int want_bytes)
{
	int i, inq = -1;

	for (i = 0; i < 2000; i++) {
		if (!ioctl(fd, SIOCINQ, &inq) && inq >= want_bytes)
			return;
		usleep(1000);
	}
	fail_msg("receive queue has %d bytes, not %d", inq, want_bytes);
}

/* Read exactly @len bytes from @fd, waiting up to @ms */
static size_t read_upto(int fd, uint8_t *buf, size_t len, int ms)
{
	size_t got = 0;
	int i;

	for (i = 0; got < len && i < ms / 10; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(fd, buf + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (!n || errno != EAGAIN)
			break;
	}
	return got;
}

/* Read exactly @len bytes from @fd, waiting up to a minute */
static void read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = read_upto(fd, buf, len, 60000);

	if (got != len)
		fail_msg("read %zu bytes of %zu", got, len);
}

/* Read from @fd, non-blocking, until end of file: no reset, no data */
static void wait_readable_eof(int fd)
{
	uint8_t b[64];
	int i;

	for (i = 0; i < 5000; i++) {
		ssize_t n = read(fd, b, sizeof(b));

		if (!n)
			return;
		if (n > 0)
			fail_msg("unexpected data after the end");
		if (errno != EAGAIN)
			fail_msg("no end of file: %s", strerror(errno));
		usleep(1000);
	}
	fail_msg("no end of file");
}

/* Make @fd the socket of a guest connection with @key, as tcp.c would */
static unsigned conn_install_key(int fd, const struct flow_key *key,
				 uint32_t inflight)
{
	struct tcp_conn *conn;
	int idx;

	idx = flow_alloc(FLOW_TCP, key);
	assert_true(idx >= 0);

	conn = tcp_conn_at((unsigned)idx);
	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
	conn->state = CS_ESTABLISHED;
	conn->flags = CONN_WS;
	conn->ws_guest = 7;
	conn->mss = 1460;
	conn->seq_acked = 0xfffff000;
	conn->seq_to_guest = 0xfffff000 + inflight;	/* sent, not acked */
	conn->seq_max = conn->seq_to_guest;
	conn->seq_from_guest = 0x12345678;
	conn->wnd_from_guest = 65535U << 7;
	conn->wnd_to_guest = 65535;
	assert_int_equal(tcp_conn_adopt(&c, (unsigned)idx), 0);
	return (unsigned)idx;
}

/* The same, for guest 10.0.2.15:@gport to 10.0.2.2:@fport */
static unsigned conn_install(int fd, struct flow_key *key, uint16_t gport,
			     uint16_t fport, uint32_t inflight)
{
	memset(key, 0, sizeof(*key));
	key->proto = IPPROTO_TCP;
	inany_from_v4(&key->gaddr, (struct in_addr){ htonl(0x0a00020f) });
	inany_from_v4(&key->faddr, (struct in_addr){ htonl(0x0a000202) });
	key->gport = gport;
	key->fport = fport;
	return conn_install_key(fd, key, inflight);
}

/* The TCP section of a parsed stream */
static const uint8_t *tcp_section(size_t *len)
{
	unsigned i;

	for (i = 0; i < MIGRATE_SECTIONS_MAX && refs[i].p; i++) {
		if (refs[i].sec && refs[i].sec->id == MIG_SEC_TCP) {
			*len = refs[i].len;
			return refs[i].p;
		}
	}
	fail_msg("no TCP section");
	return NULL;
}

static void save_tcp_no_helper(void **state)
{
	struct flow_key key;
	struct pair p;
	unsigned idx;
	size_t len;

	(void)state;
	/* Without the helper, the connection doesn't move: it stays */
	pair_open(&p, 0);
	idx = conn_install(p.cfd, &key, 40001, p.port, 0);
	helper = HELPER_REAL;
	assert_int_equal(save_pipe(&s1), 0);
	assert_true(logged(LOG_WARNING, "will not move"));
	assert_true(parse(&s1) > 0);
	assert_int_equal(be32_get(tcp_section(&len)), 0);
	assert_true(flow_live(idx, FLOW_TCP));
	assert_int_equal(tcp_conn_at(idx)->fd, p.cfd);
	assert_true(fcntl(p.cfd, F_GETFD) >= 0);

	/* The connection works as before */
	assert_int_equal(write(p.sfd, "ping", 4), 4);
	wait_inq(p.cfd, 4);

	drop_tcp_flows();
}

/* Queue data both ways on a pair: @rcvd for our side, @sent by it */
static size_t pair_fill(struct pair *p, size_t rcvd, size_t sent)
{
	static uint8_t b[1 << 20];
	size_t i, total = 0;

	for (i = 0; i < sizeof(b); i++)
		b[i] = pattern(i);
	assert_int_equal(write_all(p->sfd, b, rcvd), 0);
	wait_inq(p->cfd, (int)rcvd);
	while (total < sent) {
		ssize_t n = write(p->cfd, b + total % 4096,
				  MIN(4096, sent - total));

		if (n <= 0)
			break;
		total += (size_t)n;
	}
	usleep(20000);				/* let the peer ACK */
	return total;
}

static void tcp_real_round_trip(void **state)
{
	static uint8_t buf[1 << 20];
	const struct mig_tcp_conn *r;
	struct mig_tcp_conn rec;
	struct sockaddr_in sa;
	struct tcp_conn *conn;
	struct flow_key key;
	socklen_t sl;
	size_t len, sent, i, peer_had;
	const uint8_t *p;
	struct pair pr;
	unsigned idx;
	int inq, fd, one = 1;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* 3000 bytes for the guest, and more from the guest than the peer
	 * takes.  The peer's buffer shrinks after it offered a large window:
	 * it drops what it has no room for, so our send queue holds data
	 * sent but not acknowledged, then data never sent
	 */
	pair_open(&pr, 0);
	assert_int_equal(setsockopt(pr.sfd, SOL_SOCKET, SO_RCVBUF, &one,
				    sizeof(one)), 0);
	sent = pair_fill(&pr, 3000, 200000);
	assert_true(sent > 0);
	idx = conn_install(pr.cfd, &key, 40002, pr.port, 1000);

	/* Save: frozen, dumped, closed */
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_false(flow_live(idx, FLOW_TCP));
	assert_true(flow_lookup(&key) < 0);
	assert_int_equal(fcntl(pr.cfd, F_GETFD), -1);

	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	assert_int_equal(be32_get(p), 1);
	assert_true(len >= 4 + sizeof(rec));
	memcpy(&rec, p + 4, sizeof(rec));
	r = &rec;

	/* The record, against the connection */
	assert_memory_equal(r->gaddr, &key.gaddr, 16);
	assert_memory_equal(r->faddr, &key.faddr, 16);
	assert_int_equal(ntohs(r->gport), 40002);
	assert_int_equal(ntohs(r->fport), pr.port);
	assert_int_equal(r->state, CS_ESTABLISHED);
	assert_int_equal(ntohl(r->seq_acked), 0xfffff000);
	assert_int_equal(ntohl(r->seq_to_guest), 0xfffff000 + 1000);
	assert_int_equal(ntohs(r->flags), CONN_WS);
	assert_true(ref_mapped(r->laddr));
	assert_memory_equal(r->laddr + 12, &pr.local.sin_addr, 4);
	assert_int_equal(r->lport, pr.local.sin_port);
	assert_int_equal(ntohs(r->rport), pr.port);
	assert_int_equal(r->fin, 0);

	/* Queues: all 3000 bytes for the guest, and what the peer lacks */
	assert_int_equal(ntohl(r->rcvq_len), 3000);
	assert_int_equal(ioctl(pr.sfd, SIOCINQ, &inq), 0);
	peer_had = (size_t)inq;
	assert_int_equal(ntohl(r->sndq_len), sent - peer_had);
	assert_true(ntohl(r->sndq_unsent) < ntohl(r->sndq_len));
	assert_true(ntohl(r->sndq_unsent) > 0);
	if (log_echo)
		fprintf(stderr, "send queue %u bytes, %u unsent, peer had %zu\n",
			ntohl(r->sndq_len), ntohl(r->sndq_unsent), peer_had);
	assert_int_equal(len, 4 + sizeof(rec) + ntohl(r->sndq_len) + 3000);
	for (i = 0; i < ntohl(r->sndq_len); i++) {
		if (p[4 + sizeof(rec) + i] != pattern((peer_had + i) % 4096))
			fail_msg("send queue byte %zu", i);
	}
	for (i = 0; i < 3000; i++) {
		if (p[4 + sizeof(rec) + ntohl(r->sndq_len) + i] != pattern(i))
			fail_msg("receive queue byte %zu", i);
	}

	/* Load it back: the connection is rebuilt */
	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	assert_true(logged(LOG_INFO, "1 of 1 TCP connections restored"));
	idx = (unsigned)flow_lookup(&key);
	assert_true(flow_live(idx, FLOW_TCP));
	conn = tcp_conn_at(idx);
	fd = conn->fd;
	assert_true(fd >= 0);
	assert_int_equal(conn->seq_acked, 0xfffff000);
	assert_int_equal(conn->seq_to_guest, 0xfffff000 + 1000);
	assert_int_equal(conn->seq_from_guest, 0x12345678);
	assert_true(conn->flags & CONN_WS);
	sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(sa.sin_port, pr.local.sin_port);
	sl = sizeof(sa);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(ntohs(sa.sin_port), pr.port);

	/* Its receive queue holds the guest's 3000 bytes */
	wait_inq(fd, 3000);
	read_exact(fd, buf, 3000);
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf[i], pattern(i));

	/* The peer gets the whole stream the guest sent, in order */
	read_exact(pr.sfd, buf, sent);
	for (i = 0; i < sent; i++) {
		if (buf[i] != pattern(i % 4096))
			fail_msg("peer got byte %zu wrong", i);
	}

	/* And the connection goes on, both ways */
	assert_int_equal(write(pr.sfd, "peer", 4), 4);
	read_exact(fd, buf, 4);
	assert_memory_equal(buf, "peer", 4);
	assert_int_equal(send(fd, "guest", 5, MSG_NOSIGNAL), 5);
	read_exact(pr.sfd, buf, 5);
	assert_memory_equal(buf, "guest", 5);

	drop_tcp_flows();
}

/* A loopback connection over ::1: @fds[0] ours, [1] the peer, [2] its
 * listener; the peer's port in @port
 */
static bool pair6_open(int fds[3], uint16_t *port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	socklen_t sl = sizeof(sa);

	sa.sin6_addr = in6addr_loopback;
	assert_true(nkept + 3 <= ARRAY_SIZE(kept));
	fds[2] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[2] < 0)
		return false;
	kept[nkept++] = fds[2];
	if (bind(fds[2], (struct sockaddr *)&sa, sl))
		return false;			/* no IPv6 here */
	assert_int_equal(listen(fds[2], 1), 0);
	assert_int_equal(getsockname(fds[2], (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin6_port);
	fds[0] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fds[0] >= 0);
	kept[nkept++] = fds[0];
	assert_int_equal(connect(fds[0], (struct sockaddr *)&sa, sl), 0);
	fds[1] = accept4(fds[2], NULL, NULL, SOCK_CLOEXEC);
	assert_true(fds[1] >= 0);
	kept[nkept++] = fds[1];
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	return true;
}

/* Save and load one frozen connection; the record in *rec */
static unsigned tcp_real_move(struct flow_key *key, struct mig_tcp_conn *rec)
{
	const uint8_t *p;
	size_t len;
	int idx;

	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(flow_lookup(key) < 0);
	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	if (be32_get(p) != 1)
		fail_msg("connection left out of the stream%s",
			 logged(LOG_WARNING, "can't be saved") ?
			 ": \"can't be saved\" logged" : "");
	memcpy(rec, p + 4, sizeof(*rec));

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	idx = flow_lookup(key);
	if (idx < 0) {
		log_dump();
		fail_msg("connection not restored");
	}
	assert_true(tcp_conn_at((unsigned)idx)->fd >= 0);
	return (unsigned)idx;
}

static void tcp_real_fin_received(void **state)
{
	static uint8_t buf[4096];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	int fd;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* The peer sent 100 bytes and its FIN: CLOSE_WAIT on our side */
	pair_open(&pr, 0);
	pair_fill(&pr, 100, 0);
	assert_int_equal(shutdown(pr.sfd, SHUT_WR), 0);
	usleep(20000);
	conn_install(pr.cfd, &key, 40003, pr.port, 100);

	idx = tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_RCVD);
	assert_true(ntohs(r.flags) & CONN_RDHUP);
	assert_int_equal(ntohl(r.rcvq_len), 100);
	assert_int_equal(ntohl(r.sndq_len), 0);

	fd = tcp_conn_at(idx)->fd;
	assert_true(tcp_conn_at(idx)->flags & CONN_RDHUP);
	read_exact(fd, buf, 100);
	assert_int_equal(buf[99], pattern(99));

	/* We can still send: the peer reads it, then our FIN */
	assert_int_equal(send(fd, "after", 5, MSG_NOSIGNAL), 5);
	read_exact(pr.sfd, buf, 5);
	assert_memory_equal(buf, "after", 5);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(fcntl(pr.sfd, F_SETFL, O_NONBLOCK), 0);
	wait_readable_eof(pr.sfd);
}

static void tcp_real_fin_sent(void **state)
{
	static uint8_t buf[4096];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	int fd;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* The guest sent its FIN, the peer acknowledged it: FIN_WAIT2 */
	pair_open(&pr, 0);
	pair_fill(&pr, 100, 0);
	assert_int_equal(shutdown(pr.cfd, SHUT_WR), 0);
	usleep(20000);
	conn_install(pr.cfd, &key, 40005, pr.port, 0);
	tcp_conn_at((unsigned)flow_lookup(&key))->flags |= CONN_GUEST_FIN;

	idx = tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_SENT);
	assert_false(ntohs(r.flags) & CONN_RDHUP);
	assert_int_equal(ntohl(r.sndq_len), 0);
	assert_true(tcp_conn_at(idx)->flags & CONN_GUEST_FIN);
	fd = tcp_conn_at(idx)->fd;

	/* The peer still sends, and sees our end of file (again) */
	assert_int_equal(write(pr.sfd, "late", 4), 4);
	read_exact(fd, buf, 104);
	assert_memory_equal(buf + 100, "late", 4);
	assert_int_equal(fcntl(pr.sfd, F_SETFL, O_NONBLOCK), 0);
	wait_readable_eof(pr.sfd);
}

static void tcp_real_fin_after_unsent(void **state)
{
	static uint8_t buf[1 << 20];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	size_t sent, i;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* Data the peer has no room for, then the guest's FIN behind it:
	 * FIN_WAIT1, the FIN not even sent
	 */
	pair_open(&pr, 4096);
	sent = pair_fill(&pr, 10, 100000);
	assert_int_equal(shutdown(pr.cfd, SHUT_WR), 0);
	/* Let the peer's delayed ACK go out now: between the close on the
	 * source and the restore, nothing has these ports, and the ACK
	 * would be answered with a RST (same host, see doc/migration.md)
	 */
	usleep(100000);
	conn_install(pr.cfd, &key, 40006, pr.port, 0);

	tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_SENT);
	assert_true(ntohl(r.sndq_len) > 0);

	/* The peer gets all of it, in order, then the end of file */
	read_exact(pr.sfd, buf, sent);
	for (i = 0; i < sent; i++) {
		if (buf[i] != pattern(i % 4096))
			fail_msg("peer got byte %zu wrong", i);
	}
	assert_int_equal(fcntl(pr.sfd, F_SETFL, O_NONBLOCK), 0);
	wait_readable_eof(pr.sfd);
}

static void tcp_real_ipv6(void **state)
{
	static uint8_t buf[4096];
	struct sockaddr_in6 sa;
	struct mig_tcp_conn r;
	struct flow_key key;
	uint16_t port;
	socklen_t sl;
	unsigned idx;
	int fds[3] = { -1, -1, -1 }, fd;

	(void)state;
	if (!can_repair())
		skip();
	if (!pair6_open(fds, &port))
		skip();
	helper = HELPER_INPROC;

	memset(buf, 'v', sizeof(buf));
	assert_int_equal(write_all(fds[1], buf, 500), 0);
	wait_inq(fds[0], 500);
	memset(&key, 0, sizeof(key));
	key.proto = IPPROTO_TCP;
	key.gaddr.a6 = a6("2001:db8::15");
	key.faddr.a6 = a6("2001:db8::1");
	key.gport = 40008;
	key.fport = port;
	conn_install_key(fds[0], &key, 0);

	idx = tcp_real_move(&key, &r);
	assert_false(ref_mapped(r.laddr));
	assert_memory_equal(r.laddr, &in6addr_loopback, 16);
	assert_memory_equal(r.raddr, &in6addr_loopback, 16);
	assert_int_equal(ntohs(r.rport), port);
	assert_int_equal(ntohl(r.rcvq_len), 500);

	fd = tcp_conn_at(idx)->fd;
	sl = sizeof(sa);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(sa.sin6_family, AF_INET6);
	assert_int_equal(ntohs(sa.sin6_port), port);
	read_exact(fd, buf, 500);
	assert_int_equal(buf[499], 'v');
	assert_int_equal(send(fd, "six", 3, MSG_NOSIGNAL), 3);
	read_exact(fds[1], buf, 3);
	assert_memory_equal(buf, "six", 3);
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_sock_info(): once both
 * FINs are exchanged and acknowledged, the kernel's socket is in TCP_CLOSE
 * (LAST_ACK done, or TIME_WAIT for the peer's FIN after ours), but tcp.c
 * keeps the connection (CS_ESTABLISHED) until the guest has read all the
 * data still queued and acknowledged our FIN.  tcp_mig_movable() looks at
 * conn->state only, so the socket is frozen, then getpeername() fails
 * with ENOTCONN in tcp_mig_sock_info(): "TCP flow N can't be saved", the
 * connection is left out of the stream and closed by tcp_mig_release().
 * The guest loses the data it hadn't read yet, and gets a RST from the
 * target for its next segment.  A guest that half-closes and reads an
 * answer (HTTP/1.0, any request-response) hits this.
 */
static void tcp_real_both_fins(void **state)
{
	static uint8_t buf[4096];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* Both FINs exchanged and acknowledged: the kernel's socket is
	 * closed, but the guest still has 100 bytes to read from it, and
	 * our FIN to get: the daemon keeps the connection
	 */
	pair_open(&pr, 0);
	pair_fill(&pr, 100, 0);
	assert_int_equal(shutdown(pr.sfd, SHUT_WR), 0);
	usleep(20000);
	assert_int_equal(shutdown(pr.cfd, SHUT_WR), 0);
	usleep(20000);
	conn_install(pr.cfd, &key, 40007, pr.port, 0);
	tcp_conn_at((unsigned)flow_lookup(&key))->flags |= CONN_GUEST_FIN |
							    CONN_RDHUP;

	idx = tcp_real_move(&key, &r);
	assert_int_equal(ntohl(r.rcvq_len), 100);
	assert_true(tcp_conn_at(idx)->flags & CONN_RDHUP);
	assert_true(tcp_conn_at(idx)->flags & CONN_GUEST_FIN);
	read_exact(tcp_conn_at(idx)->fd, buf, 100);
	assert_int_equal(buf[99], pattern(99));
}

/* Found here, fixed (a drop-all socket filter on frozen sockets):
 * tcp_migrate.c, tcp_mig_freeze(): shrinking SO_RCVBUF and the
 * window probe don't stop the kernel taking, and acknowledging, data for
 * a frozen socket.  A segment is accepted whenever the receive memory in
 * use is under sk_rcvbuf, so a socket whose receive queue is empty (the
 * guest has read and acknowledged everything: the usual case) takes the
 * next segment, whatever its size; Linux never shrinks a window it offered
 * (unless net.ipv4.tcp_shrink_window=1, default 0), and sends the probe
 * only in TCP_ESTABLISHED.  Data arriving after tcp_mig_dump() read the
 * queue, and before tcp_mig_release() closes the socket, is acknowledged
 * to the peer and then thrown away with the socket: the target restores
 * the receive sequence from the dump, the peer never sends those bytes
 * again, and everything it sends later is out of order: the connection
 * stalls for good.
 */
static void tcp_real_data_after_dump(void **state)
{
	static uint8_t buf[64];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	size_t got;
	int outq = -1;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40009, pr.port, 0);
	late_fd = pr.cfd;
	late_peer = pr.sfd;

	idx = tcp_real_move(&key, &r);
	assert_true(late_done);		/* "late" was sent after the dump */
	assert_false(late_queued);	/* ...and the frozen socket ignored it */
	assert_int_equal(ntohl(r.rcvq_len), 0);
	assert_int_equal(ioctl(pr.sfd, SIOCOUTQ, &outq), 0);

	assert_int_equal(write(pr.sfd, "more", 4), 4);
	got = read_upto(tcp_conn_at(idx)->fd, buf, 8, 2000);
	if (got != 8 || memcmp(buf, "latemore", 8) != 0)
		fail_msg("the guest got %zu of 8 bytes (\"late\" was %s "
			 "by the frozen socket, then lost)", got,
			 outq ? "not acknowledged" : "acknowledged");
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_save(): the source closed each
 * dumped socket, and until the target rebuilt it nothing had its
 * addresses, so a segment from the peer just then (data, a delayed ACK)
 * was answered with a RST by the kernel: the peer's connection was gone
 * before the target restored its end.  The source now holds the port
 * with a deaf listener (tcp_mig_guard()), which drops such segments.
 */
static void tcp_real_gap(bool eperm)
{
	static uint8_t buf[64];
	struct flow_key key;
	struct pair pr;
	size_t got;
	int idx;

	if (!can_repair())
		skip();
	helper = HELPER_INPROC;
	filter_eperm = eperm;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40010, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(flow_lookup(&key) < 0);	/* the source let go */

	/* In the gap: the peer sends, and nothing answers it with a RST */
	assert_int_equal(write(pr.sfd, "gap!", 4), 4);
	usleep(20000);
	if (send(pr.sfd, "", 0, MSG_NOSIGNAL) < 0 && errno == ECONNRESET)
		fail_msg("the peer's connection was reset in the gap");

	assert_true(parse(&s1) > 0);
	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	idx = flow_lookup(&key);
	if (idx < 0) {
		log_dump();
		fail_msg("connection not restored");
	}

	/* The peer sends "gap!" again, to the target: nothing is lost */
	assert_int_equal(write(pr.sfd, "more", 4), 4);
	got = read_upto(tcp_conn_at((unsigned)idx)->fd, buf, 8, 5000);
	if (got != 8 || memcmp(buf, "gap!more", 8))
		fail_msg("the guest got %zu of 8 bytes", got);

	/* Frozen socket and guard on the source: the helper attached theirs */
	assert_int_equal(helper_filters, eperm ? 2 : 0);
}

static void tcp_real_data_in_gap(void **state)
{
	(void)state;
	tcp_real_gap(false);
}

/* The same where attaching a socket filter takes CAP_NET_ADMIN: the
 * helper does it
 */
static void tcp_real_data_in_gap_helper(void **state)
{
	(void)state;
	tcp_real_gap(true);
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_save() closed each socket
 * once dumped, before the stream was written: if the front-end's reader
 * went away then, the connections were lost with the transfer.  Now they
 * close only once all is written, and a failed write thaws them.
 */
static void tcp_real_reader_gone(void **state)
{
	static uint8_t buf[64];
	struct flow_key key;
	struct pair pr;
	int fds[2], idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40011, pr.port, 0);
	assert_int_equal(write(pr.sfd, "before", 6), 6);

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[0]);			/* nobody reads the state */
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	assert_true(x_check() < 0);
	flow_defer_handler();
	assert_true(logged(LOG_INFO, "1 TCP connections resumed"));

	/* Ours still, both ways, nothing lost */
	idx = flow_lookup(&key);
	assert_true(idx >= 0);
	assert_int_equal(read_upto(pr.cfd, buf, 6, 2000), 6);
	assert_memory_equal(buf, "before", 6);
	assert_int_equal(write(pr.sfd, "after", 5), 5);
	assert_int_equal(read_upto(pr.cfd, buf, 5, 2000), 5);
	assert_memory_equal(buf, "after", 5);
	assert_int_equal(send(pr.cfd, "back", 4, MSG_NOSIGNAL), 4);
	assert_int_equal(read_upto(pr.sfd, buf, 4, 2000), 4);
	assert_memory_equal(buf, "back", 4);
	drop_tcp_flows();
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_restore() set SO_REUSEADDR on
 * the socket it rebuilds, which undoes what repair mode does for bind():
 * take the port whoever has it.  Another connection's TIME_WAIT remnant
 * on the same local port, without SO_REUSEADDR, then made the bind fail
 * (EADDRINUSE), and the connection was lost (seen in the integration
 * tests, with 100 connections).
 */
static void tcp_real_port_time_wait(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pair pr, other;
	struct mig_tcp_conn r;
	struct flow_key key;
	int x, xs, on = 1, off = 0, i;
	socklen_t sl = sizeof(sa);

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	pair_open(&other, 0);

	/* Another socket on our local port, to another peer, closed first:
	 * it stays in TIME_WAIT, not reusable
	 */
	assert_int_equal(setsockopt(pr.cfd, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	x = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(x >= 0);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	assert_int_equal(bind(x, (struct sockaddr *)&pr.local,
			      sizeof(pr.local)), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(other.port);
	assert_int_equal(connect(x, (struct sockaddr *)&sa, sl), 0);
	xs = accept4(other.lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(xs >= 0);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &off,
				    sizeof(off)), 0);
	assert_int_equal(setsockopt(pr.cfd, SOL_SOCKET, SO_REUSEADDR, &off,
				    sizeof(off)), 0);
	close(x);
	usleep(10000);
	close(xs);
	usleep(10000);

	/* Check it's there: binding to the port fails */
	x = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	i = bind(x, (struct sockaddr *)&pr.local, sizeof(pr.local));
	close(x);
	if (!i)
		skip();		/* no TIME_WAIT to block the port here */

	conn_install(pr.cfd, &key, 40012, pr.port, 0);
	tcp_real_move(&key, &r);
}

/* Found here, fixed: a restored socket left repair mode without
 * SO_REUSEADDR, so once closed, its TIME_WAIT remnant kept the next
 * daemon's listener off the forwarded port (seen in the integration
 * tests: the second target couldn't listen on it)
 */
static void tcp_real_restored_time_wait(void **state)
{
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	int fd, l, on = 1, rc;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40013, pr.port, 0);
	idx = tcp_real_move(&key, &r);
	fd = tcp_conn_at(idx)->fd;

	/* Our side closes first: TIME_WAIT here */
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	usleep(10000);
	close(pr.sfd);
	pr.sfd = -1;
	usleep(10000);
	drop_tcp_flows();

	/* A listener, as a forwarded port has, binds to its port */
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &on,
				    sizeof(on)), 0);
	rc = bind(l, (struct sockaddr *)&pr.local, sizeof(pr.local));
	if (rc)
		fail_msg("bind to the closed connection's port: %s",
			 strerror(errno));
	close(l);
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_dump_rcvq(): SO_PEEK_OFF was set to 0 once,
 * before the retry loop, but every MSG_PEEK moves the peek offset forward
 * by what it read.  If a segment arrives while the receive queue is read
 * (the sequence number moved: that's what the retry is for), the second
 * peek starts past the bytes already read, returns fewer bytes than
 * SIOCINQ says, tcp_mig_peek() gives -EIO, and the connection is left
 * out of the stream, then closed by tcp_mig_release(): it's lost.
 */
static void tcp_real_segment_during_dump(void **state)
{
	const struct mig_tcp_conn *r;
	struct mig_tcp_conn rec;
	struct flow_key key;
	struct pair pr;
	const uint8_t *p;
	size_t len;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* One byte queued, one more sent while the queue is read: the frozen
	 * socket must not take it (the peer sends it again to the target)
	 */
	pair_open(&pr, 0);
	pair_fill(&pr, 1, 0);
	conn_install(pr.cfd, &key, 40004, pr.port, 0);
	inject_fd = pr.cfd;
	inject_peer = pr.sfd;

	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(injected);		/* the byte was sent meanwhile */
	assert_false(injected_queued);	/* and not taken */
	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	if (be32_get(p) != 1)
		fail_msg("connection left out of the stream (%s)",
			 logged(LOG_WARNING, "can't be saved") ?
			 "\"can't be saved\" logged" : "?");
	memcpy(&rec, p + 4, sizeof(rec));
	r = &rec;
	assert_int_equal(ntohl(r->rcvq_len), 1);
	assert_int_equal(p[4 + sizeof(rec)], pattern(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(check_before_any_transfer,
						setup, teardown),
		cmocka_unit_test(crc32c_check_values),
		cmocka_unit_test(crc32c_incremental),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(build_layout_as_documented),
		T(round_trip),
		T(round_trip_partial),
		T(tcp_zero_connections_accepted),
		T(truncated_every_length),
		T(truncated_every_length_transfer),
		T(flipped_byte_every_offset),
		T(flipped_byte_transfer),
		T(guest_fuzz_vs_reference),
		T(tcp_fuzz_vs_reference),
		T(version_needs_newer_reader),
		T(version_newer_readable),
		T(version_invalid),
		T(after_end_marker),
		T(missing_end_marker),
		T(only_end_marker),
		T(section_twice),
		T(too_many_sections),
		T(section_length_past_end),
		T(guest_section_checks),
		T(tcp_record_checks),
		T(tcp_payload_checks),
		T(tcp_apply_no_helper),
		T(tcp_apply_helper_fails),
		T(tcp_apply_repair_not_really_on),
		T(tcp_apply_socket_fails),
		T(load_valid),
		T(load_check_reads_rest),
		T(load_in_pieces),
		T(load_nothing_or_garbage),
		T(load_writer_closes_early),
		T(load_large_stream),
		T(save_valid),
		T(save_reader_closed),
		T(save_pipe_full),
		T(save_reader_closes_midway),
		T(check_abandons_incomplete),
		T(transfer_replaced_or_reset),
		T(start_bad_fd),
		T(buf_limits),
		T(buf_limit_exact),
		T(save_tcp_no_helper),
		T(tcp_real_round_trip),
		T(tcp_real_ipv6),
		T(tcp_real_fin_received),
		T(tcp_real_fin_sent),
		T(tcp_real_data_in_gap),
		T(tcp_real_data_in_gap_helper),
		T(tcp_real_reader_gone),
		T(tcp_real_port_time_wait),
		T(tcp_real_restored_time_wait),
		T(tcp_real_fin_after_unsent),
		T(tcp_real_both_fins),
		T(tcp_real_segment_during_dump),
		T(tcp_real_data_after_dump),
#undef T
	};

	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	log_echo = !!getenv("MIGRATE_TEST_DEBUG");
	log_set_level(LOG_TRACE);
	log_set_stderr(true);
	log_set_syslog(false);
	if (getenv("MIGRATE_TEST_ONLY"))
		cmocka_set_test_filter(getenv("MIGRATE_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
