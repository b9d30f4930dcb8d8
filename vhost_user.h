/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VHOST_USER_H
#define VHOST_USER_H

#include "virtio.h"
#include "vu_ev.h"

#define VHOST_USER_MAX_QUEUES		2	/* one RX/TX pair */
#define VHOST_USER_RX_QUEUE		0	/* us to guest */
#define VHOST_USER_TX_QUEUE		1	/* guest to us */
#define VHOST_USER_MAX_FDS		8	/* per message, as QEMU */
#define VHOST_USER_VERSION		1
#define VU_MSG_TIMEOUT_S		2	/* for the rest of a message */

/* Front-end message types we know (vhost-user.rst, "Front-end message types") */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_REQUEST_MAX
};

#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_MTU		4
#define VHOST_USER_PROTOCOL_F_DEVICE_STATE	19

#define VHOST_USER_FLAG_VERSION_MASK	0x3
#define VHOST_USER_FLAG_REPLY		(1 << 2)
#define VHOST_USER_FLAG_NEED_REPLY	(1 << 3)

#define VHOST_VRING_F_LOG		0
#define VHOST_USER_VRING_IDX_MASK	0xff
#define VHOST_USER_VRING_NOFD_MASK	(1 << 8)

/* Message header: all fields little-endian (host order on x86) */
struct vhost_user_hdr {
	__le32 request;
	__le32 flags;
	__le32 size;		/* payload bytes following the header */
} PACKED;
static_assert(sizeof(struct vhost_user_hdr) == 12, "wire size");

struct vhost_user_vring_state {
	__le32 index;
	__le32 num;
} PACKED;

struct vhost_user_vring_addr {
	__le32 index;
	__le32 flags;
	__le64 desc_user_addr;	/* front-end (QEMU) virtual addresses */
	__le64 used_user_addr;
	__le64 avail_user_addr;
	__le64 log_guest_addr;	/* guest physical address of the used ring */
} PACKED;
static_assert(sizeof(struct vhost_user_vring_addr) == 40, "wire size");

struct vhost_user_mem_region_desc {
	__le64 guest_phys_addr;
	__le64 memory_size;
	__le64 userspace_addr;
	__le64 mmap_offset;
} PACKED;

struct vhost_user_mem_table {
	__le32 nregions;
	__le32 padding;
	struct vhost_user_mem_region_desc regions[VU_MAX_REGIONS];
} PACKED;
static_assert(sizeof(struct vhost_user_mem_table) == 8 + 32 * 8, "wire size");

struct vhost_user_log {
	__le64 mmap_size;
	__le64 mmap_offset;
} PACKED;

struct vhost_user_device_state {
	__le32 direction;	/* 0: save (back-end writes), 1: load */
	__le32 phase;		/* 0: stopped */
} PACKED;

#define VHOST_USER_MAX_PAYLOAD	sizeof(struct vhost_user_mem_table)

struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union {
		__le64 u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_mem_table mem;
		struct vhost_user_log log;
		struct vhost_user_device_state devstate;
		uint8_t raw[VHOST_USER_MAX_PAYLOAD];
	} payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
} PACKED;

#define VHOST_USER_STATE_SAVE	0	/* back-end writes its state */
#define VHOST_USER_STATE_LOAD	1	/* back-end reads it */
#define VHOST_USER_STATE_STOPPED 0	/* the only phase there is */
#define VHOST_USER_NOFD		(1ULL << 8)	/* reply: no fd returned */

/**
 * struct vu_devstate_ops - Device state transfer, done by the layer above
 * @start:	SET_DEVICE_STATE_FD accepted: takes ownership of @fd, the
 *		front-end's end of a pipe, for @dir (VHOST_USER_STATE_*);
 *		returns 0 or -errno (the fd is then closed by the callee)
 * @check:	CHECK_DEVICE_STATE: 0 if the last transfer succeeded (on
 *		load: and its state was validated and applied), else -errno
 * @reset:	The session ended: abort a transfer in progress
 */
struct vu_devstate_ops {
	int (*start)(void *opaque, int fd, uint32_t dir);
	int (*check)(void *opaque);
	void (*reset)(void *opaque);
};

/**
 * struct vu_dev - The one vhost-user device and its control connection
 * @epollfd:	Our epoll instance, to add and remove kick fds
 * @listen_fd:	Listening UNIX socket, -1 if none (--fd gives a connection)
 * @conn_fd:	Connected front-end, -1 if none
 * @features:	Virtio features acked with SET_FEATURES
 * @protocol_features: Acked vhost-user protocol features
 * @owned:	SET_OWNER seen
 * @mtu:	MTU the front-end asked for with NET_SET_MTU, 0 if none
 * @mem:	Guest memory regions and dirty log
 * @vq:		Virtqueues, RX then TX
 * @devstate:	Device state transfer, served by the layer above, NULL if
 *		none (SET_DEVICE_STATE_FD is then refused)
 * @devstate_opaque: Passed to the @devstate callbacks
 * @rx_frames, @tx_frames, @rx_dropped, @tx_dropped: Counters
 */
struct vu_dev {
	int epollfd;
	int listen_fd;
	int conn_fd;
	uint64_t features;
	uint64_t protocol_features;
	bool owned;
	unsigned mtu;
	struct vu_mem mem;
	struct vu_virtq vq[VHOST_USER_MAX_QUEUES];
	const struct vu_devstate_ops *devstate;
	void *devstate_opaque;
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};

/* Virtio features we offer */
#define VU_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |			\
			 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |		\
			 BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |		\
			 BIT_ULL(VIRTIO_F_INDIRECT_DESC) |		\
			 BIT_ULL(VIRTIO_F_EVENT_IDX) |			\
			 BIT_ULL(VIRTIO_NET_F_GUEST_ANNOUNCE) |		\
			 BIT_ULL(VHOST_F_LOG_ALL) |			\
			 BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES))

/* Protocol features we offer */
#define VU_PROTOCOL_FEATURES (BIT_ULL(VHOST_USER_PROTOCOL_F_LOG_SHMFD) |	\
			      BIT_ULL(VHOST_USER_PROTOCOL_F_RARP) |	\
			      BIT_ULL(VHOST_USER_PROTOCOL_F_REPLY_ACK) |	\
			      BIT_ULL(VHOST_USER_PROTOCOL_F_MTU) |	\
			      BIT_ULL(VHOST_USER_PROTOCOL_F_DEVICE_STATE))

void vu_dev_init(struct vu_dev *vdev, int epollfd);
int vu_listen(struct vu_dev *vdev, const char *path);
int vu_accept(struct vu_dev *vdev);
int vu_set_conn(struct vu_dev *vdev, int fd);
int vu_control_handler(struct vu_dev *vdev, uint32_t events);
void vu_disconnect(struct vu_dev *vdev);
bool vu_sigbus_check(struct vu_dev *vdev);
bool vu_queue_ready(const struct vu_dev *vdev, unsigned qidx);

/* For the unit tests and the fuzzer: one message, already received */
int vu_msg_recv(int fd, struct vhost_user_msg *msg);
int vu_msg_handle(struct vu_dev *vdev, struct vhost_user_msg *msg,
		  bool *reply);

#endif /* VHOST_USER_H */
