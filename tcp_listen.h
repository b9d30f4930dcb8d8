/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_LISTEN_H
#define TCP_LISTEN_H

#include "ctx.h"

/* Event kind (see util.h): a listening socket, index: FWD_REF(rule, port) */
enum { EV_TCP_LISTEN = 8 };

int tcp_listen_init(const struct ctx *c);
void tcp_listen_start(const struct ctx *c);
void tcp_listen_stop(const struct ctx *c);
void tcp_listen_yield(const struct ctx *c);
typedef bool (*tcp_listen_take_t)(struct ctx *c, union evtag tag,
				  uint32_t events);
void tcp_listen_hand_over(struct ctx *c, tcp_listen_take_t take);

#endif /* TCP_LISTEN_H */
