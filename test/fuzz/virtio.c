// SPDX-License-Identifier: GPL-2.0-or-later
/* test/fuzz/virtio.c - libFuzzer target: split rings a hostile guest wrote
 *
 * Guest memory is three heap buffers, exposed as three regions:
 *   R0  gpa 0x0000..0x2000     the rings, then data
 *   R1  gpa 0x2000..0x3000     right after R0 in gpa, a separate buffer,
 *                              mapped from offset R1_MMAP_OFF
 *   R2  gpa 0x40000000..+4096  far away
 * so buffers and indirect tables may cross regions or fall between them.
 * Both queues have the size the input picks; their rings are packed at the
 * start of R0 (RX desc, avail, used, then TX), where the input's memory
 * image overwrites them.
 *
 * Input: a 6-byte header, ops, then the memory image:
 *   0     cfg: bits 0-2 log2(queue size), 3 EVENT_IDX, 4 dirty log on,
 *         5 rings logged, 6 call eventfd
 *   1-2   RX last_avail_idx (the used index comes from the image)
 *   3-4   TX last_avail_idx
 *   5     number of 4-byte ops that follow (opcode, a, b, c)
 *   ...   image, copied from gpa 0 on (R0 then R1)
 * Ops act on queue (a & 1) where it matters: pop, fill and flush what was
 * popped, rewind, vu_frame_tx_poll(), vu_frame_send() of a frame, the guest adding to
 * a 16-bit word of R0 (its index moves, ring entries change under us),
 * notify, empty check.  Without ops: vu_frame_tx_poll(), one vu_frame_send(), pop an
 * RX buffer and give it back, notify both queues.
 *
 * Checked: every popped element has an index below the queue size and at
 * most VU_ELEM_MAX_SG segments, each inside one region; its device-readable
 * bytes are read and its device-writable bytes written (ASan watches the
 * heap regions); frames passed up by vu_frame_tx_poll() are read whole; no more
 * elements are in flight than the queue holds.
 *
 * FUZZ_SEED_DIR=dir makes the binary write its seed inputs there and exit.
 */

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"
#include "virtio.h"
#include "vhost_user.h"
#include "vu_common.h"
#include "frontend.h"
#include "common.h"

#define R0_GPA		0x0ULL
#define R0_SIZE		0x2000ULL
#define R1_GPA		(R0_GPA + R0_SIZE)
#define R1_SIZE		0x1000ULL
#define R1_MMAP_OFF	0x100ULL
#define R2_GPA		0x40000000ULL
#define R2_SIZE		0x1000ULL
#define QVA(i)		(0x7f0000000000ULL + 0x100000000ULL * (i))
#define LOG_BYTES	64		/* covers 2 MiB of gpa: R0, R1 */

#define HDR_LEN		6
#define CFG_NUM(c)	(1U << ((c) & 7))
#define CFG_EVENT_IDX	(1U << 3)
#define CFG_LOG		(1U << 4)
#define CFG_LOG_USED	(1U << 5)
#define CFG_CALL	(1U << 6)

enum op {
	OP_POP, OP_PUSH, OP_REWIND, OP_TX_POLL, OP_SEND, OP_POKE, OP_NOTIFY,
	OP_EMPTY, OP_COUNT
};

#define HELD_MAX	64	/* elements popped and held, per queue */
#define FRAME_MAX	(65535 + 14 + 4)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint64_t r_gpa[3] = { R0_GPA, R1_GPA, R2_GPA };
static const uint64_t r_size[3] = { R0_SIZE, R1_SIZE, R2_SIZE };
static const uint64_t r_off[3] = { 0, R1_MMAP_OFF, 0 };

/**
 * struct fx - State of one input
 * @vdev:	Device: memory table and both queues
 * @buf:	Region buffers, from the heap: ASan checks accesses
 * @log:	Dirty log bitmap
 * @held:	Elements popped, not yet returned, per queue
 * @nheld:	How many, per queue
 * @call_fd:	Call eventfd shared by both queues
 * @verbose:	FUZZ_LOG=1: tell what each op did
 */
static struct {
	struct vu_dev vdev;
	uint8_t *buf[3];
	uint8_t *log;
	struct virtq_elem held[VHOST_USER_MAX_QUEUES][HELD_MAX];
	unsigned nheld[VHOST_USER_MAX_QUEUES];
	int call_fd;
	bool verbose;
} fx;

/**
 * struct ring_layout - Where the rings of one queue are in R0
 * @desc:	Descriptor table offset
 * @avail:	Available ring offset
 * @used:	Used ring offset
 */
struct ring_layout {
	uint64_t desc, avail, used;
};

/**
 * layout() - Pack both queues' rings at the start of R0
 * @num:	Queue size
 * @l:		Layouts, RX then TX, set
 *
 * Return: first offset after the rings
 */
static uint64_t layout(unsigned num, struct ring_layout l[2])
{
	uint64_t off = 0;
	unsigned q;

	for (q = 0; q < 2; q++) {
		l[q].desc = ROUND_UP(off, 16ULL);
		l[q].avail = l[q].desc + 16ULL * num;
		l[q].used = ROUND_UP(l[q].avail + 6 + 2ULL * num, 4ULL);
		off = l[q].used + 6 + 8ULL * num;
	}
	return off;
}

/**
 * in_region() - Is an area entirely inside one region buffer?
 * @p:		Start
 * @len:	Length
 *
 * Return: true if it is
 */
static bool in_region(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned i;

	for (i = 0; i < 3; i++) {
		uintptr_t base = (uintptr_t)fx.buf[i] + r_off[i];

		if (a >= base && a - base < r_size[i] &&
		    len <= r_size[i] - (a - base))
			return true;
	}
	return false;
}

/**
 * elem_check() - Check a popped element, read and write its buffers
 * @vq:		Queue it came from
 * @e:		Element
 */
static void elem_check(const struct virtq *vq, const struct virtq_elem *e)
{
	unsigned i;

	if (e->index >= vq->num)
		FUZZ_FAIL("element index %u, queue size %u", e->index, vq->num);
	if (e->out_num + e->in_num > VU_ELEM_MAX_SG)
		FUZZ_FAIL("element with %u + %u segments", e->out_num,
			  e->in_num);

	for (i = 0; i < e->out_num + e->in_num; i++) {
		const struct iovec *v = &e->sg[i];

		if (!v->iov_len || !in_region(v->iov_base, v->iov_len))
			FUZZ_FAIL("segment %u (%p, %zu bytes) not in guest "
				  "memory", i, v->iov_base, v->iov_len);
		if (i < e->out_num)
			fuzz_touch(v->iov_base, v->iov_len);
		else
			memset(v->iov_base, 0xa5, v->iov_len);
	}
}

/**
 * frame_cb() - A frame vu_frame_tx_poll() passes up: read it all
 * @opaque:	Unused
 * @frame:	Frame
 * @len:	Length
 */
static void frame_cb(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (len < 14 || len > FRAME_MAX)
		FUZZ_FAIL("frame of %zu bytes passed up", len);
	fuzz_touch(frame, len);
	if (fx.verbose)
		fprintf(stderr, "fuzz: frame of %zu bytes passed up\n", len);
}

/**
 * held_push() - Give back every held element of a queue, as used
 * @q:		Queue index
 * @len:	Length to report for each, capped at its writable size
 */
static void held_push(unsigned q, uint32_t len)
{
	struct virtq *vq = &fx.vdev.vq[q];
	unsigned i, n = fx.nheld[q];

	for (i = 0; i < n; i++) {
		const struct virtq_elem *e = &fx.held[q][i];
		size_t room = iov_size(&e->sg[e->out_num], e->in_num);

		virtq_fill(&fx.vdev.mem, vq, e, (uint32_t)MIN(room, len), i);
	}
	virtq_flush(&fx.vdev.mem, vq, n);
	fx.nheld[q] = 0;
}

/**
 * op_pop() - Pop one element and hold it
 * @q:		Queue index
 */
static void op_pop(unsigned q)
{
	struct virtq *vq = &fx.vdev.vq[q];
	int rc;

	if (fx.nheld[q] == HELD_MAX)
		held_push(q, 0);

	rc = virtq_pop(&fx.vdev.mem, vq, &fx.held[q][fx.nheld[q]]);
	if (fx.verbose)
		fprintf(stderr, "fuzz: pop from queue %u: %d\n", q, rc);
	if (rc == 1) {
		elem_check(vq, &fx.held[q][fx.nheld[q]]);
		fx.nheld[q]++;
	} else if (rc == -EIO && !vq->broken) {
		FUZZ_FAIL("pop returned -EIO, queue not broken");
	} else if (rc && rc != -EIO) {
		FUZZ_FAIL("pop returned %d", rc);
	}
	if (!vq->broken && vq->inuse > vq->num)
		FUZZ_FAIL("%u elements in flight, queue size %u", vq->inuse,
			  vq->num);
}

/**
 * op_send() - Send a frame to the guest through the RX queue
 * @len:	Frame length
 * @split:	How to split it into segments
 */
static void op_send(size_t len, unsigned split)
{
	static uint8_t frame[FRAME_MAX + 16];
	struct iovec iov[3];
	size_t a, b;
	int rc;

	len = MIN(len, sizeof(frame));
	memset(frame, 0x5a, len);
	a = len ? split % (len + 1) : 0;
	b = (len - a) ? (split >> 4) % (len - a + 1) : 0;
	iov[0] = (struct iovec){ frame, a };
	iov[1] = (struct iovec){ frame + a, b };
	iov[2] = (struct iovec){ frame + a + b, len - a - b };

	rc = vu_frame_send(&fx.vdev, iov, 3);
	if (fx.verbose)
		fprintf(stderr, "fuzz: send of %zu bytes: %d\n", len, rc);
	if (rc >= 0 && (size_t)rc != len)
		FUZZ_FAIL("vu_frame_send() of %zu bytes returned %d", len, rc);
}

/**
 * op_poke() - The guest adds to a 16-bit word in R0, under our feet
 * @off:	Offset in R0, rounded down to even
 * @v:		Value to add, signed: 0xff takes one back
 */
static void op_poke(unsigned off, uint8_t v)
{
	uint8_t *p = fx.buf[0] + (off % R0_SIZE & ~1U);
	uint16_t w;

	memcpy(&w, p, 2);
	w = htole16((uint16_t)(le16toh(w) + (int8_t)v));
	memcpy(p, &w, 2);
}

/**
 * run_op() - Run one op
 * @op:		Four bytes: opcode, a, b, c
 */
static void run_op(const uint8_t *op)
{
	unsigned q = op[1] & 1;
	struct virtq *vq = &fx.vdev.vq[q];

	switch (op[0] % OP_COUNT) {
	case OP_POP:
		op_pop(q);
		break;
	case OP_PUSH:
		held_push(q, (uint32_t)op[2] | (uint32_t)op[3] << 8);
		break;
	case OP_REWIND: {
		unsigned n = MIN((unsigned)op[2], fx.nheld[q]);

		virtq_rewind(vq, n);
		fx.nheld[q] -= n;
		break;
	}
	case OP_TX_POLL:
		vu_frame_tx_poll(&fx.vdev, frame_cb, NULL);
		break;
	case OP_SEND:
		op_send((size_t)op[1] << 8 | op[2], op[3]);
		break;
	case OP_POKE:
		op_poke((unsigned)op[1] << 8 | op[2], op[3]);
		break;
	case OP_NOTIFY:
		virtq_notify(vq);
		break;
	case OP_EMPTY:
		virtq_empty(vq);
		virtq_should_notify(vq);
		break;
	}
}

/**
 * setup() - Build memory and queues for one input
 * @cfg:	Configuration byte
 * @base:	last_avail_idx of RX and TX
 * @img:	Memory image
 * @len:	Its length
 *
 * Return: 0, or -1 if the rings can't be mapped (a harness bug)
 */
static int setup(uint8_t cfg, const uint16_t base[2], const uint8_t *img,
		 size_t len)
{
	struct vu_mem *m = &fx.vdev.mem;
	struct ring_layout l[2];
	unsigned i, q, num = CFG_NUM(cfg);
	uint64_t n;

	for (i = 0; i < 3; i++)
		memset(fx.buf[i], 0, r_size[i] + r_off[i]);
	memset(fx.log, 0, LOG_BYTES);

	n = MIN((uint64_t)len, R0_SIZE);
	memcpy(fx.buf[0], img, n);
	if (len > n)
		memcpy(fx.buf[1] + R1_MMAP_OFF, img + n,
		       MIN((uint64_t)len - n, R1_SIZE));

	vu_dev_init(&fx.vdev, -1);
	fx.vdev.features = BIT_ULL(VIRTIO_F_VERSION_1) |
			   BIT_ULL(VIRTIO_NET_F_MRG_RXBUF);
	m->nregions = 3;
	for (i = 0; i < 3; i++) {
		m->r[i] = (struct vu_mem_region){
			.gpa = r_gpa[i], .size = r_size[i], .qva = QVA(i),
			.mmap_offset = r_off[i],
			.mmap_addr = (uintptr_t)fx.buf[i],
			.mmap_size = r_size[i] + r_off[i],
		};
	}
	if (cfg & CFG_LOG) {
		m->log = fx.log;
		m->log_size = LOG_BYTES;
		m->log_all = true;
	}

	layout(num, l);
	for (q = 0; q < 2; q++) {
		struct virtq *vq = &fx.vdev.vq[q];

		vq->num = num;
		if (virtq_map(m, vq, QVA(0) + l[q].desc, QVA(0) + l[q].avail,
				 QVA(0) + l[q].used))
			return -1;
		vq->log_used = !!(cfg & CFG_LOG_USED);
		vq->last_avail_idx = vq->shadow_avail_idx = base[q];
		vq->used_idx = le16toh(vq->used->idx);
		vq->event_idx = !!(cfg & CFG_EVENT_IDX);
		vq->call_fd = (cfg & CFG_CALL) ? fx.call_fd : -1;
		vq->started = vq->enabled = true;
		fx.nheld[q] = 0;
	}
	return 0;
}

/**
 * LLVMFuzzerTestOneInput() - Build the rings, run the ops
 * @data:	Header, ops, memory image
 * @size:	Length of @data
 *
 * Return: 0, -1 if the input is too short to use (not added to the corpus)
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dflt[][4] = {
		{ OP_TX_POLL }, { OP_SEND, 0, 64, 0x21 }, { OP_POP, 0 },
		{ OP_PUSH, 0, 0xff, 0xff }, { OP_NOTIFY, 0 }, { OP_NOTIFY, 1 },
	};
	const uint8_t *ops;
	uint16_t base[2];
	size_t nops, i;
	uint64_t cnt;
	unsigned q;

	if (size < HDR_LEN)
		return -1;
	base[0] = (uint16_t)(data[1] | data[2] << 8);
	base[1] = (uint16_t)(data[3] | data[4] << 8);
	nops = data[5];
	if (size - HDR_LEN < nops * 4)
		nops = (size - HDR_LEN) / 4;
	ops = data + HDR_LEN;

	if (setup(data[0], base, ops + nops * 4, size - HDR_LEN - nops * 4))
		FUZZ_FAIL("rings don't fit in R0");

	if (!nops) {
		for (i = 0; i < ARRAY_SIZE(dflt); i++)
			run_op(dflt[i]);
	}
	for (i = 0; i < nops; i++)
		run_op(ops + 4 * i);

	for (q = 0; q < 2; q++) {
		const struct virtq *vq = &fx.vdev.vq[q];

		if (!vq->broken && vq->inuse > vq->num)
			FUZZ_FAIL("queue %u: %u in flight, size %u", q,
				  vq->inuse, vq->num);
	}
	if (read(fx.call_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		FUZZ_FAIL("call eventfd: %s", strerror(errno));
	return 0;
}

/* Seeds: rings as a driver fills them */

/**
 * struct img - A memory image being built: R0, then R1
 * @b:		Bytes from gpa 0
 * @len:	Highest byte written, plus one
 */
struct img {
	uint8_t b[R0_SIZE + R1_SIZE];
	size_t len;
};

/**
 * img_put() - Write bytes into a memory image
 * @im:		Image
 * @gpa:	Guest physical address, in R0 or R1
 * @p:		Bytes
 * @len:	How many
 */
static void img_put(struct img *im, uint64_t gpa, const void *p, size_t len)
{
	if (gpa + len > sizeof(im->b))
		FUZZ_FAIL("seed image too small");
	memcpy(im->b + gpa, p, len);
	im->len = MAX(im->len, gpa + len);
}

/**
 * img_le16() - Write a little-endian 16-bit ring field into an image
 * @im:		Image
 * @gpa:	Guest physical address
 * @v:		Value, host order
 */
static void img_le16(struct img *im, uint64_t gpa, uint16_t v)
{
	uint8_t b[2];

	vfe_le16_put(b, v);
	img_put(im, gpa, b, sizeof(b));
}

/**
 * img_desc() - Write a descriptor into an image
 * @im:		Image
 * @gpa:	Where: in a descriptor table or an indirect table
 * @addr:	Buffer address
 * @len:	Buffer length
 * @flags:	VRING_DESC_F_*
 * @next:	Next descriptor index
 */
static void img_desc(struct img *im, uint64_t gpa, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t d[sizeof(struct vring_desc)];

	vfe_desc_put(d, 0, addr, len, flags, next);
	img_put(im, gpa, d, sizeof(d));
}

/**
 * seed_rings() - One seed: both rings with chains posted
 * @dir:	Corpus directory
 * @name:	File name
 * @cfg:	Configuration byte
 * @kind:	0: one-descriptor chains, 1: chains of 3 across R0/R1,
 *		2: indirect tables, 3: wrap-around of the indices
 * @ops:	Ops, 4 bytes each
 * @nops:	How many
 */
static void seed_rings(const char *dir, const char *name, uint8_t cfg,
		       unsigned kind, const uint8_t (*ops)[4], size_t nops)
{
	static struct fuzz_buf f;
	static struct img im;
	unsigned num = CFG_NUM(cfg), q, i, posted = MIN(num, 4U);
	uint16_t start = kind == 3 ? 0xfffe : 0;
	struct ring_layout l[2];
	uint64_t data = ROUND_UP(layout(num, l), 64ULL);

	memset(&im, 0, sizeof(im));
	for (q = 0; q < 2; q++) {
		uint16_t flags = q == VHOST_USER_RX_QUEUE ? VRING_DESC_F_WRITE : 0;

		for (i = 0; i < posted; i++) {
			uint64_t buf = data + 256 * (4 * q + i);
			uint16_t head = (uint16_t)i;

			if (kind == 1 && 3 * i + 2 < num) {
				head = (uint16_t)(3 * i);
				img_desc(&im, l[q].desc + 16 * head, buf, 12,
					 flags | VRING_DESC_F_NEXT, head + 1);
				img_desc(&im, l[q].desc + 16 * (head + 1),
					 R1_GPA - 32, 64,
					 flags | VRING_DESC_F_NEXT, head + 2);
				img_desc(&im, l[q].desc + 16 * (head + 2),
					 R2_GPA, 100, flags, 0);
			} else if (kind == 2) {
				uint64_t tbl = R1_GPA + 64 * (4 * q + i);

				img_desc(&im, l[q].desc + 16 * i, tbl, 32,
					 VRING_DESC_F_INDIRECT, 0);
				img_desc(&im, tbl, buf, 12,
					 flags | VRING_DESC_F_NEXT, 1);
				img_desc(&im, tbl + 16, buf + 12, 128, flags, 0);
			} else {
				img_desc(&im, l[q].desc + 16 * i, buf, 200,
					 flags, 0);
			}
			img_le16(&im, l[q].avail + 4 +
				 2 * ((uint16_t)(start + i) % num), head);
			/* a frame: 12-byte virtio-net header, then Ethernet */
			if (q == VHOST_USER_TX_QUEUE)
				memset(im.b + buf + 12, 0x52, 60);
		}
		img_le16(&im, l[q].avail + 2, (uint16_t)(start + posted));
		img_le16(&im, l[q].avail + 4 + 2 * num, start);	/* used_event */
		img_le16(&im, l[q].used + 2, start);
	}

	f.len = 0;
	fb_u8(&f, cfg);
	fb_le16(&f, start);
	fb_le16(&f, start);
	fb_u8(&f, (uint8_t)nops);
	fb_put(&f, ops, 4 * nops);
	fb_put(&f, im.b, im.len);
	if (fuzz_seed_write(dir, name, f.b, f.len))
		exit(1);
}

/**
 * seeds_write() - Write the seed corpus
 * @dir:	Directory
 */
static void seeds_write(const char *dir)
{
	uint8_t pops[][4] = {
		{ OP_POP, 1 }, { OP_POP, 1 }, { OP_REWIND, 1, 1 },
		{ OP_POP, 1 }, { OP_PUSH, 1, 0, 0 }, { OP_POKE, 0, 0, 0xff },
		{ OP_POP, 0 }, { OP_PUSH, 0, 100, 0 }, { OP_NOTIFY, 0 },
		{ OP_SEND, 1, 0, 0x35 }, { OP_TX_POLL }, { OP_EMPTY, 1 },
	};
	struct ring_layout l[2];
	uint64_t poke;

	/* The guest takes one RX buffer back: avail->idx - 1 */
	layout(CFG_NUM(2), l);
	poke = l[VHOST_USER_RX_QUEUE].avail + 2;
	pops[5][1] = (uint8_t)(poke >> 8);
	pops[5][2] = (uint8_t)poke;

	seed_rings(dir, "simple", 3, 0, NULL, 0);
	seed_rings(dir, "chains-event-idx", 4 | CFG_EVENT_IDX | CFG_CALL, 1,
		   NULL, 0);
	seed_rings(dir, "indirect-logged", 3 | CFG_LOG | CFG_LOG_USED, 2,
		   NULL, 0);
	seed_rings(dir, "wrap-ops", 2 | CFG_EVENT_IDX | CFG_CALL, 3, pops,
		   ARRAY_SIZE(pops));
}

/**
 * LLVMFuzzerInitialize() - Allocate guest memory; with FUZZ_SEED_DIR, seeds
 * @argc:	Unused
 * @argv:	Unused
 *
 * Return: 0
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned i;

	(void)argc;
	(void)argv;

	fuzz_log_init();
	fuzz_seeds_or_go_on(seeds_write);
	fx.verbose = log_level() == LOG_TRACE && getenv("FUZZ_LOG");
	for (i = 0; i < 3; i++) {
		/* Exact sizes: ASan flags a byte past a region's end */
		if (posix_memalign((void **)&fx.buf[i], 64,
				   r_size[i] + r_off[i]))
			FUZZ_FAIL("out of memory");
	}
	fx.log = malloc(LOG_BYTES);
	fx.call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!fx.log || fx.call_fd < 0)
		FUZZ_FAIL("setup: %s", strerror(errno));
	return 0;
}
