// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/common_migrate.c - scaffolding of the migration unit tests
 *
 * DOC: Migration test scaffolding
 *
 * Linked into test/unit/migrate.c and test/unit/tcp_migrate.c, which both
 * wrap (-Wl,--wrap=...) what is replaced here:
 * - tap_send_l4(): counts frames that would go to the guest
 * - repair_ready(), repair_set(): the real ones (c.repair_fd decides), or
 *   a fake helper that claims success, fails every request, or sets
 *   TCP_REPAIR itself in this process (root)
 * - setsockopt(): attaching a socket filter fails with EPERM on demand,
 *   as without CAP_NET_ADMIN, so that the helper does it
 * - socket(): fails on demand (all calls, or the n-th)
 * - recv(): passes through; on demand, makes the peer send one more byte
 *   while the daemon peeks at a receive queue in repair mode
 * - close(): passes through; on demand, makes the peer send a few bytes
 *   just before the daemon closes a socket it dumped
 * - logmsg(): keeps the recent messages, so tests check what is logged;
 *   MIGRATE_TEST_DEBUG=1 in the environment also prints them
 * - log_rl_pass(): lets every line through, for tests that repeat a fault
 *
 * mig_setup() and mig_teardown() count descriptors in /proc/self/fd around
 * every test.
 */

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

#include "ctx.h"
#include "flow.h"
#include "migrate.h"
#include "repair.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "tcp_migrate.h"
#include "common.h"
#include "common_migrate.h"

struct ctx c;		/* the daemon under test: the target */
struct ctx src;		/* a source, for migrate_build() */
struct ctx snap;		/* copy of c, to show nothing changed */
struct ctx want;		/* what c should become */
int fd_base;		/* descriptors open before the test */
int kept[256];		/* test's own sockets, closed at teardown */
unsigned nkept;
struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];

/* ---------------------------------------------------------------- */
/* Wrapped functions                                                 */
/* ---------------------------------------------------------------- */

unsigned tap_frames;		/* frames sent to the guest */

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

enum helper_mode helper;
unsigned repair_requests;

bool __real_repair_ready(const struct ctx *cc);
int __real_repair_set(struct ctx *cc, const int *fds, size_t n, int cmd);

/* Test double: is the helper there? */
bool __wrap_repair_ready(const struct ctx *cc)
{
	if (helper == HELPER_REAL)
		return __real_repair_ready(cc);
	return true;
}

bool filter_eperm;	/* attaching filters takes the helper */
bool md5_missing;	/* the kernel has no TCP-MD5 */
unsigned helper_filters;	/* sockets it attached or detached one */

int __real_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len);
int __wrap_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len);

/* Test double: setsockopt(), as on kernels where only CAP_NET_ADMIN may
 * attach a socket filter, if filter_eperm, and on kernels without
 * TCP-MD5, if md5_missing
 */
int __wrap_setsockopt(int fd, int level, int name, const void *v,
		      socklen_t len)
{
	if (md5_missing && level == IPPROTO_TCP && name == TCP_MD5SIG_EXT) {
		errno = ENOPROTOOPT;
		return -1;
	}
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

int socket_fail_at;	/* fail the n-th call from now, 0: none */
bool socket_fail_all;
unsigned socket_calls;

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

int inject_fd = -1;	/* socket the daemon dumps */
int inject_peer = -1;	/* its peer: sends a byte meanwhile */
bool injected;

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

bool injected_queued;	/* the frozen socket took it */

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

int late_fd = -1;	/* socket the daemon will close */
int late_peer = -1;	/* its peer: sends just before that */
bool late_done;
bool late_queued;	/* the frozen socket took it */

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
unsigned nlogs;
bool log_echo;

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

/* Test double: no rate limit, every line reaches __wrap_logmsg() */
bool __wrap_log_rl_pass(struct log_rl *rl, int pri);
bool __wrap_log_rl_pass(struct log_rl *rl, int pri)
{
	(void)rl;
	(void)pri;
	return true;
}

void log_clear(void)
{
	memset(logs, 0, sizeof(logs));
	nlogs = 0;
}

/* Was a message with @needle logged at @maxpri or more urgent? */
bool logged(int maxpri, const char *needle)
{
	unsigned i, n = nlogs < LOG_KEEP ? nlogs : LOG_KEEP;

	for (i = 0; i < n; i++) {
		if (logs[i].pri <= maxpri && strstr(logs[i].msg, needle))
			return true;
	}
	return false;
}

/* Print the kept messages: for a failure's diagnosis */
void log_dump(void)
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
	static struct vu_dev vdev;	/* shared: only @c's is used */

	memset(x, 0, sizeof(*x));
	x->vdev = &vdev;
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
void ctx_source(struct ctx *x)
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
void ctx_target(struct ctx *x)
{
	ctx_base(x);
	x->ip4.addr = a4("192.168.7.10");
	x->ip4.prefix_len = 16;
	x->ip6.addr = a6("2001:db8:7::10");
	x->ip6.prefix_len = 48;
	x->ip6.addr_ll_seen = a6("fe80::7");
}

void snapshot(void)
{
	memcpy(&snap, &c, sizeof(c));
}

void assert_unchanged(void)
{
	assert_memory_equal(&c, &snap, sizeof(c));
}

void drop_tcp_flows(void)
{
	int idx;

	while ((idx = flow_next(FLOW_TCP, -1)) >= 0)
		tcp_conn_drop(&c, (unsigned)idx);
	flow_defer_handler();
}

int mig_setup(void **state)
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
	md5_missing = false;
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
	assert_ptr_equal(c.vdev->devstate, &migrate_devstate_ops);
	assert_ptr_equal(c.vdev->devstate_opaque, &c);
	snapshot();
	return 0;
}

int mig_teardown(void **state)
{
	(void)state;
	c.vdev->devstate->reset(c.vdev->devstate_opaque);
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

uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 8) + 5);
}

/* ---------------------------------------------------------------- */
/* Streams built by hand                                             */
/* ---------------------------------------------------------------- */

struct sb s1, s2, tp;

void be32_put(uint8_t *p, uint32_t v)
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

uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void sb_raw(struct sb *s, const void *p, size_t len)
{
	assert_true(len <= SB_SIZE - s->len);
	if (len)
		memcpy(s->b + s->len, p, len);
	s->len += len;
}

/* Start a stream: magic as the doc spells it, then the versions */
void sb_hdr(struct sb *s, uint32_t version, uint32_t min_version)
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
void sb_sec(struct sb *s, uint32_t id, const void *p, size_t len)
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

void sb_end(struct sb *s)
{
	sb_sec(s, MIG_SEC_END, NULL, 0);
}

/* Section 1 payload from a context, at the offsets of the doc's table */
void guest_put(uint8_t *p, const struct ctx *x)
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
void guest_ref_apply(struct ctx *x, const uint8_t *p)
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
bool ref_guest_ok(const uint8_t *p, size_t len)
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

void addr6(uint8_t *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* A valid TCP record, number @i, with queue lengths as given */
void rec_init(struct mig_tcp_conn *r, unsigned i, bool v6,
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
void tp_begin(struct sb *t, uint32_t count)
{
	uint8_t b[4];

	t->len = 0;
	be32_put(b, count);
	sb_raw(t, b, sizeof(b));
}

/* Append a record and as many queue bytes as it announces */
void tp_rec(struct sb *t, const struct mig_tcp_conn *r)
{
	size_t q = (size_t)ntohl(r->sndq_len) + ntohl(r->rcvq_len), i;

	sb_raw(t, r, sizeof(*r));
	assert_true(q <= SB_SIZE - t->len);
	for (i = 0; i < q; i++)
		t->b[t->len + i] = pattern(i);
	t->len += q;
}

/* Naive checker of a section 2 payload, from the doc's table */
bool ref_mapped(const uint8_t *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

/* States 1 to 3, handshakes: SYN sent, nothing else (doc: section 2) */
static bool ref_handshake_bad(const uint8_t *r)
{
	uint32_t syn_end = be32_get(r + 48) + 1;

	if (r[36] == 4)
		return false;
	if (be32_get(r + 44) != syn_end || be32_get(r + 52) != syn_end ||
	    (be16_get(r + 38) & 0xd) || be32_get(r + 116) || (r[135] & ~2))
		return true;
	return r[36] == 1 && (be32_get(r + 124) || r[135] || be16_get(r + 104));
}

int ref_tcp_check(const uint8_t *p, size_t len, unsigned active)
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
		if (r[36] < 1 || r[36] > 4 || r[37] > 14 || !be16_get(r + 40) ||
		    r[132] > 14 || r[133] > 14 || (r[135] & ~7))
			return -EINVAL;
		if (ref_handshake_bad(r))
			return -EINVAL;
		if (ref_mapped(r) != ref_mapped(r + 16) ||
		    (!closed && ref_mapped(r + 72) != ref_mapped(r + 88)))
			return -EINVAL;
		if (!be16_get(r + 32) || !be16_get(r + 34) ||
		    (!closed && ((r[36] != 1 && !be16_get(r + 104)) ||
				 !be16_get(r + 106))))
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
void sb_full(struct sb *s, uint32_t version, uint32_t min_version,
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
void sb_one(struct sb *s, uint32_t id, const void *p, size_t len)
{
	sb_hdr(s, MIGRATE_VERSION, MIGRATE_MIN_VERSION);
	sb_sec(s, id, p, len);
	sb_end(s);
}

int parse(const struct sb *s)
{
	return migrate_parse(&c, s->b, s->len, refs);
}

/* Parse a version 1 stream with only this MIG_SEC_TCP payload */
int parse_tcp(const struct sb *t)
{
	sb_hdr(&s2, 1, 1);
	sb_sec(&s2, MIG_SEC_TCP, t->b, t->len);
	sb_end(&s2);
	return parse(&s2);
}

/* Three records: IPv4 with both queues, IPv6 without, IPv4 small ones */
void tp_three(struct sb *t)
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

int x_start(int fd, uint32_t dir)
{
	return c.vdev->devstate->start(c.vdev->devstate_opaque, fd, dir);
}

/* CHECK_DEVICE_STATE, answered: what the loop does after the answer */
int x_check(void)
{
	int rc = c.vdev->devstate->check(c.vdev->devstate_opaque);

	migrate_answered(&c);
	return rc;
}

void x_reset(void)
{
	c.vdev->devstate->reset(c.vdev->devstate_opaque);
}

/* Load @len bytes through a pipe whose writer is closed; check() */
int load_pipe(const uint8_t *p, size_t len, bool handler)
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
int load_pieces(const uint8_t *p, size_t len)
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
int save_pipe(struct sb *s)
{
	save_pipe_unchecked(s);
	return x_check();
}

/* Save through a pipe, read to its end, and don't ask for the result */
void save_pipe_unchecked(struct sb *s)
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
}

/**
 * mig_main_init() - Process-wide set-up of a migration test binary
 *
 * SIGPIPE ignored, as the daemon does; logs kept (printed too with
 * MIGRATE_TEST_DEBUG=1); MIGRATE_TEST_ONLY=pattern runs matching tests only.
 */
void mig_main_init(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	log_echo = !!getenv("MIGRATE_TEST_DEBUG");
	log_set_level(LOG_TRACE);
	log_set_stderr(true);
	log_set_syslog(false);
	if (getenv("MIGRATE_TEST_ONLY"))
		cmocka_set_test_filter(getenv("MIGRATE_TEST_ONLY"));
}
