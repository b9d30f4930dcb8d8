// SPDX-License-Identifier: GPL-2.0-or-later
/* tap.c - Guest Ethernet frames: dispatch up, and IP frames down
 *
 * DOC: Theory of operation
 *
 * Frames from the guest arrive here whole (Ethernet header first, no
 * virtio header) through tap_handler(), called by the main loop.  This is
 * a small dispatcher: it checks the Ethernet header, learns the guest's
 * MAC address from the source (unless fixed with -M), and hands
 *  - ARP to arp.c,
 *  - IPv4, once its header is checked (version, IHL, total length within
 *    the frame, header checksum, not a fragment), ICMP to icmp.c,
 *  - IPv6, once its fixed header is checked (version, payload length
 *    within the frame, no multicast source) and its extension headers
 *    walked (hop-by-hop first only, routing, destination options; each
 *    within the payload), ICMPv6 Router and Neighbour Solicitations to
 *    ndp.c and echo requests to icmp.c,
 *  - TCP and UDP of both families to tap_l4(), one dispatcher that checks
 *    the transport header and checksum, serves DHCP (UDP to port 67, IPv4)
 *    and DHCPv6 (UDP to port 547, IPv6) itself, and is where TCP and UDP
 *    go up to tcp.c and udp.c,
 * and drops anything else.  The guest's source addresses are recorded in
 * c->ip4.addr_seen, c->ip6.addr_seen (global) and c->ip6.addr_ll_seen
 * (link-local).
 *
 * Transport checksums are verified on input, pseudo-header included, for
 * TCP, UDP and ICMPv6 (a zero UDP checksum means "none" over IPv4 and is
 * invalid over IPv6, RFC 8200, 8.1): a guest with broken offloads shows up
 * as a counter, not as corrupt data on a host socket.
 *
 * Bad input: a frame that is short, malformed or for a protocol we don't
 * serve is dropped and counted in struct tap_stats, never logged per frame
 * (the guest could flood the log).  No byte past @len is ever read: every
 * header is length-checked, then copied into a local before use.  IPv4
 * and IPv6 fragments are dropped and counted: we don't reassemble.
 *
 * Frames to the guest: tap_send() for a ready frame, tap_send_ip4() and
 * tap_send_l4() which put Ethernet and IP headers in front of a payload.
 * Headers and payload go down as an I/O vector, so nothing is copied here
 * and no large buffer is needed.  With -p, frames in both directions are
 * also written to the capture file (pcap.c); without, that costs one test.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string.h>

#include "tap.h"
#include "tap_out.h"
#include "arp.h"
#include "checksum.h"
#include "dhcp.h"
#include "dhcpv6.h"
#include "icmp.h"
#include "ndp.h"
#include "pcap.h"
#include "tcp_guest.h"
#include "udp.h"

/* Drop counters: module state, like a table (see struct tap_stats) */
static struct tap_stats stats;

/**
 * tap_stats() - Drop counters, for tests and debugging
 *
 * Return: pointer to the counters
 */
const struct tap_stats *tap_stats(void)
{
	return &stats;
}

/**
 * tap_l4_bad() - Count a malformed transport header against its family
 * @src:	Source address of the packet
 */
static void tap_l4_bad(const union inany_addr *src)
{
	if (inany_v4(src))
		stats.bad_ip4++;
	else
		stats.bad_ip6++;
}

/**
 * tap_udp_len() - Check a UDP header and checksum from the guest
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dst:	Destination address, same family
 * @l4:		UDP header and payload, within the frame
 * @len:	Bytes from @l4 to the end of the IP packet
 * @uh:		UDP header copied out, on success
 *
 * Return: UDP length (header included, at most @len) on success, -EINVAL
 * if truncated or malformed, -EBADMSG on a bad (or, over IPv6, missing)
 * checksum
 */
static int tap_udp_len(const union inany_addr *src,
		       const union inany_addr *dst, const uint8_t *l4,
		       size_t len, struct udphdr *uh)
{
	struct iovec iov = { (void *)l4, 0 };
	size_t ulen;

	if (len < sizeof(*uh))
		return -EINVAL;
	memcpy(uh, l4, sizeof(*uh));
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > len)
		return -EINVAL;

	iov.iov_len = ulen;
	if (!uh->check) {
		if (!inany_v4(src))
			return -EBADMSG;	/* RFC 8200, 8.1: mandatory */
	} else if (csum_l4(src, dst, IPPROTO_UDP, &iov, 1)) {
		return -EBADMSG;
	}
	return (int)ulen;
}

/**
 * tap_udp_local() - Serve UDP that is for us: DHCP, DHCPv6
 * @c:		Execution context
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dport:	Destination port, host order
 * @data:	UDP payload
 * @len:	Payload length, bytes
 *
 * Return: true if the datagram was ours (served or dropped and counted)
 */
static bool tap_udp_local(struct ctx *c, const union inany_addr *src,
			  uint16_t dport, const uint8_t *data, size_t len)
{
	if (inany_v4(src) && dport == DHCP_SERVER_PORT) {
		if (dhcp_handler(c, data, len) < 0)
			stats.dhcp++;
		return true;
	}
	if (!inany_v4(src) && dport == DHCPV6_SERVER_PORT) {
		if (dhcpv6_handler(c, &src->a6, data, len) < 0)
			stats.dhcpv6++;
		return true;
	}
	return false;
}

/**
 * tap_l4() - Check and dispatch TCP and UDP from the guest, both families
 * @c:		Execution context
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dst:	Destination address, same family as @src
 * @proto:	IPPROTO_TCP or IPPROTO_UDP
 * @l4:		Transport header and payload, within the frame
 * @len:	Bytes from @l4 to the end of the IP packet (no padding)
 */
static void tap_l4(struct ctx *c, const union inany_addr *src,
		   const union inany_addr *dst, uint8_t proto,
		   const uint8_t *l4, size_t len)
{
	struct iovec iov = { (void *)l4, len };
	struct udphdr uh;
	int ulen;

	if (proto == IPPROTO_UDP) {
		ulen = tap_udp_len(src, dst, l4, len, &uh);
		if (ulen == -EBADMSG) {
			stats.bad_csum++;
			return;
		}
		if (ulen < 0) {
			tap_l4_bad(src);
			return;
		}
		len = (size_t)ulen;
		if (tap_udp_local(c, src, ntohs(uh.dest), l4 + sizeof(uh),
				  len - sizeof(uh)))
			return;
	} else {
		/* Data offset (RFC 9293, 3.1): from 5 words to the end */
		if (len < sizeof(struct tcphdr) || (l4[12] >> 4) < 5 ||
		    (size_t)(l4[12] >> 4) * 4 > len) {
			tap_l4_bad(src);
			return;
		}
		if (csum_l4(src, dst, IPPROTO_TCP, &iov, 1)) {
			stats.bad_csum++;
			return;
		}
	}

	if (proto == IPPROTO_TCP)
		tcp_tap_handler(c, src, dst, l4, len);	/* counts its drops */
	else
		udp_tap_handler(c, src, dst, l4, len);
}

/**
 * tap_ip4_check() - Validate an IPv4 header
 * @l3:		IPv4 packet, within the frame
 * @len:	Bytes from @l3 to the end of the frame
 * @ip:		Header copied out, on success
 *
 * Return: header length (bytes) on success, -EINVAL if malformed or
 * truncated, -EOPNOTSUPP for a fragment
 */
static int tap_ip4_check(const uint8_t *l3, size_t len, struct iphdr *ip)
{
	size_t hlen, tot_len;

	if (len < sizeof(*ip))
		return -EINVAL;
	memcpy(ip, l3, sizeof(*ip));

	hlen = (size_t)ip->ihl * 4;
	tot_len = ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || hlen > len ||
	    tot_len < hlen || tot_len > len)
		return -EINVAL;
	if (csum_ip4_header(l3, hlen))
		return -EINVAL;
	if (ntohs(ip->frag_off) & (IP_MF | IP_OFFMASK))
		return -EOPNOTSUPP;

	return (int)hlen;
}

/**
 * tap_ip4() - Check an IPv4 packet from the guest and dispatch it
 * @c:		Execution context
 * @l3:		IPv4 header, within the frame
 * @len:	Bytes from @l3 to the end of the frame (may include padding)
 */
static void tap_ip4(struct ctx *c, const uint8_t *l3, size_t len)
{
	union inany_addr src, dst;
	struct iphdr ip;
	size_t l4len;
	int hlen;

	hlen = tap_ip4_check(l3, len, &ip);
	if (hlen == -EOPNOTSUPP) {
		stats.frag4++;
		return;
	}
	if (hlen < 0) {
		stats.bad_ip4++;
		return;
	}

	inany_from_v4(&src, (struct in_addr){ ip.saddr });
	inany_from_v4(&dst, (struct in_addr){ ip.daddr });
	if (ip.saddr != htonl(INADDR_ANY) &&
	    ip.saddr != htonl(INADDR_BROADCAST) &&
	    !IN_MULTICAST(ntohl(ip.saddr)))
		c->ip4.addr_seen = src.v4mapped.a4;

	/* Ethernet pads short frames: the IPv4 total length is what counts */
	l4len = ntohs(ip.tot_len) - (size_t)hlen;

	switch (ip.protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		tap_l4(c, &src, &dst, ip.protocol, l3 + hlen, l4len);
		break;
	case IPPROTO_ICMP:
		if (icmp_tap_handler(c, &src, &dst, l3 + hlen, l4len) < 0)
			stats.icmp++;
		break;
	default:
		stats.unhandled++;
		break;
	}
}

/**
 * tap_ip6_exthdr() - Walk IPv6 extension headers up to the transport
 * @p:		First header after the fixed one, within the frame
 * @len:	Bytes from @p to the end of the IPv6 payload
 * @proto:	Next header of the fixed header; on success, transport protocol
 *
 * Hop-by-hop options are only valid first (RFC 8200, 4.1); routing and
 * destination options headers are skipped, their content unread.
 *
 * Return: offset of the transport header from @p, -EINVAL if a header
 * runs past the payload or is out of place, -EOPNOTSUPP for a fragment
 */
static int tap_ip6_exthdr(const uint8_t *p, size_t len, uint8_t *proto)
{
	uint8_t nh = *proto;
	size_t off = 0, hlen;

	for (;;) {
		if (nh == IPPROTO_FRAGMENT)
			return -EOPNOTSUPP;
		if (nh == IPPROTO_HOPOPTS && off)
			return -EINVAL;
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS)
			break;

		/* Each is a multiple of 8 bytes: the walk ends within len/8 */
		if (len - off < 8)
			return -EINVAL;
		hlen = ((size_t)p[off + 1] + 1) * 8;
		if (hlen > len - off)
			return -EINVAL;
		nh = p[off];
		off += hlen;
	}

	*proto = nh;
	return (int)off;
}

/**
 * tap_ip6_seen() - Note the guest's IPv6 source address
 * @c:		Execution context
 * @a:		Source address of a valid packet from the guest
 */
static void tap_ip6_seen(struct ctx *c, const struct in6_addr *a)
{
	if (IN6_IS_ADDR_LINKLOCAL(a))
		c->ip6.addr_ll_seen = *a;
	else if (!IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a))
		c->ip6.addr_seen = *a;
}

/**
 * tap_icmp6() - Check an ICMPv6 message from the guest and dispatch it
 * @c:		Execution context
 * @ip6:	Fixed IPv6 header, copied out of the frame
 * @l4:		ICMPv6 message, within the frame
 * @len:	Bytes from @l4 to the end of the IPv6 payload
 */
static void tap_icmp6(struct ctx *c, const struct ip6_hdr *ip6,
		      const uint8_t *l4, size_t len)
{
	union inany_addr src = { .a6 = ip6->ip6_src };
	union inany_addr dst = { .a6 = ip6->ip6_dst };
	struct iovec iov = { (void *)l4, len };

	if (len < sizeof(struct icmp6_hdr) - 4) {	/* type, code, sum */
		stats.bad_ip6++;
		return;
	}
	if (csum_l4(&src, &dst, IPPROTO_ICMPV6, &iov, 1)) {
		stats.bad_csum++;
		return;
	}

	switch (l4[0]) {
	case NDP_RS:
	case NDP_NS:
		if (ndp_handler(c, &ip6->ip6_src, &ip6->ip6_dst,
				ip6->ip6_hlim, l4, len) < 0)
			stats.ndp++;
		break;
	case ICMPV6_ECHO_REQUEST:
		if (icmp_tap_handler(c, &src, &dst, l4, len) < 0)
			stats.icmp++;
		break;
	default:		/* our own NA and RA echoed, MLD reports... */
		stats.unhandled++;
		break;
	}
}

/**
 * tap_ip6_check() - Validate the fixed IPv6 header
 * @l3:		IPv6 packet, within the frame
 * @len:	Bytes from @l3 to the end of the frame
 * @ip6:	Header copied out, on success
 *
 * Return: payload length on success, -EINVAL if malformed or truncated
 */
static int tap_ip6_check(const uint8_t *l3, size_t len, struct ip6_hdr *ip6)
{
	size_t plen;

	if (len < sizeof(*ip6))
		return -EINVAL;
	memcpy(ip6, l3, sizeof(*ip6));

	plen = ntohs(ip6->ip6_plen);
	if ((ntohl(ip6->ip6_flow) >> 28) != 6 || plen > len - sizeof(*ip6))
		return -EINVAL;

	/* No multicast source (RFC 4291, 2.7); no IPv4 in disguise */
	if (IN6_IS_ADDR_MULTICAST(&ip6->ip6_src) ||
	    IN6_IS_ADDR_V4MAPPED(&ip6->ip6_src) ||
	    IN6_IS_ADDR_V4MAPPED(&ip6->ip6_dst))
		return -EINVAL;

	return (int)plen;
}

/**
 * tap_ip6() - Check an IPv6 packet from the guest and dispatch it
 * @c:		Execution context
 * @l3:		IPv6 header, within the frame
 * @len:	Bytes from @l3 to the end of the frame (may include padding)
 */
static void tap_ip6(struct ctx *c, const uint8_t *l3, size_t len)
{
	const uint8_t *payload = l3 + sizeof(struct ip6_hdr);
	union inany_addr src, dst;
	struct ip6_hdr ip6;
	uint8_t proto;
	int plen, off;

	plen = tap_ip6_check(l3, len, &ip6);
	if (plen < 0) {
		stats.bad_ip6++;
		return;
	}
	proto = ip6.ip6_nxt;
	off = tap_ip6_exthdr(payload, (size_t)plen, &proto);
	if (off == -EOPNOTSUPP) {
		stats.frag6++;
		return;
	}
	if (off < 0) {
		stats.bad_ip6++;
		return;
	}
	if (!c->v6) {		/* -4: no router, no neighbours, nothing */
		stats.unhandled++;
		return;
	}

	tap_ip6_seen(c, &ip6.ip6_src);
	src.a6 = ip6.ip6_src;
	dst.a6 = ip6.ip6_dst;

	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		tap_l4(c, &src, &dst, proto, payload + off,
		       (size_t)(plen - off));
		break;
	case IPPROTO_ICMPV6:
		tap_icmp6(c, &ip6, payload + off, (size_t)(plen - off));
		break;
	default:
		stats.unhandled++;
		break;
	}
}

/**
 * tap_learn_mac() - Note the guest's MAC address, unless given with -M
 * @c:		Execution context
 * @mac:	Source MAC of a frame from the guest
 */
static void tap_learn_mac(struct ctx *c, const uint8_t *mac)
{
	if (c->guest_mac_set || !memcmp(c->guest_mac, mac, ETH_ALEN))
		return;

	memcpy(c->guest_mac, mac, ETH_ALEN);
	debug("Guest MAC address now %02x:%02x:%02x:%02x:%02x:%02x",
	      mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/**
 * tap_handler() - Handle one Ethernet frame from the guest
 * @c:		Execution context
 * @frame:	Frame, Ethernet header first, no virtio header
 * @len:	Frame length, bytes
 */
void tap_handler(struct ctx *c, const uint8_t *frame, size_t len)
{
	static const uint8_t zero[ETH_ALEN];
	struct ether_header eh;

	if (len < ETH_HLEN) {
		stats.short_frame++;
		return;
	}
	if (*c->pcap) {
		struct iovec iov = { (void *)frame, len };

		pcap_frame(&iov, 1);
	}
	memcpy(&eh, frame, ETH_HLEN);

	/* A source is never a group address, nor all zeroes */
	if ((eh.ether_shost[0] & 1) || !memcmp(eh.ether_shost, zero, ETH_ALEN)) {
		stats.bad_mac++;
		return;
	}
	tap_learn_mac(c, eh.ether_shost);

	switch (ntohs(eh.ether_type)) {
	case ETHERTYPE_ARP:
		if (arp_handler(c, frame, len) < 0)
			stats.arp++;
		break;
	case ETHERTYPE_IP:
		tap_ip4(c, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETHERTYPE_IPV6:
		tap_ip6(c, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		stats.unhandled++;
		break;
	}
}
