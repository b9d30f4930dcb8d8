/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_BUF_H
#define MIG_BUF_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct mig_buf - A growable buffer for a device state stream, mmap()ed
 * @p:		Start, NULL when nothing is mapped
 * @len:	Bytes used
 * @cap:	Bytes mapped
 */
struct mig_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

void *mig_buf_reserve(struct mig_buf *b, size_t len);
int mig_buf_put(struct mig_buf *b, const void *data, size_t len);
void mig_buf_free(struct mig_buf *b);

uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif /* MIG_BUF_H */
