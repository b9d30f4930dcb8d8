/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX		255	/* RFC 1035, 3.1: encoded, bytes */
#define DNS_LABEL_MAX		63	/* RFC 1035, 3.1: bytes */

int dns_name_encode(const char *name, uint8_t *out, size_t size);

#endif /* DNS_H */
