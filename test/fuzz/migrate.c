// SPDX-License-Identifier: GPL-2.0-or-later
/* test/fuzz/migrate.c - libFuzzer target: device state streams on load
 *
 * The input is the whole stream a source wrote into the device state pipe.
 * migrate_parse() checks it; if it accepts, migrate_apply() applies it to
 * a fresh context, twice:
 *   1. with no passt-repair connected: TCP records become sockets that are
 *      dropped with a warning;
 *   2. with a helper: a thread of this process that serves the passt-repair
 *      protocol of repair.h (written from doc/repair.md, not passt-repair.c)
 *      on a socket pair and sets TCP_REPAIR itself, which needs
 *      CAP_NET_ADMIN in our network namespace (root, or unshare -rn).
 *      For each TCP record, this harness first plays the remote peer: a
 *      socket rebuilt with TCP_REPAIR from the mirror image of the record
 *      (its local address is the record's remote one, its sequence numbers
 *      follow the queues), so that the daemon's restored socket finds a
 *      live peer on loopback.  Connections are then really rebuilt, frozen
 *      again, dumped with migrate_build() and closed; both ends are closed
 *      in repair mode, silently, so the next input finds the ports free.
 * Run inside a fresh network namespace only (fuzz_require_netns() refuses
 * otherwise): restored sockets bind and connect, on lo.
 *
 * Mutations: a custom mutator lets libFuzzer mutate, then, seven times in
 * eight, recomputes the CRC32C of every section it can delimit, so that
 * mutated payloads get past the CRC check to the section checks; the
 * inputs stay streams a writer could have produced, byte for byte.
 *
 * Checked:
 * - migrate_parse() touches no state (context fields, flow table) and
 *   returns section references inside the input, terminated as documented;
 * - passt-ctl's decoder (mig_decode()) refuses exactly the inputs that
 *   migrate_parse() refuses, naming a byte within the input, and touches
 *   no state either;
 * - whatever was applied can be written out again by migrate_build(), and
 *   migrate_parse() accepts what it wrote (what one daemon saves, another
 *   must load);
 * - after each pass, once flows are dropped, no flow and no descriptor is
 *   left; die() or ASSERT() anywhere is a crash.
 *
 * FUZZ_SEED_DIR=dir makes the binary write its seed inputs there and exit
 * (in the namespace too: one seed is a dump of sockets restored here).
 */

/* WRAP: vu_frame_send getrandom */

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "vu_dev.h"
#include "flow.h"
#include "migrate.h"
#include "mig_decode.h"
#include "tcp_mig_wire.h"
#include "repair.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "tcp_migrate.h"
#include "tcp_guard.h"
#include "tcp_restore.h"
#include "common.h"

#define HELPER_BATCH	REPAIR_BATCH
#define PEERS_MAX	64		/* remote peers played per input */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned seed);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags);
int __wrap_vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t cnt);

static struct ctx c;
static struct vu_dev fuzz_vdev;	/* the wrapped output ignores it */

/**
 * struct saved - The context fields a stream may change, as configured
 * @guest_mac:	Guest MAC address
 * @guest_mac_set: Guest MAC known
 * @ip4, @ip6:	Addresses, those seen from the guest included
 */
static struct {
	uint8_t guest_mac[ETH_ALEN];
	bool guest_mac_set;
	struct ip4_ctx ip4;
	struct ip6_ctx ip6;
} saved;

static struct fuzz_fds fds0;		/* open between inputs */
static bool can_repair;			/* TCP_REPAIR works here */
static int helper_fd = -1;		/* our end for the daemon */
static pthread_t helper_thread;
static bool helper_running;
static int peers[PEERS_MAX];		/* remote peers of restored sockets */
static unsigned npeers;

/**
 * __wrap_getrandom() - No randomness: the same input behaves the same
 * @buf:	Filled with zeros
 * @len:	Bytes
 * @flags:	Ignored
 *
 * Return: @len
 */
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags)
{
	(void)flags;
	memset(buf, 0, len);
	return (ssize_t)len;
}

/**
 * __wrap_vu_frame_send() - Frames restored connections send the guest: dropped
 * @vdev:	Unused
 * @iov:	Frame
 * @cnt:	Entries in @iov
 *
 * Return: frame length
 */
int __wrap_vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t cnt)
{
	size_t len = iov_size(iov, cnt), i;

	(void)vdev;
	for (i = 0; i < cnt; i++)
		fuzz_touch(iov[i].iov_base, iov[i].iov_len);
	if (len < ETH_HLEN || len > ETH_HLEN + MTU_MAX)
		FUZZ_FAIL("frame of %zu bytes to the guest", len);
	return (int)len;
}

/* The helper */

/**
 * helper_main() - Serve repair requests until the daemon closes its end
 * @arg:	Our end of the socket pair, as intptr_t
 *
 * Return: NULL
 */
static void *helper_main(void *arg)
{
	int s = (int)(intptr_t)arg;

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * HELPER_BATCH)];
			struct cmsghdr align;
		} u;
		int8_t cmd;
		struct iovec iov = { &cmd, sizeof(cmd) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *cm;
		uint8_t answer = 0;
		ssize_t n;

		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t i, nfd;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfd; i++) {
				int fd, v = cmd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(fd));
				if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &v,
					       sizeof(v)) && !answer)
					answer = (uint8_t)errno;
				close(fd);
			}
		}
		if (send(s, &answer, 1, MSG_NOSIGNAL) != 1)
			break;
	}
	close(s);
	return NULL;
}

/**
 * helper_start() - Start a helper thread if none is connected
 *
 * Return: true if a helper is connected (c.repair_fd set)
 */
static bool helper_start(void)
{
	int sv[2];

	if (!can_repair)
		return false;
	if (helper_fd >= 0) {
		c.repair_fd = helper_fd;
		return true;
	}
	if (helper_running) {		/* the daemon dropped it: reap */
		pthread_join(helper_thread, NULL);
		helper_running = false;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		FUZZ_FAIL("socketpair: %s", strerror(errno));
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) ||
	    pthread_create(&helper_thread, NULL, helper_main,
			   (void *)(intptr_t)sv[1]))
		FUZZ_FAIL("helper: %s", strerror(errno));
	helper_running = true;
	helper_fd = c.repair_fd = sv[0];
	fuzz_fds_snapshot(&fds0);	/* the helper's descriptors are ours */
	return true;
}

/**
 * helper_check() - After a pass with the helper: did the daemon drop it?
 */
static void helper_check(void)
{
	if (c.repair_fd < 0)
		helper_fd = -1;		/* closed by repair.c: thread exits */
	c.repair_fd = -1;
}

/**
 * can_repair_probe() - Can we set TCP_REPAIR here?
 *
 * Return: true if we can
 */
static bool can_repair_probe(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
	bool ok;

	if (fd < 0)
		return false;
	ok = !setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on));
	close(fd);
	return ok;
}


/* Remote peers */

/**
 * rec_v4() - Is a 16-byte record address IPv4-mapped?
 * @a:		Address
 *
 * Return: true if it is
 */
static bool rec_v4(const uint8_t *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

/**
 * rec_sa() - Socket address from a record address and port
 * @a:		Address, 16 bytes
 * @port:	Port, network order
 * @sa:		Set
 *
 * Return: length of @sa
 */
static socklen_t rec_sa(const uint8_t *a, __be16 port,
			struct sockaddr_storage *sa)
{
	union inany_addr ia;

	memcpy(&ia, a, sizeof(ia));
	return inany_sockaddr(sa, &ia, ntohs(port));
}

/**
 * peer_make() - Rebuild the remote end of a record, in repair mode
 * @r:		Record, checked by tcp_mig_check()
 *
 * It has sent what sits in the record's receive queue (and a FIN if the
 * record says so), and has received nothing of the send queue yet.
 * Failures (a remote address that isn't ours, a port in use) leave no
 * peer: the daemon's restore then fails as it would in real life.
 */
static void peer_make(const struct mig_tcp_conn *r)
{
	uint32_t snd = ntohl(r->rcv_seq) + ntohl(r->rcvq_len) +
		       !!(r->fin & MIG_TCP_FIN_RCVD);
	uint32_t rcv = ntohl(r->snd_una);
	struct tcp_repair_opt opts[2] = {
		{ TCPOPT_MAXSEG, ntohl(r->mss_host) },
		{ TCPOPT_WINDOW, r->rcv_wscale | (uint32_t)r->snd_wscale << 16 },
	};
	int fd, on = 1, q;
	struct sockaddr_storage sa;
	socklen_t sl;

	if (npeers == PEERS_MAX)
		return;
	fd = socket(rec_v4(r->raddr) ? AF_INET : AF_INET6,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		goto fail;
	sl = rec_sa(r->raddr, r->rport, &sa);
	if (bind(fd, (struct sockaddr *)&sa, sl))
		goto fail;
	q = TCP_SEND_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &snd, sizeof(snd)))
		goto fail;
	q = TCP_RECV_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &rcv, sizeof(rcv)))
		goto fail;
	sl = rec_sa(r->laddr, r->lport, &sa);
	if (connect(fd, (struct sockaddr *)&sa, sl))
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts,
		   (socklen_t)((r->opts & TCPI_OPT_WSCALE ? 2 : 1) *
			       sizeof(opts[0])));
	peers[npeers++] = fd;
	return;

fail:
	close(fd);
}

/**
 * peers_make() - Remote peers for the TCP records of a parsed stream
 * @refs:	From migrate_parse()
 */
static void peers_make(const struct mig_sec_ref *refs)
{
	unsigned i;

	for (i = 0; i < MIGRATE_SECTIONS_MAX && refs[i].p; i++) {
		const uint8_t *p = refs[i].p;
		size_t off = sizeof(__be32);
		uint32_t n, k;
		__be32 be;

		bool v2 = refs[i].sec && refs[i].sec->id == MIG_SEC_TCP2;
		struct tcp_mig_table t;
		size_t recs_len;

		if (!v2 && (!refs[i].sec || refs[i].sec->id != MIG_SEC_TCP))
			continue;
		if (v2 && tcp_mig_table_find(p, refs[i].len, &t,
					     &recs_len) < 0)
			continue;
		memcpy(&be, p, sizeof(be));
		n = ntohl(be);
		for (k = 0; k < n && k < PEERS_MAX; k++) {
			struct mig_tcp_conn r;

			if (!v2)
				memcpy(&r, p + off, sizeof(r));
			else if (tcp_mig_rec_get(p + off, &t, &r))
				break;
			peer_make(&r);
			off += (v2 ? sizeof(struct mig_tcp_rec) : sizeof(r)) +
			       ntohl(r.sndq_len) + ntohl(r.rcvq_len);
		}
	}
}

/**
 * peers_start() - Take the peers out of repair mode, without a probe
 */
static void peers_start(void)
{
	int off = TCP_REPAIR_OFF_NO_WP;
	unsigned i;

	for (i = 0; i < npeers; i++)
		setsockopt(peers[i], IPPROTO_TCP, TCP_REPAIR, &off,
			   sizeof(off));
}

/**
 * silent_close() - Close a TCP socket in repair mode: nothing is sent, and
 *		    its addresses and ports are free at once
 * @fd:		Socket
 */
static void silent_close(int fd)
{
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on));
	close(fd);
}

/* Passes */

/**
 * ctx_reset() - Fresh context for a pass: as configured
 */
static void ctx_reset(void)
{
	memcpy(c.guest_mac, saved.guest_mac, ETH_ALEN);
	c.guest_mac_set = saved.guest_mac_set;
	c.ip4 = saved.ip4;
	c.ip6 = saved.ip6;
	c.repair_fd = -1;
}

/**
 * ctx_unchanged() - Fail if the context differs from the configured one
 * @what:	What ran, for the message
 */
static void ctx_unchanged(const char *what)
{
	if (memcmp(c.guest_mac, saved.guest_mac, ETH_ALEN) ||
	    c.guest_mac_set != saved.guest_mac_set ||
	    memcmp(&c.ip4, &saved.ip4, sizeof(c.ip4)) ||
	    memcmp(&c.ip6, &saved.ip6, sizeof(c.ip6)))
		FUZZ_FAIL("%s changed the context", what);
	if (flow_stats()->active)
		FUZZ_FAIL("%s made %u flows", what, flow_stats()->active);
}

/**
 * refs_check() - Section references must point into the stream
 * @p:		Stream
 * @len:	Its length
 * @refs:	From migrate_parse()
 * @n:		Its return value, >= 0
 */
static void refs_check(const uint8_t *p, size_t len,
		       const struct mig_sec_ref *refs, int n)
{
	int i;

	if (n >= MIGRATE_SECTIONS_MAX)
		FUZZ_FAIL("%d sections, room for %d", n, MIGRATE_SECTIONS_MAX);
	for (i = 0; i < n; i++) {
		if (!refs[i].p || refs[i].p < p || refs[i].p > p + len ||
		    refs[i].len > (size_t)(p + len - refs[i].p))
			FUZZ_FAIL("section %d outside the stream", i);
	}
	if (refs[n].p || refs[n].sec || refs[n].len)
		FUZZ_FAIL("section list not terminated after %d", n);
}

/**
 * pump() - Serve events of restored sockets, as the loop would
 */
static void pump(void)
{
	struct epoll_event ev[64];
	int n, i, round;

	for (round = 0; round < 4; round++) {
		n = epoll_wait(c.epollfd, ev, ARRAY_SIZE(ev), 0);
		for (i = 0; i < n; i++) {
			union evtag tag = { .u64 = ev[i].data.u64 };

			if (tag.kind != EV_TCP)
				FUZZ_FAIL("event of kind %u", tag.kind);
			tcp_sock_handler(&c, tag, ev[i].events);
		}
		flow_defer_handler();
		if (n <= 0)
			break;
	}
}

/**
 * rebuild() - Write our state out again, read it back
 * @freeze:	Freeze TCP connections first (a helper is connected)
 * @keep:	Keep the stream written, NULL if not needed (mig_buf_free())
 */
static void rebuild(bool freeze, struct mig_buf *keep)
{
	struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
	struct mig_buf b = { 0 };
	int rc;

	if (freeze && (rc = tcp_mig_freeze(&c)))
		FUZZ_FAIL("tcp_mig_freeze() failed: %s", strerror(-rc));
	rc = migrate_build(&c, &b);
	if (rc && rc != -ENOMEM)
		FUZZ_FAIL("migrate_build() failed: %s", strerror(-rc));
	if (!rc) {
		rc = migrate_parse(&c, b.p, b.len, refs);
		if (rc < 0)
			FUZZ_FAIL("the stream we wrote is refused: %s",
				  strerror(-rc));
		refs_check(b.p, b.len, refs, rc);
	}
	if (freeze) {
		tcp_mig_release(&c);
		tcp_guard_clear();	/* as when the session ends */
	}
	if (keep)
		*keep = b;
	else
		mig_buf_free(&b);
}

/**
 * pass_end() - Drop what a pass made, check that nothing is left
 * @helper:	The pass had a helper
 * @what:	Pass, for the messages
 */
static void pass_end(bool helper, const char *what)
{
	unsigned i;
	int idx;

	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx)) {
		int on = 1;

		if (can_repair && tcp_conn_at((unsigned)idx)->fd >= 0)
			setsockopt(tcp_conn_at((unsigned)idx)->fd, IPPROTO_TCP,
				   TCP_REPAIR, &on, sizeof(on));
		tcp_conn_drop(&c, (unsigned)idx);
	}
	flow_defer_handler();
	if (flow_stats()->active)
		FUZZ_FAIL("%s: %u flows left", what, flow_stats()->active);
	if (tcp_mig_staged())
		FUZZ_FAIL("%s: connections left staged", what);
	for (i = 0; i < npeers; i++)
		silent_close(peers[i]);
	npeers = 0;
	if (helper)
		helper_check();
	fuzz_fds_check(&fds0, what);
	ctx_reset();
}

/**
 * apply() - Apply parsed sections to a fresh context, rebuild the stream
 * @refs:	From migrate_parse()
 * @helper:	With a repair helper
 * @keep:	Keep the rebuilt stream here, NULL if not needed
 */
static void apply(const struct mig_sec_ref *refs, bool helper,
		  struct mig_buf *keep)
{
	bool live;

	ctx_reset();
	if (helper && !helper_start())
		return;
	if (helper)
		peers_make(refs);
	migrate_apply(&c, refs);
	tcp_mig_activate(&c, false);		/* the guest runs */
	peers_start();
	pump();
	live = flow_next(FLOW_TCP, -1) >= 0;
	rebuild(helper && live && c.repair_fd >= 0, keep);
	pass_end(helper, helper ? "the pass with a helper" :
				  "the pass without one");
}

/**
 * LLVMFuzzerTestOneInput() - Parse one stream, apply it if accepted
 * @data:	Stream
 * @size:	Length of @data
 *
 * Return: 0
 */
/**
 * discard() - fopencookie() writer that takes everything, keeps nothing
 * @cookie:	Unused
 * @buf:	Bytes
 * @len:	How many
 *
 * Return: @len
 */
static ssize_t discard(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	fuzz_touch(buf, len);
	return (ssize_t)len;
}

/**
 * decode_check() - passt-ctl decode refuses what migrate_parse() refuses,
 *		    and names a byte of the input
 * @data:	Stream
 * @size:	Its length
 * @parsed:	migrate_parse() accepted it
 */
static void decode_check(const uint8_t *data, size_t size, bool parsed)
{
	static const cookie_io_functions_t io = { .write = discard };
	static FILE *out;
	struct mig_stream s;
	int rc;

	if (!out && !(out = fopencookie(NULL, "w", io)))
		FUZZ_FAIL("fopencookie() failed");
	rc = mig_decode(data, size, out, &s);
	if (!rc != parsed)
		FUZZ_FAIL("passt-ctl decode %s a stream migrate_parse() %s",
			  rc ? "refused" : "accepted",
			  parsed ? "accepted" : "refused");
	if (rc && s.bad > size)
		FUZZ_FAIL("first bad byte at %zu, the stream has %zu", s.bad,
			  size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
	int n;

	ctx_reset();
	n = migrate_parse(&c, data, size, refs);
	ctx_unchanged("migrate_parse()");
	decode_check(data, size, n >= 0);
	ctx_unchanged("mig_decode()");
	if (n < 0)
		return 0;
	refs_check(data, size, refs, n);

	apply(refs, false, NULL);
	apply(refs, true, NULL);
	return 0;
}

/**
 * crc_fix() - Recompute the CRC of every section that fits in a stream
 * @p:		Stream
 * @len:	Its length
 */
static void crc_fix(uint8_t *p, size_t len)
{
	size_t off = sizeof(struct mig_hdr);

	while (off < len &&
	       len - off >= sizeof(struct mig_sec_hdr) + MIG_SEC_TRAILER) {
		struct mig_sec_hdr h;
		uint32_t slen;
		__be32 be;

		memcpy(&h, p + off, sizeof(h));
		slen = ntohl(h.len);
		if (slen > len - off - sizeof(h) - MIG_SEC_TRAILER)
			return;
		be = htonl(crc32c(0, p + off, sizeof(h) + slen));
		memcpy(p + off + sizeof(h) + slen, &be, sizeof(be));
		if (h.id == htonl(MIG_SEC_END))
			return;
		off += sizeof(h) + slen + MIG_SEC_TRAILER;
	}
}

/**
 * LLVMFuzzerCustomMutator() - Mutate, then mostly keep the CRCs right
 * @data:	Input, mutated in place
 * @size:	Its length
 * @max:	Largest length allowed
 * @seed:	Random seed from libFuzzer
 *
 * Return: new length
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned seed)
{
	size = LLVMFuzzerMutate(data, size, max);
	if (size >= sizeof(struct mig_hdr) && (seed & 7))
		crc_fix(data, size);
	return size;
}

/* Seeds */

/**
 * sec_put() - Append a section with its CRC32C
 * @f:		Stream being built
 * @id:		Section id
 * @p:		Payload
 * @len:	Its length
 */
static void sec_put(struct fuzz_buf *f, uint32_t id, const void *p, size_t len)
{
	size_t start = f->len;

	fb_be32(f, id);
	fb_be32(f, (uint32_t)len);
	fb_put(f, p, len);
	fb_be32(f, crc32c(0, f->b + start, 8 + len));
}

/**
 * hdr_put() - Append a stream header
 * @f:		Stream being built
 * @version:	Version of the stream
 * @min:	Oldest reader version that copes with it
 */
static void hdr_put(struct fuzz_buf *f, uint32_t version, uint32_t min)
{
	fb_be32(f, (uint32_t)(MIGRATE_MAGIC >> 32));
	fb_be32(f, (uint32_t)MIGRATE_MAGIC);
	fb_be32(f, version);
	fb_be32(f, min);
}

/**
 * rec_put() - Append one TCP record and its queues to a payload
 * @f:		Payload being built
 * @v6:		Over IPv6 loopback, else IPv4
 * @lport:	Host socket's local port
 */
static void rec_put(struct fuzz_buf *f, bool v6, uint16_t lport)
{
	static const char sndq[] = "to the peer", rcvq[] = "to the guest";
	struct mig_tcp_conn r = { 0 };
	const char *g = v6 ? "2001:db8::15" : "::ffff:10.0.2.15";
	const char *fa = v6 ? "2001:db8::1" : "::ffff:10.0.2.2";
	const char *lo = v6 ? "::1" : "::ffff:127.0.0.1";

	inet_pton(AF_INET6, g, r.gaddr);
	inet_pton(AF_INET6, fa, r.faddr);
	inet_pton(AF_INET6, lo, r.laddr);
	inet_pton(AF_INET6, lo, r.raddr);
	r.gport = htons(40000);
	r.fport = htons(8000);
	r.state = CS_ESTABLISHED;
	r.ws_guest = 7;
	r.flags = htons(CONN_WS);
	r.mss = htons(1460);
	r.seq_to_guest = r.seq_acked = r.seq_max = htonl(100000);
	r.seq_from_guest = htonl(2000);
	r.wnd_from_guest = htonl(65535 << 7);
	r.wnd_to_guest = htonl(65535 << 8);
	r.lport = htons(lport);
	r.rport = htons(8000);
	r.snd_una = htonl(3000);
	r.rcv_seq = htonl(4000);
	r.sndq_len = htonl(sizeof(sndq) - 1);
	r.sndq_unsent = htonl(3);
	r.rcvq_len = htonl(sizeof(rcvq) - 1);
	r.mss_host = htonl(65483);
	r.snd_wscale = r.rcv_wscale = 7;
	r.opts = TCPI_OPT_WSCALE | TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS;
	r.timestamp = htonl(123456);
	r.snd_wl1 = htonl(4000);
	r.snd_wnd = r.max_window = r.rcv_wnd = htonl(65535 << 7);
	r.rcv_wup = htonl(4000);
	fb_put(f, &r, sizeof(r));
	fb_put(f, sndq, sizeof(sndq) - 1);
	fb_put(f, rcvq, sizeof(rcvq) - 1);
}

/**
 * guest_put() - A MIG_SEC_GUEST payload, as a source would have it
 * @f:		Stream being built
 */
static void guest_put(struct fuzz_buf *f)
{
	struct mig_guest g = { .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
			       .mac_set = 1, .v4 = 1, .v6 = 1,
			       .prefix4 = 24, .prefix6 = 64 };

	inet_pton(AF_INET, "10.0.2.16", g.addr4);
	inet_pton(AF_INET, "10.0.2.16", g.addr4_seen);
	inet_pton(AF_INET6, "2001:db8::16", g.addr6);
	inet_pton(AF_INET6, "2001:db8::16", g.addr6_seen);
	inet_pton(AF_INET6, "fe80::5054:ff:fe12:3456", g.addr6_ll_seen);
	sec_put(f, MIG_SEC_GUEST, &g, sizeof(g));
}

/**
 * seeds_write() - Write the seed corpus
 * @dir:	Directory
 */
static void seeds_write(const char *dir)
{
	struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
	static struct fuzz_buf f, tcp;
	struct mig_buf b = { 0 };
	int n;

	/* What migrate_build() writes for our context: no connections */
	ctx_reset();
	if (migrate_build(&c, &b))
		FUZZ_FAIL("migrate_build()");
	fuzz_seed_write(dir, "build-empty", b.p, b.len);
	mig_buf_free(&b);

	/* A guest with its own lease, two connections, by hand */
	tcp.len = 0;
	fb_be32(&tcp, 2);
	rec_put(&tcp, false, 45000);
	rec_put(&tcp, true, 45001);
	f.len = 0;
	hdr_put(&f, 1, 1);	/* version 1: MIG_SEC_TCP */
	guest_put(&f);
	sec_put(&f, MIG_SEC_TCP, tcp.b, tcp.len);
	sec_put(&f, MIG_SEC_END, NULL, 0);
	fuzz_seed_write(dir, "guest-tcp", f.b, f.len);

	/* Those connections restored here, then dumped by migrate_build() */
	n = migrate_parse(&c, f.b, f.len, refs);
	if (n < 0)
		FUZZ_FAIL("seed guest-tcp refused");
	apply(refs, true, &b);
	if (b.p) {
		fuzz_seed_write(dir, "build-restored", b.p, b.len);
		mig_buf_free(&b);
	}

	/* A newer writer: version 2, readable by 1, a section we don't know */
	f.len = 0;
	hdr_put(&f, MIGRATE_VERSION + 1, MIGRATE_MIN_VERSION);
	sec_put(&f, 7, "future", 6);
	guest_put(&f);
	sec_put(&f, MIG_SEC_END, NULL, 0);
	fuzz_seed_write(dir, "newer-version", f.b, f.len);
}

/* Set-up */

/**
 * LLVMFuzzerInitialize() - Namespace, context; seeds if asked
 * @argc:	Unused
 * @argv:	Unused
 *
 * Return: 0
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	fuzz_log_init();
	fuzz_require_netns();
	/* No TIME_WAIT: restored sockets bind the same ports every time */
	fuzz_sysctl_set("ipv4/tcp_max_tw_buckets", "0");
	can_repair = can_repair_probe();
	if (!can_repair)
		fprintf(stderr, "fuzz: no CAP_NET_ADMIN, TCP_REPAIR unavailable:"
			" the helper pass is skipped\n");

	c.vdev = &fuzz_vdev;
	c.mode_vu = true;
	c.fd_conn = c.repair_fd = c.repair_listen_fd = c.timerfd = -1;
	c.mtu = MTU_DEFAULT;
	c.v4 = c.v6 = true;
	inet_pton(AF_INET, "10.0.2.15", &c.ip4.addr);
	c.ip4.prefix_len = 24;
	inet_pton(AF_INET, "10.0.2.2", &c.ip4.gw);
	inet_pton(AF_INET6, "2001:db8::15", &c.ip6.addr);
	c.ip6.prefix_len = 64;
	inet_pton(AF_INET6, "2001:db8::1", &c.ip6.gw);
	inet_pton(AF_INET6, "fe80::1", &c.ip6.our_ll);
	strcpy(c.repair_path, "/nonexistent/passt.repair");
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	if (c.epollfd < 0)
		FUZZ_FAIL("epoll_create1: %s", strerror(errno));
	flow_init();
	if (tcp_init(&c))
		FUZZ_FAIL("tcp_init()");

	memcpy(saved.guest_mac, c.guest_mac, ETH_ALEN);
	saved.guest_mac_set = c.guest_mac_set;
	saved.ip4 = c.ip4;
	saved.ip6 = c.ip6;
	fuzz_fds_snapshot(&fds0);

	fuzz_seeds_or_go_on(seeds_write);
	return 0;
}
