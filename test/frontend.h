/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test/frontend.h - a fake vhost-user front-end: messages, memory, rings
 *
 * Shared by the hostile front-end (test/hostile.c), the unit tests
 * (test/unit/vhost_user.c, test/unit/virtio.c) and the fuzzers
 * (test/fuzz/virtio.c), so that they all write the wire and ring formats
 * the same way, the one way virtio and vhost-user define them.
 */

#ifndef TEST_FRONTEND_H
#define TEST_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user.h"

#define VFE_MAX_FDS	253		/* SCM_MAX_FD: most fds in one message */

/**
 * struct vfe_ring - The driver's view of one split ring in guest memory
 * @desc:	Descriptor table, our pointer
 * @avail:	Available ring, our pointer
 * @used:	Used ring, our pointer
 * @num:	Queue size
 * @avail_idx:	Next available index we publish (free-running)
 */
struct vfe_ring {
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	uint16_t num;
	uint16_t avail_idx;
};

int vfe_send_raw(int s, const void *buf, size_t len, const int *fds,
		 unsigned nfds);
int vfe_send_sz(int s, uint32_t req, uint32_t flags, const void *pl,
		size_t len, uint32_t size, const int *fds, unsigned nfds);
int vfe_send(int s, uint32_t req, bool need_reply, const void *pl,
	     size_t len, const int *fds, unsigned nfds);

int vfe_memfd(size_t size, unsigned seals);
struct vhost_user_mem_region_desc vfe_region(uint64_t gpa, uint64_t size,
					     uint64_t qva, uint64_t off);
size_t vfe_table_len(unsigned n);
struct vhost_user_vring_state vfe_vstate(uint32_t idx, uint32_t num);

void vfe_le16_put(void *p, uint16_t v);
void vfe_desc_put(void *table, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next);
void vfe_ring_desc(const struct vfe_ring *r, unsigned i, uint64_t addr,
		   uint32_t len, uint16_t flags, uint16_t next);
void vfe_ring_avail_idx(const struct vfe_ring *r, uint16_t idx);
void vfe_ring_push(struct vfe_ring *r, uint16_t head);
uint16_t vfe_ring_used_idx(const struct vfe_ring *r);
void vfe_ring_used_elem(const struct vfe_ring *r, uint16_t i, uint32_t *id,
			uint32_t *len);

#endif /* TEST_FRONTEND_H */
