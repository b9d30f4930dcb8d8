// SPDX-License-Identifier: GPL-2.0-or-later
/* vhost_user.c - vhost-user protocol, back-end side: requests, connection
 *
 * DOC: Theory of operation
 *
 * We serve exactly one front-end (QEMU, or DPDK's virtio-user) over a UNIX
 * stream socket, for one virtio-net device with one queue pair. A second
 * front-end connecting while the first is still there is accepted and
 * closed at once: the first one keeps being served.
 *
 * Each readable event on the control socket carries one message, read
 * whole with its file descriptors by vu_msg.c.  Every request has one
 * entry in a table indexed by request number: its name, its handler, the
 * exact payload size it takes and how many file descriptors it may carry.
 * Generic code checks what the table says before the handler runs; the
 * handler checks the rest (queue index, values).  Handlers take ownership
 * of the file descriptors they keep by setting the message slot to -1;
 * whatever is left in the message afterwards is closed, so no descriptor
 * received from the front-end survives a message unless it was
 * deliberately stored.  The device-wide requests are handled here, the
 * ring requests in vu_vring.c.
 *
 * Bad input, by kind:
 * - malformed message (wrong version, payload size not what the request
 *   takes, wrong number of file descriptors, truncated read, queue index
 *   out of range, control data truncated): we log it, drop the connection
 *   and reset the device, as the front-end and we no longer agree on the
 *   state of the session;
 * - well-formed request we refuse (features we didn't offer, a ring size
 *   that isn't a power of two, a memory table with overlapping regions or a
 *   file smaller than announced, ring addresses outside guest memory): the
 *   previous state is left as it was, we log a warning and, if the
 *   front-end asked for an acknowledgement (REPLY_ACK), reply non-zero;
 * - unknown request: payload and descriptors are discarded, a failure is
 *   returned if the front-end asked for an acknowledgement, and we go on.
 *
 * A new memory table is checked and mapped completely (vu_mem.c) before
 * the old one is unmapped, so a failure leaves the old table in place, and
 * rings that were mapped are translated again against the new table
 * (front-end addresses of RAM don't move).  Without
 * VHOST_USER_F_PROTOCOL_FEATURES acked, rings count as enabled.
 *
 * Layers, each including only those below it:
 *
 *	vu_common.c	frames in and out of the virtqueues
 *	vhost_user.c	this file: request table, device requests, connection
 *	vu_vring.c	ring requests            (vu_dev.h: device, handler type)
 *	virtio.c	split-ring mechanics     vu_msg.c: framing, wire format
 *	vu_mem.c	guest memory table, dirty log, SIGBUS
 *
 * Prefixes, one file each (the longest matching prefix names the file: no
 * function here starts with one of the longer ones):
 *
 *	prefix		file
 *	vu_frame_	vu_common.c
 *	vu_vring_	vu_vring.c
 *	vu_msg_		vu_msg.c
 *	vu_mem_		vu_mem.c
 *	virtq_		virtio.c
 *	vu_		vhost_user.c
 */

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"
#include "vhost_user.h"
#include "vu_vring.h"

#define VU_SIZE_ANY	UINT32_MAX	/* payload size checked by the handler */
#define VU_ACK_FAIL	1		/* REPLY_ACK payload on failure */
#define VU_MTU_MIN	68		/* RFC 791 minimum for any link */
#define VU_MTU_MAX	65535
#define VU_LISTEN_BACKLOG 1

/**
 * struct vu_req - What we know about one front-end request
 * @name:	Name for logs, NULL if we don't know the request
 * @fn:		Handler, NULL if we don't implement the request
 * @size:	Exact payload size, bytes, or VU_SIZE_ANY (handler checks)
 * @max_fds:	File descriptors the request may carry (handler checks the
 *		exact count when non-zero)
 */
struct vu_req {
	const char *name;
	vu_handler_t fn;
	uint32_t size;
	unsigned max_fds;
};

/**
 * vu_reply_u64() - Make a message its own reply, with a u64 payload
 * @msg:	Message
 * @v:		Value, host order
 *
 * Return: VU_REPLY
 */
static int vu_reply_u64(struct vhost_user_msg *msg, uint64_t v)
{
	msg->payload.u64 = htole64(v);
	msg->hdr.size = htole32(sizeof(uint64_t));
	return VU_REPLY;
}

/**
 * vu_reset() - Drop all session state but the connection itself
 * @vdev:	vhost-user device
 *
 * Leaves no file descriptor (other than the listening and control sockets)
 * and no mapping behind.
 */
static void vu_reset(struct vu_dev *vdev)
{
	unsigned i;

	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		vu_vring_fds_close(vdev, &vdev->vq[i]);
		virtq_init(&vdev->vq[i]);
	}

	vu_mem_reset(&vdev->mem);

	if (vdev->devstate)
		vdev->devstate->reset(vdev->devstate_opaque);

	vdev->features = 0;
	vdev->protocol_features = 0;
	vdev->owned = false;
	vdev->mtu = 0;
}

/* Handlers, in request order */

/**
 * vu_get_features() - GET_FEATURES: virtio features we offer
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: VU_REPLY
 */
static int vu_get_features(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	(void)vdev;
	return vu_reply_u64(msg, VU_FEATURES);
}

/**
 * vu_set_features() - SET_FEATURES: virtio features the driver acked
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Sent again with VHOST_F_LOG_ALL when a migration starts and stops.
 *
 * Return: 0, -EINVAL for features we did not offer
 */
static int vu_set_features(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint64_t f = vu_msg_u64(msg);
	unsigned i;

	if (f & ~VU_FEATURES) {
		warn("vhost-user: features 0x%" PRIx64 " were not offered",
		     (uint64_t)(f & ~VU_FEATURES));
		return -EINVAL;
	}
	if (!(f & BIT_ULL(VIRTIO_F_VERSION_1)))
		warn("vhost-user: VIRTIO_F_VERSION_1 not acked, legacy driver?");

	vdev->features = f;
	if (vdev->mem.log_all != !!(f & BIT_ULL(VHOST_F_LOG_ALL)) &&
	    vdev->devstate && vdev->devstate->logging)
		vdev->devstate->logging(vdev->devstate_opaque, !vdev->mem.log_all);
	vdev->mem.log_all = !!(f & BIT_ULL(VHOST_F_LOG_ALL));
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		struct virtq *vq = &vdev->vq[i];
		bool ev = !!(f & BIT_ULL(VIRTIO_F_EVENT_IDX));

		if (vq->event_idx != ev)
			vq->signalled_used_valid = false;
		vq->event_idx = ev;
	}

	debug("vhost-user: features 0x%" PRIx64 "%s%s%s", f,
	      (f & BIT_ULL(VIRTIO_F_EVENT_IDX)) ? " event_idx" : "",
	      (f & BIT_ULL(VIRTIO_NET_F_MRG_RXBUF)) ? " mrg_rxbuf" : "",
	      vdev->mem.log_all ? " log_all" : "");
	return 0;
}

/**
 * vu_set_owner() - SET_OWNER: the front-end claims the session
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: 0
 */
static int vu_set_owner(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	(void)msg;
	vdev->owned = true;
	return 0;
}

/**
 * vu_reset_owner() - RESET_OWNER: reset the device, keep the connection
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: 0
 */
static int vu_reset_owner(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	(void)msg;
	info("vhost-user: front-end reset the device");
	vu_reset(vdev);
	return 0;
}

/**
 * vu_sigbus_check() - After a batch: did the front-end shrink guest memory?
 * @vdev:	vhost-user device
 *
 * Return: true if it did: the session was reset and the front-end dropped
 */
bool vu_sigbus_check(struct vu_dev *vdev)
{
	if (!vu_mem_sigbus_hit())
		return false;
	err("vhost-user: guest memory file shrunk under us: dropping the "
	    "front-end");
	vu_disconnect(vdev);
	return true;
}

/**
 * vu_table_replace() - Install a new, mapped memory table; remap the rings
 * @vdev:	vhost-user device
 * @r:		New regions, mapped: ownership passes to @vdev
 * @n:		Number of regions
 */
static void vu_table_replace(struct vu_dev *vdev, const struct vu_mem_region *r,
			     unsigned n)
{
	uint64_t qva[VHOST_USER_MAX_QUEUES][3];
	bool remap[VHOST_USER_MAX_QUEUES];
	unsigned i;

	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		const struct virtq *vq = &vdev->vq[i];

		const struct vu_mem *m = &vdev->mem;

		remap[i] = virtq_mapped(vq) &&
			   vu_mem_va_to_qva(m, vq->desc, &qva[i][0]) &&
			   vu_mem_va_to_qva(m, vq->avail, &qva[i][1]) &&
			   vu_mem_va_to_qva(m, vq->used, &qva[i][2]);
	}

	vu_mem_install(&vdev->mem, r, n);

	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		struct virtq *vq = &vdev->vq[i];
		uint64_t used_gpa = vq->used_gpa;

		if (!remap[i]) {
			virtq_unmap(vq);
			continue;
		}
		if (virtq_map(&vdev->mem, vq, qva[i][0], qva[i][1],
			      qva[i][2])) {
			warn("vhost-user: queue %u rings not in new memory table,"
			     " stopping it", i);
			virtq_unmap(vq);
			continue;
		}
		if (vq->log_used)
			vq->used_gpa = used_gpa;
	}
}

/**
 * vu_region_decode() - Decode one region description of a memory table
 * @d:		Region description, as received
 * @r:		Region to fill, host order (neither checked nor mapped yet)
 */
static void vu_region_decode(const struct vhost_user_mem_region_desc *d,
			     struct vu_mem_region *r)
{
	struct vhost_user_mem_region_desc raw;

	memcpy(&raw, d, sizeof(raw));
	r->gpa = le64toh(raw.guest_phys_addr);
	r->size = le64toh(raw.memory_size);
	r->qva = le64toh(raw.userspace_addr);
	r->mmap_offset = le64toh(raw.mmap_offset);
}

/**
 * vu_set_mem_table() - SET_MEM_TABLE: map guest memory
 * @vdev:	vhost-user device
 * @msg:	Message: regions, one file descriptor per region
 *
 * Return: 0, -EPROTO if malformed, -EINVAL or -errno if refused (the old
 *	   table is then left in place)
 */
static int vu_set_mem_table(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint32_t size = le32toh(msg->hdr.size), n = 0;
	struct vu_mem_region r[VU_MAX_REGIONS];
	int fds[VU_MAX_REGIONS];
	unsigned i;
	int rc;

	if (size >= offsetof(struct vhost_user_mem_table, regions))
		n = le32toh(msg->payload.mem.nregions);
	if (!n || n > VU_MAX_REGIONS ||
	    size != offsetof(struct vhost_user_mem_table, regions) +
		    n * sizeof(struct vhost_user_mem_region_desc) ||
	    msg->nfds != n) {
		err("vhost-user: memory table with %" PRIu32 " regions, %"
		    PRIu32 " bytes, %u fds", n, size, msg->nfds);
		return -EPROTO;
	}

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++)
		vu_region_decode(&msg->payload.mem.regions[i], &r[i]);
	memcpy(fds, msg->fds, sizeof(fds[0]) * n);	/* packed: unaligned */
	if ((rc = vu_mem_regions_map(r, fds, n)))
		return rc;

	vu_table_replace(vdev, r, n);

	for (i = 0; i < n; i++) {
		debug("vhost-user: region %u: gpa 0x%" PRIx64 " size 0x%" PRIx64
		      " qva 0x%" PRIx64 " offset 0x%" PRIx64, i, r[i].gpa,
		      r[i].size, r[i].qva, r[i].mmap_offset);
	}
	return 0;
}

/**
 * vu_set_log_base() - SET_LOG_BASE: map the dirty log for a migration
 * @vdev:	vhost-user device
 * @msg:	Message: struct vhost_user_log, one file descriptor
 *
 * Replaces any previous log. With LOG_SHMFD, the front-end waits for a
 * reply (vhost-user.rst, "Communication"): vu_req_handle() sends it, as
 * for REPLY_ACK, u64 0 on success.
 *
 * Return: 0, -EPROTO if malformed, -EINVAL or -errno if refused
 */
static int vu_set_log_base(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint64_t size = le64toh(msg->payload.log.mmap_size);
	uint64_t off = le64toh(msg->payload.log.mmap_offset);

	if (msg->nfds != 1) {
		err("vhost-user: SET_LOG_BASE with %u fds", msg->nfds);
		return -EPROTO;
	}
	return vu_mem_log_set(&vdev->mem, msg->fds[0], size, off);
}

/**
 * vu_set_log_fd() - SET_LOG_FD: eventfd for log updates, which we don't use
 * @vdev:	vhost-user device
 * @msg:	Message: the descriptor is closed by the caller
 *
 * Return: 0
 */
static int vu_set_log_fd(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	(void)vdev;
	(void)msg;
	return 0;
}

/**
 * vu_get_protocol_features() - GET_PROTOCOL_FEATURES: what we offer
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: VU_REPLY
 */
static int vu_get_protocol_features(struct vu_dev *vdev,
				    struct vhost_user_msg *msg)
{
	(void)vdev;
	return vu_reply_u64(msg, VU_PROTOCOL_FEATURES);
}

/**
 * vu_set_protocol_features() - SET_PROTOCOL_FEATURES: what the front-end acks
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: 0, -EINVAL for features we did not offer
 */
static int vu_set_protocol_features(struct vu_dev *vdev,
				    struct vhost_user_msg *msg)
{
	uint64_t f = vu_msg_u64(msg);

	if (f & ~VU_PROTOCOL_FEATURES) {
		warn("vhost-user: protocol features 0x%" PRIx64
		     " were not offered", (uint64_t)(f & ~VU_PROTOCOL_FEATURES));
		return -EINVAL;
	}

	vdev->protocol_features = f;
	debug("vhost-user: protocol features 0x%" PRIx64, f);
	return 0;
}

/**
 * vu_get_queue_num() - GET_QUEUE_NUM: number of queue pairs
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: VU_REPLY
 */
static int vu_get_queue_num(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	(void)vdev;
	return vu_reply_u64(msg, VHOST_USER_MAX_QUEUES / 2);
}

/**
 * vu_send_rarp() - SEND_RARP: announce the guest after a migration
 * @vdev:	vhost-user device
 * @msg:	Message: guest MAC address in the first six bytes
 *
 * There's no physical network segment behind us whose switches would need
 * to learn where the guest went: nothing to do.
 *
 * Return: 0
 */
static int vu_send_rarp(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	const uint8_t *mac = msg->payload.raw;

	(void)vdev;
	debug("vhost-user: RARP request for %02x:%02x:%02x:%02x:%02x:%02x, "
	      "nothing to announce", mac[0], mac[1], mac[2], mac[3], mac[4],
	      mac[5]);
	return 0;
}

/**
 * vu_net_set_mtu() - NET_SET_MTU: MTU the front-end exposes to the guest
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: 0, -EINVAL if out of range
 */
static int vu_net_set_mtu(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint64_t mtu = vu_msg_u64(msg);

	if (mtu < VU_MTU_MIN || mtu > VU_MTU_MAX) {
		warn("vhost-user: bad MTU %" PRIu64, mtu);
		return -EINVAL;
	}

	vdev->mtu = mtu;
	debug("vhost-user: MTU %u", vdev->mtu);
	return 0;
}

/**
 * vu_set_device_state_fd() - SET_DEVICE_STATE_FD: start a state transfer
 * @vdev:	vhost-user device
 * @msg:	Message: direction and phase, one fd (a pipe end)
 *
 * We always use the front-end's pipe, so the reply carries no fd: its u64
 * has VHOST_USER_NOFD set, and 0 in the low byte on success.
 *
 * Return: VU_REPLY, -EPROTO without exactly one fd
 */
static int vu_set_device_state_fd(struct vu_dev *vdev,
				  struct vhost_user_msg *msg)
{
	uint32_t dir = le32toh(msg->payload.devstate.direction);
	uint32_t phase = le32toh(msg->payload.devstate.phase);
	int fd, rc;

	if (msg->nfds != 1) {
		err("vhost-user: SET_DEVICE_STATE_FD with %u fds", msg->nfds);
		return -EPROTO;
	}

	if (!vdev->devstate) {
		warn("vhost-user: no device state transfer here");
		return vu_reply_u64(msg, VHOST_USER_NOFD | VU_ACK_FAIL);
	}
	if ((dir != VHOST_USER_STATE_SAVE && dir != VHOST_USER_STATE_LOAD) ||
	    phase != VHOST_USER_STATE_STOPPED) {
		warn("vhost-user: device state direction %" PRIu32
		     ", phase %" PRIu32 " not supported", dir, phase);
		return vu_reply_u64(msg, VHOST_USER_NOFD | VU_ACK_FAIL);
	}

	fd = msg->fds[0];
	msg->fds[0] = -1;
	rc = vdev->devstate->start(vdev->devstate_opaque, fd, dir);
	return vu_reply_u64(msg, VHOST_USER_NOFD | (rc ? VU_ACK_FAIL : 0));
}

/**
 * vu_check_device_state() - CHECK_DEVICE_STATE: did the transfer succeed?
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: VU_REPLY: u64 0 on success, non-zero on failure
 */
static int vu_check_device_state(struct vu_dev *vdev,
				 struct vhost_user_msg *msg)
{
	int rc = -ENODEV;

	if (vdev->devstate)
		rc = vdev->devstate->check(vdev->devstate_opaque);
	if (rc)
		warn("vhost-user: reporting failed device state transfer: %s",
		     strerror(-rc));
	return vu_reply_u64(msg, rc ? VU_ACK_FAIL : 0);
}

#define REQ(r, f, sz, nfd)						\
	[VHOST_USER_ ## r] = { .name = #r, .fn = (f), .size = (sz),	\
			       .max_fds = (nfd) }
#define U64		sizeof(uint64_t)
#define STATE		sizeof(struct vhost_user_vring_state)

static const struct vu_req vu_reqs[VHOST_USER_REQUEST_MAX] = {
	REQ(NONE,		NULL,			0,	0),
	REQ(GET_FEATURES,	vu_get_features,	0,	0),
	REQ(SET_FEATURES,	vu_set_features,	U64,	0),
	REQ(SET_OWNER,		vu_set_owner,		0,	0),
	REQ(RESET_OWNER,	vu_reset_owner,		0,	0),
	REQ(SET_MEM_TABLE,	vu_set_mem_table,	VU_SIZE_ANY, VU_MAX_REGIONS),
	REQ(SET_LOG_BASE,	vu_set_log_base,
	    sizeof(struct vhost_user_log),			1),
	REQ(SET_LOG_FD,		vu_set_log_fd,		0,	1),
	REQ(SET_VRING_NUM,	vu_vring_set_num,	STATE,	0),
	REQ(SET_VRING_ADDR,	vu_vring_set_addr,
	    sizeof(struct vhost_user_vring_addr),		0),
	REQ(SET_VRING_BASE,	vu_vring_set_base,	STATE,	0),
	REQ(GET_VRING_BASE,	vu_vring_get_base,	STATE,	0),
	REQ(SET_VRING_KICK,	vu_vring_set_kick,	U64,	1),
	REQ(SET_VRING_CALL,	vu_vring_set_call,	U64,	1),
	REQ(SET_VRING_ERR,	vu_vring_set_err,	U64,	1),
	REQ(GET_PROTOCOL_FEATURES, vu_get_protocol_features, 0,	0),
	REQ(SET_PROTOCOL_FEATURES, vu_set_protocol_features, U64, 0),
	REQ(GET_QUEUE_NUM,	vu_get_queue_num,	0,	0),
	REQ(SET_VRING_ENABLE,	vu_vring_set_enable,	STATE,	0),
	REQ(SEND_RARP,		vu_send_rarp,		U64,	0),
	REQ(NET_SET_MTU,	vu_net_set_mtu,		U64,	0),
	REQ(SET_DEVICE_STATE_FD, vu_set_device_state_fd,
	    sizeof(struct vhost_user_device_state),		1),
	REQ(CHECK_DEVICE_STATE,	vu_check_device_state,	0,	0),
	/* Known by name only: we offer no feature that enables it */
	REQ(GET_MAX_MEM_SLOTS,	NULL,			0,	0),
};
static_assert(ARRAY_SIZE(vu_reqs) == VHOST_USER_REQUEST_MAX,
	      "one entry per request");
static_assert(U64 == sizeof(((struct vhost_user_msg *)0)->payload.u64),
	      "u64 payload");
static_assert(STATE == 8, "vring state wire size");
static_assert(sizeof(struct vhost_user_log) == 16, "log wire size");
static_assert(VU_MAX_REGIONS <= VHOST_USER_MAX_FDS, "one fd per region");
static_assert(VU_MAX_REGIONS == VHOST_USER_MAX_REGIONS, "wire table size");

#undef REQ
#undef U64
#undef STATE

/**
 * vu_req_name() - Name of a request, for logs
 * @req:	Request number
 *
 * Return: name, "unknown" if we don't know it
 */
static const char *vu_req_name(uint32_t req)
{
	if (req < ARRAY_SIZE(vu_reqs) && vu_reqs[req].name)
		return vu_reqs[req].name;
	return "unknown";
}

/**
 * vu_req_dispatch() - Check a message against its table entry, handle it
 * @vdev:	vhost-user device
 * @msg:	Message
 *
 * Return: as vu_handler_t, -EOPNOTSUPP for requests we don't implement
 */
static int vu_req_dispatch(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint32_t req = le32toh(msg->hdr.request);
	uint32_t flags = le32toh(msg->hdr.flags);
	uint32_t size = le32toh(msg->hdr.size);
	const struct vu_req *r;

	if ((flags & VHOST_USER_FLAG_VERSION_MASK) != VHOST_USER_VERSION ||
	    size > VHOST_USER_MAX_PAYLOAD || msg->nfds > VHOST_USER_MAX_FDS) {
		err("vhost-user: bad header: flags 0x%" PRIx32 ", size %" PRIu32,
		    flags, size);
		return -EPROTO;
	}

	if (req >= ARRAY_SIZE(vu_reqs) || !vu_reqs[req].fn) {
		warn_ratelimit("vhost-user: unsupported request %" PRIu32
			       " (%s), ignored", req, vu_req_name(req));
		return -EOPNOTSUPP;
	}

	r = &vu_reqs[req];
	if ((r->size != VU_SIZE_ANY && size != r->size) ||
	    msg->nfds > r->max_fds) {
		err("vhost-user: %s with %" PRIu32 " bytes, %u fds", r->name,
		    size, msg->nfds);
		return -EPROTO;
	}

	return r->fn(vdev, msg);
}

/**
 * vu_req_handle() - Handle one received message, build the reply if any
 * @vdev:	vhost-user device
 * @msg:	Message, replaced by the reply when @reply is set
 * @reply:	Set if @msg now holds a reply to send
 *
 * All file descriptors in @msg are consumed or closed on return. With
 * NEED_REPLY (REPLY_ACK) on a request without a reply of its own, the reply
 * is a u64: 0 on success, non-zero on failure. A refused SET_LOG_BASE gets
 * a failure reply too when the front-end waits for one (LOG_SHMFD).
 *
 * Return: 0 on success, -EPROTO if malformed (the caller must disconnect,
 *	   no reply), other -errno if refused or unknown (the session goes on)
 */
int vu_req_handle(struct vu_dev *vdev, struct vhost_user_msg *msg,
		  bool *reply)
{
	uint32_t req = le32toh(msg->hdr.request);
	uint32_t flags = le32toh(msg->hdr.flags);
	bool must_reply;
	int rc;

	*reply = false;
	trace("vhost-user: %s (%" PRIu32 "), flags 0x%" PRIx32 ", %" PRIu32
	      " bytes, %u fds", vu_req_name(req), req, flags,
	      le32toh(msg->hdr.size), msg->nfds);

	rc = vu_req_dispatch(vdev, msg);
	vu_msg_fds_close(msg);
	if (rc == -EPROTO)
		return rc;

	if (rc == VU_REPLY) {
		rc = 0;
		*reply = true;
	} else {
		must_reply = (flags & VHOST_USER_FLAG_NEED_REPLY) ||
			     (req == VHOST_USER_SET_LOG_BASE &&
			      (vdev->protocol_features &
			       BIT_ULL(VHOST_USER_PROTOCOL_F_LOG_SHMFD)));
		if (must_reply) {
			vu_reply_u64(msg, rc ? VU_ACK_FAIL : 0);
			*reply = true;
		}
	}

	if (rc && rc != -EOPNOTSUPP)
		warn("vhost-user: %s refused: %s", vu_req_name(req),
		     strerror(-rc));

	if (*reply) {
		msg->hdr.flags = htole32(VHOST_USER_VERSION |
					 VHOST_USER_FLAG_REPLY);
		trace("vhost-user: reply to %s, %" PRIu32 " bytes",
		      vu_req_name(req), le32toh(msg->hdr.size));
	}
	return rc;
}

/**
 * vu_dev_init() - Set up the device with no connection and no state
 * @vdev:	vhost-user device
 * @epollfd:	epoll instance for our file descriptors
 */
void vu_dev_init(struct vu_dev *vdev, int epollfd)
{
	unsigned i;

	memset(vdev, 0, sizeof(*vdev));
	vdev->epollfd = epollfd;
	vdev->listen_fd = -1;
	vdev->conn_fd = -1;
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++)
		virtq_init(&vdev->vq[i]);

	vu_mem_sigbus_init(&vdev->mem);
}


/**
 * vu_listen() - Listen for a front-end on a UNIX socket
 * @vdev:	vhost-user device
 * @path:	Socket path; a stale socket there is removed
 *
 * The listening socket is non-blocking: a front-end going away between
 * the event and accept4() must not block us.
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls socket bind listen close
 */
int vu_listen(struct vu_dev *vdev, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, rc;

	if (vdev->listen_fd >= 0)
		return -EALREADY;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);

	if ((rc = sock_unix_stale(path, &addr)))
		return rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, VU_LISTEN_BACKLOG)) {
		rc = -errno;
		goto err_close;
	}
	if ((rc = ev_add(vdev->epollfd, fd, EPOLLIN, EV_VU_LISTEN, 0)))
		goto err_unlink;

	vdev->listen_fd = fd;
	info("vhost-user: listening on %s", path);
	return 0;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return rc;
}

/**
 * vu_accept() - Accept a front-end connection
 * @vdev:	vhost-user device
 *
 * A second front-end while one is connected is closed at once.
 *
 * Return: 0 on success, -EBUSY if refused, -errno on failure
 *
 * #syscalls accept4 close
 */
int vu_accept(struct vu_dev *vdev)
{
	int fd, rc;

	fd = accept4(vdev->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;

	if (vdev->conn_fd >= 0) {
		warn("vhost-user: front-end already connected, refusing another");
		close(fd);
		return -EBUSY;
	}

	if ((rc = vu_set_conn(vdev, fd))) {
		close(fd);
		return rc;
	}
	info("vhost-user: front-end connected");
	return 0;
}

/**
 * vu_set_conn() - Use a connected socket as control connection
 * @vdev:	vhost-user device
 * @fd:		Connected socket, blocking; ours on success
 *
 * Return: 0 on success, -EBUSY if already connected, -errno on failure
 */
int vu_set_conn(struct vu_dev *vdev, int fd)
{
	const struct timeval tv = { VU_MSG_TIMEOUT_S, 0 };
	int rc;

	if (vdev->conn_fd >= 0)
		return -EBUSY;

	/* We read a message once its first bytes are there, and the rest
	 * blocking: a front-end that stops in the middle of one would stop
	 * us too.  Front-ends send each message at once, so a timeout that
	 * long only ends such a session.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;

	rc = ev_add(vdev->epollfd, fd, EPOLLIN | EPOLLRDHUP, EV_VU_CONN, 0);
	if (rc)
		return rc;

	vdev->conn_fd = fd;
	return 0;
}

/**
 * vu_disconnect() - Drop the front-end connection and all session state
 * @vdev:	vhost-user device
 *
 * The listening socket, if any, stays.
 *
 * #syscalls close
 */
void vu_disconnect(struct vu_dev *vdev)
{
	if (vdev->conn_fd >= 0) {
		ev_del(vdev->epollfd, vdev->conn_fd);
		close_fd(&vdev->conn_fd);
		info("vhost-user: front-end disconnected");
	}
	vu_reset(vdev);
}

/**
 * vu_control_handler() - Handle an event on the control connection
 * @vdev:	vhost-user device
 * @events:	epoll events
 *
 * Return: 0 if still connected, -ECONNRESET if the front-end went away,
 *	   -EPROTO if we dropped it for a bad message, -errno on failure
 *	   (then disconnected too)
 */
int vu_control_handler(struct vu_dev *vdev, uint32_t events)
{
	struct vhost_user_msg msg;
	bool reply;
	int rc;

	if (vdev->conn_fd < 0)
		return -ENOTCONN;

	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		vu_disconnect(vdev);
		return -ECONNRESET;
	}

	rc = vu_msg_recv(vdev->conn_fd, &msg);
	if (rc == -ECONNRESET) {
		vu_disconnect(vdev);
		return rc;
	}
	if (rc) {
		err("vhost-user: bad message from front-end: %s", strerror(-rc));
		vu_disconnect(vdev);
		return -EPROTO;
	}

	rc = vu_req_handle(vdev, &msg, &reply);
	if (rc == -EPROTO) {
		vu_disconnect(vdev);
		return rc;
	}

	if (reply && (rc = vu_msg_send(vdev->conn_fd, &msg))) {
		err("vhost-user: can't send reply: %s", strerror(-rc));
		vu_disconnect(vdev);
		return rc;
	}
	return 0;
}

/**
 * vu_queue_ready() - Check whether a queue may be processed
 * @vdev:	vhost-user device
 * @qidx:	Queue index
 *
 * Without VHOST_USER_F_PROTOCOL_FEATURES acked, there's no
 * SET_VRING_ENABLE, and rings count as enabled (vhost-user.rst, "Ring
 * states").
 *
 * Return: true if started, enabled, not broken and with rings mapped
 */
bool vu_queue_ready(const struct vu_dev *vdev, unsigned qidx)
{
	const struct virtq *vq;
	bool enabled;

	if (qidx >= VHOST_USER_MAX_QUEUES)
		return false;

	vq = &vdev->vq[qidx];
	enabled = vq->enabled ||
		  !(vdev->features & BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES));
	return vq->started && enabled && !vq->broken && virtq_mapped(vq);
}
