// SPDX-License-Identifier: GPL-2.0-or-later
/* icmp.c - ICMP and ICMPv6 echo from the guest, through ping sockets
 *
 * DOC: Theory of operation
 *
 * An echo request from the guest is sent on with a "ping" socket
 * (SOCK_DGRAM, IPPROTO_ICMP or IPPROTO_ICMPV6), which needs no privilege,
 * only a group in net.ipv4.ping_group_range (which covers both families).
 * The echo identifier is the socket's local port: we bind it to the
 * guest's identifier, so the remote sees that, or let the kernel pick one
 * if another ping socket has it (EADDRINUSE).  Ping sockets allow sharing
 * an identifier by default (the newest takes the replies): ours clear
 * SO_REUSEADDR, so that nobody shares theirs.  The kernel fills the
 * checksum; the sequence number and data go through unchanged.
 *
 * Each (destination, guest identifier) pair is an echo "flow" with its own
 * socket, in a fixed table of ICMP_FLOWS entries.  Replies read from the
 * socket get the guest's identifier back and a fresh checksum, and go to
 * the guest from the address it pinged; ICMPv6 replies get their checksum
 * with the pseudo-header (RFC 4443, 2.3).  The gateway address stands for
 * the host: echo requests to it (c->ip4.gw, c->ip6.gw or c->ip6.our_ll) go
 * to 127.0.0.1 or ::1, and replies come back from the address pinged.
 * Echo headers have the same layout in both families (type, code,
 * checksum, identifier, sequence), so one struct icmphdr serves both.
 *
 * Flows idle for ICMP_TIMEOUT_MS are closed by icmp_timer().  A full table
 * gives up its least recently used flow.  If we can't open a ping socket
 * (ping_group_range doesn't include us, or out of descriptors), the
 * request is dropped and we warn at most once a minute.
 *
 * Migration (MIG_SEC_ICMP, doc/migration.md): one record per flow, with
 * the host-side identifier.  The source closes its ping sockets once the
 * stream is out (icmp_mig_release()); the target binds new ones to the
 * same identifiers, out of epoll until our guest runs, so the remote sees
 * the same identifier and the guest's sequence carries on.  An identifier
 * still held (a target on this host that hasn't let go) is retried on the
 * migration timer for ICMP_MIG_RETRY_MS, echo requests meanwhile dropped;
 * a flow that can't be rebuilt is logged and dropped.  A failed migration
 * takes the flows back from the kept stream, as a target would.
 *
 * Bad input: requests shorter than an ICMP header, with a non-zero code
 * or to a broadcast or multicast address are dropped (-errno, counted by
 * the caller), and so are ICMPv6 requests to a link-local address other
 * than ours (no interface to send them from); other types are not
 * handled.  Socket events are checked against the table (index, fd) so a
 * stale one does nothing.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "icmp.h"
#include "checksum.h"
#include "tap_out.h"
#include "mig_wire.h"
#include "mig_rec.h"

#define ICMP_WARN_INTERVAL	60	/* seconds between socket warnings */
#define ICMP_RECV_BATCH		32	/* replies read per event at most */
#define ICMP_MAX_LEN		65535
#define ICMP_MIG_RETRY_MS	60000	/* then a migrated flow whose
					 * identifier stays held is dropped */

/**
 * enum icmp_mig - Where a migrated flow is in its rebuild
 * @ICMP_MIG_NONE:	Running (or never migrated)
 * @ICMP_MIG_STAGED:	Socket bound, out of epoll until our guest runs
 * @ICMP_MIG_PENDING:	Identifier still held: no socket, guest not running
 * @ICMP_MIG_RETRY:	Identifier still held, guest running: retried on
 *			each migration tick, since @last
 */
enum icmp_mig {
	ICMP_MIG_NONE = 0,
	ICMP_MIG_STAGED,
	ICMP_MIG_PENDING,
	ICMP_MIG_RETRY,
};

/**
 * struct icmp_flow - One echo flow: a guest identifier to one destination
 * @in_use:	Entry holds a flow
 * @fd:		Ping socket, -1 while a migrated one waits for its identifier
 * @dst:	Destination as the guest addressed it (IPv4-mapped for IPv4)
 * @src:	Guest's source address, same family: replies go there
 * @id:		Guest's echo identifier, host order
 * @seq:	Last sequence number the guest sent, host order
 * @last:	Last activity (CLOCK_MONOTONIC)
 * @hid:	Migrated: host-side identifier to bind, host order
 * @mig:	enum icmp_mig
 */
struct icmp_flow {
	bool in_use;
	int fd;
	union inany_addr dst;
	union inany_addr src;
	uint16_t id;
	uint16_t seq;
	struct timespec last;
	uint16_t hid;
	uint8_t mig;
};

static struct icmp_flow icmp_flows[ICMP_FLOWS];

/**
 * icmp_flow_close() - Close a flow's socket and free its entry
 * @c:		Execution context
 * @f:		Flow
 *
 * #syscalls close
 */
static void icmp_flow_close(const struct ctx *c, struct icmp_flow *f)
{
	ev_del(c->epollfd, f->fd);
	if (f->fd >= 0)
		close_fd(&f->fd);
	f->in_use = false;
	f->mig = ICMP_MIG_NONE;
}

/**
 * icmp_flow_find() - Look up the flow for a destination and identifier
 * @dst:	Destination (IPv4-mapped for IPv4)
 * @id:		Guest's echo identifier, host order
 *
 * Return: flow, or NULL if none
 */
static struct icmp_flow *icmp_flow_find(const union inany_addr *dst,
					uint16_t id)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (f->in_use && f->id == id && inany_equals(&f->dst, dst))
			return f;
	}
	return NULL;
}

/**
 * icmp_flow_slot() - Pick a free entry, or make one from the LRU flow
 * @c:		Execution context
 *
 * Return: free entry
 */
static struct icmp_flow *icmp_flow_slot(const struct ctx *c)
{
	struct icmp_flow *lru = &icmp_flows[0];
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (!f->in_use)
			return f;
		if (timespec_diff_ms(&lru->last, &f->last) > 0)
			lru = f;
	}
	debug("ICMP: flow table full, reusing the least recently used");
	icmp_flow_close(c, lru);
	return lru;
}

/**
 * icmp_sock() - Open a ping socket, bound to an echo identifier
 * @v4:		IPv4 (else IPv6)
 * @id:		Identifier, host order
 *
 * Return: socket, or -errno (-EADDRINUSE: another socket has @id)
 *
 * #syscalls socket setsockopt bind close
 */
static int icmp_sock(bool v4, uint16_t id)
{
	union sockaddr_inany sa;
	union inany_addr any = { .a6 = IN6ADDR_ANY_INIT };
	socklen_t sl;
	int fd, rc, zero = 0;

	if (v4)
		inany_from_v4(&any, (struct in_addr){ 0 });
	sl = inany_sockaddr(&sa.ss, &any, id);
	fd = socket(v4 ? AF_INET : AF_INET6,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	if (fd >= (1 << 23)) {
		rc = -EMFILE;		/* doesn't fit an event tag */
		goto err_close;
	}
	/* Ping sockets come with SO_REUSEADDR set: the last one bound to an
	 * identifier would take the replies of all of them.  Ours have it
	 * alone, or get EADDRINUSE.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof(zero)) ||
	    bind(fd, &sa.sa, sl)) {
		rc = -errno;
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return rc;
}

/**
 * icmp_flow_new() - Open a ping socket for a new flow
 * @c:		Execution context
 * @dst:	Destination (IPv4-mapped for IPv4)
 * @id:		Guest's echo identifier, host order
 *
 * Return: flow, or NULL if no socket could be opened
 *
 * #syscalls close
 */
static struct icmp_flow *icmp_flow_new(const struct ctx *c,
				       const union inany_addr *dst,
				       uint16_t id)
{
	static time_t last_warn;
	struct icmp_flow *f = icmp_flow_slot(c);
	int fd, rc;

	/* The guest's identifier if free, else one the kernel picks */
	fd = icmp_sock(inany_v4(dst), id);
	if (fd == -EADDRINUSE)
		fd = icmp_sock(inany_v4(dst), 0);
	if (fd < 0) {
		rc = fd;
		goto err;
	}
	rc = ev_add(c->epollfd, fd, EPOLLIN, EV_ICMP,
		    (uint32_t)(f - icmp_flows));
	if (rc)
		goto err_close;

	*f = (struct icmp_flow){
		.in_use = true, .fd = fd, .dst = *dst, .id = id, .last = c->now,
	};
	return f;

err_close:
	close(fd);
err:
	if (!last_warn || c->now.tv_sec - last_warn >= ICMP_WARN_INTERVAL) {
		last_warn = c->now.tv_sec ? c->now.tv_sec : 1;
		warn("ICMP: can't open ping socket (%s), dropping echo requests;"
		     " check net.ipv4.ping_group_range", strerror(-rc));
	}
	return NULL;
}

/**
 * icmp_dst_ok() - Can an echo request to this address be sent on?
 * @c:		Execution context
 * @dst:	Destination as the guest addressed it (IPv4-mapped for IPv4)
 * @sa:		Socket address to send to, filled on success
 * @sl:		Length of @sa, set on success
 *
 * Return: true if @dst is a unicast address we can reach; the gateway
 * addresses become the host's loopback
 */
static bool icmp_dst_ok(const struct ctx *c, const union inany_addr *dst,
			union sockaddr_inany *sa, socklen_t *sl)
{
	const struct in_addr *d4 = inany_v4(dst);
	const struct in6_addr *d6 = &dst->a6;
	union inany_addr to = *dst;

	if (d4) {
		struct in_addr lo = { htonl(INADDR_LOOPBACK) };

		if (d4->s_addr == htonl(INADDR_ANY) ||
		    d4->s_addr == htonl(INADDR_BROADCAST) ||
		    IN_MULTICAST(ntohl(d4->s_addr)))
			return false;
		if (d4->s_addr == c->ip4.gw.s_addr)
			inany_from_v4(&to, lo);
	} else {
		if (IN6_IS_ADDR_UNSPECIFIED(d6) ||
		    IN6_IS_ADDR_MULTICAST(d6))
			return false;
		if (IN6_ARE_ADDR_EQUAL(d6, &c->ip6.gw) ||
		    IN6_ARE_ADDR_EQUAL(d6, &c->ip6.our_ll))
			to.a6 = in6addr_loopback;
		else if (IN6_IS_ADDR_LINKLOCAL(d6))
			return false;	/* another host's link: not ours */
	}

	*sl = inany_sockaddr(&sa->ss, &to, 0);
	return true;
}

/**
 * icmp_tap_handler() - Handle an ICMP or ICMPv6 message from the guest
 * @c:		Execution context
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dst:	Destination address, same family as @src
 * @msg:	ICMP or ICMPv6 header and data (ICMPv6 checksum verified)
 * @len:	Length, bytes
 *
 * Return: 0 if the echo request was sent on, -EINVAL if malformed,
 * -EOPNOTSUPP if not an echo request we can forward, other -errno if
 * sending failed
 *
 * #syscalls sendto
 */
int icmp_tap_handler(struct ctx *c, const union inany_addr *src,
		     const union inany_addr *dst, const uint8_t *msg,
		     size_t len)
{
	bool v4 = inany_v4(dst);
	char a[INET6_ADDRSTRLEN];
	union sockaddr_inany sa;
	struct icmp_flow *f;
	struct icmphdr ih;
	socklen_t sl;
	uint16_t id;

	if (len < sizeof(ih) || len > ICMP_MAX_LEN || v4 != !!inany_v4(src))
		return -EINVAL;
	memcpy(&ih, msg, sizeof(ih));
	if (ih.type != (v4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST))
		return -EOPNOTSUPP;
	if (ih.code)
		return -EINVAL;
	if (!icmp_dst_ok(c, dst, &sa, &sl))
		return -EOPNOTSUPP;

	id = ntohs(ih.un.echo.id);
	f = icmp_flow_find(dst, id);
	if (!f && !(f = icmp_flow_new(c, dst, id)))
		return -ENOBUFS;
	if (f->fd < 0)
		return -EAGAIN;	/* migrated, its identifier not back yet */

	f->src = *src;
	f->seq = ntohs(ih.un.echo.sequence);
	f->last = c->now;

	if (sendto(f->fd, msg, len, MSG_NOSIGNAL, &sa.sa, sl) < 0) {
		int rc = -errno;

		debug("ICMP: echo request to %s: %s",
		      inany_ntop(dst, a, sizeof(a)), strerror(-rc));
		return rc;
	}
	return 0;
}

/**
 * icmp_reply() - Pass one echo reply from a socket to the guest
 * @c:		Execution context
 * @f:		Flow the reply came on
 * @buf:	ICMP header and data, as read from the socket
 * @len:	Length, bytes
 */
static void icmp_reply(struct ctx *c, struct icmp_flow *f, uint8_t *buf,
		       size_t len)
{
	struct icmphdr ih;
	int rc;

	struct iovec iov = { buf, len };
	bool v4 = inany_v4(&f->dst);
	char a[INET6_ADDRSTRLEN];

	if (len < sizeof(ih))
		return;
	memcpy(&ih, buf, sizeof(ih));
	if (ih.type != (v4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
		return;

	ih.un.echo.id = htons(f->id);	/* the kernel put its own there */
	ih.checksum = 0;
	memcpy(buf, &ih, sizeof(ih));
	if (v4)
		ih.checksum = csum_icmp4(buf, len);
	else
		ih.checksum = csum_l4(&f->dst, &f->src, IPPROTO_ICMPV6,
				      &iov, 1);
	memcpy(buf, &ih, sizeof(ih));

	f->last = c->now;
	rc = tap_send_l4(c, &f->dst, &f->src,
			 v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, &iov, 1);
	if (rc)
		debug("ICMP: reply from %s dropped: %s",
		      inany_ntop(&f->dst, a, sizeof(a)), strerror(-rc));
}

/**
 * icmp_sock_handler() - Read echo replies from a ping socket
 * @c:		Execution context
 * @tag:	Event tag: idx is the flow, fd its socket
 * @events:	epoll events
 *
 * #syscalls recvfrom
 */
void icmp_sock_handler(struct ctx *c, union evtag tag, uint32_t events)
{
	static uint8_t buf[ICMP_MAX_LEN];
	char a[INET6_ADDRSTRLEN];
	struct icmp_flow *f;
	int i;

	(void)events;		/* errors show up as recv() failures */
	if (tag.idx >= ICMP_FLOWS)
		return;
	f = &icmp_flows[tag.idx];
	if (!f->in_use || f->fd != tag.fd)
		return;		/* stale event */

	for (i = 0; i < ICMP_RECV_BATCH; i++) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				debug("ICMP: recv from %s: %s",
				      inany_ntop(&f->dst, a, sizeof(a)),
				      strerror(errno));
			break;
		}
		icmp_reply(c, f, buf, (size_t)n);
	}
}

/**
 * icmp_timer() - Close flows idle for more than ICMP_TIMEOUT_MS
 * @c:		Execution context, with a current @now
 */
void icmp_timer(struct ctx *c)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (f->in_use && !f->mig &&
		    timespec_diff_ms(&c->now, &f->last) > ICMP_TIMEOUT_MS)
			icmp_flow_close(c, f);
	}
}

/* ---------------------------------------------------------------- */
/* Migration                                                         */
/* ---------------------------------------------------------------- */

/**
 * icmp_mig_rec_ok() - Check one record
 * @r:		Record
 *
 * Return: true if both addresses have one family, the destination is
 *	   unicast, the host-side identifier is not 0, the padding zero
 */
static bool icmp_mig_rec_ok(const struct mig_icmp_flow *r)
{
	union inany_addr d, s;
	const struct in_addr *d4;

	memcpy(&d, r->dst, 16);
	memcpy(&s, r->src, 16);
	d4 = inany_v4(&d);
	if (!d4 != !inany_v4(&s) || !r->hid || r->pad)
		return false;
	if (d4)
		return d4->s_addr != htonl(INADDR_ANY) &&
		       d4->s_addr != htonl(INADDR_BROADCAST) &&
		       !IN_MULTICAST(ntohl(d4->s_addr));
	return !IN6_IS_ADDR_UNSPECIFIED(&d.a6) &&
	       !IN6_IS_ADDR_MULTICAST(&d.a6);
}

/**
 * icmp_mig_save() - MIG_SEC_ICMP: a count, then one record per flow
 * @c:		Execution context
 * @b:		Buffer to append to
 *
 * A flow whose socket has no identifier yet is left out.
 *
 * Return: 0, -ENOMEM
 *
 * #syscalls getsockname
 */
int icmp_mig_save(struct ctx *c, struct mig_buf *b)
{
	long at = mig_recs_begin(b);
	struct mig_icmp_flow r;
	uint32_t n = 0;
	size_t i;
	int rc;

	(void)c;
	if (at < 0)
		return (int)at;
	for (i = 0; i < ICMP_FLOWS; i++) {
		const struct icmp_flow *f = &icmp_flows[i];
		union sockaddr_inany sa;
		socklen_t sl = sizeof(sa);
		uint16_t hid = f->hid;

		if (!f->in_use)
			continue;
		if (f->fd >= 0) {
			if (getsockname(f->fd, &sa.sa, &sl))
				continue;
			hid = ntohs(sa.sa.sa_family == AF_INET ?
				    sa.sa4.sin_port : sa.sa6.sin6_port);
		}
		if (!hid)
			continue;

		memset(&r, 0, sizeof(r));
		memcpy(r.dst, &f->dst, 16);
		memcpy(r.src, &f->src, 16);
		r.id = htons(f->id);
		r.hid = htons(hid);
		r.seq = htons(f->seq);
		if (!icmp_mig_rec_ok(&r))
			continue;	/* the target would refuse it */
		if ((rc = mig_buf_put(b, &r, sizeof(r))))
			return rc;
		n++;
	}
	mig_recs_end(b, at, n);
	return 0;
}

/**
 * icmp_mig_check() - Check a MIG_SEC_ICMP payload, touching nothing
 * @c:		Execution context
 * @p:		Payload
 * @len:	Its length
 *
 * Return: 0, -EINVAL if malformed (a bad record, or one flow twice)
 */
int icmp_mig_check(const struct ctx *c, const uint8_t *p, size_t len)
{
	long n = mig_recs(p, len, sizeof(struct mig_icmp_flow), ICMP_FLOWS);
	struct mig_icmp_flow r, o;
	long i, j;

	(void)c;
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		memcpy(&r, p + 4 + (size_t)i * sizeof(r), sizeof(r));
		if (!icmp_mig_rec_ok(&r))
			goto bad;
		for (j = 0; j < i; j++) {
			memcpy(&o, p + 4 + (size_t)j * sizeof(o), sizeof(o));
			if (o.id == r.id && !memcmp(o.dst, r.dst, 16))
				goto bad;
		}
	}
	return 0;
bad:
	err("migrate: ICMP flow %ld of %ld malformed, or twice", i, n);
	return -EINVAL;
}

/**
 * icmp_mig_drop() - Log and drop a migrated flow that can't be rebuilt
 * @c:		Execution context
 * @f:		Flow
 * @rc:		Why, -errno
 */
static void icmp_mig_drop(const struct ctx *c, struct icmp_flow *f, int rc)
{
	char a[INET6_ADDRSTRLEN];

	warn_ratelimit("ICMP: migrated echo flow to %s, identifier %u, "
		       "dropped: %s", inany_ntop(&f->dst, a, sizeof(a)),
		       f->hid, strerror(-rc));
	icmp_flow_close(c, f);
}

/**
 * icmp_mig_stage() - Apply MIG_SEC_ICMP: rebuild the flows, staged
 * @c:		Execution context
 * @p:		Checked payload
 * @len:	Its length
 *
 * What an earlier load staged is let go first.
 *
 * Return: 0 (flows that can't be rebuilt are dropped, logged)
 */
int icmp_mig_stage(struct ctx *c, const uint8_t *p, size_t len)
{
	long n = mig_recs(p, len, sizeof(struct mig_icmp_flow), ICMP_FLOWS), i;
	struct mig_icmp_flow r;
	struct icmp_flow *f;
	union inany_addr d;
	int fd;

	ASSERT(n >= 0);		/* checked */
	icmp_mig_unstage(c);
	for (i = 0; i < n; i++) {
		memcpy(&r, p + 4 + (size_t)i * sizeof(r), sizeof(r));
		memcpy(&d, r.dst, 16);
		if ((f = icmp_flow_find(&d, ntohs(r.id))))
			icmp_flow_close(c, f);	/* ours is older */
		f = icmp_flow_slot(c);
		*f = (struct icmp_flow){
			.in_use = true, .fd = -1, .dst = d, .id = ntohs(r.id),
			.seq = ntohs(r.seq), .last = c->now,
			.hid = ntohs(r.hid), .mig = ICMP_MIG_STAGED,
		};
		memcpy(&f->src, r.src, 16);

		fd = icmp_sock(inany_v4(&d), f->hid);
		if (fd >= 0)
			f->fd = fd;
		else if (fd == -EADDRINUSE)
			f->mig = ICMP_MIG_PENDING;
		else
			icmp_mig_drop(c, f, fd);
	}
	return 0;
}

/**
 * icmp_mig_go() - A flow with its socket rebuilt carries on
 * @c:		Execution context
 * @f:		Flow, with its socket
 */
static void icmp_mig_go(const struct ctx *c, struct icmp_flow *f)
{
	int rc = ev_add(c->epollfd, f->fd, EPOLLIN, EV_ICMP,
			(uint32_t)(f - icmp_flows));

	if (rc) {
		icmp_mig_drop(c, f, rc);
		return;
	}
	f->mig = ICMP_MIG_NONE;
	f->last = c->now;
}

/**
 * icmp_mig_activate() - Our guest runs: staged flows carry on
 * @c:		Execution context
 */
void icmp_mig_activate(struct ctx *c)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (!f->in_use)
			continue;
		if (f->mig == ICMP_MIG_STAGED) {
			icmp_mig_go(c, f);
		} else if (f->mig == ICMP_MIG_PENDING) {
			f->mig = ICMP_MIG_RETRY;
			f->last = c->now;
		}
	}
	icmp_mig_timer(c);
}

/**
 * icmp_mig_timer() - Retry flows whose identifier was held, give up after
 *		      ICMP_MIG_RETRY_MS
 * @c:		Execution context, c->now current
 */
void icmp_mig_timer(struct ctx *c)
{
	size_t i;
	int fd;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (!f->in_use || f->mig != ICMP_MIG_RETRY)
			continue;
		fd = icmp_sock(inany_v4(&f->dst), f->hid);
		if (fd >= 0) {
			f->fd = fd;
			icmp_mig_go(c, f);
		} else if (fd != -EADDRINUSE ||
			   timespec_diff_ms(&c->now, &f->last) >=
			   ICMP_MIG_RETRY_MS) {
			icmp_mig_drop(c, f, fd);
		}
	}
}

/**
 * icmp_mig_unstage() - Let go of what a load staged, silently
 * @c:		Execution context
 */
void icmp_mig_unstage(struct ctx *c)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (f->in_use && (f->mig == ICMP_MIG_STAGED ||
				  f->mig == ICMP_MIG_PENDING))
			icmp_flow_close(c, f);
	}
}

/**
 * icmp_mig_release() - Source, state handed over: close every flow, so
 *			that a target on this host can bind the identifiers
 * @c:		Execution context
 */
void icmp_mig_release(struct ctx *c)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		if (icmp_flows[i].in_use)
			icmp_flow_close(c, &icmp_flows[i]);
	}
}
