// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_guard.c - Deaf listeners holding the addresses of migrated sockets
 *
 * DOC: Theory of operation
 *
 * From the moment the source closes a dumped socket until the target has
 * rebuilt it, nothing has the connection's addresses: a segment the peer
 * sends meanwhile (an ACK it delayed, data it had in flight) finds no
 * socket, and the kernel answers it with a RST, which ends the
 * connection for the peer.  A deaf listener on the same local address and
 * port, a guard, takes such segments instead, and drops them: the peer
 * sends them again later, to the target.  There, the restored socket
 * comes first, and the guard only gets what no connection takes.  It
 * would blackhole new connections to that address and port, though, so it
 * lives only as long as the session with the front-end, which ends once
 * the migration is done (tcp_guard_clear()).
 *
 * Both ends of the port are reusable, so the target can bind to it too.
 * A guard is deaf (tcp_deaf()) before it listens: it never takes a
 * connection.
 *
 * Making a deaf, reusable socket takes four system calls, the ones left to
 * bind and listen two: when a migration starts (the front-end turns dirty
 * logging on, while the guest still runs), tcp_guard_prepare() makes a
 * pool of sockets for as many guards as there are connections, of each
 * family, so that the stopped guest waits for the binding only.  The pool
 * leaves room under the file limit for what the guest does meanwhile;
 * guards past the pool are made on the spot.
 */

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_guard.h"
#include "tcp_deaf.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "flow.h"
#include "isolation.h"

#define TCP_GUARD_SLACK		16	/* pool: spares for new connections */

/**
 * struct tcp_guards - Guards in place, and the pool of ready sockets
 * @fd:		Guards, listening
 * @n:		How many
 * @pool:	Deaf, reusable, unbound sockets: [0] IPv4, [1] IPv6
 * @npool:	How many of each
 */
static struct {
	int fd[FLOW_MAX];
	unsigned n;
	int pool[2][FLOW_MAX];
	unsigned npool[2];
} g;

/**
 * tcp_guard_sock() - A socket ready to guard: deaf and reusable, unbound
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 *
 * Return: socket, -1 on failure
 *
 * #syscalls socket setsockopt close
 */
static int tcp_guard_sock(struct ctx *c, int af)
{
	int s = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       IPPROTO_TCP), one = 1;

	if (s < 0)
		return -1;
	if (tcp_deaf(c, &s, 1, true) ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) {
		close(s);
		return -1;
	}
	return s;
}

/**
 * tcp_guard_add() - Hold the local address of a socket we are closing
 * @c:		Execution context
 * @fd:		Socket, frozen (in repair mode), deaf and dumped
 * @local:	Its local address if known, else read here
 * @len:	Length of @local, 0 if not known
 *
 * In repair mode, the socket's port is reusable whatever it was before
 * (SK_FORCE_REUSE): the guard binds next to it.  Failing that is logged,
 * and the connection goes on without: a segment from the peer before the
 * target has it would then reset it.
 *
 * #syscalls getsockname bind listen close
 */
void tcp_guard_add(struct ctx *c, int fd, const struct sockaddr *local,
		   socklen_t len)
{
	struct sockaddr_storage ss;
	int s, k;

	if (g.n >= ARRAY_SIZE(g.fd))
		goto fail;
	if (!len) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len))
			goto fail;
		local = (struct sockaddr *)&ss;
	}
	k = local->sa_family == AF_INET6;
	if (g.npool[k])
		s = g.pool[k][--g.npool[k]];
	else if ((s = tcp_guard_sock(c, local->sa_family)) < 0)
		goto fail;
	if (bind(s, local, len) || listen(s, 1)) {
		close(s);
		goto fail;
	}
	g.fd[g.n++] = s;
	return;
fail:
	debug("migrate: can't guard a TCP port: %s", strerror(errno));
}

/**
 * tcp_guard_clear() - Close every guard, and the pool
 */
void tcp_guard_clear(void)
{
	while (g.n)
		close(g.fd[--g.n]);
	tcp_guard_unprepare();
}

/**
 * tcp_guard_room() - Sockets the pool may hold, under the file limit
 * @conns:	Connections that will want a guard
 *
 * Return: the file limit less one descriptor per connection and
 *	   ISOLATE_FILES_SPARE, 0 if nothing is left
 *
 * #syscalls getrlimit prlimit64
 */
static unsigned tcp_guard_room(unsigned conns)
{
	struct rlimit rl;
	rlim_t used = (rlim_t)conns + ISOLATE_FILES_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur <= used)
		return 0;
	return (unsigned)MIN(rl.rlim_cur - used, (rlim_t)FLOW_MAX * 2);
}

/**
 * tcp_guard_prepare() - A migration starts: sockets for the guards to come
 * @c:		Execution context
 *
 * #syscalls getsockopt
 */
void tcp_guard_prepare(struct ctx *c)
{
	unsigned want[2] = { 0 }, room, k;
	int idx;

	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx)) {
		const struct tcp_conn *conn = tcp_conn_at((unsigned)idx);
		socklen_t sl = sizeof(int);
		int af;

		if (conn->fd < 0 || conn->state == CS_CONNECTING ||
		    getsockopt(conn->fd, SOL_SOCKET, SO_DOMAIN, &af, &sl))
			continue;
		want[af == AF_INET6]++;
	}
	room = tcp_guard_room(want[0] + want[1]);

	for (k = 0; k < 2; k++) {
		unsigned n = MIN(want[k] + want[k] / 8 + TCP_GUARD_SLACK,
				 (unsigned)FLOW_MAX);

		while (g.npool[k] < n && room) {
			int s = tcp_guard_sock(c, k ? AF_INET6 : AF_INET);

			if (s < 0)
				break;
			g.pool[k][g.npool[k]++] = s;
			room--;
		}
	}
	debug("migrate: %u IPv4 and %u IPv6 sockets ready to guard TCP ports",
	      g.npool[0], g.npool[1]);
}

/**
 * tcp_guard_unprepare() - Close the sockets of the pool
 */
void tcp_guard_unprepare(void)
{
	unsigned k;

	for (k = 0; k < 2; k++) {
		while (g.npool[k])
			close(g.pool[k][--g.npool[k]]);
	}
}
