/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TAP_OUT_H
#define TAP_OUT_H

#include "passt.h"
#include "inany.h"

#define TAP_L4_IOV		8	/* entries in a transport payload vector */

int tap_send(struct ctx *c, const void *frame, size_t len);
int tap_send_ip4(struct ctx *c, struct in_addr src, struct in_addr dst,
		 uint8_t proto, const void *payload, size_t len);
int tap_send_ip4_mac(struct ctx *c, const uint8_t *dst_mac,
		     struct in_addr src, struct in_addr dst, uint8_t proto,
		     const void *payload, size_t len);

int tap_send_l4(struct ctx *c, const union inany_addr *src,
		const union inany_addr *dst, uint8_t proto,
		const struct iovec *l4, size_t cnt);

#endif /* TAP_OUT_H */
