/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VU_DEV_H
#define VU_DEV_H

/* The vhost-user device, shared by the request handlers of vhost_user.c
 * and vu_vring.c, and their calling convention
 */

#include "virtio.h"
#include "vu_msg.h"

#define VHOST_USER_MAX_QUEUES		2	/* one RX/TX pair */
#define VHOST_USER_RX_QUEUE		0	/* us to guest */
#define VHOST_USER_TX_QUEUE		1	/* guest to us */


/* Event kinds of this layer (util.h: each module numbers its own) */
enum {
	EV_VU_LISTEN	= 1,	/* vhost-user listening socket */
	EV_VU_CONN	= 2,	/* vhost-user control connection */
	EV_VU_KICK	= 3,	/* virtqueue kick eventfd, index: queue */
};

/**
 * struct vu_devstate_ops - Device state transfer, done by the layer above
 * @start:	SET_DEVICE_STATE_FD accepted: takes ownership of @fd, the
 *		front-end's end of a pipe, for @dir (VHOST_USER_STATE_*);
 *		returns 0 or -errno (the fd is then closed by the callee)
 * @check:	CHECK_DEVICE_STATE: 0 if the last transfer succeeded (on
 *		load: and its state was validated and applied), else -errno
 * @reset:	The session ended: abort a transfer in progress
 * @logging:	Dirty logging turned on (a migration starts, the guest
 *		still runs) or off (it ended, or was cancelled)
 */
struct vu_devstate_ops {
	int (*start)(void *opaque, int fd, uint32_t dir);
	int (*check)(void *opaque);
	void (*reset)(void *opaque);
	void (*logging)(void *opaque, bool on);
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
	struct virtq vq[VHOST_USER_MAX_QUEUES];
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

/* Handler return value: the message now holds a reply of its own */
#define VU_REPLY	1

/**
 * typedef vu_handler_t - Handle one request, header already checked
 * @vdev:	vhost-user device
 * @msg:	Message, reply built in place when returning VU_REPLY
 *
 * Return: 0 if done with no reply of its own, VU_REPLY if @msg holds the
 *	   reply, -EPROTO if malformed, other -errno if refused
 */
typedef int (*vu_handler_t)(struct vu_dev *vdev, struct vhost_user_msg *msg);

#endif /* VU_DEV_H */
