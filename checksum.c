// SPDX-License-Identifier: GPL-2.0-or-later
/* checksum.c - Internet checksum (RFC 1071)
 *
 * DOC: Theory of operation
 *
 * The one's complement sum does not depend on byte order as long as every
 * 16-bit word is read and written the same way (RFC 1071, 2.(B)): we add
 * words in host order as they sit in memory, and the folded result, stored
 * back into memory as a host-order uint16_t, has the right bytes on the
 * wire.  So every value returned here is "network order" in the sense that
 * it can be copied into a header field as is, with no byte swap.
 *
 * csum_partial() adds 32-bit words into a 64-bit accumulator (no carry can
 * be lost before 2^32 words), then folds.  A partial sum may be continued
 * over another buffer only if the previous one had an even length.
 *
 * These helpers trust their length arguments: callers check lengths
 * against the frame first.
 */

#include <arpa/inet.h>
#include <string.h>

#include "checksum.h"
#include "util.h"

/**
 * csum_partial() - Add a buffer to a running one's complement sum
 * @buf:	Data, any alignment
 * @len:	Length, bytes
 * @sum:	Sum so far (0 to start), as returned by csum_partial()
 *
 * Return: 32-bit partial sum, not yet folded nor complemented
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	while (len >= sizeof(uint32_t)) {
		uint32_t w;

		memcpy(&w, p, sizeof(w));
		acc += w;
		p += sizeof(w);
		len -= sizeof(w);
	}
	if (len >= sizeof(uint16_t)) {
		uint16_t w;

		memcpy(&w, p, sizeof(w));
		acc += w;
		p += sizeof(w);
		len -= sizeof(w);
	}
	if (len) {
		uint8_t last[2] = { *p, 0 };	/* pad with a zero byte */
		uint16_t w;

		memcpy(&w, last, sizeof(w));
		acc += w;
	}

	/* Fold 64 to 32 bits: twice is enough to absorb the carries */
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

/**
 * csum_fold() - Fold a partial sum to 16 bits and complement it
 * @sum:	32-bit partial sum
 *
 * Return: checksum, ready to store in a header field as is
 */
uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * csum() - Checksum of a buffer, with an initial partial sum
 * @buf:	Data
 * @len:	Length, bytes
 * @sum:	Initial partial sum, e.g. of a pseudo-header, or 0
 *
 * Return: checksum, ready to store as is
 */
uint16_t csum(const void *buf, size_t len, uint32_t sum)
{
	return csum_fold(csum_partial(buf, len, sum));
}

/**
 * csum_ip4_header() - IPv4 header checksum
 * @hdr:	IPv4 header, with the checksum field set to zero (to compute)
 *		or left as received (to verify: the result is then 0)
 * @len:	Header length (IHL * 4), bytes
 *
 * Return: checksum, ready to store as is
 */
uint16_t csum_ip4_header(const void *hdr, size_t len)
{
	return csum(hdr, len, 0);
}

/**
 * csum_icmp4() - ICMP (v4) checksum: no pseudo-header
 * @icmp:	ICMP header and data, checksum field zero
 * @len:	Length, bytes
 *
 * Return: checksum, ready to store as is
 */
uint16_t csum_icmp4(const void *icmp, size_t len)
{
	return csum(icmp, len, 0);
}

/**
 * csum_pseudo4() - Partial sum of the IPv4 pseudo-header (RFC 768)
 * @src:	Source address, network order
 * @dst:	Destination address, network order
 * @proto:	IP protocol number
 * @l4len:	Transport header and payload length, bytes, host order
 *
 * Return: 32-bit partial sum
 */
uint32_t csum_pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto,
		      uint16_t l4len)
{
	struct {
		uint32_t src;
		uint32_t dst;
		uint8_t zero;
		uint8_t proto;
		uint16_t len;
	} __attribute__((packed)) ph = {
		src.s_addr, dst.s_addr, 0, proto, htons(l4len),
	};

	_Static_assert(sizeof(ph) == 12, "pseudo-header size");
	return csum_partial(&ph, sizeof(ph), 0);
}

/**
 * csum_udp4() - UDP over IPv4 checksum, pseudo-header included
 * @src:	Source address, network order
 * @dst:	Destination address, network order
 * @udp:	UDP header and payload, checksum field zero
 * @len:	Length of header and payload, bytes (at most 65535)
 *
 * Return: checksum, ready to store as is; a zero result is sent as 0xffff
 * (RFC 768: zero means "no checksum")
 */
uint16_t csum_udp4(struct in_addr src, struct in_addr dst,
		   const void *udp, size_t len)
{
	uint16_t sum = csum(udp, len,
			    csum_pseudo4(src, dst, IPPROTO_UDP, (uint16_t)len));

	return sum ? sum : 0xffff;
}

/**
 * csum_pseudo6() - Partial sum of the IPv6 pseudo-header (RFC 8200, 8.1)
 * @src:	Source address
 * @dst:	Destination address
 * @proto:	Next header (upper-layer protocol)
 * @l4len:	Upper-layer packet length, bytes, host order
 *
 * Return: 32-bit partial sum
 */
uint32_t csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst,
		      uint8_t proto, uint32_t l4len)
{
	struct {
		struct in6_addr src;
		struct in6_addr dst;
		uint32_t len;
		uint8_t zero[3];
		uint8_t proto;
	} __attribute__((packed)) ph = {
		*src, *dst, htonl(l4len), { 0 }, proto,
	};

	_Static_assert(sizeof(ph) == 40, "pseudo-header size");
	return csum_partial(&ph, sizeof(ph), 0);
}

/**
 * csum_iov() - Add an I/O vector to a running partial sum
 * @iov:	Vector
 * @cnt:	Entries
 * @sum:	Sum so far
 *
 * Entries of odd length shift the byte position of what follows: the sum
 * of such a following entry is byte-swapped before it is added (RFC 1071,
 * 2.B: the sum is byte-order independent up to a swap).
 *
 * Return: 32-bit partial sum
 */
uint32_t csum_iov(const struct iovec *iov, size_t cnt, uint32_t sum)
{
	bool odd = false;
	size_t i;

	for (i = 0; i < cnt; i++) {
		uint32_t s = csum_partial(iov[i].iov_base, iov[i].iov_len, 0);
		uint64_t acc;

		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		if (odd)
			s = ((s & 0xff) << 8) | (s >> 8);
		acc = (uint64_t)sum + s;
		sum = (uint32_t)((acc & 0xffffffff) + (acc >> 32));
		if (iov[i].iov_len & 1)
			odd = !odd;
	}
	return sum;
}

/**
 * csum_l4() - TCP, UDP or ICMPv6 checksum with the pseudo-header
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dst:	Destination address, same family as @src
 * @proto:	IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMPV6
 * @iov:	Transport header and payload, checksum field zero (to compute)
 *		or as received (to verify: the result is then 0)
 * @cnt:	Entries in @iov
 *
 * Return: checksum, ready to store as is (for UDP, store 0xffff for 0)
 */
uint16_t csum_l4(const union inany_addr *src, const union inany_addr *dst,
		 uint8_t proto, const struct iovec *iov, size_t cnt)
{
	const struct in_addr *s4 = inany_v4(src), *d4 = inany_v4(dst);
	size_t len = iov_size(iov, cnt);
	uint32_t sum;

	if (s4 && d4)
		sum = csum_pseudo4(*s4, *d4, proto, (uint16_t)len);
	else
		sum = csum_pseudo6(&src->a6, &dst->a6, proto, (uint32_t)len);
	return csum_fold(csum_iov(iov, cnt, sum));
}
