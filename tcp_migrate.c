// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_migrate.c - TCP connections handed over with TCP_REPAIR: the source
 *
 * DOC: Theory of operation
 *
 * A connection moves as two halves: our side towards the guest (struct
 * tcp_conn: sequence numbers and windows the guest knows) and the host
 * socket, whose kernel state we dump with TCP_REPAIR and rebuild on the
 * target (tcp_restore.c): sequence numbers, window (TCP_REPAIR_WINDOW),
 * MSS, window scale, SACK and timestamp options, the timestamp, and the
 * contents of both queues.  Our design keeps data the guest hasn't
 * acknowledged in the socket's receive queue, and data the guest sent in
 * its send queue, so the queues are all there is to move: there are no
 * buffers of ours.
 *
 * Repair mode needs CAP_NET_ADMIN, which only passt-repair has (repair.c).
 * Without it, no connection can move: the migration fails, and they
 * stay with us.
 *
 * tcp_mig_freeze() puts every connection with a socket (established,
 * half-closed, or in its handshake) in repair mode, closes its window
 * (the receive buffer shrunk; two window probes for peers that sent data
 * lately), then makes it deaf (tcp_deaf(): a TCP-MD5 key the peer
 * doesn't have), so the kernel takes nothing the dump would miss: the
 * peer sends it again later.
 * tcp_mig_save() dumps each socket (reading the receive queue again until
 * its sequence number holds still).  Once the whole stream is written,
 * tcp_mig_release() puts a deaf listener on each local address and port,
 * so that nothing the peer sends before the target has the connection
 * gets a RST (tcp_guard_add()), and closes the sockets: in repair mode
 * that sends nothing, and frees the addresses for the target.  If the
 * transfer fails before that, tcp_mig_thaw() takes them out of repair
 * mode and they carry on.  If the migration fails after it, migrate.c
 * rebuilds them from the stream it kept, as a target would.
 *
 * Handshakes move too.  A connection accepted on a forwarded port whose
 * SYN the guest hasn't answered (CS_SYN_SENT), and one whose connect()
 * completed but whose SYN-ACK the guest hasn't acknowledged (CS_SYN_RCVD),
 * have an established host socket: it moves as any other, and the target
 * sends the SYN or SYN-ACK again once its guest runs.  A guest's connect()
 * still in progress on the host (CS_CONNECTING) has nothing the kernel
 * could rebuild: its socket is frozen like the others (in repair mode,
 * deaf, so closing it sends nothing), and its record carries only our side
 * and the peer's address, without local port or queues; the target
 * connects again, from a port of its own, once its guest runs.  If the
 * connect() completed meanwhile, before the socket went deaf, the socket
 * is dumped in full, as CS_SYN_RCVD, and the target sends the SYN-ACK.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_migrate.h"
#include "tcp_guard.h"
#include "tcp_deaf.h"
#include "tcp_mig_wire.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "flow.h"
#include "fwd.h"
#include "repair.h"

#define TCP_MIG_SEQ_TRIES	8	/* receive queue read while it moves */
#define TCP_MIG_QUIET_RCVBUF	1	/* SO_RCVBUF while frozen: the least */
#define TCP_MIG_PROBES		2	/* window probes while freezing */
#define TCP_MIG_PROBE_WAIT_MS	12	/* at most, for data to come in */
#define TCP_MIG_BUSY_MS		500	/* peer sent as recently: busy */

#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW	29
#endif

/**
 * struct tcp_mig_frozen - Connections frozen on the source
 * @idx:	Flow indices
 * @fd:		Their sockets, in the same order
 * @rcvbuf:	Their SO_RCVBUF before freezing, to thaw them, 0 to leave it
 * @again:	Dumped still connecting: the target connects again, and no
 *		guard holds the port
 * @n:		How many
 */
static struct {
	unsigned idx[FLOW_MAX];
	int fd[FLOW_MAX];
	int rcvbuf[FLOW_MAX];
	bool again[FLOW_MAX];
	unsigned n;
} frozen;

/**
 * struct tcp_mig_names - Addresses of a connected socket, read for a flow
 * @serial:	flow_serial() of the flow they were read for, 0 if none
 * @fd:		Its socket then
 * @local:	Local address (struct sockaddr_in for IPv4)
 * @peer:	Peer address
 * @local_len:	Length of @local
 * @peer_len:	Length of @peer
 *
 * The addresses of a connected socket never change: they are read when a
 * migration starts, while the guest runs (tcp_mig_names_prepare()), and
 * the dump reads only those of connections opened since.  The flow's
 * serial number and socket tell whether an entry is still the flow's.
 */
static struct tcp_mig_names {
	uint64_t serial;
	int fd;
	struct sockaddr_in6 local, peer;
	uint8_t local_len, peer_len;
} names[FLOW_MAX];

static bool thaw_pending;	/* tcp_mig_thaw() waits for the helper */

/**
 * tcp_mig_movable() - Does a connection move with a migration?
 * @conn:	Connection
 *
 * Return: true if it has a socket: established, half-closed, or in its
 *	   handshake
 */
static bool tcp_mig_movable(const struct tcp_conn *conn)
{
	return conn->state != CS_CLOSED && conn->fd >= 0;
}

/**
 * tcp_mig_connecting() - Is a frozen connection's connect() in progress?
 * @i:		Index in @frozen
 *
 * Return: true if in CS_CONNECTING: its socket has no window to close
 */
static bool tcp_mig_connecting(unsigned i)
{
	return tcp_conn_at(frozen.idx[i])->state == CS_CONNECTING;
}

/**
 * tcp_mig_close_window() - Make the next ACK advertise a zero window
 * @fd:		Socket, in repair mode
 *
 * The kernel never shrinks a window it advertised: the next ACK offers at
 * least what's left of the last one.  Moving its left edge to what we
 * received, with nothing to its right, leaves zero, and with the receive
 * buffer shrunk, zero is all it offers.  The target gets this window and
 * opens it.
 *
 * #syscalls setsockopt getsockopt
 */
static void tcp_mig_close_window(int fd)
{
	struct tcp_repair_window w;
	socklen_t sl = sizeof(w);
	uint32_t rcv_nxt;
	int q = TCP_RECV_QUEUE;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &rcv_nxt, &(socklen_t){
		       sizeof(rcv_nxt) }) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &sl))
		return;
	w.rcv_wup = rcv_nxt;
	w.rcv_wnd = 0;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)))
		debug("migrate: can't close window: %s", strerror(errno));
}

/**
 * tcp_mig_busy() - Frozen sockets whose peer sent data lately, shrunk
 * @busy:	Their descriptors, set
 *
 * Their receive buffer goes down to the least, and their window is closed,
 * so that the window probes to come offer as little as possible;
 * tcp_mig_thaw() puts the buffer back.  A quiet peer's socket keeps its
 * window: the peer learns nothing of it, and the target offers it again.
 *
 * Return: how many
 *
 * #syscalls getsockopt setsockopt
 */
static unsigned tcp_mig_busy(int *busy)
{
	unsigned i, n = 0;

	for (i = 0; i < frozen.n; i++) {
		int fd = frozen.fd[i], quiet = TCP_MIG_QUIET_RCVBUF;
		socklen_t sl = sizeof(struct tcp_info);
		struct tcp_info ti;

		if (tcp_mig_connecting(i))
			continue;		/* no data before the SYN-ACK */
		if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) &&
		    ti.tcpi_last_data_recv > TCP_MIG_BUSY_MS)
			continue;		/* a quiet peer: nothing coming */

		sl = sizeof(frozen.rcvbuf[i]);
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &frozen.rcvbuf[i],
			       &sl))
			frozen.rcvbuf[i] = 0;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &quiet, sizeof(quiet));
		tcp_mig_close_window(fd);
		busy[n++] = fd;
	}
	return n;
}

/**
 * tcp_mig_wait_data() - Wait a little for data on busy frozen sockets
 * @busy:	Sockets whose peer sent lately
 * @n:		How many
 *
 * A socket with an empty receive queue can't advertise a zero window: a
 * peer that sends just then would send into it, and retransmit into the
 * switch-over.  A busy peer sends within milliseconds: we give it
 * TCP_MIG_PROBE_WAIT_MS, less once every queue has data.
 *
 * #syscalls poll ioctl
 */
static void tcp_mig_wait_data(const int *busy, unsigned n)
{
	static int wait[FLOW_MAX];
	unsigned i, k = 0, t;

	for (i = 0; i < n; i++) {
		int inq = 0;

		if (ioctl(busy[i], SIOCINQ, &inq) || !inq)
			wait[k++] = busy[i];	/* else the next probe covers it */
	}

	for (t = 0; k && t < TCP_MIG_PROBE_WAIT_MS; t++) {
		poll(NULL, 0, 1);
		for (i = 0; i < k; ) {
			int inq = 0;

			if (!ioctl(wait[i], SIOCINQ, &inq) && inq)
				wait[i] = wait[--k];
			else
				i++;
		}
	}
}

/**
 * tcp_mig_freeze() - Source: put movable connections in repair mode
 * @c:		Execution context
 *
 * Return: 0, -errno if some connection can't move: then none is frozen,
 *	   they all carry on here, and the migration fails (logged)
 *
 * #syscalls getsockopt setsockopt
 */
int tcp_mig_freeze(struct ctx *c)
{
	static int busy[FLOW_MAX];
	unsigned i, nbusy;
	int idx, rc;

	frozen.n = 0;
	thaw_pending = false;
	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx)) {
		const struct tcp_conn *conn = tcp_conn_at((unsigned)idx);

		if (!tcp_mig_movable(conn))
			continue;
		frozen.idx[frozen.n] = (unsigned)idx;
		frozen.fd[frozen.n++] = conn->fd;
	}
	if (!frozen.n)
		return 0;

	if (!repair_ready(c)) {
		err("migrate: no passt-repair connected to %s: %u TCP "
		    "connections can't move, so the migration fails (they "
		    "carry on here)", c->repair_path, frozen.n);
		frozen.n = 0;
		return -ENOTCONN;
	}
	if ((rc = repair_set(c, frozen.fd, frozen.n, REPAIR_ON))) {
		err("migrate: repair mode refused (%s): %u TCP connections "
		    "can't move, so the migration fails", strerror(-rc),
		    frozen.n);
		repair_set(c, frozen.fd, frozen.n, REPAIR_OFF);
		frozen.n = 0;
		return rc;
	}

	for (i = 0; i < frozen.n; i++) {	/* events: ignored meanwhile */
		tcp_conn_at(frozen.idx[i])->flags |= CONN_FROZEN;
		frozen.again[i] = false;
		frozen.rcvbuf[i] = 0;
	}

	/* Leaving repair mode sends a window probe: an ACK with our window,
	 * now zero if the receive queue holds anything (the buffer is
	 * shrunk), else what the shrunk buffer holds.  A peer that has data
	 * sends that much; we wait a little for it (tcp_mig_wait_data()),
	 * take it, and probe again: that ACK covers it and offers zero.  The
	 * peer then stops sending and only probes back after its
	 * retransmission timeout, at least 200 ms: longer than the
	 * switch-over, while no socket has these addresses and what comes
	 * would be answered with a RST.  A peer that sent nothing lately
	 * gets no probe: it is unlikely to send in the next milliseconds,
	 * and if it does, it sends again to the target.
	 */
	nbusy = tcp_mig_busy(busy);
	for (i = 0; nbusy && i < TCP_MIG_PROBES; i++) {
		if (i)
			tcp_mig_wait_data(busy, nbusy);
		if ((rc = repair_set(c, busy, nbusy, REPAIR_OFF)) ||
		    (rc = repair_set(c, busy, nbusy, REPAIR_ON))) {
			err("migrate: repair mode lost: %u TCP connections "
			    "can't move, so the migration fails", frozen.n);
			tcp_mig_thaw(c);
			return rc;
		}
	}

	/* From now on the sockets take nothing: whatever the kernel took,
	 * it would acknowledge, and the dump might miss.  What the peer
	 * still sends is dropped here, unseen, and sent again, to the target.
	 */
	if ((rc = tcp_deaf(c, frozen.fd, frozen.n, true))) {
		err("migrate: %u TCP connections can't move, so the migration "
		    "fails", frozen.n);
		tcp_mig_thaw(c);
		return rc;
	}
	debug("migrate: %u TCP connections frozen", frozen.n);
	return 0;
}

/**
 * tcp_mig_queue() - Select a repair queue, and read its sequence number
 * @fd:		Socket, in repair mode
 * @q:		TCP_SEND_QUEUE or TCP_RECV_QUEUE
 * @seq:	Sequence number: send queue end, or next to receive
 *
 * Return: 0, -errno
 *
 * #syscalls setsockopt getsockopt
 */
static int tcp_mig_queue(int fd, int q, uint32_t *seq)
{
	socklen_t sl = sizeof(*seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &sl))
		return -errno;
	return 0;
}

/**
 * tcp_mig_peek() - Copy a repair queue's contents to the stream buffer
 * @fd:		Socket, in repair mode, queue selected
 * @b:		Buffer: the bytes are appended
 * @len:	Bytes expected
 *
 * Return: 0, -EIO if the queue doesn't hold @len bytes, other -errno
 *
 * #syscalls recvfrom
 */
static int tcp_mig_peek(int fd, struct mig_buf *b, size_t len)
{
	uint8_t *p;
	ssize_t n;

	if (!len)
		return 0;
	if (len > TCP_MIG_QUEUE_MAX)
		return -EFBIG;
	if (!(p = mig_buf_reserve(b, len)))
		return -ENOMEM;
	n = recv(fd, p, len, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	b->len += len;
	return 0;
}

/**
 * tcp_mig_addr() - Socket address to an IPv4-mapped or IPv6 address
 * @sa:		Socket address, struct sockaddr_in for IPv4
 * @addr:	Address, 16 bytes, set
 * @port:	Port, network order, 2 bytes, set
 */
static void tcp_mig_addr(const struct sockaddr_in6 *sa, uint8_t *addr,
			 uint8_t *port)
{
	if (sa->sin6_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &s4->sin_addr, 4);
		memcpy(port, &s4->sin_port, 2);
	} else {
		memcpy(addr, &sa->sin6_addr, 16);
		memcpy(port, &sa->sin6_port, 2);
	}
}

/**
 * tcp_mig_names_read() - Read the addresses of a flow's connected socket
 * @idx:	Flow index
 * @fd:		Its socket
 *
 * Return: its entry, NULL on failure (errno set)
 *
 * #syscalls getsockname getpeername
 */
static const struct tcp_mig_names *tcp_mig_names_read(unsigned idx, int fd)
{
	struct tcp_mig_names *nm = &names[idx];
	socklen_t pl = sizeof(nm->peer), ll = sizeof(nm->local);

	nm->serial = 0;
	if (getpeername(fd, (struct sockaddr *)&nm->peer, &pl) ||
	    getsockname(fd, (struct sockaddr *)&nm->local, &ll))
		return NULL;
	nm->peer_len = (uint8_t)pl;
	nm->local_len = (uint8_t)ll;
	nm->fd = fd;
	nm->serial = flow_serial(idx);
	return nm;
}

/**
 * tcp_mig_names_get() - The addresses of a flow's connected socket
 * @idx:	Flow index
 * @fd:		Its socket
 *
 * Return: its entry, read before or now; NULL on failure (errno set)
 */
static const struct tcp_mig_names *tcp_mig_names_get(unsigned idx, int fd)
{
	const struct tcp_mig_names *nm = &names[idx];

	if (nm->serial && nm->serial == flow_serial(idx) && nm->fd == fd)
		return nm;
	return tcp_mig_names_read(idx, fd);
}

/**
 * tcp_mig_names_prepare() - A migration starts: read the addresses of
 *			     every connected socket, while the guest runs
 */
void tcp_mig_names_prepare(void)
{
	unsigned n = 0;
	int idx;

	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx)) {
		const struct tcp_conn *conn = tcp_conn_at((unsigned)idx);

		if (conn->fd >= 0 && conn->state != CS_CONNECTING &&
		    tcp_mig_names_read((unsigned)idx, conn->fd))
			n++;
	}
	debug("migrate: addresses of %u TCP connections read ahead", n);
}

/**
 * tcp_mig_sock_info() - Addresses, options, window of a repaired socket
 * @idx:	Flow index
 * @fd:		Its socket, in repair mode
 * @r:		Record, socket fields set
 * @tcpi_state:	Kernel TCP state, set
 *
 * Return: 0, -errno
 *
 * #syscalls getsockopt
 */
static int tcp_mig_sock_info(unsigned idx, int fd, struct mig_tcp_conn *r,
			     uint8_t *tcpi_state)
{
	const struct tcp_mig_names *nm;
	struct tcp_repair_window w;
	struct tcp_info ti;
	socklen_t sl;
	uint32_t v;

	sl = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl))
		return -errno;
	*tcpi_state = ti.tcpi_state;
	if (ti.tcpi_state == TCP_CLOSE) {
		/* Both FINs done, the guest still reading: no peer left */
		r->fin |= MIG_TCP_CLOSED;
	} else if (!(nm = tcp_mig_names_get(idx, fd))) {
		return -errno;
	} else {
		tcp_mig_addr(&nm->peer, r->raddr, (uint8_t *)r +
			     offsetof(struct mig_tcp_conn, rport));
		tcp_mig_addr(&nm->local, r->laddr, (uint8_t *)r +
			     offsetof(struct mig_tcp_conn, lport));
	}
	r->opts = ti.tcpi_options;
	r->snd_wscale = ti.tcpi_snd_wscale;
	r->rcv_wscale = ti.tcpi_rcv_wscale;

	sl = sizeof(v);
	if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &sl))
		return -errno;
	r->mss_host = htonl(v);
	sl = sizeof(v);
	if (getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &v, &sl))
		return -errno;
	r->timestamp = htonl(v);

	sl = sizeof(w);
	if (getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &sl))
		return -errno;
	r->snd_wl1 = htonl(w.snd_wl1);
	r->snd_wnd = htonl(w.snd_wnd);
	r->max_window = htonl(w.max_window);
	r->rcv_wnd = htonl(w.rcv_wnd);
	r->rcv_wup = htonl(w.rcv_wup);
	return 0;
}

/**
 * tcp_mig_guest_side() - Fill the guest's side of a record
 * @idx:	Flow index
 * @r:		Record
 */
static void tcp_mig_guest_side(unsigned idx, struct mig_tcp_conn *r)
{
	const struct tcp_conn *conn = tcp_conn_at(idx);
	const struct flow_key *key = flow_key(idx);

	memcpy(r->gaddr, &key->gaddr, 16);
	memcpy(r->faddr, &key->faddr, 16);
	r->gport = htons(key->gport);
	r->fport = htons(key->fport);
	r->state = conn->state;
	r->ws_guest = conn->ws_guest;
	r->flags = htons(conn->flags & ~(CONN_WANT_OUT | CONN_NO_PEEK_OFF |
					  CONN_FROZEN));
	r->mss = htons(conn->mss);
	r->seq_to_guest = htonl(conn->seq_to_guest);
	r->seq_acked = htonl(conn->seq_acked);
	r->seq_max = htonl(conn->seq_max);
	r->seq_fin = htonl(conn->seq_fin);
	r->seq_from_guest = htonl(conn->seq_from_guest);
	r->wnd_from_guest = htonl(conn->wnd_from_guest);
	r->wnd_to_guest = htonl(conn->wnd_to_guest);
}

/**
 * tcp_mig_dump_sndq() - Dump the send queue of a repaired socket
 * @fd:		Socket
 * @st:		Kernel TCP state
 * @r:		Record: send queue fields set
 * @b:		Buffer: queue contents appended
 *
 * Return: 0, -errno
 *
 * #syscalls ioctl
 */
static int tcp_mig_dump_sndq(int fd, uint8_t st, struct mig_tcp_conn *r,
			     struct mig_buf *b)
{
	bool fin = st == TCP_FIN_WAIT1 || st == TCP_FIN_WAIT2 ||
		   st == TCP_CLOSING || st == TCP_LAST_ACK;
	bool fin_unacked = fin && st != TCP_FIN_WAIT2;
	uint32_t write_seq, data, unsent;
	int outq, nsd, rc;

	if ((rc = tcp_mig_queue(fd, TCP_SEND_QUEUE, &write_seq)))
		return rc;
	if (r->fin & MIG_TCP_CLOSED) {		/* all sent and acknowledged */
		r->snd_una = htonl(write_seq);
		return 0;
	}
	nsd = 0;
	if (ioctl(fd, SIOCOUTQ, &outq) ||
	    (outq && ioctl(fd, SIOCOUTQNSD, &nsd)))
		return -errno;
	if (outq < (int)fin_unacked || nsd < 0 || nsd > outq)
		return -EIO;

	/* The queue counts our FIN until acknowledged, but holds no byte */
	data = (uint32_t)outq - fin_unacked;
	unsent = (uint32_t)nsd;
	if (fin && unsent)
		unsent--;
	if (unsent > data)
		return -EIO;

	if ((rc = tcp_mig_peek(fd, b, data)))
		return rc;
	r->snd_una = htonl(write_seq - fin - data);
	r->sndq_len = htonl(data);
	r->sndq_unsent = htonl(unsent);
	if (fin)
		r->fin |= MIG_TCP_FIN_SENT;
	return 0;
}

/**
 * tcp_mig_dump_rcvq() - Dump the receive queue of a repaired socket
 * @fd:		Socket
 * @st:		Kernel TCP state
 * @r:		Record: receive queue fields set
 * @b:		Buffer: queue contents appended
 *
 * A deaf socket takes nothing new, but should data come in while we read
 * anyway, we read again until the sequence number is the same before and
 * after.  An empty queue takes three system calls.
 *
 * Return: 0, -errno
 *
 * #syscalls ioctl
 */
static int tcp_mig_dump_rcvq(int fd, uint8_t st, struct mig_tcp_conn *r,
			     struct mig_buf *b)
{
	size_t start = b->len;
	uint32_t seq, seq2;
	unsigned tries;
	int inq, off = 0, rc;

	if ((rc = tcp_mig_queue(fd, TCP_RECV_QUEUE, &seq)))
		return rc;
	for (tries = 0; tries < TCP_MIG_SEQ_TRIES; tries++) {
		if (ioctl(fd, SIOCINQ, &inq))
			return -errno;
		if (inq < 0)
			return -EIO;
		if (!inq)		/* nothing came before the sequence */
			break;

		/* From the start of the queue, not past what the guest has
		 * or what the last try read: each peek moves the offset
		 */
		if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
			return -errno;
		b->len = start;
		if ((rc = tcp_mig_peek(fd, b, (size_t)inq)))
			return rc;
		if (getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq2,
			       &(socklen_t){ sizeof(seq2) }))
			return -errno;
		if (seq == seq2)
			break;
		seq = seq2;
	}
	if (tries == TCP_MIG_SEQ_TRIES)
		return -EAGAIN;

	r->rcv_seq = htonl(seq - (uint32_t)inq);
	r->rcvq_len = htonl((uint32_t)inq);
	if (st == TCP_CLOSE_WAIT || st == TCP_LAST_ACK || st == TCP_CLOSING ||
	    (r->fin & MIG_TCP_CLOSED)) {
		r->fin |= MIG_TCP_FIN_RCVD;
		r->flags |= htons(CONN_RDHUP);
	}
	return 0;
}

/**
 * tcp_mig_dump_again() - Record of a connection whose connect() is pending
 * @c:		Execution context
 * @idx:	Flow index, in CS_CONNECTING
 * @fd:		Its socket, in repair mode and deaf
 * @r:		Record, our side filled in: peer address set here
 *
 * A socket in SYN_SENT has no sequence state worth moving, and the kernel
 * can't rebuild one: the target connects again.  The peer address is the
 * one tcp_conn_outbound() connected to (getpeername() has none yet); the
 * local one is left unspecified, and its port zero: the target picks its
 * own.  A connect() that failed, in the gap before the socket went deaf,
 * fails again there, and the guest gets its RST from the target.
 *
 * Return: 1 if the record is complete; 0 if the connect() completed
 *	   before the socket went deaf: it is dumped like an established
 *	   one, as CS_SYN_RCVD (the target sends the SYN-ACK); -errno
 *
 * #syscalls getsockopt
 */
static int tcp_mig_dump_again(const struct ctx *c, unsigned idx, int fd,
			      struct mig_tcp_conn *r)
{
	const struct flow_key *key = flow_key(idx);
	union inany_addr dst;
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl))
		return -errno;
	if (ti.tcpi_state != TCP_SYN_SENT && ti.tcpi_state != TCP_CLOSE) {
		r->state = CS_SYN_RCVD;
		return 0;
	}

	fwd_nat_outbound(c, &key->faddr, key->fport, &dst);
	memcpy(r->raddr, &dst, sizeof(r->raddr));	/* IPv4-mapped too */
	r->rport = htons(key->fport);
	if (inany_v4(&dst))
		r->laddr[10] = r->laddr[11] = 0xff;	/* ::ffff:0.0.0.0 */
	return 1;
}

/**
 * tcp_mig_dump() - Append one frozen connection to the stream
 * @c:		Execution context
 * @i:		Index in @frozen
 * @b:		Buffer
 *
 * Return: 0, -errno (the buffer is left as it was)
 */
static int tcp_mig_dump(const struct ctx *c, unsigned i, struct mig_buf *b)
{
	unsigned idx = frozen.idx[i];
	size_t start = b->len;
	int fd = frozen.fd[i];
	struct mig_tcp_conn r;
	struct mig_tcp_rec w;
	uint8_t st = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	tcp_mig_guest_side(idx, &r);
	if (r.state == CS_CONNECTING &&
	    (rc = tcp_mig_dump_again(c, idx, fd, &r))) {
		if (rc < 0 || (rc = tcp_mig_rec_put(&r, &w)) ||
		    (rc = mig_buf_put(b, &w, sizeof(w))))
			return rc;
		frozen.again[i] = true;
		return 0;
	}
	if (!mig_buf_reserve(b, sizeof(w)))	/* filled in below */
		return -ENOMEM;
	b->len += sizeof(w);

	if ((rc = tcp_mig_sock_info(idx, fd, &r, &st)) ||
	    (rc = tcp_mig_dump_sndq(fd, st, &r, b)) ||
	    (rc = tcp_mig_dump_rcvq(fd, st, &r, b)) ||
	    (rc = tcp_mig_rec_put(&r, &w))) {
		b->len = start;
		return rc;
	}
	memcpy(b->p + start, &w, sizeof(w));
	return 0;
}

/**
 * tcp_mig_save() - MIG_SEC_TCP2: count, each frozen connection, addresses
 * @c:		Execution context
 * @b:		Buffer
 *
 * A connection that can't be dumped fails the whole save: the transfer
 * fails, and every connection carries on here (tcp_mig_thaw()).
 *
 * Return: 0, -errno
 */
int tcp_mig_save(struct ctx *c, struct mig_buf *b)
{
	size_t count_at = b->len;
	__be32 be = 0;
	unsigned i;
	int rc;

	if ((rc = mig_buf_put(b, &be, sizeof(be))))
		return rc;

	tcp_mig_addrs_reset();
	for (i = 0; i < frozen.n; i++) {
		if ((rc = tcp_mig_dump(c, i, b))) {
			err("migrate: TCP flow %u can't be saved: %s",
			    frozen.idx[i], strerror(-rc));
			return rc;
		}
	}

	be = htonl(frozen.n);
	memcpy(b->p + count_at, &be, sizeof(be));
	if ((rc = tcp_mig_addrs_put(b)))
		return rc;
	info("migrate: %u TCP connections saved", frozen.n);
	return 0;
}

/**
 * tcp_mig_release() - Source: the stream is out, close the frozen sockets
 * @c:		Execution context
 *
 * Those in the stream get guards first (tcp_guard_add()), but for those
 * still connecting: the target connects from another port, and the peer's
 * SYN-ACK to this one had better find nothing, and get a RST.  In repair
 * mode, closing sends nothing, and frees the addresses for the target.
 */
void tcp_mig_release(struct ctx *c)
{
	unsigned i;

	for (i = 0; i < frozen.n; i++) {	/* one socket more at a time */
		const struct tcp_mig_names *nm = &names[frozen.idx[i]];
		bool known = nm->serial == flow_serial(frozen.idx[i]) &&
			     nm->fd == frozen.fd[i];

		if (!frozen.again[i])
			tcp_guard_add(c, frozen.fd[i],
				      (const struct sockaddr *)&nm->local,
				      known ? nm->local_len : 0);
		tcp_conn_drop(c, frozen.idx[i]);
	}
	tcp_guard_unprepare();			/* what the pool has left */
	frozen.n = 0;
}

/**
 * tcp_mig_thaw() - Source: the transfer failed before release, carry on
 * @c:		Execution context
 *
 * If the helper is gone, the connections stay frozen until it is back.
 *
 * #syscalls setsockopt
 */
void tcp_mig_thaw(struct ctx *c)
{
	unsigned i;
	int rc;

	if (!frozen.n)
		return;

	/* Hearing first: leaving repair mode sends a window probe, which a
	 * socket with a TCP-MD5 key would sign, and the peer drop.  Without
	 * the helper, the sockets stay in repair mode, where they would take
	 * data and never send it: they stay frozen, and deaf, instead, and
	 * tcp_mig_timer() tries again once a helper is back
	 */
	tcp_deaf(c, frozen.fd, frozen.n, false);
	if ((rc = repair_set(c, frozen.fd, frozen.n, REPAIR_OFF))) {
		tcp_deaf(c, frozen.fd, frozen.n, true);
		if (!thaw_pending)
			err("migrate: %u TCP connections can't leave repair "
			    "mode (%s): they wait, frozen, for passt-repair",
			    frozen.n, strerror(-rc));
		thaw_pending = true;
		return;
	}
	thaw_pending = false;
	for (i = 0; i < frozen.n; i++) {
		struct tcp_conn *conn = tcp_conn_at(frozen.idx[i]);

		if (frozen.rcvbuf[i] > 1) {
			int v = frozen.rcvbuf[i] / 2;	/* the kernel doubles */

			setsockopt(conn->fd, SOL_SOCKET, SO_RCVBUF, &v,
				   sizeof(v));
		}
		if (ev_mod(c->epollfd, conn->fd, tcp_conn_events(conn), EV_TCP,
			   frozen.idx[i]))
			warn("migrate: TCP flow %u: can't watch it again",
			     frozen.idx[i]);
		tcp_conn_thaw(c, frozen.idx[i]);
	}
	info("migrate: %u TCP connections resumed", frozen.n);
	frozen.n = 0;
}

/**
 * tcp_mig_timer() - Periodic: connections waiting to be thawed, if any
 * @c:		Execution context
 */
void tcp_mig_timer(struct ctx *c)
{
	if (thaw_pending && repair_ready(c))
		tcp_mig_thaw(c);
}
