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
#define VIRTIO_NET_HDR_F_DATA_VALID	2	/* checksums: don't check */
#define VU_TX_BATCH		64

typedef void (*vu_frame_cb)(void *opaque, const uint8_t *frame, size_t len);

int vu_frame_tx_poll(struct vu_dev *vdev, vu_frame_cb cb, void *opaque);
int vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t iovcnt);

/**
 * vu_frame_csum_trusted() - Will the guest take our frames unchecked?
 * @vdev:	vhost-user device
 *
 * With VIRTIO_NET_F_GUEST_CSUM negotiated, vu_frame_send() marks every frame
 * VIRTIO_NET_HDR_F_DATA_VALID, and the guest does not verify checksums
 * (virtio 1.x, 5.1.6.4): one over a whole TCP segment is then wasted.
 *
 * Return: true if so
 */
static inline bool vu_frame_csum_trusted(const struct vu_dev *vdev)
{
	return vdev->features & BIT_ULL(VIRTIO_NET_F_GUEST_CSUM);
}

#endif /* VU_COMMON_H */
