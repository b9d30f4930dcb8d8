// SPDX-License-Identifier: GPL-2.0-or-later
/* mig_stream.c - Walking the frame of a device state stream
 *
 * DOC: Theory of operation
 *
 * A stream (mig_wire.h, doc/migration.md) is a header, then sections, each
 * an id, a length, a payload and a CRC32C, ended by an end marker with
 * nothing after it.  This file checks that frame, and nothing a section
 * holds: mig_stream_start() the header, mig_stream_next() one section at a
 * time.  The daemon's reader (migrate_parse()) and the decoder of saved
 * streams (mig_decode.c, passt-ctl decode) both walk streams with it, so
 * they refuse the same streams at the same byte.
 *
 * Bad input: every length is checked against the bytes left before it is
 * used.  A failure says where, in @bad, and what, in @why: the first
 * byte of a magic that differs, the version field, the length field that
 * runs past the end, the end of a stream cut in a section header, or the
 * start of a section whose CRC doesn't match (any of its bytes may be the
 * bad one).  Nothing is logged here: callers say it their own way.
 */

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mig_stream.h"
#include "mig_buf.h"
#include "mig_wire.h"
#include "util.h"

/**
 * mig_stream_bad() - Note where a stream goes wrong, and why
 * @s:		Stream
 * @bad:	Offset of the first bad byte
 * @fmt:	What is wrong, printf() format
 *
 * Return: -EINVAL
 */
static PRINTF(3, 4) int mig_stream_bad(struct mig_stream *s, size_t bad,
				       const char *fmt, ...)
{
	va_list ap;

	s->bad = bad;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/**
 * mig_stream_start() - Check a stream's header, ready to walk its sections
 * @s:		Stream, set
 * @p:		Bytes
 * @len:	How many
 *
 * Return: 0, -EINVAL if it's not a stream of ours, -ENOTSUP if it needs a
 *	   reader newer than MIGRATE_VERSION; @s->bad and @s->why say why
 */
int mig_stream_start(struct mig_stream *s, const uint8_t *p, size_t len)
{
	const uint64_t magic = htobe64(MIGRATE_MAGIC);
	const uint8_t *m = (const uint8_t *)&magic;
	struct mig_hdr h;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->len = len;
	s->off = sizeof(h);

	for (i = 0; i < sizeof(magic) && i < len; i++) {
		if (p[i] != m[i])
			return mig_stream_bad(s, i, "not a passt state stream "
					      "(bad magic)");
	}
	if (len < sizeof(h))
		return mig_stream_bad(s, len, "stream truncated in its header "
				      "(%zu of %zu bytes)", len, sizeof(h));

	memcpy(&h, p, sizeof(h));
	s->version = ntohl(h.version);
	s->min_version = ntohl(h.min_version);
	if (!s->version)
		return mig_stream_bad(s, offsetof(struct mig_hdr, version),
				      "bad stream version 0");
	if (!s->min_version || s->min_version > s->version)
		return mig_stream_bad(s, offsetof(struct mig_hdr, min_version),
				      "bad stream version %" PRIu32
				      " (oldest reader %" PRIu32 ")",
				      s->version, s->min_version);
	if (s->min_version > MIGRATE_VERSION) {
		mig_stream_bad(s, offsetof(struct mig_hdr, min_version),
			       "stream version %" PRIu32 " needs a reader of "
			       "version %" PRIu32 ", we are %u", s->version,
			       s->min_version, MIGRATE_VERSION);
		return -ENOTSUP;
	}
	return 0;
}

/**
 * mig_stream_end() - Check the end marker: no payload, nothing after it
 * @s:		Stream, @s->off at the marker
 * @slen:	Its payload length
 *
 * Return: 0, -EINVAL
 */
static int mig_stream_end(struct mig_stream *s, uint32_t slen)
{
	size_t next = s->off + sizeof(struct mig_sec_hdr) + slen +
		      MIG_SEC_TRAILER;

	if (slen)
		return mig_stream_bad(s, s->off + offsetof(struct mig_sec_hdr,
							   len),
				      "end marker with a payload: %" PRIu32
				      " bytes after the end marker", slen);
	if (next != s->len)
		return mig_stream_bad(s, next, "%zu bytes after the end marker",
				      s->len - next);
	s->off = next;
	return 0;
}

/**
 * mig_stream_next() - Walk to the next section, checking its frame and CRC
 * @s:		Stream, from mig_stream_start()
 * @sec:	Section found, set if we return 1
 *
 * Return: 1 for a section, 0 at a valid end marker (the stream is over),
 *	   -EINVAL if the stream is cut short, a length runs past its end, a
 *	   CRC doesn't match, the end marker is wrong, or there are more than
 *	   MIGRATE_SECTIONS_MAX - 1 sections; @s->bad and @s->why say why
 */
int mig_stream_next(struct mig_stream *s, struct mig_stream_sec *sec)
{
	const size_t frame = sizeof(struct mig_sec_hdr) + MIG_SEC_TRAILER;
	struct mig_sec_hdr h;
	uint32_t id, slen, crc;
	__be32 be;

	if (s->len - s->off < frame)
		return mig_stream_bad(s, s->len, "stream truncated in the "
				      "section header at byte %zu", s->off);
	memcpy(&h, s->p + s->off, sizeof(h));
	id = ntohl(h.id);
	slen = ntohl(h.len);
	if (slen > s->len - s->off - frame)
		return mig_stream_bad(s, s->off + offsetof(struct mig_sec_hdr,
							   len),
				      "section %" PRIu32 ": length %" PRIu32
				      " past the end (%zu bytes left)", id,
				      slen, s->len - s->off - frame);

	memcpy(&be, s->p + s->off + sizeof(h) + slen, sizeof(be));
	crc = crc32c(0, s->p + s->off, sizeof(h) + slen);
	if (crc != ntohl(be))
		return mig_stream_bad(s, s->off, "section %" PRIu32 ": bad CRC"
				      " (0x%08" PRIx32 ", computed 0x%08" PRIx32
				      ")", id, ntohl(be), crc);

	if (id == MIG_SEC_END)
		return mig_stream_end(s, slen);
	if (s->n == MIGRATE_SECTIONS_MAX - 1)
		return mig_stream_bad(s, s->off, "more than %u sections",
				      MIGRATE_SECTIONS_MAX - 1);

	sec->id = id;
	sec->len = slen;
	sec->p = s->p + s->off + sizeof(h);
	sec->off = s->off;
	s->off += frame + slen;
	s->n++;
	return 1;
}
