/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_STREAM_H
#define MIG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define MIGRATE_SECTIONS_MAX	16	/* sections in one stream */

/**
 * struct mig_stream - A device state stream being walked, section by section
 * @p:		Stream
 * @len:	Its length, bytes
 * @off:	Offset of the next section header
 * @version:	Version of the stream, from its header
 * @min_version: Oldest reader version that can read it
 * @n:		Sections walked so far, the end marker not counted
 * @bad:	On error: offset of the first bad byte
 * @why:	On error: what is wrong there, for a log line or a message
 */
struct mig_stream {
	const uint8_t *p;
	size_t len;
	size_t off;
	uint32_t version;
	uint32_t min_version;
	unsigned n;
	size_t bad;
	char why[128];
};

/**
 * struct mig_stream_sec - One section of a stream, its CRC checked
 * @id:		Section id, MIG_SEC_*, or one we don't know
 * @len:	Payload length, bytes
 * @p:		Payload, within the stream
 * @off:	Offset of its header in the stream
 */
struct mig_stream_sec {
	uint32_t id;
	uint32_t len;
	const uint8_t *p;
	size_t off;
};

int mig_stream_start(struct mig_stream *s, const uint8_t *p, size_t len);
int mig_stream_next(struct mig_stream *s, struct mig_stream_sec *sec);

#endif /* MIG_STREAM_H */
