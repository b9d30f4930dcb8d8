/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef IO_H
#define IO_H

#include <stddef.h>

int write_all(int fd, const void *buf, size_t len);

#endif /* IO_H */
