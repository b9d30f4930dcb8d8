/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_GUEST_H
#define TCP_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "inany.h"
#include "tcp.h"

int tcp_tap_handler(struct ctx *c, const union inany_addr *src,
		    const union inany_addr *dst, const uint8_t *l4,
		    size_t len);
int tcp_opts_parse(const uint8_t *opts, size_t len, struct tcp_opts *o);
void tcp_guest_batch(struct ctx *c, bool open);

#endif /* TCP_GUEST_H */
