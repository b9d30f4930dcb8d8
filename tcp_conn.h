/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_CONN_H
#define TCP_CONN_H

/* Per-connection TCP state: shared by tcp.c and tcp_migrate.c only */

#include <sys/socket.h>

#include "ctx.h"

/**
 * enum tcp_state - Where a connection is in its life
 * @CS_CLOSED:		Free entry
 * @CS_CONNECTING:	Guest sent SYN: our connect() is in progress
 * @CS_SYN_RCVD:	Connected on the host, SYN-ACK sent to the guest
 * @CS_SYN_SENT:	Accepted on the host, SYN sent to the guest
 * @CS_ESTABLISHED:	Handshake done both ways (FINs are flags)
 *
 * All but CS_CLOSED move with a migration (tcp_migrate.c): a connection
 * in CS_CONNECTING connects again from the target.
 */
enum tcp_state {
	CS_CLOSED = 0,
	CS_CONNECTING,
	CS_SYN_RCVD,
	CS_SYN_SENT,
	CS_ESTABLISHED,
	CS_COUNT
};

/**
 * tcp_state_str() - Name of a connection state, for logs and tools
 * @state:	enum tcp_state, or any byte read from a stream
 *
 * Return: its name, "?" for a value past the table
 */
static inline const char *tcp_state_str(unsigned state)
{
	static const char *const name[] = {
		"CLOSED", "CONNECTING", "SYN_RCVD", "SYN_SENT", "ESTABLISHED",
	};
	static_assert(sizeof(name) / sizeof(name[0]) == CS_COUNT, "names");

	return state < CS_COUNT ? name[state] : "?";
}

/* Connection flags */
#define CONN_GUEST_FIN		(1U << 0)	/* guest's FIN taken, SHUT_WR */
#define CONN_RDHUP		(1U << 1)	/* host peer shut down writing */
#define CONN_FIN_SENT		(1U << 2)	/* FIN sent, @seq_fin valid */
#define CONN_FIN_ACKED		(1U << 3)	/* guest acknowledged our FIN */
#define CONN_STALLED		(1U << 4)	/* guest's RX queue was full */
#define CONN_WANT_OUT		(1U << 5)	/* waiting for EPOLLOUT */
#define CONN_WS			(1U << 6)	/* window scaling agreed */
#define CONN_NO_PEEK_OFF	(1U << 7)	/* kernel lacks SO_PEEK_OFF */
#define CONN_FROZEN		(1U << 8)	/* in repair mode: hands off */

/**
 * struct tcp_conn - Per-connection state, indexed by flow index
 * @fd:			Host socket, -1 if none
 * @state:		enum tcp_state
 * @clamp_log:		Log2 of the window clamp set on @fd, 0 if none
 * @flags:		CONN_* flags
 * @retries:		Retransmissions since the last ACK progress
 * @ws_guest:		Shift for windows the guest sends (0 without CONN_WS)
 * @mss:		Largest payload we send the guest, bytes
 * @seq_to_guest:	Next sequence number we send (SND.NXT)
 * @seq_acked:		Oldest one not acknowledged by the guest (SND.UNA)
 * @seq_max:		Highest @seq_to_guest so far (retransmissions rewind)
 * @seq_fin:		Sequence number of our FIN, with CONN_FIN_SENT
 * @seq_from_guest:	Next sequence number expected from the guest
 * @wnd_from_guest:	Guest's window, bytes, scaled
 * @wnd_to_guest:	Last window we advertised, bytes, scaled
 * @ts:			Last ACK progress, or start of the current flight
 */
struct tcp_conn {
	int fd;
	uint8_t state;
	uint8_t clamp_log;
	uint16_t flags;
	uint8_t retries;
	uint8_t ws_guest;
	uint16_t mss;
	uint32_t seq_to_guest;
	uint32_t seq_acked;
	uint32_t seq_max;
	uint32_t seq_fin;
	uint32_t seq_from_guest;
	uint32_t wnd_from_guest;
	uint32_t wnd_to_guest;
	struct timespec ts;
};

struct tcp_conn *tcp_conn_at(unsigned idx);
uint32_t tcp_conn_events(const struct tcp_conn *conn);
void tcp_conn_drop(const struct ctx *c, unsigned idx);
int tcp_conn_adopt(struct ctx *c, unsigned idx);
void tcp_conn_thaw(struct ctx *c, unsigned idx);
int tcp_sock_connect(const struct sockaddr_storage *sa, socklen_t sl);

#endif /* TCP_CONN_H */
