/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_MIGRATE_H
#define TCP_MIGRATE_H

#include "ctx.h"
#include "mig_wire.h"
#include "mig_buf.h"

int tcp_mig_freeze(struct ctx *c);
int tcp_mig_save(struct ctx *c, struct mig_buf *b);
void tcp_mig_release(struct ctx *c);
void tcp_mig_thaw(struct ctx *c);
void tcp_mig_timer(struct ctx *c);
void tcp_mig_names_prepare(void);

#endif /* TCP_MIGRATE_H */
