// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/tcp_migrate.c - TCP connections in the device state stream
 *
 * What is tested, against the real tcp_migrate.o (through migrate.o):
 *
 * - the TCP section: each field check of a record and of the payload, and
 *   random mutations compared with a naive reference checker written from
 *   doc/migration.md (ref_tcp_check() in common_migrate.c)
 * - TCP records applied without a working helper: sockets are made and
 *   dropped, nothing leaks
 * - as root only (CAP_NET_ADMIN, else skipped): real connections over
 *   loopback frozen, dumped, closed and rebuilt with TCP_REPAIR
 *
 * The stream around it has its own tests, test/unit/migrate.c; the
 * scaffolding of both, wrapped functions included, is in common_migrate.c.
 */

/* WRAP: tap_send_l4 repair_ready setsockopt repair_set socket recv close logmsg log_rl_pass */

#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ctx.h"
#include "flow.h"
#include "migrate.h"
#include "repair.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "tcp_guest.h"
#include "tcp_migrate.h"
#include "tcp_deaf.h"
#include "tcp_restore.h"
#include "tcp_guard.h"
#include "tcp_mig_wire.h"
#include "common.h"
#include "common_migrate.h"

/* The layout of section 2 in doc/migration.md, checked against the struct */
static_assert(offsetof(struct mig_tcp_conn, gport) == 32, "doc");
static_assert(offsetof(struct mig_tcp_conn, state) == 36, "doc");
static_assert(offsetof(struct mig_tcp_conn, ws_guest) == 37, "doc");
static_assert(offsetof(struct mig_tcp_conn, flags) == 38, "doc");
static_assert(offsetof(struct mig_tcp_conn, mss) == 40, "doc");
static_assert(offsetof(struct mig_tcp_conn, seq_to_guest) == 44, "doc");
static_assert(offsetof(struct mig_tcp_conn, wnd_to_guest) == 68, "doc");
static_assert(offsetof(struct mig_tcp_conn, laddr) == 72, "doc");
static_assert(offsetof(struct mig_tcp_conn, raddr) == 88, "doc");
static_assert(offsetof(struct mig_tcp_conn, lport) == 104, "doc");
static_assert(offsetof(struct mig_tcp_conn, rport) == 106, "doc");
static_assert(offsetof(struct mig_tcp_conn, snd_una) == 108, "doc");
static_assert(offsetof(struct mig_tcp_conn, rcv_seq) == 112, "doc");
static_assert(offsetof(struct mig_tcp_conn, sndq_len) == 116, "doc");
static_assert(offsetof(struct mig_tcp_conn, sndq_unsent) == 120, "doc");
static_assert(offsetof(struct mig_tcp_conn, rcvq_len) == 124, "doc");
static_assert(offsetof(struct mig_tcp_conn, mss_host) == 128, "doc");
static_assert(offsetof(struct mig_tcp_conn, snd_wscale) == 132, "doc");
static_assert(offsetof(struct mig_tcp_conn, rcv_wscale) == 133, "doc");
static_assert(offsetof(struct mig_tcp_conn, opts) == 134, "doc");
static_assert(offsetof(struct mig_tcp_conn, fin) == 135, "doc");
static_assert(offsetof(struct mig_tcp_conn, timestamp) == 136, "doc");
static_assert(offsetof(struct mig_tcp_conn, snd_wl1) == 140, "doc");

/* ---------------------------------------------------------------- */
/* Tests: the TCP section                                            */
/* ---------------------------------------------------------------- */

static void test_tcp_migrate_migrate_zero_connections_accepted(void **state)
{
	(void)state;
	tp_begin(&tp, 0);
	sb_full(&s1, 1, 1, &tp);	/* the landed version */
	assert_int_equal(parse(&s1), 2);
	assert_int_equal(refs[1].sec->id, MIG_SEC_TCP);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(socket_calls, 0);
}

/* Random changes to a TCP payload, CRC fixed: same verdict as ours */
static void test_tcp_migrate_migrate_fuzz_vs_reference(void **state)
{
	static const size_t fields[] = {
		0, 10, 11, 15, 16, 26, 27, 32, 33, 34, 35, 36, 37, 40, 41,
		72, 82, 83, 88, 98, 99, 104, 105, 106, 107, 116, 117, 118,
		119, 120, 121, 122, 123, 124, 125, 126, 127, 132, 133, 135,
	};
	static const uint8_t vals[] = { 0, 1, 2, 3, 4, 5, 7, 13, 14, 15, 16,
					0x7f, 0x80, 0xfe, 0xff };
	/* Where tp_three() puts its records: after the count, and queues */
	static const size_t rec_at[3] = { 4, 4 + REC_LEN + 40 + 25,
					  4 + 2 * REC_LEN + 40 + 25 };
	static struct sb base;
	unsigned i, accepted = 0;

	(void)state;
	tp_three(&base);
	for (i = 0; i < 3; i++)
		assert_int_equal(base.b[rec_at[i] + 36], CS_ESTABLISHED);
	assert_int_equal(ref_tcp_check(base.b, base.len, 0), 0);
	srand(160);
	for (i = 0; i < 30000; i++) {
		unsigned k, n = 1 + (unsigned)rand() % 2;
		bool ok;
		int rc;

		memcpy(tp.b, base.b, base.len);
		tp.len = base.len;
		for (k = 0; k < n; k++) {
			size_t off;
			uint8_t v;

			switch (rand() % 4) {
			case 0:		/* the count */
				off = 3;
				v = (uint8_t)(rand() % 5);
				break;
			case 1:		/* anywhere */
				off = (size_t)rand() % tp.len;
				v = (uint8_t)rand();
				break;
			default:	/* a checked field of some record */
				off = rec_at[rand() % 3] +
				      fields[(size_t)rand() % ARRAY_SIZE(fields)];
				v = vals[(size_t)rand() % sizeof(vals)];
				break;
			}
			if (off < tp.len)
				tp.b[off] = v;
		}
		if (rand() % 8 == 0)
			tp.len = (size_t)rand() % (tp.len + 2);

		ok = !ref_tcp_check(tp.b, tp.len, flow_stats()->active);
		rc = parse_tcp(&tp);
		if (ok != (rc >= 0))
			fail_msg("TCP payload case %u: ours %d, reference %s",
				 i, rc, ok ? "accepts" : "refuses");
		accepted += ok;
	}
	assert_true(accepted > 1000 && accepted < 29000);
	assert_unchanged();
}

/* One record, changed by @edit, alone in a payload */
static int tcp_one(void (*edit)(struct mig_tcp_conn *r))
{
	struct mig_tcp_conn r;

	rec_init(&r, 0, false, 100, 30, 50);
	if (edit)
		edit(&r);
	tp_begin(&tp, 1);
	sb_raw(&tp, &r, sizeof(r));
	memset(tp.b + tp.len, 0xa5, 150);
	tp.len += 150;
	return parse_tcp(&tp);
}

static void e_state3(struct mig_tcp_conn *r) { r->state = CS_SYN_SENT; }
static void e_state5(struct mig_tcp_conn *r) { r->state = CS_COUNT; }
static void e_state0(struct mig_tcp_conn *r) { r->state = CS_CLOSED; }
static void e_wsg15(struct mig_tcp_conn *r) { r->ws_guest = 15; }
static void e_wsg14(struct mig_tcp_conn *r) { r->ws_guest = 14; }
static void e_snd15(struct mig_tcp_conn *r) { r->snd_wscale = 15; }
static void e_rcv15(struct mig_tcp_conn *r) { r->rcv_wscale = 15; }
static void e_ws14(struct mig_tcp_conn *r)
{
	r->snd_wscale = r->rcv_wscale = 14;
}
static void e_mss0(struct mig_tcp_conn *r) { r->mss = 0; }
static void e_fin3(struct mig_tcp_conn *r)
{
	r->fin = MIG_TCP_FIN_SENT | MIG_TCP_FIN_RCVD;
}
static void e_fin4(struct mig_tcp_conn *r) { r->fin = 4; }
static void e_g4f6(struct mig_tcp_conn *r) { addr6(r->faddr, "2001:db8::1"); }
static void e_g6f4(struct mig_tcp_conn *r) { addr6(r->gaddr, "2001:db8::2"); }
static void e_l4r6(struct mig_tcp_conn *r) { addr6(r->raddr, "::1"); }
static void e_all6(struct mig_tcp_conn *r)
{
	addr6(r->gaddr, "2001:db8::2");
	addr6(r->faddr, "2001:db8::1");
	addr6(r->laddr, "::1");
	addr6(r->raddr, "::1");
}
static void e_gport0(struct mig_tcp_conn *r) { r->gport = 0; }
static void e_fport0(struct mig_tcp_conn *r) { r->fport = 0; }
static void e_lport0(struct mig_tcp_conn *r) { r->lport = 0; }
static void e_rport0(struct mig_tcp_conn *r) { r->rport = 0; }
static void e_unsent_all(struct mig_tcp_conn *r)
{
	r->sndq_unsent = r->sndq_len;
}
static void e_unsent_over(struct mig_tcp_conn *r)
{
	r->sndq_unsent = htonl(ntohl(r->sndq_len) + 1);
}
static void e_sndq_over(struct mig_tcp_conn *r)
{
	r->sndq_len = htonl(101);
}
static void e_rcvq_over(struct mig_tcp_conn *r)
{
	r->rcvq_len = htonl(51);
}
static void e_queues_moved(struct mig_tcp_conn *r)
{
	r->sndq_len = htonl(150);
	r->rcvq_len = 0;
}
static void e_sndq_huge(struct mig_tcp_conn *r)
{
	r->sndq_len = htonl(QUEUE_MAX + 1);
	r->sndq_unsent = 0;
}
static void e_rcvq_huge(struct mig_tcp_conn *r)
{
	r->rcvq_len = htonl(0xffffffff);
}
static void e_wrap(struct mig_tcp_conn *r)	/* 2^32 - 50 + 50 */
{
	r->sndq_len = htonl(0xffffffce);
	r->sndq_unsent = 0;
}

static void test_tcp_migrate_migrate_record_checks(void **state)
{
	static const struct {
		void (*edit)(struct mig_tcp_conn *r);
		bool ok;
		const char *what;
	} t[] = {
		{ NULL,		true,	"valid record with queues" },
		{ e_state0,	false,	"state CLOSED" },
		{ e_state3,	false,	"SYN_SENT, no SYN in sequence" },
		{ e_state5,	false,	"state past the last" },
		{ e_wsg15,	false,	"guest window scale 15" },
		{ e_wsg14,	true,	"guest window scale 14" },
		{ e_snd15,	false,	"peer window scale 15" },
		{ e_rcv15,	false,	"our window scale 15" },
		{ e_ws14,	true,	"socket window scales 14" },
		{ e_mss0,	false,	"MSS 0" },
		{ e_fin3,	true,	"both FINs" },
		{ e_fin4,	false,	"unknown FIN flag" },
		{ e_g4f6,	false,	"IPv4 guest, IPv6 foreign" },
		{ e_g6f4,	false,	"IPv6 guest, IPv4 foreign" },
		{ e_l4r6,	false,	"IPv4 local, IPv6 peer" },
		{ e_all6,	true,	"all IPv6" },
		{ e_gport0,	false,	"guest port 0" },
		{ e_fport0,	false,	"foreign port 0" },
		{ e_lport0,	false,	"local port 0" },
		{ e_rport0,	false,	"peer port 0" },
		{ e_unsent_all,	true,	"all of the send queue unsent" },
		{ e_unsent_over, false,	"more unsent than queued" },
		{ e_sndq_over,	false,	"send queue past the payload" },
		{ e_rcvq_over,	false,	"receive queue past the payload" },
		{ e_queues_moved, true,	"same total, other split" },
		{ e_sndq_huge,	false,	"send queue over 64 MiB" },
		{ e_rcvq_huge,	false,	"receive queue of 4 GiB" },
		{ e_wrap,	false,	"queue lengths adding up past 2^32" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int rc = tcp_one(t[i].edit);

		if (t[i].ok && rc != 1)
			fail_msg("%s: refused (%d)", t[i].what, rc);
		if (!t[i].ok && rc >= 0)
			fail_msg("%s: accepted", t[i].what);
		if (!t[i].ok) {
			assert_true(load_pipe(s2.b, s2.len, true) < 0);
			assert_unchanged();
		}
	}
	assert_int_equal(socket_calls, 0);
	assert_int_equal(flow_stats()->active, 0);
}

/* ---------------------------------------------------------------- */
/* Tests: handshakes in the TCP section                               */
/* ---------------------------------------------------------------- */

/* A record of a handshake in @st: our SYN sent, nothing else; @rcvq bytes
 * from the peer already; CS_CONNECTING: no local port
 */
static void hs_rec(struct mig_tcp_conn *r, unsigned i, uint8_t st,
		   uint32_t rcvq)
{
	rec_init(r, i, false, 0, 0, rcvq);
	r->state = st;
	r->seq_to_guest = r->seq_max = htonl(ntohl(r->seq_acked) + 1);
	if (st == CS_CONNECTING) {
		r->lport = 0;
		memset(r->laddr + 12, 0, 4);
	}
}

/* One handshake record, changed by @edit, alone in a payload */
static int hs_one(uint8_t st, uint32_t rcvq,
		  void (*edit)(struct mig_tcp_conn *r))
{
	struct mig_tcp_conn r;
	uint32_t q;

	hs_rec(&r, 0, st, rcvq);
	if (edit)
		edit(&r);
	q = ntohl(r.sndq_len) + ntohl(r.rcvq_len);
	tp_begin(&tp, 1);
	sb_raw(&tp, &r, sizeof(r));
	memset(tp.b + tp.len, 0xa5, MIN(q, 4096U));
	tp.len += MIN(q, 4096U);
	return parse_tcp(&tp);
}

static void h_none(struct mig_tcp_conn *r) { (void)r; }
static void h_fin_rcvd(struct mig_tcp_conn *r)
{
	r->fin = MIG_TCP_FIN_RCVD;
	r->flags = htons(CONN_RDHUP);
}
static void h_fin_sent(struct mig_tcp_conn *r) { r->fin = MIG_TCP_FIN_SENT; }
static void h_closed(struct mig_tcp_conn *r) { r->fin = MIG_TCP_CLOSED; }
static void h_guest_fin(struct mig_tcp_conn *r)
{
	r->flags = htons(CONN_WS | CONN_GUEST_FIN);
}
static void h_our_fin(struct mig_tcp_conn *r)
{
	r->flags = htons(CONN_FIN_SENT);
}
static void h_sndq(struct mig_tcp_conn *r) { r->sndq_len = htonl(10); }
static void h_no_syn(struct mig_tcp_conn *r) { r->seq_to_guest = r->seq_acked; }
static void h_data_sent(struct mig_tcp_conn *r)
{
	r->seq_to_guest = htonl(ntohl(r->seq_acked) + 2);
	r->seq_max = r->seq_to_guest;
}
static void h_max_past(struct mig_tcp_conn *r)
{
	r->seq_max = htonl(ntohl(r->seq_max) + 100);
}
static void h_lport(struct mig_tcp_conn *r) { r->lport = htons(45000); }
static void h_lport0(struct mig_tcp_conn *r) { r->lport = 0; }
static void h_rport0(struct mig_tcp_conn *r) { r->rport = 0; }
static void h_raddr6(struct mig_tcp_conn *r) { addr6(r->raddr, "::1"); }

/* What a handshake record may carry, state by state (doc: section 2) */
static void test_tcp_migrate_handshake_record_checks(void **state)
{
	static const struct {
		uint8_t st;
		uint32_t rcvq;
		void (*edit)(struct mig_tcp_conn *r);
		bool ok;
		const char *what;
	} t[] = {
		{ CS_SYN_SENT,	 0,  h_none,	  true,	 "SYN_SENT" },
		{ CS_SYN_SENT,	 50, h_none,	  true,	 "SYN_SENT, peer data" },
		{ CS_SYN_SENT,	 50, h_fin_rcvd,  true,	 "SYN_SENT, peer FIN" },
		{ CS_SYN_RCVD,	 0,  h_none,	  true,	 "SYN_RCVD" },
		{ CS_SYN_RCVD,	 70, h_fin_rcvd,  true,	 "SYN_RCVD, data, FIN" },
		{ CS_CONNECTING, 0,  h_none,	  true,	 "CONNECTING" },
		{ CS_SYN_SENT,	 0,  h_fin_sent,  false, "SYN_SENT, our FIN" },
		{ CS_SYN_RCVD,	 0,  h_closed,	  false, "SYN_RCVD, closed" },
		{ CS_SYN_RCVD,	 0,  h_guest_fin, false, "SYN_RCVD, guest FIN" },
		{ CS_SYN_SENT,	 0,  h_our_fin,	  false, "SYN_SENT, FIN flag" },
		{ CS_SYN_RCVD,	 0,  h_sndq,	  false, "SYN_RCVD, guest data" },
		{ CS_SYN_SENT,	 0,  h_no_syn,	  false, "SYN not counted" },
		{ CS_SYN_RCVD,	 0,  h_data_sent, false, "data to the guest" },
		{ CS_CONNECTING, 0,  h_max_past,  false, "seq_max past SYN" },
		{ CS_SYN_SENT,	 0,  h_lport0,	  false, "SYN_SENT, no port" },
		{ CS_CONNECTING, 0,  h_lport,	  false, "CONNECTING, port" },
		{ CS_CONNECTING, 20, h_none,	  false, "CONNECTING, data" },
		{ CS_CONNECTING, 0,  h_fin_rcvd,  false, "CONNECTING, FIN" },
		{ CS_CONNECTING, 0,  h_rport0,	  false, "CONNECTING, no peer" },
		{ CS_CONNECTING, 0,  h_raddr6,	  false, "CONNECTING, v6 peer" },
		{ CS_CONNECTING, 0,  h_sndq,	  false, "CONNECTING, sndq" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int rc = hs_one(t[i].st, t[i].rcvq, t[i].edit);
		bool ref = !ref_tcp_check(tp.b, tp.len, 0);

		if (ref != t[i].ok)
			fail_msg("%s: the reference checker disagrees",
				 t[i].what);
		if (t[i].ok && rc != 1)
			fail_msg("%s: refused (%d)", t[i].what, rc);
		if (!t[i].ok && rc >= 0)
			fail_msg("%s: accepted", t[i].what);
	}
	assert_int_equal(socket_calls, 0);
	assert_int_equal(flow_stats()->active, 0);
	assert_unchanged();
}

/* Random changes to handshake records: same verdict as the reference */
static void test_tcp_migrate_handshake_fuzz_vs_reference(void **state)
{
	static const size_t fields[] = {
		36, 38, 39, 44, 47, 48, 51, 52, 55, 104, 105, 106, 107, 116,
		119, 120, 123, 124, 127, 135,
	};
	static const uint8_t vals[] = { 0, 1, 2, 3, 4, 5, 8, 0x10, 0x80,
					0xff };
	static const size_t rec_at[3] = { 4, 4 + REC_LEN + 30,
					  4 + 2 * REC_LEN + 30 };
	static struct sb base;
	struct mig_tcp_conn r;
	unsigned i, accepted = 0;

	(void)state;
	tp_begin(&base, 3);
	hs_rec(&r, 0, CS_SYN_SENT, 30);
	sb_raw(&base, &r, sizeof(r));
	memset(base.b + base.len, 0x5a, 30);
	base.len += 30;
	hs_rec(&r, 1, CS_CONNECTING, 0);
	sb_raw(&base, &r, sizeof(r));
	hs_rec(&r, 2, CS_SYN_RCVD, 0);
	h_fin_rcvd(&r);
	sb_raw(&base, &r, sizeof(r));
	assert_int_equal(ref_tcp_check(base.b, base.len, 0), 0);
	assert_int_equal(parse_tcp(&base), 1);	/* sections */

	srand(161);
	for (i = 0; i < 20000; i++) {
		size_t off = rec_at[rand() % 3] +
			     fields[(size_t)rand() % ARRAY_SIZE(fields)];
		bool ok;
		int rc;

		memcpy(tp.b, base.b, base.len);
		tp.len = base.len;
		tp.b[off] = vals[(size_t)rand() % sizeof(vals)];
		ok = !ref_tcp_check(tp.b, tp.len, flow_stats()->active);
		rc = parse_tcp(&tp);
		if (ok != (rc >= 0))
			fail_msg("case %u, byte %zu: ours %d, reference %s",
				 i, off, rc, ok ? "accepts" : "refuses");
		accepted += ok;
	}
	assert_true(accepted > 500 && accepted < 19000);
	assert_unchanged();
}

static void test_tcp_migrate_migrate_payload_checks(void **state)
{
	struct mig_tcp_conn r;
	static const uint8_t zero[REC_LEN];
	unsigned len;
	int i;

	(void)state;
	/* Shorter than the count */
	for (len = 0; len < 4; len++) {
		tp_begin(&tp, 0);
		tp.len = len;
		assert_true(parse_tcp(&tp) < 0);
	}

	/* Count larger than the records present */
	tp_begin(&tp, 1);
	assert_true(parse_tcp(&tp) < 0);
	tp_three(&tp);
	be32_put(tp.b, 4);
	assert_true(parse_tcp(&tp) < 0);
	be32_put(tp.b, 3);
	assert_int_equal(parse_tcp(&tp), 1);

	/* A record cut short */
	tp_begin(&tp, 1);
	rec_init(&r, 0, false, 0, 0, 0);
	sb_raw(&tp, &r, sizeof(r) - 1);
	assert_true(parse_tcp(&tp) < 0);

	/* Count smaller: what's left is trailing garbage */
	tp_three(&tp);
	be32_put(tp.b, 2);
	assert_true(parse_tcp(&tp) < 0);

	/* Trailing garbage */
	tp_three(&tp);
	tp.b[tp.len++] = 0;
	assert_true(parse_tcp(&tp) < 0);
	tp_three(&tp);
	sb_raw(&tp, zero, sizeof(zero));
	assert_true(parse_tcp(&tp) < 0);
	tp_begin(&tp, 0);
	tp.b[tp.len++] = 1;
	assert_true(parse_tcp(&tp) < 0);

	/* A bad record after a good one */
	tp_begin(&tp, 2);
	rec_init(&r, 0, false, 3, 1, 2);
	tp_rec(&tp, &r);
	rec_init(&r, 1, false, 0, 0, 0);
	r.state = CS_CONNECTING;
	tp_rec(&tp, &r);
	assert_true(parse_tcp(&tp) < 0);

	/* Counts the flow table can't take */
	tp_three(&tp);
	be32_put(tp.b, FLOW_MAX + 1);
	assert_int_equal(parse_tcp(&tp), -ENOSPC);
	be32_put(tp.b, 0xffffffff);
	assert_int_equal(parse_tcp(&tp), -ENOSPC);
	for (i = 0; i < 10; i++) {
		struct flow_key k = { .proto = IPPROTO_UDP, .gport = 1,
				      .fport = (uint16_t)(i + 1) };

		assert_true(flow_alloc(FLOW_UDP, &k) >= 0);
	}
	be32_put(tp.b, FLOW_MAX - 9);
	assert_int_equal(parse_tcp(&tp), -ENOSPC);
	be32_put(tp.b, FLOW_MAX - 10);		/* room, but no records */
	assert_int_equal(parse_tcp(&tp), -EINVAL);
	assert_int_equal(flow_stats()->active, 10);
	flow_init();

	/* The TCP section refused: the guest section isn't applied either */
	tp_three(&tp);
	tp.b[tp.len++] = 0;
	sb_full(&s1, 1, 1, &tp);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
	assert_int_equal(socket_calls, 0);
}

/* Apply records that can't be rebuilt: the load fails, and nothing of
 * the TCP section stays (no flow, no socket), so that the source can take
 * the connections back; the guest section is applied
 */
static void tcp_apply_expect_refused(const char *why)
{
	int fds = fd_count();

	tp_three(&tp);
	sb_full(&s1, 1, 1, &tp);
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);
	log_clear();
	socket_calls = 0;
	repair_requests = 0;

	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_memory_equal(&c, &want, sizeof(c));	/* guest applied */
	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(flow_next(FLOW_TCP, -1), -1);
	assert_false(tcp_mig_staged());
	assert_int_equal(fd_count(), fds);
	if (!logged(LOG_ERR, why))
		fail_msg("no error with \"%s\"", why);
	memcpy(&c, &snap, sizeof(c));
}

static void test_tcp_migrate_migrate_apply_no_helper(void **state)
{
	(void)state;
	helper = HELPER_REAL;			/* c.repair_fd is -1 */
	tcp_apply_expect_refused("no passt-repair connected");
	assert_int_equal(socket_calls, 0);
	assert_int_equal(repair_requests, 0);
}

static void test_tcp_migrate_migrate_apply_helper_fails(void **state)
{
	(void)state;
	helper = HELPER_FAKE_FAIL;
	tcp_apply_expect_refused("repair mode refused");
	assert_int_equal(socket_calls, 3);
	assert_int_equal(repair_requests, 1);		/* on: refused */
}

static void test_tcp_migrate_migrate_apply_repair_not_really_on(void **state)
{
	(void)state;
	/* The helper says yes, but the sockets aren't in repair mode: the
	 * first restore fails on the first repair-only option, and all are
	 * let go
	 */
	helper = HELPER_FAKE_OK;
	tcp_apply_expect_refused("can't be rebuilt");
	assert_int_equal(socket_calls, 3);
	assert_int_equal(repair_requests, 1);		/* on */
}

static void test_tcp_migrate_migrate_apply_socket_fails(void **state)
{
	(void)state;
	helper = HELPER_FAKE_OK;
	socket_fail_all = true;
	tcp_apply_expect_refused("TCP socket");
	socket_fail_all = false;

	/* Only the second socket fails: the first is closed again */
	socket_fail_at = 2;
	tcp_apply_expect_refused("TCP socket");
	socket_fail_at = 0;
}

/* ---------------------------------------------------------------- */
/* Tests: real connections, as root                                  */
/* ---------------------------------------------------------------- */

static bool can_repair(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	bool ok;

	assert_true(s >= 0);
	ok = !setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one));
	close(s);
	return ok;
}

/**
 * struct pair - A loopback connection: the guest's side and the peer
 * @lfd:	Listening socket of the peer
 * @cfd:	Our side (the daemon's socket for a guest connection)
 * @sfd:	The peer's side
 * @port:	Peer's port
 * @local:	Address of @cfd
 */
struct pair {
	int lfd, cfd, sfd;
	uint16_t port;
	struct sockaddr_in local;
};

static void pair_open(struct pair *p, int peer_rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(nkept + 3 <= ARRAY_SIZE(kept));
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->lfd >= 0);
	kept[nkept++] = p->lfd;
	if (peer_rcvbuf)
		assert_int_equal(setsockopt(p->lfd, SOL_SOCKET, SO_RCVBUF,
					    &peer_rcvbuf,
					    sizeof(peer_rcvbuf)), 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sa, &sl), 0);
	p->port = ntohs(sa.sin_port);

	p->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->cfd >= 0);
	kept[nkept++] = p->cfd;		/* if the daemon doesn't take it */
	/* A port of its own: connect() may pick one that another test's
	 * connection already has, and then no guard could bind to it
	 */
	sa.sin_port = 0;
	assert_int_equal(bind(p->cfd, (struct sockaddr *)&sa, sl), 0);
	sa.sin_port = htons(p->port);
	assert_int_equal(connect(p->cfd, (struct sockaddr *)&sa, sl), 0);
	p->sfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->sfd >= 0);
	kept[nkept++] = p->sfd;
	sl = sizeof(p->local);
	assert_int_equal(getsockname(p->cfd, (struct sockaddr *)&p->local,
				     &sl), 0);
	assert_int_equal(fcntl(p->cfd, F_SETFL, O_NONBLOCK), 0);
}

static void wait_inq(int fd, int want_bytes)
{
	int i, inq = -1;

	for (i = 0; i < 2000; i++) {
		if (!ioctl(fd, SIOCINQ, &inq) && inq >= want_bytes)
			return;
		usleep(1000);
	}
	fail_msg("receive queue has %d bytes, not %d", inq, want_bytes);
}

/* Read exactly @len bytes from @fd, waiting up to @ms */
static size_t read_upto(int fd, uint8_t *buf, size_t len, int ms)
{
	size_t got = 0;
	int i;

	for (i = 0; got < len && i < ms / 10; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(fd, buf + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (!n || errno != EAGAIN)
			break;
	}
	return got;
}

/* Read exactly @len bytes from @fd, waiting up to a minute */
static void read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = read_upto(fd, buf, len, 60000);

	if (got != len)
		fail_msg("read %zu bytes of %zu", got, len);
}

/* Read from @fd, non-blocking, until end of file: no reset, no data */
static void wait_readable_eof(int fd)
{
	uint8_t b[64];
	int i;

	for (i = 0; i < 5000; i++) {
		ssize_t n = read(fd, b, sizeof(b));

		if (!n)
			return;
		if (n > 0)
			fail_msg("unexpected data after the end");
		if (errno != EAGAIN)
			fail_msg("no end of file: %s", strerror(errno));
		usleep(1000);
	}
	fail_msg("no end of file");
}

/* Make @fd the socket of a guest connection with @key, as tcp.c would */
static unsigned conn_install_key(int fd, const struct flow_key *key,
				 uint32_t inflight)
{
	struct tcp_conn *conn;
	int idx;

	idx = flow_alloc(FLOW_TCP, key);
	assert_true(idx >= 0);

	conn = tcp_conn_at((unsigned)idx);
	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
	conn->state = CS_ESTABLISHED;
	conn->flags = CONN_WS;
	conn->ws_guest = 7;
	conn->mss = 1460;
	conn->seq_acked = 0xfffff000;
	conn->seq_to_guest = 0xfffff000 + inflight;	/* sent, not acked */
	conn->seq_max = conn->seq_to_guest;
	conn->seq_from_guest = 0x12345678;
	conn->wnd_from_guest = 65535U << 7;
	conn->wnd_to_guest = 65535;
	assert_int_equal(tcp_conn_adopt(&c, (unsigned)idx), 0);
	return (unsigned)idx;
}

/* The same, for guest 10.0.2.15:@gport to 10.0.2.2:@fport */
static unsigned conn_install(int fd, struct flow_key *key, uint16_t gport,
			     uint16_t fport, uint32_t inflight)
{
	memset(key, 0, sizeof(*key));
	key->proto = IPPROTO_TCP;
	inany_from_v4(&key->gaddr, (struct in_addr){ htonl(0x0a00020f) });
	inany_from_v4(&key->faddr, (struct in_addr){ htonl(0x0a000202) });
	key->gport = gport;
	key->fport = fport;
	return conn_install_key(fd, key, inflight);
}

/* The MIG_SEC_TCP2 section of a parsed stream, laid out as MIG_SEC_TCP
 * would carry it (count, then each struct mig_tcp_conn and its queues),
 * so that tests can look at the records' fields directly
 */
static const uint8_t *tcp_section(size_t *len)
{
	static uint8_t out[4 << 20];
	struct tcp_mig_table t;
	size_t recs_len, off = 4, o = 4;
	unsigned i;
	long n;

	for (i = 0; i < MIGRATE_SECTIONS_MAX && refs[i].p; i++) {
		if (refs[i].sec && refs[i].sec->id == MIG_SEC_TCP2)
			break;
	}
	if (i == MIGRATE_SECTIONS_MAX || !refs[i].p)
		fail_msg("no TCP section");

	n = tcp_mig_table_find(refs[i].p, refs[i].len, &t, &recs_len);
	assert_true(n >= 0);
	memcpy(out, refs[i].p, 4);
	while (n--) {
		struct mig_tcp_conn r;
		size_t q;

		assert_int_equal(tcp_mig_rec_get(refs[i].p + off, &t, &r), 0);
		off += sizeof(struct mig_tcp_rec);
		q = ntohl(r.sndq_len) + ntohl(r.rcvq_len);
		assert_true(o + sizeof(r) + q <= sizeof(out));
		memcpy(out + o, &r, sizeof(r));
		memcpy(out + o + sizeof(r), refs[i].p + off, q);
		off += q;
		o += sizeof(r) + q;
	}
	assert_int_equal(off, recs_len);
	*len = o;
	return out;
}

static void test_tcp_migrate_migrate_save_tcp_no_helper(void **state)
{
	struct flow_key key;
	struct pair p;
	unsigned idx;
	int fds[2];

	(void)state;
	/* Without the helper, the connection can't move: the save fails at
	 * once, and the connection stays, untouched
	 */
	pair_open(&p, 0);
	idx = conn_install(p.cfd, &key, 40001, p.port, 0);
	helper = HELPER_REAL;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), -ENOTCONN);
	close(fds[0]);
	assert_true(logged(LOG_ERR, "the migration fails"));
	assert_int_equal(x_check(), -ENOTCONN);
	assert_false(migrate_source_done(&c));
	assert_true(flow_live(idx, FLOW_TCP));
	assert_int_equal(tcp_conn_at(idx)->fd, p.cfd);
	assert_true(fcntl(p.cfd, F_GETFD) >= 0);

	/* The connection works as before */
	assert_int_equal(write(p.sfd, "ping", 4), 4);
	wait_inq(p.cfd, 4);

	drop_tcp_flows();
}

/* Queue data both ways on a pair: @rcvd for our side, @sent by it */
static size_t pair_fill(struct pair *p, size_t rcvd, size_t sent)
{
	static uint8_t b[1 << 20];
	size_t i, total = 0;

	for (i = 0; i < sizeof(b); i++)
		b[i] = pattern(i);
	assert_int_equal(write_all(p->sfd, b, rcvd), 0);
	wait_inq(p->cfd, (int)rcvd);
	while (total < sent) {
		ssize_t n = write(p->cfd, b + total % 4096,
				  MIN(4096, sent - total));

		if (n <= 0)
			break;
		total += (size_t)n;
	}
	usleep(20000);				/* let the peer ACK */
	return total;
}

static void test_tcp_migrate_migrate_real_round_trip(void **state)
{
	static uint8_t buf[1 << 20];
	const struct mig_tcp_conn *r;
	struct mig_tcp_conn rec;
	struct sockaddr_in sa;
	struct tcp_conn *conn;
	struct flow_key key;
	socklen_t sl;
	size_t len, sent, i, peer_had;
	const uint8_t *p;
	struct pair pr;
	unsigned idx;
	int inq, fd, one = 1;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* 3000 bytes for the guest, and more from the guest than the peer
	 * takes.  The peer's buffer shrinks after it offered a large window:
	 * it drops what it has no room for, so our send queue holds data
	 * sent but not acknowledged, then data never sent
	 */
	pair_open(&pr, 0);
	assert_int_equal(setsockopt(pr.sfd, SOL_SOCKET, SO_RCVBUF, &one,
				    sizeof(one)), 0);
	sent = pair_fill(&pr, 3000, 200000);
	assert_true(sent > 0);
	idx = conn_install(pr.cfd, &key, 40002, pr.port, 1000);

	/* Save: frozen, dumped, closed */
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_false(flow_live(idx, FLOW_TCP));
	assert_true(flow_lookup(&key) < 0);
	assert_int_equal(fcntl(pr.cfd, F_GETFD), -1);

	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	assert_int_equal(be32_get(p), 1);
	assert_true(len >= 4 + sizeof(rec));
	memcpy(&rec, p + 4, sizeof(rec));
	r = &rec;

	/* The record, against the connection */
	assert_memory_equal(r->gaddr, &key.gaddr, 16);
	assert_memory_equal(r->faddr, &key.faddr, 16);
	assert_int_equal(ntohs(r->gport), 40002);
	assert_int_equal(ntohs(r->fport), pr.port);
	assert_int_equal(r->state, CS_ESTABLISHED);
	assert_int_equal(ntohl(r->seq_acked), 0xfffff000);
	assert_int_equal(ntohl(r->seq_to_guest), 0xfffff000 + 1000);
	assert_int_equal(ntohs(r->flags), CONN_WS);
	assert_true(ref_mapped(r->laddr));
	assert_memory_equal(r->laddr + 12, &pr.local.sin_addr, 4);
	assert_int_equal(r->lport, pr.local.sin_port);
	assert_int_equal(ntohs(r->rport), pr.port);
	assert_int_equal(r->fin, 0);

	/* Queues: all 3000 bytes for the guest, and what the peer lacks */
	assert_int_equal(ntohl(r->rcvq_len), 3000);
	assert_int_equal(ioctl(pr.sfd, SIOCINQ, &inq), 0);
	peer_had = (size_t)inq;
	assert_int_equal(ntohl(r->sndq_len), sent - peer_had);
	assert_true(ntohl(r->sndq_unsent) < ntohl(r->sndq_len));
	assert_true(ntohl(r->sndq_unsent) > 0);
	if (log_echo)
		fprintf(stderr, "send queue %u bytes, %u unsent, peer had %zu\n",
			ntohl(r->sndq_len), ntohl(r->sndq_unsent), peer_had);
	assert_int_equal(len, 4 + sizeof(rec) + ntohl(r->sndq_len) + 3000);
	for (i = 0; i < ntohl(r->sndq_len); i++) {
		if (p[4 + sizeof(rec) + i] != pattern((peer_had + i) % 4096))
			fail_msg("send queue byte %zu", i);
	}
	for (i = 0; i < 3000; i++) {
		if (p[4 + sizeof(rec) + ntohl(r->sndq_len) + i] != pattern(i))
			fail_msg("receive queue byte %zu", i);
	}

	/* Load it back: the connection is rebuilt */
	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	migrate_guest_runs(&c);			/* the target's guest runs */
	assert_true(logged(LOG_INFO, "1 of 1 TCP connections running"));
	idx = (unsigned)flow_lookup(&key);
	assert_true(flow_live(idx, FLOW_TCP));
	conn = tcp_conn_at(idx);
	fd = conn->fd;
	assert_true(fd >= 0);
	assert_int_equal(conn->seq_acked, 0xfffff000);
	/* Activation sent the guest the rest of the queue at once */
	assert_int_equal(conn->seq_to_guest, 0xfffff000 + 3000);
	assert_int_equal(conn->seq_from_guest, 0x12345678);
	assert_true(conn->flags & CONN_WS);
	sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(sa.sin_port, pr.local.sin_port);
	sl = sizeof(sa);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(ntohs(sa.sin_port), pr.port);

	/* Its receive queue holds the guest's 3000 bytes */
	wait_inq(fd, 3000);
	read_exact(fd, buf, 3000);
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf[i], pattern(i));

	/* The peer gets the whole stream the guest sent, in order */
	read_exact(pr.sfd, buf, sent);
	for (i = 0; i < sent; i++) {
		if (buf[i] != pattern(i % 4096))
			fail_msg("peer got byte %zu wrong", i);
	}

	/* And the connection goes on, both ways */
	assert_int_equal(write(pr.sfd, "peer", 4), 4);
	read_exact(fd, buf, 4);
	assert_memory_equal(buf, "peer", 4);
	assert_int_equal(send(fd, "guest", 5, MSG_NOSIGNAL), 5);
	read_exact(pr.sfd, buf, 5);
	assert_memory_equal(buf, "guest", 5);

	drop_tcp_flows();
}

/* A loopback connection over ::1: @fds[0] ours, [1] the peer, [2] its
 * listener; the peer's port in @port
 */
static bool pair6_open(int fds[3], uint16_t *port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	socklen_t sl = sizeof(sa);

	sa.sin6_addr = in6addr_loopback;
	assert_true(nkept + 3 <= ARRAY_SIZE(kept));
	fds[2] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[2] < 0)
		return false;
	kept[nkept++] = fds[2];
	if (bind(fds[2], (struct sockaddr *)&sa, sl))
		return false;			/* no IPv6 here */
	assert_int_equal(listen(fds[2], 1), 0);
	assert_int_equal(getsockname(fds[2], (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin6_port);
	fds[0] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fds[0] >= 0);
	kept[nkept++] = fds[0];
	assert_int_equal(connect(fds[0], (struct sockaddr *)&sa, sl), 0);
	fds[1] = accept4(fds[2], NULL, NULL, SOCK_CLOEXEC);
	assert_true(fds[1] >= 0);
	kept[nkept++] = fds[1];
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	return true;
}

/* Save and load one frozen connection; the record in *rec */
static unsigned tcp_real_move(struct flow_key *key, struct mig_tcp_conn *rec)
{
	const uint8_t *p;
	size_t len;
	int idx;

	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(flow_lookup(key) < 0);
	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	if (be32_get(p) != 1)
		fail_msg("connection left out of the stream%s",
			 logged(LOG_WARNING, "can't be saved") ?
			 ": \"can't be saved\" logged" : "");
	memcpy(rec, p + 4, sizeof(*rec));

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	migrate_guest_runs(&c);			/* the target's guest runs */
	idx = flow_lookup(key);
	if (idx < 0) {
		log_dump();
		fail_msg("connection not restored");
	}
	assert_true(tcp_conn_at((unsigned)idx)->fd >= 0);
	return (unsigned)idx;
}

static void test_tcp_migrate_migrate_real_fin_received(void **state)
{
	static uint8_t buf[4096];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	int fd;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* The peer sent 100 bytes and its FIN: CLOSE_WAIT on our side */
	pair_open(&pr, 0);
	pair_fill(&pr, 100, 0);
	assert_int_equal(shutdown(pr.sfd, SHUT_WR), 0);
	usleep(20000);
	conn_install(pr.cfd, &key, 40003, pr.port, 100);

	idx = tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_RCVD);
	assert_true(ntohs(r.flags) & CONN_RDHUP);
	assert_int_equal(ntohl(r.rcvq_len), 100);
	assert_int_equal(ntohl(r.sndq_len), 0);

	fd = tcp_conn_at(idx)->fd;
	assert_true(tcp_conn_at(idx)->flags & CONN_RDHUP);
	read_exact(fd, buf, 100);
	assert_int_equal(buf[99], pattern(99));

	/* We can still send: the peer reads it, then our FIN */
	assert_int_equal(send(fd, "after", 5, MSG_NOSIGNAL), 5);
	read_exact(pr.sfd, buf, 5);
	assert_memory_equal(buf, "after", 5);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(fcntl(pr.sfd, F_SETFL, O_NONBLOCK), 0);
	wait_readable_eof(pr.sfd);
}

/* Found by test/forward.sh, fixed: the peer had sent its FIN and the
 * guest had everything else, but our FIN to the guest wasn't out yet (its
 * queue was stopped for the migration).  On the target nothing would ever
 * send it: the new socket never reports the peer's FIN, and no byte was in
 * flight for a timer.  The target sends it as soon as the guest runs.
 */
static void test_tcp_migrate_migrate_real_fin_owed(void **state)
{
	struct mig_tcp_conn r;
	struct tcp_conn *conn;
	struct flow_key key;
	struct pair pr;
	unsigned idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	assert_int_equal(shutdown(pr.sfd, SHUT_WR), 0);
	usleep(20000);
	idx = conn_install(pr.cfd, &key, 40025, pr.port, 0);
	tcp_conn_at(idx)->flags |= CONN_RDHUP;	/* seen, FIN not sent */

	idx = tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_RCVD);
	assert_int_equal(ntohl(r.rcvq_len), 0);
	conn = tcp_conn_at(idx);
	assert_true(conn->flags & CONN_FIN_SENT);
	assert_int_equal(conn->seq_fin, 0xfffff000);
	assert_int_equal(conn->seq_to_guest, 0xfffff000 + 1);
}

static void test_tcp_migrate_migrate_real_fin_sent(void **state)
{
	static uint8_t buf[4096];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	int fd;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* The guest sent its FIN, the peer acknowledged it: FIN_WAIT2 */
	pair_open(&pr, 0);
	pair_fill(&pr, 100, 0);
	assert_int_equal(shutdown(pr.cfd, SHUT_WR), 0);
	usleep(20000);
	conn_install(pr.cfd, &key, 40005, pr.port, 0);
	tcp_conn_at((unsigned)flow_lookup(&key))->flags |= CONN_GUEST_FIN;

	idx = tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_SENT);
	assert_false(ntohs(r.flags) & CONN_RDHUP);
	assert_int_equal(ntohl(r.sndq_len), 0);
	assert_true(tcp_conn_at(idx)->flags & CONN_GUEST_FIN);
	fd = tcp_conn_at(idx)->fd;

	/* The peer still sends, and sees our end of file (again) */
	assert_int_equal(write(pr.sfd, "late", 4), 4);
	read_exact(fd, buf, 104);
	assert_memory_equal(buf + 100, "late", 4);
	assert_int_equal(fcntl(pr.sfd, F_SETFL, O_NONBLOCK), 0);
	wait_readable_eof(pr.sfd);
}

static void test_tcp_migrate_migrate_real_fin_after_unsent(void **state)
{
	static uint8_t buf[1 << 20];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	size_t sent, i;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* Data the peer has no room for, then the guest's FIN behind it:
	 * FIN_WAIT1, the FIN not even sent
	 */
	pair_open(&pr, 4096);
	sent = pair_fill(&pr, 10, 100000);
	assert_int_equal(shutdown(pr.cfd, SHUT_WR), 0);
	/* Let the peer's delayed ACK go out now: between the close on the
	 * source and the restore, nothing has these ports, and the ACK
	 * would be answered with a RST (same host, see doc/migration.md)
	 */
	usleep(100000);
	conn_install(pr.cfd, &key, 40006, pr.port, 0);

	tcp_real_move(&key, &r);
	assert_int_equal(r.fin, MIG_TCP_FIN_SENT);
	assert_true(ntohl(r.sndq_len) > 0);

	/* The peer gets all of it, in order, then the end of file */
	read_exact(pr.sfd, buf, sent);
	for (i = 0; i < sent; i++) {
		if (buf[i] != pattern(i % 4096))
			fail_msg("peer got byte %zu wrong", i);
	}
	assert_int_equal(fcntl(pr.sfd, F_SETFL, O_NONBLOCK), 0);
	wait_readable_eof(pr.sfd);
}

static void test_tcp_migrate_migrate_real_ipv6(void **state)
{
	static uint8_t buf[4096];
	struct sockaddr_in6 sa;
	struct mig_tcp_conn r;
	struct flow_key key;
	uint16_t port;
	socklen_t sl;
	unsigned idx;
	int fds[3] = { -1, -1, -1 }, fd;

	(void)state;
	if (!can_repair())
		skip();
	if (!pair6_open(fds, &port))
		skip();
	helper = HELPER_INPROC;

	memset(buf, 'v', sizeof(buf));
	assert_int_equal(write_all(fds[1], buf, 500), 0);
	wait_inq(fds[0], 500);
	memset(&key, 0, sizeof(key));
	key.proto = IPPROTO_TCP;
	key.gaddr.a6 = a6("2001:db8::15");
	key.faddr.a6 = a6("2001:db8::1");
	key.gport = 40008;
	key.fport = port;
	conn_install_key(fds[0], &key, 0);

	idx = tcp_real_move(&key, &r);
	assert_false(ref_mapped(r.laddr));
	assert_memory_equal(r.laddr, &in6addr_loopback, 16);
	assert_memory_equal(r.raddr, &in6addr_loopback, 16);
	assert_int_equal(ntohs(r.rport), port);
	assert_int_equal(ntohl(r.rcvq_len), 500);

	fd = tcp_conn_at(idx)->fd;
	sl = sizeof(sa);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(sa.sin6_family, AF_INET6);
	assert_int_equal(ntohs(sa.sin6_port), port);
	read_exact(fd, buf, 500);
	assert_int_equal(buf[499], 'v');
	assert_int_equal(send(fd, "six", 3, MSG_NOSIGNAL), 3);
	read_exact(fds[1], buf, 3);
	assert_memory_equal(buf, "six", 3);
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_sock_info(): once both
 * FINs are exchanged and acknowledged, the kernel's socket is in TCP_CLOSE
 * (LAST_ACK done, or TIME_WAIT for the peer's FIN after ours), but tcp.c
 * keeps the connection (CS_ESTABLISHED) until the guest has read all the
 * data still queued and acknowledged our FIN.  tcp_mig_movable() looks at
 * conn->state only, so the socket is frozen, then getpeername() fails
 * with ENOTCONN in tcp_mig_sock_info(): "TCP flow N can't be saved", the
 * connection is left out of the stream and closed by tcp_mig_release().
 * The guest loses the data it hadn't read yet, and gets a RST from the
 * target for its next segment.  A guest that half-closes and reads an
 * answer (HTTP/1.0, any request-response) hits this.
 */
static void test_tcp_migrate_migrate_real_both_fins(void **state)
{
	static uint8_t buf[4096];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* Both FINs exchanged and acknowledged: the kernel's socket is
	 * closed, but the guest still has 100 bytes to read from it, and
	 * our FIN to get: the daemon keeps the connection
	 */
	pair_open(&pr, 0);
	pair_fill(&pr, 100, 0);
	assert_int_equal(shutdown(pr.sfd, SHUT_WR), 0);
	usleep(20000);
	assert_int_equal(shutdown(pr.cfd, SHUT_WR), 0);
	usleep(20000);
	conn_install(pr.cfd, &key, 40007, pr.port, 0);
	tcp_conn_at((unsigned)flow_lookup(&key))->flags |= CONN_GUEST_FIN |
							    CONN_RDHUP;

	idx = tcp_real_move(&key, &r);
	assert_int_equal(ntohl(r.rcvq_len), 100);
	assert_true(tcp_conn_at(idx)->flags & CONN_RDHUP);
	assert_true(tcp_conn_at(idx)->flags & CONN_GUEST_FIN);
	read_exact(tcp_conn_at(idx)->fd, buf, 100);
	assert_int_equal(buf[99], pattern(99));
}

/* Found here, fixed (a drop-all socket filter on frozen sockets):
 * tcp_migrate.c, tcp_mig_freeze(): shrinking SO_RCVBUF and the
 * window probe don't stop the kernel taking, and acknowledging, data for
 * a frozen socket.  A segment is accepted whenever the receive memory in
 * use is under sk_rcvbuf, so a socket whose receive queue is empty (the
 * guest has read and acknowledged everything: the usual case) takes the
 * next segment, whatever its size; Linux never shrinks a window it offered
 * (unless net.ipv4.tcp_shrink_window=1, default 0), and sends the probe
 * only in TCP_ESTABLISHED.  Data arriving after tcp_mig_dump() read the
 * queue, and before tcp_mig_release() closes the socket, is acknowledged
 * to the peer and then thrown away with the socket: the target restores
 * the receive sequence from the dump, the peer never sends those bytes
 * again, and everything it sends later is out of order: the connection
 * stalls for good.
 */
static void test_tcp_migrate_migrate_real_data_after_dump(void **state)
{
	static uint8_t buf[64];
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	size_t got;
	int outq = -1;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40009, pr.port, 0);
	late_fd = pr.cfd;
	late_peer = pr.sfd;

	idx = tcp_real_move(&key, &r);
	assert_true(late_done);		/* "late" was sent after the dump */
	assert_false(late_queued);	/* ...and the frozen socket ignored it */
	assert_int_equal(ntohl(r.rcvq_len), 0);
	assert_int_equal(ioctl(pr.sfd, SIOCOUTQ, &outq), 0);

	assert_int_equal(write(pr.sfd, "more", 4), 4);
	got = read_upto(tcp_conn_at(idx)->fd, buf, 8, 2000);
	if (got != 8 || memcmp(buf, "latemore", 8) != 0)
		fail_msg("the guest got %zu of 8 bytes (\"late\" was %s "
			 "by the frozen socket, then lost)", got,
			 outq ? "not acknowledged" : "acknowledged");
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_save(): the source closed each
 * dumped socket, and until the target rebuilt it nothing had its
 * addresses, so a segment from the peer just then (data, a delayed ACK)
 * was answered with a RST by the kernel: the peer's connection was gone
 * before the target restored its end.  The source now holds the port
 * with a deaf listener (tcp_guard_add()), which drops such segments.
 */
static void tcp_real_gap(bool eperm, bool no_md5)
{
	static uint8_t buf[64];
	struct flow_key key;
	struct pair pr;
	size_t got;
	int idx;

	if (!can_repair())
		skip();
	helper = HELPER_INPROC;
	filter_eperm = eperm;
	md5_missing = no_md5;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40010, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(flow_lookup(&key) < 0);	/* the source let go */

	/* In the gap: the peer sends, and nothing answers it with a RST */
	assert_int_equal(write(pr.sfd, "gap!", 4), 4);
	usleep(20000);
	if (send(pr.sfd, "", 0, MSG_NOSIGNAL) < 0 && errno == ECONNRESET)
		fail_msg("the peer's connection was reset in the gap");

	assert_true(parse(&s1) > 0);
	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	migrate_guest_runs(&c);			/* the target's guest runs */
	idx = flow_lookup(&key);
	if (idx < 0) {
		log_dump();
		fail_msg("connection not restored");
	}

	/* The peer sends "gap!" again, to the target: nothing is lost */
	assert_int_equal(write(pr.sfd, "more", 4), 4);
	got = read_upto(tcp_conn_at((unsigned)idx)->fd, buf, 8, 5000);
	if (got != 8 || memcmp(buf, "gap!more", 8))
		fail_msg("the guest got %zu of 8 bytes", got);

	/* Frozen socket and guard on the source are deaf by a TCP-MD5 key,
	 * which needs nobody, or else by a filter, which the helper attached
	 * as we couldn't (detaching needs nobody).  The target's socket is
	 * never deaf: it isn't connected before the guest runs.
	 */
	assert_int_equal(helper_filters, eperm && no_md5 ? 2 : 0);
}

static void test_tcp_migrate_migrate_real_data_in_gap(void **state)
{
	(void)state;
	tcp_real_gap(false, false);
}

/* The same where attaching a socket filter takes CAP_NET_ADMIN: the
 * helper does it
 */
static void test_tcp_migrate_migrate_real_data_in_gap_helper(void **state)
{
	(void)state;
	tcp_real_gap(true, false);
}

/* The same on a kernel without TCP-MD5: frozen sockets and guards are
 * deaf by a socket filter, which the helper attaches
 */
static void test_tcp_migrate_migrate_real_data_in_gap_no_md5(void **state)
{
	(void)state;
	tcp_real_gap(true, true);
}

/* A socket made deaf takes nothing, not data, not a FIN, and answers
 * nothing; hearing again, it takes what the peer sends again.  @v6: a
 * socket accepted by a dual-stack listener from an IPv4 peer, whose
 * segments the kernel matches to IPv4 keys
 */
static void deaf_check(bool v6)
{
	union {
		struct sockaddr_in sa4;
		struct sockaddr_in6 sa6;
	} a = { 0 };
	socklen_t sl = v6 ? sizeof(a.sa6) : sizeof(a.sa4);
	int l, cl, s, zero = 0, one = 1;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct tcp_info ti;
	uint8_t b[8];

	if (!can_repair())
		skip();
	l = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	kept[nkept++] = l;
	if (v6) {
		a.sa6.sin6_family = AF_INET6;
		assert_int_equal(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
					    sizeof(zero)), 0);
	} else {
		a.sa4.sin_family = AF_INET;
		a.sa4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	assert_int_equal(bind(l, (struct sockaddr *)&a, sl), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &sl), 0);
	to.sin_port = v6 ? a.sa6.sin6_port : a.sa4.sin_port;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	kept[nkept++] = cl;
	assert_int_equal(connect(cl, (struct sockaddr *)&to, sizeof(to)), 0);
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s >= 0);
	kept[nkept++] = s;

	assert_int_equal(setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &one,
				    sizeof(one)), 0);
	assert_int_equal(tcp_deaf(&c, &s, 1, true), 0);
	assert_int_equal(write(cl, "deaf", 4), 4);
	assert_int_equal(shutdown(cl, SHUT_WR), 0);
	usleep(100 * 1000);
	sl = sizeof(ti);
	assert_int_equal(getsockopt(cl, IPPROTO_TCP, TCP_INFO, &ti, &sl), 0);
	if (ti.tcpi_unacked != 2)	/* four bytes and the FIN */
		fail_msg("a deaf socket acknowledged something: %u segments "
			 "left unacknowledged, not 2", ti.tcpi_unacked);
	assert_int_equal(ti.tcpi_state, TCP_FIN_WAIT1);

	assert_int_equal(tcp_deaf(&c, &s, 1, false), 0);
	assert_int_equal(setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &zero,
				    sizeof(zero)), 0);
	assert_int_equal(read_upto(s, b, 4, 5000), 4);	/* sent again */
	assert_memory_equal(b, "deaf", 4);
}

static void test_tcp_migrate_deaf_ipv4(void **state)
{
	(void)state;
	deaf_check(false);
}

static void test_tcp_migrate_deaf_ipv4_mapped(void **state)
{
	(void)state;
	deaf_check(true);
}

/* Many connections sharing their addresses: the stream carries each
 * address once, so that a connection costs its 108-byte record and its
 * queues; every connection comes back and carries data both ways.  The
 * guards come from the pool made when dirty logging started (what's left
 * of it is closed: the teardown counts descriptors)
 */
static void test_tcp_migrate_migrate_real_compact(void **state)
{
	enum { N = 32 };
	static struct pair pr[N];
	struct flow_key key[N];
	struct tcp_mig_table t;
	size_t len, recs_len, i;
	unsigned k;
	uint8_t b[8];

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	for (k = 0; k < N; k++) {
		pair_open(&pr[k], 0);
		conn_install(pr[k].cfd, &key[k], (uint16_t)(41000 + k),
			     pr[k].port, 0);
	}

	/* The migration starts: sockets for the guards, ahead */
	c.vdev->devstate->logging(c.vdev->devstate_opaque, true);
	assert_true(logged(LOG_DEBUG, "52 IPv4 and 16 IPv6 sockets ready to "
			   "guard TCP ports"));
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(parse(&s1) > 0);

	/* Guest, foreign, local and remote address: one each, here */
	for (i = 0; refs[i].sec->id != MIG_SEC_TCP2; i++)
		;
	len = refs[i].len;
	assert_int_equal(tcp_mig_table_find(refs[i].p, len, &t, &recs_len),
			 N);
	assert_int_equal(t.n, 3);	/* 127.0.0.1 is local and remote */
	assert_int_equal(len, 4 + N * sizeof(struct mig_tcp_rec) + 4 + 3 * 16);
	assert_true(len / N <= 128);

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	migrate_guest_runs(&c);
	for (k = 0; k < N; k++) {
		int idx = flow_lookup(&key[k]), fd;

		if (idx < 0)
			fail_msg("connection %u not restored", k);
		fd = tcp_conn_at((unsigned)idx)->fd;
		assert_int_equal(write(pr[k].sfd, "peer", 4), 4);
		assert_int_equal(read_upto(fd, b, 4, 5000), 4);
		assert_memory_equal(b, "peer", 4);
		assert_int_equal(write(fd, "ours", 4), 4);
		assert_int_equal(read_upto(pr[k].sfd, b, 4, 5000), 4);
		assert_memory_equal(b, "ours", 4);
	}
}

/* A hostile MIG_SEC_TCP2 payload: an address index past the table, a
 * table longer or shorter than its count, records running into the table
 */
static void test_tcp_migrate_migrate_compact_hostile(void **state)
{
	static uint8_t good[1024], p[1024];
	struct flow_key key;
	struct pair pr;
	size_t i, len;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;
	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 41100, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(parse(&s1) > 0);
	for (i = 0; refs[i].sec->id != MIG_SEC_TCP2; i++)
		;
	len = refs[i].len;
	assert_int_equal(len, 4 + sizeof(struct mig_tcp_rec) + 4 + 3 * 16);
	memcpy(good, refs[i].p, len);

	sb_one(&s2, MIG_SEC_TCP2, good, len);	/* as it is: fine */
	assert_true(parse(&s2) > 0);

	for (i = 0; i < 5; i++) {
		size_t plen = len;

		memcpy(p, good, len);
		switch (i) {
		case 0:		/* guest address: index 3, table of 3 */
			be32_put(p + 4, 3);
			break;
		case 1:		/* table count one more than it holds */
			be32_put(p + len - 4 - 3 * 16, 4);
			break;
		case 2:		/* and one less */
			be32_put(p + len - 4 - 3 * 16, 2);
			break;
		case 3:		/* receive queue into the table */
			be32_put(p + 4 + offsetof(struct mig_tcp_rec,
						  rcvq_len), 8);
			break;
		case 4:		/* no table at all */
			plen = len - 4 - 3 * 16;
			break;
		}
		sb_one(&s2, MIG_SEC_TCP2, p, plen);
		if (parse(&s2) >= 0)
			fail_msg("hostile TCP2 payload %zu accepted", i);
		assert_int_equal(flow_stats()->active, 0);
	}
}

/* Found by the fuzzer, fixed: two records with the same host addresses
 * and ports.  The second one's connect() finds the first one's socket
 * there (EADDRNOTAVAIL), and activation kept both staged, retrying for
 * ever.  A target runs the other at once, and loses that one (logged)
 * once it stops waiting for its addresses.
 */
static void test_tcp_migrate_migrate_same_tuple_twice(void **state)
{
	static uint8_t p[1024];
	size_t i, len, rlen = sizeof(struct mig_tcp_rec);
	struct flow_key key;
	struct pair pr;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;
	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 41200, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(parse(&s1) > 0);
	for (i = 0; refs[i].sec->id != MIG_SEC_TCP2; i++)
		;
	len = refs[i].len;
	assert_int_equal(len, 4 + rlen + 4 + 3 * 16);	/* no queues */

	/* count 2, the record twice (another guest port), the table */
	be32_put(p, 2);
	memcpy(p + 4, refs[i].p + 4, rlen);
	memcpy(p + 4 + rlen, refs[i].p + 4, rlen + 4 + 3 * 16);
	p[4 + rlen + offsetof(struct mig_tcp_rec, gport) + 1] ^= 1;
	sb_one(&s2, MIG_SEC_TCP2, p, len + rlen);
	assert_true(parse(&s2) > 0);
	assert_int_equal(migrate_apply(&c, refs), 0);
	/* A target first runs what it can, and waits for the rest... */
	assert_int_equal(tcp_mig_activate(&c, TCP_MIG_HELD_WAIT),
			 -EADDRNOTAVAIL);
	assert_true(flow_lookup(&key) >= 0);
	assert_true(tcp_mig_staged());
	assert_true(logged(LOG_INFO, "1 of 2 TCP connections running, 1 "
				     "waiting"));
	/* ...until it gives up on it (MIG_HELD_WAIT_MS): nothing more runs */
	assert_int_equal(tcp_mig_activate(&c, TCP_MIG_HELD_LOSE), 0);
	assert_false(tcp_mig_staged());
	assert_true(logged(LOG_ERR, "TCP connection 1 lost"));
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_save() closed each socket
 * once dumped, before the stream was written: if the front-end's reader
 * went away then, the connections were lost with the transfer.  Now they
 * close only once all is written, and a failed write thaws them.
 */
static void test_tcp_migrate_migrate_real_reader_gone(void **state)
{
	static uint8_t buf[64];
	struct flow_key key;
	struct pair pr;
	int fds[2], idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40011, pr.port, 0);
	assert_int_equal(write(pr.sfd, "before", 6), 6);

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[0]);			/* nobody reads the state */
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	assert_true(x_check() < 0);
	flow_defer_handler();
	assert_true(logged(LOG_INFO, "1 TCP connections resumed"));

	/* Ours still, both ways, nothing lost */
	idx = flow_lookup(&key);
	assert_true(idx >= 0);
	assert_int_equal(read_upto(pr.cfd, buf, 6, 2000), 6);
	assert_memory_equal(buf, "before", 6);
	assert_int_equal(write(pr.sfd, "after", 5), 5);
	assert_int_equal(read_upto(pr.cfd, buf, 5, 2000), 5);
	assert_memory_equal(buf, "after", 5);
	assert_int_equal(send(pr.cfd, "back", 4, MSG_NOSIGNAL), 4);
	assert_int_equal(read_upto(pr.sfd, buf, 4, 2000), 4);
	assert_memory_equal(buf, "back", 4);
	drop_tcp_flows();
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_restore() set SO_REUSEADDR on
 * the socket it rebuilds, which undoes what repair mode does for bind():
 * take the port whoever has it.  Another connection's TIME_WAIT remnant
 * on the same local port, without SO_REUSEADDR, then made the bind fail
 * (EADDRINUSE), and the connection was lost (seen in the integration
 * tests, with 100 connections).
 */
static void test_tcp_migrate_migrate_real_port_time_wait(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pair pr, other;
	struct mig_tcp_conn r;
	struct flow_key key;
	int x, xs, on = 1, off = 0, i;
	socklen_t sl = sizeof(sa);

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	pair_open(&other, 0);

	/* Another socket on our local port, to another peer, closed first:
	 * it stays in TIME_WAIT, not reusable
	 */
	assert_int_equal(setsockopt(pr.cfd, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	x = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(x >= 0);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	assert_int_equal(bind(x, (struct sockaddr *)&pr.local,
			      sizeof(pr.local)), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(other.port);
	assert_int_equal(connect(x, (struct sockaddr *)&sa, sl), 0);
	xs = accept4(other.lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(xs >= 0);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &off,
				    sizeof(off)), 0);
	assert_int_equal(setsockopt(pr.cfd, SOL_SOCKET, SO_REUSEADDR, &off,
				    sizeof(off)), 0);
	close(x);
	usleep(10000);
	close(xs);
	usleep(10000);

	/* Check it's there: binding to the port fails */
	x = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	i = bind(x, (struct sockaddr *)&pr.local, sizeof(pr.local));
	close(x);
	if (!i)
		skip();		/* no TIME_WAIT to block the port here */

	conn_install(pr.cfd, &key, 40012, pr.port, 0);
	tcp_real_move(&key, &r);
}

/* Found here, fixed: a restored socket left repair mode without
 * SO_REUSEADDR, so once closed, its TIME_WAIT remnant kept the next
 * daemon's listener off the forwarded port (seen in the integration
 * tests: the second target couldn't listen on it)
 */
static void test_tcp_migrate_migrate_real_restored_time_wait(void **state)
{
	struct mig_tcp_conn r;
	struct flow_key key;
	struct pair pr;
	unsigned idx;
	int fd, l, on = 1, rc;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40013, pr.port, 0);
	idx = tcp_real_move(&key, &r);
	fd = tcp_conn_at(idx)->fd;

	/* Our side closes first: TIME_WAIT here */
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	usleep(10000);
	close(pr.sfd);
	pr.sfd = -1;
	usleep(10000);
	drop_tcp_flows();

	/* A listener, as a forwarded port has, binds to its port */
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on,
				    sizeof(on)), 0);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &on,
				    sizeof(on)), 0);
	rc = bind(l, (struct sockaddr *)&pr.local, sizeof(pr.local));
	if (rc)
		fail_msg("bind to the closed connection's port: %s",
			 strerror(errno));
	close(l);
}

/* Found here, fixed: tcp_migrate.c, tcp_mig_dump_rcvq(): SO_PEEK_OFF was set to 0 once,
 * before the retry loop, but every MSG_PEEK moves the peek offset forward
 * by what it read.  If a segment arrives while the receive queue is read
 * (the sequence number moved: that's what the retry is for), the second
 * peek starts past the bytes already read, returns fewer bytes than
 * SIOCINQ says, tcp_mig_peek() gives -EIO, and the connection is left
 * out of the stream, then closed by tcp_mig_release(): it's lost.
 */
static void test_tcp_migrate_migrate_real_segment_during_dump(void **state)
{
	const struct mig_tcp_conn *r;
	struct mig_tcp_conn rec;
	struct flow_key key;
	struct pair pr;
	const uint8_t *p;
	size_t len;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	/* One byte queued, one more sent while the queue is read: the frozen
	 * socket must not take it (the peer sends it again to the target)
	 */
	pair_open(&pr, 0);
	pair_fill(&pr, 1, 0);
	conn_install(pr.cfd, &key, 40004, pr.port, 0);
	inject_fd = pr.cfd;
	inject_peer = pr.sfd;

	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(injected);		/* the byte was sent meanwhile */
	assert_false(injected_queued);	/* and not taken */
	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	if (be32_get(p) != 1)
		fail_msg("connection left out of the stream (%s)",
			 logged(LOG_WARNING, "can't be saved") ?
			 "\"can't be saved\" logged" : "?");
	memcpy(&rec, p + 4, sizeof(rec));
	r = &rec;
	assert_int_equal(ntohl(r->rcvq_len), 1);
	assert_int_equal(p[4 + sizeof(rec)], pattern(0));
}

/* ---------------------------------------------------------------- */
/* Tests: a migration that fails after the state was handed over     */
/* ---------------------------------------------------------------- */

/* The peer's end is alive: no RST, no FIN came */
static void peer_untouched(int sfd)
{
	char b;

	if (send(sfd, "", 0, MSG_NOSIGNAL) < 0 && errno == ECONNRESET)
		fail_msg("the peer's connection was reset");
	if (recv(sfd, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
		fail_msg("the peer got a FIN");
}

/* The connection of @key runs here, both ways, and the guest's side gets
 * @pre first (what the peer sent while it was frozen)
 */
static void conn_runs(const struct flow_key *key, struct pair *pr,
		      const char *pre)
{
	static uint8_t buf[64];
	size_t n = strlen(pre), got;
	int idx = flow_lookup(key);

	if (idx < 0) {
		log_dump();
		fail_msg("connection not running");
	}
	assert_int_equal(write(pr->sfd, "more", 4), 4);
	got = read_upto(tcp_conn_at((unsigned)idx)->fd, buf, n + 4, 5000);
	if (got != n + 4 || memcmp(buf, pre, n) || memcmp(buf + n, "more", 4))
		fail_msg("the guest got %zu of %zu bytes", got, n + 4);
	assert_int_equal(send(tcp_conn_at((unsigned)idx)->fd, "back", 4,
			      MSG_NOSIGNAL), 4);
	assert_int_equal(read_upto(pr->sfd, buf, 4, 5000), 4);
	assert_memory_equal(buf, "back", 4);
}

/* The state is out, the sockets closed; then QEMU starts the guest here
 * again (a failed migration, or libvirt's cont): every connection comes
 * back from our own stream, with what the peer sent meanwhile
 */
static void test_tcp_migrate_rollback_after_hand_over(void **state)
{
	struct flow_key key;
	struct pair pr;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40020, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(flow_lookup(&key) < 0);
	assert_true(migrate_source_done(&c));

	assert_int_equal(write(pr.sfd, "gap!", 4), 4);
	usleep(20000);
	peer_untouched(pr.sfd);

	log_clear();
	migrate_guest_runs(&c);
	assert_true(logged(LOG_INFO, "state taken back"));
	assert_false(migrate_source_done(&c));	/* we stay, and listen */
	conn_runs(&key, &pr, "gap!");
	peer_untouched(pr.sfd);

	/* Taken back once: the guest running on changes nothing */
	migrate_guest_runs(&c);
	assert_int_equal(flow_stats()->active, 1);
}

/* Put a socket in repair mode on the connection's addresses, as a target
 * on this host does with a connection it rebuilt and holds
 */
static int hold_tuple(const struct pair *pr)
{
	struct sockaddr_in peer = pr->local;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(s >= 0);
	assert_int_equal(setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &one,
				    sizeof(one)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&pr->local,
			      sizeof(pr->local)), 0);
	peer.sin_port = htons(pr->port);
	assert_int_equal(connect(s, (struct sockaddr *)&peer, sizeof(peer)),
			 0);
	return s;
}

/* Same host: a target still holds the connection (its QEMU is gone, but
 * it hasn't noticed yet), so taking it back fails at first; the source
 * tries again on each tick, and has it once the target let go
 */
static void test_tcp_migrate_rollback_waits_for_target(void **state)
{
	struct flow_key key;
	struct pair pr;
	int held;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40021, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	held = hold_tuple(&pr);

	clock_gettime(CLOCK_MONOTONIC, &c.now);
	migrate_guest_runs(&c);
	assert_true(flow_lookup(&key) < 0);	/* not yet */
	assert_false(migrate_source_done(&c));
	migrate_timer(&c);
	assert_true(flow_lookup(&key) < 0);
	peer_untouched(pr.sfd);

	close(held);			/* in repair mode: silently */
	assert_int_equal(write(pr.sfd, "late", 4), 4);
	migrate_timer(&c);
	conn_runs(&key, &pr, "late");
}

/* The source closes what it handed over only once QEMU has its answer to
 * CHECK_DEVICE_STATE: QEMU's guest stays stopped until then, and nothing
 * needs the sockets closed before.  Without a CHECK, the timer does it.
 */
static void test_tcp_migrate_release_after_check(void **state)
{
	struct flow_key key;
	struct pair pr;
	int round;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	for (round = 0; round < 2; round++) {
		pair_open(&pr, 0);
		conn_install(pr.cfd, &key, 40030 + round, pr.port, 0);
		log_clear();
		save_pipe_unchecked(&s1);
		flow_defer_handler();
		assert_true(flow_lookup(&key) >= 0);	/* frozen, still ours */
		assert_false(logged(LOG_INFO, "after-check phases"));
		assert_true(migrate_source_done(&c));

		if (!round) {
			assert_int_equal(x_check(), 0);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &c.now);
			migrate_timer(&c);		/* too early */
			assert_true(flow_lookup(&key) >= 0);
			c.now.tv_sec += 2;
			migrate_timer(&c);
		}
		flow_defer_handler();
		assert_true(flow_lookup(&key) < 0);
		assert_true(logged(LOG_INFO, "after-check phases, ms: release"));
		peer_untouched(pr.sfd);

		assert_int_equal(load_pieces(s1.b, s1.len), 0);
		migrate_guest_runs(&c);
		conn_runs(&key, &pr, "");
	}
}

/* A target on this host whose guest runs before the source has let go of
 * a connection's addresses (the source releases once QEMU has its answer
 * to CHECK_DEVICE_STATE) runs what it can, and the rest on a later try
 */
static void test_tcp_migrate_target_waits_for_release(void **state)
{
	struct mig_buf b = { 0 };
	struct flow_key key;
	struct pair pr;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40024, pr.port, 0);
	assert_int_equal(tcp_mig_freeze(&c), 0);
	assert_int_equal(tcp_mig_save(&c, &b), 0);
	assert_int_equal(tcp_mig_stage2(&c, b.p, b.len), 0);

	assert_int_equal(tcp_mig_activate(&c, TCP_MIG_HELD_WAIT),
			 -EADDRNOTAVAIL);
	assert_true(tcp_mig_staged());
	assert_int_equal(write(pr.sfd, "held", 4), 4);

	tcp_mig_release(&c);			/* the source lets go */
	flow_defer_handler();
	assert_int_equal(tcp_mig_activate(&c, TCP_MIG_HELD_WAIT), 1);
	assert_false(tcp_mig_staged());
	conn_runs(&key, &pr, "held");
	mig_buf_free(&b);
	tcp_guard_clear();
}

/* Addresses read when a migration starts (dirty logging on) serve the dump
 * only for the flow they were read for: a connection closed since, whose
 * flow entry and descriptor number a new one took, is dumped with its own
 */
static void test_tcp_migrate_names_read_ahead(void **state)
{
	struct flow_key ka, kb;
	struct mig_tcp_conn r;
	struct pair a, b;
	unsigned ia, ib;
	const uint8_t *p;
	size_t len;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&a, 0);
	ia = conn_install(a.cfd, &ka, 40040, a.port, 0);
	c.vdev->devstate->logging(c.vdev->devstate_opaque, true);
	assert_true(logged(LOG_DEBUG, "addresses of 1 TCP connections read"));

	tcp_conn_drop(&c, ia);			/* closes a.cfd */
	flow_defer_handler();
	pair_open(&b, 0);
	assert_int_equal(dup2(b.cfd, a.cfd), a.cfd);	/* its number again */
	close(b.cfd);
	b.cfd = a.cfd;
	ib = conn_install(b.cfd, &kb, 40041, b.port, 0);
	assert_int_equal(ib, ia);		/* its flow entry again */
	assert_true(b.local.sin_port != a.local.sin_port);

	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	assert_int_equal(be32_get(p), 1);
	memcpy(&r, p + 4, sizeof(r));
	assert_int_equal(r.lport, b.local.sin_port);
	assert_int_equal(ntohs(r.rport), b.port);
	assert_int_equal(ntohs(r.gport), 40041);

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	migrate_guest_runs(&c);
	conn_runs(&kb, &b, "");
	c.vdev->devstate->logging(c.vdev->devstate_opaque, false);
}

/* A target whose QEMU goes away before its guest ran lets go of what it
 * rebuilt, sending nothing: the same stream rebuilds it all again later
 */
static void test_tcp_migrate_target_unstages_silently(void **state)
{
	struct flow_key key;
	struct pair pr;
	int fds;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40022, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	fds = fd_count();

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	assert_true(tcp_mig_staged());
	assert_true(flow_lookup(&key) < 0);	/* waits for the guest */
	assert_int_equal(write(pr.sfd, "gap!", 4), 4);
	c.vdev->devstate->reset(c.vdev->devstate_opaque);	/* QEMU quits */
	assert_false(tcp_mig_staged());
	assert_int_equal(fd_count(), fds - 1);	/* staged socket, guard gone */
	usleep(20000);
	peer_untouched(pr.sfd);

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	migrate_guest_runs(&c);
	conn_runs(&key, &pr, "gap!");
}

/* The helper goes away between the freeze and the thaw (a failed save):
 * the connections stay frozen, untouched by the timers and by the guest's
 * segments, and carry on once a helper is back
 */
static void test_tcp_migrate_thaw_waits_for_helper(void **state)
{
	struct flow_key key;
	struct pair pr;
	int idx, on = -1;
	socklen_t sl = sizeof(on);

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	idx = (int)conn_install(pr.cfd, &key, 40023, pr.port, 0);
	assert_int_equal(tcp_mig_freeze(&c), 0);

	helper = HELPER_REAL;			/* gone: c.repair_fd is -1 */
	log_clear();
	tcp_mig_thaw(&c);
	assert_true(logged(LOG_ERR, "wait, frozen, for passt-repair"));
	assert_true(tcp_conn_at((unsigned)idx)->flags & CONN_FROZEN);
	assert_int_equal(getsockopt(pr.cfd, IPPROTO_TCP, TCP_REPAIR, &on, &sl),
			 0);
	assert_int_equal(on, 1);		/* still in repair mode */
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	migrate_timer(&c);			/* no helper yet: nothing */
	assert_true(tcp_conn_at((unsigned)idx)->flags & CONN_FROZEN);
	assert_int_equal(write(pr.sfd, "wait", 4), 4);

	helper = HELPER_INPROC;			/* back */
	migrate_timer(&c);
	assert_false(tcp_conn_at((unsigned)idx)->flags & CONN_FROZEN);
	assert_int_equal(getsockopt(pr.cfd, IPPROTO_TCP, TCP_REPAIR, &on, &sl),
			 0);
	assert_int_equal(on, 0);
	conn_runs(&key, &pr, "wait");
}

/* The migration fails while the helper is gone: taking the connections
 * back waits for it, on each tick
 */
static void test_tcp_migrate_rollback_waits_for_helper(void **state)
{
	struct flow_key key;
	struct pair pr;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	conn_install(pr.cfd, &key, 40024, pr.port, 0);
	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();

	helper = HELPER_REAL;			/* gone */
	clock_gettime(CLOCK_MONOTONIC, &c.now);
	migrate_guest_runs(&c);
	assert_true(flow_lookup(&key) < 0);
	migrate_timer(&c);
	assert_true(flow_lookup(&key) < 0);
	peer_untouched(pr.sfd);

	helper = HELPER_INPROC;			/* back */
	assert_int_equal(write(pr.sfd, "back", 4), 4);
	migrate_timer(&c);
	conn_runs(&key, &pr, "back");
}

/* ---------------------------------------------------------------- */
/* Tests: real handshakes, as root                                    */
/* ---------------------------------------------------------------- */

/* A segment from the guest of @key, through the daemon's handler */
static int guest_seg(const struct flow_key *key, uint8_t flags, uint32_t seq,
		     uint32_t ack, const char *data)
{
	static uint8_t b[sizeof(struct tcp_hdr) + 64];
	struct tcp_hdr h = { 0 };
	size_t len = data ? strlen(data) : 0;

	h.sport = htons(key->gport);
	h.dport = htons(key->fport);
	h.seq = htonl(seq);
	h.ack = htonl(ack);
	h.doff = (uint8_t)((sizeof(h) / 4) << 4);
	h.flags = flags;
	h.wnd = htons(65535);
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), data, len);
	return tcp_tap_handler(&c, &key->gaddr, &key->faddr, b,
			       sizeof(h) + len);
}

/* Turn an installed connection into a handshake in @st: our SYN sent */
static struct tcp_conn *hs_state(unsigned idx, uint8_t st)
{
	struct tcp_conn *conn = tcp_conn_at(idx);

	conn->state = st;
	conn->seq_to_guest = conn->seq_max = conn->seq_acked + 1;
	return conn;
}

/* Save the one connection of @key into @s1, its record in @r */
static void hs_save(const struct flow_key *key, struct mig_tcp_conn *r)
{
	const uint8_t *p;
	size_t len;

	assert_int_equal(save_pipe(&s1), 0);
	flow_defer_handler();
	assert_true(flow_lookup(key) < 0);
	assert_true(parse(&s1) > 0);
	p = tcp_section(&len);
	assert_int_equal(be32_get(p), 1);
	assert_true(len >= 4 + sizeof(*r));
	memcpy(r, p + 4, sizeof(*r));
}

/* Load @s1 (saved with one handshake) and run the guest: the SYN or
 * SYN-ACK goes to the guest only then.  Return: the restored flow
 */
static unsigned hs_load(const struct flow_key *key, uint8_t st)
{
	unsigned frames;
	int idx;

	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	frames = tap_frames;
	usleep(20000);
	assert_int_equal(tap_frames, frames);	/* staged: nothing sent */
	log_clear();
	migrate_guest_runs(&c);
	assert_true(logged(LOG_INFO, "1 of 1 TCP connections running"));
	idx = flow_lookup(key);
	assert_true(idx >= 0);
	assert_int_equal(tcp_conn_at((unsigned)idx)->state, st);
	if (st != CS_CONNECTING)
		assert_true(tap_frames > frames);	/* SYN or SYN-ACK again */
	return (unsigned)idx;
}

/* The guest's data reaches the peer @sfd, the peer's reaches the socket */
static void hs_data_both_ways(const struct flow_key *key, unsigned idx,
			      int sfd)
{
	struct tcp_conn *conn = tcp_conn_at(idx);
	uint8_t buf[8];

	assert_int_equal(conn->state, CS_ESTABLISHED);
	assert_int_equal(guest_seg(key, TCP_F_ACK | TCP_F_PSH,
				   conn->seq_from_guest, conn->seq_to_guest,
				   "guest"), 0);
	assert_int_equal(read_upto(sfd, buf, 5, 5000), 5);
	assert_memory_equal(buf, "guest", 5);
	assert_int_equal(write(sfd, "peer", 4), 4);
	wait_inq(conn->fd, 4);
}

/* Our SYN-ACK was out, the guest's ACK not in: the host socket moves, the
 * target sends the SYN-ACK again, and the guest's ACK completes it there,
 * with what the peer sent before (a server's banner) for the guest.  It
 * was still CS_CONNECTING here, but the connect() had completed: it is
 * dumped in full, as SYN_RCVD
 */
static void test_tcp_migrate_handshake_real_syn_rcvd(void **state)
{
	struct mig_tcp_conn r;
	struct tcp_conn *conn;
	struct flow_key key;
	struct pair pr;
	unsigned idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	assert_int_equal(write(pr.sfd, "banner", 6), 6);
	wait_inq(pr.cfd, 6);
	idx = conn_install(pr.cfd, &key, 40030, pr.port, 0);
	hs_state(idx, CS_CONNECTING);

	hs_save(&key, &r);
	assert_int_equal(r.state, CS_SYN_RCVD);
	assert_int_equal(ntohl(r.rcvq_len), 6);
	assert_int_equal(r.lport, pr.local.sin_port);
	assert_int_equal(ntohl(r.seq_to_guest), ntohl(r.seq_acked) + 1);

	idx = hs_load(&key, CS_SYN_RCVD);
	conn = tcp_conn_at(idx);
	assert_int_equal(guest_seg(&key, TCP_F_ACK, conn->seq_from_guest,
				   conn->seq_to_guest, NULL), 0);
	assert_int_equal(conn->state, CS_ESTABLISHED);
	/* The banner went to the guest: it acknowledges it */
	assert_int_equal(conn->seq_to_guest, ntohl(r.seq_to_guest) + 6);
	assert_int_equal(guest_seg(&key, TCP_F_ACK, conn->seq_from_guest,
				   conn->seq_to_guest, NULL), 0);
	assert_int_equal(conn->seq_acked, ntohl(r.seq_to_guest) + 6);
	hs_data_both_ways(&key, idx, pr.sfd);
	drop_tcp_flows();
}

/* Accepted on a forwarded port, our SYN out, the guest's SYN-ACK not in:
 * the target sends the SYN again, and the guest's SYN-ACK completes it
 */
static void test_tcp_migrate_handshake_real_syn_sent(void **state)
{
	struct mig_tcp_conn r;
	struct tcp_conn *conn;
	struct flow_key key;
	struct pair pr;
	unsigned idx;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	pair_open(&pr, 0);
	idx = conn_install(pr.cfd, &key, 40031, pr.port, 0);
	hs_state(idx, CS_SYN_SENT);
	hs_save(&key, &r);
	assert_int_equal(r.state, CS_SYN_SENT);

	idx = hs_load(&key, CS_SYN_SENT);
	conn = tcp_conn_at(idx);
	assert_int_equal(guest_seg(&key, TCP_F_SYN | TCP_F_ACK, 0x777,
				   conn->seq_acked, NULL), 0);	/* wrong */
	assert_int_equal(conn->state, CS_SYN_SENT);
	assert_int_equal(guest_seg(&key, TCP_F_SYN | TCP_F_ACK, 0x777,
				   conn->seq_to_guest, NULL), 0);
	assert_int_equal(conn->seq_from_guest, 0x778);
	hs_data_both_ways(&key, idx, pr.sfd);
	drop_tcp_flows();
}

/* A listener whose accept queue is full: SYNs to it are dropped.  @fds:
 * [0] the listener, [1] the connection filling its queue; the port set
 */
static void full_listener(int fds[2], uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(nkept + 2 <= ARRAY_SIZE(kept));
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	kept[nkept++] = fds[0];
	assert_int_equal(bind(fds[0], (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(fds[0], 0), 0);
	assert_int_equal(getsockname(fds[0], (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	kept[nkept++] = fds[1];
	assert_int_equal(connect(fds[1], (struct sockaddr *)&sa, sl), 0);
	usleep(20000);
}

/* A guest's connect() to 127.0.0.1:@port, our connect() pending */
static unsigned connecting_install(struct flow_key *key, uint16_t gport,
				   uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);
	unsigned idx;
	int fd;

	memset(key, 0, sizeof(*key));
	key->proto = IPPROTO_TCP;
	inany_from_v4(&key->gaddr, (struct in_addr){ htonl(0x0a00020f) });
	inany_from_v4(&key->faddr, (struct in_addr){ htonl(INADDR_LOOPBACK) });
	key->gport = gport;
	key->fport = port;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_true(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		    errno == EINPROGRESS);
	usleep(20000);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl), 0);
	assert_int_equal(ti.tcpi_state, TCP_SYN_SENT);
	idx = conn_install_key(fd, key, 0);
	hs_state(idx, CS_CONNECTING);
	return idx;
}

/* Our connect() of @idx completes: SYN-ACK to the guest, its ACK */
static void connecting_done(const struct flow_key *key, unsigned idx)
{
	struct tcp_conn *conn = tcp_conn_at(idx);
	struct pollfd pfd = { .fd = conn->fd, .events = POLLOUT };
	union evtag tag = { .kind = EV_TCP, .fd = conn->fd, .idx = idx };
	unsigned frames = tap_frames;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	tcp_sock_handler(&c, tag, EPOLLOUT);
	assert_int_equal(conn->state, CS_SYN_RCVD);
	assert_int_equal(tap_frames, frames + 1);	/* the SYN-ACK */
	assert_int_equal(guest_seg(key, TCP_F_ACK, conn->seq_from_guest,
				   conn->seq_to_guest, NULL), 0);
}

/* The peer hasn't answered our SYN yet: the record has our side and the
 * peer's address only, and the target connects again, once its guest
 * runs and not before; that connection completes the guest's
 */
static void test_tcp_migrate_handshake_real_connecting(void **state)
{
	struct pollfd pfd = { .events = POLLIN };
	struct mig_tcp_conn r;
	struct flow_key key;
	unsigned idx, calls;
	uint16_t port;
	int lf[2], fd, a;

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	full_listener(lf, &port);
	idx = connecting_install(&key, 40032, port);
	fd = tcp_conn_at(idx)->fd;

	hs_save(&key, &r);
	assert_false(flow_live(idx, FLOW_TCP));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(r.state, CS_CONNECTING);
	assert_true(ref_mapped(r.raddr));
	assert_int_equal(be32_get(r.raddr + 12), INADDR_LOOPBACK);
	assert_int_equal(ntohs(r.rport), port);
	assert_int_equal(r.lport, 0);
	assert_int_equal(r.rcvq_len, 0);

	/* Room for one now: a SYN would be answered at once */
	a = accept4(lf[0], NULL, NULL, SOCK_CLOEXEC);
	assert_true(a >= 0);
	close(a);
	calls = socket_calls;
	assert_int_equal(load_pieces(s1.b, s1.len), 0);
	assert_int_equal(socket_calls, calls);	/* staged: no socket at all */
	pfd.fd = lf[0];
	assert_int_equal(poll(&pfd, 1, 200), 0);	/* and no SYN */

	idx = hs_load(&key, CS_CONNECTING);
	assert_true(logged(LOG_INFO, "1 of them connecting again"));
	a = accept4(lf[0], NULL, NULL, SOCK_CLOEXEC);
	if (a < 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		a = accept4(lf[0], NULL, NULL, SOCK_CLOEXEC);
	}
	assert_true(a >= 0);
	kept[nkept++] = a;
	connecting_done(&key, idx);
	hs_data_both_ways(&key, idx, a);
	drop_tcp_flows();
}

/* The transfer fails after the freeze: a socket in SYN_SENT leaves repair
 * mode as it was, and its connect() completes once the peer has room
 */
static void test_tcp_migrate_handshake_real_connecting_thaw(void **state)
{
	struct flow_key key;
	unsigned idx;
	uint16_t port;
	int lf[2], fd, a, on = -1;
	socklen_t sl = sizeof(on);

	(void)state;
	if (!can_repair())
		skip();
	helper = HELPER_INPROC;

	full_listener(lf, &port);
	idx = connecting_install(&key, 40033, port);
	fd = tcp_conn_at(idx)->fd;
	assert_int_equal(tcp_mig_freeze(&c), 0);
	assert_true(tcp_conn_at(idx)->flags & CONN_FROZEN);
	tcp_mig_thaw(&c);
	assert_false(tcp_conn_at(idx)->flags & CONN_FROZEN);
	assert_int_equal(tcp_conn_at(idx)->fd, fd);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, &sl), 0);
	assert_int_equal(on, 0);

	a = accept4(lf[0], NULL, NULL, SOCK_CLOEXEC);	/* room */
	assert_true(a >= 0);
	close(a);
	connecting_done(&key, idx);
	a = accept4(lf[0], NULL, NULL, SOCK_CLOEXEC);
	assert_true(a >= 0);
	kept[nkept++] = a;
	hs_data_both_ways(&key, idx, a);
	drop_tcp_flows();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, mig_setup, mig_teardown)
		T(test_tcp_migrate_migrate_zero_connections_accepted),
		T(test_tcp_migrate_migrate_fuzz_vs_reference),
		T(test_tcp_migrate_migrate_record_checks),
		T(test_tcp_migrate_handshake_record_checks),
		T(test_tcp_migrate_handshake_fuzz_vs_reference),
		T(test_tcp_migrate_migrate_payload_checks),
		T(test_tcp_migrate_migrate_apply_no_helper),
		T(test_tcp_migrate_migrate_apply_helper_fails),
		T(test_tcp_migrate_migrate_apply_repair_not_really_on),
		T(test_tcp_migrate_migrate_apply_socket_fails),
		T(test_tcp_migrate_migrate_save_tcp_no_helper),
		T(test_tcp_migrate_migrate_real_round_trip),
		T(test_tcp_migrate_migrate_real_ipv6),
		T(test_tcp_migrate_migrate_real_fin_received),
		T(test_tcp_migrate_migrate_real_fin_owed),
		T(test_tcp_migrate_migrate_real_fin_sent),
		T(test_tcp_migrate_migrate_real_data_in_gap),
		T(test_tcp_migrate_migrate_real_data_in_gap_helper),
		T(test_tcp_migrate_migrate_real_data_in_gap_no_md5),
		T(test_tcp_migrate_deaf_ipv4),
		T(test_tcp_migrate_deaf_ipv4_mapped),
		T(test_tcp_migrate_migrate_real_compact),
		T(test_tcp_migrate_migrate_compact_hostile),
		T(test_tcp_migrate_migrate_same_tuple_twice),
		T(test_tcp_migrate_migrate_real_reader_gone),
		T(test_tcp_migrate_migrate_real_port_time_wait),
		T(test_tcp_migrate_migrate_real_restored_time_wait),
		T(test_tcp_migrate_migrate_real_fin_after_unsent),
		T(test_tcp_migrate_migrate_real_both_fins),
		T(test_tcp_migrate_migrate_real_segment_during_dump),
		T(test_tcp_migrate_rollback_after_hand_over),
		T(test_tcp_migrate_rollback_waits_for_target),
		T(test_tcp_migrate_target_unstages_silently),
		T(test_tcp_migrate_release_after_check),
		T(test_tcp_migrate_target_waits_for_release),
		T(test_tcp_migrate_names_read_ahead),
		T(test_tcp_migrate_thaw_waits_for_helper),
		T(test_tcp_migrate_rollback_waits_for_helper),
		T(test_tcp_migrate_migrate_real_data_after_dump),
		T(test_tcp_migrate_handshake_real_syn_rcvd),
		T(test_tcp_migrate_handshake_real_syn_sent),
		T(test_tcp_migrate_handshake_real_connecting),
		T(test_tcp_migrate_handshake_real_connecting_thaw),
#undef T
	};

	mig_main_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
