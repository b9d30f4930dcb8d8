// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/migrate.c - The device state stream, and the transfer around it
 *
 * What is tested, against the real migrate.o:
 *
 * - crc32c() against published check values and a bitwise reference
 * - streams written by migrate_build(), checked byte by byte against the
 *   layout tables in doc/migration.md, read back into another context
 * - hostile streams, built by hand with correct CRCs (sb_*() in
 *   common_migrate.c): every truncation, a flipped byte at every offset,
 *   the version rules, the structure of sections, each field check of the
 *   guest section, and random mutations of it compared with a naive
 *   reference checker written from the documentation (ref_guest_ok())
 * - the transfer as QEMU drives it: migrate_devstate_ops with real pipes
 *   and a real epoll instance, for loads and saves, short, early closed,
 *   full pipes, replaced and abandoned transfers; mig_buf limits
 *
 * The TCP section has its own tests, test/unit/tcp_migrate.c; the
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
#include "tcp_migrate.h"
#include "common.h"
#include "common_migrate.h"

/* The layout of section 1 in doc/migration.md, checked against the struct */
static_assert(offsetof(struct mig_guest, mac_set) == 6, "doc");
static_assert(offsetof(struct mig_guest, v4) == 7, "doc");
static_assert(offsetof(struct mig_guest, v6) == 8, "doc");
static_assert(offsetof(struct mig_guest, prefix4) == 9, "doc");
static_assert(offsetof(struct mig_guest, prefix6) == 10, "doc");
static_assert(offsetof(struct mig_guest, addr4) == 12, "doc");
static_assert(offsetof(struct mig_guest, addr4_seen) == 16, "doc");
static_assert(offsetof(struct mig_guest, addr6) == 20, "doc");
static_assert(offsetof(struct mig_guest, addr6_seen) == 36, "doc");
static_assert(offsetof(struct mig_guest, addr6_ll_seen) == 52, "doc");

/* ---------------------------------------------------------------- */
/* Tests: CRC32C                                                     */
/* ---------------------------------------------------------------- */

/* Bitwise, reflected, polynomial 0x1edc6f41 (0x82f63b78 reversed) */
static uint32_t crc32c_ref(uint32_t crc, const uint8_t *p, size_t len)
{
	unsigned k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & (0U - (crc & 1)));
	}
	return ~crc;
}

static void test_migrate_crc32c_check_values(void **state)
{
	static const char check[] = "123456789";
	uint8_t b[32];
	unsigned i;

	(void)state;
	assert_int_equal(crc32c(0, check, 9), 0xe3069283);

	/* RFC 3720, B.4 */
	memset(b, 0, sizeof(b));
	assert_int_equal(crc32c(0, b, 32), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(crc32c(0, b, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, b, 32), 0x46dd794e);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, b, 32), 0x113fdb5c);

	/* Nothing: the CRC so far, unchanged */
	assert_int_equal(crc32c(0, b, 0), 0);
	assert_int_equal(crc32c(0xdeadbeef, b, 0), 0xdeadbeef);
}

static void test_migrate_crc32c_incremental(void **state)
{
	static uint8_t b[4096];
	unsigned i, k;

	(void)state;
	for (k = 0; k <= 9; k++)
		assert_int_equal(crc32c(crc32c(0, "123456789", k),
					"123456789" + k, 9 - k), 0xe3069283);

	srand(3720);
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)rand() % sizeof(b), cut, j;
		uint32_t whole;

		for (j = 0; j < len; j++)
			b[j] = (uint8_t)rand();
		cut = len ? (size_t)rand() % (len + 1) : 0;
		whole = crc32c(0, b, len);
		assert_int_equal(whole, crc32c_ref(0, b, len));
		assert_int_equal(crc32c(crc32c(0, b, cut), b + cut, len - cut),
				 whole);
	}
}

/* ---------------------------------------------------------------- */
/* Tests: streams from migrate_build()                               */
/* ---------------------------------------------------------------- */

/* Build from @src into s1, via migrate_build() */
static void build_src(void)
{
	struct mig_buf b = { 0 };

	assert_int_equal(migrate_build(&src, &b), 0);
	assert_non_null(b.p);
	s1.len = 0;
	sb_raw(&s1, b.p, b.len);
	mig_buf_free(&b);
	assert_null(b.p);
}

static void test_migrate_build_layout_as_documented(void **state)
{
	uint8_t g[GUEST_LEN];
	const uint8_t *p;

	(void)state;
	build_src();
	guest_put(g, &src);

	/* Header */
	assert_int_equal(s1.len, 16 + (8 + GUEST_LEN + 4) + (8 + 8 + 4) +
			 2 * (8 + 4 + 4) +
			 (8 + 4));
	assert_memory_equal(s1.b, "passtvms", 8);
	assert_int_equal(be32_get(s1.b + 8), MIGRATE_VERSION);
	assert_int_equal(be32_get(s1.b + 12), MIGRATE_MIN_VERSION);

	/* Guest: id 1, 68 bytes at the offsets of the doc's table */
	p = s1.b + 16;
	assert_int_equal(be32_get(p), 1);
	assert_int_equal(be32_get(p + 4), GUEST_LEN);
	assert_memory_equal(p + 8, g, GUEST_LEN);
	assert_int_equal(be32_get(p + 8 + GUEST_LEN),
			 crc32c_ref(0, p, 8 + GUEST_LEN));

	/* TCP: id 5, no connection without a helper: a zero count, and an
	 * empty address table
	 */
	p += 8 + GUEST_LEN + 4;
	assert_int_equal(be32_get(p), 5);
	assert_int_equal(be32_get(p + 4), 8);
	assert_int_equal(be32_get(p + 8), 0);
	assert_int_equal(be32_get(p + 12), 0);
	assert_int_equal(be32_get(p + 16), crc32c_ref(0, p, 16));

	/* UDP, id 3, and ICMP, id 4: no flow, a zero count each */
	for (p += 20; be32_get(p) != 0; p += 16) {
		assert_true(be32_get(p) == 3 || be32_get(p) == 4);
		assert_int_equal(be32_get(p + 4), 4);
		assert_int_equal(be32_get(p + 8), 0);
		assert_int_equal(be32_get(p + 12), crc32c_ref(0, p, 12));
	}

	/* End marker, nothing after it */
	assert_int_equal(be32_get(p), 0);
	assert_int_equal(be32_get(p + 4), 0);
	assert_int_equal(be32_get(p + 8), crc32c_ref(0, p, 8));
	assert_ptr_equal(p + 12, s1.b + s1.len);
}

static void test_migrate_round_trip(void **state)
{
	uint8_t g[GUEST_LEN];
	int n;

	(void)state;
	build_src();
	guest_put(g, &src);

	n = parse(&s1);
	assert_int_equal(n, 4);
	assert_non_null(refs[0].sec);
	assert_int_equal(refs[0].sec->id, MIG_SEC_GUEST);
	assert_int_equal(refs[0].len, GUEST_LEN);
	assert_non_null(refs[1].sec);
	assert_int_equal(refs[1].sec->id, MIG_SEC_TCP2);
	assert_int_equal(refs[1].len, 8);
	assert_int_equal(refs[2].sec->id, MIG_SEC_UDP);
	assert_int_equal(refs[3].sec->id, MIG_SEC_ICMP);
	assert_null(refs[4].p);
	assert_null(refs[4].sec);
	assert_unchanged();			/* parsing touched nothing */

	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	assert_true(c.guest_mac_set);
	assert_memory_equal(&c.ip4.addr, &src.ip4.addr, 4);
	assert_int_equal(c.ip4.prefix_len, src.ip4.prefix_len);
	assert_memory_equal(&c.ip4.addr_seen, &src.ip4.addr_seen, 4);
	assert_memory_equal(&c.ip6.addr, &src.ip6.addr, 16);
	assert_int_equal(c.ip6.prefix_len, src.ip6.prefix_len);
	assert_memory_equal(&c.ip6.addr_seen, &src.ip6.addr_seen, 16);
	assert_memory_equal(&c.ip6.addr_ll_seen, &src.ip6.addr_ll_seen, 16);
	/* ...and nothing else changed */
	assert_memory_equal(&c, &want, sizeof(c));
	assert_int_equal(flow_stats()->active, 0);

	/* The lease that replaced ours is logged */
	assert_true(logged(LOG_INFO, "IPv4 lease"));
	assert_true(logged(LOG_INFO, "IPv6 lease"));
}

static void test_migrate_round_trip_partial(void **state)
{
	uint8_t g[GUEST_LEN];

	(void)state;

	/* Source without a known MAC, without IPv6: target keeps those */
	src.guest_mac_set = false;
	src.v6 = false;
	build_src();
	guest_put(g, &src);
	c.guest_mac[0] = 0x02;
	c.guest_mac_set = true;
	/* Target without IPv4: it takes no IPv4 state */
	c.v4 = false;
	snapshot();

	assert_int_equal(parse(&s1), 4);
	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_memory_equal(&want, &snap, sizeof(c));	/* nothing applies */
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_unchanged();

	/* Now the target has IPv4: it takes the lease */
	c.v4 = true;
	snapshot();
	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_memory_equal(&c, &want, sizeof(c));
	assert_memory_equal(&c.ip4.addr, &src.ip4.addr, 4);
	assert_memory_equal(&c.ip6.addr, &snap.ip6.addr, 16);
	assert_int_equal(c.guest_mac[0], 0x02);
}

/* ---------------------------------------------------------------- */
/* Tests: truncated and corrupted streams                            */
/* ---------------------------------------------------------------- */

static void truncated_parse(const struct sb *s, int full)
{
	size_t len;

	for (len = 0; len < s->len; len++) {
		unsigned before = nlogs;
		int rc = migrate_parse(&c, s->b, len, refs);

		if (rc >= 0)
			fail_msg("stream cut at %zu of %zu bytes accepted",
				 len, s->len);
		assert_true(nlogs > before);	/* refusals are logged */
		assert_unchanged();
	}
	assert_int_equal(migrate_parse(&c, s->b, s->len, refs), full);
}

static void test_migrate_truncated_every_length(void **state)
{
	(void)state;
	build_src();
	truncated_parse(&s1, 4);

	tp_three(&tp);
	sb_full(&s1, 1, 1, &tp);	/* the landed version */
	truncated_parse(&s1, 2);
}

static void test_migrate_truncated_every_length_transfer(void **state)
{
	size_t len;
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		if (k == 0) {
			build_src();
		} else {
			tp_three(&tp);
			sb_full(&s1, 1, 1, &tp);
		}

		for (len = 0; len < s1.len; len++) {
			int rc = load_pipe(s1.b, len, len % 2);

			if (!rc)
				fail_msg("load cut at %zu of %zu bytes passed",
					 len, s1.len);
			assert_unchanged();
			assert_int_equal(flow_stats()->active, 0);
		}
		assert_int_equal(socket_calls, 0);	/* nothing applied */
		assert_int_equal(fd_count(), fd_base + 1);	/* epoll */
	}
}

/* What a stream with these header fields should give, per the doc */
static int ref_hdr_rc(uint32_t version, uint32_t min_version)
{
	if (!version || !min_version || min_version > version)
		return -EINVAL;
	if (min_version > MIGRATE_VERSION)
		return -ENOTSUP;
	return 0;
}

static void flip_every_offset(struct sb *s)
{
	static const uint8_t masks[] = { 1, 2, 4, 8, 16, 32, 64, 128, 0xff };
	int full = parse(s);
	size_t off;
	unsigned m;

	assert_true(full > 0);
	for (off = 0; off < s->len; off++) {
		for (m = 0; m < sizeof(masks); m++) {
			int rc, want_rc = -EINVAL;

			s->b[off] ^= masks[m];
			if (off >= 8 && off < 16)
				want_rc = ref_hdr_rc(be32_get(s->b + 8),
						     be32_get(s->b + 12));
			rc = parse(s);
			s->b[off] ^= masks[m];

			if (!want_rc && rc != full)
				fail_msg("flip 0x%02x at %zu: %d, not %d",
					 masks[m], off, rc, full);
			if (want_rc && rc != want_rc)
				fail_msg("flip 0x%02x at %zu: %d, not %d",
					 masks[m], off, rc, want_rc);
		}
	}
	assert_unchanged();
}

static void test_migrate_flipped_byte_every_offset(void **state)
{
	static const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	uint8_t g[GUEST_LEN];

	(void)state;
	build_src();
	flip_every_offset(&s1);

	/* Records with queues, an unknown section, a newer version */
	guest_put(g, &src);
	tp_three(&tp);
	sb_hdr(&s1, 7, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_end(&s1);
	flip_every_offset(&s1);
}

static void test_migrate_flipped_byte_transfer(void **state)
{
	size_t off;

	(void)state;
	build_src();
	for (off = 0; off < s1.len; off++) {
		int want_rc = -EINVAL, rc;

		s1.b[off] ^= 0xff;
		if (off >= 8 && off < 16)
			want_rc = ref_hdr_rc(be32_get(s1.b + 8),
					     be32_get(s1.b + 12));
		rc = load_pipe(s1.b, s1.len, true);
		s1.b[off] ^= 0xff;

		if (want_rc) {
			if (!rc)
				fail_msg("load with 0x%02x at %zu passed",
					 s1.b[off] ^ 0xff, off);
			assert_unchanged();
		} else {
			assert_int_equal(rc, 0);
			assert_memory_equal(c.guest_mac, src.guest_mac, 6);
			memcpy(&c, &snap, sizeof(c));
		}
	}
}

/* Random changes to a guest payload, CRC fixed: same verdict as ours */
static void test_migrate_guest_fuzz_vs_reference(void **state)
{
	uint8_t g[GUEST_LEN + 8] = { 0 };
	unsigned i, accepted = 0;

	(void)state;
	srand(68);
	for (i = 0; i < 20000; i++) {
		size_t len = GUEST_LEN;
		unsigned k, n = 1 + (unsigned)rand() % 3;
		bool ok;
		int rc;

		guest_put(g, &src);
		for (k = 0; k < n; k++) {
			size_t off = (size_t)rand() % 12;  /* flags, prefixes */

			if (rand() % 4 == 0)
				off = (size_t)rand() % GUEST_LEN;
			g[off] = (uint8_t)(rand() % 3 ? rand() % 3 :
					   rand() % 256);
			if (off == 9)		/* around the limit, or any */
				g[off] = (uint8_t)(rand() % 2 ? 31 + rand() % 4 :
						   rand() % 256);
			if (off == 10)
				g[off] = (uint8_t)(rand() % 2 ?
						   127 + rand() % 4 :
						   rand() % 256);
		}
		if (rand() % 16 == 0)
			len = (size_t)rand() % sizeof(g);

		sb_one(&s1, MIG_SEC_GUEST, g, len);
		ok = ref_guest_ok(g, len);
		rc = parse(&s1);
		if (ok != (rc >= 0))
			fail_msg("guest payload case %u: ours %s, reference %s",
				 i, rc >= 0 ? "accepts" : "refuses",
				 ok ? "accepts" : "refuses");
		accepted += ok;
	}
	/* Both verdicts were exercised */
	assert_true(accepted > 1000 && accepted < 19000);
}

/* ---------------------------------------------------------------- */
/* Tests: version rules and stream structure                         */
/* ---------------------------------------------------------------- */

static void test_migrate_version_needs_newer_reader(void **state)
{
	(void)state;
	build_src();
	be32_put(s1.b + 8, MIGRATE_VERSION + 1);
	be32_put(s1.b + 12, MIGRATE_VERSION + 1);
	assert_int_equal(parse(&s1), -ENOTSUP);
	assert_true(logged(LOG_ERR, "needs a reader"));

	sb_full(&s1, 7, MIGRATE_VERSION + 1, NULL);
	assert_int_equal(parse(&s1), -ENOTSUP);
	sb_full(&s1, 0xffffffff, 0xffffffff, NULL);
	assert_int_equal(parse(&s1), -ENOTSUP);
	assert_unchanged();

	/* Through the transfer: refused, nothing applied */
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
}

static void test_migrate_version_newer_readable(void **state)
{
	static const uint8_t junk[] = "a section from version 7";
	uint8_t g[GUEST_LEN];

	(void)state;
	static const uint8_t no_tcp[8];		/* no connection, no address */

	guest_put(g, &src);
	sb_hdr(&s1, 7, 2);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_TCP2, no_tcp, sizeof(no_tcp));
	sb_sec(&s1, 100, NULL, 0);
	sb_end(&s1);

	assert_int_equal(parse(&s1), 4);
	assert_int_equal(refs[0].sec->id, MIG_SEC_GUEST);
	assert_null(refs[1].sec);			/* skipped */
	assert_int_equal(refs[1].len, sizeof(junk));
	assert_int_equal(refs[2].sec->id, MIG_SEC_TCP2);
	assert_null(refs[3].sec);
	assert_true(logged(LOG_INFO, "skipping unknown section 99"));

	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(&c, &want, sizeof(c));

	/* The unknown section's CRC is still checked */
	s1.b[16 + 8 + GUEST_LEN + 4 + 8 + 3] ^= 0x20;
	memcpy(&c, &snap, sizeof(c));
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
}

static void test_migrate_version_invalid(void **state)
{
	static const uint32_t bad[][2] = {
		{ 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 2 }, { 3, 5 },
		{ 7, 0 }, { 0xffffffff, 0 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sb_full(&s1, bad[i][0], bad[i][1], NULL);
		assert_int_equal(parse(&s1), -EINVAL);
		assert_true(load_pipe(s1.b, s1.len, true) < 0);
		assert_unchanged();
	}

	/* Not our magic */
	sb_full(&s1, 1, 1, NULL);
	s1.b[7] = 'S';
	assert_int_equal(parse(&s1), -EINVAL);
	assert_true(logged(LOG_ERR, "not a passt state stream"));
}

static void test_migrate_after_end_marker(void **state)
{
	static const uint8_t more[68];
	unsigned extra;

	(void)state;
	for (extra = 1; extra <= 12; extra++) {
		build_src();
		memset(s1.b + s1.len, 0, extra);
		s1.len += extra;
		assert_true(parse(&s1) < 0);
		assert_true(load_pipe(s1.b, s1.len, true) < 0);
		assert_unchanged();
	}

	/* A whole valid section after the end marker */
	build_src();
	sb_sec(&s1, 99, more, sizeof(more));
	assert_true(parse(&s1) < 0);
	assert_true(logged(LOG_ERR, "after the end marker"));

	/* Two end markers */
	build_src();
	sb_end(&s1);
	assert_true(parse(&s1) < 0);

	/* An end marker with a payload, its CRC right */
	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_END, more, 4);
	assert_true(parse(&s1) < 0);
	assert_unchanged();
}

static void test_migrate_missing_end_marker(void **state)
{
	uint8_t g[GUEST_LEN];

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);
	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();

	/* Header only */
	sb_hdr(&s1, 1, 1);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();
}

static void test_migrate_only_end_marker(void **state)
{
	(void)state;
	sb_hdr(&s1, 1, 1);
	sb_end(&s1);
	assert_int_equal(parse(&s1), 0);
	assert_null(refs[0].p);
	assert_int_equal(migrate_apply(&c, refs), 0);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_unchanged();
}

static void test_migrate_section_twice(void **state)
{
	static const uint8_t junk[3];
	uint8_t g[GUEST_LEN];

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);

	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_true(logged(LOG_ERR, "twice"));
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();

	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_true(load_pipe(s1.b, s1.len, true) < 0);
	assert_unchanged();

	/* Twice in a newer stream, read with our table: still refused */
	sb_hdr(&s1, 9, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, 99, junk, sizeof(junk));
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_unchanged();
}

static void test_migrate_too_many_sections(void **state)
{
	uint8_t g[GUEST_LEN];
	unsigned i;

	(void)state;
	guest_put(g, &src);
	tp_begin(&tp, 0);

	/* MIGRATE_SECTIONS_MAX sections in all, with the end marker: fine */
	sb_hdr(&s1, 1, 1);
	sb_sec(&s1, MIG_SEC_GUEST, g, sizeof(g));
	sb_sec(&s1, MIG_SEC_TCP, tp.b, tp.len);
	for (i = 0; i < MIGRATE_SECTIONS_MAX - 3; i++)
		sb_sec(&s1, 100 + i, &i, sizeof(i));
	memcpy(&s2, &s1, sizeof(s1));
	sb_end(&s1);
	assert_int_equal(parse(&s1), MIGRATE_SECTIONS_MAX - 1);
	memcpy(&want, &c, sizeof(c));
	guest_ref_apply(&want, g);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(&c, &want, sizeof(c));
	memcpy(&c, &snap, sizeof(c));

	/* One more */
	sb_sec(&s2, 200, NULL, 0);
	sb_end(&s2);
	assert_true(parse(&s2) < 0);
	assert_true(logged(LOG_ERR, "more than"));
	assert_true(load_pipe(s2.b, s2.len, true) < 0);
	assert_unchanged();

	/* Many more, all skippable: still refused, no overrun */
	sb_hdr(&s1, 1, 1);
	for (i = 0; i < 1000; i++)
		sb_sec(&s1, 1000 + i, NULL, 0);
	sb_end(&s1);
	assert_true(parse(&s1) < 0);
	assert_unchanged();
}

static void test_migrate_section_length_past_end(void **state)
{
	static const uint32_t lens[] = { 69, 80, 0x7fffffff, 0x80000000,
					 0xfffffff3, 0xfffffff4, 0xffffffff };
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		build_src();
		be32_put(s1.b + 16 + 4, lens[i]);
		assert_true(parse(&s1) < 0);
		assert_unchanged();
	}
}

/* ---------------------------------------------------------------- */
/* Tests: the guest section                                          */
/* ---------------------------------------------------------------- */

static void guest_expect(const uint8_t *g, size_t len, bool ok)
{
	int rc;

	sb_one(&s1, MIG_SEC_GUEST, g, len);
	rc = parse(&s1);
	if (ok && rc != 1)
		fail_msg("valid guest section (%zu bytes) refused: %d", len, rc);
	if (!ok && rc >= 0)
		fail_msg("bad guest section (%zu bytes) accepted", len);
	if (!ok) {
		assert_true(load_pipe(s1.b, s1.len, true) < 0);
		assert_unchanged();
	}
}

static void test_migrate_guest_section_checks(void **state)
{
	static const size_t bad_len[] = { 0, 1, 67, 69, 136 };
	uint8_t g[GUEST_LEN * 2];
	unsigned i, v;

	(void)state;
	guest_put(g, &src);
	memcpy(g + GUEST_LEN, g, GUEST_LEN);
	guest_expect(g, GUEST_LEN, true);

	for (i = 0; i < ARRAY_SIZE(bad_len); i++)
		guest_expect(g, bad_len[i], false);

	for (v = 0; v < 256; v++) {
		guest_put(g, &src);
		g[9] = (uint8_t)v;				/* prefix4 */
		guest_expect(g, GUEST_LEN, v <= 32);
		guest_put(g, &src);
		g[10] = (uint8_t)v;				/* prefix6 */
		guest_expect(g, GUEST_LEN, v <= 128);
		for (i = 6; i <= 8; i++) {		/* mac_set, v4, v6 */
			guest_put(g, &src);
			g[i] = (uint8_t)v;
			guest_expect(g, GUEST_LEN, v <= 1);
		}
	}
}

/* ---------------------------------------------------------------- */
/* Tests: the transfer                                               */
/* ---------------------------------------------------------------- */

static void test_migrate_check_before_any_transfer(void **state)
{
	(void)state;
	/* Runs first: nothing was transferred in this process yet */
	assert_true(x_check() < 0);
	assert_false(migrate_source_done(&c));
	migrate_handler(&c, EPOLLIN);		/* nothing running: ignored */
	assert_true(x_check() < 0);
	assert_unchanged();
}

static void test_migrate_load_valid(void **state)
{
	struct epoll_event ev;
	union evtag tag;
	int fds[2];

	(void)state;
	build_src();
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(write_all(fds[1], s1.b, s1.len), 0);
	close(fds[1]);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	assert_unchanged();			/* not before it's read */

	/* The pipe is served by the loop: an EV_DEVSTATE event */
	assert_int_equal(epoll_wait(c.epollfd, &ev, 1, 1000), 1);
	tag.u64 = ev.data.u64;
	assert_int_equal(tag.kind, EV_DEVSTATE);
	assert_int_equal(tag.fd, fds[0]);
	assert_true(ev.events & (EPOLLIN | EPOLLHUP));
	migrate_handler(&c, ev.events);

	assert_int_equal(x_check(), 0);
	assert_int_equal(x_check(), 0);		/* asking again: same */
	assert_memory_equal(&c, &want, sizeof(c));
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);	/* closed by us */
	assert_int_equal(epoll_wait(c.epollfd, &ev, 1, 0), 0);
	assert_false(migrate_source_done(&c));
}

static void test_migrate_load_check_reads_rest(void **state)
{
	(void)state;
	/* QEMU closes its end, then asks: check() reads and loads */
	build_src();
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);
	assert_int_equal(load_pipe(s1.b, s1.len, false), 0);
	assert_memory_equal(&c, &want, sizeof(c));
}

static void test_migrate_load_in_pieces(void **state)
{
	int fds[2];
	size_t cut;

	(void)state;
	build_src();
	memcpy(&want, &c, sizeof(c));
	guest_put(s2.b, &src);
	guest_ref_apply(&want, s2.b);

	for (cut = 0; cut <= s1.len; cut += 7) {
		memcpy(&c, &snap, sizeof(c));
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
		assert_int_equal(write_all(fds[1], s1.b, cut), 0);
		migrate_handler(&c, EPOLLIN);
		assert_unchanged();			/* not yet */
		assert_int_equal(write_all(fds[1], s1.b + cut, s1.len - cut),
				 0);
		migrate_handler(&c, EPOLLIN);
		assert_unchanged();			/* no end of file */
		close(fds[1]);
		migrate_handler(&c, EPOLLIN | EPOLLHUP);
		assert_int_equal(x_check(), 0);
		assert_memory_equal(&c, &want, sizeof(c));
	}
}

static void test_migrate_load_nothing_or_garbage(void **state)
{
	static uint8_t junk[4096];
	unsigned i;

	(void)state;
	assert_true(load_pipe(NULL, 0, true) < 0);	/* closed at once */
	assert_unchanged();
	assert_true(load_pipe(NULL, 0, false) < 0);
	assert_unchanged();

	srand(4096);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	assert_true(load_pipe(junk, sizeof(junk), true) < 0);
	memcpy(junk, "passtvms\0\0\0\1\0\0\0\1", 16);
	assert_true(load_pipe(junk, sizeof(junk), true) < 0);
	assert_unchanged();
}

static void test_migrate_load_writer_closes_early(void **state)
{
	size_t cut;

	(void)state;
	build_src();
	/* QEMU closes its end halfway: what came is refused */
	for (cut = 1; cut < s1.len; cut += 13) {
		assert_true(load_pipe(s1.b, cut, true) < 0);
		assert_unchanged();
	}
}

static void test_migrate_load_large_stream(void **state)
{
	struct mig_tcp_conn r;
	unsigned i;

	(void)state;
	/* 1 MiB of queues, more than a pipe holds: read across many
	 * events, to the end; with no helper, the connections can't be
	 * rebuilt and the load fails (for the source to keep them), but
	 * only once the whole stream was read and checked
	 */
	tp_begin(&tp, 4);
	for (i = 0; i < 4; i++) {
		rec_init(&r, i, i % 2, 200000, 1000, 62144);
		tp_rec(&tp, &r);
	}
	sb_full(&s1, 1, 1, &tp);
	assert_true(s1.len > (1 << 20));
	assert_int_equal(parse(&s1), 2);
	assert_int_equal(load_pieces(s1.b, s1.len), -ENOTCONN);
	assert_true(logged(LOG_ERR, "4 TCP connections can't be rebuilt"));
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	assert_int_equal(flow_stats()->active, 0);

	/* Cut by one byte: refused */
	memcpy(&c, &snap, sizeof(c));
	assert_true(load_pieces(s1.b, s1.len - 1) < 0);
	assert_unchanged();
}

static void test_migrate_save_valid(void **state)
{
	struct mig_buf b = { 0 };

	(void)state;
	ctx_source(&c);			/* this daemon is the source now */
	c.epollfd = src.epollfd;
	migrate_init(&c);
	snapshot();

	assert_int_equal(save_pipe(&s1), 0);
	assert_int_equal(parse(&s1), 4);
	assert_int_equal(be32_get(refs[1].p), 0);	/* no connection */
	assert_true(logged(LOG_INFO, "wrote"));

	/* The same bytes as a stream built directly */
	assert_int_equal(migrate_build(&c, &b), 0);
	assert_int_equal(b.len, s1.len);
	assert_memory_equal(b.p, s1.b, s1.len);
	mig_buf_free(&b);

	assert_true(migrate_source_done(&c));
	assert_unchanged();

	/* And it loads into a target */
	ctx_target(&c);
	c.epollfd = src.epollfd;
	migrate_init(&c);
	assert_int_equal(load_pipe(s1.b, s1.len, true), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	assert_memory_equal(&c.ip6.addr, &src.ip6.addr, 16);
}

static void test_migrate_save_reader_closed(void **state)
{
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[0]);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	assert_true(x_check() < 0);
	assert_true(logged(LOG_ERR, "save failed"));
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);	/* closed by us */
	migrate_handler(&c, EPOLLERR);			/* stale: ignored */
	assert_true(x_check() < 0);
	assert_unchanged();
}

/* A pipe of one page, full, as a slow reader leaves it */
static void pipe_full(int fds[2])
{
	static uint8_t fill[4096];
	ssize_t n;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_true(fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 4096);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	do
		n = write(fds[1], fill, sizeof(fill));
	while (n > 0);
	assert_int_equal(errno, EAGAIN);
}

static void test_migrate_save_pipe_full(void **state)
{
	static uint8_t drain[1 << 16];
	int fds[2], i;
	ssize_t n;

	(void)state;
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	migrate_handler(&c, EPOLLOUT);		/* still full */
	assert_int_equal(fcntl(fds[1], F_GETFD) >= 0, 1);	/* waiting */

	while (read(fds[0], drain, sizeof(drain)) > 0)
		;
	s1.len = 0;
	for (i = 0; i < 1000; i++) {
		migrate_handler(&c, EPOLLOUT);
		n = read(fds[0], s1.b + s1.len, SB_SIZE - s1.len);
		if (!n)
			break;
		if (n > 0)
			s1.len += (size_t)n;
	}
	close(fds[0]);
	assert_int_equal(x_check(), 0);
	assert_int_equal(parse(&s1), 4);
}

static void test_migrate_save_reader_closes_midway(void **state)
{
	int fds[2];

	(void)state;
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	close(fds[0]);
	migrate_handler(&c, EPOLLOUT | EPOLLERR);
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);

	/* Same, but the daemon finds out by writing */
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	close(fds[0]);
	migrate_handler(&c, EPOLLOUT);
	assert_true(x_check() < 0);
	assert_unchanged();
}

static void test_migrate_check_abandons_incomplete(void **state)
{
	static uint8_t drain[1 << 16];
	int fds[2];
	ssize_t n;

	(void)state;
	build_src();

	/* CHECK_DEVICE_STATE while the load pipe is still open: fails, and
	 * nothing of it is applied later
	 */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(fds[1], s1.b, s1.len / 2), 0);
	migrate_handler(&c, EPOLLIN);
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(write_all(fds[1], s1.b + s1.len / 2,
				   s1.len - s1.len / 2), -EPIPE);
	close(fds[1]);
	migrate_handler(&c, EPOLLIN | EPOLLHUP);	/* stale */
	assert_true(x_check() < 0);
	assert_unchanged();

	/* All of it there, but the writer still open: same */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(x_start(fds[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(fds[1], s1.b, s1.len), 0);
	assert_true(x_check() < 0);
	close(fds[1]);
	migrate_handler(&c, EPOLLIN | EPOLLHUP);
	assert_true(x_check() < 0);
	assert_unchanged();

	/* A save QEMU stopped reading */
	pipe_full(fds);
	assert_int_equal(x_start(fds[1], VHOST_USER_STATE_SAVE), 0);
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);
	while ((n = read(fds[0], drain, sizeof(drain))) > 0)
		assert_int_equal(drain[0], 0);		/* the filler only */
	assert_int_equal(n, 0);
	close(fds[0]);
	migrate_handler(&c, EPOLLOUT);
	assert_true(x_check() < 0);
	assert_unchanged();
}

static void test_migrate_transfer_replaced_or_reset(void **state)
{
	int a[2], b[2];

	(void)state;
	build_src();

	/* A load left hanging, replaced by another one */
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(x_start(a[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(a[1], s1.b, 20), 0);
	migrate_handler(&c, EPOLLIN);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	assert_int_equal(write_all(b[1], s1.b, s1.len), 0);
	close(b[1]);
	assert_int_equal(x_start(b[0], VHOST_USER_STATE_LOAD), 0);
	assert_true(logged(LOG_WARNING, "abandoned"));
	assert_int_equal(fcntl(a[0], F_GETFD), -1);	/* old one closed */
	migrate_handler(&c, EPOLLIN | EPOLLHUP);
	assert_int_equal(x_check(), 0);
	assert_memory_equal(c.guest_mac, src.guest_mac, 6);
	close(a[1]);
	memcpy(&c, &snap, sizeof(c));

	/* The session ends during a load: abandoned, nothing applied */
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(x_start(a[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(write_all(a[1], s1.b, s1.len), 0);
	x_reset();
	assert_true(x_check() < 0);
	assert_int_equal(fcntl(a[0], F_GETFD), -1);
	migrate_handler(&c, EPOLLIN);
	assert_true(x_check() < 0);
	close(a[1]);
	assert_unchanged();

	/* A save while a load is hanging */
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(x_start(a[0], VHOST_USER_STATE_LOAD), 0);
	assert_int_equal(save_pipe(&s2), 0);
	assert_int_equal(parse(&s2), 4);
	assert_int_equal(fcntl(a[0], F_GETFD), -1);
	close(a[1]);
	assert_unchanged();
}

static void test_migrate_start_bad_fd(void **state)
{
	int fds[2];

	(void)state;
	assert_true(x_start(-1, VHOST_USER_STATE_LOAD) < 0);
	assert_true(x_check() < 0);
	assert_true(x_start(-1, VHOST_USER_STATE_SAVE) < 0);
	assert_true(x_check() < 0);

	/* No epoll instance: refused, the fd is closed */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	c.epollfd = -1;
	assert_true(x_start(fds[0], VHOST_USER_STATE_LOAD) < 0);
	c.epollfd = snap.epollfd;
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_true(x_check() < 0);
	close(fds[1]);
	assert_unchanged();
}

/* ---------------------------------------------------------------- */
/* Tests: mig_buf limits                                             */
/* ---------------------------------------------------------------- */

static void test_migrate_buf_limits(void **state)
{
	struct mig_buf b = { 0 };
	static uint8_t big[1 << 18];
	size_t i, total = 0;

	(void)state;
	/* Over the limit, on an empty buffer: refused, nothing mapped */
	assert_null(mig_buf_reserve(&b, MIGRATE_STREAM_MAX + 1));
	assert_null(mig_buf_reserve(&b, SIZE_MAX));
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(mig_buf_put(&b, big, MIGRATE_STREAM_MAX + 1),
			 -ENOMEM);
	assert_null(b.p);

	/* Growth keeps what's there */
	for (i = 0; i < sizeof(big); i++)
		big[i] = pattern(i);
	while (total < (3U << 20)) {
		size_t n = 1 + (total * 7919) % sizeof(big);

		assert_int_equal(mig_buf_put(&b, big, n), 0);
		total += n;
		assert_int_equal(b.len, total);
		assert_true(b.cap >= b.len);
	}
	for (i = 0, total = 0; total < b.len; i++) {
		size_t n = 1 + (total * 7919) % sizeof(big);

		assert_memory_equal(b.p + total, big, n);
		total += n;
	}

	/* Reserving doesn't count, and leaves the contents */
	assert_non_null(mig_buf_reserve(&b, 1 << 20));
	assert_int_equal(b.len, total);
	assert_true(b.cap >= total + (1 << 20));
	assert_memory_equal(b.p, big, 1);

	/* Past the limit from here: refused, the buffer as it was */
	assert_null(mig_buf_reserve(&b, MIGRATE_STREAM_MAX - b.len + 1));
	assert_null(mig_buf_reserve(&b, SIZE_MAX - b.len + 1));
	assert_null(mig_buf_reserve(&b, SIZE_MAX));
	assert_int_equal(mig_buf_put(&b, big, MIGRATE_STREAM_MAX), -ENOMEM);
	assert_int_equal(b.len, total);
	assert_memory_equal(b.p, big, 1);

	/* Freed: empty, and usable again; freeing twice is harmless */
	mig_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	mig_buf_free(&b);
	assert_int_equal(mig_buf_put(&b, "x", 1), 0);
	assert_int_equal(b.p[0], 'x');
	mig_buf_free(&b);
}

static void test_migrate_buf_limit_exact(void **state)
{
	struct mig_buf b = { 0 };
	uint8_t *p;

	(void)state;
	/* Exactly MIGRATE_STREAM_MAX: allowed (mapped, never touched) */
	assert_int_equal(mig_buf_put(&b, "abc", 3), 0);
	p = mig_buf_reserve(&b, MIGRATE_STREAM_MAX - 3);
	assert_non_null(p);
	assert_ptr_equal(p, b.p + 3);
	assert_memory_equal(b.p, "abc", 3);
	assert_true(b.cap >= MIGRATE_STREAM_MAX);
	assert_null(mig_buf_reserve(&b, MIGRATE_STREAM_MAX - 2));
	mig_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, mig_setup, mig_teardown)
		T(test_migrate_check_before_any_transfer),
		cmocka_unit_test(test_migrate_crc32c_check_values),
		cmocka_unit_test(test_migrate_crc32c_incremental),
		T(test_migrate_build_layout_as_documented),
		T(test_migrate_round_trip),
		T(test_migrate_round_trip_partial),
		T(test_migrate_truncated_every_length),
		T(test_migrate_truncated_every_length_transfer),
		T(test_migrate_flipped_byte_every_offset),
		T(test_migrate_flipped_byte_transfer),
		T(test_migrate_guest_fuzz_vs_reference),
		T(test_migrate_version_needs_newer_reader),
		T(test_migrate_version_newer_readable),
		T(test_migrate_version_invalid),
		T(test_migrate_after_end_marker),
		T(test_migrate_missing_end_marker),
		T(test_migrate_only_end_marker),
		T(test_migrate_section_twice),
		T(test_migrate_too_many_sections),
		T(test_migrate_section_length_past_end),
		T(test_migrate_guest_section_checks),
		T(test_migrate_load_valid),
		T(test_migrate_load_check_reads_rest),
		T(test_migrate_load_in_pieces),
		T(test_migrate_load_nothing_or_garbage),
		T(test_migrate_load_writer_closes_early),
		T(test_migrate_load_large_stream),
		T(test_migrate_save_valid),
		T(test_migrate_save_reader_closed),
		T(test_migrate_save_pipe_full),
		T(test_migrate_save_reader_closes_midway),
		T(test_migrate_check_abandons_incomplete),
		T(test_migrate_transfer_replaced_or_reset),
		T(test_migrate_start_bad_fd),
		T(test_migrate_buf_limits),
		T(test_migrate_buf_limit_exact),
#undef T
	};

	mig_main_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
