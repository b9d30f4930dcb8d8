// SPDX-License-Identifier: GPL-2.0-or-later
/* vu_common.c - Ethernet frames in and out of the virtio-net queues
 *
 * DOC: Theory of operation
 *
 * Guest to us (TX queue): vu_frame_tx_poll() pops descriptor chains, copies
 * each frame into one linear buffer, strips the virtio-net header and hands the
 * frame to a callback given by the layer above (this file knows nothing of
 * protocols).  Every chain goes back to the guest as used at once, with
 * length 0: the device wrote nothing into it.
 *
 * Us to guest (RX queue): vu_frame_send() writes the virtio-net header and the
 * frame across as many receive buffers as it needs (VIRTIO_NET_F_MRG_RXBUF,
 * num_buffers in the header), marks each written byte in the dirty log, and
 * notifies the guest.  If the guest has not posted enough buffers, the
 * frame is dropped and counted, and the buffers are given back untouched.
 *
 * A guest that corrupts a ring gets that queue marked broken by virtio.c;
 * we then simply stop serving it until the front-end resets the device.
 *
 * Prefixes, one file each: see the table in vhost_user.c.
 */

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vu_common.h"

#define VU_FRAME_MAX		(65535 + 14 + 4)	/* L3 maximum + MAC, VLAN */
#define VU_RX_MAX_ELEMS		64			/* buffers for one frame */

/**
 * vu_frame_tx_poll() - Pass frames the guest sent to a handler
 * @vdev:	vhost-user device
 * @cb:		Called for each frame (Ethernet header first, no virtio header)
 * @opaque:	Passed to @cb
 *
 * Processes at most one queue's worth of frames, so that the guest cannot
 * keep us here forever.
 *
 * Return: 1 if frames are left to process (call again), 0 otherwise
 */
int vu_frame_tx_poll(struct vu_dev *vdev, vu_frame_cb cb, void *opaque)
{
	static uint8_t buf[VU_NET_HDR_LEN + VU_FRAME_MAX];
	struct virtq *vq = &vdev->vq[VHOST_USER_TX_QUEUE];
	static struct virtq_elem elem;
	unsigned n = 0, budget;

	if (!vu_queue_ready(vdev, VHOST_USER_TX_QUEUE))
		return 0;

	for (budget = vq->num; budget; budget--) {
		size_t len;

		if (virtq_pop(&vdev->mem, vq, &elem) <= 0)
			break;

		len = iov_size(elem.sg, elem.out_num);
		if (len <= VU_NET_HDR_LEN + 14 || len > sizeof(buf)) {
			vdev->tx_dropped++;
		} else {
			iov_to_buf(elem.sg, elem.out_num, 0, buf, len);
			vdev->tx_frames++;
			cb(opaque, buf + VU_NET_HDR_LEN, len - VU_NET_HDR_LEN);
		}

		virtq_fill(&vdev->mem, vq, &elem, 0, n);
		if (++n == VU_TX_BATCH) {
			virtq_flush(&vdev->mem, vq, n);
			n = 0;
		}
	}
	if (n)
		virtq_flush(&vdev->mem, vq, n);
	virtq_notify(vq);

	return !budget && !vq->broken && !virtq_empty(vq);
}

/**
 * vu_frame_copy_in() - Copy bytes into an element's guest-writable buffers
 * @mem:	Guest memory, for the dirty log
 * @elem:	Element, in_num buffers used
 * @dst_off:	Offset in the element's writable buffers
 * @iov:	Source vector
 * @iovcnt:	Entries in @iov
 * @src_off:	Offset in the source vector
 * @len:	Bytes to copy, must fit
 */
static void vu_frame_copy_in(struct vu_mem *mem, const struct virtq_elem *elem,
			     size_t dst_off, const struct iovec *iov, size_t iovcnt,
		       size_t src_off, size_t len)
{
	const struct iovec *sg = &elem->sg[elem->out_num];
	size_t i;

	for (i = 0; i < elem->in_num && len; i++) {
		size_t n, done;

		if (dst_off >= sg[i].iov_len) {
			dst_off -= sg[i].iov_len;
			continue;
		}
		n = MIN(sg[i].iov_len - dst_off, len);
		done = iov_to_buf(iov, iovcnt, src_off,
				  (uint8_t *)sg[i].iov_base + dst_off, n);
		vu_mem_log_write_va(mem, (uint8_t *)sg[i].iov_base + dst_off,
				    n);
		src_off += done;
		len -= done;
		dst_off = 0;
		if (done < n)
			break;
	}
}

/**
 * vu_frame_send() - Send one Ethernet frame to the guest
 * @vdev:	vhost-user device
 * @iov:	Frame, starting with the Ethernet header
 * @iovcnt:	Entries in @iov
 *
 * Return: bytes of frame sent, or -errno: -ENOTCONN if the receive queue is
 * not running, -ENOBUFS if the guest has no room, -EMSGSIZE if too big
 */
int vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t iovcnt)
{
	static struct virtq_elem elem[VU_RX_MAX_ELEMS];
	struct virtq *vq = &vdev->vq[VHOST_USER_RX_QUEUE];
	struct virtio_net_hdr_mrg_rxbuf hdr = { 0 };
	size_t frame_len = iov_size(iov, iovcnt), off = 0, total;
	struct iovec hdr_iov = { &hdr, sizeof(hdr) };
	unsigned n = 0;

	if (!vu_queue_ready(vdev, VHOST_USER_RX_QUEUE)) {
		vdev->rx_dropped++;
		return -ENOTCONN;
	}
	if (frame_len > VU_FRAME_MAX) {
		vdev->rx_dropped++;
		return -EMSGSIZE;
	}

	total = VU_NET_HDR_LEN + frame_len;
	while (off < total) {
		size_t room;

		if (n == VU_RX_MAX_ELEMS ||
		    virtq_pop(&vdev->mem, vq, &elem[n]) <= 0)
			goto drop;

		if (!elem[n].in_num && !elem[n].out_num && !n) {
			/* A chain we can't serve, first: give it back alone */
			virtq_fill(&vdev->mem, vq, &elem[n], 0, 0);
			virtq_flush(&vdev->mem, vq, 1);
			continue;
		}
		room = iov_size(&elem[n].sg[elem[n].out_num], elem[n].in_num);
		if (!room || elem[n].out_num) {
			virtq_set_broken(vq, "RX buffer not device-writable");
			n++;
			goto drop;
		}
		room = MIN(room, total - off);

		/* The header counts as frame bytes in the first buffer */
		if (!off) {
			size_t first = MIN(room, VU_NET_HDR_LEN);

			if (first < VU_NET_HDR_LEN) {
				n++;
				goto drop;	/* must fit in one buffer */
			}
			vu_frame_copy_in(&vdev->mem, &elem[n], VU_NET_HDR_LEN,
					 iov, iovcnt, 0, room - VU_NET_HDR_LEN);
		} else {
			vu_frame_copy_in(&vdev->mem, &elem[n], 0, iov, iovcnt,
					 off - VU_NET_HDR_LEN, room);
		}
		virtq_fill(&vdev->mem, vq, &elem[n], room, n);
		off += room;
		n++;
	}

	hdr.num_buffers = htole16(n);
	if (vu_frame_csum_trusted(vdev))
		hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	vu_frame_copy_in(&vdev->mem, &elem[0], 0, &hdr_iov, 1, 0, sizeof(hdr));

	virtq_flush(&vdev->mem, vq, n);
	virtq_notify(vq);
	vdev->rx_frames++;
	return frame_len;

drop:
	if (!vq->broken)
		virtq_rewind(vq, n);
	vdev->rx_dropped++;
	return -ENOBUFS;
}
