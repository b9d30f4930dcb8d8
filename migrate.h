/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIGRATE_H
#define MIGRATE_H

/*
 * The device state stream, all integers big-endian (doc/migration.md has
 * the whole picture):
 *
 *   offset  size  field
 *   0       8     magic, MIGRATE_MAGIC
 *   8       4     version of this stream
 *   12      4     oldest version of a reader that can read it
 *   16      ...   sections, each:
 *                   0    4    id (MIG_SEC_*), never reused
 *                   4    4    payload length, bytes (at most MIGRATE_SEC_MAX)
 *                   8    len  payload
 *                   8+len 4   CRC32C (Castagnoli) of id, length and payload
 *                 the last one is MIG_SEC_END, with no payload
 *
 * A reader accepts a stream whose oldest readable version is at most its
 * own version, reads it with its table for min(stream version, own
 * version), skips sections it has no entry for (after checking their
 * CRC), and refuses a stream without MIG_SEC_END, or with bytes after it.
 */

#include "ctx.h"
#include "migrate_ev.h"

#define MIGRATE_MAGIC		0x7061737374766d73ULL	/* "passtvms" */
#define MIGRATE_VERSION		1	/* what we write */
#define MIGRATE_MIN_VERSION	1	/* oldest reader of what we write */
#define MIGRATE_STREAM_MAX	(1ULL << 30)	/* largest stream we read */
#define MIGRATE_SEC_MAX		(MIGRATE_STREAM_MAX - 64)

/**
 * struct mig_hdr - Stream header
 * @magic:	MIGRATE_MAGIC
 * @version:	Version of the stream
 * @min_version: Oldest version of a reader that copes with it
 */
struct mig_hdr {
	__be64 magic;
	__be32 version;
	__be32 min_version;
} __attribute__((packed));
static_assert(sizeof(struct mig_hdr) == 16, "wire size");

/**
 * struct mig_sec_hdr - Section header, followed by payload and CRC32C
 * @id:		Section id, MIG_SEC_*
 * @len:	Payload length, bytes
 */
struct mig_sec_hdr {
	__be32 id;
	__be32 len;
} __attribute__((packed));
static_assert(sizeof(struct mig_sec_hdr) == 8, "wire size");

#define MIG_SEC_TRAILER		4	/* __be32 CRC32C after the payload */

/* Section ids: never reuse a number */
enum mig_sec_id {
	MIG_SEC_END = 0,	/* last section, no payload */
	MIG_SEC_GUEST = 1,	/* struct mig_guest */
	MIG_SEC_TCP = 2,	/* count, then struct mig_tcp_conn + queues */
};

/**
 * struct mig_guest - What we learnt about the guest, and its lease
 * @mac:	Guest's MAC address
 * @mac_set:	1 if @mac is known (seen or given with -M), else 0
 * @v4, @v6:	1 if IPv4, IPv6 were enabled on the source
 * @prefix4:	Prefix length of @addr4
 * @addr4:	IPv4 address leased to the guest (DHCP)
 * @addr4_seen:	IPv4 source address last seen from the guest
 * @prefix6:	Prefix length of @addr6
 * @addr6:	IPv6 address leased to the guest (DHCPv6)
 * @addr6_seen:	Global IPv6 source address last seen from the guest
 * @addr6_ll_seen: Link-local IPv6 source address last seen
 */
struct mig_guest {
	uint8_t mac[6];
	uint8_t mac_set;
	uint8_t v4;
	uint8_t v6;
	uint8_t prefix4;
	uint8_t prefix6;
	uint8_t pad;
	uint8_t addr4[4];
	uint8_t addr4_seen[4];
	uint8_t addr6[16];
	uint8_t addr6_seen[16];
	uint8_t addr6_ll_seen[16];
} __attribute__((packed));
static_assert(sizeof(struct mig_guest) == 68, "wire size");

/**
 * struct mig_buf - A growable buffer, mapped with mmap()
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

/**
 * struct mig_section - How one section is written and read
 * @id:		Section id
 * @name:	For logs
 * @save:	Source: append the payload to a buffer; 0 or -errno
 * @check:	Target: validate a payload without touching any state;
 *		0 or -errno (the stream is refused)
 * @load:	Target: apply a checked payload; 0 or -errno (logged: the
 *		transfer fails, what was applied stays)
 */
struct mig_section {
	enum mig_sec_id id;
	const char *name;
	int (*save)(struct ctx *c, struct mig_buf *b);
	int (*check)(const struct ctx *c, const uint8_t *p, size_t len);
	int (*load)(struct ctx *c, const uint8_t *p, size_t len);
};

/**
 * struct mig_sec_ref - A section found in a stream being read
 * @sec:	Its table entry, NULL if we skip it
 * @p:		Payload, within the stream buffer
 * @len:	Payload length
 */
struct mig_sec_ref {
	const struct mig_section *sec;
	const uint8_t *p;
	size_t len;
};

#define MIGRATE_SECTIONS_MAX	16	/* sections in one stream */

int migrate_parse(const struct ctx *c, const uint8_t *p, size_t len,
		  struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX]);
int migrate_build(struct ctx *c, struct mig_buf *b);
int migrate_apply(struct ctx *c, const struct mig_sec_ref *refs);

extern const struct vu_devstate_ops migrate_devstate_ops;
void migrate_init(struct ctx *c);
void migrate_handler(struct ctx *c, uint32_t events);
bool migrate_source_done(const struct ctx *c);

#endif /* MIGRATE_H */
