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

#define VERSION			"0.1"

/*
 * Event kinds: what an epoll event refers to.  0 is none; each module
 * declares its own kinds in its own header (EV_TCP in tcp.h, EV_VU_KICK in
 * vu_dev.h, ...), each a number unique in the daemon.  The loop's switch in
 * passt.c sees them all, so a number given twice fails to build there, and
 * this file knows no module.
 */
enum { EV_NONE = 0 };

/**
 * union evtag - 64-bit tag carried by every epoll event, never a pointer
 * @kind:	Event kind: EV_NONE, or one a module declares
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

int ev_add(int epollfd, int fd, uint32_t events, uint8_t kind, uint32_t idx);
int ev_mod(int epollfd, int fd, uint32_t events, uint8_t kind, uint32_t idx);
void ev_del(int epollfd, int fd);

size_t iov_size(const struct iovec *iov, size_t cnt);
size_t iov_to_buf(const struct iovec *iov, size_t cnt, size_t offset,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, size_t cnt, size_t offset,
		    const void *buf, size_t len);

long long timespec_diff_ms(const struct timespec *a, const struct timespec *b);
void close_fd(int *fd);

struct sockaddr_un;
int sock_unix_stale(const char *path, const struct sockaddr_un *addr);

#include "io.h"
#include "log.h"

#endif /* UTIL_H */
