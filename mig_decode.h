/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_DECODE_H
#define MIG_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mig_stream.h"

int mig_decode(const uint8_t *p, size_t len, FILE *out, struct mig_stream *s);

#endif /* MIG_DECODE_H */
