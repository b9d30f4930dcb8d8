/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef REPAIR_H
#define REPAIR_H

/* Shared with passt-repair.c, which links no daemon object: the protocol
 * constants below need nothing but the C library.
 *
 * Wire format (UNIX stream socket, see doc/repair.md), one exchange at a
 * time:
 *
 *   passt -> helper, request:	offset 0, 1 byte: command, int8_t
 *				(REPAIR_ON, REPAIR_OFF, REPAIR_OFF_NO_WP,
 *				REPAIR_DEAF, REPAIR_HEAR)
 *				SCM_RIGHTS: 1 to REPAIR_BATCH sockets
 *   or, for REPAIR_SNDBUF and REPAIR_RCVBUF (5 bytes, exactly one socket):
 *				offset 0, 1 byte: command, int8_t
 *				offset 1, 4 bytes: buffer size, uint32_t,
 *				big-endian, 1 to REPAIR_BUF_MAX
 *				SCM_RIGHTS: exactly 1 socket
 *   helper -> passt, answer:	offset 0, 1 byte: uint8_t, 0 if the
 *				command worked on every socket, else the
 *				errno (1 to 255) of the first failure
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <sys/socket.h>

/* Event kinds (see util.h) */
enum {
	EV_REPAIR_LISTEN	= 11,	/* socket passt-repair connects to */
	EV_REPAIR		= 12,	/* connection to passt-repair */
};

#define REPAIR_BATCH		253	/* SCM_MAX_FD: sockets per message */
#define REPAIR_ON		1	/* TCP_REPAIR on */
#define REPAIR_OFF		0	/* off */
/* off, no window probe (TCP_REPAIR_OFF_NO_WP) */
#define REPAIR_OFF_NO_WP	(-1)
/* Not TCP_REPAIR values: a socket filter for sockets that must not take
 * segments (tcp_migrate.c), on kernels where attaching one needs
 * CAP_NET_ADMIN
 */
#define REPAIR_DEAF		16	/* attach a filter that drops everything */
#define REPAIR_HEAR		17	/* detach it */
/* SO_SNDBUFFORCE, SO_RCVBUFFORCE with a value carried in the request: a
 * restored queue may be larger than SO_SNDBUF, SO_RCVBUF give without
 * CAP_NET_ADMIN (net.core.wmem_max, rmem_max)
 */
#define REPAIR_SNDBUF		18	/* SO_SNDBUFFORCE */
#define REPAIR_RCVBUF		19	/* SO_RCVBUFFORCE */
#define REPAIR_BUF_MAX		(64U << 20)	/* bytes, largest value */
#define REPAIR_REQ_LEN		1	/* request bytes, most commands */
#define REPAIR_REQ_BUF_LEN	5	/* for REPAIR_SNDBUF, REPAIR_RCVBUF */
#define REPAIR_TIMEOUT_MS	5000	/* wait for each answer */

/**
 * repair_cmd_valid() - Is this a command of the protocol?
 * @cmd:	Command
 *
 * Return: true for REPAIR_ON, _OFF, _OFF_NO_WP, _DEAF, _HEAR
 */
static inline bool repair_cmd_valid(int cmd)
{
	return cmd == REPAIR_ON || cmd == REPAIR_OFF ||
	       cmd == REPAIR_OFF_NO_WP || cmd == REPAIR_DEAF ||
	       cmd == REPAIR_HEAR;
}

/**
 * repair_cmd_buf() - Is this a buffer command, carrying a value?
 * @cmd:	Command
 *
 * Return: true for REPAIR_SNDBUF, REPAIR_RCVBUF
 */
static inline bool repair_cmd_buf(int cmd)
{
	return cmd == REPAIR_SNDBUF || cmd == REPAIR_RCVBUF;
}

/**
 * repair_buf_valid() - Is this a buffer size the helper sets?
 * @bytes:	Value of a REPAIR_SNDBUF or REPAIR_RCVBUF request
 *
 * Return: true for 1 to REPAIR_BUF_MAX
 */
static inline bool repair_buf_valid(uint32_t bytes)
{
	return bytes >= 1 && bytes <= REPAIR_BUF_MAX;
}

/**
 * repair_filter() - Attach or detach the filter of REPAIR_DEAF, REPAIR_HEAR
 * @fd:		Socket
 * @on:		Attach a filter that drops every packet, or detach it
 *
 * Shared by passt-repair and the daemon, which tries it itself first.
 *
 * Return: 0, -1 with errno set (a filter that isn't there to detach is
 *	   no failure)
 */
static inline int repair_filter(int fd, bool on)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { 1, &drop };
	int dummy = 0;

	if (on)
		return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
				  sizeof(prog));
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
		       sizeof(dummy)) && errno != ENOENT)
		return -1;
	return 0;
}

struct ctx;

int repair_listen(struct ctx *c);
void repair_listen_handler(struct ctx *c, uint32_t events);
void repair_handler(struct ctx *c, uint32_t events);
bool repair_ready(const struct ctx *c);
int repair_set(struct ctx *c, const int *fds, size_t n, int cmd);
int repair_setbuf(struct ctx *c, int fd, int cmd, uint32_t bytes);
void repair_close(struct ctx *c);

#endif /* REPAIR_H */
