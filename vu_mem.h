/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VU_MEM_H
#define VU_MEM_H

#include "util.h"

#define VU_MAX_REGIONS			8	/* VHOST_MEMORY_BASELINE_NREGIONS */

/**
 * struct vu_mem_region - One guest memory region mapped from the front-end
 * @gpa:	Guest physical address of the region start
 * @size:	Region size, bytes
 * @qva:	Address of the region in the front-end's (QEMU's) space
 * @mmap_offset: Offset of the region in the mapping, bytes
 * @mmap_addr:	Our mapping (start of the mmap()ed area), 0 if unused
 * @mmap_size:	Size of our mapping, bytes
 */
struct vu_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t qva;
	uint64_t mmap_offset;
	uint64_t mmap_addr;
	uint64_t mmap_size;
};

/**
 * struct vu_mem - Guest memory as seen by the back-end, plus the dirty log
 * @nregions:	Valid entries in @r
 * @r:		Regions, non-overlapping in gpa and in qva
 * @log:	Dirty log bitmap mapped from SET_LOG_BASE, NULL if none
 * @log_size:	Size of @log, bytes (one bit per 4 KiB guest page)
 * @log_all:	VHOST_F_LOG_ALL negotiated: log every write to guest memory
 */
struct vu_mem {
	unsigned nregions;
	struct vu_mem_region r[VU_MAX_REGIONS];
	uint8_t *log;
	uint64_t log_size;
	bool log_all;
};

#define VHOST_LOG_PAGE			4096

void *vu_mem_gpa_to_va(const struct vu_mem *m, uint64_t gpa, uint64_t *len);
void *vu_mem_qva_to_va(const struct vu_mem *m, uint64_t qva, uint64_t *len);
bool vu_mem_qva_to_gpa(const struct vu_mem *m, uint64_t qva, uint64_t *gpa);
bool vu_mem_va_to_qva(const struct vu_mem *m, const void *p, uint64_t *qva);
void vu_mem_log_write(struct vu_mem *m, uint64_t gpa, uint64_t len);
void vu_mem_log_write_va(struct vu_mem *m, const void *va, uint64_t len);

int vu_mem_regions_map(struct vu_mem_region *r, const int *fds, unsigned n);
void vu_mem_install(struct vu_mem *m, const struct vu_mem_region *r,
		    unsigned n);
int vu_mem_log_set(struct vu_mem *m, int fd, uint64_t size, uint64_t off);
void vu_mem_reset(struct vu_mem *m);

void vu_mem_sigbus_init(const struct vu_mem *m);
bool vu_mem_sigbus_hit(void);

#endif /* VU_MEM_H */
