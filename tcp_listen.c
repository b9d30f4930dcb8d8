// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_listen.c - Listening sockets for TCP ports forwarded to the guest
 *
 * DOC: Theory of operation
 *
 * At start-up, every host port forwarded with -t gets one socket, bound;
 * it starts listening only once a guest can take connections (its
 * receive queue is running: tcp_listen_start()), registered as
 * EV_TCP_LISTEN with the host port as index; tcp_listen_handler() in
 * tcp.c accepts on it.  A migration source stops listening when its
 * state is handed over (tcp_listen_stop()).  Sockets set SO_REUSEPORT, so
 * a migration target on the same host binds the same ports while the
 * source lives: listening only with a guest keeps new connections going
 * to the daemon that has one.  Sockets are IPv4 only,
 * IPv6 only, or dual-stack (IPv6 with IPV6_V6ONLY off) when both families
 * are enabled and no bind address was given.
 *
 * "All ports" (FWD_ALL) binds every port not excluded, not in the host's
 * ephemeral range (our own connect() calls need those) and not in use by
 * another process: those are skipped quietly (that takes tens of
 * thousands of descriptors: isolate_files() raised the limit at start-up).
 * A port listed explicitly that we can't bind is an error.
 *
 * There is no peer input here.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_listen.h"
#include "fwd.h"

#define TCP_EPHEMERAL_PATH	"/proc/sys/net/ipv4/ip_local_port_range"
#define TCP_EPHEMERAL_LO	32768	/* Linux defaults, if unreadable */
#define TCP_EPHEMERAL_HI	60999

static int tcp_listen_fd[65536];	/* bound socket by host port, or -1 */
static bool tcp_listening;		/* listen() done, in epoll */

/**
 * tcp_listen() - Listen on one forwarded host port
 * @c:		Execution context
 * @port:	Host port
 *
 * One socket per port: IPv4 only, IPv6 only, or dual-stack (IPv6 with
 * IPV6_V6ONLY off) when both families are on and no address was given.
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls socket setsockopt bind close
 */
static int tcp_listen(const struct ctx *c, uint16_t port)
{
	const struct fwd_ports *fwd = &c->tcp;
	struct sockaddr_storage sa;
	int fd, rc, one = 1, v6only;
	union inany_addr a;
	socklen_t sl;

	fwd_bind_addr(fwd, fwd->addr.family == AF_INET ||
			   (fwd->addr.family == AF_UNSPEC && !c->v6) ?
			   AF_INET : AF_INET6, &a);
	sl = inany_sockaddr(&sa, &a, port);
	v6only = fwd->addr.family == AF_INET6 || !c->v4;

	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0)
		return -errno;

	/* SO_REUSEPORT: a migration target on the same host listens on the
	 * same ports while its source still does, and binds the connections
	 * it restores to them
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    (sa.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			sizeof(v6only))) ||
	    bind(fd, (struct sockaddr *)&sa, sl)) {
		rc = -errno;
		goto err_close;
	}
	tcp_listen_fd[port] = fd;
	return 0;

err_close:
	close(fd);
	return rc;
}

/**
 * tcp_ephemeral() - The host's ephemeral port range
 * @lo:		First port, set
 * @hi:		Last port, set
 *
 * "All ports" leaves these alone: our own connect() calls need them.
 *
 * #syscalls openat read close
 */
static void tcp_ephemeral(unsigned *lo, unsigned *hi)
{
	unsigned long l, h;
	char buf[32], *end;
	ssize_t n;
	int fd;

	*lo = TCP_EPHEMERAL_LO;
	*hi = TCP_EPHEMERAL_HI;

	fd = open(TCP_EPHEMERAL_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;

	errno = 0;
	l = strtoul(buf, &end, 10);
	h = strtoul(end, NULL, 10);
	if (errno || !l || l > h || h > 65535)
		return;
	*lo = (unsigned)l;
	*hi = (unsigned)h;
}

/**
 * tcp_listen_init() - Listen on the host ports forwarded to the guest
 * @c:		Execution context, epoll instance made
 *
 * Return: 0 on success, first -errno for a listed port we couldn't bind
 * (the others are still tried)
 */
int tcp_listen_init(const struct ctx *c)
{
	unsigned port, lo = 0, hi = 0, n = 0;
	int rc = 0;

	for (port = 0; port < ARRAY_SIZE(tcp_listen_fd); port++)
		tcp_listen_fd[port] = -1;
	tcp_listening = false;

	if (c->tcp.mode == FWD_NONE)
		return 0;
	if (c->tcp.mode == FWD_ALL) {
		tcp_ephemeral(&lo, &hi);
	}

	for (port = 1; port <= 65535; port++) {
		int ret;

		if (!fwd_port_forwarded(&c->tcp, (uint16_t)port))
			continue;
		if (c->tcp.mode == FWD_ALL && port >= lo && port <= hi)
			continue;

		ret = tcp_listen(c, (uint16_t)port);
		if (!ret) {
			n++;
		} else if (c->tcp.mode != FWD_ALL) {
			warn("TCP: can't listen on port %u: %s", port,
			     strerror(-ret));
			if (!rc)
				rc = ret;
		}
	}
	info("TCP: %u host ports bound, listening once a guest is there", n);
	return rc;
}

/**
 * tcp_listen_start() - A guest can take connections: listen, if not yet
 * @c:		Execution context
 *
 * #syscalls listen
 */
void tcp_listen_start(const struct ctx *c)
{
	unsigned port, n = 0;

	if (tcp_listening || c->tcp.mode == FWD_NONE)
		return;
	tcp_listening = true;
	for (port = 1; port < ARRAY_SIZE(tcp_listen_fd); port++) {
		int fd = tcp_listen_fd[port];

		if (fd < 0)
			continue;
		if (listen(fd, SOMAXCONN) ||
		    ev_add(c->epollfd, fd, EPOLLIN, EV_TCP_LISTEN, port)) {
			warn("TCP: can't listen on port %u: %s", port,
			     strerror(errno));
			continue;
		}
		n++;
	}
	debug("TCP: listening on %u host ports", n);
}

/**
 * tcp_listen_stop() - Stop listening, keep the ports bound
 * @c:		Execution context
 *
 * Connections not accepted yet are reset.  tcp_listen_start() listens
 * again (a migration that failed after all, and a guest that goes on).
 *
 * #syscalls shutdown epoll_ctl
 */
void tcp_listen_stop(const struct ctx *c)
{
	unsigned port;

	if (!tcp_listening)
		return;
	tcp_listening = false;
	for (port = 1; port < ARRAY_SIZE(tcp_listen_fd); port++) {
		if (tcp_listen_fd[port] < 0)
			continue;
		ev_del(c->epollfd, tcp_listen_fd[port]);
		shutdown(tcp_listen_fd[port], SHUT_RDWR);
	}
	debug("TCP: stopped listening");
}
