/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef ICMP_H
#define ICMP_H

#include "ctx.h"
#include "inany.h"

/* Event kind (see util.h): a ping socket, index: its ICMP flow */
enum { EV_ICMP = 5 };

#define ICMP_FLOWS		128	/* echo flows tracked at once */
#define ICMP_TIMEOUT_MS		60000	/* idle flows closed after this */

int icmp_tap_handler(struct ctx *c, const union inany_addr *src,
		     const union inany_addr *dst, const uint8_t *msg,
		     size_t len);
void icmp_sock_handler(struct ctx *c, union evtag tag, uint32_t events);
void icmp_timer(struct ctx *c);

#endif /* ICMP_H */
