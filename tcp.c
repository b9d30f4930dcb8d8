// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp.c - The guest's TCP, terminated here and mapped onto host sockets
 *
 * DOC: Theory of operation
 *
 * Each TCP connection of the guest is a flow (flow.c) with one host
 * socket.  We play the guest's peer: we answer its handshake, acknowledge
 * its data and send it segments, while the host kernel does the real TCP
 * on the other side.  There are no per-connection buffers here:
 *
 * - Host to guest: data stays in the socket's receive queue until the
 *   guest acknowledges it.  The socket has SO_PEEK_OFF set, so each
 *   recvmsg(MSG_PEEK) starts right after what we already sent.  When the
 *   guest acknowledges N bytes, recv(MSG_TRUNC) drops them from the
 *   kernel, which also moves the peek offset back by N.  To retransmit,
 *   the peek offset goes back to 0, the first unacknowledged byte.  We
 *   send at most what the guest's window allows, in segments of at most
 *   its MSS (and our MTU), and stop if the guest's receive queue is full
 *   (-ENOBUFS), resuming from tcp_rx_ready() or the timer.
 *
 * - Guest to host: a segment's data is written to the socket at once, and
 *   we acknowledge what the socket took, nothing more: the guest
 *   retransmits the rest.  The window we advertise is the free space of
 *   the socket's send buffer (SO_SNDBUF minus SIOCOUTQ), so a slow host
 *   peer throttles the guest; when it is low we wait for EPOLLOUT and send
 *   a window update.
 *
 * Handshakes: a SYN from the guest makes a flow and a non-blocking
 * connect() to the destination (the gateway mapped to loopback by
 * fwd_nat_outbound()); when it completes we send SYN-ACK, if it fails RST.
 * A connection accepted on a forwarded host port makes a flow and a SYN
 * to the guest; its SYN-ACK completes it, its RST resets the host peer.
 * We send MSS and window scale options and honour the guest's.
 *
 * Closing: a FIN from the guest, once all its data is written, becomes
 * shutdown(SHUT_WR); end of file on the socket, once all data has been
 * sent, becomes a FIN to the guest.  When both FINs are through (ours
 * acknowledged) the socket is closed and the flow freed.  A RST from the
 * guest closes the socket with SO_LINGER 0, so the host peer sees a reset;
 * a socket error sends RST to the guest.  With no ACK progress for
 * TCP_RTO_MS (doubling each time) we retransmit from the first
 * unacknowledged byte; after TCP_MAX_RETRIES we reset both sides.
 *
 * Sockets are registered edge-triggered: unacknowledged data keeps a
 * socket readable, so a level-triggered EPOLLIN would fire forever.  An
 * edge comes with each arrival of data; every other reason to send (an
 * ACK opening the window, buffers posted by the guest) calls the sender
 * directly.
 *
 * Files: this one holds the connection table, the socket side and the
 * segments we send; tcp_guest.c parses and acts on the guest's segments
 * (and says what happens to bad ones), calling in here through the
 * second part of tcp.h; tcp_listen.c owns the listening sockets, tcp_migrate.c
 * the connections' migration.
 */

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp.h"
#include "tcp_seq.h"
#include "tcp_conn.h"
#include "checksum.h"
#include "flow.h"
#include "fwd.h"
#include "tap_out.h"
#include "tcp_listen.h"

#define TCP_RTO_MS		1000	/* first retransmission timeout */
#define TCP_MAX_RETRIES		5	/* then reset both sides */
#define TCP_WS_OURS		8	/* window scale we advertise */
#define TCP_WND_MAX		(65535U << TCP_WS_OURS)
#define TCP_MSS4_DEFAULT	536	/* RFC 9293, 3.7.1 */
#define TCP_MSS6_DEFAULT	1220	/* RFC 8200 minimum MTU, 5 */
#define TCP_PEEK_MAX		(1 << 20)	/* bytes peeked at once */
#define TCP_DISCARD_LEN		(1 << 16)	/* no SO_PEEK_OFF: skip buffer */
#define TCP_DISCARD_IOV		256	/* ... times this: 16 MiB in flight */
#define TCP_ACCEPT_BATCH	32	/* connections accepted per event */
#define TCP_OPT_LEN_SYN		8	/* MSS (4), NOP, window scale (3) */

static struct tcp_conn tcp_conns[FLOW_MAX];
static struct tcp_stats stats;
static uint8_t tcp_secret[FLOW_HASH_KEY_LEN];	/* for initial sequences */
static uint8_t tcp_buf[TCP_PEEK_MAX];		/* peeked data, one batch */
static bool tcp_any_stalled;	/* some connection waits for tcp_rx_ready() */

/**
 * tcp_stats() - Counters, for tests and debugging
 *
 * Return: pointer to the counters
 */
const struct tcp_stats *tcp_stats(void)
{
	return &stats;
}

/**
 * tcp_stats_rw() - Counters, for tcp_guest.c to count in
 *
 * Return: pointer to the counters
 */
struct tcp_stats *tcp_stats_rw(void)
{
	return &stats;
}

/* ---------------------------------------------------------------- */
/* Segments to the guest                                             */
/* ---------------------------------------------------------------- */

/**
 * tcp_mtu_mss() - Largest payload our MTU allows
 * @c:		Execution context
 * @v4:		IPv4 (else IPv6)
 *
 * Return: bytes
 */
static unsigned tcp_mtu_mss(const struct ctx *c, bool v4)
{
	unsigned mtu = c->mtu ? c->mtu : MTU_DEFAULT;
	unsigned hdrs = (v4 ? 20 : 40) + sizeof(struct tcp_hdr);

	return MIN(mtu - hdrs, 65535U - hdrs);
}

/**
 * tcp_send() - Build a segment and send it to the guest
 * @c:		Execution context
 * @key:	Flow key: we send from faddr:fport to gaddr:gport
 * @h:		Header: ports, checksum, data offset are filled in here
 * @opts:	Options (padded to 4 bytes), NULL if none
 * @olen:	Length of @opts, bytes, a multiple of 4
 * @data:	Payload, NULL if none
 * @len:	Payload length, bytes
 *
 * Return: 0 on success, -errno from tap_send_l4() (-ENOBUFS: guest full)
 */
static int tcp_send(struct ctx *c, const struct flow_key *key,
		    struct tcp_hdr *h, const uint8_t *opts, size_t olen,
		    const uint8_t *data, size_t len)
{
	uint8_t hdr[sizeof(*h) + 40];
	struct iovec iov[2];

	ASSERT(olen <= 40 && !(olen % 4));
	h->sport = htons(key->fport);
	h->dport = htons(key->gport);
	h->doff = (uint8_t)(((sizeof(*h) + olen) / 4) << 4);
	h->csum = 0;
	h->urg = 0;
	memcpy(hdr, h, sizeof(*h));
	if (olen)
		memcpy(hdr + sizeof(*h), opts, olen);

	iov[0] = (struct iovec){ hdr, sizeof(*h) + olen };
	iov[1] = (struct iovec){ (void *)data, len };
	if (!len || !tap_csum_trusted(c)) {	/* data: not checked */
		h->csum = csum_l4(&key->faddr, &key->gaddr, IPPROTO_TCP, iov,
				  len ? 2 : 1);
		memcpy(hdr + offsetof(struct tcp_hdr, csum), &h->csum,
		       sizeof(h->csum));
	}

	return tap_send_l4(c, &key->faddr, &key->gaddr, IPPROTO_TCP, iov,
			   len ? 2 : 1);
}

/**
 * tcp_sock_space() - Free space in a socket's send buffer
 * @fd:		Socket
 * @low:	Set if the space is below half the buffer: worth an update
 *		when it grows
 *
 * Return: bytes, at most TCP_WND_MAX
 *
 * #syscalls getsockopt ioctl
 */
static uint32_t tcp_sock_space(int fd, bool *low)
{
	int sndbuf, outq;
	socklen_t sl = sizeof(sndbuf);

	*low = true;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) ||
	    ioctl(fd, SIOCOUTQ, &outq) || sndbuf <= outq)
		return 0;
	*low = sndbuf - outq < sndbuf / 2;
	return MIN((uint32_t)(sndbuf - outq), TCP_WND_MAX);
}

/**
 * tcp_conn_events() - The epoll events a connection needs now
 * @conn:	Connection
 *
 * Return: EPOLL* mask
 */
uint32_t tcp_conn_events(const struct tcp_conn *conn)
{
	uint32_t ev = EPOLLIN | EPOLLRDHUP | EPOLLET;

	if (conn->state == CS_CONNECTING || (conn->flags & CONN_WANT_OUT))
		ev |= EPOLLOUT;
	return ev;
}

/**
 * tcp_want_out() - Ask for EPOLLOUT (or stop asking) on a socket
 * @c:		Execution context
 * @idx:	Flow index
 * @on:		Ask (true) or stop (false)
 */
void tcp_want_out(const struct ctx *c, unsigned idx, bool on)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	if (!!(conn->flags & CONN_WANT_OUT) == on)
		return;
	conn->flags ^= CONN_WANT_OUT;
	if (ev_mod(c->epollfd, conn->fd, tcp_conn_events(conn), EV_TCP, idx))
		debug("TCP flow %u: epoll_ctl failed", idx);
}

/**
 * tcp_send_ctl() - Send a segment without payload, with our sequence state
 * @c:		Execution context
 * @idx:	Flow index
 * @flags:	TCP_F_* flags; SYN adds our MSS and window scale options
 * @seq:	Sequence number to send
 *
 * The window is the free space in the socket's send buffer: if that is
 * low, we ask for EPOLLOUT to send an update when it grows.
 *
 * Return: 0 on success, -errno from tcp_send()
 */
int tcp_send_ctl(struct ctx *c, unsigned idx, uint8_t flags, uint32_t seq)
{
	const struct flow_key *key = flow_key(idx);
	struct tcp_conn *conn = &tcp_conns[idx];
	bool v4 = inany_v4(&key->gaddr);
	uint8_t opts[TCP_OPT_LEN_SYN];
	struct tcp_hdr h = { 0 };
	uint32_t wnd = 0;
	size_t olen = 0;

	if (conn->fd >= 0 && !(flags & TCP_F_RST)) {
		bool low;

		wnd = tcp_sock_space(conn->fd, &low);
		if (low && conn->state == CS_ESTABLISHED &&
		    !(conn->flags & CONN_GUEST_FIN))
			tcp_want_out(c, idx, true);
	}
	conn->wnd_to_guest = wnd;

	if (flags & TCP_F_SYN) {
		unsigned mss = tcp_mtu_mss(c, v4);

		opts[0] = TCP_OPT_MSS;
		opts[1] = 4;
		opts[2] = (uint8_t)(mss >> 8);
		opts[3] = (uint8_t)mss;
		opts[4] = TCP_OPT_NOP;
		opts[5] = TCP_OPT_WS;
		opts[6] = 3;
		opts[7] = TCP_WS_OURS;
		/* An answer to a SYN without window scale must not have it */
		olen = (conn->state == CS_SYN_SENT ||
			(conn->flags & CONN_WS)) ? 8 : 4;
		h.wnd = htons((uint16_t)MIN(wnd, 65535U));
	} else {
		unsigned shift = (conn->flags & CONN_WS) ? TCP_WS_OURS : 0;

		h.wnd = htons((uint16_t)MIN(wnd >> shift, 65535U));
	}

	h.seq = htonl(seq);
	h.flags = flags;
	if (flags & TCP_F_ACK)
		h.ack = htonl(conn->seq_from_guest);
	return tcp_send(c, key, &h, olen ? opts : NULL, olen, NULL, 0);
}

/**
 * tcp_send_ack() - Acknowledge what we have from the guest, with our window
 * @c:		Execution context
 * @idx:	Flow index
 */
void tcp_send_ack(struct ctx *c, unsigned idx)
{
	/* Lost if the guest is full: it will retransmit, we ACK again */
	tcp_send_ctl(c, idx, TCP_F_ACK, tcp_conns[idx].seq_to_guest);
}

/**
 * tcp_rst_reply() - Answer a segment that belongs to no connection
 * @c:		Execution context
 * @key:	Key of the segment (gaddr/gport its source)
 * @seg:	The segment, never a RST
 *
 * RFC 9293, 3.10.7.1: with ACK, the reset takes its sequence number from
 * the ACK; without, it acknowledges the segment.
 */
void tcp_rst_reply(struct ctx *c, const struct flow_key *key,
		   const struct tcp_seg *seg)
{
	struct tcp_hdr h = { 0 };

	if (seg->flags & TCP_F_ACK) {
		h.seq = htonl(seg->ack);
		h.flags = TCP_F_RST;
	} else {
		uint32_t len = (uint32_t)seg->len +
			       !!(seg->flags & TCP_F_SYN) +
			       !!(seg->flags & TCP_F_FIN);

		h.ack = htonl(seg->seq + len);
		h.flags = TCP_F_RST | TCP_F_ACK;
	}
	tcp_send(c, key, &h, NULL, 0, NULL, 0);
}

/* ---------------------------------------------------------------- */
/* Connection life                                                   */
/* ---------------------------------------------------------------- */

/**
 * tcp_conn_close() - Close a connection's socket and free its flow
 * @c:		Execution context
 * @idx:	Flow index, live
 * @reset:	Close with SO_LINGER 0: the host peer gets a RST
 *
 * #syscalls close setsockopt
 */
void tcp_conn_close(const struct ctx *c, unsigned idx, bool reset)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	debug("TCP flow %u: %s (%s)", idx, reset ? "reset" : "closed",
	      tcp_state_str(conn->state));

	if (conn->fd >= 0) {
		if (reset) {
			struct linger l = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &l,
				   sizeof(l));
		}
		ev_del(c->epollfd, conn->fd);
		close_fd(&conn->fd);
	}
	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
	flow_free(idx);
}

/**
 * tcp_conn_reset() - Reset both sides of a connection
 * @c:		Execution context
 * @idx:	Flow index, live
 */
void tcp_conn_reset(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	if (conn->state != CS_CONNECTING)
		tcp_send_ctl(c, idx, TCP_F_RST | TCP_F_ACK, conn->seq_to_guest);
	else
		tcp_send_ctl(c, idx, TCP_F_RST | TCP_F_ACK, 0);
	tcp_conn_close(c, idx, true);
}

/**
 * tcp_isn() - Initial sequence number for a connection (RFC 6528)
 * @c:		Execution context, for the time
 * @key:	Flow key
 *
 * Return: keyed hash of the connection, plus a 4 us clock
 */
static uint32_t tcp_isn(const struct ctx *c, const struct flow_key *key)
{
	uint64_t ns = (uint64_t)c->now.tv_sec * 1000000000ULL +
		      (uint64_t)c->now.tv_nsec;
	uint8_t b[36];

	memcpy(b, &key->gaddr, 16);
	memcpy(b + 16, &key->faddr, 16);
	b[32] = (uint8_t)(key->gport >> 8);
	b[33] = (uint8_t)key->gport;
	b[34] = (uint8_t)(key->fport >> 8);
	b[35] = (uint8_t)key->fport;

	return (uint32_t)siphash_2_4(tcp_secret, b, sizeof(b)) +
	       (uint32_t)(ns >> 12);
}

/**
 * tcp_conn_init() - Set up a new connection entry and its socket options
 * @c:		Execution context
 * @idx:	Flow index, just allocated
 * @fd:		Host socket
 * @state:	First state
 *
 * #syscalls setsockopt
 */
static void tcp_conn_init(const struct ctx *c, unsigned idx, int fd,
			  enum tcp_state state)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	const struct flow_key *key = flow_key(idx);
	int zero = 0, one = 1;
	uint32_t isn = tcp_isn(c, key);

	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
	conn->state = state;
	conn->seq_acked = isn;
	conn->seq_to_guest = conn->seq_max = isn + 1;	/* SYN */
	conn->mss = inany_v4(&key->gaddr) ? TCP_MSS4_DEFAULT : TCP_MSS6_DEFAULT;
	conn->ts = c->now;

	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		conn->flags |= CONN_NO_PEEK_OFF;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/**
 * tcp_guest_opts() - Take the guest's MSS and window scale from its SYN
 * @c:		Execution context
 * @idx:	Flow index
 * @opts:	Options of the guest's SYN or SYN-ACK
 */
void tcp_guest_opts(const struct ctx *c, unsigned idx,
		    const struct tcp_opts *opts)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	unsigned mtu_mss = tcp_mtu_mss(c, inany_v4(&flow_key(idx)->gaddr));

	if (opts->mss)
		conn->mss = (uint16_t)opts->mss;
	conn->mss = (uint16_t)MIN(conn->mss, mtu_mss);

	if (opts->ws >= 0) {
		conn->flags |= CONN_WS;
		conn->ws_guest = (uint8_t)opts->ws;
	}
}

/**
 * tcp_established() - Handshake done: start moving data both ways
 * @c:		Execution context
 * @idx:	Flow index
 */
void tcp_established(const struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	conn->state = CS_ESTABLISHED;
	conn->seq_acked = conn->seq_to_guest;
	conn->retries = 0;
	conn->ts = c->now;
	debug("TCP flow %u: established, MSS %u, guest window scale %s%u",
	      idx, conn->mss, (conn->flags & CONN_WS) ? "" : "off/",
	      conn->ws_guest);
}

/* ---------------------------------------------------------------- */
/* Host to guest                                                     */
/* ---------------------------------------------------------------- */

/**
 * tcp_peek() - Peek at data the guest hasn't been sent yet
 * @conn:	Connection
 * @buf:	Buffer
 * @len:	Bytes wanted
 *
 * Without SO_PEEK_OFF (kernels before 6.9 for TCP) we peek from the
 * start of the queue and skip what was sent into a scratch buffer.
 *
 * Return: bytes peeked, 0 at end of file with nothing left, -EAGAIN if
 * nothing new, other -errno on socket errors
 *
 * #syscalls recvmsg
 */
static ssize_t tcp_peek(const struct tcp_conn *conn, uint8_t *buf,
			size_t len)
{
	static uint8_t discard[TCP_DISCARD_LEN];
	struct iovec iov[TCP_DISCARD_IOV + 1];
	struct msghdr mh = { 0 };
	size_t skip = 0, done, n = 0;
	ssize_t rc;

	if (conn->flags & CONN_NO_PEEK_OFF) {
		skip = conn->seq_to_guest - conn->seq_acked;
		if (skip > (size_t)TCP_DISCARD_LEN * TCP_DISCARD_IOV)
			return -EAGAIN;	/* too much in flight to skip */
		for (done = 0; done < skip; done += iov[n++].iov_len)
			iov[n] = (struct iovec){ discard,
				MIN(skip - done, (size_t)TCP_DISCARD_LEN) };
	}
	iov[n++] = (struct iovec){ buf, len };
	mh.msg_iov = iov;
	mh.msg_iovlen = n;

	rc = recvmsg(conn->fd, &mh, MSG_PEEK | MSG_DONTWAIT);
	if (rc < 0 && errno != EWOULDBLOCK)
		return -errno;
	if (rc > 0 && (size_t)rc > skip)
		return rc - (ssize_t)skip;
	if (!rc && !skip)
		return 0;	/* end of file, all of it sent */
	/* Nothing new, or none (a migrated socket): EOF if the peer said so */
	return (conn->flags & CONN_RDHUP) ? 0 : -EAGAIN;
}

/**
 * tcp_peek_rewind() - Make the next peek start at @seq_to_guest again
 * @conn:	Connection
 *
 * #syscalls setsockopt
 */
static void tcp_peek_rewind(const struct tcp_conn *conn)
{
	int off = conn->state != CS_ESTABLISHED ? 0 :	/* SYN: no byte */
		  (int)(conn->seq_to_guest - conn->seq_acked);

	if (!(conn->flags & CONN_NO_PEEK_OFF))
		setsockopt(conn->fd, SOL_SOCKET, SO_PEEK_OFF, &off,
			   sizeof(off));
}

/**
 * tcp_send_data() - Send peeked data to the guest as segments
 * @c:		Execution context
 * @idx:	Flow index
 * @buf:	Data, starting at @seq_to_guest
 * @len:	Length, bytes
 *
 * Return: bytes sent, less than @len if the guest's queue is full
 */
static size_t tcp_send_data(struct ctx *c, unsigned idx, const uint8_t *buf,
			    size_t len)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	const struct flow_key *key = flow_key(idx);
	size_t off = 0;

	while (off < len) {
		size_t n = MIN(len - off, conn->mss);
		struct tcp_hdr h = { 0 };
		unsigned shift = (conn->flags & CONN_WS) ? TCP_WS_OURS : 0;

		h.seq = htonl(conn->seq_to_guest);
		h.ack = htonl(conn->seq_from_guest);
		h.flags = TCP_F_ACK | (off + n == len ? TCP_F_PSH : 0);
		h.wnd = htons((uint16_t)MIN(conn->wnd_to_guest >> shift,
					    65535U));
		if (tcp_send(c, key, &h, NULL, 0, buf + off, n))
			break;

		if (conn->seq_to_guest == conn->seq_acked)
			conn->ts = c->now;	/* flight starts: RTO from now */
		conn->seq_to_guest += (uint32_t)n;
		if (seq_gt(conn->seq_to_guest, conn->seq_max))
			conn->seq_max = conn->seq_to_guest;
		off += n;
	}
	return off;
}

/**
 * tcp_send_fin() - End of file from the host: send our FIN to the guest
 * @c:		Execution context
 * @idx:	Flow index
 *
 * Return: 0 on success, -errno if the guest's queue is full
 */
static int tcp_send_fin(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	int rc;

	rc = tcp_send_ctl(c, idx, TCP_F_FIN | TCP_F_ACK, conn->seq_to_guest);
	if (rc)
		return rc;

	if (!(conn->flags & CONN_FIN_SENT))
		debug("TCP flow %u: host side closed, FIN to guest", idx);
	if (conn->seq_to_guest == conn->seq_acked)
		conn->ts = c->now;
	conn->flags |= CONN_FIN_SENT;
	conn->seq_fin = conn->seq_to_guest++;
	if (seq_gt(conn->seq_to_guest, conn->seq_max))
		conn->seq_max = conn->seq_to_guest;
	return 0;
}

/**
 * tcp_stall() - The guest's receive queue is full: wait for tcp_rx_ready()
 * @conn:	Connection
 */
static void tcp_stall(struct tcp_conn *conn)
{
	conn->flags |= CONN_STALLED;
	tcp_any_stalled = true;
}

/**
 * tcp_data_to_guest() - Send what the socket has, as the guest allows
 * @c:		Execution context
 * @idx:	Flow index, live
 *
 * Return: 0, or -errno if the connection was reset and freed
 */
int tcp_data_to_guest(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	if (conn->state != CS_ESTABLISHED)
		return 0;
	conn->flags &= (uint16_t)~CONN_STALLED;

	for (;;) {
		uint32_t avail = wnd_avail(conn->wnd_from_guest,
					   conn->seq_acked, conn->seq_to_guest);
		size_t want = MIN(avail, TCP_PEEK_MAX), sent;
		ssize_t n;

		if ((conn->flags & CONN_FIN_SENT) &&
		    seq_gt(conn->seq_to_guest, conn->seq_fin))
			return 0;	/* all sent, FIN included */
		if (!want)
			return 0;	/* window full: ACKs will resume us */

		n = tcp_peek(conn, tcp_buf, want);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			debug("TCP flow %u: socket error: %s", idx,
			      strerror((int)-n));
			tcp_conn_reset(c, idx);
			return (int)n;
		}
		if (n == 0) {
			if (tcp_send_fin(c, idx))
				tcp_stall(conn);
			return 0;
		}

		sent = tcp_send_data(c, idx, tcp_buf, (size_t)n);
		if (sent < (size_t)n) {
			tcp_peek_rewind(conn);
			tcp_stall(conn);
			return 0;
		}
		trace("TCP flow %u: %zd bytes to guest", idx, n);
	}
}

/**
 * tcp_handshake_send() - Send our SYN, or SYN-ACK, again
 * @c:		Execution context
 * @idx:	Flow index, live
 */
static void tcp_handshake_send(struct ctx *c, unsigned idx)
{
	const struct tcp_conn *conn = &tcp_conns[idx];

	if (conn->state == CS_SYN_SENT)
		tcp_send_ctl(c, idx, TCP_F_SYN, conn->seq_acked);
	else if (conn->state == CS_SYN_RCVD)
		tcp_send_ctl(c, idx, TCP_F_SYN | TCP_F_ACK, conn->seq_acked);
}

/**
 * tcp_retransmit() - Guest ACK timed out: resend from the oldest byte
 * @c:		Execution context
 * @idx:	Flow index
 *
 * Return: 0, or -errno if the connection was reset and freed
 */
static int tcp_retransmit(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	if (conn->retries >= TCP_MAX_RETRIES) {
		debug("TCP flow %u: no ACK from guest, giving up", idx);
		stats.gave_up++;
		tcp_conn_reset(c, idx);
		return -ETIMEDOUT;
	}
	conn->retries++;
	conn->ts = c->now;
	stats.retrans++;
	trace("TCP flow %u: retransmission %u", idx, conn->retries);

	switch (conn->state) {
	case CS_SYN_SENT:
	case CS_SYN_RCVD:
		tcp_handshake_send(c, idx);
		return 0;
	case CS_ESTABLISHED:
		conn->seq_to_guest = conn->seq_acked;
		tcp_peek_rewind(conn);
		return tcp_data_to_guest(c, idx);
	default:
		return 0;
	}
}

/**
 * tcp_discard() - Drop bytes the guest acknowledged from the socket
 * @conn:	Connection
 * @len:	Bytes
 *
 * With MSG_TRUNC the kernel copies nothing: the buffer is given only so
 * that checkers (valgrind) see a valid one.
 *
 * Return: 0 on success, -errno if the kernel had fewer bytes
 *
 * #syscalls recvfrom
 */
int tcp_discard(const struct tcp_conn *conn, uint32_t len)
{
	while (len) {
		size_t n = MIN((size_t)len, sizeof(tcp_buf));
		ssize_t rc = recv(conn->fd, tcp_buf, n,
				  MSG_TRUNC | MSG_DONTWAIT);

		if (rc <= 0)
			return rc < 0 ? -errno : -EIO;
		len -= (uint32_t)MIN((size_t)rc, n);
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Opening connections                                               */
/* ---------------------------------------------------------------- */

/**
 * tcp_sockaddr_inany() - Address and port of a socket address
 * @sa:		Socket address, AF_INET or AF_INET6
 * @a:		Address, set (IPv4-mapped for IPv4)
 * @port:	Port, host order, set
 */
static void tcp_sockaddr_inany(const struct sockaddr_storage *sa,
			       union inany_addr *a, uint16_t *port)
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inany_from_v4(a, s4->sin_addr);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a->a6 = s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
	}
}

/**
 * tcp_connect_done() - Our connect() for a guest's SYN completed
 * @c:		Execution context
 * @idx:	Flow index, in CS_CONNECTING
 *
 * On success SYN-ACK to the guest, on failure (refused on the host,
 * unreachable) RST.
 *
 * #syscalls getsockopt
 */
static void tcp_connect_done(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err) {
		debug("TCP flow %u: connect failed: %s", idx,
		      strerror(err ? err : errno));
		tcp_conn_reset(c, idx);
		return;
	}

	conn->state = CS_SYN_RCVD;
	conn->ts = c->now;
	if (ev_mod(c->epollfd, conn->fd, tcp_conn_events(conn), EV_TCP, idx))
		debug("TCP flow %u: epoll_ctl failed", idx);
	tcp_send_ctl(c, idx, TCP_F_SYN | TCP_F_ACK, conn->seq_acked);
}

/**
 * tcp_sock_connect() - Open a host socket and start connecting it
 * @sa:		Destination
 * @sl:		Its length
 *
 * Non-blocking: EPOLLOUT says when it completed (tcp_connect_done()).
 *
 * Return: socket, -errno if refused at once
 *
 * #syscalls socket setsockopt connect close
 */
int tcp_sock_connect(const struct sockaddr_storage *sa, socklen_t sl)
{
	int fd, rc, one = 1;

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* Its TIME_WAIT remnant can't keep a guard off a later connection */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sl) &&
	    errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/**
 * tcp_conn_outbound() - A guest's SYN for no flow: connect on the host
 * @c:		Execution context
 * @key:	Flow key from the segment
 * @seg:	SYN segment
 *
 * Return: 0 on success (the answer comes later), -errno if refused at once
 * (the guest got a RST)
 *
 * #syscalls close
 */
int tcp_conn_outbound(struct ctx *c, const struct flow_key *key,
		      const struct tcp_seg *seg)
{
	struct sockaddr_storage sa;
	union inany_addr dst;
	int idx, fd, rc;
	socklen_t sl;

	idx = flow_alloc(FLOW_TCP, key);
	if (idx < 0) {
		if (idx == -ENOSPC)
			stats.syn_full++;
		tcp_rst_reply(c, key, seg);
		return idx;
	}

	fwd_nat_outbound(c, &key->faddr, key->fport, &dst);
	sl = inany_sockaddr(&sa, &dst, key->fport);
	fd = tcp_sock_connect(&sa, sl);
	if (fd < 0) {
		rc = fd;
		goto err_free;
	}

	tcp_conn_init(c, (unsigned)idx, fd, CS_CONNECTING);
	tcp_conns[idx].seq_from_guest = seg->seq + 1;
	tcp_conns[idx].wnd_from_guest = seg->wnd;
	tcp_guest_opts(c, (unsigned)idx, &seg->opts);

	rc = ev_add(c->epollfd, fd, tcp_conn_events(&tcp_conns[idx]), EV_TCP,
		    (uint32_t)idx);
	if (rc)
		goto err_close;
	debug("TCP flow %d: guest connects to port %u", idx, key->fport);
	return 0;

err_close:
	close(fd);
	memset(&tcp_conns[idx], 0, sizeof(tcp_conns[idx]));
	tcp_conns[idx].fd = -1;
err_free:
	flow_free((unsigned)idx);
	stats.syn_err++;
	debug("TCP: guest connection to port %u refused: %s", key->fport,
	      strerror(-rc));
	tcp_rst_reply(c, key, seg);
	return rc;
}

/**
 * tcp_conn_inbound() - A host peer connected to a forwarded port
 * @c:		Execution context
 * @fd:		Accepted socket
 * @sa:		Peer address
 * @ref:	FWD_REF() of the listening socket: rule, host port
 *
 * The guest sees a connection from the mapped peer address and port to
 * its own address at the mapped guest port.
 *
 * #syscalls close setsockopt
 */
static void tcp_conn_inbound(struct ctx *c, int fd,
			     const struct sockaddr_storage *sa, uint32_t ref)
{
	struct flow_key key = { .proto = IPPROTO_TCP };
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	union inany_addr peer;
	uint16_t pport;
	bool v4;
	int idx;

	tcp_sockaddr_inany(sa, &peer, &pport);
	v4 = inany_v4(&peer);
	if (v4 ? !c->v4 : !c->v6)
		goto refuse;

	fwd_guest_addr(c, v4 ? AF_INET : AF_INET6, &key.gaddr);
	if (v4 ? !inany_v4(&key.gaddr)->s_addr :
		 IN6_IS_ADDR_UNSPECIFIED(&key.gaddr.a6))
		goto refuse;
	fwd_nat_inbound(c, &peer, &key.faddr);
	key.fport = pport;
	key.gport = fwd_guest_port(&c->tcp, ref);

	idx = flow_alloc(FLOW_TCP, &key);
	if (idx < 0)
		goto refuse;

	tcp_conn_init(c, (unsigned)idx, fd, CS_SYN_SENT);
	if (ev_add(c->epollfd, fd, tcp_conn_events(&tcp_conns[idx]), EV_TCP,
		   (uint32_t)idx)) {
		tcp_conn_close(c, (unsigned)idx, true);
		return;
	}
	debug("TCP flow %d: host connection to port %u, guest port %u", idx,
	      FWD_REF_PORT(ref), key.gport);
	tcp_send_ctl(c, (unsigned)idx, TCP_F_SYN, tcp_conns[idx].seq_acked);
	return;

refuse:
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* ---------------------------------------------------------------- */
/* Entry points                                                      */
/* ---------------------------------------------------------------- */

/**
 * tcp_sock_handler() - Event on a connection's host socket
 * @c:		Execution context
 * @tag:	Event tag: idx is the flow index, fd the socket
 * @events:	EPOLL* events
 *
 * #syscalls getsockopt
 */
void tcp_sock_handler(struct ctx *c, union evtag tag, uint32_t events)
{
	unsigned idx = tag.idx;
	struct tcp_conn *conn = &tcp_conns[idx % FLOW_MAX];

	if (!flow_live(idx, FLOW_TCP) || conn->fd != tag.fd ||
	    (conn->flags & CONN_FROZEN))
		return;		/* stale: freed in this batch; or frozen */

	if (conn->state == CS_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			tcp_connect_done(c, idx);
		return;
	}

	if (events & EPOLLERR) {
		socklen_t sl = sizeof(int);
		int err = 0;

		getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			debug("TCP flow %u: host socket error: %s", idx,
			      strerror(err));
			tcp_conn_reset(c, idx);
			return;
		}
	}

	if (events & (EPOLLRDHUP | EPOLLHUP))
		conn->flags |= CONN_RDHUP;

	if ((events & EPOLLOUT) && (conn->flags & CONN_WANT_OUT)) {
		tcp_want_out(c, idx, false);
		if (conn->state == CS_ESTABLISHED &&
		    !(conn->flags & CONN_GUEST_FIN))
			tcp_send_ack(c, idx);	/* window update */
	}

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		tcp_data_to_guest(c, idx);
}

/**
 * tcp_listen_handler() - New connections on a forwarded host port
 * @c:		Execution context
 * @tag:	Event tag: idx is FWD_REF(rule, port), fd the listening socket
 * @events:	EPOLL* events
 *
 * Return: true if a whole batch was accepted: more may wait
 *
 * #syscalls accept4
 */
bool tcp_listen_handler(struct ctx *c, union evtag tag, uint32_t events)
{
	int i;

	(void)events;
	for (i = 0; i < TCP_ACCEPT_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd;

		fd = accept4(tag.fd, (struct sockaddr *)&sa, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				warn_ratelimit("TCP: accept: %s",
					       strerror(errno));
			return false;
		}
		tcp_conn_inbound(c, fd, &sa, tag.idx);
	}
	return true;
}

/**
 * tcp_conn_timer() - Timeouts of one connection
 * @c:		Execution context
 * @idx:	Flow index, live
 */
static void tcp_conn_timer(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	long long since = timespec_diff_ms(&c->now, &conn->ts);

	if (conn->state == CS_CONNECTING || (conn->flags & CONN_FROZEN))
		return;		/* connect() times out; frozen: hands off */

	if (conn->seq_to_guest != conn->seq_acked) {
		if (since >= (long long)TCP_RTO_MS << conn->retries)
			tcp_retransmit(c, idx);
		return;
	}

	if (conn->flags & CONN_STALLED) {
		tcp_data_to_guest(c, idx);
	} else if (conn->state == CS_ESTABLISHED && !conn->wnd_from_guest &&
		   since >= TCP_RTO_MS) {
		/* Zero window: an old sequence number makes the guest ACK */
		conn->ts = c->now;
		tcp_send_ctl(c, idx, TCP_F_ACK, conn->seq_to_guest - 1);
	}
}

/**
 * tcp_timer() - Periodic work: retransmissions, stalled senders
 * @c:		Execution context, c->now current
 */
void tcp_timer(struct ctx *c)
{
	int idx;

	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx))
		tcp_conn_timer(c, (unsigned)idx);
}

/**
 * tcp_rx_ready() - The guest posted receive buffers: resume stalled senders
 * @c:		Execution context
 */
void tcp_rx_ready(struct ctx *c)
{
	int idx;

	if (!tcp_any_stalled)
		return;
	tcp_any_stalled = false;
	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx)) {
		if (!(tcp_conns[idx].flags & CONN_STALLED) ||
		    (tcp_conns[idx].flags & CONN_FROZEN))
			continue;
		tcp_data_to_guest(c, (unsigned)idx);
		if (flow_live((unsigned)idx, FLOW_TCP) &&
		    (tcp_conns[idx].flags & CONN_STALLED)) {
			tcp_any_stalled = true;	/* others still wait too */
			return;		/* full again: wait for more */
		}
	}
}

/* ---------------------------------------------------------------- */
/* For tcp_migrate.c                                                 */
/* ---------------------------------------------------------------- */

/**
 * tcp_conn_at() - A connection entry, by flow index
 * @idx:	Flow index, below FLOW_MAX
 *
 * Return: the entry
 */
struct tcp_conn *tcp_conn_at(unsigned idx)
{
	ASSERT(idx < FLOW_MAX);
	return &tcp_conns[idx];
}

/**
 * tcp_conn_drop() - Forget a connection without a word to either side
 * @c:		Execution context
 * @idx:	Flow index, live; its socket in repair mode, so closing it
 *		sends nothing
 */
void tcp_conn_drop(const struct ctx *c, unsigned idx)
{
	tcp_conn_close(c, idx, false);
}

/**
 * tcp_conn_adopt() - Serve a connection restored into its entry
 * @c:		Execution context
 * @idx:	Flow index, live, with fd and sequence state set
 *
 * A handshake sends its SYN or SYN-ACK again: the answer may be lost.
 *
 * Return: 0, -errno if the socket can't be watched
 *
 * #syscalls setsockopt
 */
int tcp_conn_adopt(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];
	int one = 1, rc;

	conn->ts = c->now;
	conn->retries = 0;
	setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn->flags & CONN_STALLED)
		tcp_any_stalled = true;
	tcp_peek_rewind(conn);
	rc = ev_add(c->epollfd, conn->fd, tcp_conn_events(conn), EV_TCP, idx);
	if (!rc)
		tcp_handshake_send(c, idx);
	return rc;
}

/**
 * tcp_conn_thaw() - A migration failed: carry on with a frozen connection
 * @c:		Execution context
 * @idx:	Flow index, live, its socket out of repair mode again
 */
void tcp_conn_thaw(struct ctx *c, unsigned idx)
{
	struct tcp_conn *conn = &tcp_conns[idx];

	conn->flags &= (uint16_t)~CONN_FROZEN;
	tcp_peek_rewind(conn);
	conn->ts = c->now;
	tcp_handshake_send(c, idx);
	tcp_data_to_guest(c, idx);
}

/* ---------------------------------------------------------------- */
/* Start-up                                                          */
/* ---------------------------------------------------------------- */

/**
 * tcp_init() - Set up TCP: table, secret for sequence numbers, listeners
 * @c:		Execution context, epoll instance made
 *
 * Return: 0 on success, -errno from tcp_listen_init()
 *
 * #syscalls getrandom
 */
int tcp_init(struct ctx *c)
{
	size_t i;

	for (i = 0; i < FLOW_MAX; i++) {
		memset(&tcp_conns[i], 0, sizeof(tcp_conns[i]));
		tcp_conns[i].fd = -1;
	}
	memset(&stats, 0, sizeof(stats));
	if (getrandom(tcp_secret, sizeof(tcp_secret), 0) !=
	    (ssize_t)sizeof(tcp_secret))
		die_perror("TCP: getrandom");

	return tcp_listen_init(c);
}
