// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_deaf.c - TCP sockets that take nothing and answer nothing
 *
 * DOC: Theory of operation
 *
 * A migration needs sockets that neither take nor answer what the peer
 * sends, while they exist: frozen sockets on the source, between their
 * dump and their close (what they took, the dump would miss), the guards
 * that hold their addresses afterwards (tcp_guard.c), and a target's
 * connections to nobody.  tcp_deaf() makes sockets so, and hearing again.
 */

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tcp_deaf.h"
#include "repair.h"

#define TCP_DEAF_KEY		"passt: deaf while migrating"	/* any key */

/**
 * tcp_deaf_md5_key() - Give a socket a TCP-MD5 key for every peer, or drop it
 * @fd:		TCP socket
 * @af:		Its family
 * @mapped:	For AF_INET6: the key for IPv4-mapped peers instead (the
 *		kernel keeps it as an IPv4 key, prefix length 0 of 32)
 * @on:		Add the key, or delete it
 *
 * #syscalls setsockopt
 *
 * Return: 0, -1 with errno set
 */
static int tcp_deaf_md5_key(int fd, int af, bool mapped, bool on)
{
	struct tcp_md5sig m;

	memset(&m, 0, sizeof(m));
	m.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
	if (af == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&m.tcpm_addr;

		a6->sin6_family = AF_INET6;
		if (mapped) {	/* ::ffff:0.0.0.0, IPv4 prefix length 0 */
			a6->sin6_addr.s6_addr[10] = 0xff;
			a6->sin6_addr.s6_addr[11] = 0xff;
		}
	} else {
		m.tcpm_addr.ss_family = AF_INET;
	}
	if (on) {
		m.tcpm_keylen = sizeof(TCP_DEAF_KEY) - 1;
		memcpy(m.tcpm_key, TCP_DEAF_KEY, m.tcpm_keylen);
	}
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG_EXT, &m, sizeof(m));
}

/**
 * tcp_deaf_md5() - Make a socket deaf with a TCP-MD5 key, or hear again
 * @fd:		TCP socket, listening or connected
 * @on:		Deaf, or hearing
 *
 * A socket with a TCP-MD5 key (RFC 2385) for a peer drops every segment
 * from that peer without a matching signature, before TCP looks at it:
 * nothing is queued, acknowledged or answered with a RST.  Our peers use
 * no key, so a key for all of them drops all they send.  What we send
 * meanwhile carries a signature they drop too, but a frozen socket sends
 * nothing.  Unlike a socket filter, which the kernel compiles for each
 * socket, a key costs a small allocation.  An IPv6 socket may talk to
 * IPv4-mapped peers (a dual-stack listener accepts those): it gets a key
 * for those as well, whose prefix length counts IPv4 bits.
 *
 * Return: 0, -1 with errno set
 *
 * #syscalls getsockopt
 */
static int tcp_deaf_md5(int fd, bool on)
{
	socklen_t sl = sizeof(int);
	int af = AF_INET;

	/* Most sockets are IPv4 ones: try that first, ask if refused */
	if (!tcp_deaf_md5_key(fd, AF_INET, false, on))
		return 0;
	if (errno == ENOENT && !on)
		return 0;
	if (errno != EINVAL ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &af, &sl) ||
	    af != AF_INET6)
		return -1;

	if (tcp_deaf_md5_key(fd, af, false, on))
		return on || errno != ENOENT ? -1 : 0;
	if (tcp_deaf_md5_key(fd, af, true, on) && (on || errno != ENOENT)) {
		if (on)
			tcp_deaf_md5_key(fd, af, false, false);
		return -1;
	}
	return 0;
}

/**
 * tcp_deaf_filter() - Make sockets deaf with a socket filter, or hear again
 * @c:		Execution context
 * @fds:	Sockets
 * @n:		How many
 * @on:		Attach a filter that accepts nothing, or detach it
 *
 * The kernel compiles a filter for each socket, which takes tens of
 * microseconds, but leaves the socket as it was, segmentation offloads
 * included (a TCP-MD5 key turns those off for good).  Most kernels let
 * any process filter its own sockets; some want CAP_NET_ADMIN, and then
 * the helper attaches it for us, REPAIR_BATCH sockets a request.
 *
 * Not in repair.c, so that tests can stand in for the helper
 * (repair_set() called from another object can be wrapped).
 *
 * Return: 0, -errno if some socket is left as it was (logged)
 *
 * #syscalls setsockopt
 */
static int tcp_deaf_filter(struct ctx *c, const int *fds, size_t n,
			  bool on)
{
	static bool eperm;	/* attaching takes the helper, here */
	int left[REPAIR_BATCH], rc = 0, r;
	size_t i, k = 0, failed = 0;

	for (i = 0; i < n; i++) {
		if (!(on && eperm) && !repair_filter(fds[i], on))
			continue;
		eperm |= on && errno == EPERM;
		left[k++] = fds[i];
		if (k < REPAIR_BATCH && i + 1 < n)
			continue;
		if ((r = repair_set(c, left, k, on ? REPAIR_DEAF :
							 REPAIR_HEAR))) {
			failed += k;
			rc = r;
		}
		k = 0;
	}
	if (k && (r = repair_set(c, left, k, on ? REPAIR_DEAF : REPAIR_HEAR))) {
		failed += k;
		rc = r;
	}
	if (rc)
		warn("migrate: can't %s the socket filter of %zu TCP sockets: "
		     "%s", on ? "attach" : "detach", failed, strerror(-rc));
	return rc;
}

/**
 * tcp_deaf() - Drop every segment for sockets before TCP sees it
 * @c:		Execution context
 * @fds:	Sockets that won't carry data again: frozen ones, guards
 * @n:		How many
 * @on:		Make them deaf, or hearing again
 *
 * Deaf sockets drop what the peer sends before TCP processes it, so it is
 * neither queued nor acknowledged, and, as the socket still exists, not
 * answered with a RST either: the peer sends it again later.  We use a
 * TCP-MD5 key (tcp_deaf_md5()), cheap to add and to remove; a kernel
 * without TCP-MD5 gets socket filters instead (tcp_deaf_filter()).  A key
 * turns segmentation offloads off for the socket's lifetime: a frozen
 * connection that carries on after a failed transfer sends without them.
 *
 * Return: 0, -errno if some socket is left as it was (logged)
 */
int tcp_deaf(struct ctx *c, const int *fds, size_t n, bool on)
{
	size_t i, failed = 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (!tcp_deaf_md5(fds[i], on))
			continue;
		if (errno == ENOPROTOOPT || errno == EOPNOTSUPP) {
			debug("migrate: no TCP-MD5 in this kernel: deaf "
			      "sockets take socket filters");
			return tcp_deaf_filter(c, fds + i, n - i, on) ?: rc;
		}
		failed++;
		rc = -errno;
	}
	if (rc)
		warn("migrate: can't make %zu TCP sockets %s: %s", failed,
		     on ? "deaf" : "hear again", strerror(-rc));
	return rc;
}
