/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_COPY_H
#define MIG_COPY_H

#include <stdbool.h>

#include "ctx.h"
#include "mig_buf.h"

void mig_copy_init(const struct ctx *c);
void mig_copy_write(const struct ctx *c, bool save, const struct mig_buf *b);

#endif /* MIG_COPY_H */
