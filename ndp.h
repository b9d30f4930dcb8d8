/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NDP_H
#define NDP_H

#include <netinet/in.h>

#include "ctx.h"

/* ICMPv6 types (RFC 4443, RFC 4861) */
#define ICMPV6_ECHO_REQUEST	128
#define ICMPV6_ECHO_REPLY	129
#define NDP_RS			133	/* Router Solicitation */
#define NDP_RA			134	/* Router Advertisement */
#define NDP_NS			135	/* Neighbour Solicitation */
#define NDP_NA			136	/* Neighbour Advertisement */

#define NDP_HOP_LIMIT		255	/* RFC 4861, 6.1.1 and 7.1.1 */
#define NDP_RA_INTERVAL_S	600	/* unsolicited RAs: MaxRtrAdvInterval */
#define NDP_ROUTER_LIFETIME_S	65535	/* RFC 8319: largest allowed */
#define NDP_REPLY_MAX		2048	/* our largest message, bytes */

/* Option types (RFC 4861, 4.6; RFC 8106) */
enum ndp_opt {
	NDP_OPT_SRC_LL = 1,
	NDP_OPT_TGT_LL = 2,
	NDP_OPT_PREFIX = 3,
	NDP_OPT_MTU = 5,
	NDP_OPT_RDNSS = 25,
	NDP_OPT_DNSSL = 31,
};

int ndp_handler(struct ctx *c, const struct in6_addr *saddr,
		const struct in6_addr *daddr, uint8_t hop_limit,
		const uint8_t *icmp, size_t len);
int ndp_build_ra(const struct ctx *c, uint8_t *buf, size_t size);
void ndp_timer(struct ctx *c);

#endif /* NDP_H */
