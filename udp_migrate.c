// SPDX-License-Identifier: GPL-2.0-or-later
/* udp_migrate.c - UDP flows across a live migration (MIG_SEC_UDP)
 *
 * DOC: Theory of operation
 *
 * The source writes one record per flow (doc/migration.md, section 3):
 * key, host-side local address and port, peer.  Once the stream is out,
 * udp_mig_release() closes its flows and forwarded ports, so that a target
 * on the same host can bind the same ports; a failed migration takes them
 * back from the kept stream, as a target would.
 *
 * The target (udp_mig_stage()) binds each flow's own socket to the old
 * local address and port and connects it to the old peer, so the peer sees
 * no change, but leaves it out of epoll (datagrams wait in the kernel)
 * until our guest runs (udp_mig_activate()).  A forwarded flow keeps its
 * key and latest peer; its port is the target's own -u configuration,
 * bound at load, served once the guest runs.  A port someone else still
 * holds (EADDRINUSE: a target on this host that hasn't let go yet) is
 * retried on the migration timer for UDP_MIG_RETRY_MS once the guest runs.
 *
 * Bad input: udp_mig_check() validates every record before anything is
 * applied (kind, padding, one address family, no port 0, unicast peers,
 * count against the payload and the table).  A flow that can't be rebuilt
 * (twice in the stream, table full, port not forwarded here, address gone)
 * is logged, rate-limited, and dropped; the others carry on.
 */

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "udp.h"
#include "udp_flow.h"
#include "flow.h"
#include "fwd.h"
#include "mig_wire.h"
#include "mig_rec.h"

#define UDP_MIG_RETRY_MS	60000	/* then a rebuild waiting for its port
					 * gives up */

/**
 * udp_mig_rec_ok() - Check one record
 * @r:		Record
 *
 * Return: true if its fields are valid: kind, zero padding, one address
 *	   family, no port 0, unicast addresses (the local address of a
 *	   forwarded port may be unspecified)
 */
static bool udp_mig_rec_ok(const struct mig_udp_flow *r)
{
	union inany_addr g, f, l, p;
	bool v4;

	memcpy(&g, r->gaddr, 16);
	memcpy(&f, r->faddr, 16);
	memcpy(&l, r->laddr, 16);
	memcpy(&p, r->raddr, 16);
	v4 = inany_v4(&g);

	if ((r->kind != MIG_UDP_OWN && r->kind != MIG_UDP_FWD) ||
	    r->pad[0] || r->pad[1] || r->pad[2])
		return false;
	if (v4 != !!inany_v4(&f) || v4 != !!inany_v4(&l) ||
	    v4 != !!inany_v4(&p))
		return false;
	if (!udp_dst_ok(&g, ntohs(r->gport)) ||
	    !udp_dst_ok(&f, ntohs(r->fport)) ||
	    !udp_dst_ok(&p, ntohs(r->rport)) || !r->lport)
		return false;
	if (r->kind == MIG_UDP_FWD &&
	    (v4 ? !inany_v4(&l)->s_addr : IN6_IS_ADDR_UNSPECIFIED(&l.a6)))
		return true;	/* bound to any address */
	return udp_dst_ok(&l, 1);
}

/**
 * udp_mig_rec() - Fill the record of a flow
 * @c:		Execution context
 * @idx:	Flow index, live
 * @r:		Record, set
 *
 * Return: 0, -errno if the flow's socket can't tell its local address
 *
 * #syscalls getsockname
 */
static int udp_mig_rec(const struct ctx *c, unsigned idx,
		       struct mig_udp_flow *r)
{
	const struct flow_key *key = flow_key(idx);
	const struct udp_flow *f = udp_flow_at(idx);
	union inany_addr la = f->laddr;
	uint16_t lport = f->lport;
	union sockaddr_inany sa;
	socklen_t sl = sizeof(sa);

	if (f->hport) {
		fwd_rule_addr(fwd_rule_at(&c->udp, FWD_REF(f->hrule, f->hport)),
			      inany_v4(&f->dst) ? AF_INET : AF_INET6, &la);
		lport = f->hport;
	} else if (f->fd >= 0) {
		if (getsockname(f->fd, &sa.sa, &sl))
			return -errno;
		if (udp_sa_to(&sa, &la, &lport))
			return -EAFNOSUPPORT;
	}

	memset(r, 0, sizeof(*r));
	memcpy(r->gaddr, &key->gaddr, 16);
	memcpy(r->faddr, &key->faddr, 16);
	r->gport = htons(key->gport);
	r->fport = htons(key->fport);
	memcpy(r->laddr, &la, 16);
	memcpy(r->raddr, &f->dst, 16);
	r->lport = htons(lport);
	r->rport = htons(f->dport);
	r->kind = f->hport ? MIG_UDP_FWD : MIG_UDP_OWN;
	return 0;
}

/**
 * udp_mig_save() - MIG_SEC_UDP: a count, then one record per flow
 * @c:		Execution context
 * @b:		Buffer to append to
 *
 * A flow whose socket can't tell its local address, or whose record the
 * target would refuse, is left out, logged.
 *
 * Return: 0, -ENOMEM
 */
int udp_mig_save(struct ctx *c, struct mig_buf *b)
{
	long at = mig_recs_begin(b);
	struct mig_udp_flow r;
	uint32_t n = 0;
	int idx, rc;

	if (at < 0)
		return (int)at;
	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx)) {
		rc = udp_mig_rec(c, idx, &r);
		if (!rc && !udp_mig_rec_ok(&r))
			rc = -EINVAL;	/* the target would refuse it */
		if (rc) {
			warn_ratelimit("UDP: flow %d not migrated: %s", idx,
				       strerror(-rc));
			continue;
		}
		if ((rc = mig_buf_put(b, &r, sizeof(r))))
			return rc;
		n++;
	}
	mig_recs_end(b, at, n);
	return 0;
}

/**
 * udp_mig_check() - Check a MIG_SEC_UDP payload, touching nothing
 * @c:		Execution context
 * @p:		Payload
 * @len:	Its length
 *
 * Return: 0, -EINVAL if malformed
 */
int udp_mig_check(const struct ctx *c, const uint8_t *p, size_t len)
{
	long n = mig_recs(p, len, sizeof(struct mig_udp_flow), FLOW_MAX), i;
	struct mig_udp_flow r;

	(void)c;
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		memcpy(&r, p + 4 + (size_t)i * sizeof(r), sizeof(r));
		if (!udp_mig_rec_ok(&r)) {
			err("migrate: UDP flow %ld of %ld malformed", i, n);
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * udp_mig_sock() - A migrated flow's own socket: bound as it was on the
 *		    source, connected to the same peer, not in epoll yet
 * @f:		Flow, with @laddr, @lport, @dst and @dport
 *
 * Return: 0, -errno (-EADDRINUSE: someone still holds the port)
 */
static int udp_mig_sock(struct udp_flow *f)
{
	int fd = udp_sock_open(f, true);

	if (fd < 0)
		return fd;
	f->fd = fd;
	return 0;
}

/**
 * udp_mig_drop() - Log and drop a migrated flow that can't be rebuilt
 * @c:		Execution context
 * @idx:	Flow index
 * @why:	Reason, for the log
 */
static void udp_mig_drop(const struct ctx *c, unsigned idx, const char *why)
{
	const struct udp_flow *f = udp_flow_at(idx);
	char a[INET6_ADDRSTRLEN];

	warn_ratelimit("UDP: migrated flow from port %u to %s:%u dropped: %s",
		       f->hport ? f->hport : f->lport,
		       inany_ntop(&f->dst, a, sizeof(a)), f->dport, why);
	udp_flow_close(c, idx);
}

/**
 * udp_mig_stage_one() - Rebuild one flow from a checked record, staged
 * @c:		Execution context
 * @r:		Record
 */
static void udp_mig_stage_one(const struct ctx *c,
			      const struct mig_udp_flow *r)
{
	bool fwd = r->kind == MIG_UDP_FWD;
	uint16_t lport = ntohs(r->lport);
	struct flow_key key = { 0 };
	struct udp_flow *f;
	int idx, rc;

	key.proto = IPPROTO_UDP;
	memcpy(&key.gaddr, r->gaddr, 16);
	memcpy(&key.faddr, r->faddr, 16);
	key.gport = ntohs(r->gport);
	key.fport = ntohs(r->fport);

	if ((idx = flow_alloc(FLOW_UDP, &key)) < 0) {
		warn_ratelimit("UDP: migrated flow to port %u dropped: %s",
			       key.fport, idx == -EEXIST ?
			       "twice in the stream" : strerror(-idx));
		return;
	}
	f = udp_flow_at(idx);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	memcpy(&f->laddr, r->laddr, 16);
	memcpy(&f->dst, r->raddr, 16);
	f->lport = lport;
	f->dport = ntohs(r->rport);
	f->last = c->now;
	f->mig = UDP_MIG_STAGED;

	if (fwd) {
		rc = fwd_rule_find(&c->udp, &f->laddr, lport);
		f->hport = lport;
		f->hrule = rc < 0 ? 0 : (uint16_t)rc;
		if (rc < 0 ||
		    fwd_guest_port(&c->udp, FWD_REF(rc, lport)) != key.gport ||
		    !(inany_v4(&f->dst) ? c->v4 : c->v6))
			udp_mig_drop(c, idx, "port not forwarded here");
		return;
	}
	rc = udp_mig_sock(f);
	if (rc == -EADDRINUSE)
		f->mig = UDP_MIG_PENDING;
	else if (rc)
		udp_mig_drop(c, idx, strerror(-rc));
}

/**
 * udp_mig_stage() - Apply MIG_SEC_UDP: rebuild the flows, staged
 * @c:		Execution context
 * @p:		Checked payload
 * @len:	Its length
 *
 * What an earlier load staged is let go first: a load retried (a source
 * taking its state back while a target holds it) doesn't count twice.
 * The forwarded ports are bound, not served yet.
 *
 * Return: 0 (flows that can't be rebuilt are dropped, logged)
 */
int udp_mig_stage(struct ctx *c, const uint8_t *p, size_t len)
{
	long n = mig_recs(p, len, sizeof(struct mig_udp_flow), FLOW_MAX), i;
	struct mig_udp_flow r;

	ASSERT(n >= 0);		/* checked */
	udp_mig_unstage(c);
	udp_listen_bind(c);
	for (i = 0; i < n; i++) {
		memcpy(&r, p + 4 + (size_t)i * sizeof(r), sizeof(r));
		udp_mig_stage_one(c, &r);
	}
	return 0;
}

/**
 * udp_mig_go() - A flow with its socket rebuilt carries on
 * @c:		Execution context
 * @idx:	Flow index
 */
static void udp_mig_go(const struct ctx *c, unsigned idx)
{
	struct udp_flow *f = udp_flow_at(idx);

	if (f->fd >= 0 && ev_add(c->epollfd, f->fd, EPOLLIN, EV_UDP, idx)) {
		udp_mig_drop(c, idx, "can't poll its socket");
		return;
	}
	f->mig = UDP_MIG_NONE;
	f->last = c->now;
}

/**
 * udp_mig_activate() - Our guest runs: staged flows carry on
 * @c:		Execution context
 *
 * Flows whose port is still held are retried from now on, by
 * udp_mig_timer().
 */
void udp_mig_activate(struct ctx *c)
{
	int idx;

	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx)) {
		struct udp_flow *f = udp_flow_at(idx);

		if (f->mig == UDP_MIG_STAGED) {
			udp_mig_go(c, idx);
		} else if (f->mig == UDP_MIG_PENDING) {
			f->mig = UDP_MIG_RETRY;
			f->last = c->now;
		}
	}
	udp_listen_start(c);
	udp_mig_timer(c);
}

/**
 * udp_mig_timer() - Retry flows whose port was held, give up after
 *		     UDP_MIG_RETRY_MS
 * @c:		Execution context, c->now current
 */
void udp_mig_timer(struct ctx *c)
{
	int idx, rc;

	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx)) {
		struct udp_flow *f = udp_flow_at(idx);

		if (f->mig != UDP_MIG_RETRY)
			continue;
		rc = udp_mig_sock(f);
		if (!rc)
			udp_mig_go(c, idx);
		else if (rc != -EADDRINUSE)
			udp_mig_drop(c, idx, strerror(-rc));
		else if (timespec_diff_ms(&c->now, &f->last) >=
			 UDP_MIG_RETRY_MS)
			udp_mig_drop(c, idx, "its port stayed in use");
	}
}

/**
 * udp_mig_unstage() - Let go of what a load staged, silently
 * @c:		Execution context
 *
 * Staged sockets are closed (they sent nothing), and so are the forwarded
 * ports, bound but not served yet.
 */
void udp_mig_unstage(struct ctx *c)
{
	int idx;

	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx)) {
		uint8_t mig = udp_flow_at(idx)->mig;

		if (mig == UDP_MIG_STAGED || mig == UDP_MIG_PENDING)
			udp_flow_close(c, idx);
	}
	udp_listen_unbind(c);
}

/**
 * udp_mig_release() - Source, state handed over: close every flow and the
 *		       forwarded ports
 * @c:		Execution context
 *
 * A target on the same host binds the same ports; if the migration fails,
 * the flows come back from our stream (udp_mig_stage()).
 */
void udp_mig_release(struct ctx *c)
{
	int idx;

	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx))
		udp_flow_close(c, idx);
	udp_listen_stop(c);
}
