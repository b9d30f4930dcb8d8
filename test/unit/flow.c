// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for flow.c: SipHash-2-4 against the paper's test vector, the
 * table at capacity and past it, deferred freeing, iteration, long hash
 * chains built on purpose under a known secret, and random operations
 * checked against a naive reference array.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "flow.h"

static const uint8_t test_secret[FLOW_HASH_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

/* Distinct key number n: UDP, guest 10.0.0.1:(n%60000+1024) to 192.0.2.x */
static struct flow_key mkkey(unsigned n)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.proto = IPPROTO_UDP;
	inany_from_v4(&k.gaddr, (struct in_addr){ htonl(0x0a000001) });
	inany_from_v4(&k.faddr,
		      (struct in_addr){ htonl(0xc0000200 + n / 60000) });
	k.gport = 1024 + n % 60000;
	k.fport = 53;
	return k;
}

static int setup(void **state)
{
	(void)state;
	flow_init();
	return 0;
}

/* ---------------------------------------------------------------- */

static void test_flow_siphash_paper_vector(void **state)
{
	uint8_t msg[15];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = i;

	/* Appendix A of the paper: key 00..0f, message 00..0e */
	assert_int_equal(siphash_2_4(test_secret, msg, 15),
			 0xa129ca6149be45e5ULL);
	/* Reference vectors: empty message, and 8 bytes (a full word) */
	assert_int_equal(siphash_2_4(test_secret, msg, 0),
			 0x726fdb47dd0e0e31ULL);
	assert_int_equal(siphash_2_4(test_secret, msg, 8),
			 0x93f5f5799a932462ULL);
}

static void test_flow_key_padding_ignored(void **state)
{
	struct flow_key a, b;

	(void)state;
	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xaa, sizeof(b));	/* garbage in the padding */
	a = mkkey(7);
	b.proto = a.proto;
	b.gaddr = a.gaddr;
	b.faddr = a.faddr;
	b.gport = a.gport;
	b.fport = a.fport;

	assert_int_equal(flow_bucket(&a), flow_bucket(&b));
	assert_true(flow_alloc(FLOW_UDP, &a) >= 0);
	assert_int_equal(flow_alloc(FLOW_UDP, &b), -EEXIST);
	assert_int_equal(flow_lookup(&b), flow_lookup(&a));
}

static void test_flow_alloc_lookup_exists(void **state)
{
	struct flow_key k = mkkey(1), other = mkkey(2);
	int idx;

	(void)state;
	assert_int_equal(flow_lookup(&k), -ENOENT);
	idx = flow_alloc(FLOW_TCP, &k);
	assert_true(idx >= 0 && idx < FLOW_MAX);
	assert_int_equal(flow_lookup(&k), idx);
	assert_int_equal(flow_lookup(&other), -ENOENT);
	assert_int_equal(flow_alloc(FLOW_UDP, &k), -EEXIST);
	assert_true(flow_live(idx, FLOW_TCP));
	assert_false(flow_live(idx, FLOW_UDP));
	assert_false(flow_live(FLOW_MAX, FLOW_TCP));
	assert_false(flow_live(~0U, FLOW_TCP));
	assert_memory_equal(&flow_key(idx)->faddr, &k.faddr, 16);
	assert_int_equal(flow_key(idx)->gport, k.gport);
	assert_int_equal(flow_stats()->active, 1);
	assert_int_equal(flow_stats()->allocs, 1);
}

static void test_flow_fill_refuse_free_defer(void **state)
{
	static int idx[FLOW_MAX];
	struct flow_key k;
	unsigned i;
	int extra;

	(void)state;
	for (i = 0; i < FLOW_MAX; i++) {
		k = mkkey(i);
		idx[i] = flow_alloc(FLOW_UDP, &k);
		assert_true(idx[i] >= 0);
	}
	assert_int_equal(flow_stats()->active, FLOW_MAX);

	/* Full: refused and counted, everything else intact */
	k = mkkey(FLOW_MAX);
	assert_int_equal(flow_alloc(FLOW_UDP, &k), -ENOSPC);
	assert_int_equal(flow_alloc(FLOW_TCP, &k), -ENOSPC);
	assert_int_equal(flow_stats()->refused, 2);
	for (i = 0; i < FLOW_MAX; i++) {
		k = mkkey(i);
		assert_int_equal(flow_lookup(&k), idx[i]);
		assert_true(flow_live(idx[i], FLOW_UDP));
	}

	/* Free one: gone at once, but the slot is not reusable yet */
	k = mkkey(100);
	flow_free(idx[100]);
	assert_false(flow_live(idx[100], FLOW_UDP));
	assert_int_equal(flow_lookup(&k), -ENOENT);
	assert_int_equal(flow_stats()->active, FLOW_MAX - 1);
	k = mkkey(FLOW_MAX);
	assert_int_equal(flow_alloc(FLOW_UDP, &k), -ENOSPC);

	/* After the deferred pass it is */
	flow_defer_handler();
	extra = flow_alloc(FLOW_UDP, &k);
	assert_int_equal(extra, idx[100]);
	assert_true(flow_live(extra, FLOW_UDP));
	assert_int_equal(flow_lookup(&k), extra);
	k = mkkey(100);
	assert_int_equal(flow_lookup(&k), -ENOENT);
}

static void test_flow_same_key_in_same_batch(void **state)
{
	struct flow_key k = mkkey(5);
	int a, b;

	(void)state;
	a = flow_alloc(FLOW_UDP, &k);
	assert_true(a >= 0);
	flow_free(a);
	b = flow_alloc(FLOW_UDP, &k);	/* before the defer */
	assert_true(b >= 0);
	assert_int_not_equal(a, b);
	assert_false(flow_live(a, FLOW_UDP));
	assert_true(flow_live(b, FLOW_UDP));
	assert_int_equal(flow_lookup(&k), b);

	flow_defer_handler();
	assert_false(flow_live(a, FLOW_UDP));
	assert_int_equal(flow_lookup(&k), b);
}

static void test_flow_expire_to_empty(void **state)
{
	struct flow_key k;
	unsigned i, n;
	int idx;

	(void)state;
	for (i = 0; i < FLOW_MAX; i++) {
		k = mkkey(i);
		assert_true(flow_alloc(i % 3 ? FLOW_UDP : FLOW_TCP, &k) >= 0);
	}

	/* Free every UDP flow while iterating, as a timer would */
	n = 0;
	for (idx = flow_next(FLOW_UDP, -1); idx >= 0;
	     idx = flow_next(FLOW_UDP, idx)) {
		flow_free(idx);
		n++;
	}
	assert_int_equal(n, FLOW_MAX - (FLOW_MAX + 2) / 3);
	assert_int_equal(flow_next(FLOW_UDP, -1), -1);
	assert_true(flow_next(FLOW_TCP, -1) >= 0);

	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx))
		flow_free(idx);
	flow_defer_handler();

	assert_int_equal(flow_stats()->active, 0);
	assert_int_equal(flow_next(FLOW_TCP, -1), -1);
	for (i = 0; i < FLOW_MAX; i++) {
		k = mkkey(i);
		assert_int_equal(flow_lookup(&k), -ENOENT);
	}

	/* The whole table is usable again */
	for (i = 0; i < FLOW_MAX; i++) {
		k = mkkey(i + 77777);
		assert_true(flow_alloc(FLOW_PING, &k) >= 0);
	}
	k = mkkey(1);
	assert_int_equal(flow_alloc(FLOW_PING, &k), -ENOSPC);
}

/* Keys all in one bucket, found by search under a known secret */
#define CHAIN_LEN	24

static void test_flow_long_chain(void **state)
{
	struct flow_key keys[CHAIN_LEN], k;
	int idx[CHAIN_LEN];
	unsigned n = 0, i, target;

	(void)state;
	flow_init_key(test_secret);
	k = mkkey(0);
	target = flow_bucket(&k);
	for (i = 0; n < CHAIN_LEN; i++) {
		k = mkkey(i);
		k.fport = i / 60000;	/* widen the key space */
		if (flow_bucket(&k) == target)
			keys[n++] = k;
	}

	for (i = 0; i < CHAIN_LEN; i++) {
		idx[i] = flow_alloc(FLOW_UDP, &keys[i]);
		assert_true(idx[i] >= 0);
	}
	for (i = 0; i < CHAIN_LEN; i++) {
		assert_int_equal(flow_lookup(&keys[i]), idx[i]);
		assert_int_equal(flow_alloc(FLOW_UDP, &keys[i]), -EEXIST);
	}

	/* Unlink from the head, the middle and the tail of the chain */
	for (i = 0; i < CHAIN_LEN; i += 3)
		flow_free(idx[i]);
	flow_free(idx[CHAIN_LEN - 1]);
	for (i = 0; i < CHAIN_LEN; i++) {
		bool gone = !(i % 3) || i == CHAIN_LEN - 1;

		assert_int_equal(flow_lookup(&keys[i]), gone ? -ENOENT : idx[i]);
	}
	flow_defer_handler();
	for (i = 0; i < CHAIN_LEN; i += 3)
		assert_true(flow_alloc(FLOW_UDP, &keys[i]) >= 0);
	for (i = 0; i < CHAIN_LEN - 1; i++)
		assert_true(flow_lookup(&keys[i]) >= 0);
	assert_int_equal(flow_lookup(&keys[CHAIN_LEN - 1]), -ENOENT);
}

/* Random operations against a naive array of (key number -> index) */
#define REF_KEYS	(FLOW_MAX + FLOW_MAX / 2)
#define REF_OPS		200000

static void test_flow_random_vs_reference(void **state)
{
	static int ref[REF_KEYS];	/* index, or -1 */
	static int owner[FLOW_MAX];	/* key number, or -1: live slots */
	unsigned i, live = 0, pending = 0;
	struct flow_key k;
	int r;

	(void)state;
	srandom(1234);
	for (i = 0; i < REF_KEYS; i++)
		ref[i] = -1;
	for (i = 0; i < FLOW_MAX; i++)
		owner[i] = -1;

	for (i = 0; i < REF_OPS; i++) {
		unsigned n = random() % REF_KEYS, op = random() % 8;

		k = mkkey(n);
		if (op < 4) {			/* alloc */
			r = flow_alloc(FLOW_UDP, &k);
			if (ref[n] >= 0) {
				assert_int_equal(r, -EEXIST);
			} else if (live + pending == FLOW_MAX) {
				/* Full, counting slots freed this batch */
				assert_int_equal(r, -ENOSPC);
			} else {
				assert_true(r >= 0 && r < FLOW_MAX);
				assert_int_equal(owner[r], -1);
				ref[n] = r;
				owner[r] = n;
				live++;
			}
		} else if (op < 6) {		/* lookup */
			assert_int_equal(flow_lookup(&k),
					 ref[n] >= 0 ? ref[n] : -ENOENT);
		} else if (op < 7) {		/* free */
			if (ref[n] >= 0) {
				flow_free(ref[n]);
				assert_false(flow_live(ref[n], FLOW_UDP));
				owner[ref[n]] = -1;
				ref[n] = -1;
				live--;
				pending++;
			}
		} else if (!(random() % 16)) {	/* end of a batch */
			flow_defer_handler();
			pending = 0;
		}
		assert_int_equal(flow_stats()->active, live);
	}

	/* Every live index is found by its key, every other key is not */
	for (i = 0; i < REF_KEYS; i++) {
		k = mkkey(i);
		assert_int_equal(flow_lookup(&k), ref[i] >= 0 ? ref[i] : -ENOENT);
	}
	for (i = 0; i < FLOW_MAX; i++)
		assert_int_equal(flow_live(i, FLOW_UDP), owner[i] >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_siphash_paper_vector),
		cmocka_unit_test_setup(test_flow_key_padding_ignored, setup),
		cmocka_unit_test_setup(test_flow_alloc_lookup_exists, setup),
		cmocka_unit_test_setup(test_flow_fill_refuse_free_defer, setup),
		cmocka_unit_test_setup(test_flow_same_key_in_same_batch, setup),
		cmocka_unit_test_setup(test_flow_expire_to_empty, setup),
		cmocka_unit_test_setup(test_flow_long_chain, setup),
		cmocka_unit_test_setup(test_flow_random_vs_reference, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
