/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef ISOLATION_H
#define ISOLATION_H

#include "ctx.h"

#define ISOLATE_RUNAS_DEFAULT	"nobody"

#define ISOLATE_FILES_SPARE	1024	/* files beyond one per flow */

void isolate_files(void);
void isolate_user(const struct ctx *c);
void isolate(const struct ctx *c);

#endif /* ISOLATION_H */
