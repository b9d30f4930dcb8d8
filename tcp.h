/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_H
#define TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "flow.h"
#include "inany.h"
#include "tcp_conn.h"

/* Event kind (see util.h): a connected socket, index: its flow */
enum { EV_TCP = 7 };

#define TCP_TIMER_INTERVAL_MS	100	/* tcp_timer() period */

int tcp_init(struct ctx *c);
void tcp_sock_handler(struct ctx *c, union evtag tag, uint32_t events);
bool tcp_listen_handler(struct ctx *c, union evtag tag, uint32_t events);
void tcp_timer(struct ctx *c);
void tcp_rx_ready(struct ctx *c);

/**
 * struct tcp_hdr - TCP header without options (RFC 9293, 3.1)
 * @sport:	Source port, network order
 * @dport:	Destination port, network order
 * @seq:	Sequence number, network order
 * @ack:	Acknowledgement number, network order
 * @doff:	Data offset in 32-bit words, high nibble; low nibble reserved
 * @flags:	TCP_F_* flags
 * @wnd:	Window, network order, scaled unless SYN is set
 * @csum:	Checksum with the pseudo-header
 * @urg:	Urgent pointer (we never send urgent data)
 */
struct tcp_hdr {
	__be16 sport;
	__be16 dport;
	__be32 seq;
	__be32 ack;
	uint8_t doff;
	uint8_t flags;
	__be16 wnd;
	__be16 csum;
	__be16 urg;
} __attribute__((packed));
static_assert(sizeof(struct tcp_hdr) == 20, "wire size");

#define TCP_F_FIN		0x01
#define TCP_F_SYN		0x02
#define TCP_F_RST		0x04
#define TCP_F_PSH		0x08
#define TCP_F_ACK		0x10
#define TCP_F_URG		0x20

#define TCP_OPT_EOL		0
#define TCP_OPT_NOP		1
#define TCP_OPT_MSS		2	/* length 4 */
#define TCP_OPT_WS		3	/* length 3 */
#define TCP_WS_MAX		14	/* RFC 7323, 2.3 */
#define TCP_MSS_MIN		88	/* smaller MSS options are raised to it */

/**
 * struct tcp_opts - What we use of a segment's options
 * @mss:	Maximum segment size, bytes, 0 if absent
 * @ws:		Window scale shift (clamped to TCP_WS_MAX), -1 if absent
 */
struct tcp_opts {
	unsigned mss;
	int ws;
};

/**
 * struct tcp_stats - Segments from the guest we did not act on, and more
 * @bad_hdr:	Header too short, or data offset past the segment
 * @bad_opts:	Malformed options (SYN handled with defaults)
 * @no_flow:	Not a SYN, for no flow: answered with RST
 * @syn_full:	SYN refused (RST) because the flow table was full
 * @syn_err:	SYN refused (RST): socket or connect failed at once
 * @out_of_wnd:	Data outside the window: dropped, duplicate ACK
 * @bad_ack:	ACK for data we never sent: dropped, duplicate ACK
 * @retrans:	Retransmissions to the guest (timeouts)
 * @gave_up:	Connections reset after too many retransmissions
 */
struct tcp_stats {
	uint64_t bad_hdr;
	uint64_t bad_opts;
	uint64_t no_flow;
	uint64_t syn_full;
	uint64_t syn_err;
	uint64_t out_of_wnd;
	uint64_t bad_ack;
	uint64_t retrans;
	uint64_t gave_up;
};

const struct tcp_stats *tcp_stats(void);

/*
 * For tcp_guest.c, above us: what a segment from the guest makes us do.
 * Calls go from there to here only.
 */

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

#endif /* TCP_H */
