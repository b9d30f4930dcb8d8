/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TAP_H
#define TAP_H

#include "passt.h"
#include "inany.h"

#define TAP_L4_IOV		8	/* entries in a transport payload vector */

/**
 * struct tap_stats - Frames from the guest we did not act on, by reason
 * @short_frame:	Shorter than the header it claims
 * @bad_mac:		Multicast or zero source MAC
 * @bad_ip4:		Malformed IPv4 header, wrong length or checksum
 * @frag4:		IPv4 fragment (we don't reassemble)
 * @ip6:		IPv6, not handled yet
 * @unhandled:		Protocol or port we don't serve (yet)
 * @arp, @dhcp, @icmp:	Dropped by the protocol handler: malformed, or
 *			no reply could be sent
 */
struct tap_stats {
	uint64_t short_frame;
	uint64_t bad_mac;
	uint64_t bad_ip4;
	uint64_t frag4;
	uint64_t ip6;
	uint64_t unhandled;
	uint64_t arp, dhcp, icmp;
};

void tap_handler(struct ctx *c, const uint8_t *frame, size_t len);
const struct tap_stats *tap_stats(void);
int tap_send(struct ctx *c, const void *frame, size_t len);
int tap_send_ip4(struct ctx *c, struct in_addr src, struct in_addr dst,
		 uint8_t proto, const void *payload, size_t len);
int tap_send_ip4_mac(struct ctx *c, const uint8_t *dst_mac,
		     struct in_addr src, struct in_addr dst, uint8_t proto,
		     const void *payload, size_t len);

int tap_send_l4(struct ctx *c, const union inany_addr *src,
		const union inany_addr *dst, uint8_t proto,
		const struct iovec *l4, size_t cnt);

#endif /* TAP_H */
