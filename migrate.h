/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "ctx.h"
#include "vu_dev.h"
#include "mig_buf.h"
#include "mig_wire.h"
#include "mig_stream.h"

/**
 * struct mig_section - How one section is written and read
 * @id:		Section id
 * @name:	For logs
 * @save:	Source: append the payload to a buffer; 0 or -errno.  NULL
 *		for a layout read from older streams, never written
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

enum {
	EV_DEVSTATE	= 4,	/* DEVICE_STATE pipe from the front-end */
};

int migrate_parse(const struct ctx *c, const uint8_t *p, size_t len,
		  struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX]);
int migrate_build(struct ctx *c, struct mig_buf *b);
const struct mig_section *migrate_section(uint32_t version, uint32_t id);
int migrate_apply(struct ctx *c, const struct mig_sec_ref *refs);

extern const struct vu_devstate_ops migrate_devstate_ops;
void migrate_init(struct ctx *c);
void migrate_handler(struct ctx *c, uint32_t events);
bool migrate_source_done(const struct ctx *c);
void migrate_guest_runs(struct ctx *c);
void migrate_timer(struct ctx *c);
void migrate_answered(struct ctx *c);

#endif /* MIGRATE_H */
