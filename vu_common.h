/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VU_COMMON_H
#define VU_COMMON_H

#include "vhost_user.h"

/* virtio_net_hdr_mrg_rxbuf (virtio 1.x, 5.1.6): we require VERSION_1 */
struct virtio_net_hdr_mrg_rxbuf {
	uint8_t flags;
	uint8_t gso_type;
	__le16 hdr_len;
	__le16 gso_size;
	__le16 csum_start;
	__le16 csum_offset;
	__le16 num_buffers;
} PACKED;
static_assert(sizeof(struct virtio_net_hdr_mrg_rxbuf) == 12, "wire size");

#define VU_NET_HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define VU_TX_BATCH		64

typedef void (*vu_frame_cb)(void *opaque, const uint8_t *frame, size_t len);

int vu_tx_poll(struct vu_dev *vdev, vu_frame_cb cb, void *opaque);
int vu_send(struct vu_dev *vdev, const struct iovec *iov, size_t iovcnt);

#endif /* VU_COMMON_H */
