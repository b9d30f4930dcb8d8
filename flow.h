/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef FLOW_H
#define FLOW_H

#include "ctx.h"
#include "inany.h"

#define FLOW_MAX		32768	/* flows of all types at once */
#define FLOW_HASH_SIZE		(FLOW_MAX * 2)	/* hash buckets, power of 2 */
#define FLOW_HASH_KEY_LEN	16	/* SipHash key, bytes */

enum flow_type {
	FLOW_NONE = 0,		/* free entry */
	FLOW_TCP,
	FLOW_UDP,
	FLOW_PING,
	FLOW_TYPE_COUNT
};

/**
 * struct flow_key - A flow as the guest sees it; host byte order ports
 * @proto:	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6
 * @gaddr:	Guest's address
 * @faddr:	Foreign address, as the guest sees it (before any mapping)
 * @gport:	Guest's port (echo id for ping)
 * @fport:	Foreign port (0 for ping)
 */
struct flow_key {
	uint8_t proto;
	union inany_addr gaddr;
	union inany_addr faddr;
	uint16_t gport;
	uint16_t fport;
};

/**
 * struct flow_stats - Table counters
 * @active:	Flows in use
 * @refused:	Allocations refused because the table was full
 * @allocs:	Flows allocated since start
 */
struct flow_stats {
	unsigned active;
	uint64_t refused;
	uint64_t allocs;
};

void flow_init(void);
int flow_alloc(enum flow_type type, const struct flow_key *key);
int flow_lookup(const struct flow_key *key);
void flow_free(unsigned idx);
uint64_t flow_serial(unsigned idx);
void flow_defer_handler(void);
bool flow_live(unsigned idx, enum flow_type type);
const struct flow_key *flow_key(unsigned idx);
int flow_next(enum flow_type type, int idx);
const struct flow_stats *flow_stats(void);

/* For diagnostics and tests */
void flow_init_key(const uint8_t key[FLOW_HASH_KEY_LEN]);
unsigned flow_bucket(const struct flow_key *key);
uint64_t siphash_2_4(const uint8_t key[FLOW_HASH_KEY_LEN], const void *in,
		     size_t len);

#endif /* FLOW_H */
