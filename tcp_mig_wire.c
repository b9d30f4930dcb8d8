// SPDX-License-Identifier: GPL-2.0-or-later
/* tcp_mig_wire.c - The compact TCP record of MIG_SEC_TCP2, and its
 *		    address table
 *
 * DOC: Theory of operation
 *
 * MIG_SEC_TCP carried each connection as a struct mig_tcp_conn of 160
 * bytes, 64 of them four addresses.  Connections share few addresses:
 * the guest has one or two, the host socket's local address is one of
 * the host's, and peers repeat.  MIG_SEC_TCP2 carries each address once,
 * in a table at the end of the section, and each record names its four
 * by their index in the table: a struct mig_tcp_rec is 108 bytes, and a
 * connection costs that plus its queues, plus 16 bytes for each address
 * nobody else uses.
 *
 *   MIG_SEC_TCP2 payload, big-endian:
 *     4       number of connections, N
 *     N x     struct mig_tcp_rec, then its send and receive queues
 *     4       number of addresses in the table, A
 *     A x 16  addresses (IPv4-mapped for IPv4)
 *
 * The table comes last because it is complete only once every connection
 * is dumped, and each record is written with its queues, straight into
 * the stream buffer: moving megabytes of queues to make room for a table
 * in front would cost a copy more.
 *
 * Both ends keep using struct mig_tcp_conn: tcp_mig_rec_put() encodes
 * one into a compact record, tcp_mig_rec_get() decodes one back, checking
 * the indices.  Everything else about a record (its fields, its checks)
 * is the same in both sections.
 */

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "tcp_mig_wire.h"
#include "util.h"

#define TCP_MIG_ADDR_SLOTS	(TCP_MIG_ADDR_MAX * 2)	/* power of two */

static_assert(!(TCP_MIG_ADDR_SLOTS & (TCP_MIG_ADDR_SLOTS - 1)),
	      "power of two");

/**
 * struct tcp_mig_addrs - The address table being built by a save
 * @addr:	Addresses, in order of first use
 * @slot:	Open-addressing hash of @addr: index + 1, 0 for empty
 * @n:		Addresses in @addr
 */
static struct {
	uint8_t addr[TCP_MIG_ADDR_MAX][16];
	uint32_t slot[TCP_MIG_ADDR_SLOTS];
	uint32_t n;
} tbl;

/**
 * tcp_mig_addrs_reset() - Start a new, empty address table
 */
void tcp_mig_addrs_reset(void)
{
	if (tbl.n)
		memset(tbl.slot, 0, sizeof(tbl.slot));
	tbl.n = 0;
}

/**
 * tcp_mig_addr_hash() - Hash of an address, for the table's slots
 * @a:		Address, 16 bytes
 *
 * Return: slot to start probing at
 */
static uint32_t tcp_mig_addr_hash(const uint8_t *a)
{
	uint32_t h = 2166136261U;	/* FNV-1a: local, no hostile input */
	unsigned i;

	for (i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619U;
	return h & (TCP_MIG_ADDR_SLOTS - 1);
}

/**
 * tcp_mig_addr_index() - Index of an address in the table, added if new
 * @a:		Address, 16 bytes
 *
 * Return: index, -ENOSPC if the table is full (it holds four addresses
 *	   for each flow there can be: it never is)
 */
static long tcp_mig_addr_index(const uint8_t *a)
{
	uint32_t s = tcp_mig_addr_hash(a);

	for (;; s = (s + 1) & (TCP_MIG_ADDR_SLOTS - 1)) {
		uint32_t i = tbl.slot[s];

		if (!i)
			break;
		if (!memcmp(tbl.addr[i - 1], a, 16))
			return i - 1;
	}
	if (tbl.n >= TCP_MIG_ADDR_MAX)
		return -ENOSPC;
	memcpy(tbl.addr[tbl.n], a, 16);
	tbl.slot[s] = ++tbl.n;
	return tbl.n - 1;
}

/**
 * tcp_mig_rec_put() - Encode a record, adding its addresses to the table
 * @r:		Record, as MIG_SEC_TCP would carry it
 * @w:		Compact record, set
 *
 * Return: 0, -ENOSPC if the address table is full
 */
int tcp_mig_rec_put(const struct mig_tcp_conn *r, struct mig_tcp_rec *w)
{
	long g = tcp_mig_addr_index(r->gaddr);
	long f = tcp_mig_addr_index(r->faddr);
	long l = tcp_mig_addr_index(r->laddr);
	long p = tcp_mig_addr_index(r->raddr);

	if (g < 0 || f < 0 || l < 0 || p < 0)
		return -ENOSPC;
	w->gaddr = htonl((uint32_t)g);
	w->faddr = htonl((uint32_t)f);
	w->laddr = htonl((uint32_t)l);
	w->raddr = htonl((uint32_t)p);
	w->gport = r->gport;
	w->fport = r->fport;
	w->lport = r->lport;
	w->rport = r->rport;
	w->state = r->state;
	w->ws_guest = r->ws_guest;
	w->flags = r->flags;
	w->mss = r->mss;
	w->mss_host = htons((uint16_t)MIN(ntohl(r->mss_host), 0xffffU));
	w->snd_wscale = r->snd_wscale;
	w->rcv_wscale = r->rcv_wscale;
	w->opts = r->opts;
	w->fin = r->fin;
	w->seq_to_guest = r->seq_to_guest;
	w->seq_acked = r->seq_acked;
	w->seq_max = r->seq_max;
	w->seq_fin = r->seq_fin;
	w->seq_from_guest = r->seq_from_guest;
	w->wnd_from_guest = r->wnd_from_guest;
	w->wnd_to_guest = r->wnd_to_guest;
	w->snd_una = r->snd_una;
	w->rcv_seq = r->rcv_seq;
	w->sndq_len = r->sndq_len;
	w->sndq_unsent = r->sndq_unsent;
	w->rcvq_len = r->rcvq_len;
	w->timestamp = r->timestamp;
	w->snd_wl1 = r->snd_wl1;
	w->snd_wnd = r->snd_wnd;
	w->max_window = r->max_window;
	w->rcv_wnd = r->rcv_wnd;
	w->rcv_wup = r->rcv_wup;
	return 0;
}

/**
 * tcp_mig_addrs_put() - Append the address table: count, then addresses
 * @b:		Buffer
 *
 * Return: 0, -ENOMEM
 */
int tcp_mig_addrs_put(struct mig_buf *b)
{
	__be32 n = htonl(tbl.n);
	int rc;

	if ((rc = mig_buf_put(b, &n, sizeof(n))))
		return rc;
	return mig_buf_put(b, tbl.addr, (size_t)tbl.n * 16);
}

/**
 * tcp_mig_addr_get() - Copy one address from a table, checking the index
 * @t:		Address table of the stream
 * @idx:	Index, big-endian
 * @a:		Address, 16 bytes, set
 *
 * Return: 0, -EINVAL for an index past the table
 */
static int tcp_mig_addr_get(const struct tcp_mig_table *t, __be32 idx,
			    uint8_t *a)
{
	uint32_t i = ntohl(idx);

	if (i >= t->n)
		return -EINVAL;
	memcpy(a, t->p + (size_t)i * 16, 16);
	return 0;
}

/**
 * tcp_mig_rec_get() - Decode a compact record
 * @w:		Compact record, from the stream (any alignment)
 * @t:		The section's address table
 * @r:		Record, set
 *
 * Return: 0, -EINVAL if an address index is past the table
 */
int tcp_mig_rec_get(const uint8_t *w, const struct tcp_mig_table *t,
		    struct mig_tcp_conn *r)
{
	struct mig_tcp_rec x;
	int rc;

	memcpy(&x, w, sizeof(x));
	memset(r, 0, sizeof(*r));
	if ((rc = tcp_mig_addr_get(t, x.gaddr, r->gaddr)) ||
	    (rc = tcp_mig_addr_get(t, x.faddr, r->faddr)) ||
	    (rc = tcp_mig_addr_get(t, x.laddr, r->laddr)) ||
	    (rc = tcp_mig_addr_get(t, x.raddr, r->raddr)))
		return rc;

	r->gport = x.gport;
	r->fport = x.fport;
	r->lport = x.lport;
	r->rport = x.rport;
	r->state = x.state;
	r->ws_guest = x.ws_guest;
	r->flags = x.flags;
	r->mss = x.mss;
	r->mss_host = htonl(ntohs(x.mss_host));
	r->snd_wscale = x.snd_wscale;
	r->rcv_wscale = x.rcv_wscale;
	r->opts = x.opts;
	r->fin = x.fin;
	r->seq_to_guest = x.seq_to_guest;
	r->seq_acked = x.seq_acked;
	r->seq_max = x.seq_max;
	r->seq_fin = x.seq_fin;
	r->seq_from_guest = x.seq_from_guest;
	r->wnd_from_guest = x.wnd_from_guest;
	r->wnd_to_guest = x.wnd_to_guest;
	r->snd_una = x.snd_una;
	r->rcv_seq = x.rcv_seq;
	r->sndq_len = x.sndq_len;
	r->sndq_unsent = x.sndq_unsent;
	r->rcvq_len = x.rcvq_len;
	r->timestamp = x.timestamp;
	r->snd_wl1 = x.snd_wl1;
	r->snd_wnd = x.snd_wnd;
	r->max_window = x.max_window;
	r->rcv_wnd = x.rcv_wnd;
	r->rcv_wup = x.rcv_wup;
	return 0;
}

/**
 * tcp_mig_table_find() - Find the address table of a MIG_SEC_TCP2 payload
 * @p:		Payload
 * @len:	Its length
 * @t:		Table, set
 * @recs_len:	Bytes before the table: count, records and queues, set
 *
 * Walks the records by their queue lengths, which are checked against
 * the payload only as far as needed to find the end: the records' own
 * checks come after, with the table.
 *
 * Return: number of connections, -EINVAL if the payload doesn't hold
 *	   them and a table, exactly
 */
long tcp_mig_table_find(const uint8_t *p, size_t len,
			struct tcp_mig_table *t, size_t *recs_len)
{
	size_t off = sizeof(__be32);
	uint32_t n, i, na;
	__be32 be;

	if (len < sizeof(be))
		return -EINVAL;
	memcpy(&be, p, sizeof(be));
	n = ntohl(be);
	if (n > TCP_MIG_CONN_MAX)
		return -EINVAL;

	for (i = 0; i < n; i++) {
		struct mig_tcp_rec x;
		uint64_t q;

		if (len - off < sizeof(x))
			return -EINVAL;
		memcpy(&x, p + off, sizeof(x));
		q = (uint64_t)ntohl(x.sndq_len) + ntohl(x.rcvq_len);
		if (q > len - off - sizeof(x))
			return -EINVAL;
		off += sizeof(x) + (size_t)q;
	}

	if (len - off < sizeof(be))
		return -EINVAL;
	memcpy(&be, p + off, sizeof(be));
	na = ntohl(be);
	if (na > TCP_MIG_ADDR_MAX || (uint64_t)na * 16 != len - off - sizeof(be))
		return -EINVAL;
	t->p = p + off + sizeof(be);
	t->n = na;
	*recs_len = off;
	return (long)n;
}
