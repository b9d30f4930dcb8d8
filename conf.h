/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CONF_H
#define CONF_H

#include "ctx.h"

void conf(struct ctx *c, int argc, char **argv);
int conf_ports(struct fwd_ports *fwd, const char *spec, char *err,
	       size_t errlen);

#endif /* CONF_H */
