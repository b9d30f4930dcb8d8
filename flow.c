// SPDX-License-Identifier: GPL-2.0-or-later
/* flow.c - Flow table: allocate, look up and free flows of every protocol
 *
 * DOC: Theory of operation
 *
 * A flow is one conversation as the guest sees it, named by a struct
 * flow_key (protocol, guest address and port, foreign address and port).
 * This module owns only the generic part: a fixed table of FLOW_MAX
 * entries, each with its type and key.  Protocols keep their own per-flow
 * state in static arrays indexed by the same flow index.
 *
 * Lookup: a hash table of FLOW_HASH_SIZE buckets, each the head of a
 * chain of entries linked by index.  Keys are hashed with SipHash-2-4
 * under a 128-bit secret from getrandom() taken at flow_init(), so a
 * guest choosing its ports and addresses cannot aim many flows at one
 * bucket and make lookups slow.  Keys are hashed and compared field by
 * field (never as raw memory: struct flow_key has padding).
 *
 * Freeing is in two steps.  flow_free() takes the entry out of its hash
 * chain at once (a new flow with the same key may be made in the same
 * batch of events) and marks it as freeing, so flow_live() is false for
 * it; the slot itself goes back to the free list only in
 * flow_defer_handler(), which the loop calls after each batch.  An epoll
 * event still queued for the old flow then finds it not live, instead of
 * finding a new flow in its place.
 *
 * Full table: flow_alloc() returns -ENOSPC, counts it and warns at most
 * once a second; existing flows are unaffected.  Misuse by our own code
 * (freeing a free entry, an index past the table) is an ASSERT().
 */

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "flow.h"

#define FLOW_NIL		(-1)	/* end of a chain or list */

static_assert(!(FLOW_HASH_SIZE & (FLOW_HASH_SIZE - 1)),
	      "hash size is a power of two");
static_assert(FLOW_HASH_SIZE >= FLOW_MAX, "load factor at most 1");
static_assert(FLOW_MAX < INT32_MAX, "indices fit int32_t");

/**
 * struct flow_entry - Generic part of one flow
 * @type:	enum flow_type, FLOW_NONE if free
 * @freeing:	Freed in this batch: not live, slot not yet reusable
 * @key:	Key, valid while @type is not FLOW_NONE
 * @hnext:	Next entry in the same hash chain, or FLOW_NIL
 * @lnext:	Next entry in the free or pending-free list, or FLOW_NIL
 * @serial:	Which allocation this is (flow_serial())
 */
struct flow_entry {
	uint8_t type;
	bool freeing;
	struct flow_key key;
	int32_t hnext;
	int32_t lnext;
	uint64_t serial;
};

static struct flow_entry flows[FLOW_MAX];
static int32_t flow_hash[FLOW_HASH_SIZE];	/* chain heads, or FLOW_NIL */
static int32_t flow_free_head;			/* free list */
static int32_t flow_pending_head;		/* freed, awaiting the defer */
static uint8_t flow_secret[FLOW_HASH_KEY_LEN];
static struct flow_stats stats;
static uint64_t flow_serials;			/* never reset: see flow_serial() */

/* ---------------------------------------------------------------- */
/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF") */
/* ---------------------------------------------------------------- */

/**
 * rotl64() - Rotate a 64-bit word left
 * @x:		Word
 * @b:		Bits, 1 to 63
 *
 * Return: rotated word
 */
static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/**
 * le64_read() - Read up to 8 bytes as a little-endian word
 * @p:		Bytes
 * @n:		How many, 0 to 8; missing high bytes are zero
 *
 * Return: word
 */
static uint64_t le64_read(const uint8_t *p, size_t n)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

/**
 * sipround() - One SipRound on the four state words
 * @v:		State v0..v3
 */
static inline void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

/**
 * sip_compress() - Absorb one message word: two SipRounds
 * @v:		State
 * @m:		Message word
 */
static void sip_compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

/**
 * siphash_2_4() - SipHash-2-4 of a byte string
 * @key:	128-bit key, as bytes (two little-endian words k0, k1)
 * @in:		Message
 * @len:	Length of @in, bytes
 *
 * Return: 64-bit hash
 */
uint64_t siphash_2_4(const uint8_t key[FLOW_HASH_KEY_LEN], const void *in,
		     size_t len)
{
	uint64_t k0 = le64_read(key, 8), k1 = le64_read(key + 8, 8);
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	const uint8_t *p = in;
	size_t left = len;

	for (; left >= 8; p += 8, left -= 8)
		sip_compress(v, le64_read(p, 8));

	/* Last word: remaining bytes, length modulo 256 in the top byte */
	sip_compress(v, le64_read(p, left) | ((uint64_t)(len & 0xff) << 56));

	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---------------------------------------------------------------- */
/* Keys and hash chains                                              */
/* ---------------------------------------------------------------- */

#define FLOW_KEY_BYTES	(1 + 16 + 16 + 2 + 2)	/* serialised key */

/**
 * flow_bucket() - Hash bucket of a key under the current secret
 * @key:	Key
 *
 * Return: bucket index, below FLOW_HASH_SIZE
 */
unsigned flow_bucket(const struct flow_key *key)
{
	uint8_t b[FLOW_KEY_BYTES];

	b[0] = key->proto;
	memcpy(b + 1, &key->gaddr, 16);
	memcpy(b + 17, &key->faddr, 16);
	b[33] = key->gport >> 8;
	b[34] = key->gport & 0xff;
	b[35] = key->fport >> 8;
	b[36] = key->fport & 0xff;

	return siphash_2_4(flow_secret, b, sizeof(b)) & (FLOW_HASH_SIZE - 1);
}

/**
 * flow_key_eq() - Compare two keys field by field
 * @a, @b:	Keys
 *
 * Return: true if they name the same flow
 */
static bool flow_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return a->proto == b->proto && a->gport == b->gport &&
	       a->fport == b->fport && inany_equals(&a->gaddr, &b->gaddr) &&
	       inany_equals(&a->faddr, &b->faddr);
}

/**
 * flow_key_copy() - Copy a key field by field, padding zeroed
 * @dst:	Destination
 * @src:	Source
 */
static void flow_key_copy(struct flow_key *dst, const struct flow_key *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->proto = src->proto;
	dst->gaddr = src->gaddr;
	dst->faddr = src->faddr;
	dst->gport = src->gport;
	dst->fport = src->fport;
}

/**
 * flow_hash_find() - Find a hashed entry by key
 * @key:	Key
 * @bucket:	flow_bucket(@key)
 *
 * Return: index, or FLOW_NIL
 */
static int32_t flow_hash_find(const struct flow_key *key, unsigned bucket)
{
	int32_t i;

	for (i = flow_hash[bucket]; i != FLOW_NIL; i = flows[i].hnext) {
		if (flow_key_eq(&flows[i].key, key))
			return i;
	}
	return FLOW_NIL;
}

/**
 * flow_hash_remove() - Take an entry out of its hash chain
 * @idx:	Entry, which must be in its chain
 */
static void flow_hash_remove(int32_t idx)
{
	int32_t *link = &flow_hash[flow_bucket(&flows[idx].key)];

	while (*link != idx) {
		ASSERT(*link != FLOW_NIL);
		link = &flows[*link].hnext;
	}
	*link = flows[idx].hnext;
	flows[idx].hnext = FLOW_NIL;
}

/* ---------------------------------------------------------------- */
/* Table                                                             */
/* ---------------------------------------------------------------- */

/**
 * flow_init_key() - Empty the table and set the hash secret
 * @key:	Secret (tests use a fixed one to build colliding keys)
 */
void flow_init_key(const uint8_t key[FLOW_HASH_KEY_LEN])
{
	int32_t i;

	memcpy(flow_secret, key, sizeof(flow_secret));
	memset(&stats, 0, sizeof(stats));

	for (i = 0; i < FLOW_HASH_SIZE; i++)
		flow_hash[i] = FLOW_NIL;

	for (i = 0; i < FLOW_MAX; i++) {
		memset(&flows[i], 0, sizeof(flows[i]));
		flows[i].hnext = FLOW_NIL;
		flows[i].lnext = i + 1 < FLOW_MAX ? i + 1 : FLOW_NIL;
	}
	flow_free_head = 0;
	flow_pending_head = FLOW_NIL;
}

/**
 * flow_init() - Empty the table, with a fresh random hash secret
 *
 * Called at start-up: dies if no randomness is available.
 *
 * #syscalls getrandom
 */
void flow_init(void)
{
	uint8_t key[FLOW_HASH_KEY_LEN];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(key)) {
		n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die_perror("flow: getrandom");
		got += n;
	}
	flow_init_key(key);
	memset(key, 0, sizeof(key));
}

/**
 * flow_alloc() - Allocate a flow and make it findable by its key
 * @type:	Flow type, not FLOW_NONE
 * @key:	Key
 *
 * Return: flow index, -EEXIST if a live flow has @key, -ENOSPC if the
 *	   table is full
 */
int flow_alloc(enum flow_type type, const struct flow_key *key)
{
	unsigned bucket = flow_bucket(key);
	int32_t idx;

	ASSERT(type > FLOW_NONE && type < FLOW_TYPE_COUNT);

	if (flow_hash_find(key, bucket) != FLOW_NIL)
		return -EEXIST;

	idx = flow_free_head;
	if (idx == FLOW_NIL) {
		stats.refused++;
		warn_ratelimit("flow: table full (%u flows), refusing new ones",
			       FLOW_MAX);
		return -ENOSPC;
	}
	flow_free_head = flows[idx].lnext;

	flows[idx].type = type;
	flows[idx].freeing = false;
	flows[idx].lnext = FLOW_NIL;
	flow_key_copy(&flows[idx].key, key);
	flows[idx].hnext = flow_hash[bucket];
	flow_hash[bucket] = idx;

	stats.active++;
	stats.allocs++;
	flows[idx].serial = ++flow_serials;
	return idx;
}

/**
 * flow_serial() - Which allocation a flow is: never the same for two
 * @idx:	Flow index
 *
 * Return: its number among all allocations since the process started
 *	   (flow_init() doesn't reset it), from 1; 0 if never allocated
 */
uint64_t flow_serial(unsigned idx)
{
	ASSERT(idx < FLOW_MAX);
	return flows[idx].serial;
}

/**
 * flow_lookup() - Find the live flow with a key
 * @key:	Key
 *
 * Return: flow index, or -ENOENT
 */
int flow_lookup(const struct flow_key *key)
{
	int32_t idx = flow_hash_find(key, flow_bucket(key));

	return idx == FLOW_NIL ? -ENOENT : idx;
}

/**
 * flow_free() - Free a live flow: unfindable now, slot reused after the batch
 * @idx:	Flow index, live
 */
void flow_free(unsigned idx)
{
	ASSERT(idx < FLOW_MAX);
	ASSERT(flows[idx].type != FLOW_NONE && !flows[idx].freeing);

	flow_hash_remove(idx);
	flows[idx].freeing = true;
	flows[idx].lnext = flow_pending_head;
	flow_pending_head = idx;
	stats.active--;
}

/**
 * flow_defer_handler() - Return the slots freed in this batch to the table
 *
 * Called by the loop after each batch of events, when no event can still
 * name the freed flows.
 */
void flow_defer_handler(void)
{
	int32_t idx, next;

	for (idx = flow_pending_head; idx != FLOW_NIL; idx = next) {
		next = flows[idx].lnext;
		ASSERT(flows[idx].freeing);
		memset(&flows[idx].key, 0, sizeof(flows[idx].key));
		flows[idx].type = FLOW_NONE;
		flows[idx].freeing = false;
		flows[idx].lnext = flow_free_head;
		flow_free_head = idx;
	}
	flow_pending_head = FLOW_NIL;
}

/**
 * flow_live() - Is an index a live flow of a type?
 * @idx:	Flow index, any value (events may carry stale ones)
 * @type:	Expected type
 *
 * Return: true if allocated, not freed, and of type @type
 */
bool flow_live(unsigned idx, enum flow_type type)
{
	return idx < FLOW_MAX && type != FLOW_NONE &&
	       flows[idx].type == type && !flows[idx].freeing;
}

/**
 * flow_key() - Key of a flow
 * @idx:	Flow index, allocated
 *
 * Return: pointer to the key, valid until the flow's slot is reused
 */
const struct flow_key *flow_key(unsigned idx)
{
	ASSERT(idx < FLOW_MAX && flows[idx].type != FLOW_NONE);
	return &flows[idx].key;
}

/**
 * flow_next() - Next live flow of a type, for iteration
 * @type:	Flow type
 * @idx:	Previous index, or -1 to start
 *
 * Return: next live flow index after @idx, or -1 at the end
 */
int flow_next(enum flow_type type, int idx)
{
	int i;

	for (i = idx < 0 ? 0 : idx + 1; i < FLOW_MAX; i++) {
		if (flow_live(i, type))
			return i;
	}
	return -1;
}

/**
 * flow_stats() - Table counters
 *
 * Return: pointer to the counters
 */
const struct flow_stats *flow_stats(void)
{
	return &stats;
}
