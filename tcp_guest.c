// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_guest.c - Segments from the guest: parse, check, act
 *
 * DOC: Theory of operation
 *
 * tcp_tap_handler() gets every TCP segment tap.c took from the guest.  It
 * parses the header and options into a struct tcp_seg, finds the flow by
 * its 5-tuple, and hands the segment to the connection's state: a SYN for
 * no flow opens one (tcp_conn_outbound() in tcp.c), a SYN-ACK completes
 * one we offered, an ACK moves the guest's window and drops acknowledged
 * bytes from the socket (recv(MSG_TRUNC), tcp_discard()), data is written
 * to the socket at once and acknowledged for what the socket took (once
 * per connection for a batch of segments, tcp_guest_batch()), a FIN
 * becomes shutdown(SHUT_WR) once all data is written, a RST closes the
 * socket with SO_LINGER 0.  What the guest makes us send goes through
 * tcp.c (the second part of tcp.h): calls run from this file into tcp.c,
 * never back.
 *
 * Bad input: segments with a short header, or a data offset below 5 or
 * past the segment, are dropped and counted.  Options are parsed with
 * bounds; malformed ones are ignored.  A segment for no flow gets RST
 * (unless it is one), a SYN that finds the table full gets RST.  Data
 * outside the window, or an ACK for data never sent, is dropped with a
 * duplicate ACK.  A RST is accepted only inside the window.  Nothing is
 * logged per segment above trace().
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tcp_guest.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "tcp_conn.h"
#include "flow.h"

#define TCP_CLAMP_MIN_LOG	18	/* 256 KiB: the least window we clamp to */
#define TCP_CLAMP_MAX_LOG	30

/* ---------------------------------------------------------------- */
/* Guest to host                                                     */
/* ---------------------------------------------------------------- */

/**
 * tcp_guest_clamp() - Keep the peer's window near what the guest takes
 * @conn:	Connection, with a socket
 *
 * Data the guest hasn't acknowledged stays in the socket's receive queue,
 * and the kernel lets that queue grow to its autotuned buffer, tens of
 * megabytes, when the peer is faster than the guest: all of it would
 * have to move with a migration, in the downtime.  The window we offer
 * the peer is clamped to twice the guest's window (at least
 * 1 << TCP_CLAMP_MIN_LOG), a power of two, which bounds the queue to what
 * the guest takes soon.  A system call only when the power of two goes
 * up, or down by four times.
 *
 * #syscalls setsockopt
 */
static void tcp_guest_clamp(struct tcp_conn *conn)
{
	uint32_t want = MAX(conn->wnd_from_guest, 1U << (TCP_CLAMP_MIN_LOG - 1));
	unsigned lg = 32 - (unsigned)__builtin_clz(want * 2 - 1);
	int v;

	lg = MIN(lg, TCP_CLAMP_MAX_LOG);
	if (conn->clamp_log && lg <= conn->clamp_log &&
	    lg + 2 > conn->clamp_log)
		return;
	v = 1 << lg;
	if (!setsockopt(conn->fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof(v)))
		conn->clamp_log = (uint8_t)lg;
}

/**
 * tcp_guest_ack() - Process the ACK field and window of a guest segment
 * @c:		Execution context
 * @idx:	Flow index, established
 * @seg:	Segment, with ACK set
 *
 * Return: 0 on success, -EINVAL if it acknowledges what we never sent,
 * other -errno if the socket failed
 */
static int tcp_guest_ack(const struct ctx *c, unsigned idx,
			 const struct tcp_seg *seg)
{
	struct tcp_conn *conn = tcp_conn_at(idx);
	uint32_t data_end = conn->seq_max, acked;

	if (seq_gt(seg->ack, conn->seq_max)) {
		tcp_stats_rw()->bad_ack++;
		return -EINVAL;
	}
	conn->wnd_from_guest = (uint32_t)seg->wnd << conn->ws_guest;
	tcp_guest_clamp(conn);
	if (seq_le(seg->ack, conn->seq_acked))
		return 0;

	if ((conn->flags & CONN_FIN_SENT) && seq_gt(seg->ack, conn->seq_fin)) {
		conn->flags |= CONN_FIN_ACKED;
		data_end = conn->seq_fin;
	} else {
		data_end = seg->ack;
	}
	acked = data_end - conn->seq_acked;
	if (acked && tcp_discard(conn, acked))
		return -EIO;

	conn->seq_acked = seg->ack;
	if (seq_lt(conn->seq_to_guest, seg->ack))
		conn->seq_to_guest = seg->ack;	/* acked past a rewind */
	conn->retries = 0;
	conn->ts = c->now;
	return 0;
}

/**
 * tcp_write() - Write guest data to the socket
 * @c:		Execution context
 * @idx:	Flow index
 * @data:	Data
 * @len:	Length, bytes
 *
 * Return: bytes written (maybe fewer, and then we wait for EPOLLOUT),
 * -errno if the socket failed
 *
 * #syscalls sendto
 */
static ssize_t tcp_write(const struct ctx *c, unsigned idx,
			 const uint8_t *data, size_t len)
{
	ssize_t rc;

	if (!len)
		return 0;
	rc = send(tcp_conn_at(idx)->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	if (rc < 0)
		rc = 0;
	if ((size_t)rc < len)
		tcp_want_out(c, idx, true);
	return rc;
}

/**
 * tcp_guest_data() - Take the payload and FIN of a guest segment
 * @c:		Execution context
 * @idx:	Flow index, established
 * @seg:	Segment
 * @ack:	Set if the guest is to get an ACK
 *
 * Return: 0 on success, -errno if the socket failed
 *
 * #syscalls shutdown
 */
static int tcp_guest_data(struct ctx *c, unsigned idx,
			  const struct tcp_seg *seg, bool *ack)
{
	struct tcp_conn *conn = tcp_conn_at(idx);
	bool fin = seg->flags & TCP_F_FIN;
	int32_t off = seq_diff(conn->seq_from_guest, seg->seq);
	ssize_t w;

	if (!seg->len && !fin)
		return 0;		/* pure ACK: nothing to acknowledge */

	if (off < 0 || (conn->flags & CONN_GUEST_FIN) ||
	    (size_t)off > seg->len || ((size_t)off == seg->len && !fin)) {
		/* A gap (we dropped something), or all old: say where we are */
		if (off < 0)
			tcp_stats_rw()->out_of_wnd++;
		*ack = true;
		return 0;
	}

	w = tcp_write(c, idx, seg->data + off, seg->len - (size_t)off);
	if (w < 0)
		return (int)w;
	conn->seq_from_guest += (uint32_t)w;

	if (fin && (size_t)w == seg->len - (size_t)off) {
		conn->seq_from_guest++;
		conn->flags |= CONN_GUEST_FIN;
		tcp_want_out(c, idx, false);
		shutdown(conn->fd, SHUT_WR);
		debug("TCP flow %u: guest closed, shut down host socket", idx);
	}
	*ack = true;
	return 0;
}

/**
 * struct tcp_guest_due - Flows a batch of guest segments owes an answer
 * @on:		A batch is open (tcp_guest_batch())
 * @what:	TCP_DUE_ACK and TCP_DUE_DATA bits, by flow index
 * @idx:	Flows with bits set, in the order they came
 * @n:		How many
 *
 * Each data segment from the guest wants an ACK with our window, which
 * takes two system calls, and each segment may have opened the guest's
 * window for data from the host, which takes a recvmsg(): for a batch of
 * segments, once per flow at its end does the same.
 */
static struct {
	bool on;
	uint8_t what[FLOW_MAX];
	unsigned idx[FLOW_MAX];
	unsigned n;
} due;

#define TCP_DUE_ACK	1
#define TCP_DUE_DATA	2

/**
 * tcp_guest_answer() - Acknowledge the guest, send it data: now or at the
 *			end of the batch
 * @c:		Execution context
 * @idx:	Flow index, live
 * @ack:	The guest is to get an ACK
 *
 * Return: 0, -errno from tcp_data_to_guest() if done now
 */
static int tcp_guest_answer(struct ctx *c, unsigned idx, bool ack)
{
	if (!due.on) {
		if (ack)
			tcp_send_ack(c, idx);
		return tcp_data_to_guest(c, idx);
	}
	if (!due.what[idx])
		due.idx[due.n++] = idx;
	due.what[idx] |= TCP_DUE_DATA | (ack ? TCP_DUE_ACK : 0);
	return 0;
}

/**
 * tcp_guest_batch() - Open a batch of guest segments, or close it and
 *		       answer each flow once
 * @c:		Execution context
 * @open:	Open, else close
 *
 * A flow closed in the batch gets nothing: slots are reused only after
 * the batch (flow_defer_handler()), so a stale entry is never another
 * flow.
 */
void tcp_guest_batch(struct ctx *c, bool open)
{
	unsigned i;

	due.on = open;
	if (open)
		return;
	for (i = 0; i < due.n; i++) {
		unsigned idx = due.idx[i];
		uint8_t what = due.what[idx];

		due.what[idx] = 0;
		if (!flow_live(idx, FLOW_TCP) ||
		    (tcp_conn_at(idx)->flags & CONN_FROZEN))
			continue;
		if (what & TCP_DUE_ACK)
			tcp_send_ack(c, idx);
		tcp_data_to_guest(c, idx);
	}
	due.n = 0;
}

/**
 * tcp_guest_rst() - RST from the guest: reset the host side if acceptable
 * @c:		Execution context
 * @idx:	Flow index
 * @seg:	Segment with RST
 *
 * Return: 0
 */
static int tcp_guest_rst(struct ctx *c, unsigned idx,
			 const struct tcp_seg *seg)
{
	struct tcp_conn *conn = tcp_conn_at(idx);
	bool ok;

	if (conn->state == CS_SYN_SENT)
		ok = (seg->flags & TCP_F_ACK) && seg->ack == conn->seq_to_guest;
	else if (conn->state == CS_CONNECTING)
		ok = seg->seq == conn->seq_from_guest;
	else
		ok = seq_in(seg->seq, conn->seq_from_guest,
			    MAX(conn->wnd_to_guest, 1U));
	if (!ok)
		return 0;

	debug("TCP flow %u: reset by guest", idx);
	tcp_conn_close(c, idx, true);
	return 0;
}

/**
 * tcp_guest_synack() - Guest answered the SYN of an inbound connection
 * @c:		Execution context
 * @idx:	Flow index, in CS_SYN_SENT
 * @seg:	Segment, not a RST
 *
 * Return: 0
 */
static int tcp_guest_synack(struct ctx *c, unsigned idx,
			    const struct tcp_seg *seg)
{
	struct tcp_conn *conn = tcp_conn_at(idx);

	if ((seg->flags & (TCP_F_SYN | TCP_F_ACK)) != (TCP_F_SYN | TCP_F_ACK) ||
	    seg->ack != conn->seq_to_guest)
		return 0;	/* not the answer: our retransmission will do */

	conn->seq_from_guest = seg->seq + 1;
	tcp_guest_opts(c, idx, &seg->opts);
	if (!(conn->flags & CONN_WS))
		conn->ws_guest = 0;
	conn->wnd_from_guest = seg->wnd;	/* never scaled in a SYN */
	tcp_established(c, idx);
	tcp_send_ack(c, idx);
	return tcp_data_to_guest(c, idx);
}

/**
 * tcp_conn_segment() - A guest segment for an existing connection
 * @c:		Execution context
 * @idx:	Flow index, live
 * @seg:	Segment
 *
 * Return: 0 if handled, -errno if dropped
 */
static int tcp_conn_segment(struct ctx *c, unsigned idx,
			    const struct tcp_seg *seg)
{
	struct tcp_conn *conn = tcp_conn_at(idx);
	bool ack = false;
	int rc;

	if (seg->flags & TCP_F_RST)
		return tcp_guest_rst(c, idx, seg);

	switch (conn->state) {
	case CS_CONNECTING:
		return 0;	/* SYN again: SYN-ACK comes with connect() */
	case CS_SYN_SENT:
		return tcp_guest_synack(c, idx, seg);
	case CS_SYN_RCVD:
		if (seg->flags & TCP_F_SYN) {
			if (seg->seq + 1 == conn->seq_from_guest)
				tcp_send_ctl(c, idx, TCP_F_SYN | TCP_F_ACK,
					     conn->seq_acked);
			return 0;
		}
		if (!(seg->flags & TCP_F_ACK) || seg->ack != conn->seq_to_guest)
			return -EINVAL;
		tcp_established(c, idx);
		break;
	default:
		break;
	}

	if (seg->flags & TCP_F_SYN) {
		tcp_send_ack(c, idx);	/* challenge ACK, RFC 5961, 4 */
		return 0;
	}
	if (!(seg->flags & TCP_F_ACK))
		return -EINVAL;

	rc = tcp_guest_ack(c, idx, seg);
	if (rc == -EINVAL) {
		tcp_send_ack(c, idx);
		return rc;
	}
	if (rc || tcp_guest_data(c, idx, seg, &ack)) {
		tcp_conn_reset(c, idx);
		return 0;
	}
	if ((conn->flags & CONN_GUEST_FIN) && (conn->flags & CONN_FIN_ACKED)) {
		if (ack)
			tcp_send_ack(c, idx);	/* for its FIN, before we go */
		tcp_conn_close(c, idx, false);
		return 0;
	}
	return tcp_guest_answer(c, idx, ack);
}

/* ---------------------------------------------------------------- */
/* Entry point                                                       */
/* ---------------------------------------------------------------- */

/**
 * tcp_opts_parse() - Parse the options of a segment, with bounds
 * @opts:	Options, right after the fixed header
 * @len:	Length of @opts, bytes (data offset minus 20)
 * @o:		Options we use, set (absent ones as documented)
 *
 * An option with a known kind and the wrong length is skipped, a window
 * scale above TCP_WS_MAX is taken as TCP_WS_MAX, an MSS below TCP_MSS_MIN
 * as TCP_MSS_MIN.
 *
 * Return: 0 on success, -EINVAL if an option runs past @len or has a
 * length below 2 (what was parsed before it stays in @o)
 */
int tcp_opts_parse(const uint8_t *opts, size_t len, struct tcp_opts *o)
{
	size_t i = 0;

	o->mss = 0;
	o->ws = -1;

	while (i < len) {
		uint8_t kind = opts[i], olen;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len)
			return -EINVAL;
		olen = opts[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;

		if (kind == TCP_OPT_MSS && olen == 4) {
			o->mss = (unsigned)opts[i + 2] << 8 | opts[i + 3];
			o->mss = MAX(o->mss, TCP_MSS_MIN);
		} else if (kind == TCP_OPT_WS && olen == 3) {
			o->ws = MIN(opts[i + 2], TCP_WS_MAX);
		}
		i += olen;
	}
	return 0;
}

/**
 * tcp_seg_parse() - Check a segment's header and parse it
 * @l4:		TCP header and payload
 * @len:	Length of @l4, bytes
 * @key:	Flow key: ports set here, addresses by the caller
 * @seg:	Parsed segment, set on success
 *
 * Return: 0 on success, -EINVAL if the header is short or bad
 */
static int tcp_seg_parse(const uint8_t *l4, size_t len, struct flow_key *key,
			 struct tcp_seg *seg)
{
	struct tcp_hdr h;
	size_t doff;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, l4, sizeof(h));
	doff = (size_t)(h.doff >> 4) * 4;
	if (doff < sizeof(h) || doff > len || !h.sport || !h.dport)
		return -EINVAL;

	key->gport = ntohs(h.sport);
	key->fport = ntohs(h.dport);
	seg->seq = ntohl(h.seq);
	seg->ack = ntohl(h.ack);
	seg->flags = h.flags & (TCP_F_FIN | TCP_F_SYN | TCP_F_RST |
				TCP_F_PSH | TCP_F_ACK | TCP_F_URG);
	seg->wnd = ntohs(h.wnd);
	seg->data = l4 + doff;
	seg->len = len - doff;

	seg->opts.mss = 0;
	seg->opts.ws = -1;
	if ((seg->flags & TCP_F_SYN) &&
	    tcp_opts_parse(l4 + sizeof(h), doff - sizeof(h), &seg->opts))
		tcp_stats_rw()->bad_opts++;
	return 0;
}

/**
 * tcp_addr_unicast() - Is an address one we could connect to?
 * @a:		Address
 *
 * Return: false for unspecified, multicast and IPv4 broadcast addresses
 */
static bool tcp_addr_unicast(const union inany_addr *a)
{
	const struct in_addr *a4 = inany_v4(a);

	if (a4)
		return a4->s_addr != htonl(INADDR_ANY) &&
		       a4->s_addr != htonl(INADDR_BROADCAST) &&
		       !IN_MULTICAST(ntohl(a4->s_addr));
	return !IN6_IS_ADDR_UNSPECIFIED(&a->a6) &&
	       !IN6_IS_ADDR_MULTICAST(&a->a6);
}

/**
 * tcp_tap_handler() - Handle a TCP segment from the guest
 * @c:		Execution context
 * @src:	Source address (the guest's)
 * @dst:	Destination address, same family
 * @l4:		TCP header and payload, checksum already verified
 * @len:	Length of @l4, bytes (from the IP header, padding excluded)
 *
 * Return: 0 if handled, -errno if dropped (the caller may count it)
 */
int tcp_tap_handler(struct ctx *c, const union inany_addr *src,
		    const union inany_addr *dst, const uint8_t *l4,
		    size_t len)
{
	struct flow_key key = { .proto = IPPROTO_TCP };
	struct tcp_seg seg;
	int idx;

	if (tcp_seg_parse(l4, len, &key, &seg) || !tcp_addr_unicast(src) ||
	    !tcp_addr_unicast(dst) || !inany_v4(src) != !inany_v4(dst)) {
		tcp_stats_rw()->bad_hdr++;
		return -EINVAL;
	}
	key.gaddr = *src;
	key.faddr = *dst;

	idx = flow_lookup(&key);
	if (idx >= 0 && flow_live((unsigned)idx, FLOW_TCP)) {
		if (tcp_conn_at((unsigned)idx)->flags & CONN_FROZEN)
			return 0;	/* the guest sends it again */
		return tcp_conn_segment(c, (unsigned)idx, &seg);
	}

	if ((seg.flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) == TCP_F_SYN)
		return tcp_conn_outbound(c, &key, &seg);

	if (!(seg.flags & TCP_F_RST)) {
		tcp_stats_rw()->no_flow++;
		tcp_rst_reply(c, &key, &seg);
	}
	return -ENOENT;
}
