// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_listen.c - Listening sockets for TCP ports forwarded to the guest
 *
 * DOC: Theory of operation
 *
 * At start-up, every host port forwarded with -t gets one listening
 * socket, registered as EV_TCP_LISTEN with the host port as index;
 * tcp_listen_handler() in tcp.c accepts on it.  Sockets are IPv4 only,
 * IPv6 only, or dual-stack (IPv6 with IPV6_V6ONLY off) when both families
 * are enabled and no bind address was given.
 *
 * "All ports" (FWD_ALL) binds every port not excluded, not in the host's
 * ephemeral range (our own connect() calls need those) and not in use by
 * another process: those are skipped quietly.  It first raises
 * RLIMIT_NOFILE to its hard limit, as it may need tens of thousands of
 * descriptors.  A port listed explicitly that we can't bind is an error.
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
 * #syscalls socket setsockopt bind listen close
 */
static int tcp_listen(const struct ctx *c, uint16_t port)
{
	const struct fwd_ports *fwd = &c->tcp;
	struct sockaddr_storage sa = { 0 };
	int fd, rc, one = 1, v6only;
	socklen_t sl;

	if (fwd->addr.family == AF_INET ||
	    (fwd->addr.family == AF_UNSPEC && !c->v6)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = fwd->addr.family == AF_INET ?
				      fwd->addr.a4.s_addr : htonl(INADDR_ANY);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = fwd->addr.family == AF_INET6 ? fwd->addr.a6 :
							      in6addr_any;
		sl = sizeof(*s6);
	}
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
	    bind(fd, (struct sockaddr *)&sa, sl) || listen(fd, SOMAXCONN)) {
		rc = -errno;
		goto err_close;
	}
	rc = ev_add(c->epollfd, fd, EPOLLIN, EV_TCP_LISTEN, port);
	if (rc)
		goto err_close;
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
 * tcp_raise_nofile() - Raise RLIMIT_NOFILE to its hard limit
 *
 * #syscalls getrlimit setrlimit prlimit64
 */
static void tcp_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		warn("TCP: can't raise the file limit: %s", strerror(errno));
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

	if (c->tcp.mode == FWD_NONE)
		return 0;
	if (c->tcp.mode == FWD_ALL) {
		tcp_raise_nofile();
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
	info("TCP: listening on %u host ports", n);
	return rc;
}
