/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TAP_OUT_H
#define TAP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include "ctx.h"
#include "inany.h"
#include "vu_common.h"

#define TAP_L4_IOV		8	/* entries in a transport payload vector */

/**
 * tap_csum_trusted() - May frames to the guest leave data checksums out?
 * @c:		Execution context
 *
 * Return: true if the front-end accepted VIRTIO_NET_F_GUEST_CSUM: we mark
 * frames DATA_VALID and a TCP segment's checksum may skip its data
 */
static inline bool tap_csum_trusted(const struct ctx *c)
{
	return vu_frame_csum_trusted(c->vdev);
}

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
