/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcp_internal.h - What tcp.c lends tcp_guest.c, and nobody else
 *
 * tcp_guest.c handles segments from the guest; what they make us do (send
 * a segment, open or close a connection, move data to the guest) is
 * tcp.c's.  Calls go one way: tcp_guest.c into tcp.c.
 */
#ifndef TCP_INTERNAL_H
#define TCP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "flow.h"
#include "tcp.h"
#include "tcp_conn.h"

/**
 * struct tcp_seg - A segment from the guest, parsed
 * @seq:	Sequence number, host order
 * @ack:	Acknowledgement number, host order
 * @flags:	TCP_F_* flags
 * @wnd:	Window field, host order, unscaled
 * @data:	Payload, within the frame
 * @len:	Payload length, bytes
 * @opts:	Options we use
 */
struct tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *data;
	size_t len;
	struct tcp_opts opts;
};

struct tcp_stats *tcp_stats_rw(void);
int tcp_discard(const struct tcp_conn *conn, uint32_t len);
void tcp_send_ack(struct ctx *c, unsigned idx);
void tcp_want_out(const struct ctx *c, unsigned idx, bool on);
void tcp_established(const struct ctx *c, unsigned idx);
int tcp_data_to_guest(struct ctx *c, unsigned idx);
void tcp_conn_close(const struct ctx *c, unsigned idx, bool reset);
int tcp_send_ctl(struct ctx *c, unsigned idx, uint8_t flags, uint32_t seq);
void tcp_rst_reply(struct ctx *c, const struct flow_key *key,
		   const struct tcp_seg *seg);
void tcp_guest_opts(const struct ctx *c, unsigned idx,
		    const struct tcp_opts *opts);
void tcp_conn_reset(struct ctx *c, unsigned idx);
int tcp_conn_outbound(struct ctx *c, const struct flow_key *key,
		      const struct tcp_seg *seg);

#endif /* TCP_INTERNAL_H */
