// SPDX-License-Identifier: GPL-2.0-or-later
/* util.c - Small helpers shared by every module
 *
 * DOC: Theory of operation
 *
 * Only helpers with no knowledge of any protocol: epoll registration with
 * tagged events, scatter-gather copies, time arithmetic, I/O loops.
 */

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/**
 * ev_ctl() - Add or modify an epoll registration with a tag
 * @epollfd:	epoll instance
 * @op:		EPOLL_CTL_ADD or EPOLL_CTL_MOD
 * @fd:		File descriptor
 * @events:	EPOLL* mask
 * @kind:	Event kind for dispatch
 * @idx:	Index for the owning module
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls epoll_ctl
 */
static int ev_ctl(int epollfd, int op, int fd, uint32_t events,
		  uint8_t kind, uint32_t idx)
{
	union evtag tag = { .kind = kind, .fd = fd, .idx = idx };
	struct epoll_event ev = { .events = events, .data.u64 = tag.u64 };

	ASSERT(fd >= 0 && fd < (1 << 23));
	if (epoll_ctl(epollfd, op, fd, &ev))
		return -errno;
	return 0;
}

/**
 * ev_add() - Register a file descriptor with a tag
 * @epollfd:	epoll instance
 * @fd:		File descriptor
 * @events:	EPOLL* mask
 * @kind:	Event kind for dispatch
 * @idx:	Index for the owning module
 *
 * Return: 0 on success, -errno on failure
 */
int ev_add(int epollfd, int fd, uint32_t events, uint8_t kind, uint32_t idx)
{
	return ev_ctl(epollfd, EPOLL_CTL_ADD, fd, events, kind, idx);
}

/**
 * ev_mod() - Change the events or tag of a registered file descriptor
 * @epollfd:	epoll instance
 * @fd:		File descriptor
 * @events:	EPOLL* mask
 * @kind:	Event kind for dispatch
 * @idx:	Index for the owning module
 *
 * Return: 0 on success, -errno on failure
 */
int ev_mod(int epollfd, int fd, uint32_t events, uint8_t kind, uint32_t idx)
{
	return ev_ctl(epollfd, EPOLL_CTL_MOD, fd, events, kind, idx);
}

/**
 * ev_del() - Remove a file descriptor from epoll, if registered
 * @epollfd:	epoll instance
 * @fd:		File descriptor
 *
 * #syscalls epoll_ctl
 */
void ev_del(int epollfd, int fd)
{
	if (epollfd >= 0 && fd >= 0)
		epoll_ctl(epollfd, EPOLL_CTL_DEL, fd, NULL);
}

/**
 * iov_size() - Total length of an I/O vector
 * @iov:	Vector
 * @cnt:	Number of entries
 *
 * Return: sum of lengths, bytes
 */
size_t iov_size(const struct iovec *iov, size_t cnt)
{
	size_t i, len = 0;

	for (i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	return len;
}

/**
 * iov_to_buf() - Copy from an I/O vector into a linear buffer
 * @iov:	Vector
 * @cnt:	Number of entries
 * @offset:	Bytes to skip at the start of the vector
 * @buf:	Destination
 * @len:	Bytes to copy at most
 *
 * Return: bytes copied
 */
size_t iov_to_buf(const struct iovec *iov, size_t cnt, size_t offset,
		  void *buf, size_t len)
{
	size_t i, done = 0;

	for (i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - offset, len - done);
		memcpy((uint8_t *)buf + done,
		       (uint8_t *)iov[i].iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

/**
 * iov_from_buf() - Copy a linear buffer into an I/O vector
 * @iov:	Vector
 * @cnt:	Number of entries
 * @offset:	Bytes to skip at the start of the vector
 * @buf:	Source
 * @len:	Bytes to copy at most
 *
 * Return: bytes copied
 */
size_t iov_from_buf(const struct iovec *iov, size_t cnt, size_t offset,
		    const void *buf, size_t len)
{
	size_t i, done = 0;

	for (i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - offset, len - done);
		memcpy((uint8_t *)iov[i].iov_base + offset,
		       (const uint8_t *)buf + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

/**
 * timespec_diff_ms() - Milliseconds from @b to @a
 * @a:		Later time
 * @b:		Earlier time
 *
 * Return: a - b, milliseconds
 */
long long timespec_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) * 1000LL +
	       (a->tv_nsec - b->tv_nsec) / 1000000LL;
}

/**
 * close_fd() - Close a file descriptor if open, and mark it closed
 * @fd:		Pointer to the descriptor, set to -1
 *
 * #syscalls close
 */
void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/**
 * sock_unix_stale() - Check a UNIX socket path before binding it
 * @path:	Socket path
 * @addr:	Same, as a socket address
 *
 * A socket file nobody listens on is left over from an earlier run: it is
 * removed.  The probe connection shows up at a live listener as a client
 * that connects and leaves at once.
 *
 * Return: 0 if the path is free or was a stale socket (now removed),
 *	   -EADDRINUSE if somebody listens on it, -EEXIST if it isn't a
 *	   socket, -errno on failure
 *
 * #syscalls newfstatat socket connect close unlink
 */
int sock_unix_stale(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;

	/* Non-blocking: a listener with a full backlog fails with EAGAIN */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	if (rc)
		rc = -errno;
	close(fd);
	if (!rc || rc == -EAGAIN)
		return -EADDRINUSE;

	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}
