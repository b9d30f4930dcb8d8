/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef ICMP_H
#define ICMP_H

#include "ctx.h"
#include "inany.h"
#include "mig_buf.h"

/* Event kind (see util.h): a ping socket, index: its ICMP flow */
enum { EV_ICMP = 5 };

#define ICMP_FLOWS		128	/* echo flows tracked at once */
#define ICMP_TIMEOUT_MS		60000	/* idle flows closed after this */

int icmp_tap_handler(struct ctx *c, const union inany_addr *src,
		     const union inany_addr *dst, const uint8_t *msg,
		     size_t len);
void icmp_sock_handler(struct ctx *c, union evtag tag, uint32_t events);
void icmp_timer(struct ctx *c);

int icmp_mig_save(struct ctx *c, struct mig_buf *b);
int icmp_mig_check(const struct ctx *c, const uint8_t *p, size_t len);
int icmp_mig_stage(struct ctx *c, const uint8_t *p, size_t len);
void icmp_mig_activate(struct ctx *c);
void icmp_mig_timer(struct ctx *c);
void icmp_mig_unstage(struct ctx *c);
void icmp_mig_release(struct ctx *c);

#endif /* ICMP_H */
