/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_DEAF_H
#define TCP_DEAF_H

#include "ctx.h"

int tcp_deaf(struct ctx *c, const int *fds, size_t n, bool on);

#endif /* TCP_DEAF_H */
