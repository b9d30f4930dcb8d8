/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_REC_H
#define MIG_REC_H

/*
 * Sections made of a 4-byte big-endian count, then that many records of
 * one fixed size (MIG_SEC_UDP, MIG_SEC_ICMP): writing the count once the
 * records are in, and checking a payload's length against its count.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "mig_buf.h"

/**
 * mig_recs_begin() - Start a section of records: a count, filled in later
 * @b:		Buffer to append to
 *
 * Return: offset of the count in @b, or -ENOMEM
 */
static inline long mig_recs_begin(struct mig_buf *b)
{
	size_t at = b->len;
	__be32 be = 0;
	int rc = mig_buf_put(b, &be, sizeof(be));

	return rc ? rc : (long)at;
}

/**
 * mig_recs_end() - Fill in the count of a section of records
 * @b:		Buffer
 * @at:		From mig_recs_begin()
 * @n:		Records written
 */
static inline void mig_recs_end(struct mig_buf *b, long at, uint32_t n)
{
	__be32 be = htonl(n);

	memcpy(b->p + at, &be, sizeof(be));
}

/**
 * mig_recs() - Check a section of records: count and length
 * @p:		Payload
 * @len:	Its length, bytes
 * @size:	Size of one record, bytes
 * @max:	Most records a section may have
 *
 * Return: number of records, or -EINVAL if there are more than @max, or
 *	   @len isn't exactly the count and the records
 */
static inline long mig_recs(const uint8_t *p, size_t len, size_t size,
			    uint32_t max)
{
	uint32_t n;
	__be32 be;

	if (len < sizeof(be))
		return -EINVAL;
	memcpy(&be, p, sizeof(be));
	n = ntohl(be);
	if (n > max || len != sizeof(be) + (size_t)n * size)
		return -EINVAL;
	return n;
}

#endif /* MIG_REC_H */
