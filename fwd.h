/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef FWD_H
#define FWD_H

#include "ctx.h"
#include "inany.h"

/* Epoll index of a listening socket: rule index, host port */
#define FWD_REF(rule, port)	((uint32_t)(rule) << 16 | (uint16_t)(port))
#define FWD_REF_RULE(ref)	((unsigned)((ref) >> 16))
#define FWD_REF_PORT(ref)	((uint16_t)((ref) & 0xffff))
static_assert(FWD_RULES_MAX <= 65536, "rule index fits FWD_REF()");

#define FWD_ERR_LEN	96	/* fwd_ports_parse() messages */

const struct fwd_rule *fwd_rule_at(const struct fwd_ports *fwd, uint32_t ref);
uint16_t fwd_guest_port(const struct fwd_ports *fwd, uint32_t ref);
bool fwd_low_ports(const struct fwd_ports *fwd);
void fwd_rule_addr(const struct fwd_rule *r, int af, union inany_addr *a);
int fwd_rule_find(const struct fwd_ports *fwd, const union inany_addr *laddr,
		  uint16_t port);
void fwd_ephemeral(unsigned *lo, unsigned *hi);
int fwd_reuseport_first(int fd);
int fwd_sock(const struct fwd_rule *r, int type, int af, bool v6only,
	     uint16_t port);
void fwd_nat_outbound(const struct ctx *c, const union inany_addr *faddr,
		      uint16_t fport, union inany_addr *host_dst);
void fwd_nat_inbound(const struct ctx *c, const union inany_addr *host_src,
		     union inany_addr *guest_src);
void fwd_guest_addr(const struct ctx *c, int af, union inany_addr *gaddr);
int fwd_ports_parse(struct fwd_ports *fwd, const char *spec, char *err,
		    size_t errlen);

#endif /* FWD_H */
