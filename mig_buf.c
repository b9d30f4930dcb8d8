// SPDX-License-Identifier: GPL-2.0-or-later
/* mig_buf.c - Buffers and checksums of device state streams
 *
 * DOC: Theory of operation
 *
 * A stream is built and read whole, in one buffer that grows by doubling
 * (mmap(), then mremap()), up to MIGRATE_STREAM_MAX: a larger stream is
 * refused as it is written or read, before it can take the memory.
 * Sections carry a CRC32C, computed here.  Nothing in this file knows
 * what a section holds: the stream's layout is in mig_wire.h.
 */

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "mig_buf.h"
#include "mig_wire.h"

#define MIG_BUF_MIN		(1 << 16)	/* first mapping */

/**
 * mig_buf_reserve() - Make room at the end of a buffer
 * @b:		Buffer
 * @len:	Bytes wanted
 *
 * Return: pointer to @len writable bytes at b->p + b->len (not yet counted
 *	   in b->len), NULL if the stream would grow past MIGRATE_STREAM_MAX
 *	   or memory is short
 *
 * #syscalls mmap mremap
 */
void *mig_buf_reserve(struct mig_buf *b, size_t len)
{
	size_t cap = b->cap ? b->cap : MIG_BUF_MIN;
	void *p;

	if (len > MIGRATE_STREAM_MAX || b->len > MIGRATE_STREAM_MAX - len)
		return NULL;
	if (b->len + len <= b->cap)
		return b->p + b->len;

	while (cap < b->len + len)
		cap *= 2;
	if (b->p)
		p = mremap(b->p, b->cap, cap, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	b->p = p;
	b->cap = cap;
	return b->p + b->len;
}

/**
 * mig_buf_put() - Append bytes to a buffer
 * @b:		Buffer
 * @data:	Bytes
 * @len:	How many
 *
 * Return: 0, -ENOMEM
 */
int mig_buf_put(struct mig_buf *b, const void *data, size_t len)
{
	void *p = mig_buf_reserve(b, len);

	if (!p)
		return -ENOMEM;
	memcpy(p, data, len);
	b->len += len;
	return 0;
}

/**
 * mig_buf_free() - Unmap a buffer
 * @b:		Buffer
 *
 * #syscalls munmap
 */
void mig_buf_free(struct mig_buf *b)
{
	if (b->p)
		munmap(b->p, b->cap);
	memset(b, 0, sizeof(*b));
}

/**
 * crc32c() - CRC32C (Castagnoli, RFC 3720, B.4), reflected, bitwise by
 *	      nibble with a 16-entry table
 * @crc:	CRC so far, 0 to start
 * @data:	Bytes
 * @len:	How many
 *
 * Return: CRC including @data
 */
uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	static const uint32_t t[16] = {
		0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1,
		0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
		0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
		0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
	};
	const uint8_t *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ t[crc & 0xf];
		crc = (crc >> 4) ^ t[crc & 0xf];
	}
	return ~crc;
}
