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
