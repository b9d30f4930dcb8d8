/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef ARP_H
#define ARP_H

#include "ctx.h"

/**
 * struct arp_body - ARP for Ethernet and IPv4 (RFC 826), after the
 *		     Ethernet header; all fields network order
 * @htype:	Hardware type, 1 for Ethernet
 * @ptype:	Protocol type, 0x0800 for IPv4
 * @hlen:	Hardware address length, 6
 * @plen:	Protocol address length, 4
 * @op:		1 request, 2 reply
 * @sha:	Sender hardware address
 * @spa:	Sender protocol address
 * @tha:	Target hardware address
 * @tpa:	Target protocol address
 */
struct arp_body {
	__be16 htype;
	__be16 ptype;
	uint8_t hlen;
	uint8_t plen;
	__be16 op;
	uint8_t sha[ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[ETH_ALEN];
	uint8_t tpa[4];
} PACKED;
static_assert(sizeof(struct arp_body) == 28, "wire size");

int arp_handler(struct ctx *c, const uint8_t *frame, size_t len);

#endif /* ARP_H */
