/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_MIGRATE_H
#define TCP_MIGRATE_H

#include "ctx.h"
#include "migrate.h"

#define TCP_MIG_QUEUE_MAX	(64U << 20)	/* bytes per queue we accept */

/**
 * struct mig_tcp_conn - One TCP connection in MIG_SEC_TCP, big-endian
 * @gaddr:	Flow key: guest's address (IPv4-mapped for IPv4)
 * @faddr:	Flow key: foreign address, as the guest sees it
 * @gport:	Flow key: guest's port
 * @fport:	Flow key: foreign port
 * @state:	enum tcp_state, CS_ESTABLISHED
 * @ws_guest:	Shift for the guest's windows
 * @flags:	CONN_* flags
 * @mss:	Largest payload we send the guest
 * @seq_to_guest, @seq_acked, @seq_max, @seq_fin, @seq_from_guest:
 *		Sequence state on the guest's side (struct tcp_conn)
 * @wnd_from_guest, @wnd_to_guest: Windows on the guest's side, bytes
 * @laddr:	Host socket's local address (IPv4-mapped for IPv4)
 * @raddr:	Host socket's peer address
 * @lport:	Local port
 * @rport:	Peer port
 * @snd_una:	Sequence number of the first byte of the send queue
 * @rcv_seq:	Sequence number the receive queue starts at on restore
 *		(the peer's FIN, if received, is counted before it)
 * @sndq_len:	Bytes in the send queue, following this record
 * @sndq_unsent: Of those, bytes never sent (the last ones)
 * @rcvq_len:	Bytes in the receive queue, following the send queue
 * @mss_host:	TCP_MAXSEG of the host socket
 * @snd_wscale:	Peer's window scale
 * @rcv_wscale:	Our window scale
 * @opts:	TCPI_OPT_* options agreed with the peer
 * @fin:	MIG_TCP_FIN_* flags
 * @timestamp:	TCP_TIMESTAMP of the host socket
 * @snd_wl1, @snd_wnd, @max_window, @rcv_wnd, @rcv_wup:
 *		struct tcp_repair_window of the host socket
 */
struct mig_tcp_conn {
	uint8_t gaddr[16];
	uint8_t faddr[16];
	__be16 gport;
	__be16 fport;
	uint8_t state;
	uint8_t ws_guest;
	__be16 flags;
	__be16 mss;
	__be16 pad;
	__be32 seq_to_guest;
	__be32 seq_acked;
	__be32 seq_max;
	__be32 seq_fin;
	__be32 seq_from_guest;
	__be32 wnd_from_guest;
	__be32 wnd_to_guest;
	uint8_t laddr[16];
	uint8_t raddr[16];
	__be16 lport;
	__be16 rport;
	__be32 snd_una;
	__be32 rcv_seq;
	__be32 sndq_len;
	__be32 sndq_unsent;
	__be32 rcvq_len;
	__be32 mss_host;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t opts;
	uint8_t fin;
	__be32 timestamp;
	__be32 snd_wl1;
	__be32 snd_wnd;
	__be32 max_window;
	__be32 rcv_wnd;
	__be32 rcv_wup;
} __attribute__((packed));
static_assert(sizeof(struct mig_tcp_conn) == 160, "wire size");

#define MIG_TCP_FIN_SENT	(1U << 0)	/* we shut down writing */
#define MIG_TCP_FIN_RCVD	(1U << 1)	/* the peer did */
#define MIG_TCP_CLOSED		(1U << 2)	/* host side closed both ways,
						 * data left for the guest: no
						 * addresses, no send queue */

void tcp_mig_freeze(struct ctx *c);
int tcp_mig_save(struct ctx *c, struct mig_buf *b);
void tcp_mig_release(struct ctx *c);
void tcp_mig_source_done(struct ctx *c, bool ok);
void tcp_mig_unguard(void);
int tcp_mig_check(const struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_load(struct ctx *c, const uint8_t *p, size_t len);

#endif /* TCP_MIGRATE_H */
