// SPDX-License-Identifier: GPL-2.0-or-later
/* mig_decode.c - A saved device state stream, in words
 *
 * DOC: Theory of operation
 *
 * passt-ctl decode prints a stream that a daemon saved (--state-copy):
 * its header, then each section with its id, name, offset, length and
 * CRC, and what it carries: the guest's addresses, one line per TCP
 * connection, UDP flow and ping flow.
 *
 * It reads the stream as the daemon's own reader does, with the daemon's
 * own code: mig_stream.c walks the frame (magic, versions, lengths, CRCs,
 * end marker), migrate_section() picks the section table entry a reader
 * of our version would use, and that entry's check function validates the
 * payload before a byte of it is printed.  Records are then taken apart
 * with the daemon's decoders (tcp_mig_table_find(), tcp_mig_rec_get(),
 * mig_recs()).  So a stream this prints whole is one the daemon would
 * load, and one it refuses, the daemon refuses too.
 *
 * Bad input: the first problem stops the walk, with what was printed so
 * far kept, and the offset of the first bad byte: the byte itself for
 * the header and for lengths (mig_stream.c), the start of the section
 * for a bad CRC or a payload the section's checks refuse.  Sections we
 * don't know are listed with their length, CRC checked, and skipped, as
 * the daemon skips them.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mig_decode.h"
#include "migrate.h"
#include "mig_rec.h"
#include "tcp_mig_wire.h"
#include "tcp_conn.h"
#include "icmp.h"
#include "inany.h"

/* Checks take a context for the limits they compare with: ours is empty,
 * as a target's is before it loads
 */
static struct ctx dec_ctx;

/**
 * dec_addr() - Format a 16-byte stream address (IPv4-mapped for IPv4)
 * @a:		Address, as in the stream
 * @buf:	Buffer, INET6_ADDRSTRLEN bytes
 *
 * Return: @buf
 */
static const char *dec_addr(const uint8_t *a, char *buf)
{
	union inany_addr x;

	memcpy(&x, a, sizeof(x));
	return inany_ntop(&x, buf, INET6_ADDRSTRLEN);
}

/**
 * dec_guest() - Print a checked MIG_SEC_GUEST payload
 * @p:		Payload
 * @out:	Where to
 */
static void dec_guest(const uint8_t *p, FILE *out)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	struct mig_guest g;

	memcpy(&g, p, sizeof(g));
	fprintf(out, "  MAC %02x:%02x:%02x:%02x:%02x:%02x (%s), IPv4 %s, "
		"IPv6 %s\n", g.mac[0], g.mac[1], g.mac[2], g.mac[3], g.mac[4],
		g.mac[5], g.mac_set ? "known" : "not known",
		g.v4 ? "on" : "off", g.v6 ? "on" : "off");
	fprintf(out, "  IPv4 %s/%u, seen %s\n",
		inet_ntop(AF_INET, g.addr4, a, sizeof(a)), g.prefix4,
		inet_ntop(AF_INET, g.addr4_seen, b, sizeof(b)));
	fprintf(out, "  IPv6 %s/%u, seen %s, link-local %s\n",
		inet_ntop(AF_INET6, g.addr6, a, sizeof(a)), g.prefix6,
		inet_ntop(AF_INET6, g.addr6_seen, b, sizeof(b)),
		inet_ntop(AF_INET6, g.addr6_ll_seen, l, sizeof(l)));
}

/**
 * dec_tcp_conn() - Print one TCP connection, as struct mig_tcp_conn
 * @i:		Its number in the section
 * @r:		Record, wire byte order
 * @out:	Where to
 */
static void dec_tcp_conn(unsigned i, const struct mig_tcp_conn *r, FILE *out)
{
	char g[INET6_ADDRSTRLEN], f[INET6_ADDRSTRLEN];
	char l[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN];

	fprintf(out, "  tcp %u: guest [%s]:%u <-> [%s]:%u, host [%s]:%u <-> "
		"[%s]:%u, %s, flags 0x%x, fin 0x%x\n", i,
		dec_addr(r->gaddr, g), ntohs(r->gport), dec_addr(r->faddr, f),
		ntohs(r->fport), dec_addr(r->laddr, l), ntohs(r->lport),
		dec_addr(r->raddr, p), ntohs(r->rport),
		tcp_state_str(r->state), ntohs(r->flags), r->fin);
	fprintf(out, "    to guest: next %" PRIu32 ", unacked %" PRIu32
		", max %" PRIu32 ", fin %" PRIu32 "; from guest: next %" PRIu32
		"; windows: guest's %" PRIu32 ", ours %" PRIu32 ", scale %u, "
		"MSS %u\n", ntohl(r->seq_to_guest), ntohl(r->seq_acked),
		ntohl(r->seq_max), ntohl(r->seq_fin), ntohl(r->seq_from_guest),
		ntohl(r->wnd_from_guest), ntohl(r->wnd_to_guest), r->ws_guest,
		ntohs(r->mss));
	fprintf(out, "    host: send queue %" PRIu32 " bytes (%" PRIu32
		" unsent) from %" PRIu32 ", receive queue %" PRIu32
		" bytes from %" PRIu32 ", MSS %" PRIu32 ", scales %u/%u, "
		"options 0x%x, timestamp %" PRIu32 "\n", ntohl(r->sndq_len),
		ntohl(r->sndq_unsent), ntohl(r->snd_una), ntohl(r->rcvq_len),
		ntohl(r->rcv_seq), ntohl(r->mss_host), r->snd_wscale,
		r->rcv_wscale, r->opts, ntohl(r->timestamp));
	fprintf(out, "    host window: snd_wl1 %" PRIu32 ", snd_wnd %" PRIu32
		", max %" PRIu32 ", rcv_wnd %" PRIu32 ", rcv_wup %" PRIu32 "\n",
		ntohl(r->snd_wl1), ntohl(r->snd_wnd), ntohl(r->max_window),
		ntohl(r->rcv_wnd), ntohl(r->rcv_wup));
}

/**
 * dec_tcp() - Print a checked TCP payload, MIG_SEC_TCP or MIG_SEC_TCP2
 * @p:		Payload
 * @len:	Its length
 * @compact:	MIG_SEC_TCP2: compact records, address table at the end
 * @out:	Where to
 */
static void dec_tcp(const uint8_t *p, size_t len, bool compact, FILE *out)
{
	struct tcp_mig_table t = { 0 };
	size_t at = sizeof(__be32);
	struct mig_tcp_conn r;
	uint32_t n, i;
	__be32 be;

	if (compact && tcp_mig_table_find(p, len, &t, &len) < 0)
		return;		/* checked already: can't happen */
	memcpy(&be, p, sizeof(be));
	n = ntohl(be);
	fprintf(out, "  %" PRIu32 " connections", n);
	if (compact)
		fprintf(out, ", %" PRIu32 " addresses", t.n);
	fputc('\n', out);

	for (i = 0; i < n && at < len; i++) {
		if (!compact)
			memcpy(&r, p + at, sizeof(r));
		else if (tcp_mig_rec_get(p + at, &t, &r))
			return;
		dec_tcp_conn(i, &r, out);
		at += (compact ? sizeof(struct mig_tcp_rec) : sizeof(r)) +
		      ntohl(r.sndq_len) + ntohl(r.rcvq_len);
	}
}

/**
 * dec_udp() - Print one flow of a checked MIG_SEC_UDP payload
 * @i:		Its number in the section
 * @rec:	Record, from the stream (any alignment)
 * @out:	Where to
 */
static void dec_udp(long i, const uint8_t *rec, FILE *out)
{
	char g[INET6_ADDRSTRLEN], f[INET6_ADDRSTRLEN];
	char l[INET6_ADDRSTRLEN], h[INET6_ADDRSTRLEN];
	struct mig_udp_flow r;

	memcpy(&r, rec, sizeof(r));
	fprintf(out, "  udp %ld: %s, guest [%s]:%u <-> [%s]:%u, host "
		"[%s]:%u <-> [%s]:%u\n", i,
		r.kind == MIG_UDP_FWD ? "forwarded port" : "own socket",
		dec_addr(r.gaddr, g), ntohs(r.gport), dec_addr(r.faddr, f),
		ntohs(r.fport), dec_addr(r.laddr, l), ntohs(r.lport),
		dec_addr(r.raddr, h), ntohs(r.rport));
}

/**
 * dec_icmp() - Print one flow of a checked MIG_SEC_ICMP payload
 * @i:		Its number in the section
 * @rec:	Record, from the stream (any alignment)
 * @out:	Where to
 */
static void dec_icmp(long i, const uint8_t *rec, FILE *out)
{
	char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
	struct mig_icmp_flow r;

	memcpy(&r, rec, sizeof(r));
	fprintf(out, "  icmp %ld: guest %s -> %s, id %u, host id %u, "
		"last seq %u\n", i, dec_addr(r.src, s), dec_addr(r.dst, d),
		ntohs(r.id), ntohs(r.hid), ntohs(r.seq));
}

/**
 * dec_recs() - Print a checked section of fixed-size records (mig_rec.h)
 * @p:		Payload: count, then records
 * @len:	Its length
 * @size:	Size of one record
 * @one:	Prints one record
 * @out:	Where to
 */
static void dec_recs(const uint8_t *p, size_t len, size_t size,
		     void (*one)(long i, const uint8_t *rec, FILE *out),
		     FILE *out)
{
	long n = mig_recs(p, len, size, UINT32_MAX), i;

	fprintf(out, "  %ld flows\n", n < 0 ? 0 : n);
	for (i = 0; i < n; i++)
		one(i, p + sizeof(__be32) + (size_t)i * size, out);
}

/**
 * dec_body() - Print a checked payload, by section id
 * @sec:	Section
 * @out:	Where to
 */
static void dec_body(const struct mig_stream_sec *sec, FILE *out)
{
	switch (sec->id) {
	case MIG_SEC_GUEST:
		dec_guest(sec->p, out);
		break;
	case MIG_SEC_TCP:
	case MIG_SEC_TCP2:
		dec_tcp(sec->p, sec->len, sec->id == MIG_SEC_TCP2, out);
		break;
	case MIG_SEC_UDP:
		dec_recs(sec->p, sec->len, sizeof(struct mig_udp_flow),
			 dec_udp, out);
		break;
	case MIG_SEC_ICMP:
		dec_recs(sec->p, sec->len, sizeof(struct mig_icmp_flow),
			 dec_icmp, out);
		break;
	default:
		break;
	}
}

/**
 * dec_refuse() - The stream goes wrong at a section's start
 * @s:		Stream
 * @sec:	Section
 * @what:	What is wrong with it
 * @rc:		-errno to return
 *
 * Return: @rc
 */
static int dec_refuse(struct mig_stream *s, const struct mig_stream_sec *sec,
		      const char *what, int rc)
{
	s->bad = sec->off;
	snprintf(s->why, sizeof(s->why), "section %" PRIu32 ": %s", sec->id,
		 what);
	return rc;
}

/**
 * dec_section() - Check and print one section, as the daemon reads it
 * @s:		Stream
 * @sec:	Section, frame and CRC checked
 * @seen:	Table entries of the sections before it, as many as @s->n - 1
 * @out:	Where to
 *
 * Return: 0, -EINVAL or the section check's -errno (@s->bad, @s->why set)
 */
static int dec_section(struct mig_stream *s, const struct mig_stream_sec *sec,
		       const struct mig_section **seen, FILE *out)
{
	const struct mig_section *e = migrate_section(s->version, sec->id);
	char what[96];
	unsigned i;
	int rc;

	fprintf(out, "section %" PRIu32 " (%s): offset %zu, %" PRIu32
		" bytes, CRC ok%s\n", sec->id, e ? e->name : "unknown",
		sec->off, sec->len, e ? "" : ", skipped");
	seen[s->n - 1] = e;
	if (!e)
		return 0;
	for (i = 0; i < s->n - 1; i++) {
		if (seen[i] == e)
			return dec_refuse(s, sec, "twice in the stream",
					  -EINVAL);
	}
	if ((rc = e->check(&dec_ctx, sec->p, sec->len))) {
		snprintf(what, sizeof(what), "%s state refused: %s", e->name,
			 strerror(-rc));
		return dec_refuse(s, sec, what, rc);
	}
	dec_body(sec, out);
	return 0;
}

/**
 * mig_decode() - Print a whole stream, stopping at the first bad byte
 * @p:		Stream
 * @len:	Its length
 * @out:	Where to print
 * @s:		Stream state: on failure, @s->bad and @s->why say where and
 *		what
 *
 * Return: 0 if the daemon would load the stream (limits of an empty
 *	   target), -errno if not
 */
int mig_decode(const uint8_t *p, size_t len, FILE *out, struct mig_stream *s)
{
	const struct mig_section *seen[MIGRATE_SECTIONS_MAX];
	struct mig_stream_sec sec;
	size_t end;
	int rc;

	if ((rc = mig_stream_start(s, p, len)))
		return rc;
	fprintf(out, "passt state stream: version %" PRIu32 ", oldest reader %"
		PRIu32, s->version, s->min_version);
	if (s->version > MIGRATE_VERSION)
		fprintf(out, ", read as version %u", (unsigned)MIGRATE_VERSION);
	fputc('\n', out);

	for (end = s->off; (rc = mig_stream_next(s, &sec)) > 0; end = s->off) {
		if ((rc = dec_section(s, &sec, seen, out)))
			return rc;
	}
	if (rc < 0)
		return rc;
	fprintf(out, "section 0 (end): offset %zu, 0 bytes, CRC ok\n"
		"%u sections, %zu bytes\n", end, s->n, len);
	return 0;
}
