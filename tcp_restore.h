/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_RESTORE_H
#define TCP_RESTORE_H

#include "ctx.h"
#include "mig_buf.h"
#include "mig_wire.h"

int tcp_mig_check(const struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_stage(struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_check2(const struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_stage2(struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_activate(struct ctx *c, bool wait_held);
void tcp_mig_unstage(void);
bool tcp_mig_staged(void);

#endif /* TCP_RESTORE_H */
