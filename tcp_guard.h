/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_GUARD_H
#define TCP_GUARD_H

#include <sys/socket.h>

#include "ctx.h"

void tcp_guard_add(struct ctx *c, int fd, const struct sockaddr *local,
		   socklen_t len);
void tcp_guard_clear(void);
void tcp_guard_prepare(struct ctx *c);
void tcp_guard_unprepare(void);

#endif /* TCP_GUARD_H */
