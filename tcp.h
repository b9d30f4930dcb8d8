/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_H
#define TCP_H

#include "passt.h"
#include "inany.h"

#define TCP_TIMER_INTERVAL_MS	100	/* tcp_timer() period */

int tcp_init(struct ctx *c);
int tcp_tap_handler(struct ctx *c, const union inany_addr *src,
		    const union inany_addr *dst, const uint8_t *l4,
		    size_t len);
void tcp_sock_handler(struct ctx *c, union evtag tag, uint32_t events);
void tcp_listen_handler(struct ctx *c, union evtag tag, uint32_t events);
void tcp_timer(struct ctx *c);
void tcp_rx_ready(struct ctx *c);

#endif /* TCP_H */
