/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UDP_H
#define UDP_H

#include "passt.h"
#include "inany.h"

int udp_init(struct ctx *c);
int udp_tap_handler(struct ctx *c, const union inany_addr *src,
		    const union inany_addr *dst, const uint8_t *l4,
		    size_t len);
void udp_sock_handler(struct ctx *c, union evtag tag, uint32_t events);
void udp_listen_handler(struct ctx *c, union evtag tag, uint32_t events);
void udp_timer(struct ctx *c);

#endif /* UDP_H */
