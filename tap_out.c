// SPDX-License-Identifier: GPL-2.0-or-later
/* tap_out.c - Frames to the guest: Ethernet and IP headers around payloads
 *
 * DOC: Theory of operation
 *
 * The protocols hand their transport payloads here; this file puts an
 * Ethernet header (our MAC to the guest's, broadcast until the guest's is
 * learnt) and an IPv4 or IPv6 header in front, and gives the frame to
 * vu_frame_send() as an I/O vector, so nothing is copied here.  Frames the guest
 * accepted are also written to the capture file, if any.
 *
 * This is the bottom of the protocol layers: it calls only vu_common.c,
 * checksum.c and pcap.c.  tap.c, the dispatcher of frames from the guest,
 * sits above the protocols.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <string.h>

#include "tap_out.h"
#include "checksum.h"
#include "pcap.h"
#include "vu_common.h"

#define IP4_TTL			64
#define IP4_HDR_LEN		20	/* no options in what we send */
#define IP4_MAX_LEN		65535
#define IP6_MAX_PAYLOAD		65535	/* no jumbograms */
#define IP6_HOP_LIMIT		255


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
 * tap_out() - Give a frame to the guest, and to the capture file if any
 * @c:		Execution context
 * @iov:	Frame, Ethernet header first
 * @cnt:	Entries in @iov
 *
 * Return: 0 on success, -errno on failure (frame dropped, not captured)
 */
static int tap_out(struct ctx *c, const struct iovec *iov, size_t cnt)
{
	int rc = vu_frame_send(c->vdev, iov, cnt);

	if (rc < 0)
		return rc;
	if (*c->pcap)
		pcap_frame(iov, cnt);
	return 0;
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

	return tap_out(c, &iov, 1);
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
	return tap_out(c, iov, 2);
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
	return tap_out(c, iov, cnt + 1);
}
