// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_listen.c - Listening sockets for TCP ports forwarded to the guest
 *
 * DOC: Theory of operation
 *
 * Every port of every -t rule (struct fwd_rule, fwd.c) gets one socket,
 * bound to the rule's address (and interface, SO_BINDTODEVICE) and
 * listening from start-up, before any front-end connects: a client that
 * connects right after launch is accepted by the kernel and waits in the
 * backlog.  The socket goes into epoll only once a guest can take
 * connections (its receive queue runs: tcp_listen_start()), as
 * EV_TCP_LISTEN with FWD_REF(rule, port) as index, so that
 * tcp_listen_handler() in tcp.c finds the rule, hence the guest port.
 * Sockets are IPv4 only, IPv6 only, or dual-stack (IPv6 with IPV6_V6ONLY
 * off) for a rule without an address when both families are enabled.
 *
 * Weak rules ("all", exclusions only) skip, quietly, the host's ephemeral
 * range (our own connect() calls need it) and ports we can't bind (in use
 * by another process); that takes tens of thousands of descriptors:
 * isolate_files() raised the limit at start-up.  A port listed explicitly
 * that we can't bind is an error at start-up.
 *
 * Same-host migration.  Sockets set SO_REUSEPORT, so a target on the same
 * host binds and listens on the same ports while its source lives.  By
 * default the kernel would spread new connections over both daemons by
 * hash, and a failed migration would strand those queued in the target.
 * So each listening socket attaches a classic BPF program to its
 * reuseport group (fwd_reuseport_first()) that always returns 0: the
 * kernel then picks socks[0] of the group.  The group is per bound
 * address, port and interface.  Its order, as the kernel keeps it
 * (net/core/sock_reuseport.c): a TCP socket joins at listen() and is
 * appended at the end, so socks[0] is the oldest listener, the source's;
 * a socket that leaves (shutdown() or close() of a listener) is replaced
 * in its slot by the last one.  With the two daemons of a migration the
 * target, alone left, becomes socks[0] when the source lets go.  So:
 *
 * - while the source lives and listens, new connections go to it (they
 *   are migrated with the rest if they come before the hand-over);
 * - at the hand-over the source stops listening (tcp_listen_stop():
 *   shutdown(), which resets what it hasn't accepted yet and leaves the
 *   group), and new connections queue in the target, served once its
 *   guest runs;
 * - the program is the group's, not the socket's: whichever daemon
 *   listens later replaces it with the same one, so an older source that
 *   attaches none is served first too.
 *
 * A failed migration makes the source listen again, and it joins the
 * group behind the target, which still listens: new connections go to the
 * target until it exits (libvirt stops it with its QEMU) or its front-end
 * leaves before its guest ever ran (tcp_listen_yield(): it stops
 * listening, resetting what waits in its backlog).  Limit: a third
 * daemon on the same ports would be moved into the slot of a socket that
 * leaves.  test/unit/fwd.c checks this ordering
 * against the running kernel.
 *
 * There is no peer input here.
 */

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_listen.h"
#include "fwd.h"

static int tcp_listen_fd[FWD_SLOTS_MAX];	/* listener by rule slot, -1 */
static bool tcp_polled;			/* in epoll */
static bool tcp_stopped;		/* shutdown() by tcp_listen_stop() */
static bool tcp_served;			/* a guest took connections once */

/**
 * tcp_listen_one() - Listen on one port of a rule
 * @c:		Execution context
 * @r:		Rule
 * @port:	Host port
 *
 * Return: socket on success, -errno on failure
 *
 * #syscalls listen close
 */
static int tcp_listen_one(const struct ctx *c, const struct fwd_rule *r,
			  uint16_t port)
{
	int af = r->af == AF_INET || (r->af == AF_UNSPEC && !c->v6) ?
		 AF_INET : AF_INET6;
	int fd, rc;

	fd = fwd_sock(r, SOCK_STREAM, af, r->af == AF_INET6 || !c->v4, port);
	if (fd < 0)
		return fd;
	if (listen(fd, SOMAXCONN)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if ((rc = fwd_reuseport_first(fd)))
		warn("TCP: port %u: can't keep new connections on the oldest "
		     "listener: %s", port, strerror(-rc));
	return fd;
}

/**
 * tcp_listen_rule() - Listen on the ports of one rule
 * @c:		Execution context
 * @r:		Rule
 * @lo:		First port of the ephemeral range
 * @hi:		Last port of the ephemeral range
 *
 * Return: ports listening on, or -errno for a port of a rule that isn't
 *	   weak (the others are still tried)
 */
static int tcp_listen_rule(const struct ctx *c, const struct fwd_rule *r,
			   unsigned lo, unsigned hi)
{
	unsigned port;
	int n = 0, rc = 0;

	for (port = r->first; port <= r->last; port++) {
		int fd;

		if (r->weak && port >= lo && port <= hi)
			continue;
		fd = tcp_listen_one(c, r, (uint16_t)port);
		if (fd >= 0) {
			tcp_listen_fd[r->slot + port - r->first] = fd;
			n++;
		} else if (!r->weak) {
			warn("TCP: can't listen on port %u (option %u): %s",
			     port, r->opt, strerror(-fd));
			if (!rc)
				rc = fd;
		}
	}
	return rc ? rc : n;
}

/**
 * tcp_listen_init() - Listen on the host ports forwarded to the guest
 * @c:		Execution context
 *
 * Return: 0 on success, first -errno for a listed port we couldn't bind
 */
int tcp_listen_init(const struct ctx *c)
{
	unsigned i, lo, hi, n = 0;
	int rc = 0, ret;

	for (i = 0; i < ARRAY_SIZE(tcp_listen_fd); i++)
		tcp_listen_fd[i] = -1;
	tcp_polled = tcp_stopped = tcp_served = false;
	if (!c->tcp.n)
		return 0;

	fwd_ephemeral(&lo, &hi);
	for (i = 0; i < c->tcp.n; i++) {
		ret = tcp_listen_rule(c, &c->tcp.rules[i], lo, hi);
		if (ret >= 0)
			n += (unsigned)ret;
		else if (!rc)
			rc = ret;
	}
	info("TCP: listening on %u host ports", n);
	return rc;
}

/**
 * tcp_listen_start() - A guest can take connections: serve the listeners
 * @c:		Execution context
 *
 * After tcp_listen_stop(), listen again first.
 *
 * #syscalls listen epoll_ctl
 */
void tcp_listen_start(const struct ctx *c)
{
	unsigned i, port, n = 0;

	if (tcp_polled)
		return;
	tcp_polled = tcp_served = true;
	for (i = 0; i < c->tcp.n; i++) {
		const struct fwd_rule *r = &c->tcp.rules[i];

		for (port = r->first; port <= r->last; port++) {
			int fd = tcp_listen_fd[r->slot + port - r->first];

			if (fd < 0)
				continue;
			if ((tcp_stopped && listen(fd, SOMAXCONN)) ||
			    ev_add(c->epollfd, fd, EPOLLIN, EV_TCP_LISTEN,
				   FWD_REF(i, port))) {
				warn("TCP: can't listen on port %u: %s", port,
				     strerror(errno));
				continue;
			}
			if (tcp_stopped)
				fwd_reuseport_first(fd);
			n++;
		}
	}
	tcp_stopped = false;
	debug("TCP: serving %u host ports", n);
}

/**
 * tcp_listen_stop() - Stop listening, keep the ports bound
 * @c:		Execution context
 *
 * Connections not accepted yet are reset; the sockets leave their
 * reuseport groups, so that new connections go to a migration target on
 * this host.  tcp_listen_start() listens again (a migration that failed
 * after all, and a guest that goes on).
 *
 * #syscalls shutdown epoll_ctl
 */
void tcp_listen_stop(const struct ctx *c)
{
	unsigned i;

	if (tcp_stopped)
		return;
	for (i = 0; i < c->tcp.slots; i++) {
		if (tcp_listen_fd[i] < 0)
			continue;
		if (tcp_polled)
			ev_del(c->epollfd, tcp_listen_fd[i]);
		shutdown(tcp_listen_fd[i], SHUT_RDWR);
	}
	tcp_polled = false;
	tcp_stopped = true;
	debug("TCP: stopped listening");
}

/**
 * tcp_listen_hand_over() - A migration source stops: take what waits in
 *			    the backlogs, then stop listening
 * @c:		Execution context
 * @take:	Accepts a batch on a listener, true if more may wait:
 *		tcp_listen_handler() (this file is below tcp.c)
 *
 * Called before the connections freeze.  What the kernel accepted on our
 * listeners, and we didn't yet, becomes flows here, frozen and moved with
 * the others (the target sends their SYN to the guest); once the others
 * are dumped, anything accepted would be left behind, and a listener
 * closed later would reset what waits in it.  Then the sockets leave
 * their reuseport groups, and new connections queue in a target on this
 * host.  Only a SYN completing between the last accept() and shutdown()
 * is still reset.
 */
void tcp_listen_hand_over(struct ctx *c, tcp_listen_take_t take)
{
	unsigned i, port;

	if (tcp_stopped)
		return;
	for (i = 0; i < c->tcp.n; i++) {
		const struct fwd_rule *r = &c->tcp.rules[i];

		for (port = r->first; port <= r->last; port++) {
			union evtag tag = { .kind = EV_TCP_LISTEN,
					    .idx = FWD_REF(i, port) };

			tag.fd = tcp_listen_fd[r->slot + port - r->first];
			if (tag.fd >= 0)
				while (take(c, tag, EPOLLIN))
					;
		}
	}
	tcp_listen_stop(c);
}

/**
 * tcp_listen_yield() - The front-end left before any guest ran here
 * @c:		Execution context
 *
 * A migration target whose migration failed: stop listening, so that the
 * source, listening again, is first in the reuseport groups (see the DOC
 * block).  Connections waiting in our backlog are reset.  A guest that
 * runs later (a new front-end) listens again.
 */
void tcp_listen_yield(const struct ctx *c)
{
	if (!tcp_served)
		tcp_listen_stop(c);
}
