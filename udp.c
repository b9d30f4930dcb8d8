// SPDX-License-Identifier: GPL-2.0-or-later
/* udp.c - UDP between the guest and host sockets, both ways
 *
 * DOC: Theory of operation
 *
 * Every UDP conversation is a flow (flow.c) keyed as the guest sees it:
 * guest address and port, foreign address and port.  Per-flow state lives
 * in udp_flows[], indexed by the flow index.
 *
 * Guest to outside: the first datagram from a guest port to a foreign
 * address and port makes a flow with its own socket, connected (which
 * binds it to an ephemeral port) to the destination as the host must see
 * it, fwd_nat_outbound(): the gateway address is the host's loopback, and
 * DNS to the resolver we announced goes to the host's loopback resolver.
 * Being connected, the socket takes replies from that peer only, and
 * reports ICMP errors.  Replies are read in udp_sock_handler() and sent to
 * the guest from the address and port it used, so a reply from 127.0.0.1
 * appears to come from the gateway.
 *
 * Outside to guest (-u): udp_init() binds one socket per port of every
 * rule (fwd.c) and family at start-up, so datagrams wait in the socket
 * buffers until udp_listen_start() serves them once our guest runs.  A
 * migration target on the same host binds the same ports (SO_REUSEPORT):
 * datagrams go to the oldest socket of the group, the source's, until
 * udp_listen_stop() closes it when our state is handed over (see
 * tcp_listen.c).  A datagram from host peer P to host port H of rule R
 * goes to the guest's port fwd_guest_port(R, H), from fwd_nat_inbound(P)
 * (the gateway address if P is local) and P's port.  That makes a flow
 * without a socket of its own: the guest's replies go back out through
 * the listening socket of R and H, looked up when sent, to P (the latest
 * peer that used the flow).
 *
 * Flows idle for UDP_TIMEOUT_MS are freed by udp_timer(), which closes
 * their own sockets, never the shared listening ones.
 *
 * Migration (MIG_SEC_UDP): udp_migrate.c.  A migrated flow still being
 * rebuilt (udp_flow.h, enum udp_mig) is left alone by the timer, and the
 * guest's datagrams for it are dropped until its socket is back.
 *
 * Bad input: a datagram from the guest shorter than its header, with a
 * length field past the packet, from or to port 0, or to an unspecified,
 * multicast or broadcast address is dropped and counted.  A full flow
 * table, a socket we can't open or a failed send drops the datagram,
 * counted.  Datagrams for the guest that don't fit its MTU are dropped and
 * counted.  Errors queued on a socket (ICMP port unreachable) are read
 * off, so the socket doesn't stay readable, and counted.  Socket events
 * are checked against the flow (live, same fd): stale ones do nothing.
 */

#include <errno.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp.h"
#include "udp_flow.h"
#include "flow.h"
#include "fwd.h"
#include "tap_out.h"
#include "checksum.h"

#define UDP_HDR_LEN		8
#define UDP_RECV_BATCH		64	/* datagrams read per event at most */
#define UDP_MAX_PAYLOAD		(65535 - UDP_HDR_LEN)
#define IP4_HDR_LEN		20
#define IP6_HDR_LEN		40

static struct udp_flow udp_flows[FLOW_MAX];

/**
 * udp_flow_at() - The UDP state of a flow
 * @idx:	Flow index, below FLOW_MAX
 *
 * Return: its entry
 */
struct udp_flow *udp_flow_at(unsigned idx)
{
	ASSERT(idx < FLOW_MAX);
	return &udp_flows[idx];
}
static int udp_lsock[FWD_SLOTS_MAX][2];	/* listening sockets: fd + 1, 0 if
					 * none; by rule slot, then [0] IPv4,
					 * [1] IPv6 */
static bool udp_lbound;		/* listening sockets are bound */
static bool udp_lpolled;	/* and in epoll */
static uint8_t udp_buf[UDP_HDR_LEN + UDP_MAX_PAYLOAD];
static struct udp_stats stats;

/**
 * udp_stats() - Drop counters, for tests and debugging
 *
 * Return: pointer to the counters
 */
const struct udp_stats *udp_stats(void)
{
	return &stats;
}

/* ---------------------------------------------------------------- */
/* Addresses                                                         */
/* ---------------------------------------------------------------- */

/**
 * udp_sa_to() - Inany address and port from a socket address
 * @sa:		Socket address
 * @a:		Address, set
 * @port:	Port, host order, set
 *
 * Return: 0 on success, -EAFNOSUPPORT for another family
 */
int udp_sa_to(const union sockaddr_inany *sa, union inany_addr *a,
	      uint16_t *port)
{
	if (sa->sa.sa_family == AF_INET) {
		inany_from_v4(a, sa->sa4.sin_addr);
		*port = ntohs(sa->sa4.sin_port);
		return 0;
	}
	if (sa->sa.sa_family == AF_INET6) {
		a->a6 = sa->sa6.sin6_addr;
		*port = ntohs(sa->sa6.sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/**
 * udp_dst_ok() - May we send to this destination for the guest?
 * @a:		Destination address
 * @port:	Destination port, host order
 *
 * Return: false for port 0, unspecified, multicast or limited broadcast
 */
bool udp_dst_ok(const union inany_addr *a, uint16_t port)
{
	const struct in_addr *a4 = inany_v4(a);

	if (!port)
		return false;
	if (a4) {
		uint32_t h = ntohl(a4->s_addr);

		return h != INADDR_ANY && h != INADDR_BROADCAST &&
		       !IN_MULTICAST(h);
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&a->a6) &&
	       !IN6_IS_ADDR_MULTICAST(&a->a6);
}

/* ---------------------------------------------------------------- */
/* Flows                                                             */
/* ---------------------------------------------------------------- */

/**
 * udp_flow_close() - Free a flow, closing its own socket if it has one
 * @c:		Execution context
 * @idx:	Flow index, live
 *
 * #syscalls close
 */
void udp_flow_close(const struct ctx *c, unsigned idx)
{
	struct udp_flow *f = &udp_flows[idx];

	if (f->fd >= 0) {
		ev_del(c->epollfd, f->fd);
		close_fd(&f->fd);
	}
	f->hport = 0;
	f->mig = UDP_MIG_NONE;
	flow_free(idx);
}

/**
 * udp_sock_open() - A socket connected to a flow's peer
 * @f:		Flow, with @dst and @dport set, and @laddr and @lport if @bound
 * @bound:	Bind to @laddr and @lport first (a migrated flow), else
 *		connect() picks them
 *
 * Return: socket, or -errno (-EADDRINUSE: someone holds the port)
 *
 * #syscalls socket bind connect close
 */
int udp_sock_open(const struct udp_flow *f, bool bound)
{
	int af = inany_v4(&f->dst) ? AF_INET : AF_INET6, fd, rc;
	union sockaddr_inany sa;
	socklen_t sl;

	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	if (fd >= (1 << 23)) {
		rc = -EMFILE;		/* doesn't fit an event tag */
		goto err_close;
	}
	sl = inany_sockaddr(&sa.ss, &f->laddr, f->lport);
	if (bound && bind(fd, &sa.sa, sl)) {
		rc = -errno;
		goto err_close;
	}
	sl = inany_sockaddr(&sa.ss, &f->dst, f->dport);
	if (connect(fd, &sa.sa, sl)) {
		rc = -errno;
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return rc;
}

/**
 * udp_flow_sock() - Open a flow's own socket, connected to its peer
 * @c:		Execution context
 * @idx:	Flow index
 * @f:		Flow, with @dst and @dport set
 *
 * Return: 0 on success, -errno on failure (no socket left open)
 *
 * #syscalls close
 */
static int udp_flow_sock(const struct ctx *c, unsigned idx,
			 struct udp_flow *f)
{
	int fd = udp_sock_open(f, false), rc;

	if (fd < 0)
		return fd;
	rc = ev_add(c->epollfd, fd, EPOLLIN, EV_UDP, idx);
	if (rc) {
		close(fd);
		return rc;
	}
	f->fd = fd;
	return 0;
}

/**
 * udp_flow_new_out() - Make a flow for a guest's new conversation
 * @c:		Execution context
 * @key:	Key: guest's source, destination as the guest used it
 *
 * Return: flow index, or -errno (counted)
 */
static int udp_flow_new_out(const struct ctx *c, const struct flow_key *key)
{
	struct udp_flow *f;
	char buf[INET6_ADDRSTRLEN];
	int idx, rc;

	idx = flow_alloc(FLOW_UDP, key);
	if (idx < 0) {
		stats.refused++;
		return idx;
	}

	f = &udp_flows[idx];
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	fwd_nat_outbound(c, &key->faddr, key->fport, &f->dst);
	f->dport = key->fport;
	f->last = c->now;

	rc = udp_flow_sock(c, idx, f);
	if (rc) {
		stats.sock_fail++;
		warn_ratelimit("UDP: can't open a socket to %s:%u: %s",
			       inany_ntop(&f->dst, buf, sizeof(buf)),
			       f->dport, strerror(-rc));
		flow_free(idx);
		return rc;
	}
	return idx;
}

/* ---------------------------------------------------------------- */
/* Guest to host                                                     */
/* ---------------------------------------------------------------- */

/**
 * udp_lsock_fd() - Listening socket of a forwarded port
 * @c:		Execution context
 * @rule:	Index of the rule in c->udp
 * @port:	Host port, host order, in the rule
 * @v4:		IPv4 (else IPv6)
 *
 * Return: socket, or -1 if we don't listen there (now)
 */
static int udp_lsock_fd(const struct ctx *c, unsigned rule, uint16_t port,
			bool v4)
{
	const struct fwd_rule *r = fwd_rule_at(&c->udp, FWD_REF(rule, port));

	return udp_lsock[r->slot + port - r->first][v4 ? 0 : 1] - 1;
}

/**
 * udp_send_host() - Send a guest's payload on a flow's socket
 * @c:		Execution context
 * @f:		Flow
 * @data:	Payload
 * @len:	Payload length, bytes
 *
 * Return: 0 on success, -errno on failure (counted)
 *
 * #syscalls sendto
 */
static int udp_send_host(const struct ctx *c, struct udp_flow *f,
			 const void *data, size_t len)
{
	union sockaddr_inany sa;
	socklen_t sl = inany_sockaddr(&sa.ss, &f->dst, f->dport);
	int lfd = f->hport ? udp_lsock_fd(c, f->hrule, f->hport,
					  inany_v4(&f->dst)) : -1;
	ssize_t n;

	if (f->fd >= 0)		/* connected */
		n = sendto(f->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   NULL, 0);
	else if (f->hport && lfd >= 0)
		n = sendto(lfd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   &sa.sa, sl);
	else			/* migrated, its port not back yet */
		n = -1, errno = EAGAIN;
	if (n < 0) {
		stats.send_fail++;
		return -errno;
	}
	return 0;
}

/**
 * udp_tap_handler() - A UDP datagram from the guest
 * @c:		Execution context
 * @src:	Guest's source address
 * @dst:	Destination address, same family
 * @l4:		UDP header and payload (checksum verified by the caller)
 * @len:	Bytes from @l4 to the end of the IP packet
 *
 * Return: 0 if sent on, -errno if dropped (counted here)
 */
int udp_tap_handler(struct ctx *c, const union inany_addr *src,
		    const union inany_addr *dst, const uint8_t *l4,
		    size_t len)
{
	struct flow_key key;
	struct udphdr uh;
	size_t ulen;
	int idx;

	if (len < UDP_HDR_LEN || !inany_v4(src) != !inany_v4(dst))
		goto bad;
	memcpy(&uh, l4, sizeof(uh));
	ulen = ntohs(uh.len);
	if (ulen < UDP_HDR_LEN || ulen > len || !uh.source ||
	    !udp_dst_ok(dst, ntohs(uh.dest)))
		goto bad;

	memset(&key, 0, sizeof(key));
	key.proto = IPPROTO_UDP;
	key.gaddr = *src;
	key.faddr = *dst;
	key.gport = ntohs(uh.source);
	key.fport = ntohs(uh.dest);

	idx = flow_lookup(&key);
	if (idx < 0)
		idx = udp_flow_new_out(c, &key);
	if (idx < 0)
		return idx;

	udp_flows[idx].last = c->now;
	return udp_send_host(c, &udp_flows[idx], l4 + UDP_HDR_LEN,
			     ulen - UDP_HDR_LEN);

bad:
	stats.bad++;
	return -EINVAL;
}

/* ---------------------------------------------------------------- */
/* Host to guest                                                     */
/* ---------------------------------------------------------------- */

/**
 * udp_send_guest() - Send a payload in udp_buf to the guest
 * @c:		Execution context
 * @src:	Source address, as the guest sees it
 * @sport:	Source port, host order
 * @dst:	Guest's address
 * @dport:	Guest's port, host order
 * @plen:	Payload length, at udp_buf + UDP_HDR_LEN
 *
 * Return: 0 on success, -errno if dropped (counted)
 */
static int udp_send_guest(struct ctx *c, const union inany_addr *src,
			  uint16_t sport, const union inany_addr *dst,
			  uint16_t dport, size_t plen)
{
	unsigned mtu = c->mtu ? c->mtu : MTU_DEFAULT;
	size_t iph = inany_v4(dst) ? IP4_HDR_LEN : IP6_HDR_LEN;
	struct iovec iov = { udp_buf, UDP_HDR_LEN + plen };
	struct udphdr uh;
	uint16_t sum;
	int rc;

	if (plen > UDP_MAX_PAYLOAD || iph + UDP_HDR_LEN + plen > mtu) {
		stats.too_big++;
		return -EMSGSIZE;
	}

	uh.source = htons(sport);
	uh.dest = htons(dport);
	uh.len = htons((uint16_t)(UDP_HDR_LEN + plen));
	uh.check = 0;
	memcpy(udp_buf, &uh, sizeof(uh));
	sum = csum_l4(src, dst, IPPROTO_UDP, &iov, 1);
	uh.check = sum ? sum : 0xffff;
	memcpy(udp_buf, &uh, sizeof(uh));

	rc = tap_send_l4(c, src, dst, IPPROTO_UDP, &iov, 1);
	if (rc) {
		if (rc == -EMSGSIZE)
			stats.too_big++;
		else
			stats.tap_fail++;
	}
	return rc;
}

/**
 * udp_sock_errors() - Read pending errors off a socket, count them
 * @fd:		Socket
 *
 * Without IP_RECVERR the kernel keeps one pending error per socket
 * (ECONNREFUSED after a port unreachable): reading SO_ERROR clears it, so
 * EPOLLERR is not reported again for it.
 *
 * #syscalls getsockopt
 */
static void udp_sock_errors(int fd)
{
	socklen_t sl = sizeof(int);
	int e = 0;

	if (!getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) && e)
		stats.icmp_err++;
}

/**
 * udp_sock_handler() - Replies on a flow's own socket: to the guest
 * @c:		Execution context
 * @tag:	Event tag: flow index, socket
 * @events:	epoll events
 *
 * #syscalls recvfrom
 */
void udp_sock_handler(struct ctx *c, union evtag tag, uint32_t events)
{
	const struct flow_key *key;
	struct udp_flow *f;
	ssize_t n;
	int i;

	if (!flow_live(tag.idx, FLOW_UDP) || udp_flows[tag.idx].fd != tag.fd)
		return;		/* stale: freed in this batch */
	f = &udp_flows[tag.idx];
	key = flow_key(tag.idx);

	if (events & EPOLLERR)
		udp_sock_errors(f->fd);
	if (!(events & EPOLLIN))
		return;

	for (i = 0; i < UDP_RECV_BATCH; i++) {
		n = recvfrom(f->fd, udp_buf + UDP_HDR_LEN, UDP_MAX_PAYLOAD,
			     MSG_DONTWAIT | MSG_TRUNC, NULL, NULL);
		if (n < 0) {
			if (errno == ECONNREFUSED)
				stats.icmp_err++;
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			break;		/* EAGAIN, or nothing we can fix */
		}
		f->last = c->now;
		udp_send_guest(c, &key->faddr, key->fport, &key->gaddr,
			       key->gport, n);
	}
}

/**
 * udp_listen_flow() - Find or make the flow for a datagram to a forwarded
 *		       port
 * @c:		Execution context
 * @key:	Key as the guest will see it
 * @ref:	FWD_REF() of the socket the datagram came on
 * @peer:	Host peer address
 * @pport:	Host peer port, host order
 *
 * Return: flow index, or -errno (counted)
 */
static int udp_listen_flow(const struct ctx *c, const struct flow_key *key,
			   uint32_t ref, const union inany_addr *peer,
			   uint16_t pport)
{
	struct udp_flow *f;
	int idx = flow_lookup(key);

	if (idx < 0) {
		idx = flow_alloc(FLOW_UDP, key);
		if (idx < 0) {
			stats.refused++;
			return idx;
		}
		f = &udp_flows[idx];
		memset(f, 0, sizeof(*f));
		f->fd = -1;
		f->hport = FWD_REF_PORT(ref);
		f->hrule = (uint16_t)FWD_REF_RULE(ref);
	}

	f = &udp_flows[idx];
	if (f->fd < 0 && !f->mig) {	/* replies go to the latest sender */
		f->hport = FWD_REF_PORT(ref);
		f->hrule = (uint16_t)FWD_REF_RULE(ref);
		f->dst = *peer;
		f->dport = pport;
	}
	f->last = c->now;
	return idx;
}

/**
 * udp_listen_one() - Pass one datagram from a forwarded port to the guest
 * @c:		Execution context
 * @ref:	FWD_REF() of the listening socket: rule, host port
 * @sa:		Sender
 * @plen:	Payload length, at udp_buf + UDP_HDR_LEN
 */
static void udp_listen_one(struct ctx *c, uint32_t ref,
			   const union sockaddr_inany *sa, size_t plen)
{
	union inany_addr peer;
	struct flow_key key;
	uint16_t pport;

	if (udp_sa_to(sa, &peer, &pport) || !pport) {
		stats.bad++;
		return;
	}

	memset(&key, 0, sizeof(key));
	key.proto = IPPROTO_UDP;
	fwd_guest_addr(c, inany_v4(&peer) ? AF_INET : AF_INET6, &key.gaddr);
	fwd_nat_inbound(c, &peer, &key.faddr);
	key.gport = fwd_guest_port(&c->udp, ref);
	key.fport = pport;

	if (udp_listen_flow(c, &key, ref, &peer, pport) < 0)
		return;
	udp_send_guest(c, &key.faddr, key.fport, &key.gaddr, key.gport, plen);
}

/**
 * udp_listen_handler() - Datagrams to a forwarded port: to the guest
 * @c:		Execution context
 * @tag:	Event tag: FWD_REF(rule, port), socket
 * @events:	epoll events
 *
 * #syscalls recvfrom
 */
void udp_listen_handler(struct ctx *c, union evtag tag, uint32_t events)
{
	union sockaddr_inany sa;
	socklen_t sl;
	ssize_t n;
	int i;

	if (events & EPOLLERR)
		udp_sock_errors(tag.fd);
	if (!(events & EPOLLIN))
		return;

	for (i = 0; i < UDP_RECV_BATCH; i++) {
		sl = sizeof(sa);
		n = recvfrom(tag.fd, udp_buf + UDP_HDR_LEN, UDP_MAX_PAYLOAD,
			     MSG_DONTWAIT | MSG_TRUNC, &sa.sa, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		udp_listen_one(c, tag.idx, &sa, n);
	}
}

/* ---------------------------------------------------------------- */
/* Set-up and timer                                                  */
/* ---------------------------------------------------------------- */


/**
 * udp_listen_sock() - Bind a socket for one port of a rule and one family
 * @r:		Rule
 * @af:		AF_INET or AF_INET6
 * @port:	Host port, host order
 *
 * IPv6 sockets are IPv6 only.  Datagrams to the port go to the oldest
 * socket of its reuseport group, see tcp_listen.c.
 *
 * Return: socket on success, -errno on failure
 */
static int udp_listen_sock(const struct fwd_rule *r, int af, uint16_t port)
{
	int fd = fwd_sock(r, SOCK_DGRAM, af, true, port), rc;

	if (fd >= 0 && (rc = fwd_reuseport_first(fd)))
		warn("UDP: port %u: can't keep datagrams on the oldest "
		     "socket: %s", port, strerror(-rc));
	return fd;
}

/**
 * udp_listen_rule() - Bind the ports of one rule, every family it takes
 * @c:		Execution context
 * @r:		Rule
 * @lo:		First port of the ephemeral range
 * @hi:		Last port of the ephemeral range
 * @failed:	Sockets we couldn't bind, updated
 *
 * Return: 0, or the first -errno for a rule that isn't weak
 */
static int udp_listen_rule(const struct ctx *c, const struct fwd_rule *r,
			   unsigned lo, unsigned hi, unsigned *failed)
{
	bool fam[2] = { c->v4 && r->af != AF_INET6, c->v6 && r->af != AF_INET };
	unsigned port;
	int rc, first = 0, i;

	for (port = r->first; port <= r->last; port++) {
		if (r->weak && port >= lo && port <= hi)
			continue;
		for (i = 0; i < 2; i++) {
			if (!fam[i])
				continue;
			rc = udp_listen_sock(r, i ? AF_INET6 : AF_INET,
					     (uint16_t)port);
			if (rc >= 0) {
				udp_lsock[r->slot + port - r->first][i] =
					rc + 1;
				continue;
			}
			if (r->weak)
				continue;
			if (!(*failed)++)
				warn("UDP: can't bind forwarded port %u "
				     "(option %u): %s", port, r->opt,
				     strerror(-rc));
			if (!first)
				first = rc;
		}
	}
	return first;
}

/**
 * udp_listen_bind() - Bind every port of every rule, in the families
 *		       enabled
 * @c:		Execution context
 *
 * One socket per port and family (of the rule's address, or both).  A
 * port we can't bind is reported and skipped; weak rules skip the host's
 * ephemeral range, and ports in use, quietly.  Nothing is read from them
 * before udp_listen_start(): datagrams wait in the socket buffers.
 *
 * Return: 0 if every socket was bound (or already was), else -errno of
 *	   the first failure (the others are bound)
 */
int udp_listen_bind(const struct ctx *c)
{
	unsigned i, lo, hi, failed = 0;
	int rc, first = 0;

	if (udp_lbound)
		return 0;
	udp_lbound = true;
	fwd_ephemeral(&lo, &hi);
	for (i = 0; i < c->udp.n; i++) {
		rc = udp_listen_rule(c, &c->udp.rules[i], lo, hi, &failed);
		if (rc && !first)
			first = rc;
	}
	if (failed > 1)
		warn("UDP: %u forwarded sockets could not be bound", failed);
	return first;
}

/**
 * udp_listen_start() - Our guest runs: serve the forwarded ports
 * @c:		Execution context
 *
 * Binds them first if needed.  Does nothing if we serve them already.
 */
void udp_listen_start(const struct ctx *c)
{
	unsigned r, port;
	int i, fd;

	if (udp_lpolled)
		return;
	udp_listen_bind(c);
	udp_lpolled = true;
	for (r = 0; r < c->udp.n; r++) {
		const struct fwd_rule *rule = &c->udp.rules[r];

		for (port = rule->first; port <= rule->last; port++) {
			for (i = 0; i < 2; i++) {
				fd = udp_lsock[rule->slot + port -
					       rule->first][i] - 1;
				if (fd >= 0 &&
				    ev_add(c->epollfd, fd, EPOLLIN,
					   EV_UDP_LISTEN, FWD_REF(r, port)))
					warn("UDP: can't serve forwarded port "
					     "%u", port);
			}
		}
	}
}

/**
 * udp_listen_stop() - Close the sockets of the forwarded ports
 * @c:		Execution context
 *
 * Our state was handed over: datagrams to the forwarded ports are for
 * another daemon now (closing leaves the reuseport groups).
 *
 * #syscalls close
 */
void udp_listen_stop(const struct ctx *c)
{
	unsigned slot;
	int i, fd;

	for (slot = 0; slot < c->udp.slots; slot++) {
		for (i = 0; i < 2; i++) {
			if ((fd = udp_lsock[slot][i] - 1) < 0)
				continue;
			if (udp_lpolled)
				ev_del(c->epollfd, fd);
			close(fd);
			udp_lsock[slot][i] = 0;
		}
	}
	udp_lbound = udp_lpolled = false;
}

/**
 * udp_listen_unbind() - Close the forwarded ports if bound, not served yet
 * @c:		Execution context
 *
 * A load that bound them (udp_mig_stage()) failed, or was replaced.
 */
void udp_listen_unbind(const struct ctx *c)
{
	if (!udp_lpolled)
		udp_listen_stop(c);
}

/**
 * udp_init() - Bind the forwarded ports (-u), from start-up
 * @c:		Execution context, with c->epollfd open
 *
 * They are served once our guest runs: udp_listen_start().
 *
 * Return: 0 if every socket could be bound, else -errno of the first
 *	   failure
 */
int udp_init(struct ctx *c)
{
	return udp_listen_bind(c);
}

/**
 * udp_timer() - Free flows idle for UDP_TIMEOUT_MS
 * @c:		Execution context, c->now current
 *
 * Migrated flows still being rebuilt are left to udp_mig_timer().
 */
void udp_timer(struct ctx *c)
{
	int idx;

	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx)) {
		if (!udp_flows[idx].mig &&
		    timespec_diff_ms(&c->now, &udp_flows[idx].last) >=
		    UDP_TIMEOUT_MS)
			udp_flow_close(c, idx);
	}
}
