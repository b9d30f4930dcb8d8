/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_GUEST_H
#define MIG_GUEST_H

#include "ctx.h"
#include "mig_buf.h"

int mig_guest_save(struct ctx *c, struct mig_buf *b);
int mig_guest_check(const struct ctx *c, const uint8_t *p, size_t len);
int mig_guest_load(struct ctx *c, const uint8_t *p, size_t len);

#endif /* MIG_GUEST_H */
