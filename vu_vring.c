// SPDX-License-Identifier: GPL-2.0-or-later
/* vu_vring.c - vhost-user ring requests: SET_VRING_* and GET_VRING_BASE
 *
 * DOC: Theory of operation
 *
 * The front-end sets up each virtqueue with a handful of requests: its
 * size (SET_VRING_NUM), the addresses of its three parts and whether
 * writes to the used ring are logged (SET_VRING_ADDR), the next available
 * index (SET_VRING_BASE), the eventfds the guest kicks and we call and
 * report errors on (SET_VRING_KICK, _CALL, _ERR), and whether it is
 * enabled (SET_VRING_ENABLE); GET_VRING_BASE stops it and asks where it
 * stopped.  The handlers here parse those requests and change the queue
 * state; the ring mechanics they rely on (mapping, starting) are
 * virtio.c's, and vhost_user.c calls them from its request table.
 *
 * Ring states follow the specification ("Ring states"): a ring starts
 * stopped and disabled; SET_VRING_KICK starts it once its addresses are
 * known; GET_VRING_BASE stops it; SET_VRING_ENABLE enables or disables it.
 *
 * Bad input, by kind: a queue index out of range, a ring fd payload with
 * unknown bits or a file descriptor count that doesn't match its NOFD
 * flag: -EPROTO (the caller drops the connection); a size that isn't a
 * power of two or is too large, a base wider than 16 bits, unknown ring
 * flags, rings outside guest memory, an enable value other than 0 or 1:
 * refused with -EINVAL or -EFAULT, logged; a size or base change on a
 * started queue: -EBUSY.
 *
 * Prefixes, one file each: see the table in vhost_user.c.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"
#include "vu_vring.h"

/**
 * vu_vring_vq() - Look up the virtqueue a message refers to
 * @vdev:	vhost-user device
 * @idx:	Queue index from the front-end
 *
 * Return: virtqueue, NULL if @idx is out of range (logged)
 */
static struct virtq *vu_vring_vq(struct vu_dev *vdev, uint32_t idx)
{
	if (idx >= VHOST_USER_MAX_QUEUES) {
		err("vhost-user: queue index %" PRIu32 " out of range", idx);
		return NULL;
	}
	return &vdev->vq[idx];
}

/**
 * vu_vring_fds_close() - Close the eventfds of a queue
 * @vdev:	vhost-user device, for the epoll instance
 * @vq:		Virtqueue
 */
void vu_vring_fds_close(struct vu_dev *vdev, struct virtq *vq)
{
	ev_del(vdev->epollfd, vq->kick_fd);
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
}

/**
 * vu_vring_set_num() - SET_VRING_NUM: queue size
 * @vdev:	vhost-user device
 * @msg:	Message: vring state
 *
 * A size change forgets ring addresses validated for the old size.
 *
 * Return: 0, -EPROTO if the index is out of range, -EINVAL for a bad size,
 *	   -EBUSY if the queue is started
 */
int vu_vring_set_num(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	struct virtq *vq = vu_vring_vq(vdev, le32toh(msg->payload.state.index));
	uint32_t num = le32toh(msg->payload.state.num);

	if (!vq)
		return -EPROTO;
	if (!num || num > VIRTQUEUE_MAX_SIZE || (num & (num - 1))) {
		warn("vhost-user: bad queue size %" PRIu32, num);
		return -EINVAL;
	}
	if (vq->started) {
		warn("vhost-user: queue size change on a started queue");
		return -EBUSY;
	}

	if (vq->num != num)
		virtq_unmap(vq);
	vq->num = num;
	return 0;
}

/**
 * vu_vring_set_addr() - SET_VRING_ADDR: ring addresses, logging flag
 * @vdev:	vhost-user device
 * @msg:	Message: vring address description
 *
 * During a migration, QEMU sends this again for started rings, with the log
 * flag: rings are then remapped in place, indices untouched.
 *
 * Return: 0, -EPROTO if the index is out of range, -EINVAL or -EFAULT if
 *	   the rings can't be used (the queue is then stopped)
 */
int vu_vring_set_addr(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	struct vhost_user_vring_addr a;
	struct virtq *vq;
	uint32_t idx, flags;
	int rc;

	memcpy(&a, &msg->payload.addr, sizeof(a));
	idx = le32toh(a.index);
	flags = le32toh(a.flags);

	if (!(vq = vu_vring_vq(vdev, idx)))
		return -EPROTO;
	if (flags & ~(1U << VHOST_VRING_F_LOG)) {
		warn("vhost-user: unknown ring flags 0x%" PRIx32, flags);
		return -EINVAL;
	}

	rc = virtq_map(&vdev->mem, vq, le64toh(a.desc_user_addr),
		       le64toh(a.avail_user_addr), le64toh(a.used_user_addr));
	if (rc) {
		warn("vhost-user: queue %" PRIu32 " rings not in guest memory: %s",
		     idx, strerror(-rc));
		virtq_unmap(vq);
		return rc;
	}

	vq->log_used = !!(flags & (1U << VHOST_VRING_F_LOG));
	if (vq->log_used)
		vq->used_gpa = le64toh(a.log_guest_addr);

	debug("vhost-user: queue %" PRIu32 " rings: desc 0x%" PRIx64 " avail 0x%"
	      PRIx64 " used 0x%" PRIx64 "%s", idx, vq->desc_gpa, vq->avail_gpa,
	      vq->used_gpa, vq->log_used ? " (logged)" : "");

	if (vq->kick_fd >= 0)
		virtq_start(vq, idx);
	return 0;
}

/**
 * vu_vring_set_base() - SET_VRING_BASE: next available index to process
 * @vdev:	vhost-user device
 * @msg:	Message: vring state
 *
 * Return: 0, -EPROTO if the index is out of range, -EINVAL for a value
 *	   wider than 16 bits, -EBUSY if the queue is started
 */
int vu_vring_set_base(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	struct virtq *vq = vu_vring_vq(vdev, le32toh(msg->payload.state.index));
	uint32_t num = le32toh(msg->payload.state.num);

	if (!vq)
		return -EPROTO;
	if (num > UINT16_MAX) {
		warn("vhost-user: bad ring base %" PRIu32, num);
		return -EINVAL;
	}
	if (vq->started) {
		warn("vhost-user: ring base change on a started queue");
		return -EBUSY;
	}

	vq->last_avail_idx = vq->shadow_avail_idx = vq->used_idx = num;
	vq->signalled_used_valid = false;
	return 0;
}

/**
 * vu_vring_get_base() - GET_VRING_BASE: stop a queue, return its index
 * @vdev:	vhost-user device
 * @msg:	Message: vring state, reply in place
 *
 * Return: VU_REPLY, -EPROTO if the index is out of range
 */
int vu_vring_get_base(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint32_t idx = le32toh(msg->payload.state.index);
	struct virtq *vq = vu_vring_vq(vdev, idx);

	if (!vq)
		return -EPROTO;

	vq->started = false;
	ev_del(vdev->epollfd, vq->kick_fd);
	close_fd(&vq->kick_fd);
	debug("vhost-user: queue %" PRIu32 " stopped at %u", idx,
	      vq->last_avail_idx);

	msg->payload.state.index = htole32(idx);
	msg->payload.state.num = htole32(vq->last_avail_idx);
	msg->hdr.size = htole32(sizeof(msg->payload.state));
	return VU_REPLY;
}

/**
 * vu_vring_fd() - Parse the payload of SET_VRING_KICK, _CALL and _ERR
 * @vdev:	vhost-user device
 * @msg:	Message: u64 with queue index and NOFD flag, maybe one fd
 * @fd:		Received file descriptor, -1 with NOFD; taken from @msg
 *
 * Return: virtqueue, NULL if malformed (logged)
 *
 * #syscalls fcntl
 */
static struct virtq *vu_vring_fd(struct vu_dev *vdev,
				 struct vhost_user_msg *msg, int *fd)
{
	uint64_t v = vu_msg_u64(msg);
	bool nofd = v & VHOST_USER_VRING_NOFD_MASK;
	struct virtq *vq;

	if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
			    VHOST_USER_VRING_NOFD_MASK)) {
		err("vhost-user: bad ring fd payload 0x%" PRIx64, v);
		return NULL;
	}
	if (msg->nfds != (nofd ? 0U : 1U)) {
		err("vhost-user: %u fds with ring fd payload 0x%" PRIx64,
		    msg->nfds, v);
		return NULL;
	}
	if (!(vq = vu_vring_vq(vdev, v & VHOST_USER_VRING_IDX_MASK)))
		return NULL;

	*fd = -1;
	if (!nofd) {
		int flags = fcntl(msg->fds[0], F_GETFL);

		/* The front-end shares these eventfds: it could drain a kick
		 * between our epoll_wait() and read(), or fill a call
		 * counter up to where write() waits.  We never wait on them.
		 */
		if (flags < 0 ||
		    fcntl(msg->fds[0], F_SETFL, flags | O_NONBLOCK)) {
			err("vhost-user: ring fd: %s", strerror(errno));
			return NULL;
		}
		*fd = msg->fds[0];
		msg->fds[0] = -1;
	}
	return vq;
}

/**
 * vu_vring_set_kick() - SET_VRING_KICK: eventfd the guest kicks, start
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Without a file descriptor, the front-end asks us to poll the ring, which
 * we don't do: the queue starts, and is served when the other one kicks.
 *
 * Return: 0, -EPROTO if malformed, -errno if the fd can't be watched
 */
int vu_vring_set_kick(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	struct virtq *vq;
	unsigned idx;
	int fd, rc;

	if (!(vq = vu_vring_fd(vdev, msg, &fd)))
		return -EPROTO;
	idx = vq - vdev->vq;

	ev_del(vdev->epollfd, vq->kick_fd);
	close_fd(&vq->kick_fd);
	vq->started = false;

	if (fd < 0) {
		warn("vhost-user: queue %u without kick fd: polling "
		     "not supported", idx);
	} else {
		rc = ev_add(vdev->epollfd, fd, EPOLLIN, EV_VU_KICK, idx);
		if (rc) {
			err("vhost-user: can't watch kick fd: %s", strerror(-rc));
			close(fd);
			return rc;
		}
		vq->kick_fd = fd;
	}

	virtq_start(vq, idx);
	return 0;
}

/**
 * vu_vring_fd_store() - Store the eventfd of SET_VRING_CALL or _ERR
 * @vdev:	vhost-user device
 * @msg:	Message
 * @call:	Store it as call fd, else as error fd; the old one is closed
 *
 * Return: virtqueue, NULL if malformed (logged)
 */
static struct virtq *vu_vring_fd_store(struct vu_dev *vdev,
				       struct vhost_user_msg *msg, bool call)
{
	struct virtq *vq;
	int fd, *slot;

	if (!(vq = vu_vring_fd(vdev, msg, &fd)))
		return NULL;

	slot = call ? &vq->call_fd : &vq->err_fd;
	close_fd(slot);
	*slot = fd;
	return vq;
}

/**
 * vu_vring_set_call() - SET_VRING_CALL: eventfd to notify the guest
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: 0, -EPROTO if malformed
 */
int vu_vring_set_call(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	struct virtq *vq = vu_vring_fd_store(vdev, msg, true);

	if (!vq)
		return -EPROTO;
	if (vq->started)
		virtq_wake(vq);	/* QEMU sends it after the kick fd */
	return 0;
}

/**
 * vu_vring_set_err() - SET_VRING_ERR: eventfd to report ring errors
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: 0, -EPROTO if malformed
 */
int vu_vring_set_err(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	return vu_vring_fd_store(vdev, msg, false) ? 0 : -EPROTO;
}

/**
 * vu_vring_set_enable() - SET_VRING_ENABLE: enable or disable a ring
 * @vdev:	vhost-user device
 * @msg:	Message: vring state, num 0 or 1
 *
 * Return: 0, -EPROTO if the index is out of range, -EINVAL for other values
 */
int vu_vring_set_enable(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint32_t idx = le32toh(msg->payload.state.index);
	uint32_t num = le32toh(msg->payload.state.num);
	struct virtq *vq = vu_vring_vq(vdev, idx);

	if (!vq)
		return -EPROTO;
	if (num > 1) {
		warn("vhost-user: bad ring enable value %" PRIu32, num);
		return -EINVAL;
	}

	vq->enabled = num;
	debug("vhost-user: queue %" PRIu32 " %s", idx,
	      num ? "enabled" : "disabled");
	return 0;
}
