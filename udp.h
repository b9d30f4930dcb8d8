/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UDP_H
#define UDP_H

#include "ctx.h"
#include "inany.h"
#include "mig_buf.h"

/* Event kinds (see util.h) */
enum {
	EV_UDP		= 9,	/* a flow's socket, index: its flow */
	EV_UDP_LISTEN	= 10,	/* socket of a forwarded port, index: port */
};

#define UDP_TIMEOUT_MS		180000	/* idle flows freed by udp_timer() */
#define UDP_TIMER_INTERVAL_MS	1000	/* udp_timer() period */

/**
 * struct udp_stats - Datagrams we did not pass on, by reason
 * @bad:	Malformed from the guest, or to an address or port we
 *		don't send to (multicast, broadcast, port 0)
 * @refused:	New flow refused: flow table full
 * @sock_fail:	Couldn't open or connect a socket for a new flow
 * @send_fail:	sendto() to the host side failed
 * @too_big:	Reply or forwarded datagram too big for the guest's MTU
 * @tap_fail:	The guest couldn't take the frame
 * @icmp_err:	Errors (ICMP port unreachable and co.) read off a socket
 */
struct udp_stats {
	uint64_t bad;
	uint64_t refused;
	uint64_t sock_fail;
	uint64_t send_fail;
	uint64_t too_big;
	uint64_t tap_fail;
	uint64_t icmp_err;
};

int udp_init(struct ctx *c);
int udp_tap_handler(struct ctx *c, const union inany_addr *src,
		    const union inany_addr *dst, const uint8_t *l4,
		    size_t len);
void udp_sock_handler(struct ctx *c, union evtag tag, uint32_t events);
void udp_listen_handler(struct ctx *c, union evtag tag, uint32_t events);
void udp_timer(struct ctx *c);
const struct udp_stats *udp_stats(void);
void udp_listen_start(const struct ctx *c);
void udp_listen_stop(const struct ctx *c);

int udp_mig_save(struct ctx *c, struct mig_buf *b);
int udp_mig_check(const struct ctx *c, const uint8_t *p, size_t len);
int udp_mig_stage(struct ctx *c, const uint8_t *p, size_t len);
void udp_mig_activate(struct ctx *c);
void udp_mig_timer(struct ctx *c);
void udp_mig_unstage(struct ctx *c);
void udp_mig_release(struct ctx *c);

#endif /* UDP_H */
