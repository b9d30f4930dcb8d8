/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TAP_H
#define TAP_H

#include "ctx.h"
#include "inany.h"

/**
 * struct tap_stats - Frames from the guest we did not act on, by reason
 * @short_frame:	Shorter than the header it claims
 * @bad_mac:		Multicast or zero source MAC
 * @bad_ip4:		Malformed IPv4 header, wrong length or checksum
 * @frag4:		IPv4 fragment (we don't reassemble)
 * @bad_ip6:		Malformed IPv6 header or extension header chain
 * @frag6:		IPv6 fragment (we don't reassemble)
 * @bad_csum:		Bad TCP, UDP or ICMPv6 checksum (or none: UDP/IPv6)
 * @unhandled:		Protocol or port we don't serve (yet)
 * @arp, @dhcp, @icmp, @ndp, @dhcpv6: Dropped by the protocol handler:
 *			malformed, or no reply could be sent
 *
 * A malformed TCP or UDP header counts as @bad_ip4 or @bad_ip6.
 */
struct tap_stats {
	uint64_t short_frame;
	uint64_t bad_mac;
	uint64_t bad_ip4;
	uint64_t frag4;
	uint64_t bad_ip6;
	uint64_t frag6;
	uint64_t bad_csum;
	uint64_t unhandled;
	uint64_t arp, dhcp, icmp, ndp, dhcpv6;
};

void tap_handler(struct ctx *c, const uint8_t *frame, size_t len);
const struct tap_stats *tap_stats(void);
#endif /* TAP_H */
