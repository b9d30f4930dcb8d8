/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UDP_FLOW_H
#define UDP_FLOW_H

/* UDP flow state, shared by udp.c and udp_migrate.c only */

#include "ctx.h"
#include "inany.h"

/**
 * enum udp_mig - Where a migrated flow is in its rebuild
 * @UDP_MIG_NONE:	Running (or never migrated)
 * @UDP_MIG_STAGED:	Socket rebuilt (or none needed), out of epoll until
 *			our guest runs
 * @UDP_MIG_PENDING:	Its port is still held: no socket yet, the guest
 *			doesn't run yet
 * @UDP_MIG_RETRY:	Its port is still held, the guest runs: retried on
 *			each migration tick, since @last
 */
enum udp_mig {
	UDP_MIG_NONE = 0,
	UDP_MIG_STAGED,
	UDP_MIG_PENDING,
	UDP_MIG_RETRY,
};

/**
 * struct udp_flow - UDP state of one flow
 * @fd:		Own connected socket (guest-initiated), or -1
 * @hport:	Forwarded host port replies go out of (host-initiated), host
 *		order, or 0 for a flow with its own socket
 * @hrule:	Index of the rule in c->udp that forwards @hport
 * @dst:	Peer as the host sees it: fwd_nat_outbound() of the key's
 *		foreign address for @fd, the latest sender for @hport
 * @dport:	Port of @dst, host order
 * @last:	Last datagram either way (CLOCK_MONOTONIC)
 * @mig:	enum udp_mig
 * @laddr:	Migrated own socket: local address to bind
 * @lport:	Its local port, host order
 */
struct udp_flow {
	int fd;
	uint16_t hport;
	uint16_t hrule;
	union inany_addr dst;
	uint16_t dport;
	struct timespec last;
	uint8_t mig;
	union inany_addr laddr;
	uint16_t lport;
};

struct udp_flow *udp_flow_at(unsigned idx);
int udp_sa_to(const union sockaddr_inany *sa, union inany_addr *a,
	      uint16_t *port);
bool udp_dst_ok(const union inany_addr *a, uint16_t port);
void udp_flow_close(const struct ctx *c, unsigned idx);
int udp_sock_open(const struct udp_flow *f, bool bound);
int udp_listen_bind(const struct ctx *c);
void udp_listen_unbind(const struct ctx *c);

#endif /* UDP_FLOW_H */
