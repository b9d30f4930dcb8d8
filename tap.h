/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TAP_H
#define TAP_H

#include "passt.h"

void tap_handler(struct ctx *c, const uint8_t *frame, size_t len);
int tap_send(struct ctx *c, const void *frame, size_t len);
int tap_send_ip4(struct ctx *c, struct in_addr src, struct in_addr dst,
		 uint8_t proto, const void *payload, size_t len);

#endif /* TAP_H */
