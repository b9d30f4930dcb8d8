// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/vhost_user.c - vhost-user back-end: messages, memory, rings
 *
 * A socketpair plays the control connection: the test writes crafted
 * front-end messages (header, payload, file descriptors) on one end and
 * lets vu_control_handler() read them on the other. A memfd is the guest
 * memory. Leaks are checked by counting /proc/self/fd entries and the
 * memfd mappings listed in /proc/self/maps.
 */

#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "virtio.h"
#include "vhost_user.h"
#include "frontend.h"
#include "common.h"

#define MEM_SIZE	(1UL << 20)
#define QVA_BASE	0x7f1200000000ULL	/* "QEMU's" address of guest RAM */
#define GPA_BASE	0x0ULL
#define RING_NUM	256
#define RING_OFF(q)	(0x10000UL * (q))	/* rings of queue q, in memory */
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x2000
#define USED_OFF	0x4000
#define LOG_GPA		0xdead0000ULL		/* log address for the used ring */

#define VU_ALL_PROTO	VU_PROTOCOL_FEATURES
#define VU_GUEST_FEATURES (BIT_ULL(VIRTIO_F_VERSION_1) |		\
			   BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |		\
			   BIT_ULL(VIRTIO_F_EVENT_IDX) |		\
			   BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES))

/**
 * struct fx - Test fixture
 * @vdev:	Device under test
 * @epollfd:	Real epoll instance
 * @peer:	Front-end end of the control socketpair
 * @memfd:	Guest memory
 * @guest:	Our own view of guest memory, to write ring contents
 */
struct fx {
	struct vu_dev vdev;
	int epollfd;
	int peer;
	int memfd;
	uint8_t *guest;
};

/* Counting what the process holds */

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Sealed against shrinking, as QEMU's: the daemon refuses others */
static int memfd_sized(size_t size)
{
	int fd = vfe_memfd(size, F_SEAL_SHRINK);

	assert_true(fd >= 0);
	return fd;
}


static int efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

/* Messages */

/**
 * msg_build() - Craft a message in memory, as vu_msg_recv() would fill it
 */
static void msg_build(struct vhost_user_msg *m, uint32_t req, uint32_t flags,
		      const void *payload, uint32_t size, const int *fds,
		      unsigned nfds)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->hdr.request = req;
	m->hdr.flags = flags;
	m->hdr.size = size;
	if (size)
		memcpy(m->payload.raw, payload, MIN(size, sizeof(m->payload)));
	for (i = 0; i < VHOST_USER_MAX_FDS; i++)
		m->fds[i] = i < nfds ? fds[i] : -1;
	m->nfds = nfds;
}

/**
 * msg_send_raw() - Send header, payload and fds, asserting it all went
 */
static void msg_send_raw(int sock, uint32_t req, uint32_t flags,
			 const void *payload, uint32_t size, const int *fds,
			 unsigned nfds)
{
	assert_true(nfds <= 16);
	assert_int_equal(vfe_send_sz(sock, req, flags, payload, size, size,
				     fds, nfds), 0);
}

/**
 * xfer() - Send a message from the front-end side, let the daemon handle it
 *
 * Return: what vu_control_handler() returns
 */
static int xfer(struct fx *f, uint32_t req, uint32_t flags,
		const void *payload, uint32_t size, const int *fds,
		unsigned nfds)
{
	msg_send_raw(f->peer, req, flags, payload, size, fds, nfds);
	return vu_control_handler(&f->vdev, EPOLLIN);
}

static int xfer_u64(struct fx *f, uint32_t req, uint32_t flags, uint64_t v,
		    const int *fds, unsigned nfds)
{
	return xfer(f, req, flags, &v, sizeof(v), fds, nfds);
}

static int xfer_state(struct fx *f, uint32_t req, uint32_t idx, uint32_t num)
{
	struct vhost_user_vring_state s = { idx, num };

	return xfer(f, req, VHOST_USER_VERSION, &s, sizeof(s), NULL, 0);
}

/* Send an fd-carrying ring message (KICK/CALL/ERR), closing our copy */
static int xfer_ring_fd(struct fx *f, uint32_t req, unsigned idx, int fd)
{
	int rc;

	if (fd < 0)
		return xfer_u64(f, req, VHOST_USER_VERSION,
				idx | VHOST_USER_VRING_NOFD_MASK, NULL, 0);
	rc = xfer_u64(f, req, VHOST_USER_VERSION, idx, &fd, 1);
	close(fd);
	return rc;
}

/**
 * reply_recv() - Read one reply from the daemon, check its header
 *
 * Return: payload size
 */
static uint32_t reply_recv(struct fx *f, uint32_t req, void *payload,
			   size_t max)
{
	struct vhost_user_hdr hdr;

	assert_int_equal(recv(f->peer, &hdr, sizeof(hdr), MSG_DONTWAIT),
			 sizeof(hdr));
	assert_int_equal(hdr.request, req);
	assert_int_equal(hdr.flags, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
	assert_true(hdr.size <= max);
	if (hdr.size)
		assert_int_equal(recv(f->peer, payload, hdr.size, MSG_DONTWAIT),
				 hdr.size);
	return hdr.size;
}

static uint64_t reply_u64(struct fx *f, uint32_t req)
{
	uint64_t v;

	assert_int_equal(reply_recv(f, req, &v, sizeof(v)), sizeof(v));
	return v;
}

static void assert_no_reply(struct fx *f)
{
	char c;

	assert_int_equal(recv(f->peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Memory table and rings */

static int xfer_mem(struct fx *f, uint32_t flags,
		    const struct vhost_user_mem_region_desc *d, unsigned n,
		    const int *fds)
{
	struct vhost_user_mem_table t = { .nregions = n };

	memcpy(t.regions, d, sizeof(*d) * n);
	return xfer(f, VHOST_USER_SET_MEM_TABLE, flags, &t,
		    offsetof(struct vhost_user_mem_table, regions) +
		    n * sizeof(*d), fds, n);
}

/* The usual table: all of the memfd, one region */
static int xfer_mem_default(struct fx *f)
{
	struct vhost_user_mem_region_desc d;

	d = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE, 0);
	return xfer_mem(f, VHOST_USER_VERSION, &d, 1, &f->memfd);
}

static int xfer_addr(struct fx *f, uint32_t idx, uint32_t flags,
		     uint64_t desc, uint64_t avail, uint64_t used)
{
	struct vhost_user_vring_addr a = {
		.index = idx, .flags = flags,
		.desc_user_addr = desc, .used_user_addr = used,
		.avail_user_addr = avail, .log_guest_addr = LOG_GPA,
	};

	return xfer(f, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, &a,
		    sizeof(a), NULL, 0);
}

static int xfer_addr_default(struct fx *f, uint32_t idx, uint32_t flags)
{
	uint64_t b = QVA_BASE + RING_OFF(idx);

	return xfer_addr(f, idx, flags, b + DESC_OFF, b + AVAIL_OFF,
			 b + USED_OFF);
}

/**
 * ring_setup() - The per-queue part of QEMU's start-up sequence
 * @kick:	Kick eventfd to send (kept open by the caller), -1 for NOFD
 */
static void ring_setup(struct fx *f, unsigned q, int kick)
{
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, q, RING_NUM), 0);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_BASE, q, 0), 0);
	assert_int_equal(xfer_addr_default(f, q, 0), 0);
	if (kick >= 0) {
		assert_int_equal(xfer_u64(f, VHOST_USER_SET_VRING_KICK,
					  VHOST_USER_VERSION, q, &kick, 1), 0);
	} else {
		assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, q,
					      -1), 0);
	}
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_CALL, q, efd()),
			 0);
}

/**
 * drain_wakes() - A queue that starts kicks itself and interrupts the
 * guest once (a migration may leave work nobody announces): check that
 * it did, for both queues, and clear both counters
 */
static void drain_wakes(struct fx *f)
{
	unsigned q;

	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		struct virtq *vq = &f->vdev.vq[q];
		eventfd_t v = 0;

		assert_int_equal(eventfd_read(vq->kick_fd, &v), 0);
		assert_true(v >= 1);
		v = 0;
		assert_int_equal(eventfd_read(vq->call_fd, &v), 0);
		assert_true(v >= 1);
	}
}

/**
 * startup() - The whole start-up sequence QEMU 10 sends, replies checked
 * @kicks:	Kick eventfds for both queues, kept open by the caller, or NULL
 */
static void startup(struct fx *f, const int *kicks)
{
	unsigned q;

	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_FEATURES), VU_FEATURES);
	assert_int_equal(xfer(f, VHOST_USER_GET_PROTOCOL_FEATURES, 1, NULL, 0,
			      NULL, 0), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES),
			 VU_PROTOCOL_FEATURES);
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, 1,
				  VU_ALL_PROTO, NULL, 0), 0);
	assert_int_equal(xfer(f, VHOST_USER_SET_OWNER, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_FEATURES), VU_FEATURES);

	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_CALL, q,
					      efd()), 0);
		assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_ERR, q,
					      efd()), 0);
	}
	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++)
		assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE,
					    q, 1), 0);

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES, NULL, 0), 0);
	assert_int_equal(xfer_mem_default(f), 0);
	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		int kick = kicks ? kicks[q] : efd();

		ring_setup(f, q, kick);
		if (!kicks)
			close(kick);	/* the daemon holds its own copy */
		assert_true(f->vdev.vq[q].kick_fd >= 0);
	}
	assert_no_reply(f);
	drain_wakes(f);
}

/* Fixture */

static int fx_setup(void **state)
{
	static struct fx f;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	f.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f.epollfd >= 0);
	vu_dev_init(&f.vdev, f.epollfd);
	assert_int_equal(vu_set_conn(&f.vdev, sv[0]), 0);
	f.peer = sv[1];
	f.memfd = memfd_sized(MEM_SIZE);
	f.guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       f.memfd, 0);
	assert_true(f.guest != MAP_FAILED);
	*state = &f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	vu_disconnect(&f->vdev);
	munmap(f->guest, MEM_SIZE);
	close(f->memfd);
	close(f->peer);
	close(f->epollfd);
	return 0;
}

/* Reconnect after the daemon dropped us */
static void fx_reconnect(struct fx *f)
{
	int sv[2];

	assert_int_equal(f->vdev.conn_fd, -1);
	if (f->peer >= 0)
		close(f->peer);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(vu_set_conn(&f->vdev, sv[0]), 0);
	f->peer = sv[1];
}

/* startup() makes kick eventfds of its own */
#define KICKS_NONE NULL

static void ring_setup_own_kick(struct fx *f, unsigned q)
{
	int kick = efd();

	ring_setup(f, q, kick);
	close(kick);
}

/* Tests */

/* QEMU's start-up order ends with both queues ready, kicks in epoll */
static void test_vhost_user_startup_qemu_order(void **state)
{
	struct fx *f = *state;
	int kicks[2] = { efd(), efd() };
	struct epoll_event ev[4];
	union evtag tag;
	unsigned q;

	startup(f, kicks);

	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		const struct virtq *vq = &f->vdev.vq[q];

		assert_true(vu_queue_ready(&f->vdev, q));
		assert_int_equal(vq->num, RING_NUM);
		assert_ptr_equal(vq->desc, f->vdev.mem.r[0].mmap_addr +
				 RING_OFF(q) + DESC_OFF);
		assert_int_equal(vq->desc_gpa, GPA_BASE + RING_OFF(q) + DESC_OFF);
		assert_true(vq->event_idx);
		assert_true(vq->call_fd >= 0 && vq->err_fd >= 0);
	}
	assert_false(vu_queue_ready(&f->vdev, VHOST_USER_MAX_QUEUES));
	assert_int_equal(f->vdev.features, VU_GUEST_FEATURES);
	assert_int_equal(f->vdev.protocol_features, VU_ALL_PROTO);
	assert_true(f->vdev.owned);
	assert_false(f->vdev.mem.log_all);

	/* A guest kick on the TX queue reaches epoll with the right tag */
	assert_int_equal(eventfd_write(kicks[1], 1), 0);
	assert_int_equal(epoll_wait(f->epollfd, ev, 4, 0), 1);
	tag.u64 = ev[0].data.u64;
	assert_int_equal(tag.kind, EV_VU_KICK);
	assert_int_equal(tag.idx, 1);
	assert_int_equal(tag.fd, f->vdev.vq[1].kick_fd);

	close(kicks[0]);
	close(kicks[1]);
}

/* DPDK's order: calls and kicks before features, memory table with ack */
static void test_vhost_user_startup_dpdk_order(void **state)
{
	struct fx *f = *state;
	unsigned q;

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, 1,
				  VU_ALL_PROTO, NULL, 0), 0);
	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++)
		assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_CALL, q,
					      efd()), 0);
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES, NULL, 0), 0);
	assert_int_equal(xfer_mem(f, 1 | VHOST_USER_FLAG_NEED_REPLY,
				  &(struct vhost_user_mem_region_desc){
					  GPA_BASE, MEM_SIZE, QVA_BASE, 0 },
				  1, &f->memfd), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_MEM_TABLE), 0);
	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, q,
					    RING_NUM), 0);
		/* kick before the addresses: starts once they arrive */
		assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, q,
					      efd()), 0);
		assert_false(f->vdev.vq[q].started);
		assert_int_equal(xfer_addr_default(f, q, 0), 0);
		assert_true(f->vdev.vq[q].started);
		assert_false(vu_queue_ready(&f->vdev, q));	/* disabled */
		assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE, q,
					    1), 0);
		assert_true(vu_queue_ready(&f->vdev, q));
	}
}

/* Without protocol features rings count as enabled, with them not */
static void test_vhost_user_enable_rule(void **state)
{
	struct fx *f = *state;
	uint64_t feat = VU_GUEST_FEATURES &
			~BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES);

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1, feat, NULL, 0),
			 0);
	assert_int_equal(xfer_mem_default(f), 0);
	ring_setup_own_kick(f, 0);
	assert_false(f->vdev.vq[0].enabled);
	assert_true(vu_queue_ready(&f->vdev, 0));

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES, NULL, 0), 0);
	assert_false(vu_queue_ready(&f->vdev, 0));
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1), 0);
	assert_true(vu_queue_ready(&f->vdev, 0));
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 0), 0);
	assert_false(vu_queue_ready(&f->vdev, 0));
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 2), 0);
	assert_false(f->vdev.vq[0].enabled);

	/* A broken queue is not ready */
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1), 0);
	virtq_set_broken(&f->vdev.vq[0], "test");
	assert_false(vu_queue_ready(&f->vdev, 0));
}

/* GET_* requests reply with what we offer, in a proper reply header */
static void test_vhost_user_get_replies(void **state)
{
	struct fx *f = *state;

	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_FEATURES), VU_FEATURES);
	assert_no_reply(f);

	assert_int_equal(xfer(f, VHOST_USER_GET_PROTOCOL_FEATURES,
			      1 | VHOST_USER_FLAG_NEED_REPLY, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES),
			 VU_PROTOCOL_FEATURES);
	assert_no_reply(f);	/* one reply only, even with NEED_REPLY */

	assert_int_equal(xfer(f, VHOST_USER_GET_QUEUE_NUM, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_QUEUE_NUM), 1);
	assert_no_reply(f);

	/* Set requests without NEED_REPLY: silence */
	assert_int_equal(xfer(f, VHOST_USER_SET_OWNER, 1, NULL, 0, NULL, 0), 0);
	assert_no_reply(f);
}

/* REPLY_ACK: 0 on success, non-zero on failure, session goes on */
static void test_vhost_user_reply_ack(void **state)
{
	struct fx *f = *state;
	const uint32_t nr = 1 | VHOST_USER_FLAG_NEED_REPLY;
	uint64_t bad = BIT_ULL(63);

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, nr,
				  VU_ALL_PROTO, NULL, 0), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES), 0);

	assert_int_equal(xfer(f, VHOST_USER_SET_OWNER, nr, NULL, 0, NULL, 0), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_OWNER), 0);

	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, 0, 3), 0);
	assert_no_reply(f);	/* refused, but no ack asked */

	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_NUM, nr,
			      &(struct vhost_user_vring_state){ 0, 3 }, 8,
			      NULL, 0), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_VRING_NUM), 0);
	assert_int_equal(f->vdev.vq[0].num, 0);

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, nr, bad, NULL, 0),
			 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_FEATURES), 0);
	assert_int_equal(f->vdev.features, 0);

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, nr, bad,
				  NULL, 0), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES), 0);
	assert_int_equal(f->vdev.protocol_features, VU_ALL_PROTO);

	assert_int_equal(xfer_u64(f, VHOST_USER_NET_SET_MTU, nr, 67, NULL, 0), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_NET_SET_MTU), 0);
	assert_int_equal(xfer_u64(f, VHOST_USER_NET_SET_MTU, nr, 65536, NULL, 0),
			 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_NET_SET_MTU), 0);
	assert_int_equal(xfer_u64(f, VHOST_USER_NET_SET_MTU, nr, 1500, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_NET_SET_MTU), 0);
	assert_int_equal(f->vdev.mtu, 1500);

	assert_int_equal(xfer_u64(f, VHOST_USER_SEND_RARP, nr,
				  0x563412005452ULL, NULL, 0), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SEND_RARP), 0);

	assert_true(f->vdev.conn_fd >= 0);
	assert_no_reply(f);
}

/* Unknown requests: failure with NEED_REPLY, ignored otherwise */
static void test_vhost_user_unknown_request(void **state)
{
	struct fx *f = *state;
	const uint32_t nr = 1 | VHOST_USER_FLAG_NEED_REPLY;
	uint8_t junk[40] = { 0xff };
	uint32_t req[] = { VHOST_USER_NONE, VHOST_USER_GET_MAX_MEM_SLOTS, 21, 35,
			   VHOST_USER_REQUEST_MAX, 1000, UINT32_MAX };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(req); i++) {
		assert_int_equal(xfer(f, req[i], 1, junk, sizeof(junk), NULL, 0),
				 0);
		assert_no_reply(f);
		assert_int_equal(xfer(f, req[i], nr, junk, sizeof(junk), NULL,
				      0), 0);
		assert_int_not_equal(reply_u64(f, req[i]), 0);
		assert_no_reply(f);
	}

	/* The payload was skipped: the next message is read fine */
	assert_int_equal(xfer(f, VHOST_USER_GET_QUEUE_NUM, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_QUEUE_NUM), 1);
}

/* Device state transfer: what the layer above is told, what QEMU gets */
static struct {
	int fd, start_rc, check_rc, resets, log_on, log_off;
	uint32_t dir;
} ds;

static int ds_start(void *opaque, int fd, uint32_t dir)
{
	(void)opaque;
	if (ds.start_rc) {
		close(fd);
		return ds.start_rc;
	}
	ds.fd = fd;
	ds.dir = dir;
	return 0;
}

static int ds_check(void *opaque)
{
	(void)opaque;
	return ds.check_rc;
}

static void ds_reset(void *opaque)
{
	(void)opaque;
	ds.resets++;
}

static void ds_logging(void *opaque, bool on)
{
	(void)opaque;
	if (on)
		ds.log_on++;
	else
		ds.log_off++;
}

static const struct vu_devstate_ops ds_ops = {
	ds_start, ds_check, ds_reset, ds_logging,
};

/* Dirty logging on and off, as QEMU turns it at a migration's start and
 * end: the layer above hears of each change once
 */
static void test_vhost_user_devstate_logging(void **state)
{
	struct fx *f = *state;
	uint64_t log = VU_GUEST_FEATURES | BIT_ULL(VHOST_F_LOG_ALL);

	memset(&ds, 0, sizeof(ds));
	f->vdev.devstate = &ds_ops;
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES, NULL, 0), 0);
	assert_int_equal(ds.log_on + ds.log_off, 0);
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1, log, NULL, 0),
			 0);
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1, log, NULL, 0),
			 0);
	assert_int_equal(ds.log_on, 1);
	assert_int_equal(ds.log_off, 0);
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES, NULL, 0), 0);
	assert_int_equal(ds.log_on, 1);
	assert_int_equal(ds.log_off, 1);
	f->vdev.devstate = NULL;
}

static int xfer_devstate(struct fx *f, uint32_t dir, uint32_t phase,
			 unsigned nfds)
{
	struct vhost_user_device_state st = { htole32(dir), htole32(phase) };
	int p[2], rc;

	assert_int_equal(pipe(p), 0);
	rc = xfer(f, VHOST_USER_SET_DEVICE_STATE_FD, 1, &st, sizeof(st), p,
		  nfds);
	close(p[0]);
	close(p[1]);
	return rc;
}

static void test_vhost_user_device_state(void **state)
{
	struct fx *f = *state;
	int fds = fd_count();

	/* Nobody above to take the state: refused, fd closed, no crash */
	memset(&ds, 0, sizeof(ds));
	ds.fd = -1;
	assert_int_equal(xfer_devstate(f, VHOST_USER_STATE_SAVE, 0, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_DEVICE_STATE_FD),
			 VHOST_USER_NOFD | 1);
	assert_int_equal(xfer(f, VHOST_USER_CHECK_DEVICE_STATE, 1, NULL, 0,
			      NULL, 0), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_CHECK_DEVICE_STATE), 0);
	assert_int_equal(fd_count(), fds);

	f->vdev.devstate = &ds_ops;

	/* Wrong direction, wrong phase: refused, the layer above not called */
	assert_int_equal(xfer_devstate(f, 2, 0, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_DEVICE_STATE_FD),
			 VHOST_USER_NOFD | 1);
	assert_int_equal(xfer_devstate(f, VHOST_USER_STATE_LOAD, 1, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_DEVICE_STATE_FD),
			 VHOST_USER_NOFD | 1);
	assert_int_equal(ds.fd, -1);
	assert_int_equal(fd_count(), fds);

	/* Accepted: the fd is handed up, the reply says we return none */
	assert_int_equal(xfer_devstate(f, VHOST_USER_STATE_LOAD, 0, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_DEVICE_STATE_FD),
			 VHOST_USER_NOFD);
	assert_true(ds.fd >= 0);
	assert_int_equal(ds.dir, VHOST_USER_STATE_LOAD);
	close(ds.fd);

	/* The layer above refuses: failure, and it closed the fd */
	ds.start_rc = -EBUSY;
	assert_int_equal(xfer_devstate(f, VHOST_USER_STATE_SAVE, 0, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_DEVICE_STATE_FD),
			 VHOST_USER_NOFD | 1);
	assert_int_equal(fd_count(), fds);

	/* CHECK_DEVICE_STATE reports what the layer above says */
	assert_int_equal(xfer(f, VHOST_USER_CHECK_DEVICE_STATE, 1, NULL, 0,
			      NULL, 0), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_CHECK_DEVICE_STATE), 0);
	ds.check_rc = -EIO;
	assert_int_equal(xfer(f, VHOST_USER_CHECK_DEVICE_STATE, 1, NULL, 0,
			      NULL, 0), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_CHECK_DEVICE_STATE), 0);

	/* No fd, or two: malformed, the session is reset */
	assert_int_equal(xfer_devstate(f, VHOST_USER_STATE_SAVE, 0, 0),
			 -EPROTO);
	assert_int_equal(f->vdev.conn_fd, -1);
	assert_true(ds.resets >= 1);
	fx_reconnect(f);
	f->vdev.devstate = &ds_ops;
	assert_int_equal(xfer_devstate(f, VHOST_USER_STATE_SAVE, 0, 2),
			 -EPROTO);
	fx_reconnect(f);
	assert_int_equal(fd_count(), fds);
}

/* A memfd its owner could shrink: sealed by us if it can be, so it can't */
static void test_vhost_user_unsealed_memfd(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_region_desc d;
	int fd = memfd_create("guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	d = vfe_region(GPA_BASE, 4096, QVA_BASE, 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(xfer_mem(f, 1 | VHOST_USER_FLAG_NEED_REPLY, &d, 1,
				  &fd), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_MEM_TABLE), 0);
	assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
	assert_int_equal(ftruncate(fd, 0), -1);
	close(fd);
}

/* Malformed messages drop the connection and reset the device */
static void test_vhost_user_malformed(void **state)
{
	struct fx *f = *state;
	uint8_t big[VHOST_USER_MAX_PAYLOAD + 8] = { 0 };
	uint32_t u32 = 0;

	/* short payload for the request */
	assert_int_equal(xfer(f, VHOST_USER_SET_FEATURES, 1, &u32, 4, NULL, 0),
			 -EPROTO);
	assert_int_equal(f->vdev.conn_fd, -1);
	fx_reconnect(f);

	/* long payload for the request */
	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, 1, big, 8, NULL, 0),
			 -EPROTO);
	fx_reconnect(f);
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_ADDR, 1, big, 48, NULL, 0),
			 -EPROTO);
	fx_reconnect(f);

	/* larger than any request */
	assert_int_equal(xfer(f, VHOST_USER_SET_MEM_TABLE, 1, big, sizeof(big),
			      NULL, 0), -EPROTO);
	fx_reconnect(f);

	/* bad versions, even on an unknown request */
	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0),
			 -EPROTO);
	fx_reconnect(f);
	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, 2, NULL, 0, NULL, 0),
			 -EPROTO);
	fx_reconnect(f);
	assert_int_equal(xfer(f, 1000, 3 | VHOST_USER_FLAG_NEED_REPLY, NULL, 0,
			      NULL, 0), -EPROTO);
	fx_reconnect(f);

	/* payload cut short by the front-end going away */
	{
		struct vhost_user_hdr h = { VHOST_USER_SET_FEATURES, 1, 8 };

		assert_int_equal(send(f->peer, &h, sizeof(h), 0), sizeof(h));
		assert_int_equal(send(f->peer, &u32, 4, 0), 4);
		assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
		assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN),
				 -EPROTO);
		fx_reconnect(f);

		/* header cut short */
		assert_int_equal(send(f->peer, &h, 6, 0), 6);
		assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
		assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN),
				 -EPROTO);
		fx_reconnect(f);
	}

	/* clean end of file, and hang-up events */
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN), -ECONNRESET);
	fx_reconnect(f);
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN | EPOLLRDHUP),
			 -ECONNRESET);
	fx_reconnect(f);
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLHUP), -ECONNRESET);
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN), -ENOTCONN);
	fx_reconnect(f);

	/* still serving after all that */
	assert_int_equal(xfer(f, VHOST_USER_GET_QUEUE_NUM, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_QUEUE_NUM), 1);
}

/* A malformed message drops state: memory, fds, features */
static void test_vhost_user_malformed_resets(void **state)
{
	struct fx *f = *state;
	int maps = maps_count(), fds = fd_count();

	startup(f, KICKS_NONE);
	assert_true(maps_count() > maps);
	assert_true(fd_count() > fds);

	assert_int_equal(xfer(f, VHOST_USER_SET_OWNER, 1, &fds, 4, NULL, 0),
			 -EPROTO);
	assert_int_equal(maps_count(), maps);
	assert_int_equal(fd_count(), fds - 1);	/* control socket gone too */
	assert_int_equal(f->vdev.features, 0);
	assert_int_equal(f->vdev.mem.nregions, 0);
	assert_false(vu_queue_ready(&f->vdev, 0));
	fx_reconnect(f);
}

/* File descriptors on messages that take none, or too many: all closed */
static void test_vhost_user_fds_closed(void **state)
{
	struct fx *f = *state;
	struct vhost_user_msg m;
	int sv[2], e[12], base, i;
	bool reply;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	base = fd_count();

	/* three fds on GET_FEATURES */
	for (i = 0; i < 3; i++)
		e[i] = efd();
	msg_send_raw(sv[1], VHOST_USER_GET_FEATURES, 1, NULL, 0, e, 3);
	for (i = 0; i < 3; i++)
		close(e[i]);
	assert_int_equal(vu_msg_recv(sv[0], &m), 0);
	assert_int_equal(m.nfds, 3);
	assert_int_equal(fd_count(), base + 3);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
	assert_false(reply);
	assert_int_equal(fd_count(), base);

	/* one fd on an unknown request */
	e[0] = efd();
	msg_send_raw(sv[1], 77, 1 | VHOST_USER_FLAG_NEED_REPLY, NULL, 0, e, 1);
	close(e[0]);
	assert_int_equal(vu_msg_recv(sv[0], &m), 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EOPNOTSUPP);
	assert_true(reply);
	assert_int_equal(fd_count(), base);

	/* two fds on SET_VRING_CALL, one on a NOFD call, one on SET_LOG_FD ok */
	for (i = 0; i < 2; i++)
		e[i] = efd();
	msg_build(&m, VHOST_USER_SET_VRING_CALL, 1, &(uint64_t){ 0 }, 8, e, 2);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
	assert_false(fd_open(e[0]) || fd_open(e[1]));
	e[0] = efd();
	msg_build(&m, VHOST_USER_SET_VRING_CALL, 1,
		  &(uint64_t){ VHOST_USER_VRING_NOFD_MASK }, 8, e, 1);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
	assert_false(fd_open(e[0]));
	e[0] = efd();
	msg_build(&m, VHOST_USER_SET_LOG_FD, 1, NULL, 0, e, 1);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), 0);
	assert_false(fd_open(e[0]));
	assert_int_equal(fd_count(), base);

	/* more than VHOST_USER_MAX_FDS: control data truncated */
	for (i = 0; i < 12; i++)
		e[i] = efd();
	msg_send_raw(sv[1], VHOST_USER_SET_MEM_TABLE, 1, NULL, 0, e, 12);
	for (i = 0; i < 12; i++)
		close(e[i]);
	assert_int_equal(vu_msg_recv(sv[0], &m), -EPROTO);
	assert_int_equal(fd_count(), base);

	/* through the control handler too: dropped, nothing left open */
	for (i = 0; i < 9; i++)
		e[i] = efd();
	base = fd_count();
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_KICK, 1,
			      &(uint64_t){ 0 }, 8, e, 9), -EPROTO);
	for (i = 0; i < 9; i++)
		close(e[i]);
	assert_int_equal(fd_count(), base - 9 - 1);
	fx_reconnect(f);

	close(sv[0]);
	close(sv[1]);
}

/* Every ring message with a queue index out of range is malformed */
static void test_vhost_user_queue_index_range(void **state)
{
	struct fx *f = *state;
	uint32_t idx[] = { VHOST_USER_MAX_QUEUES, 0xff, 0x100, UINT32_MAX };
	uint32_t state_req[] = { VHOST_USER_SET_VRING_NUM,
				 VHOST_USER_SET_VRING_BASE,
				 VHOST_USER_GET_VRING_BASE,
				 VHOST_USER_SET_VRING_ENABLE };
	uint32_t fd_req[] = { VHOST_USER_SET_VRING_KICK,
			      VHOST_USER_SET_VRING_CALL,
			      VHOST_USER_SET_VRING_ERR };
	struct vhost_user_msg m;
	int base = fd_count();
	unsigned i, j;
	bool reply;

	for (i = 0; i < ARRAY_SIZE(idx); i++) {
		struct vhost_user_vring_state s = { idx[i], 1 };
		struct vhost_user_vring_addr a = { .index = idx[i] };

		for (j = 0; j < ARRAY_SIZE(state_req); j++) {
			msg_build(&m, state_req[j], 1, &s, sizeof(s), NULL, 0);
			assert_int_equal(vu_req_handle(&f->vdev, &m, &reply),
					 -EPROTO);
			assert_false(reply);
		}
		msg_build(&m, VHOST_USER_SET_VRING_ADDR, 1, &a, sizeof(a),
			  NULL, 0);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);

		for (j = 0; j < ARRAY_SIZE(fd_req); j++) {
			uint64_t v = idx[i];
			int e = efd();

			msg_build(&m, fd_req[j], 1, &v, 8, &e, 1);
			assert_int_equal(vu_req_handle(&f->vdev, &m, &reply),
					 -EPROTO);
			assert_false(fd_open(e));
			if (idx[i] <= 0xff) {
				v |= VHOST_USER_VRING_NOFD_MASK;
				msg_build(&m, fd_req[j], 1, &v, 8, NULL, 0);
				assert_int_equal(vu_req_handle(&f->vdev, &m,
							       &reply),
						 -EPROTO);
			}
		}
	}
	assert_int_equal(fd_count(), base);
	for (j = 0; j < VHOST_USER_MAX_QUEUES; j++) {
		assert_int_equal(f->vdev.vq[j].kick_fd, -1);
		assert_int_equal(f->vdev.vq[j].call_fd, -1);
		assert_int_equal(f->vdev.vq[j].num, 0);
	}
}

/* Ring sizes: powers of two up to 32768 only, not while started */
static void test_vhost_user_vring_num(void **state)
{
	struct fx *f = *state;
	uint32_t bad[] = { 0, 3, 255, 65536, 32769, UINT32_MAX };
	uint32_t good[] = { 1, 2, 256, 32768 };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, 0,
					    bad[i]), 0);
		assert_int_equal(f->vdev.vq[0].num, 0);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, 1,
					    good[i]), 0);
		assert_int_equal(f->vdev.vq[1].num, good[i]);
	}

	/* started: refused; a size change forgets validated addresses */
	startup(f, KICKS_NONE);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, 0, 512), 0);
	assert_int_equal(f->vdev.vq[0].num, RING_NUM);
	assert_int_equal(xfer_state(f, VHOST_USER_GET_VRING_BASE, 0, 0), 0);
	reply_u64(f, VHOST_USER_GET_VRING_BASE);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, 0, 32768), 0);
	assert_null(f->vdev.vq[0].desc);
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, 0, efd()), 0);
	assert_false(f->vdev.vq[0].started);	/* needs SET_VRING_ADDR again */
}

/* Ring addresses outside, straddling or misaligned: refused, not started */
static void test_vhost_user_vring_addr(void **state)
{
	struct fx *f = *state;
	const uint64_t b = QVA_BASE;
	const uint32_t nr = 1 | VHOST_USER_FLAG_NEED_REPLY;
	struct {
		uint64_t desc, avail, used;
		int rc;
	} c[] = {
		{ b - 0x10000, b + AVAIL_OFF, b + USED_OFF, -EFAULT },
		{ b + MEM_SIZE, b + AVAIL_OFF, b + USED_OFF, -EFAULT },
		{ b + MEM_SIZE - 2048, b + AVAIL_OFF, b + USED_OFF, -EFAULT },
		{ b, b + MEM_SIZE - 4, b + USED_OFF, -EFAULT },
		{ b, b + AVAIL_OFF, b + MEM_SIZE - 8 * RING_NUM, -EFAULT },
		{ b, b + AVAIL_OFF, UINT64_MAX - 7, -EFAULT },
		{ b + 8, b + AVAIL_OFF, b + USED_OFF, -EINVAL },
		{ b, b + AVAIL_OFF + 1, b + USED_OFF, -EINVAL },
		{ b, b + AVAIL_OFF, b + USED_OFF + 2, -EINVAL },
	};
	struct vhost_user_msg m;
	unsigned i;
	bool reply;

	/* no memory table yet */
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_NUM, 0, RING_NUM),
			 0);
	msg_build(&m, VHOST_USER_SET_VRING_ADDR, nr,
		  &(struct vhost_user_vring_addr){ 0, 0, b, b + USED_OFF,
						   b + AVAIL_OFF, 0 },
		  40, NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EFAULT);
	assert_true(reply);
	assert_int_not_equal(le64toh(m.payload.u64), 0);

	assert_int_equal(xfer_mem_default(f), 0);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct vhost_user_vring_addr a = {
			.index = 0, .desc_user_addr = c[i].desc,
			.avail_user_addr = c[i].avail,
			.used_user_addr = c[i].used,
		};

		msg_build(&m, VHOST_USER_SET_VRING_ADDR, nr, &a, sizeof(a),
			  NULL, 0);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), c[i].rc);
		assert_null(f->vdev.vq[0].desc);
	}

	/* unknown flags */
	assert_int_equal(xfer_addr_default(f, 0, 2), 0);
	assert_null(f->vdev.vq[0].desc);

	/* a kick now doesn't start the queue */
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, 0, efd()), 0);
	assert_false(f->vdev.vq[0].started);
	assert_false(vu_queue_ready(&f->vdev, 0));

	/* good addresses at the very end of memory: starts */
	assert_int_equal(xfer_addr(f, 0, 0, b + MEM_SIZE - 4096,
				   b + MEM_SIZE - 4096 - 6 - 2 * RING_NUM - 2,
				   b + MEM_SIZE - 4096 * 2), 0);
	assert_true(f->vdev.vq[0].started);
	assert_no_reply(f);
}

/* The logging flag during migration remaps a started ring in place */
static void test_vhost_user_vring_addr_log(void **state)
{
	struct fx *f = *state;
	struct virtq *vq = &f->vdev.vq[1];

	startup(f, KICKS_NONE);
	vq->last_avail_idx = 7;
	vq->used_idx = 5;
	assert_int_equal(xfer_addr_default(f, 1, 1U << VHOST_VRING_F_LOG), 0);
	assert_true(vq->started);
	assert_true(vq->log_used);
	assert_int_equal(vq->used_gpa, LOG_GPA);
	assert_int_equal(vq->last_avail_idx, 7);
	assert_int_equal(vq->used_idx, 5);
	assert_true(vu_queue_ready(&f->vdev, 1));

	assert_int_equal(xfer_addr_default(f, 1, 0), 0);
	assert_false(vq->log_used);
	assert_int_equal(vq->used_gpa, GPA_BASE + RING_OFF(1) + USED_OFF);
}

/* SET_VRING_BASE, start reading used->idx, GET_VRING_BASE stopping */
static void test_vhost_user_vring_base(void **state)
{
	struct fx *f = *state;
	struct vhost_user_vring_state s;
	int kicks[2] = { efd(), efd() };
	struct virtq *vq = &f->vdev.vq[0];
	int kick;

	/* bases wider than 16 bits are refused */
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_BASE, 0, 0x10000),
			 0);
	assert_int_equal(vq->last_avail_idx, 0);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_BASE, 0, 0xffff), 0);
	assert_int_equal(vq->last_avail_idx, 0xffff);
	assert_int_equal(vq->shadow_avail_idx, 0xffff);

	startup(f, kicks);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_BASE, 0, 9), 0);
	assert_int_equal(vq->last_avail_idx, 0);	/* started: refused */

	vq->last_avail_idx = 42;
	kick = vq->kick_fd;
	assert_int_equal(xfer_state(f, VHOST_USER_GET_VRING_BASE, 0, 0), 0);
	assert_int_equal(reply_recv(f, VHOST_USER_GET_VRING_BASE, &s,
				    sizeof(s)), sizeof(s));
	assert_int_equal(s.index, 0);
	assert_int_equal(s.num, 42);
	assert_false(vq->started);
	assert_false(vu_queue_ready(&f->vdev, 0));
	assert_true(vu_queue_ready(&f->vdev, 1));
	assert_int_equal(vq->kick_fd, -1);
	assert_false(fd_open(kick));
	assert_true(vq->call_fd >= 0);

	/* the old kick doesn't reach epoll any more */
	assert_int_equal(eventfd_write(kicks[0], 1), 0);
	assert_int_equal(epoll_wait(f->epollfd, &(struct epoll_event){ 0 }, 1,
				    0), 0);

	/* restart at base 42, used index from guest memory */
	*(uint16_t *)(f->guest + RING_OFF(0) + USED_OFF + 2) = htole16(40);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_BASE, 0, 42), 0);
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, 0, efd()), 0);
	assert_true(vu_queue_ready(&f->vdev, 0));
	assert_int_equal(vq->last_avail_idx, 42);
	assert_int_equal(vq->used_idx, 40);

	close(kicks[0]);
	close(kicks[1]);
}

/* KICK without fd: started anyway; replacing fds closes old ones */
static void test_vhost_user_vring_fds(void **state)
{
	struct fx *f = *state;
	struct virtq *vq = &f->vdev.vq[1];
	int base, old;

	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES, NULL, 0), 0);
	assert_int_equal(xfer_mem_default(f), 0);
	assert_int_equal(xfer_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 1), 0);
	ring_setup(f, 1, -1);
	assert_int_equal(vq->kick_fd, -1);
	assert_true(vu_queue_ready(&f->vdev, 1));

	base = fd_count();
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, 1, efd()), 0);
	assert_int_equal(fd_count(), base + 1);
	old = vq->kick_fd;
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_KICK, 1, efd()), 0);
	assert_int_equal(fd_count(), base + 1);
	assert_true(vu_queue_ready(&f->vdev, 1));
	(void)old;

	old = vq->call_fd;
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_CALL, 1, -1), 0);
	assert_int_equal(vq->call_fd, -1);
	assert_int_equal(fd_count(), base);
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_ERR, 1, efd()), 0);
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_ERR, 1, efd()), 0);
	assert_int_equal(fd_count(), base + 1);
	assert_int_equal(xfer_ring_fd(f, VHOST_USER_SET_VRING_ERR, 1, -1), 0);
	assert_int_equal(fd_count(), base);

	/* payload bits beyond index and NOFD */
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_VRING_CALL, 1,
				  0x200 | VHOST_USER_VRING_NOFD_MASK, NULL, 0),
			 -EPROTO);
	fx_reconnect(f);
}

/* SET_MEM_TABLE refusals leave the old table in place */
static void test_vhost_user_mem_table_bad(void **state)
{
	struct fx *f = *state;
	const uint32_t nr = 1 | VHOST_USER_FLAG_NEED_REPLY;
	int small = memfd_sized(MEM_SIZE / 2), fds[2] = { f->memfd, f->memfd };
	struct vhost_user_mem_region_desc d[2];
	struct vhost_user_msg m;
	uint64_t mapped;
	int maps, nfd;
	bool reply;
	struct {
		struct vhost_user_mem_region_desc d[2];
		unsigned n;
	} c[] = {
		/* overflows */
		{ { vfe_region(UINT64_MAX - 0xfff, MEM_SIZE, QVA_BASE, 0) },
			       1 },
		{ { vfe_region(0, MEM_SIZE, UINT64_MAX - 0xfff, 0) }, 1 },
		{ { vfe_region(0, MEM_SIZE, QVA_BASE, UINT64_MAX - 0xfff) },
			       1 },
		{ { vfe_region(0, UINT64_MAX, QVA_BASE, 0) }, 1 },
		{ { vfe_region(0, 0, QVA_BASE, 0) }, 1 },
		/* file smaller than claimed */
		{ { vfe_region(0, 2 * MEM_SIZE, QVA_BASE, 0) }, 1 },
		{ { vfe_region(0, MEM_SIZE, QVA_BASE, 4096) }, 1 },
		/* overlaps in guest physical or front-end virtual space */
		{ { vfe_region(0, 0x80000, QVA_BASE, 0),
		    vfe_region(0x7f000, 0x1000, QVA_BASE + 0x100000, 0x80000) },
			       2 },
		{ { vfe_region(0, 0x80000, QVA_BASE, 0),
		    vfe_region(0x100000, 0x1000, QVA_BASE + 0x7ffff, 0x80000) },
			       2 },
		{ { vfe_region(0x100000, 0x1000, QVA_BASE + 0x100000, 0x80000),
		    vfe_region(0xff000, 0x2000, QVA_BASE, 0) }, 2 },
	};
	unsigned i;

	startup(f, KICKS_NONE);
	mapped = f->vdev.mem.r[0].mmap_addr;
	maps = maps_count();
	nfd = fd_count();

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		assert_int_equal(xfer_mem(f, nr, c[i].d, c[i].n, fds), 0);
		assert_int_not_equal(reply_u64(f, VHOST_USER_SET_MEM_TABLE), 0);
		assert_int_equal(f->vdev.mem.nregions, 1);
		assert_int_equal(f->vdev.mem.r[0].mmap_addr, mapped);
		assert_true(vu_queue_ready(&f->vdev, 0));
		assert_true(vu_queue_ready(&f->vdev, 1));
		assert_int_equal(maps_count(), maps);
		assert_int_equal(fd_count(), nfd);
	}

	/* a memfd smaller than claimed: no SIGBUS, refused */
	d[0] = vfe_region(0, MEM_SIZE, QVA_BASE, 0);
	assert_int_equal(xfer_mem(f, nr, d, 1, &small), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_MEM_TABLE), 0);
	assert_int_equal(f->vdev.mem.r[0].mmap_addr, mapped);
	assert_int_equal(maps_count(), maps);

	/* not a file we can map */
	assert_int_equal(xfer_mem(f, nr, d, 1, &f->epollfd), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_MEM_TABLE), 0);

	/* 0 and 9 regions, fd count not matching: malformed */
	msg_build(&m, VHOST_USER_SET_MEM_TABLE, 1,
		  &(struct vhost_user_mem_table){ .nregions = 0 }, 8, NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
	{
		struct vhost_user_mem_table t = { .nregions = 9 };

		msg_build(&m, VHOST_USER_SET_MEM_TABLE, 1, &t, sizeof(t),
			  NULL, 0);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
		t.nregions = 2;
		msg_build(&m, VHOST_USER_SET_MEM_TABLE, 1, &t, 8 + 64,
			  &f->memfd, 1);
		m.fds[0] = dup(f->memfd);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
		t.nregions = 1;
		msg_build(&m, VHOST_USER_SET_MEM_TABLE, 1, &t, 8 + 64,
			  &f->memfd, 1);
		m.fds[0] = dup(f->memfd);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
		msg_build(&m, VHOST_USER_SET_MEM_TABLE, 1, &t, 4, NULL, 0);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);
	}
	assert_int_equal(fd_count(), nfd);
	assert_int_equal(f->vdev.mem.r[0].mmap_addr, mapped);

	/* over the socket: 9 regions don't fit in any message */
	{
		uint8_t t[8 + 9 * 32] = { 9 };

		assert_int_equal(xfer(f, VHOST_USER_SET_MEM_TABLE, 1, t,
				      sizeof(t), NULL, 0), -EPROTO);
		fx_reconnect(f);
		assert_int_equal(xfer(f, VHOST_USER_SET_MEM_TABLE, 1, t, 8,
				      NULL, 0), -EPROTO);
		fx_reconnect(f);
	}
	assert_int_equal(maps_count(), maps - 1);	/* disconnected */

	close(small);
}

/* A new table remaps started rings, or stops them if they aren't in it */
static void test_vhost_user_mem_table_remap(void **state)
{
	struct fx *f = *state;
	int other = memfd_sized(2 * MEM_SIZE), fds[2] = { f->memfd, other };
	struct vhost_user_mem_region_desc d[2];
	struct virtq *vq = &f->vdev.vq[0];
	void *old_desc;

	startup(f, KICKS_NONE);
	assert_int_equal(xfer_addr_default(f, 0, 1U << VHOST_VRING_F_LOG), 0);
	old_desc = vq->desc;

	/* same RAM plus a hot-plugged region, mapped elsewhere now */
	d[0] = vfe_region(0x100000000ULL, MEM_SIZE, QVA_BASE + 0x40000000, 0);
	d[1] = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE, 0);
	fds[0] = other;
	fds[1] = f->memfd;
	assert_int_equal(xfer_mem(f, 1, d, 2, fds), 0);
	assert_int_equal(f->vdev.mem.nregions, 2);
	assert_true(vu_queue_ready(&f->vdev, 0));
	assert_true(vu_queue_ready(&f->vdev, 1));
	assert_ptr_equal(vq->desc, f->vdev.mem.r[1].mmap_addr + DESC_OFF);
	assert_int_equal(vq->used_gpa, LOG_GPA);	/* still logged */
	(void)old_desc;

	/* the rings of queue 1 fall outside the new table: stopped */
	d[0] = vfe_region(GPA_BASE, 0x10000, QVA_BASE, 0);
	assert_int_equal(xfer_mem(f, 1, d, 1, &f->memfd), 0);
	assert_true(vu_queue_ready(&f->vdev, 0));
	assert_false(vu_queue_ready(&f->vdev, 1));
	assert_null(f->vdev.vq[1].desc);

	close(other);
}

/* 1000 tables, good and bad, leave no mapping and no fd behind */
static void test_vhost_user_mem_table_repeat(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_region_desc good[2] = {
		vfe_region(0, MEM_SIZE / 2, QVA_BASE, 0),
		vfe_region(MEM_SIZE / 2, MEM_SIZE / 2, QVA_BASE + MEM_SIZE / 2,
		       MEM_SIZE / 2),
	};
	struct vhost_user_mem_region_desc bad[2] = {
		vfe_region(0, MEM_SIZE / 2, QVA_BASE, 0),
		vfe_region(0, MEM_SIZE / 2, QVA_BASE + MEM_SIZE, 0),
	};
	int fds[2] = { f->memfd, f->memfd };
	int maps, nfd, i;

	startup(f, KICKS_NONE);
	maps = maps_count();
	nfd = fd_count();

	for (i = 0; i < 1000; i++) {
		assert_int_equal(xfer_mem(f, 1, good, 1 + i % 2, fds), 0);
		assert_int_equal(f->vdev.mem.nregions, 1 + i % 2);
		assert_int_equal(xfer_mem(f, 1, bad, 2, fds), 0);
		assert_int_equal(f->vdev.mem.nregions, 1 + i % 2);
		assert_true(vu_queue_ready(&f->vdev, 0));
	}
	assert_int_equal(xfer_mem_default(f), 0);

	assert_int_equal(maps_count(), maps);
	assert_int_equal(fd_count(), nfd);
	assert_no_reply(f);
}

/* SET_LOG_BASE: size and file checks, reply, replacement */
static void test_vhost_user_log_base(void **state)
{
	struct fx *f = *state;
	struct vhost_user_log l = { .mmap_size = 4096, .mmap_offset = 0 };
	int logfd = memfd_sized(4096), big = memfd_sized(3 * 4096);
	int maps, nfd;
	uint8_t *log;

	startup(f, KICKS_NONE);
	maps = maps_count();
	nfd = fd_count();

	/* file too small for the size, then for size plus offset */
	l.mmap_size = 8192;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);
	l.mmap_size = 4096;
	l.mmap_offset = 4096;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);

	/* log too small for guest memory (1 MiB needs 32 bytes), bad offset */
	l.mmap_size = 31;
	l.mmap_offset = 0;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);
	l.mmap_size = 32;
	l.mmap_offset = 100;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &big, 1), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);
	l.mmap_size = 0;
	l.mmap_offset = 0;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	assert_int_not_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);
	assert_null(f->vdev.mem.log);
	assert_int_equal(maps_count(), maps);
	assert_int_equal(fd_count(), nfd);

	/* good: replies 0, and logs for the daemon */
	l.mmap_size = 32;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);
	assert_non_null(f->vdev.mem.log);
	assert_int_equal(f->vdev.mem.log_size, 32);
	assert_int_equal(xfer_u64(f, VHOST_USER_SET_FEATURES, 1,
				  VU_GUEST_FEATURES | BIT_ULL(VHOST_F_LOG_ALL),
				  NULL, 0), 0);
	assert_true(f->vdev.mem.log_all);
	vu_mem_log_write(&f->vdev.mem, 5 * VHOST_LOG_PAGE, 1);
	log = mmap(NULL, 4096, PROT_READ, MAP_SHARED, logfd, 0);
	assert_true(log != MAP_FAILED);
	assert_int_equal(log[0], 1 << 5);
	munmap(log, 4096);

	/* replaced by a log at an offset in another file: one mapping */
	maps = maps_count();
	l.mmap_size = 8192;
	l.mmap_offset = 4096;
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &big, 1), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_SET_LOG_BASE), 0);
	assert_int_equal(f->vdev.mem.log_size, 8192);
	assert_int_equal(maps_count(), maps);

	/* no fd: malformed */
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      NULL, 0), -EPROTO);
	assert_null(f->vdev.mem.log);
	fx_reconnect(f);

	close(logfd);
	close(big);
}

/* Without LOG_SHMFD negotiated, SET_LOG_BASE gets no reply */
static void test_vhost_user_log_base_no_shmfd(void **state)
{
	struct fx *f = *state;
	struct vhost_user_log l = { .mmap_size = 4096, .mmap_offset = 0 };
	int logfd = memfd_sized(4096);

	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	assert_no_reply(f);
	assert_non_null(f->vdev.mem.log);
	close(logfd);
}

/* Disconnect and RESET_OWNER leave nothing behind */
static void test_vhost_user_disconnect_teardown(void **state)
{
	struct fx *f = *state;
	struct vhost_user_log l = { .mmap_size = 4096, .mmap_offset = 0 };
	int maps = maps_count(), nfd = fd_count();
	int logfd = memfd_sized(4096);
	unsigned q;

	startup(f, KICKS_NONE);
	assert_int_equal(xfer(f, VHOST_USER_SET_LOG_BASE, 1, &l, sizeof(l),
			      &logfd, 1), 0);
	reply_u64(f, VHOST_USER_SET_LOG_BASE);
	assert_int_equal(maps_count(), maps + 2);

	/* RESET_OWNER: everything but the connection */
	assert_int_equal(xfer(f, VHOST_USER_RESET_OWNER, 1, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(maps_count(), maps);
	assert_int_equal(fd_count(), nfd + 1);		/* logfd */
	assert_int_equal(f->vdev.features, 0);
	assert_false(f->vdev.owned);
	assert_true(f->vdev.conn_fd >= 0);

	startup(f, KICKS_NONE);
	vu_disconnect(&f->vdev);
	assert_int_equal(maps_count(), maps);
	assert_int_equal(fd_count(), nfd);		/* -conn, +logfd */
	assert_int_equal(f->vdev.conn_fd, -1);
	assert_int_equal(f->vdev.mem.nregions, 0);
	assert_null(f->vdev.mem.log);
	for (q = 0; q < VHOST_USER_MAX_QUEUES; q++) {
		assert_int_equal(f->vdev.vq[q].kick_fd, -1);
		assert_int_equal(f->vdev.vq[q].call_fd, -1);
		assert_int_equal(f->vdev.vq[q].err_fd, -1);
		assert_false(vu_queue_ready(&f->vdev, q));
	}
	assert_int_equal(epoll_wait(f->epollfd, &(struct epoll_event){ 0 }, 1,
				    0), 0);

	/* and again, through a hang-up */
	fx_reconnect(f);
	startup(f, KICKS_NONE);
	close(f->peer);
	f->peer = -1;
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN), -ECONNRESET);
	assert_int_equal(maps_count(), maps);
	assert_int_equal(fd_count(), nfd - 1);		/* peer closed too */
	fx_reconnect(f);

	close(logfd);
}

/* Listening: one front-end served, a second one refused; stale sockets */
static void test_vhost_user_listen_accept(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct {
		struct vhost_user_hdr hdr;
		uint64_t v;
	} PACKED r;
	struct vu_dev other;
	int c1, c2, lfd, nfd;
	char c;

	snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/vu_test.%d",
		 (int)getpid());
	unlink(a.sun_path);

	vu_disconnect(&f->vdev);	/* fixture connection: not needed */
	vu_dev_init(&other, f->epollfd);
	nfd = fd_count();
	assert_int_equal(vu_listen(&f->vdev, a.sun_path), 0);
	assert_int_equal(vu_listen(&f->vdev, a.sun_path), -EALREADY);
	assert_int_equal(vu_listen(&other, a.sun_path), -EADDRINUSE);

	/* that probe connected and went away: accepted, then end of file */
	assert_int_equal(vu_accept(&f->vdev), 0);
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN), -ECONNRESET);
	assert_int_equal(f->vdev.conn_fd, -1);

	c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c1, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(vu_accept(&f->vdev), 0);
	assert_true(f->vdev.conn_fd >= 0);

	c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c2, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(vu_accept(&f->vdev), -EBUSY);
	assert_int_equal(recv(c2, &c, 1, 0), 0);	/* closed at once */
	close(c2);
	assert_int_equal(vu_accept(&f->vdev), -EAGAIN);	/* nobody */

	/* the first one is still served */
	msg_send_raw(c1, VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0);
	assert_int_equal(vu_control_handler(&f->vdev, EPOLLIN), 0);
	assert_int_equal(recv(c1, &r, sizeof(r), MSG_WAITALL), sizeof(r));
	assert_int_equal(r.hdr.flags, 1 | VHOST_USER_FLAG_REPLY);
	assert_int_equal(r.v, VU_FEATURES);

	/* disconnect keeps the listening socket */
	lfd = f->vdev.listen_fd;
	vu_disconnect(&f->vdev);
	assert_int_equal(f->vdev.listen_fd, lfd);
	assert_true(fd_open(lfd));
	close(c1);

	/* stale socket (nobody listening): replaced */
	ev_del(f->epollfd, lfd);
	close(lfd);
	assert_int_equal(vu_listen(&other, a.sun_path), 0);
	ev_del(f->epollfd, other.listen_fd);
	close(other.listen_fd);
	assert_int_equal(fd_count(), nfd);
	unlink(a.sun_path);

	/* not a socket: left alone */
	close(open(a.sun_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	vu_dev_init(&other, f->epollfd);
	assert_int_equal(vu_listen(&other, a.sun_path), -EEXIST);
	unlink(a.sun_path);

	assert_int_equal(vu_listen(&other, "/tmp/"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
			 -ENAMETOOLONG);
	assert_int_equal(fd_count(), nfd);
}

/* Misc requests: MTU bounds, RARP, SET_OWNER, SET_FEATURES bits */
static void test_vhost_user_misc_requests(void **state)
{
	struct fx *f = *state;
	struct vhost_user_msg m;
	bool reply;

	msg_build(&m, VHOST_USER_NET_SET_MTU, 1, &(uint64_t){ 68 }, 8, NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), 0);
	assert_false(reply);
	assert_int_equal(f->vdev.mtu, 68);
	msg_build(&m, VHOST_USER_NET_SET_MTU, 1, &(uint64_t){ 65535 }, 8, NULL,
		  0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), 0);
	assert_int_equal(f->vdev.mtu, 65535);
	msg_build(&m, VHOST_USER_NET_SET_MTU, 1, &(uint64_t){ 0 }, 8, NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EINVAL);
	assert_int_equal(f->vdev.mtu, 65535);

	msg_build(&m, VHOST_USER_SEND_RARP, 1, "\x52\x54\x00\x12\x34\x56\0", 8,
		  NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), 0);
	msg_build(&m, VHOST_USER_SEND_RARP, 1, "\x52\x54\x00\x12\x34\x56", 6,
		  NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), -EPROTO);

	/* each feature we didn't offer is refused on its own */
	for (unsigned b = 0; b < 64; b++) {
		msg_build(&m, VHOST_USER_SET_FEATURES, 1,
			  &(uint64_t){ BIT_ULL(b) }, 8, NULL, 0);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply),
				 (VU_FEATURES & BIT_ULL(b)) ? 0 : -EINVAL);
		msg_build(&m, VHOST_USER_SET_PROTOCOL_FEATURES, 1,
			  &(uint64_t){ BIT_ULL(b) }, 8, NULL, 0);
		assert_int_equal(vu_req_handle(&f->vdev, &m, &reply),
				 (VU_PROTOCOL_FEATURES & BIT_ULL(b)) ?
				 0 : -EINVAL);
	}

	/* a reply built by vu_req_handle(): header fixed up */
	msg_build(&m, VHOST_USER_GET_FEATURES, 1 | VHOST_USER_FLAG_NEED_REPLY,
		  NULL, 0, NULL, 0);
	assert_int_equal(vu_req_handle(&f->vdev, &m, &reply), 0);
	assert_true(reply);
	assert_int_equal(m.hdr.flags, 1 | VHOST_USER_FLAG_REPLY);
	assert_int_equal(m.hdr.size, 8);
	assert_int_equal(m.payload.u64, VU_FEATURES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)	cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
		T(test_vhost_user_startup_qemu_order),
		T(test_vhost_user_startup_dpdk_order),
		T(test_vhost_user_enable_rule),
		T(test_vhost_user_devstate_logging),
		T(test_vhost_user_get_replies),
		T(test_vhost_user_reply_ack),
		T(test_vhost_user_unknown_request),
		T(test_vhost_user_device_state),
		T(test_vhost_user_unsealed_memfd),
		T(test_vhost_user_malformed),
		T(test_vhost_user_malformed_resets),
		T(test_vhost_user_fds_closed),
		T(test_vhost_user_queue_index_range),
		T(test_vhost_user_vring_num),
		T(test_vhost_user_vring_addr),
		T(test_vhost_user_vring_addr_log),
		T(test_vhost_user_vring_base),
		T(test_vhost_user_vring_fds),
		T(test_vhost_user_mem_table_bad),
		T(test_vhost_user_mem_table_remap),
		T(test_vhost_user_mem_table_repeat),
		T(test_vhost_user_log_base),
		T(test_vhost_user_log_base_no_shmfd),
		T(test_vhost_user_disconnect_teardown),
		T(test_vhost_user_listen_accept),
		T(test_vhost_user_misc_requests),
#undef T
	};
	const char *lvl = getenv("VU_TEST_LOG");

	log_set_level(lvl ? atoi(lvl) : LOG_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
