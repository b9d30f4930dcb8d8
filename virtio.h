/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VIRTIO_H
#define VIRTIO_H

#include "util.h"
#include "vu_mem.h"

/* Feature bits (virtio 1.x, 6 and 5.1.3) */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VHOST_F_LOG_ALL			26
#define VHOST_USER_F_PROTOCOL_FEATURES	30

#define BIT_ULL(n)			(1ULL << (n))

#define VIRTQUEUE_MAX_SIZE		32768	/* split ring limit, 2.7.1 */
#define VU_ELEM_MAX_SG			64	/* iovecs in one element */

/* Split ring layout (virtio 1.x, 2.7), all little-endian */
#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4
#define VRING_AVAIL_F_NO_INTERRUPT	1
#define VRING_USED_F_NO_NOTIFY		1

struct vring_desc {
	__le64 addr;		/* guest physical address */
	__le32 len;		/* bytes */
	__le16 flags;		/* VRING_DESC_F_* */
	__le16 next;		/* index of next descriptor if F_NEXT */
} PACKED;
static_assert(sizeof(struct vring_desc) == 16, "wire size");

struct vring_avail {
	__le16 flags;
	__le16 idx;
	__le16 ring[];		/* then __le16 used_event with EVENT_IDX */
} PACKED;

struct vring_used_elem {
	__le32 id;
	__le32 len;
} PACKED;
static_assert(sizeof(struct vring_used_elem) == 8, "wire size");

struct vring_used {
	__le16 flags;
	__le16 idx;
	struct vring_used_elem ring[];	/* then __le16 avail_event */
} PACKED;

/**
 * struct virtq - State of one split virtqueue
 * @num:	Queue size (descriptors), power of two, 0 if not set
 * @desc_gpa, @avail_gpa, @used_gpa: Ring addresses as guest physical
 *		addresses (for the dirty log: the used ring's log address)
 * @desc, @avail, @used: Ring pointers in our mapping, NULL until started
 * @log_used:	VHOST_VRING_F_LOG was set in SET_VRING_ADDR
 * @last_avail_idx: Next avail ring entry to consume (free-running)
 * @shadow_avail_idx: Last avail->idx value read from the guest
 * @used_idx:	Next used ring entry to write (free-running)
 * @signalled_used: used_idx at the last guest notification
 * @signalled_used_valid: @signalled_used is meaningful
 * @inuse:	Elements popped and not yet returned
 * @event_idx:	VIRTIO_F_EVENT_IDX negotiated
 * @started:	Rings mapped and kick fd set: the queue may be processed
 * @enabled:	SET_VRING_ENABLE state
 * @broken:	The guest corrupted this ring: stop processing until reset
 * @kick_fd, @call_fd, @err_fd: eventfds from the front-end, -1 if none
 */
struct virtq {
	unsigned num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool log_used;
	uint16_t last_avail_idx;
	uint16_t shadow_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_used_valid;
	unsigned inuse;
	bool event_idx;
	bool started;
	bool enabled;
	bool broken;
	int kick_fd;
	int call_fd;
	int err_fd;
};

/**
 * struct virtq_elem - One descriptor chain popped from a queue
 * @index:	Head descriptor index, to give back in the used ring
 * @out_num:	Device-readable (guest to us) iovecs in @sg, first
 * @in_num:	Device-writable (us to guest) iovecs in @sg, after @out_num
 * @sg:		Buffers, mapped into our address space
 */
struct virtq_elem {
	unsigned index;
	unsigned out_num;
	unsigned in_num;
	struct iovec sg[VU_ELEM_MAX_SG];
};

void virtq_init(struct virtq *vq);
int virtq_map(const struct vu_mem *m, struct virtq *vq, uint64_t desc_qva,
	      uint64_t avail_qva, uint64_t used_qva);
bool virtq_mapped(const struct virtq *vq);
void virtq_unmap(struct virtq *vq);
void virtq_wake(const struct virtq *vq);
void virtq_start(struct virtq *vq, unsigned idx);
bool virtq_empty(struct virtq *vq);
int virtq_pop(struct vu_mem *m, struct virtq *vq, struct virtq_elem *elem);
void virtq_rewind(struct virtq *vq, unsigned num);
void virtq_fill(struct vu_mem *m, struct virtq *vq,
		const struct virtq_elem *elem, uint32_t len, unsigned idx);
void virtq_flush(struct vu_mem *m, struct virtq *vq, unsigned count);
bool virtq_should_notify(struct virtq *vq);
void virtq_notify(struct virtq *vq);
void virtq_set_broken(struct virtq *vq, const char *why);

#endif /* VIRTIO_H */
