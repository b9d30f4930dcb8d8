/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef FWD_H
#define FWD_H

#include "ctx.h"
#include "inany.h"

bool fwd_port_forwarded(const struct fwd_ports *fwd, uint16_t host_port);
uint16_t fwd_port_to_guest(const struct fwd_ports *fwd, uint16_t host_port);
void fwd_nat_outbound(const struct ctx *c, const union inany_addr *faddr,
		      uint16_t fport, union inany_addr *host_dst);
void fwd_nat_inbound(const struct ctx *c, const union inany_addr *host_src,
		     union inany_addr *guest_src);
void fwd_guest_addr(const struct ctx *c, int af, union inany_addr *gaddr);
void fwd_bind_addr(const struct fwd_ports *fwd, int af,
		   union inany_addr *a);
int fwd_ports_parse(struct fwd_ports *fwd, const char *spec);

#endif /* FWD_H */
