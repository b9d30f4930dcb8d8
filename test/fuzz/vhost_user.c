// SPDX-License-Identifier: GPL-2.0-or-later
/* test/fuzz/vhost_user.c - libFuzzer target: vhost-user front-end messages
 *
 * The input is what a front-end writes on the control socket: messages
 * back to back, each a 12-byte header (request, flags, size, little-endian)
 * and its payload, handed to vu_req_handle() one by one as vu_msg_recv()
 * would, so the session state builds up.  A header whose size is more than
 * a payload can hold, or past the end of the input, ends the session as a
 * short read would.  A message the daemon calls malformed (-EPROTO) ends
 * the session too, and the next message starts a new one.
 *
 * File descriptors: the harness attaches what a well-behaved front-end
 * would: a memfd of FUZZ_MEM_SIZE bytes, sealed against shrinking as QEMU
 * seals its own, for each region of SET_MEM_TABLE
 * and for SET_LOG_BASE, an eventfd for SET_LOG_FD and for SET_VRING_KICK,
 * _CALL and _ERR (none with the NOFD bit), a pipe end for
 * SET_DEVICE_STATE_FD.  Flag bits 4 to 7, which the protocol leaves
 * reserved and the daemon ignores, override the count: if non-zero, the
 * message carries (bits 4-7) - 1 descriptors of the same kind, up to
 * VHOST_USER_MAX_FDS.
 *
 * Checked after each message and at the end of the input:
 * - no descriptor is left in the message, a reply fits the payload;
 * - the rings of a ready queue are inside the current memory table (all
 *   of each ring is read, so a stale mapping faults);
 * - after vu_disconnect(), every descriptor we handed over is closed and
 *   no writable mapping of the guest memory is left (F_SEAL_WRITE fails
 *   with EBUSY while one exists).
 *
 * FUZZ_SEED_DIR=dir makes the binary write its seed inputs there and exit.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"
#include "virtio.h"
#include "vhost_user.h"
#include "common.h"

#define FUZZ_MEM_SIZE	(1UL << 20)	/* each memfd, bytes */
#define FUZZ_QVA	0x7f1200000000ULL	/* seeds: front-end address of RAM */
#define FUZZ_FDS_MAX	4096		/* descriptors tracked per input */
#define FLAG_FDS_SHIFT	4
#define FLAG_FDS_MASK	0xf0U

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int epollfd = -1;

/**
 * struct handed - Descriptors given to the daemon during one input
 * @fd:		Numbers, in order
 * @n:		How many
 * @memfd:	Guest memory of this input
 */
static struct {
	int fd[FUZZ_FDS_MAX];
	unsigned n;
	int memfd;
} handed;

/* Device state transfer, as the layer above would serve it: the pipe end
 * of the last SET_DEVICE_STATE_FD, kept until the session ends
 */
static int devstate_fd = -1;
static bool devstate_started;

/**
 * ds_start() - SET_DEVICE_STATE_FD accepted: keep the pipe end
 * @opaque:	Unused
 * @fd:		Pipe end, ours now
 * @dir:	VHOST_USER_STATE_SAVE or _LOAD
 *
 * Return: 0
 */
static int ds_start(void *opaque, int fd, uint32_t dir)
{
	(void)opaque;
	if (fd < 0 || dir > VHOST_USER_STATE_LOAD)
		FUZZ_FAIL("SET_DEVICE_STATE_FD passed fd %d, direction %u",
			  fd, dir);
	close_fd(&devstate_fd);
	devstate_fd = fd;
	devstate_started = true;
	return 0;
}

/**
 * ds_check() - CHECK_DEVICE_STATE: success once a transfer started
 * @opaque:	Unused
 *
 * Return: 0, -ENODATA if none was started
 */
static int ds_check(void *opaque)
{
	(void)opaque;
	return devstate_started ? 0 : -ENODATA;
}

/**
 * ds_reset() - The session ended: close the pipe end
 * @opaque:	Unused
 */
static void ds_reset(void *opaque)
{
	(void)opaque;
	close_fd(&devstate_fd);
	devstate_started = false;
}

static const struct vu_devstate_ops ds_ops = {
	ds_start, ds_check, ds_reset, NULL,
};

/**
 * fd_new() - Make a descriptor of the kind a request carries
 * @req:	Request
 * @dir:	SET_DEVICE_STATE_FD: direction, for the pipe end
 *
 * Return: descriptor, owned by the message; aborts if we run out
 */
static int fd_new(uint32_t req, uint32_t dir)
{
	int fd, p[2];

	switch (req) {
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_SET_LOG_BASE:
		fd = fcntl(handed.memfd, F_DUPFD_CLOEXEC, 0);
		break;
	case VHOST_USER_SET_DEVICE_STATE_FD:
		if (pipe2(p, O_CLOEXEC))
			FUZZ_FAIL("pipe2: %s", strerror(errno));
		fd = dir == VHOST_USER_STATE_LOAD ? p[0] : p[1];
		close(dir == VHOST_USER_STATE_LOAD ? p[1] : p[0]);
		break;
	default:
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		break;
	}
	if (fd < 0)
		FUZZ_FAIL("can't make a descriptor: %s", strerror(errno));
	if (handed.n < FUZZ_FDS_MAX)
		handed.fd[handed.n++] = fd;
	return fd;
}

/**
 * fds_wanted() - How many descriptors a message carries
 * @msg:	Message, header and payload filled
 *
 * Return: count, at most VHOST_USER_MAX_FDS
 */
static unsigned fds_wanted(const struct vhost_user_msg *msg)
{
	uint32_t req = le32toh(msg->hdr.request);
	uint32_t flags = le32toh(msg->hdr.flags);
	uint32_t n;

	if (flags & FLAG_FDS_MASK) {
		n = ((flags & FLAG_FDS_MASK) >> FLAG_FDS_SHIFT) - 1;
		return MIN(n, (uint32_t)VHOST_USER_MAX_FDS);
	}

	switch (req) {
	case VHOST_USER_SET_MEM_TABLE:
		n = le32toh(msg->payload.mem.nregions);
		return n <= VU_MAX_REGIONS ? n : 0;
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_SET_LOG_FD:
	case VHOST_USER_SET_DEVICE_STATE_FD:
		return 1;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return (le64toh(msg->payload.u64) &
			VHOST_USER_VRING_NOFD_MASK) ? 0 : 1;
	default:
		return 0;
	}
}

/**
 * ring_in_mem() - Is a ring part entirely inside one region of our mapping?
 * @m:		Guest memory
 * @p:		Start of the part
 * @len:	Its length
 *
 * Return: true if it is
 */
static bool ring_in_mem(const struct vu_mem *m, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned i;

	for (i = 0; i < m->nregions && i < VU_MAX_REGIONS; i++) {
		uintptr_t base = m->r[i].mmap_addr + m->r[i].mmap_offset;

		if (m->r[i].mmap_addr && a >= base &&
		    a - base <= m->r[i].size && len <= m->r[i].size - (a - base))
			return true;
	}
	return false;
}

/**
 * check_queues() - Rings of ready queues are mapped, in guest memory
 * @vdev:	Device
 */
static void check_queues(const struct vu_dev *vdev)
{
	unsigned q;

	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		const struct virtq *vq = &vdev->vq[q];
		size_t num = vq->num;

		if (!vq->started)
			continue;
		if (!vq->desc || !vq->avail || !vq->used || !num)
			FUZZ_FAIL("queue %u started without rings", q);
		if (!ring_in_mem(&vdev->mem, vq->desc, 16 * num) ||
		    !ring_in_mem(&vdev->mem, vq->avail, 6 + 2 * num) ||
		    !ring_in_mem(&vdev->mem, vq->used, 6 + 8 * num))
			FUZZ_FAIL("queue %u rings outside the memory table", q);
		fuzz_touch(vq->desc, 16 * num);
		fuzz_touch(vq->avail, 6 + 2 * num);
		fuzz_touch(vq->used, 6 + 8 * num);
	}
}

/**
 * one_message() - Hand one message to the daemon, check what it left
 * @vdev:	Device
 * @msg:	Message, header and payload filled
 */
static void one_message(struct vu_dev *vdev, struct vhost_user_msg *msg)
{
	uint32_t dir = le32toh(msg->payload.devstate.direction);
	uint32_t req = le32toh(msg->hdr.request);
	unsigned i, n = fds_wanted(msg);
	bool reply;
	int rc;

	for (i = 0; i < VHOST_USER_MAX_FDS; i++)
		msg->fds[i] = i < n ? fd_new(req, dir) : -1;
	msg->nfds = n;

	rc = vu_req_handle(vdev, msg, &reply);

	if (msg->nfds)
		FUZZ_FAIL("request %u: %u descriptors left in the message",
			  req, msg->nfds);
	for (i = 0; i < VHOST_USER_MAX_FDS; i++) {
		if (msg->fds[i] >= 0)
			FUZZ_FAIL("request %u: fd slot %u not consumed", req, i);
	}
	if (reply) {
		if (rc == -EPROTO)
			FUZZ_FAIL("request %u: reply to a malformed message", req);
		if (le32toh(msg->hdr.size) > sizeof(msg->payload))
			FUZZ_FAIL("request %u: reply of %u bytes", req,
				  le32toh(msg->hdr.size));
		if (!(le32toh(msg->hdr.flags) & VHOST_USER_FLAG_REPLY))
			FUZZ_FAIL("request %u: reply without REPLY flag", req);
	}
	if (rc == -EPROTO)
		vu_disconnect(vdev);	/* as vu_control_handler() does */

	check_queues(vdev);
}

/**
 * session_end() - Disconnect, check that nothing was left behind
 * @vdev:	Device
 */
static void session_end(struct vu_dev *vdev)
{
	unsigned i;

	vu_disconnect(vdev);

	if (devstate_fd >= 0)
		FUZZ_FAIL("device state fd not reset on disconnect");
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		const struct virtq *vq = &vdev->vq[i];

		if (vq->kick_fd >= 0 || vq->call_fd >= 0 || vq->err_fd >= 0 ||
		    vq->started)
			FUZZ_FAIL("queue %u not reset on disconnect", i);
	}
	for (i = 0; i < handed.n; i++) {
		if (fcntl(handed.fd[i], F_GETFD) >= 0 &&
		    handed.fd[i] != handed.memfd)
			FUZZ_FAIL("descriptor %d from the front-end still open",
				  handed.fd[i]);
	}
	if (fcntl(handed.memfd, F_ADD_SEALS, F_SEAL_WRITE) && errno == EBUSY)
		FUZZ_FAIL("guest memory still mapped after disconnect");
}

/**
 * LLVMFuzzerTestOneInput() - Run one session of front-end messages
 * @data:	Messages
 * @size:	Length of @data
 *
 * Return: 0
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vhost_user_msg msg;
	static struct vu_dev vdev;
	size_t off = 0;

	handed.n = 0;
	handed.memfd = memfd_create("fuzz-guest", MFD_CLOEXEC |
				    MFD_ALLOW_SEALING);
	if (handed.memfd < 0 || ftruncate(handed.memfd, FUZZ_MEM_SIZE) ||
	    fcntl(handed.memfd, F_ADD_SEALS, F_SEAL_SHRINK))	/* as QEMU */
		FUZZ_FAIL("memfd: %s", strerror(errno));

	vu_dev_init(&vdev, epollfd);
	vdev.devstate = &ds_ops;

	while (size - off >= sizeof(msg.hdr)) {
		uint32_t len;

		memset(&msg, 0, sizeof(msg));
		memcpy(&msg.hdr, data + off, sizeof(msg.hdr));
		off += sizeof(msg.hdr);
		len = le32toh(msg.hdr.size);
		if (len > sizeof(msg.payload) || len > size - off)
			break;		/* vu_msg_recv() fails: disconnect */
		memcpy(msg.payload.raw, data + off, len);
		off += len;

		one_message(&vdev, &msg);
	}

	session_end(&vdev);
	close(handed.memfd);
	return 0;
}

/* Seeds: what QEMU sends, built here */

#define QEMU_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |			\
			 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |		\
			 BIT_ULL(VIRTIO_F_EVENT_IDX) |			\
			 BIT_ULL(VIRTIO_F_INDIRECT_DESC) |		\
			 BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES))
#define RING_NUM	256
#define RING_QVA(q)	(FUZZ_QVA + 0x10000ULL * (q))

/**
 * m_hdr() - Append a message header
 * @f:		Seed being built
 * @req:	Request
 * @flags:	Flags, version included
 * @size:	Payload size that follows
 */
static void m_hdr(struct fuzz_buf *f, uint32_t req, uint32_t flags,
		  uint32_t size)
{
	fb_le32(f, req);
	fb_le32(f, flags);
	fb_le32(f, size);
}

/**
 * m_none() - Append a message without payload
 * @f:		Seed being built
 * @req:	Request
 */
static void m_none(struct fuzz_buf *f, uint32_t req)
{
	m_hdr(f, req, VHOST_USER_VERSION, 0);
}

/**
 * m_u64() - Append a message with a u64 payload
 * @f:		Seed being built
 * @req:	Request
 * @v:		Payload
 */
static void m_u64(struct fuzz_buf *f, uint32_t req, uint64_t v)
{
	m_hdr(f, req, VHOST_USER_VERSION, 8);
	fb_le64(f, v);
}

/**
 * m_state() - Append a message with a vring state payload
 * @f:		Seed being built
 * @req:	Request
 * @idx:	Queue index
 * @num:	Value
 */
static void m_state(struct fuzz_buf *f, uint32_t req, uint32_t idx,
		    uint32_t num)
{
	m_hdr(f, req, VHOST_USER_VERSION, 8);
	fb_le32(f, idx);
	fb_le32(f, num);
}

/**
 * m_mem() - Append SET_MEM_TABLE
 * @f:		Seed being built
 * @n:		Number of regions
 * @r:		Regions: guest address, size, front-end address, offset
 */
static void m_mem(struct fuzz_buf *f, unsigned n, const uint64_t (*r)[4])
{
	unsigned i, j;

	m_hdr(f, VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, 8 + 32 * n);
	fb_le32(f, n);
	fb_le32(f, 0);
	for (i = 0; i < n; i++) {
		for (j = 0; j < 4; j++)
			fb_le64(f, r[i][j]);
	}
}

/**
 * m_addr() - Append SET_VRING_ADDR for the rings of queue @q
 * @f:		Seed being built
 * @q:		Queue index
 * @flags:	Ring flags (1 << VHOST_VRING_F_LOG to log the used ring)
 */
static void m_addr(struct fuzz_buf *f, uint32_t q, uint32_t flags)
{
	m_hdr(f, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, 40);
	fb_le32(f, q);
	fb_le32(f, flags);
	fb_le64(f, RING_QVA(q));			/* desc */
	fb_le64(f, RING_QVA(q) + 0x3000);		/* used */
	fb_le64(f, RING_QVA(q) + 0x2000);		/* avail */
	fb_le64(f, 0x10000ULL * q + 0x3000);		/* log: used, gpa */
}

/* QEMU 10's start-up sequence for one queue pair, one memory region */
static void seq_startup(struct fuzz_buf *f)
{
	static const uint64_t one[1][4] = { { 0, FUZZ_MEM_SIZE, FUZZ_QVA, 0 } };
	unsigned q;

	m_none(f, VHOST_USER_GET_FEATURES);
	m_none(f, VHOST_USER_GET_PROTOCOL_FEATURES);
	m_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, VU_PROTOCOL_FEATURES);
	m_none(f, VHOST_USER_SET_OWNER);
	m_none(f, VHOST_USER_GET_FEATURES);
	for (q = 0; q < 2; q++) {
		m_u64(f, VHOST_USER_SET_VRING_CALL, q);
		m_u64(f, VHOST_USER_SET_VRING_ERR, q);
	}
	for (q = 0; q < 2; q++)
		m_state(f, VHOST_USER_SET_VRING_ENABLE, q, 1);
	m_u64(f, VHOST_USER_SET_FEATURES, QEMU_FEATURES);
	m_mem(f, 1, one);
	for (q = 0; q < 2; q++) {
		m_state(f, VHOST_USER_SET_VRING_NUM, q, RING_NUM);
		m_state(f, VHOST_USER_SET_VRING_BASE, q, 0);
		m_addr(f, q, 0);
		m_u64(f, VHOST_USER_SET_VRING_KICK, q);
		m_u64(f, VHOST_USER_SET_VRING_CALL, q);
	}
}

/* Source side of a migration: dirty log, logged rings, state out */
static void seq_migrate_out(struct fuzz_buf *f)
{
	unsigned q;

	m_u64(f, VHOST_USER_SET_FEATURES, QEMU_FEATURES |
	      BIT_ULL(VHOST_F_LOG_ALL));
	m_hdr(f, VHOST_USER_SET_LOG_BASE, VHOST_USER_VERSION, 16);
	fb_le64(f, 4096);		/* covers 128 MiB */
	fb_le64(f, 0);
	for (q = 0; q < 2; q++)
		m_addr(f, q, 1U << VHOST_VRING_F_LOG);
	for (q = 0; q < 2; q++)
		m_state(f, VHOST_USER_GET_VRING_BASE, q, 0);
	m_hdr(f, VHOST_USER_SET_DEVICE_STATE_FD, VHOST_USER_VERSION, 8);
	fb_le32(f, VHOST_USER_STATE_SAVE);
	fb_le32(f, 0);
	m_none(f, VHOST_USER_CHECK_DEVICE_STATE);
}

/**
 * seed() - Write one seed, exit on failure
 * @dir:	Corpus directory
 * @name:	File name
 * @f:		Seed
 */
static void seed(const char *dir, const char *name, const struct fuzz_buf *f)
{
	if (fuzz_seed_write(dir, name, f->b, f->len))
		exit(1);
}

/**
 * seeds_write() - Write the seed corpus
 * @dir:	Directory
 */
static void seeds_write(const char *dir)
{
	static const uint64_t two[2][4] = {
		{ 0, 0x80000, FUZZ_QVA, 0 },
		{ 0x100000, 0x80000, FUZZ_QVA + 0x80000, 0x80000 },
	};
	static struct fuzz_buf f;

	f.len = 0;
	seq_startup(&f);
	seed(dir, "startup", &f);

	seq_migrate_out(&f);
	seed(dir, "startup-migrate-out", &f);

	f.len = 0;
	seq_startup(&f);
	m_mem(&f, 2, two);		/* memory hotplug: rings remapped */
	m_u64(&f, VHOST_USER_NET_SET_MTU, 1500);
	m_u64(&f, VHOST_USER_SEND_RARP, 0x563412005452ULL);
	m_none(&f, VHOST_USER_GET_QUEUE_NUM);
	m_state(&f, VHOST_USER_SET_VRING_ENABLE, 0, 0);
	m_none(&f, VHOST_USER_RESET_OWNER);
	seed(dir, "startup-remap-reset", &f);

	/* Load side: no rings yet, NEED_REPLY on everything */
	f.len = 0;
	m_hdr(&f, VHOST_USER_SET_PROTOCOL_FEATURES,
	      VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8);
	fb_le64(&f, VU_PROTOCOL_FEATURES);
	m_hdr(&f, VHOST_USER_SET_DEVICE_STATE_FD,
	      VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8);
	fb_le32(&f, VHOST_USER_STATE_LOAD);
	fb_le32(&f, 0);
	m_hdr(&f, VHOST_USER_CHECK_DEVICE_STATE,
	      VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 0);
	m_hdr(&f, VHOST_USER_SET_VRING_KICK,
	      VHOST_USER_VERSION | (3U << FLAG_FDS_SHIFT), 8);
	fb_le64(&f, 1);			/* two fds: malformed */
	m_none(&f, VHOST_USER_GET_FEATURES);
	seed(dir, "load-need-reply", &f);
}

/**
 * LLVMFuzzerInitialize() - Set up once; with FUZZ_SEED_DIR, write seeds
 * @argc:	Unused
 * @argv:	Unused
 *
 * Return: 0
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	fuzz_log_init();
	fuzz_seeds_or_go_on(seeds_write);
	epollfd = epoll_create1(EPOLL_CLOEXEC);
	if (epollfd < 0)
		FUZZ_FAIL("epoll_create1: %s", strerror(errno));
	return 0;
}
