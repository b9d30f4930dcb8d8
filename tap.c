// SPDX-License-Identifier: GPL-2.0-or-later
/* tap.c - Guest Ethernet frames: dispatch up, and IPv4 frames down
 *
 * DOC: Theory of operation
 *
 * Frames from the guest arrive here whole (Ethernet header first, no
 * virtio header) through tap_handler(), called by the main loop.  This is
 * a small dispatcher: it checks the Ethernet header, learns the guest's
 * MAC address from the source (unless fixed with -M), and hands
 *  - ARP to arp.c,
 *  - IPv4, once its header is checked (version, IHL, total length within
 *    the frame, header checksum, not a fragment), to dhcp.c (UDP to port
 *    67) or icmp.c (ICMP),
 * and drops anything else.  IPv6 is dropped for now.  The guest's IPv4
 * source address is recorded in c->ip4.addr_seen.
 *
 * Bad input: a frame that is short, malformed or for a protocol we don't
 * serve is dropped and counted in struct tap_stats, never logged per frame
 * (the guest could flood the log).  No byte past @len is ever read: every
 * header is length-checked, then copied into a local before use.
 *
 * Frames to the guest: tap_send() for a ready frame, and tap_send_ip4()
 * which puts an Ethernet and IPv4 header in front of a payload.  Headers
 * and payload go down as a two-entry I/O vector, so nothing is copied
 * here and no large buffer is needed.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <string.h>

#include "tap.h"
#include "arp.h"
#include "checksum.h"
#include "dhcp.h"
#include "icmp.h"
#include "vu_common.h"

#define IP4_TTL			64
#define IP4_HDR_LEN		20	/* no options in what we send */
#define IP4_MAX_LEN		65535
#define IP6_MAX_PAYLOAD		65535	/* no jumbograms */
#define IP6_HOP_LIMIT		255

/* Drop counters: module state, like a table (see struct tap_stats) */
static struct tap_stats stats;

/**
 * struct tap_ip4_hdrs - What tap_send_ip4_mac() puts before a payload
 * @eh:		Ethernet header
 * @ip:		IPv4 header, no options
 */
struct tap_ip4_hdrs {
	struct ether_header eh;
	struct iphdr ip;
} PACKED;
static_assert(sizeof(struct tap_ip4_hdrs) == ETH_HLEN + IP4_HDR_LEN,
	      "wire size");

/**
 * struct tap_ip6_hdrs - What tap_send_l4() puts before an IPv6 payload
 * @eh:		Ethernet header
 * @ip6:	IPv6 header, no extension headers
 */
struct tap_ip6_hdrs {
	struct ether_header eh;
	struct ip6_hdr ip6;
} PACKED;
static_assert(sizeof(struct tap_ip6_hdrs) == ETH_HLEN + 40, "wire size");

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
 * tap_send() - Send a whole Ethernet frame to the guest
 * @c:		Execution context
 * @frame:	Frame, Ethernet header first
 * @len:	Frame length, bytes
 *
 * Return: 0 on success, -errno on failure (frame dropped)
 */
int tap_send(struct ctx *c, const void *frame, size_t len)
{
	struct iovec iov = { (void *)frame, len };
	int rc = vu_send(&c->vdev, &iov, 1);

	return rc < 0 ? rc : 0;
}

/**
 * tap_send_ip4_mac() - Send an IPv4 packet to a given MAC address
 * @c:		Execution context
 * @dst_mac:	Destination MAC address
 * @src:	Source address, network order
 * @dst:	Destination address, network order
 * @proto:	IP protocol number
 * @payload:	Transport header and data, checksum already set
 * @len:	Payload length, bytes
 *
 * The frame comes from our MAC (the gateway's, as the guest sees it),
 * with TTL 64, DF set and ID 0.
 *
 * Return: 0 on success, -EMSGSIZE if @len doesn't fit the MTU, other
 * -errno if the guest can't take the frame
 */
int tap_send_ip4_mac(struct ctx *c, const uint8_t *dst_mac,
		     struct in_addr src, struct in_addr dst, uint8_t proto,
		     const void *payload, size_t len)
{
	unsigned mtu = c->mtu ? c->mtu : MTU_DEFAULT;
	struct tap_ip4_hdrs h = { 0 };
	struct iovec iov[2];
	int rc;

	if (len > IP4_MAX_LEN - IP4_HDR_LEN || len + IP4_HDR_LEN > mtu)
		return -EMSGSIZE;

	memcpy(h.eh.ether_dhost, dst_mac, ETH_ALEN);
	memcpy(h.eh.ether_shost, c->our_mac, ETH_ALEN);
	h.eh.ether_type = htons(ETHERTYPE_IP);

	h.ip.version = 4;
	h.ip.ihl = IP4_HDR_LEN / 4;
	h.ip.tot_len = htons((uint16_t)(IP4_HDR_LEN + len));
	h.ip.frag_off = htons(IP_DF);
	h.ip.ttl = IP4_TTL;
	h.ip.protocol = proto;
	h.ip.saddr = src.s_addr;
	h.ip.daddr = dst.s_addr;
	h.ip.check = csum_ip4_header(&h.ip, IP4_HDR_LEN);

	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)payload, len };
	rc = vu_send(&c->vdev, iov, 2);
	return rc < 0 ? rc : 0;
}

/**
 * tap_send_ip4() - Send an IPv4 packet to the guest's MAC address
 * @c:		Execution context
 * @src:	Source address, network order
 * @dst:	Destination address, network order
 * @proto:	IP protocol number
 * @payload:	Transport header and data, checksum already set
 * @len:	Payload length, bytes (at most the MTU minus 20)
 *
 * If we haven't learnt the guest's MAC address yet, the frame is
 * broadcast.
 *
 * Return: 0 on success, -errno on failure, see tap_send_ip4_mac()
 */
int tap_send_ip4(struct ctx *c, struct in_addr src, struct in_addr dst,
		 uint8_t proto, const void *payload, size_t len)
{
	static const uint8_t zero[ETH_ALEN];
	static const uint8_t bcast[ETH_ALEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	const uint8_t *mac = c->guest_mac;

	if (!memcmp(mac, zero, ETH_ALEN))
		mac = bcast;
	return tap_send_ip4_mac(c, mac, src, dst, proto, payload, len);
}

/**
 * tap_send_l4() - Send a transport packet to the guest, IPv4 or IPv6
 * @c:		Execution context
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dst:	Destination address, same family as @src
 * @proto:	IP protocol (next header) number
 * @l4:		Transport header and payload, checksum already set
 * @cnt:	Entries in @l4, at most TAP_L4_IOV
 *
 * The Ethernet header goes to the guest's MAC (broadcast until learnt),
 * the IP header is built here: IPv4 with TTL 64, DF, ID 0; IPv6 with hop
 * limit 255, no flow label.
 *
 * Return: 0 on success, -EMSGSIZE if too big for the MTU, -EINVAL on a
 * family mismatch, other -errno if the guest can't take the frame
 */
int tap_send_l4(struct ctx *c, const union inany_addr *src,
		const union inany_addr *dst, uint8_t proto,
		const struct iovec *l4, size_t cnt)
{
	static const uint8_t zero[ETH_ALEN];
	const struct in_addr *s4 = inany_v4(src), *d4 = inany_v4(dst);
	unsigned mtu = c->mtu ? c->mtu : MTU_DEFAULT;
	size_t len = iov_size(l4, cnt), hlen;
	struct iovec iov[TAP_L4_IOV + 1];
	union {
		struct tap_ip4_hdrs v4;
		struct tap_ip6_hdrs v6;
	} h;
	struct ether_header *eh = &h.v4.eh;
	int rc;

	if (cnt > TAP_L4_IOV || !s4 != !d4)
		return -EINVAL;

	memset(&h, 0, sizeof(h));
	memcpy(eh->ether_dhost, c->guest_mac, ETH_ALEN);
	if (!memcmp(c->guest_mac, zero, ETH_ALEN))
		memset(eh->ether_dhost, 0xff, ETH_ALEN);
	memcpy(eh->ether_shost, c->our_mac, ETH_ALEN);

	if (s4) {
		if (len > IP4_MAX_LEN - IP4_HDR_LEN || len + IP4_HDR_LEN > mtu)
			return -EMSGSIZE;
		eh->ether_type = htons(ETHERTYPE_IP);
		h.v4.ip.version = 4;
		h.v4.ip.ihl = IP4_HDR_LEN / 4;
		h.v4.ip.tot_len = htons((uint16_t)(IP4_HDR_LEN + len));
		h.v4.ip.frag_off = htons(IP_DF);
		h.v4.ip.ttl = IP4_TTL;
		h.v4.ip.protocol = proto;
		h.v4.ip.saddr = s4->s_addr;
		h.v4.ip.daddr = d4->s_addr;
		h.v4.ip.check = csum_ip4_header(&h.v4.ip, IP4_HDR_LEN);
		hlen = sizeof(h.v4);
	} else {
		if (len > IP6_MAX_PAYLOAD || len + sizeof(struct ip6_hdr) > mtu)
			return -EMSGSIZE;
		eh->ether_type = htons(ETHERTYPE_IPV6);
		h.v6.ip6.ip6_flow = htonl(6U << 28);
		h.v6.ip6.ip6_plen = htons((uint16_t)len);
		h.v6.ip6.ip6_nxt = proto;
		h.v6.ip6.ip6_hlim = IP6_HOP_LIMIT;
		h.v6.ip6.ip6_src = src->a6;
		h.v6.ip6.ip6_dst = dst->a6;
		hlen = sizeof(h.v6);
	}

	iov[0] = (struct iovec){ &h, hlen };
	memcpy(&iov[1], l4, cnt * sizeof(*l4));
	rc = vu_send(&c->vdev, iov, cnt + 1);
	return rc < 0 ? rc : 0;
}

/**
 * tap_udp4() - Dispatch a UDP datagram from the guest
 * @c:		Execution context
 * @l4:		UDP header and payload, within the frame
 * @len:	Bytes from @l4 to the end of the IPv4 packet
 */
static void tap_udp4(struct ctx *c, const uint8_t *l4, size_t len)
{
	struct udphdr uh;
	size_t ulen;

	if (len < sizeof(uh)) {
		stats.short_frame++;
		return;
	}
	memcpy(&uh, l4, sizeof(uh));
	ulen = ntohs(uh.len);
	if (ulen < sizeof(uh) || ulen > len) {
		stats.bad_ip4++;
		return;
	}

	if (ntohs(uh.dest) != DHCP_SERVER_PORT) {
		stats.unhandled++;	/* UDP comes in a later change */
		return;
	}
	if (dhcp_handler(c, l4 + sizeof(uh), ulen - sizeof(uh)) < 0)
		stats.dhcp++;
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
	struct in_addr src, dst;
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

	src.s_addr = ip.saddr;
	dst.s_addr = ip.daddr;
	if (src.s_addr != htonl(INADDR_ANY) &&
	    src.s_addr != htonl(INADDR_BROADCAST) &&
	    !IN_MULTICAST(ntohl(src.s_addr)))
		c->ip4.addr_seen = src;

	/* Ethernet pads short frames: the IPv4 total length is what counts */
	l4len = ntohs(ip.tot_len) - (size_t)hlen;

	switch (ip.protocol) {
	case IPPROTO_UDP:
		tap_udp4(c, l3 + hlen, l4len);
		break;
	case IPPROTO_ICMP:
		if (icmp_tap_handler(c, src, dst, l3 + hlen, l4len) < 0)
			stats.icmp++;
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
		stats.ip6++;		/* IPv6 comes in a later change */
		break;
	default:
		stats.unhandled++;
		break;
	}
}
