// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_restore.c - TCP connections rebuilt from a device state stream
 *
 * DOC: Theory of operation
 *
 * The target checks every record (tcp_mig_check(): sizes, queue lengths,
 * states, room in the flow table) before it touches anything.  Then, in
 * two steps:
 *
 *   staged (tcp_mig_stage(), when the stream is loaded): each socket is
 *     put in repair mode, bound to its old local address and port, given
 *     its queue sequence numbers and, through passt-repair if need be,
 *     buffers that hold its queues (tcp_mig_prepare()).  It isn't
 *     connected: no segment can reach it, and closing it sends nothing.
 *     To the peer, the connection is as the source left it.  If any
 *     connection can't be prepared, every one is closed again, silently,
 *     and the load fails, so that the source takes them all back.
 *   running (tcp_mig_activate(), once our guest runs): each socket is
 *     connected, in repair mode (no SYN), given its options, queue
 *     contents and window (tcp_mig_rebuild()), and taken out of repair
 *     mode with a window probe, so the peer answers and both ends
 *     resynchronise; data never sent goes out the ordinary way, then a
 *     FIN if we had sent one (the peer takes it as a duplicate).  A FIN
 *     the peer had sent is counted in the receive sequence, so it is
 *     acknowledged again, and our side knows it as CONN_RDHUP.
 *
 * The work on the stopped guest's critical path is the preparation; the
 * rest happens once the guest runs, in one pass of the event loop.
 *
 * A target whose guest never runs (QEMU quits or is killed before it
 * starts the device) closes the staged sockets with tcp_mig_unstage():
 * in repair mode, closing sends nothing, not even if the process dies.
 * The source, which kept its own stream, rebuilds the connections the
 * same way when the migration fails (migrate.c: rollback).
 *
 * Connections whose host side was closed both ways, with data left for
 * the guest, are rebuilt towards nobody (loopback, port 9) and stay deaf
 * (tcp_deaf()).
 *
 * Handshakes: one in CS_SYN_SENT or CS_SYN_RCVD has an established host
 * socket, rebuilt like any other; once the guest runs, tcp_conn_adopt()
 * sends it our SYN or SYN-ACK again, and the guest's answer completes it.
 * One in CS_CONNECTING has no socket to rebuild, and nothing is staged
 * for it: once the guest runs, tcp_mig_again() connects to the same peer
 * (a staged target sends nothing, not even a SYN), and tcp.c answers the
 * guest when that completes, as for any SYN of the guest.
 *
 * Bad input: records are checked against the payload before any is used;
 * a queue longer than TCP_MIG_QUEUE_MAX is refused, and so is a handshake
 * that claims data or FINs it can't have had (tcp_mig_rec_state()).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_restore.h"
#include "tcp_mig_wire.h"
#include "tcp_migrate.h"
#include "tcp_deaf.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "flow.h"
#include "repair.h"

#define TCP_MIG_NOBODY_PORT	9	/* "peer" of a closed connection */
#define TCP_MIG_SETTLE_MIN	(256U << 10)	/* smaller queues: buffers left */

#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW	29
#endif

/**
 * tcp_mig_v4() - Is a 16-byte address IPv4-mapped?
 * @a:		Address
 *
 * Return: true if ::ffff:a.b.c.d
 */
static bool tcp_mig_v4(const uint8_t *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

/**
 * tcp_mig_rec_state() - Check a record's state against its other fields
 * @r:		Record, host copy of the wire bytes
 *
 * In a handshake we sent our SYN and nothing else, and the guest sent no
 * data and no FIN: the send queue (what the guest sent) is empty; the
 * peer may have sent data, and a FIN, already.  A connect() in progress
 * has no queues, no FIN and no local port: only the peer's address.
 *
 * Return: 0 if consistent, -EINVAL if not
 */
static int tcp_mig_rec_state(const struct mig_tcp_conn *r)
{
	uint32_t syn_end = ntohl(r->seq_acked) + 1;

	if (r->state == CS_ESTABLISHED)
		return 0;
	if (r->state != CS_CONNECTING && r->state != CS_SYN_RCVD &&
	    r->state != CS_SYN_SENT)
		return -EINVAL;
	if (ntohl(r->seq_to_guest) != syn_end || ntohl(r->seq_max) != syn_end ||
	    (ntohs(r->flags) & (CONN_GUEST_FIN | CONN_FIN_SENT |
				CONN_FIN_ACKED)) ||
	    r->sndq_len || (r->fin & ~MIG_TCP_FIN_RCVD))
		return -EINVAL;
	if (r->state == CS_CONNECTING && (r->rcvq_len || r->fin || r->lport))
		return -EINVAL;
	return 0;
}

/**
 * tcp_mig_rec_check() - Check one record and its queues, by themselves
 * @r:		Record, host copy of the wire bytes
 * @left:	Bytes of the payload from the end of the record on
 *
 * Return: bytes of queue data following the record, -EINVAL if malformed
 */
static long tcp_mig_rec_check(const struct mig_tcp_conn *r, size_t left)
{
	uint32_t sndq = ntohl(r->sndq_len), rcvq = ntohl(r->rcvq_len);
	uint16_t mss = ntohs(r->mss);

	bool closed = r->fin & MIG_TCP_CLOSED;

	if (tcp_mig_rec_state(r) || r->ws_guest > TCP_WS_MAX ||
	    r->snd_wscale > TCP_WS_MAX || r->rcv_wscale > TCP_WS_MAX ||
	    !mss || r->fin & ~(MIG_TCP_FIN_SENT | MIG_TCP_FIN_RCVD |
			       MIG_TCP_CLOSED))
		return -EINVAL;
	if (tcp_mig_v4(r->gaddr) != tcp_mig_v4(r->faddr) ||
	    !r->gport || !r->fport)
		return -EINVAL;
	if (closed ? sndq != 0 :
	    (tcp_mig_v4(r->laddr) != tcp_mig_v4(r->raddr) || !r->rport ||
	     (!r->lport && r->state != CS_CONNECTING)))
		return -EINVAL;
	if (sndq > TCP_MIG_QUEUE_MAX || rcvq > TCP_MIG_QUEUE_MAX ||
	    ntohl(r->sndq_unsent) > sndq || (size_t)sndq + rcvq > left)
		return -EINVAL;
	return (long)sndq + rcvq;
}

/**
 * tcp_mig_recs_check() - Check the records of a TCP section, touching
 *			  nothing
 * @p:		Payload: count, then records with their queues
 * @len:	Length of all that
 * @t:		Address table for MIG_SEC_TCP2 records, NULL for MIG_SEC_TCP
 *
 * Return: 0, -EINVAL if malformed, -ENOSPC if the flow table can't take
 *	   the connections
 */
static int tcp_mig_recs_check(const uint8_t *p, size_t len,
			      const struct tcp_mig_table *t)
{
	size_t off = sizeof(__be32), rlen = t ? sizeof(struct mig_tcp_rec) :
						sizeof(struct mig_tcp_conn);
	uint32_t n, i;
	__be32 be;

	if (len < sizeof(be))
		return -EINVAL;
	memcpy(&be, p, sizeof(be));
	n = ntohl(be);
	if (n > FLOW_MAX - flow_stats()->active)
		return -ENOSPC;

	for (i = 0; i < n; i++) {
		struct mig_tcp_conn r;
		long q;

		if (len - off < rlen)
			return -EINVAL;
		if (!t)
			memcpy(&r, p + off, sizeof(r));
		else if (tcp_mig_rec_get(p + off, t, &r))
			return -EINVAL;
		off += rlen;
		if ((q = tcp_mig_rec_check(&r, len - off)) < 0)
			return (int)q;
		off += (size_t)q;
	}
	return off == len ? 0 : -EINVAL;
}

/**
 * tcp_mig_check() - Check a MIG_SEC_TCP payload, touching nothing
 * @c:		Execution context
 * @p:		Payload
 * @len:	Its length
 *
 * Return: 0, -EINVAL if malformed, -ENOSPC if the flow table can't take
 *	   the connections
 */
int tcp_mig_check(const struct ctx *c, const uint8_t *p, size_t len)
{
	(void)c;
	return tcp_mig_recs_check(p, len, NULL);
}

/**
 * tcp_mig_check2() - Check a MIG_SEC_TCP2 payload, touching nothing
 * @c:		Execution context
 * @p:		Payload
 * @len:	Its length
 *
 * Return: 0, -EINVAL if malformed, -ENOSPC if the flow table can't take
 *	   the connections
 */
int tcp_mig_check2(const struct ctx *c, const uint8_t *p, size_t len)
{
	struct tcp_mig_table t;
	size_t recs_len;
	long n;

	(void)c;
	if ((n = tcp_mig_table_find(p, len, &t, &recs_len)) < 0)
		return (int)n;
	return tcp_mig_recs_check(p, recs_len, &t);
}

/**
 * tcp_mig_sockaddr() - Socket address from a record's address and port
 * @a:		Address, 16 bytes, IPv4-mapped for IPv4
 * @port:	Port, network order
 * @sa:		Socket address, set
 *
 * Return: its length
 */
static socklen_t tcp_mig_sockaddr(const uint8_t *a, __be16 port,
				  struct sockaddr_storage *sa)
{
	union inany_addr ia;

	memcpy(&ia, a, sizeof(ia));
	return inany_sockaddr(sa, &ia, ntohs(port));
}

/**
 * tcp_mig_nobody() - Loopback socket address for a connection to nobody
 * @r:		Record, host side closed both ways (MIG_TCP_CLOSED)
 * @port:	Port, network order
 * @sa:		Socket address, set: loopback of the guest's family
 *
 * Return: its length
 */
static socklen_t tcp_mig_nobody(const struct mig_tcp_conn *r, __be16 port,
				struct sockaddr_storage *sa)
{
	static const uint8_t lo4[16] = { [10] = 0xff, [11] = 0xff,
					 [12] = 127, [15] = 1 };
	static const uint8_t lo6[16] = { [15] = 1 };

	return tcp_mig_sockaddr(tcp_mig_v4(r->gaddr) ? lo4 : lo6, port, sa);
}

/**
 * tcp_mig_fill() - Write data into the selected repair queue, or send it
 * @fd:		Socket
 * @p:		Data
 * @len:	Bytes
 *
 * In repair mode, what's written to the send queue counts as sent, and
 * what's written to the receive queue as received.
 *
 * Return: 0, -errno
 *
 * #syscalls sendto
 */
static int tcp_mig_fill(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/**
 * tcp_mig_buf_ok() - Is a socket buffer large enough for a queue?
 * @fd:		Socket
 * @opt:	SO_SNDBUF or SO_RCVBUF
 * @len:	Queue length, bytes
 * @cur:	Current size, bytes, set
 *
 * The kernel accounts a queue's bytes with their overhead (truesize), and
 * refuses more once the buffer is exceeded: we want twice the data, what
 * setting the option to the queue length gives.  Measured with loopback
 * sockets in repair mode: 16 MiB of buffer takes 16.4 to 16.8 MB written
 * whole, 13.9 to 14.6 MB written 4 KiB at a time, so writing in pieces
 * doesn't help.
 *
 * Return: true if it is
 *
 * #syscalls getsockopt
 */
static bool tcp_mig_buf_ok(int fd, int opt, uint32_t len, int *cur)
{
	socklen_t sl = sizeof(*cur);

	*cur = 0;
	if (getsockopt(fd, SOL_SOCKET, opt, cur, &sl))
		return false;
	return *cur >= 0 && (uint64_t)*cur >= 2ULL * len;
}

/**
 * tcp_mig_bufs() - Make the socket's buffers large enough for its queues
 * @c:		Execution context
 * @fd:		Socket, in repair mode
 * @r:		Record
 * @i:		Its index, for the log
 *
 * A source socket's buffers may grow to net.ipv4.tcp_wmem[2], tcp_rmem[2]
 * by autotuning (or further, forced by passt-repair on an earlier
 * target), but SO_SNDBUF and SO_RCVBUF give at most net.core.wmem_max,
 * rmem_max: past that, passt-repair sets SO_SNDBUFFORCE or SO_RCVBUFFORCE.
 *
 * Return: 0, -ENOBUFS if a buffer stays too small (logged)
 *
 * #syscalls setsockopt
 */
static int tcp_mig_bufs(struct ctx *c, int fd, const struct mig_tcp_conn *r,
			unsigned i)
{
	static const struct {
		int opt, cmd;
		const char *name;
	} q[2] = {
		{ SO_SNDBUF, REPAIR_SNDBUF, "send" },
		{ SO_RCVBUF, REPAIR_RCVBUF, "receive" },
	};
	uint32_t len[2] = { ntohl(r->sndq_len), ntohl(r->rcvq_len) };
	unsigned k;

	for (k = 0; k < 2; k++) {
		int v = (int)len[k], cur, rc = 0;

		if (!len[k] || tcp_mig_buf_ok(fd, q[k].opt, len[k], &cur))
			continue;
		setsockopt(fd, SOL_SOCKET, q[k].opt, &v, sizeof(v));
		if (tcp_mig_buf_ok(fd, q[k].opt, len[k], &cur))
			continue;
		rc = repair_setbuf(c, fd, q[k].cmd, len[k]);
		if (!rc && tcp_mig_buf_ok(fd, q[k].opt, len[k], &cur))
			continue;

		err("migrate: TCP connection %u: %s queue of %u bytes needs a "
		    "buffer of %llu bytes, got %d (passt-repair: %s)", i,
		    q[k].name, len[k], 2ULL * len[k], cur,
		    rc ? strerror(-rc) : "done, not enough");
		return -ENOBUFS;
	}
	return 0;
}

/**
 * tcp_mig_fill_err() - Log a queue that didn't fit its socket
 * @i:		Connection index
 * @name:	"send" or "receive"
 * @len:	Bytes we tried to queue
 *
 * Return: -ENOBUFS
 */
static int tcp_mig_fill_err(unsigned i, const char *name, uint32_t len)
{
	err("migrate: TCP connection %u: %s queue of %u bytes doesn't fit "
	    "its socket", i, name, len);
	return -ENOBUFS;
}

/**
 * tcp_mig_prepare() - Staging: bind a socket in repair mode, set its
 *		       sequence numbers and buffers
 * @c:		Execution context
 * @fd:		Socket, in repair mode
 * @r:		Record, checked
 * @i:		Its index, for logs
 *
 * Nothing of this makes the socket reachable: it isn't connected, so no
 * segment finds it, and closing it sends nothing.  What could fail for
 * want of an address or of buffer space fails here, while the source can
 * still take the connection back.
 *
 * Return: 0, -errno
 *
 * #syscalls bind setsockopt
 */
static int tcp_mig_prepare(struct ctx *c, int fd, const struct mig_tcp_conn *r,
			   unsigned i)
{
	uint32_t snd_seq = ntohl(r->snd_una), rcv_seq = ntohl(r->rcv_seq);
	struct sockaddr_storage sa;
	socklen_t sl;
	int q;

	/* Repair mode binds to ports in use whatever their owners say
	 * (SK_FORCE_REUSE): listeners, guards, and other connections'
	 * TIME_WAIT remnants.  SO_REUSEADDR would undo that.
	 */
	if (r->fin & MIG_TCP_CLOSED) {
		/* Only the guest is left: a connection to nobody, deaf, on
		 * a loopback port of its own, just to hold the data
		 */
		sl = tcp_mig_nobody(r, 0, &sa);
	} else {
		sl = tcp_mig_sockaddr(r->laddr, r->lport, &sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, sl))
		return -errno;

	q = TCP_SEND_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &snd_seq,
		       sizeof(snd_seq)))
		return -errno;
	q = TCP_RECV_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &rcv_seq,
		       sizeof(rcv_seq)))
		return -errno;

	if (tcp_mig_bufs(c, fd, r, i))
		return -ENOBUFS;
	return 0;
}

/**
 * tcp_mig_rebuild() - Activation: connect a prepared socket, in repair
 *		       mode, and give it options, queues and window
 * @fd:		Socket, prepared (tcp_mig_prepare())
 * @r:		Record
 * @i:		Its index, for logs
 * @sndq:	Send queue contents
 * @rcvq:	Receive queue contents
 *
 * Return: 0, -errno
 *
 * #syscalls connect setsockopt
 */
static int tcp_mig_rebuild(int fd, const struct mig_tcp_conn *r, unsigned i,
			   const uint8_t *sndq, const uint8_t *rcvq)
{
	uint32_t sndq_len = ntohl(r->sndq_len), unsent = ntohl(r->sndq_unsent);
	struct tcp_repair_window w = {
		.snd_wl1 = ntohl(r->snd_wl1), .snd_wnd = ntohl(r->snd_wnd),
		.max_window = ntohl(r->max_window),
		.rcv_wnd = ntohl(r->rcv_wnd), .rcv_wup = ntohl(r->rcv_wup),
	};
	struct tcp_repair_opt opts[4];
	struct sockaddr_storage sa;
	uint32_t ts = ntohl(r->timestamp);
	int q, nopts = 0;
	socklen_t sl;

	if (r->fin & MIG_TCP_CLOSED)
		sl = tcp_mig_nobody(r, htons(TCP_MIG_NOBODY_PORT), &sa);
	else
		sl = tcp_mig_sockaddr(r->raddr, r->rport, &sa);
	if (connect(fd, (struct sockaddr *)&sa, sl))
		return -errno;

	opts[nopts++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG,
						 ntohl(r->mss_host) };
	if (r->opts & TCPI_OPT_WSCALE)
		opts[nopts++] = (struct tcp_repair_opt){ TCPOPT_WINDOW,
			r->snd_wscale | ((uint32_t)r->rcv_wscale << 16) };
	if (r->opts & TCPI_OPT_SACK)
		opts[nopts++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED,
							 0 };
	if (r->opts & TCPI_OPT_TIMESTAMPS)
		opts[nopts++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts,
		       (socklen_t)(nopts * sizeof(opts[0]))))
		return -errno;
	if ((r->opts & TCPI_OPT_TIMESTAMPS) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &ts, sizeof(ts)))
		return -errno;

	q = TCP_RECV_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)))
		return -errno;
	if (tcp_mig_fill(fd, rcvq, ntohl(r->rcvq_len)))
		return tcp_mig_fill_err(i, "receive", ntohl(r->rcvq_len));
	q = TCP_SEND_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)))
		return -errno;
	if (tcp_mig_fill(fd, sndq, sndq_len - unsent))
		return tcp_mig_fill_err(i, "send", sndq_len - unsent);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)))
		return -errno;
	return 0;
}

/**
 * tcp_mig_bufs_settle() - Buffers back to what the queues were, once full
 * @fd:		Socket, restored, its queues written
 * @r:		Record
 *
 * tcp_mig_bufs() gave a large queue twice its length of buffer, and
 * setting a buffer stops the kernel from sizing it: left so, the peer
 * may fill twice the queue, and the next migration moves twice as much
 * (the state doubled with each migration of a bulk stream).  Past the
 * kernel's defaults, each buffer is set back to its queue's length: what
 * is queued stays, and the socket takes more only as the queue drains.
 *
 * #syscalls setsockopt
 */
static void tcp_mig_bufs_settle(int fd, const struct mig_tcp_conn *r)
{
	uint32_t len[2] = { ntohl(r->sndq_len), ntohl(r->rcvq_len) };
	int opt[2] = { SO_SNDBUF, SO_RCVBUF };
	unsigned k;

	for (k = 0; k < 2; k++) {
		int v = (int)(len[k] / 2), cur;	/* the kernel doubles it */

		if (len[k] > TCP_MIG_SETTLE_MIN &&
		    tcp_mig_buf_ok(fd, opt[k], len[k], &cur))
			setsockopt(fd, SOL_SOCKET, opt[k], &v, sizeof(v));
	}
}

/**
 * tcp_mig_flow() - Flow and connection entry for a record
 * @r:		Record
 * @fd:		Its socket, -1 if none yet
 *
 * Return: flow index, -errno if the flow table refuses it
 */
static int tcp_mig_flow(const struct mig_tcp_conn *r, int fd)
{
	struct flow_key key = { .proto = IPPROTO_TCP };
	struct tcp_conn *conn;
	int idx;

	memcpy(&key.gaddr, r->gaddr, 16);
	memcpy(&key.faddr, r->faddr, 16);
	key.gport = ntohs(r->gport);
	key.fport = ntohs(r->fport);
	if ((idx = flow_alloc(FLOW_TCP, &key)) < 0)
		return idx;

	conn = tcp_conn_at((unsigned)idx);
	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
	conn->state = r->state;
	conn->flags = ntohs(r->flags) & ~CONN_FROZEN;
	conn->ws_guest = r->ws_guest;
	conn->mss = ntohs(r->mss);
	conn->seq_to_guest = ntohl(r->seq_to_guest);
	conn->seq_acked = ntohl(r->seq_acked);
	conn->seq_max = ntohl(r->seq_max);
	conn->seq_fin = ntohl(r->seq_fin);
	conn->seq_from_guest = ntohl(r->seq_from_guest);
	conn->wnd_from_guest = ntohl(r->wnd_from_guest);
	conn->wnd_to_guest = ntohl(r->wnd_to_guest);
	return idx;
}

/**
 * tcp_mig_again() - Connect again for a guest's connect() that was pending
 * @c:		Execution context
 * @r:		Record, CS_CONNECTING
 *
 * Called once the guest runs: a non-blocking connect() to the same peer,
 * from a port of our own.  When it completes, tcp.c sends the guest its
 * SYN-ACK; if it fails, the guest gets a RST, as for any SYN of its own.
 *
 * Return: 0, -errno if it failed at once (the guest got a RST)
 */
static int tcp_mig_again(struct ctx *c, const struct mig_tcp_conn *r)
{
	struct sockaddr_storage sa;
	socklen_t sl = tcp_mig_sockaddr(r->raddr, r->rport, &sa);
	int fd = tcp_sock_connect(&sa, sl), idx, rc;

	if ((idx = tcp_mig_flow(r, -1)) < 0) {
		if (fd >= 0)
			close(fd);
		return idx;
	}
	if (fd < 0) {
		tcp_conn_reset(c, (unsigned)idx);
		return fd;
	}
	tcp_conn_at((unsigned)idx)->fd = fd;
	if ((rc = tcp_conn_adopt(c, (unsigned)idx))) {
		tcp_conn_reset(c, (unsigned)idx);
		return rc;
	}
	debug("migrate: TCP flow %d: connecting again to port %u", idx,
	      ntohs(r->rport));
	return 0;
}

/**
 * tcp_mig_install() - Out of repair mode: make the restored flow ours
 * @c:		Execution context
 * @fd:		Socket, restored and out of repair mode
 * @r:		Record
 * @unsent:	Data never sent, to send now
 *
 * Return: 0, -errno (the socket is closed)
 *
 * #syscalls shutdown
 */
static int tcp_mig_install(struct ctx *c, int fd, const struct mig_tcp_conn *r,
			   const uint8_t *unsent)
{
	int idx, rc, one = 1;

	/* Leaving repair mode made the port exclusive: once closed, its
	 * TIME_WAIT remnant would keep listeners (ours, the next target's)
	 * off a forwarded port, and guards off its port
	 */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));

	if ((rc = tcp_mig_fill(fd, unsent, ntohl(r->sndq_unsent))) ||
	    ((r->fin & MIG_TCP_FIN_SENT) && !(r->fin & MIG_TCP_CLOSED) &&
	     shutdown(fd, SHUT_WR) &&
	     (rc = -errno))) {
		close(fd);
		return rc;
	}
	tcp_mig_bufs_settle(fd, r);

	if ((idx = tcp_mig_flow(r, fd)) < 0) {
		close(fd);
		return idx;
	}
	tcp_conn_at((unsigned)idx)->flags |= CONN_STALLED;

	if ((rc = tcp_conn_adopt(c, (unsigned)idx))) {
		tcp_conn_drop(c, (unsigned)idx);
		return rc;
	}
	/* What the guest is owed goes now.  A FIN above all: the peer's came
	 * to the old socket, this one will never report it, and with every
	 * byte acknowledged no event or timer would ever send it.
	 */
	tcp_data_to_guest(c, (unsigned)idx);
	return 0;
}

/**
 * struct tcp_mig_staged - Sockets prepared in repair mode, not yet connected
 * @fd:		Sockets, -1 for none
 * @rec:	Their records, within the payload (which the caller keeps
 *		until tcp_mig_activate() or tcp_mig_unstage())
 * @n:		How many
 * @built:	Connected and filled, in repair mode (tcp_mig_rebuild())
 * @done:	Carries on, or lost: nothing left to do
 * @compact:	Records are struct mig_tcp_rec (MIG_SEC_TCP2), not struct
 *		mig_tcp_conn (MIG_SEC_TCP)
 * @table:	With @compact, the address table of their section
 */
static struct {
	int fd[FLOW_MAX];
	bool built[FLOW_MAX];
	bool done[FLOW_MAX];
	const uint8_t *rec[FLOW_MAX];
	unsigned n;
	bool compact;
	struct tcp_mig_table table;
} staged;

/**
 * tcp_mig_rec() - Host copy of a staged connection's record
 * @i:		Index in @staged
 * @r:		Record, set
 *
 * Return: start of its queue data
 */
static const uint8_t *tcp_mig_rec(unsigned i, struct mig_tcp_conn *r)
{
	if (staged.compact) {		/* checked: indices are in the table */
		tcp_mig_rec_get(staged.rec[i], &staged.table, r);
		return staged.rec[i] + sizeof(struct mig_tcp_rec);
	}
	memcpy(r, staged.rec[i], sizeof(*r));
	return staged.rec[i] + sizeof(*r);
}

/**
 * tcp_mig_unstage() - Close every staged socket, sending nothing
 *
 * In repair mode, close() sends neither FIN nor RST: the connections stay
 * as they were for whoever rebuilds them next.
 *
 * #syscalls close
 */
void tcp_mig_unstage(void)
{
	unsigned i, n = 0;

	for (i = 0; i < staged.n; i++) {
		if (staged.fd[i] >= 0) {
			close(staged.fd[i]);
			n++;
		}
	}
	if (n)
		info("migrate: %u rebuilt TCP connections let go, silently", n);
	staged.n = 0;
}

/**
 * tcp_mig_staged_fds() - The staged sockets, or those built and waiting
 * @fds:	Array of FLOW_MAX, set
 * @built:	Only those connected and filled (tcp_mig_rebuild()); sockets
 *		of connections done or lost are -1 already
 *
 * Return: how many
 */
static unsigned tcp_mig_staged_fds(int *fds, bool built)
{
	unsigned i, n = 0;

	for (i = 0; i < staged.n; i++) {
		if (staged.fd[i] >= 0 && (!built || staged.built[i]))
			fds[n++] = staged.fd[i];
	}
	return n;
}

/**
 * tcp_mig_stage_recs() - Rebuild every connection of a TCP section, deaf
 * @c:		Execution context
 * @p:		Checked payload, kept by the caller until tcp_mig_activate()
 *		or tcp_mig_unstage(): count, then records with their queues
 * @t:		Address table for MIG_SEC_TCP2 records, NULL for MIG_SEC_TCP
 *
 * Return: 0, -errno if any connection can't be rebuilt: then none is
 *	   (logged), so that the source can take them all back
 *
 * #syscalls socket
 */
static int tcp_mig_stage_recs(struct ctx *c, const uint8_t *p,
			      const struct tcp_mig_table *t)
{
	static int fds[FLOW_MAX];
	size_t off = sizeof(__be32), rlen = t ? sizeof(struct mig_tcp_rec) :
						sizeof(struct mig_tcp_conn);
	struct mig_tcp_conn r;
	unsigned i, n;
	__be32 be;
	int rc;

	tcp_mig_unstage();
	staged.compact = t;
	if (t)
		staged.table = *t;
	memcpy(&be, p, sizeof(be));
	n = ntohl(be);
	if (!n)
		return 0;
	if (!repair_ready(c)) {
		err("migrate: no passt-repair connected to %s: %u TCP "
		    "connections can't be rebuilt here", c->repair_path, n);
		return -ENOTCONN;
	}

	for (i = 0; i < n; i++) {
		const uint8_t *v4 = r.laddr;

		staged.rec[i] = p + off;
		tcp_mig_rec(i, &r);
		off += rlen + ntohl(r.sndq_len) + ntohl(r.rcvq_len);
		staged.fd[i] = -1;
		staged.built[i] = staged.done[i] = false;
		staged.n = i + 1;
		if (r.state == CS_CONNECTING)
			continue;	/* tcp_mig_again(), once the guest runs */
		if (r.fin & MIG_TCP_CLOSED)
			v4 = r.gaddr;
		staged.fd[i] = socket(tcp_mig_v4(v4) ? AF_INET : AF_INET6,
				      SOCK_STREAM | SOCK_NONBLOCK |
				      SOCK_CLOEXEC, IPPROTO_TCP);
		if (staged.fd[i] < 0) {
			rc = -errno;
			err("migrate: TCP socket: %s", strerror(-rc));
			goto fail;
		}
	}

	n = tcp_mig_staged_fds(fds, false);
	if ((rc = repair_set(c, fds, n, REPAIR_ON))) {
		err("migrate: repair mode refused: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < staged.n; i++) {
		tcp_mig_rec(i, &r);
		if (staged.fd[i] < 0)
			continue;
		if (((r.fin & MIG_TCP_CLOSED) &&
		     (rc = tcp_deaf(c, &staged.fd[i], 1, true))) ||
		    (rc = tcp_mig_prepare(c, staged.fd[i], &r, i))) {
			err("migrate: TCP connection %u can't be rebuilt: %s",
			    i, strerror(-rc));
			goto fail;
		}
	}
	debug("migrate: %u TCP connections prepared, waiting for the guest",
	      staged.n);
	return 0;

fail:
	tcp_mig_unstage();
	return rc;
}

/**
 * tcp_mig_stage() - Apply MIG_SEC_TCP: rebuild every connection, deaf
 * @c:		Execution context
 * @p:		Checked payload, kept until tcp_mig_activate() or
 *		tcp_mig_unstage()
 * @len:	Its length
 *
 * Return: 0, -errno if any connection can't be rebuilt (none is)
 */
int tcp_mig_stage(struct ctx *c, const uint8_t *p, size_t len)
{
	(void)len;
	return tcp_mig_stage_recs(c, p, NULL);
}

/**
 * tcp_mig_stage2() - Apply MIG_SEC_TCP2: rebuild every connection, deaf
 * @c:		Execution context
 * @p:		Checked payload, kept until tcp_mig_activate() or
 *		tcp_mig_unstage()
 * @len:	Its length
 *
 * Return: 0, -errno if any connection can't be rebuilt (none is)
 */
int tcp_mig_stage2(struct ctx *c, const uint8_t *p, size_t len)
{
	struct tcp_mig_table t;
	size_t recs_len;
	long n;

	if ((n = tcp_mig_table_find(p, len, &t, &recs_len)) < 0)
		return (int)n;
	return tcp_mig_stage_recs(c, p, &t);
}

/**
 * tcp_mig_build_all() - Connect and fill every prepared socket
 * @held:	What a connection whose addresses are still held does
 *
 * Return: how many are held, and wait
 */
static unsigned tcp_mig_build_all(enum tcp_mig_held held)
{
	struct mig_tcp_conn r;
	unsigned i, n = 0;
	int rc;

	for (i = 0; i < staged.n; i++) {
		const uint8_t *q;

		if (staged.fd[i] < 0 || staged.built[i])
			continue;
		q = tcp_mig_rec(i, &r);
		rc = tcp_mig_rebuild(staged.fd[i], &r, i, q,
				     q + ntohl(r.sndq_len));
		if (rc == -EADDRNOTAVAIL && held != TCP_MIG_HELD_LOSE) {
			n++;		/* its old socket is still there */
		} else if (rc) {
			err("migrate: TCP connection %u lost: %s", i,
			    strerror(-rc));
			close(staged.fd[i]);	/* repair mode: silently */
			staged.fd[i] = -1;
		} else {
			staged.built[i] = true;
		}
	}
	return n;
}

/**
 * tcp_mig_activate() - The guest runs: the staged connections carry on
 * @c:		Execution context
 * @held:	What a connection whose old socket still holds its addresses
 *		does (a source on this host that hasn't let go yet, or a
 *		target, when we take our connections back)
 *
 * Each prepared socket is connected and filled (tcp_mig_rebuild()), those
 * built leave repair mode together, and become ours.  Called again, for
 * those that waited, it does the rest.
 *
 * Return: number of connections now running, -EADDRNOTAVAIL if some are
 *	   still held, -errno if the helper failed (they stay staged, for
 *	   another try)
 */
int tcp_mig_activate(struct ctx *c, enum tcp_mig_held held)
{
	static int fds[FLOW_MAX];
	unsigned i, n, ok = 0, again = 0, nheld;
	struct mig_tcp_conn r;
	int rc;

	if (!staged.n)
		return 0;
	nheld = tcp_mig_build_all(held);
	if (nheld && held == TCP_MIG_HELD_WAIT_ALL) {
		debug("migrate: %u TCP connections still held by their old "
		      "sockets, trying again", nheld);
		return -EADDRNOTAVAIL;
	}
	n = tcp_mig_staged_fds(fds, true);
	if ((rc = repair_set(c, fds, n, REPAIR_OFF))) {
		err("migrate: can't leave repair mode: %s", strerror(-rc));
		return rc;
	}

	for (i = 0; i < staged.n; i++) {
		const uint8_t *q = tcp_mig_rec(i, &r);

		if (staged.done[i] || (staged.fd[i] >= 0 && !staged.built[i]))
			continue;		/* done, or held: later */
		staged.done[i] = true;
		q += ntohl(r.sndq_len) - ntohl(r.sndq_unsent);
		if (r.state == CS_CONNECTING) {
			rc = tcp_mig_again(c, &r);
			again += !rc;
		} else if (staged.fd[i] < 0) {
			continue;		/* lost above */
		} else {
			rc = tcp_mig_install(c, staged.fd[i], &r, q);
		}
		if (rc)
			err("migrate: TCP connection %u lost: %s", i,
			    strerror(-rc));
		else
			ok++;
		staged.fd[i] = -1;
	}
	if (nheld) {
		info("migrate: %u of %u TCP connections running, %u waiting "
		     "for their old sockets to let go", ok, staged.n, nheld);
		return -EADDRNOTAVAIL;
	}
	info("migrate: %u of %u TCP connections running, %u of them "
	     "connecting again", ok, staged.n, again);
	staged.n = 0;
	return (int)ok;
}

/**
 * tcp_mig_staged() - Are connections waiting for tcp_mig_activate()?
 *
 * Return: true if any
 */
bool tcp_mig_staged(void)
{
	return staged.n;
}
