/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include "inany.h"

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
uint16_t csum(const void *buf, size_t len, uint32_t sum);
uint16_t csum_ip4_header(const void *hdr, size_t len);
uint16_t csum_icmp4(const void *icmp, size_t len);
uint32_t csum_pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto,
		      uint16_t l4len);
uint16_t csum_udp4(struct in_addr src, struct in_addr dst,
		   const void *udp, size_t len);

uint32_t csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst,
		      uint8_t proto, uint32_t l4len);
uint32_t csum_iov(const struct iovec *iov, size_t cnt, uint32_t sum);
uint16_t csum_l4(const union inany_addr *src, const union inany_addr *dst,
		 uint8_t proto, const struct iovec *iov, size_t cnt);

#endif /* CHECKSUM_H */
