// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for virtio.c: split virtqueue mechanics against a fake guest.
 *
 * "Guest memory" is three heap buffers exposed as three regions:
 *   R0  gpa 0x010000..0x020000  (rings live at its start)
 *   R1  gpa 0x020000..0x030000  (right after R0 in gpa, separate buffer,
 *                                 non-zero mmap_offset)
 *   R2  gpa 0x100000..0x110000  (not contiguous with R0/R1)
 * Tests write descriptors and rings exactly as a (possibly hostile) driver
 * would, little-endian, then check what the device side makes of them.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <cmocka.h>

#include "util.h"
#include "virtio.h"
#include "frontend.h"

#define R0_GPA		0x10000ULL
#define R1_GPA		0x20000ULL
#define R2_GPA		0x100000ULL
#define R_SIZE		0x10000ULL
#define R1_MMAP_OFF	0x1000ULL
#define QVA_BASE(i)	(0x7f0000000000ULL + (uint64_t)(i) * 0x100000000ULL)

#define NUM		16
#define DESC_GPA	(R0_GPA)
#define AVAIL_GPA	(R0_GPA + 0x100)
#define USED_GPA	(R0_GPA + 0x200)
#define BUF_GPA		(R0_GPA + 0x1000)	/* data buffers from here */

#define LOG_BYTES	64

static struct fixture {
	struct vu_mem m;
	struct virtq vq;
	uint8_t *buf[3];
	uint8_t log[LOG_BYTES + 16];		/* + canary area */
	struct vfe_ring ring;			/* the driver's view of it */
} f;

static uint64_t gpa_to_qva(uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < f.m.nregions; i++) {
		if (gpa >= f.m.r[i].gpa && gpa - f.m.r[i].gpa < f.m.r[i].size)
			return f.m.r[i].qva + (gpa - f.m.r[i].gpa);
	}
	fail_msg("gpa 0x%llx not in test memory", (unsigned long long)gpa);
	return 0;
}

/* Test's own pointer to guest memory, independent of vu_mem_gpa_to_va() */
static uint8_t *g2h(uint64_t gpa)
{
	if (gpa >= R0_GPA && gpa < R0_GPA + R_SIZE)
		return f.buf[0] + (gpa - R0_GPA);
	if (gpa >= R1_GPA && gpa < R1_GPA + R_SIZE)
		return f.buf[1] + R1_MMAP_OFF + (gpa - R1_GPA);
	if (gpa >= R2_GPA && gpa < R2_GPA + R_SIZE)
		return f.buf[2] + (gpa - R2_GPA);
	fail_msg("gpa 0x%llx not in test memory", (unsigned long long)gpa);
	return NULL;
}

static void put16(uint64_t gpa, uint16_t v)
{
	vfe_le16_put(g2h(gpa), v);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, g2h(gpa), sizeof(v));
	return le16toh(v);
}

static int setup(void **state)
{
	static const uint64_t gpa[3] = { R0_GPA, R1_GPA, R2_GPA };
	unsigned i;

	(void)state;
	memset(&f, 0, sizeof(f));

	for (i = 0; i < 3; i++) {
		uint64_t off = i == 1 ? R1_MMAP_OFF : 0;

		f.buf[i] = aligned_alloc(4096, R_SIZE + off);
		if (!f.buf[i])
			return -1;
		memset(f.buf[i], 0, R_SIZE + off);

		f.m.r[i].gpa = gpa[i];
		f.m.r[i].size = R_SIZE;
		f.m.r[i].qva = QVA_BASE(i);
		f.m.r[i].mmap_offset = off;
		f.m.r[i].mmap_addr = (uintptr_t)f.buf[i];
		f.m.r[i].mmap_size = R_SIZE + off;
	}
	f.m.nregions = 3;
	f.ring.desc = g2h(DESC_GPA);
	f.ring.avail = g2h(AVAIL_GPA);
	f.ring.used = g2h(USED_GPA);
	f.ring.num = NUM;

	virtq_init(&f.vq);
	f.vq.num = NUM;
	if (virtq_map(&f.m, &f.vq, gpa_to_qva(DESC_GPA),
			 gpa_to_qva(AVAIL_GPA), gpa_to_qva(USED_GPA)))
		return -1;
	f.vq.started = f.vq.enabled = true;

	return 0;
}

static int teardown(void **state)
{
	unsigned i;

	(void)state;
	if (f.vq.call_fd >= 0)
		close(f.vq.call_fd);
	for (i = 0; i < 3; i++)
		free(f.buf[i]);
	return 0;
}

/* Pop expecting a broken ring: -EIO now, and from then on */
static void expect_broken(void)
{
	struct virtq_elem e;

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), -EIO);
	assert_true(f.vq.broken);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), -EIO);
}

/* Queue set-up */

static void test_virtio_init(void **state)
{
	struct virtq vq;

	(void)state;
	memset(&vq, 0xa5, sizeof(vq));
	virtq_init(&vq);
	assert_int_equal(vq.num, 0);
	assert_null(vq.desc);
	assert_null(vq.avail);
	assert_null(vq.used);
	assert_false(vq.started);
	assert_false(vq.broken);
	assert_false(vq.event_idx);
	assert_int_equal(vq.last_avail_idx, 0);
	assert_int_equal(vq.inuse, 0);
	assert_int_equal(vq.kick_fd, -1);
	assert_int_equal(vq.call_fd, -1);
	assert_int_equal(vq.err_fd, -1);
}

static void test_virtio_map_ok(void **state)
{
	(void)state;
	assert_ptr_equal(f.vq.desc, g2h(DESC_GPA));
	assert_ptr_equal(f.vq.avail, g2h(AVAIL_GPA));
	assert_ptr_equal(f.vq.used, g2h(USED_GPA));
	assert_int_equal(f.vq.desc_gpa, DESC_GPA);
	assert_int_equal(f.vq.avail_gpa, AVAIL_GPA);
	assert_int_equal(f.vq.used_gpa, USED_GPA);

	/* Rings in the region with a mapping offset */
	virtq_init(&f.vq);
	f.vq.num = 256;
	assert_int_equal(virtq_map(&f.m, &f.vq, gpa_to_qva(R1_GPA),
				      gpa_to_qva(R1_GPA + 0x1000),
				      gpa_to_qva(R1_GPA + 0x2000)), 0);
	assert_ptr_equal(f.vq.desc, g2h(R1_GPA));
	assert_ptr_equal(f.vq.used, g2h(R1_GPA + 0x2000));
	assert_int_equal(f.vq.used_gpa, R1_GPA + 0x2000);
}

static void test_virtio_map_bad(void **state)
{
	uint64_t d = gpa_to_qva(DESC_GPA), a = gpa_to_qva(AVAIL_GPA);
	uint64_t u = gpa_to_qva(USED_GPA);
	/* used ring of 6 + 8 * 16 bytes, starting 128 bytes before R0 ends */
	uint64_t u_end = gpa_to_qva(R0_GPA + R_SIZE - 128);
	struct virtq vq;
	static const unsigned bad_num[] = { 0, 3, 24, VIRTQUEUE_MAX_SIZE * 2 };
	unsigned i;

	(void)state;
	virtq_init(&vq);
	for (i = 0; i < ARRAY_SIZE(bad_num); i++) {
		vq.num = bad_num[i];
		assert_int_equal(virtq_map(&f.m, &vq, d, a, u), -EINVAL);
	}

	vq.num = NUM;
	assert_int_equal(virtq_map(&f.m, &vq, d + 8, a, u), -EINVAL);
	assert_int_equal(virtq_map(&f.m, &vq, d, a + 1, u), -EINVAL);
	assert_int_equal(virtq_map(&f.m, &vq, d, a, u + 2), -EINVAL);
	assert_int_equal(virtq_map(&f.m, &vq, d, a, u_end), -EFAULT);
	assert_int_equal(virtq_map(&f.m, &vq, 0x1000, a, u), -EFAULT);
	assert_int_equal(virtq_map(&f.m, &vq, d, a, UINT64_MAX - 3), -EFAULT);
	/* Failure leaves the queue untouched */
	assert_null(vq.desc);
	assert_null(vq.avail);
	assert_null(vq.used);

	/* Used ring ending 2 bytes before the end of R0: fine */
	assert_int_equal(virtq_map(&f.m, &vq, d, a,
				      gpa_to_qva(R0_GPA + R_SIZE - 136)), 0);
}

/* Popping chains */

static void test_virtio_pop_not_started(void **state)
{
	struct virtq_elem e;

	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, 0, 0);
	vfe_ring_push(&f.ring, 0);
	f.vq.started = false;
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 0);
	assert_true(virtq_empty(&f.vq));
	f.vq.started = true;
	assert_false(virtq_empty(&f.vq));
	f.vq.broken = true;
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), -EIO);
	assert_int_equal(f.vq.last_avail_idx, 0);
}

static void test_virtio_pop_simple(void **state)
{
	struct virtq_elem e;

	(void)state;
	assert_true(virtq_empty(&f.vq));
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 0);

	vfe_ring_desc(&f.ring, 3, BUF_GPA, 100, VRING_DESC_F_NEXT, 7);
	vfe_ring_desc(&f.ring, 7, BUF_GPA + 0x1000, 200, VRING_DESC_F_WRITE, 0);
	vfe_ring_push(&f.ring, 3);
	assert_false(virtq_empty(&f.vq));

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.index, 3);
	assert_int_equal(e.out_num, 1);
	assert_int_equal(e.in_num, 1);
	assert_ptr_equal(e.sg[0].iov_base, g2h(BUF_GPA));
	assert_int_equal(e.sg[0].iov_len, 100);
	assert_ptr_equal(e.sg[1].iov_base, g2h(BUF_GPA + 0x1000));
	assert_int_equal(e.sg[1].iov_len, 200);
	assert_int_equal(f.vq.last_avail_idx, 1);
	assert_int_equal(f.vq.inuse, 1);

	assert_true(virtq_empty(&f.vq));
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 0);
	assert_false(f.vq.broken);
}

static void test_virtio_pop_cross_region(void **state)
{
	struct virtq_elem e;

	(void)state;
	/* R0 and R1 are adjacent in gpa, but separate buffers for us */
	vfe_ring_desc(&f.ring, 0, R1_GPA - 0x100, 0x300, VRING_DESC_F_WRITE, 0);
	vfe_ring_push(&f.ring, 0);

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.out_num, 0);
	assert_int_equal(e.in_num, 2);
	assert_ptr_equal(e.sg[0].iov_base, f.buf[0] + R_SIZE - 0x100);
	assert_int_equal(e.sg[0].iov_len, 0x100);
	assert_ptr_equal(e.sg[1].iov_base, f.buf[1] + R1_MMAP_OFF);
	assert_int_equal(e.sg[1].iov_len, 0x200);
}

static void test_virtio_pop_indirect(void **state)
{
	uint64_t t = R2_GPA;
	struct virtq_elem e;

	(void)state;
	vfe_desc_put(g2h(t + 0), 0,  BUF_GPA, 14, VRING_DESC_F_NEXT, 2);
	vfe_desc_put(g2h(t + 32), 0, BUF_GPA + 0x100, 0, VRING_DESC_F_NEXT,
		     1); /* skipped */
	vfe_desc_put(g2h(t + 16), 0, BUF_GPA + 0x200, 1500,
		     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	vfe_desc_put(g2h(t + 48), 0, R2_GPA + 0x1000, 64, VRING_DESC_F_WRITE,
		     0);
	vfe_ring_desc(&f.ring, 5, t, 4 * 16, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 5);

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.index, 5);
	assert_int_equal(e.out_num, 1);
	assert_int_equal(e.in_num, 2);
	assert_ptr_equal(e.sg[0].iov_base, g2h(BUF_GPA));
	assert_int_equal(e.sg[0].iov_len, 14);
	assert_ptr_equal(e.sg[1].iov_base, g2h(BUF_GPA + 0x200));
	assert_int_equal(e.sg[1].iov_len, 1500);
	assert_ptr_equal(e.sg[2].iov_base, g2h(R2_GPA + 0x1000));
	assert_int_equal(e.sg[2].iov_len, 64);
	assert_false(f.vq.broken);
}

static void test_virtio_pop_indirect_table_cross_region(void **state)
{
	uint64_t t = R1_GPA - 24;	/* second entry straddles R0/R1 */
	struct virtq_elem e;

	(void)state;
	vfe_desc_put(g2h(t), 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	{
		struct vring_desc d = {
			.addr = htole64(BUF_GPA + 0x100), .len = htole32(20),
			.flags = htole16(VRING_DESC_F_WRITE), .next = 0,
		};
		memcpy(g2h(t + 16), &d, 8);
		memcpy(g2h(R1_GPA), (uint8_t *)&d + 8, 8);
	}
	vfe_ring_desc(&f.ring, 0, t, 32, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.out_num, 1);
	assert_int_equal(e.in_num, 1);
	assert_ptr_equal(e.sg[1].iov_base, g2h(BUF_GPA + 0x100));
	assert_int_equal(e.sg[1].iov_len, 20);
}

static void test_virtio_pop_zero_length(void **state)
{
	struct virtq_elem e;

	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 1);
	vfe_ring_desc(&f.ring, 1, BUF_GPA + 0x10, 10, VRING_DESC_F_NEXT, 2);
	vfe_ring_desc(&f.ring, 2, 0xdead0000, 0,
		      VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	vfe_ring_desc(&f.ring, 3, BUF_GPA + 0x20, 0, VRING_DESC_F_NEXT, 4);
	vfe_ring_desc(&f.ring, 4, BUF_GPA + 0x30, 20, VRING_DESC_F_WRITE, 0);
	vfe_ring_push(&f.ring, 0);

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.out_num, 1);
	assert_int_equal(e.in_num, 1);
	assert_ptr_equal(e.sg[0].iov_base, g2h(BUF_GPA + 0x10));
	assert_ptr_equal(e.sg[1].iov_base, g2h(BUF_GPA + 0x30));
	assert_false(f.vq.broken);
}

static void test_virtio_pop_full_ring_chain(void **state)
{
	struct virtq_elem e;
	unsigned i;

	(void)state;
	/* A chain of exactly num descriptors is legal */
	for (i = 0; i < NUM; i++) {
		vfe_ring_desc(&f.ring, i, BUF_GPA + i, 1,
			      i < NUM - 1 ? VRING_DESC_F_NEXT : 0, i + 1);
	}
	vfe_ring_push(&f.ring, 0);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.out_num, NUM);
}

static void test_virtio_pop_loop(void **state)
{
	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	vfe_ring_desc(&f.ring, 1, BUF_GPA, 10, VRING_DESC_F_NEXT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_loop_zero_length(void **state)
{
	/* Zero-length descriptors add no segment: the loop bound must hold */
	(void)state;
	vfe_ring_desc(&f.ring, 4, BUF_GPA, 0, VRING_DESC_F_NEXT, 4);
	vfe_ring_push(&f.ring, 4);
	expect_broken();
}

static void test_virtio_pop_next_out_of_range(void **state)
{
	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, VRING_DESC_F_NEXT, NUM);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_head_out_of_range(void **state)
{
	(void)state;
	vfe_ring_push(&f.ring, NUM);
	expect_broken();
}

static void test_virtio_pop_addr_outside(void **state)
{
	(void)state;
	vfe_ring_desc(&f.ring, 0, 0x50000, 10, 0, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_len_past_region(void **state)
{
	/* Starts in R1, runs past its end where nothing is mapped */
	(void)state;
	vfe_ring_desc(&f.ring, 0, R1_GPA + R_SIZE - 0x10, 0x20,
		      VRING_DESC_F_WRITE, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_len_wraps(void **state)
{
	struct vu_mem *m = &f.m;

	(void)state;
	/* Even with memory mapped at the very top and at 0, no wrap-around */
	m->r[3] = m->r[2];
	m->r[3].gpa = UINT64_MAX - 0xfff;
	m->r[3].size = 0x1000;
	m->r[3].qva = QVA_BASE(3);
	m->r[4] = m->r[2];
	m->r[4].gpa = 0;
	m->r[4].size = 0x1000;
	m->r[4].qva = QVA_BASE(4);
	m->nregions = 5;

	vfe_ring_desc(&f.ring, 0, UINT64_MAX - 0xf, 0x20, 0, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_nested_indirect(void **state)
{
	(void)state;
	vfe_desc_put(g2h(R2_GPA), 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	vfe_desc_put(g2h(R2_GPA + 16), 0, R2_GPA + 0x100, 16,
		     VRING_DESC_F_INDIRECT, 0);
	vfe_desc_put(g2h(R2_GPA + 0x100), 0, BUF_GPA, 10, 0, 0);
	vfe_ring_desc(&f.ring, 0, R2_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_with_next(void **state)
{
	(void)state;
	vfe_desc_put(g2h(R2_GPA), 0, BUF_GPA, 10, 0, 0);
	vfe_ring_desc(&f.ring, 0, R2_GPA, 16,
		      VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vfe_ring_desc(&f.ring, 1, BUF_GPA, 10, VRING_DESC_F_WRITE, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_not_head(void **state)
{
	(void)state;
	vfe_desc_put(g2h(R2_GPA), 0, BUF_GPA, 10, VRING_DESC_F_WRITE, 0);
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
	vfe_ring_desc(&f.ring, 1, R2_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_len_zero(void **state)
{
	(void)state;
	vfe_ring_desc(&f.ring, 0, R2_GPA, 0, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_len_odd(void **state)
{
	(void)state;
	vfe_desc_put(g2h(R2_GPA), 0, BUF_GPA, 10, 0, 0);
	vfe_ring_desc(&f.ring, 0, R2_GPA, 17, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_outside(void **state)
{
	(void)state;
	vfe_ring_desc(&f.ring, 0, R2_GPA + R_SIZE - 16, 32,
		      VRING_DESC_F_INDIRECT, 0);
	vfe_desc_put(g2h(R2_GPA + R_SIZE - 16), 0, BUF_GPA, 10,
		     VRING_DESC_F_NEXT, 1);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_next_out_of_range(void **state)
{
	(void)state;
	vfe_desc_put(g2h(R2_GPA), 0, BUF_GPA, 10, VRING_DESC_F_NEXT, 2);
	vfe_desc_put(g2h(R2_GPA + 16), 0, BUF_GPA, 10, 0, 0);
	vfe_desc_put(g2h(R2_GPA + 32), 0, BUF_GPA, 10, 0,
		     0);	/* not in the table */
	vfe_ring_desc(&f.ring, 0, R2_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_indirect_loop(void **state)
{
	(void)state;
	vfe_desc_put(g2h(R2_GPA), 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 1);
	vfe_desc_put(g2h(R2_GPA + 16), 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 0);
	vfe_ring_desc(&f.ring, 0, R2_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_in_before_out(void **state)
{
	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10,
		      VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vfe_ring_desc(&f.ring, 1, BUF_GPA + 0x100, 10, 0, 0);
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

static void test_virtio_pop_avail_jump(void **state)
{
	struct virtq_elem e;

	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, 0, 0);
	/* Exactly num ahead is fine... */
	put16(AVAIL_GPA + 2, NUM);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	virtq_rewind(&f.vq, 1);
	/* ...num + 1 is not */
	put16(AVAIL_GPA + 2, NUM + 1);
	expect_broken();
}

static void test_virtio_pop_avail_jump_wrap(void **state)
{
	struct virtq_elem e;

	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, 0, 0);
	/* Free-running indices wrap at 2^16: 0xfffe -> 0x0002 is 4 entries */
	f.vq.last_avail_idx = 0xfffe;
	put16(AVAIL_GPA + 2, 0x0002);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(f.vq.last_avail_idx, 0xffff);
	/* Going backwards is a jump of almost 2^16 */
	put16(AVAIL_GPA + 2, 0xfff0);
	expect_broken();
}

static void test_virtio_pop_too_many_inflight(void **state)
{
	struct virtq_elem e;
	unsigned i;

	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, 0, 0);
	for (i = 0; i < NUM; i++) {
		vfe_ring_push(&f.ring, 0);
		assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	}
	assert_int_equal(f.vq.inuse, NUM);
	/* Guest claims one more while we hold all of them */
	vfe_ring_push(&f.ring, 0);
	expect_broken();
}

/* Build an indirect chain of @n one-byte out segments at R2 */
static void indirect_chain(unsigned head, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		vfe_desc_put(g2h(R2_GPA + 16 * i), 0, BUF_GPA + i, 1,
			     i < n - 1 ? VRING_DESC_F_NEXT : 0, i + 1);
	}
	vfe_ring_desc(&f.ring, head, R2_GPA, 16 * n, VRING_DESC_F_INDIRECT, 0);
}

static void test_virtio_pop_max_sg(void **state)
{
	struct virtq_elem e;

	(void)state;
	indirect_chain(2, VU_ELEM_MAX_SG);
	vfe_ring_push(&f.ring, 2);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.out_num, VU_ELEM_MAX_SG);
	assert_ptr_equal(e.sg[VU_ELEM_MAX_SG - 1].iov_base,
			 g2h(BUF_GPA + VU_ELEM_MAX_SG - 1));
	assert_int_equal(vfe_ring_used_idx(&f.ring), 0);
}

/* An oversized chain comes back empty, for the caller to return in its
 * own place in the batch: nothing is written to the used ring behind the
 * caller's back (that overwrote fills the caller hadn't flushed yet)
 */
static void test_virtio_pop_too_many_sg(void **state)
{
	struct virtq_elem e, e2;
	uint32_t id, len;

	(void)state;
	indirect_chain(2, VU_ELEM_MAX_SG + 1);
	vfe_ring_desc(&f.ring, 9, BUF_GPA, 10, 0, 0);
	vfe_ring_push(&f.ring, 2);
	vfe_ring_push(&f.ring, 9);
	put16(USED_GPA + 4 + 8 * 0, 0xeeee);

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.index, 2);
	assert_int_equal(e.out_num, 0);
	assert_int_equal(e.in_num, 0);
	assert_false(f.vq.broken);
	assert_int_equal(vfe_ring_used_idx(&f.ring), 0);	/* untouched */
	assert_int_equal(f.vq.inuse, 1);

	assert_int_equal(virtq_pop(&f.m, &f.vq, &e2), 1);
	assert_int_equal(e2.index, 9);
	assert_int_equal(e2.out_num, 1);

	/* The caller returns both, in order, in one batch */
	virtq_fill(&f.m, &f.vq, &e, 0, 0);
	virtq_fill(&f.m, &f.vq, &e2, 10, 1);
	virtq_flush(&f.m, &f.vq, 2);
	vfe_ring_used_elem(&f.ring, 0, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 0);
	vfe_ring_used_elem(&f.ring, 1, &id, &len);
	assert_int_equal(id, 9);
	assert_int_equal(len, 10);
	assert_int_equal(vfe_ring_used_idx(&f.ring), 2);
	assert_int_equal(f.vq.inuse, 0);
}

static void test_virtio_pop_too_many_sg_only(void **state)
{
	struct virtq_elem e;

	(void)state;
	indirect_chain(2, VU_ELEM_MAX_SG + 5);
	vfe_ring_push(&f.ring, 2);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.out_num + e.in_num, 0);
	assert_false(f.vq.broken);
	assert_int_equal(vfe_ring_used_idx(&f.ring), 0);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 0);
}

static void test_virtio_rewind(void **state)
{
	struct virtq_elem e;

	(void)state;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, 0, 0);
	vfe_ring_desc(&f.ring, 1, BUF_GPA + 0x10, 10, 0, 0);
	vfe_ring_push(&f.ring, 0);
	vfe_ring_push(&f.ring, 1);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.index, 1);
	assert_true(virtq_empty(&f.vq));

	virtq_rewind(&f.vq, 1);
	assert_int_equal(f.vq.last_avail_idx, 1);
	assert_int_equal(f.vq.inuse, 1);
	assert_false(virtq_empty(&f.vq));
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.index, 1);

	virtq_rewind(&f.vq, 2);
	assert_int_equal(f.vq.last_avail_idx, 0);
	assert_int_equal(f.vq.inuse, 0);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(e.index, 0);
}

/* Returning buffers */

static void test_virtio_fill_flush(void **state)
{
	struct virtq_elem e[3];
	uint32_t id, len;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++) {
		vfe_ring_desc(&f.ring, i + 4, BUF_GPA + 0x100 * i, 100,
			      VRING_DESC_F_WRITE, 0);
		vfe_ring_push(&f.ring, i + 4);
		assert_int_equal(virtq_pop(&f.m, &f.vq, &e[i]), 1);
	}
	assert_int_equal(f.vq.inuse, 3);

	virtq_fill(&f.m, &f.vq, &e[0], 60, 0);
	virtq_fill(&f.m, &f.vq, &e[2], 70, 1);
	assert_int_equal(vfe_ring_used_idx(&f.ring),
					   0);	/* not visible before flush */
	virtq_flush(&f.m, &f.vq, 2);
	assert_int_equal(vfe_ring_used_idx(&f.ring), 2);
	assert_int_equal(f.vq.used_idx, 2);
	assert_int_equal(f.vq.inuse, 1);
	vfe_ring_used_elem(&f.ring, 0, &id, &len);
	assert_int_equal(id, 4);
	assert_int_equal(len, 60);
	vfe_ring_used_elem(&f.ring, 1, &id, &len);
	assert_int_equal(id, 6);
	assert_int_equal(len, 70);

	virtq_fill(&f.m, &f.vq, &e[1], 80, 0);
	virtq_flush(&f.m, &f.vq, 1);
	vfe_ring_used_elem(&f.ring, 2, &id, &len);
	assert_int_equal(id, 5);
	assert_int_equal(len, 80);
	assert_int_equal(vfe_ring_used_idx(&f.ring), 3);
	assert_int_equal(f.vq.inuse, 0);
}

static void test_virtio_fill_flush_wrap(void **state)
{
	struct virtq_elem e = { .index = 11 };
	uint32_t id, len;

	(void)state;
	f.vq.used_idx = 0xffff;
	f.vq.inuse = 2;
	virtq_fill(&f.m, &f.vq, &e, 1, 0);	/* slot 0xffff % 16 = 15 */
	e.index = 12;
	virtq_fill(&f.m, &f.vq, &e, 2, 1);	/* slot 0 */
	virtq_flush(&f.m, &f.vq, 2);
	assert_int_equal(vfe_ring_used_idx(&f.ring), 1);
	vfe_ring_used_elem(&f.ring, 15, &id, &len);
	assert_int_equal(id, 11);
	assert_int_equal(len, 1);
	vfe_ring_used_elem(&f.ring, 0, &id, &len);
	assert_int_equal(id, 12);
	assert_int_equal(len, 2);
}

/* Notifications */

static void test_virtio_notify_no_event_idx(void **state)
{
	uint64_t cnt = 0;

	(void)state;
	put16(AVAIL_GPA, 0);
	assert_true(virtq_should_notify(&f.vq));
	put16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_should_notify(&f.vq));

	f.vq.call_fd = eventfd(0, EFD_NONBLOCK);
	assert_true(f.vq.call_fd >= 0);
	virtq_notify(&f.vq);
	assert_int_equal(read(f.vq.call_fd, &cnt, sizeof(cnt)), -1);
	put16(AVAIL_GPA, 0);
	virtq_notify(&f.vq);
	assert_int_equal(read(f.vq.call_fd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(cnt, 1);
}

static void used_event_set(uint16_t v)
{
	put16(AVAIL_GPA + 4 + 2 * NUM, v);
}

static void test_virtio_notify_event_idx(void **state)
{
	struct virtq_elem e = { .index = 0 };

	(void)state;
	f.vq.event_idx = true;
	put16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);	/* ignored now */

	/* Nothing signalled yet: always notify, then remember */
	used_event_set(100);
	assert_true(virtq_should_notify(&f.vq));
	assert_true(f.vq.signalled_used_valid);
	assert_int_equal(f.vq.signalled_used, 0);

	/* used 0 -> 1, guest wants an event at 0: crossed */
	f.vq.inuse = 10;
	used_event_set(0);
	virtq_fill(&f.m, &f.vq, &e, 1, 0);
	virtq_flush(&f.m, &f.vq, 1);
	assert_true(virtq_should_notify(&f.vq));
	assert_int_equal(f.vq.signalled_used, 1);

	/* used 1 -> 2, event still at 0: crossed before, already told */
	virtq_flush(&f.m, &f.vq, 1);
	assert_false(virtq_should_notify(&f.vq));

	/* used 2 -> 3, event at 5: not yet */
	used_event_set(5);
	virtq_flush(&f.m, &f.vq, 1);
	assert_false(virtq_should_notify(&f.vq));

	/* used 3 -> 4, event at 3: exactly crossed */
	used_event_set(3);
	virtq_flush(&f.m, &f.vq, 1);
	assert_true(virtq_should_notify(&f.vq));
	used_event_set(5);

	/* used 4 -> 6 crosses 5 */
	virtq_flush(&f.m, &f.vq, 2);
	assert_true(virtq_should_notify(&f.vq));

	/* Nothing new since: no notification even if event is behind */
	used_event_set(3);
	assert_false(virtq_should_notify(&f.vq));
	used_event_set(6);
	assert_false(virtq_should_notify(&f.vq));

	/* Event index wrap: used 0xfffe -> 0x0001 crosses 0xffff */
	f.vq.used_idx = f.vq.signalled_used = 0xfffe;
	used_event_set(0xffff);
	virtq_flush(&f.m, &f.vq, 3);
	assert_true(virtq_should_notify(&f.vq));
}

static void test_virtio_notify_signalled_wrap(void **state)
{
	(void)state;
	f.vq.event_idx = true;
	f.vq.inuse = 100;
	f.vq.used_idx = 10;
	f.vq.signalled_used = 12;
	f.vq.signalled_used_valid = true;
	used_event_set(9);	/* would say "no" if signalled_used were trusted */

	/* A flush running past signalled_used (10 -> 13) invalidates it */
	virtq_flush(&f.m, &f.vq, 3);
	assert_false(f.vq.signalled_used_valid);
	assert_true(virtq_should_notify(&f.vq));

	/* Flush that ends before signalled_used keeps it */
	f.vq.signalled_used = 20;
	f.vq.signalled_used_valid = true;
	virtq_flush(&f.m, &f.vq, 2);		/* 13 -> 15 */
	assert_true(f.vq.signalled_used_valid);
}

static void test_virtio_avail_event(void **state)
{
	struct virtq_elem e;

	(void)state;
	f.vq.event_idx = true;
	vfe_ring_desc(&f.ring, 0, BUF_GPA, 10, 0, 0);
	put16(USED_GPA + 4 + 8 * NUM, 0x5555);

	/* Even with nothing to pop, ask for a kick at our position */
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 0);
	assert_int_equal(get16(USED_GPA + 4 + 8 * NUM), 0);

	vfe_ring_push(&f.ring, 0);
	vfe_ring_push(&f.ring, 0);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(get16(USED_GPA + 4 + 8 * NUM), 1);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(get16(USED_GPA + 4 + 8 * NUM), 2);

	/* Without event index, the field is left alone */
	f.vq.event_idx = false;
	vfe_ring_push(&f.ring, 0);
	assert_int_equal(virtq_pop(&f.m, &f.vq, &e), 1);
	assert_int_equal(get16(USED_GPA + 4 + 8 * NUM), 2);
}

/* Dirty log */

static void log_enable(uint64_t size)
{
	memset(f.log, 0, sizeof(f.log));
	f.m.log = f.log;
	f.m.log_size = size;
	f.m.log_all = true;
}

static unsigned log_bits(void)
{
	unsigned i, n = 0;

	for (i = 0; i < sizeof(f.log); i++)
		n += __builtin_popcount(f.log[i]);
	return n;
}

static void test_virtio_log_used(void **state)
{
	struct virtq_elem e = { .index = 1 };
	unsigned page = USED_GPA / VHOST_LOG_PAGE;

	(void)state;
	log_enable(LOG_BYTES);
	f.vq.inuse = 1;

	/* Not logged unless the ring asked for it */
	virtq_fill(&f.m, &f.vq, &e, 1, 0);
	virtq_flush(&f.m, &f.vq, 1);
	assert_int_equal(log_bits(), 0);

	f.vq.log_used = true;
	virtq_fill(&f.m, &f.vq, &e, 1, 0);
	assert_int_equal(f.log[page / 8], 1 << (page % 8));
	assert_int_equal(log_bits(), 1);
	f.log[page / 8] = 0;
	virtq_flush(&f.m, &f.vq, 1);
	assert_int_equal(f.log[page / 8], 1 << (page % 8));
	assert_int_equal(log_bits(), 1);

	/* Log address is used_gpa as the caller set it (log_guest_addr) */
	f.log[page / 8] = 0;
	f.vq.used_idx = 0;		/* entry at used_gpa + 4 */
	f.vq.used_gpa = 0x1ff000 - 8;	/* entry straddles pages 0x1fe, 0x1ff */
	virtq_fill(&f.m, &f.vq, &e, 1, 0);
	assert_int_equal(f.log[0x1fe / 8], 0xc0);
	assert_int_equal(log_bits(), 2);

	/* Without LOG_ALL nothing is logged */
	memset(f.log, 0, sizeof(f.log));
	f.m.log_all = false;
	virtq_fill(&f.m, &f.vq, &e, 1, 0);
	assert_int_equal(log_bits(), 0);
}

static void test_virtio_log_bounds(void **state)
{
	struct virtq_elem e = { .index = 1 };

	(void)state;
	log_enable(1);		/* pages 0..7 only */

	vu_mem_log_write(&f.m, R2_GPA, 100);
	vu_mem_log_write(&f.m, 8 * VHOST_LOG_PAGE, 1);
	vu_mem_log_write(&f.m, UINT64_MAX - 10, 100);	/* wraps */
	vu_mem_log_write(&f.m, UINT64_MAX, UINT64_MAX);
	assert_int_equal(log_bits(), 0);

	/* Used ring at page 16: beyond the bitmap, silently dropped */
	f.vq.log_used = true;
	f.vq.inuse = 1;
	virtq_fill(&f.m, &f.vq, &e, 1, 0);
	virtq_flush(&f.m, &f.vq, 1);
	assert_int_equal(log_bits(), 0);

	/* Pages 6..10: only 6 and 7 fit */
	vu_mem_log_write(&f.m, 6 * VHOST_LOG_PAGE + 10, 4 * VHOST_LOG_PAGE);
	assert_int_equal(f.log[0], 0xc0);
	assert_int_equal(log_bits(), 2);

	/* From 0 to the end of the address space: whole byte, no more */
	vu_mem_log_write(&f.m, 0, UINT64_MAX);
	assert_int_equal(f.log[0], 0xff);
	assert_int_equal(log_bits(), 8);

	/* Zero length logs nothing */
	log_enable(LOG_BYTES);
	vu_mem_log_write(&f.m, 0x3000, 0);
	assert_int_equal(log_bits(), 0);
	/* Last byte of a page, and exactly one page */
	vu_mem_log_write(&f.m, 0x3fff, 1);
	assert_int_equal(f.log[0], 0x08);
	vu_mem_log_write(&f.m, 0x5000, 0x1000);
	assert_int_equal(f.log[0], 0x28);
	assert_int_equal(log_bits(), 2);
}

static void test_virtio_log_va(void **state)
{
	uint8_t outside[16];
	unsigned page = (R1_GPA + 0x10) / VHOST_LOG_PAGE;

	(void)state;
	log_enable(LOG_BYTES);
	vu_mem_log_write_va(&f.m, g2h(R1_GPA + 0x10), 8);
	assert_int_equal(f.log[page / 8], 1 << (page % 8));
	assert_int_equal(log_bits(), 1);

	/* Running past the end of R1: only R1's pages */
	memset(f.log, 0, sizeof(f.log));
	vu_mem_log_write_va(&f.m, g2h(R1_GPA + R_SIZE - 1), 0x3000);
	page = (R1_GPA + R_SIZE - 1) / VHOST_LOG_PAGE;
	assert_int_equal(f.log[page / 8], 1 << (page % 8));
	assert_int_equal(log_bits(), 1);

	/* Not guest memory */
	memset(f.log, 0, sizeof(f.log));
	vu_mem_log_write_va(&f.m, outside, sizeof(outside));
	vu_mem_log_write_va(&f.m, f.buf[1], R1_MMAP_OFF);	/* before R1's start */
	assert_int_equal(log_bits(), 0);
}

/* Address translation */

static void test_virtio_gpa_to_va_bounds(void **state)
{
	uint64_t len;

	(void)state;
	len = 16;
	assert_ptr_equal(vu_mem_gpa_to_va(&f.m, R0_GPA, &len), f.buf[0]);
	assert_int_equal(len, 16);

	len = 10;
	assert_ptr_equal(vu_mem_gpa_to_va(&f.m, R0_GPA + R_SIZE - 1, &len),
			 f.buf[0] + R_SIZE - 1);
	assert_int_equal(len, 1);

	len = UINT64_MAX;
	assert_ptr_equal(vu_mem_gpa_to_va(&f.m, R1_GPA, &len),
			 f.buf[1] + R1_MMAP_OFF);
	assert_int_equal(len, R_SIZE);

	len = 0;
	assert_ptr_equal(vu_mem_gpa_to_va(&f.m, R2_GPA + 5, &len), f.buf[2] + 5);
	assert_int_equal(len, 0);

	len = 1;
	assert_null(vu_mem_gpa_to_va(&f.m, R0_GPA - 1, &len));
	assert_null(vu_mem_gpa_to_va(&f.m, R1_GPA + R_SIZE, &len));
	assert_null(vu_mem_gpa_to_va(&f.m, 0, &len));
	assert_null(vu_mem_gpa_to_va(&f.m, UINT64_MAX, &len));

	/* Unused region slot (mmap_addr 0) and nregions are honoured */
	f.m.r[2].mmap_addr = 0;
	assert_null(vu_mem_gpa_to_va(&f.m, R2_GPA, &len));
	f.m.r[2].mmap_addr = (uintptr_t)f.buf[2];
	f.m.nregions = 2;
	assert_null(vu_mem_gpa_to_va(&f.m, R2_GPA, &len));
	f.m.nregions = 3;

	/* Front-end addresses */
	len = 0x20;
	assert_ptr_equal(vu_mem_qva_to_va(&f.m, QVA_BASE(1) + R_SIZE - 0x10, &len),
			 f.buf[1] + R1_MMAP_OFF + R_SIZE - 0x10);
	assert_int_equal(len, 0x10);
	assert_null(vu_mem_qva_to_va(&f.m, QVA_BASE(1) + R_SIZE, &len));
	assert_null(vu_mem_qva_to_va(&f.m, R0_GPA, &len));
}

static void test_virtio_gpa_to_va_top(void **state)
{
	struct vu_mem m = { .nregions = 1 };
	uint64_t len;

	(void)state;
	m.r[0].gpa = UINT64_MAX - 0xfff;
	m.r[0].size = 0x1000;
	m.r[0].qva = UINT64_MAX - 0xfff;
	m.r[0].mmap_addr = 0x40000000;

	len = UINT64_MAX;
	assert_ptr_equal(vu_mem_gpa_to_va(&m, UINT64_MAX, &len),
			 (void *)(uintptr_t)(0x40000000 + 0xfff));
	assert_int_equal(len, 1);
	len = 0x1000;
	assert_ptr_equal(vu_mem_gpa_to_va(&m, UINT64_MAX - 0xfff, &len),
			 (void *)(uintptr_t)0x40000000);
	assert_int_equal(len, 0x1000);
	len = 0x2000;
	assert_non_null(vu_mem_qva_to_va(&m, UINT64_MAX - 0x7ff, &len));
	assert_int_equal(len, 0x800);
	assert_null(vu_mem_gpa_to_va(&m, 0, &len));
	assert_null(vu_mem_gpa_to_va(&m, UINT64_MAX - 0x1000, &len));
}

/* Small deterministic PRNG (xorshift64*), so failures reproduce */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

__extension__ typedef unsigned __int128 u128;

/* Naive reference: 128-bit arithmetic cannot overflow */
static void *ref_gpa_to_va(const struct vu_mem *m, uint64_t gpa, uint64_t *len)
{
	unsigned i;

	for (i = 0; i < m->nregions; i++) {
		const struct vu_mem_region *r = &m->r[i];
		u128 end = (u128)r->gpa + r->size;

		if (r->mmap_addr && gpa >= r->gpa && (u128)gpa < end) {
			u128 avail = end - gpa;

			if ((u128)*len > avail)
				*len = (uint64_t)avail;
			return (void *)(uintptr_t)(r->mmap_addr + r->mmap_offset +
						   (gpa - r->gpa));
		}
	}
	return NULL;
}

/* Random non-overlapping regions, some adjacent, some reaching the top */
static void random_regions(struct vu_mem *m)
{
	uint64_t pos = rnd() % 4 ? rnd() >> (rnd() % 64) : 0;
	unsigned i, n = 1 + rnd() % VU_MAX_REGIONS;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		struct vu_mem_region *r = &m->r[i];
		uint64_t size = rnd() >> (rnd() % 64), gap = 0, room, last;

		if (i && rnd() % 3)		/* else adjacent to the previous */
			gap = rnd() >> (rnd() % 64);
		if (gap > UINT64_MAX - pos)
			break;
		pos += gap;

		room = UINT64_MAX - pos;	/* last possible byte - pos */
		if (!size)
			size = 1;
		if (size - 1 > room || rnd() % 8 == 0)
			size = room + 1 ? room + 1 : UINT64_MAX;

		r->gpa = pos;
		r->size = size;
		r->qva = rnd();
		r->mmap_addr = rnd() % 16 ? 0x100000000ULL * (i + 1) : 0;
		r->mmap_offset = rnd() % 0x10000;
		m->nregions = i + 1;

		last = pos + (size - 1);
		if (last == UINT64_MAX)
			break;
		pos = last + 1;
	}
}

static uint64_t random_addr(const struct vu_mem *m)
{
	const struct vu_mem_region *r;

	if (!m->nregions || rnd() % 4 == 0)
		return rnd() >> (rnd() % 64);

	r = &m->r[rnd() % m->nregions];
	switch (rnd() % 4) {
	case 0:
		return r->gpa + rnd() % 3 - 1;
	case 1:
		return r->gpa + r->size + rnd() % 3 - 1;
	case 2:
		return r->gpa + rnd() % r->size;
	default:
		return rnd();
	}
}

static void test_virtio_gpa_to_va_random(void **state)
{
	unsigned round, i;
	struct vu_mem m;

	(void)state;
	for (round = 0; round < 2000; round++) {
		random_regions(&m);
		for (i = 0; i < 200; i++) {
			uint64_t gpa = random_addr(&m);
			uint64_t len = rnd() % 2 ? rnd() >> (rnd() % 64) :
						   UINT64_MAX - rnd() % 3;
			uint64_t l1 = len, l2 = len;
			void *va = vu_mem_gpa_to_va(&m, gpa, &l1);
			void *ref = ref_gpa_to_va(&m, gpa, &l2);

			assert_ptr_equal(va, ref);
			if (ref)
				assert_int_equal(l1, l2);
		}
	}
}

/* Hostile guest: random ring contents must never hang, crash, or hand
 * out a buffer outside guest memory
 */
static bool in_guest(const void *p, size_t len)
{
	uintptr_t b = (uintptr_t)p;
	unsigned i;

	for (i = 0; i < 3; i++) {
		uintptr_t s = (uintptr_t)f.buf[i] + (i == 1 ? R1_MMAP_OFF : 0);

		if (b >= s && b - s <= R_SIZE && len <= R_SIZE - (b - s))
			return true;
	}
	return false;
}

static uint64_t random_gpa(void)
{
	static const uint64_t base[] = { R0_GPA, R1_GPA, R2_GPA };

	if (rnd() % 8 == 0)
		return rnd();
	return base[rnd() % 3] + rnd() % (R_SIZE + 0x40) - 0x20;
}

static void random_desc(uint64_t gpa, unsigned nmax)
{
	uint16_t flags = rnd() % 8;

	if (rnd() % 4 == 0)
		flags &= ~VRING_DESC_F_INDIRECT;
	vfe_desc_put(g2h(gpa), 0,
		     flags & VRING_DESC_F_INDIRECT ? R2_GPA + 16 * (rnd() % 64) :
		     random_gpa(),
		     flags & VRING_DESC_F_INDIRECT ? 16 * (rnd() % 80) + rnd() % 2 :
		     (uint32_t)(rnd() % 4 ? rnd() % 3000 : rnd()),
		     flags, rnd() % (nmax + 2));
}

static void test_virtio_pop_random(void **state)
{
	unsigned round, i, popped = 0, broken = 0;
	int level = log_level();

	(void)state;
	log_set_level(LOG_CRIT);	/* thousands of "broken" messages */
	for (round = 0; round < 3000; round++) {
		struct virtq_elem e;
		int rc;

		for (i = 0; i < NUM; i++)
			random_desc(DESC_GPA + 16 * i, NUM);
		for (i = 0; i < 80; i++)
			random_desc(R2_GPA + 16 * i, 80);
		for (i = 0; i < NUM; i++)
			put16(AVAIL_GPA + 4 + 2 * i, rnd() % (NUM + 1));
		put16(AVAIL_GPA + 2, f.vq.last_avail_idx + rnd() % (NUM + 2));

		f.vq.broken = false;
		f.vq.inuse = 0;
		rc = virtq_pop(&f.m, &f.vq, &e);
		assert_true(rc == 0 || rc == 1 || rc == -EIO);
		assert_true(rc == -EIO || !f.vq.broken);
		broken += rc == -EIO;
		if (rc != 1)
			continue;

		popped++;
		assert_true(e.index < NUM);
		assert_true(e.out_num + e.in_num <= VU_ELEM_MAX_SG);
		for (i = 0; i < e.out_num + e.in_num; i++) {
			assert_true(e.sg[i].iov_len > 0);
			assert_true(in_guest(e.sg[i].iov_base, e.sg[i].iov_len));
		}
	}
	log_set_level(level);
	fprintf(stderr, "random rings: %u popped, %u broken of %u\n",
		popped, broken, round);
	/* The mix must let chains through and trip checks, or it tests little */
	assert_true(popped > 300);
	assert_true(broken > 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
		cmocka_unit_test(test_virtio_init),
		T(test_virtio_map_ok),
		T(test_virtio_map_bad),
		T(test_virtio_pop_not_started),
		T(test_virtio_pop_simple),
		T(test_virtio_pop_cross_region),
		T(test_virtio_pop_indirect),
		T(test_virtio_pop_indirect_table_cross_region),
		T(test_virtio_pop_zero_length),
		T(test_virtio_pop_full_ring_chain),
		T(test_virtio_pop_loop),
		T(test_virtio_pop_loop_zero_length),
		T(test_virtio_pop_next_out_of_range),
		T(test_virtio_pop_head_out_of_range),
		T(test_virtio_pop_addr_outside),
		T(test_virtio_pop_len_past_region),
		T(test_virtio_pop_len_wraps),
		T(test_virtio_pop_nested_indirect),
		T(test_virtio_pop_indirect_with_next),
		T(test_virtio_pop_indirect_not_head),
		T(test_virtio_pop_indirect_len_zero),
		T(test_virtio_pop_indirect_len_odd),
		T(test_virtio_pop_indirect_outside),
		T(test_virtio_pop_indirect_next_out_of_range),
		T(test_virtio_pop_indirect_loop),
		T(test_virtio_pop_in_before_out),
		T(test_virtio_pop_avail_jump),
		T(test_virtio_pop_avail_jump_wrap),
		T(test_virtio_pop_too_many_inflight),
		T(test_virtio_pop_max_sg),
		T(test_virtio_pop_too_many_sg),
		T(test_virtio_pop_too_many_sg_only),
		T(test_virtio_rewind),
		T(test_virtio_fill_flush),
		T(test_virtio_fill_flush_wrap),
		T(test_virtio_notify_no_event_idx),
		T(test_virtio_notify_event_idx),
		T(test_virtio_notify_signalled_wrap),
		T(test_virtio_avail_event),
		T(test_virtio_log_used),
		T(test_virtio_log_bounds),
		T(test_virtio_log_va),
		T(test_virtio_gpa_to_va_bounds),
		T(test_virtio_gpa_to_va_top),
		T(test_virtio_gpa_to_va_random),
		T(test_virtio_pop_random),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
