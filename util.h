/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UTIL_H
#define UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <assert.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))
#define ROUND_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define ROUND_UP(x, a)		ROUND_DOWN((x) + (a) - 1, (a))
#define STRINGIFY_(x)		#x
#define STRINGIFY(x)		STRINGIFY_(x)

#define PACKED			__attribute__((packed))
#define NORETURN		__attribute__((noreturn))
#define PRINTF(f, a)		__attribute__((format(printf, f, a)))
#define UNUSED			__attribute__((unused))

/* Wire types (__le16, __be32, ...): named for their byte order */
#include <linux/types.h>

/* Our own invariants only: never for data from a peer */
#define ASSERT(expr)							\
	do {								\
		if (!(expr))						\
			die("ASSERTION FAILED in %s (%s:%d): %s",	\
			    __func__, __FILE__, __LINE__, #expr);	\
	} while (0)

/**
 * enum ev_kind - What an epoll event refers to
 */
enum ev_kind {
	EV_NONE = 0,
	EV_VU_LISTEN,		/* vhost-user listening socket */
	EV_VU_CONN,		/* vhost-user control connection */
	EV_VU_KICK,		/* virtqueue kick eventfd, idx = queue */
	EV_DEVSTATE,		/* DEVICE_STATE pipe (migration) */
	EV_ICMP,		/* ping socket, idx = ICMP flow */
	EV_TIMER,		/* periodic timerfd */
	EV_TCP,			/* connected TCP socket, idx = flow */
	EV_TCP_LISTEN,		/* listening TCP socket, idx = host port */
	EV_UDP,			/* UDP flow socket, idx = flow */
	EV_UDP_LISTEN,		/* UDP socket for a forwarded port, idx = port */
	EV_REPAIR_LISTEN,	/* listening socket for passt-repair */
	EV_REPAIR,		/* connection to passt-repair */
	EV_COUNT
};

/**
 * union evtag - 64-bit tag carried by every epoll event, never a pointer
 * @kind:	enum ev_kind
 * @fd:		File descriptor the event is for
 * @idx:	Index into the owning module's table, meaning per kind
 * @u64:	As stored in struct epoll_event.data
 */
union evtag {
	struct {
		uint8_t kind;
		int32_t fd:24;
		uint32_t idx;
	};
	uint64_t u64;
};
static_assert(sizeof(union evtag) == sizeof(uint64_t), "evtag fits epoll");

extern const char *ev_kind_name[EV_COUNT];

int ev_add(int epollfd, int fd, uint32_t events, enum ev_kind kind,
	   uint32_t idx);
int ev_mod(int epollfd, int fd, uint32_t events, enum ev_kind kind,
	   uint32_t idx);
void ev_del(int epollfd, int fd);

size_t iov_size(const struct iovec *iov, size_t cnt);
size_t iov_to_buf(const struct iovec *iov, size_t cnt, size_t offset,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, size_t cnt, size_t offset,
		    const void *buf, size_t len);

long long timespec_diff_ms(const struct timespec *a, const struct timespec *b);
int write_all(int fd, const void *buf, size_t len);
void close_fd(int *fd);

struct sockaddr_un;
int sock_unix_stale(const char *path, const struct sockaddr_un *addr);

#include "log.h"

#endif /* UTIL_H */
