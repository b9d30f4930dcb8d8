// SPDX-License-Identifier: GPL-2.0-or-later
/* repair.c - Daemon side of passt-repair: TCP_REPAIR by proxy
 *
 * DOC: Theory of operation
 *
 * Migrating a TCP connection means switching its socket to repair mode
 * (TCP_REPAIR), which takes CAP_NET_ADMIN, a capability the sandboxed
 * daemon never keeps.  A small privileged helper, passt-repair, does it for
 * us: it connects to a UNIX socket we listen on (c->repair_path, by default
 * the vhost-user socket path plus ".repair"), we pass it sockets with
 * SCM_RIGHTS, it sets the option on its copies (the socket is the same
 * object) and answers.  The wire format is in doc/repair.md: one byte of
 * command plus 1 to REPAIR_BATCH descriptors per request, one byte of
 * answer (0, or the errno of the first failure) per request.  Two
 * commands carry a value after the command byte, for exactly one socket:
 * the buffer sizes of restored sockets whose queues don't fit what an
 * unprivileged SO_SNDBUF, SO_RCVBUF gives (repair_setbuf()).
 *
 * One helper at a time: a second connection is closed at once, with a
 * warning, and the first one stays.  The socket file is created with mode
 * 0600, so only our user and root can pretend to be the helper.  A live
 * listener at the path (another instance) is left alone; a stale socket is
 * removed; anything else there is an error.
 *
 * The helper's connection is registered for hang-up and errors only: it
 * never speaks unless asked, so there is nothing to read from the loop.
 * repair_set() is the one place in the daemon that blocks, on purpose:
 * migration is rare, the helper is local, and the caller can't go on
 * before the answer.  Each wait is bounded by REPAIR_TIMEOUT_MS.
 *
 * Bad input from the helper: an answer of more than one byte, data nobody
 * asked for, a hang-up in the middle of a request, or no answer in time
 * mean that request and answer are no longer paired.  We then drop the
 * connection and fail the request; the migration fails, the daemon keeps
 * serving, and a new helper may connect.  An error the helper reports for
 * a socket is passed on as -errno and keeps the connection.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "repair.h"

#define REPAIR_LISTEN_BACKLOG	1	/* the helper is one process */
#define REPAIR_SOCK_UMASK	0177	/* socket file: mode 0600 */

static_assert(REPAIR_ON == TCP_REPAIR_ON, "command is the option value");
static_assert(REPAIR_OFF == TCP_REPAIR_OFF, "command is the option value");
static_assert(REPAIR_OFF_NO_WP == TCP_REPAIR_OFF_NO_WP,
	      "command is the option value");
static_assert(REPAIR_BATCH >= 1 && REPAIR_BATCH <= 253,
	      "kernel limit SCM_MAX_FD is 253 descriptors per message");
static_assert(sizeof(((struct ctx *)0)->repair_path) ==
	      sizeof(((struct sockaddr_un *)0)->sun_path),
	      "repair_path fits sun_path exactly");

/**
 * repair_drop() - Close the helper connection, if any
 * @c:		Execution context
 * @why:	Reason, for the log
 *
 * #syscalls epoll_ctl close
 */
static void repair_drop(struct ctx *c, const char *why)
{
	if (c->repair_fd < 0)
		return;
	ev_del(c->epollfd, c->repair_fd);
	close_fd(&c->repair_fd);
	info("passt-repair disconnected: %s", why);
}


/**
 * repair_listen() - Listen for passt-repair at c->repair_path
 * @c:		Execution context
 *
 * Nothing to do if c->repair_path is empty (--fd without --repair-path).
 * The socket is non-blocking, so that a helper that goes away between the
 * event and accept4() can't block us.
 *
 * Return: 0 on success, -EALREADY if listening already, -ENAMETOOLONG,
 *	   -EADDRINUSE or -EEXIST for an unusable path, -errno on failure
 *
 * #syscalls socket umask bind listen unlink close
 */
int repair_listen(struct ctx *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strnlen(c->repair_path, sizeof(c->repair_path));
	mode_t mask;
	int fd, rc;

	if (!len)
		return 0;
	if (c->repair_listen_fd >= 0)
		return -EALREADY;
	if (len >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, c->repair_path, len + 1);

	if ((rc = sock_unix_stale(c->repair_path, &addr)))
		return rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	/* Single-threaded: nothing else creates files while this is set */
	mask = umask(REPAIR_SOCK_UMASK);
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (rc)
		rc = -errno;
	umask(mask);
	if (rc)
		goto err_close;

	if (listen(fd, REPAIR_LISTEN_BACKLOG)) {
		rc = -errno;
		goto err_unlink;
	}
	if ((rc = ev_add(c->epollfd, fd, EPOLLIN, EV_REPAIR_LISTEN, 0)))
		goto err_unlink;

	c->repair_listen_fd = fd;
	info("Listening for passt-repair on %s", c->repair_path);
	return 0;

err_unlink:
	unlink(c->repair_path);
err_close:
	close(fd);
	return rc;
}

/**
 * repair_listen_handler() - Accept passt-repair on the listening socket
 * @c:		Execution context
 * @events:	epoll events
 *
 * #syscalls accept4 epoll_ctl close
 */
void repair_listen_handler(struct ctx *c, uint32_t events)
{
	int fd, rc;

	(void)events;
	if (c->repair_listen_fd < 0)
		return;

	fd = accept4(c->repair_listen_fd, NULL, NULL,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			warn_ratelimit("passt-repair: accept: %s",
				       strerror(errno));
		return;
	}

	if (c->repair_fd >= 0) {
		warn_ratelimit("passt-repair already connected, refusing another");
		goto err_close;
	}

	/* No EPOLLIN: the helper only speaks when asked, see repair_set() */
	rc = ev_add(c->epollfd, fd, EPOLLRDHUP | EPOLLHUP | EPOLLERR,
		    EV_REPAIR, 0);
	if (rc) {
		warn("passt-repair: can't watch connection: %s",
		     strerror(-rc));
		goto err_close;
	}

	c->repair_fd = fd;
	info("passt-repair connected");
	return;

err_close:
	close(fd);
}

/**
 * repair_handler() - The helper hung up, or its connection failed
 * @c:		Execution context
 * @events:	epoll events
 *
 * The event may be stale: repair_set() may have dropped that connection,
 * and a new helper taken its descriptor number, earlier in the same batch
 * of events.  So the current connection is checked before closing it.
 *
 * #syscalls poll epoll_ctl close
 */
void repair_handler(struct ctx *c, uint32_t events)
{
	struct pollfd pfd = { .fd = c->repair_fd, .events = POLLRDHUP };

	if (c->repair_fd < 0)
		return;
	if (poll(&pfd, 1, 0) < 0 ||
	    !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		debug("passt-repair: stale event 0x%x", events);
		return;
	}
	repair_drop(c, pfd.revents & POLLERR ? "connection error" :
					       "hung up");
}

/**
 * repair_ready() - Is a helper connected?
 * @c:		Execution context
 *
 * Return: true if passt-repair is connected
 */
bool repair_ready(const struct ctx *c)
{
	return c->repair_fd >= 0;
}

/**
 * repair_send() - Send one request: its bytes, descriptors attached
 * @s:		Connection to the helper
 * @fds:	Sockets
 * @n:		Number of sockets, 1 to REPAIR_BATCH
 * @req:	Request bytes: command, then a value for buffer commands
 * @len:	REPAIR_REQ_LEN or REPAIR_REQ_BUF_LEN
 *
 * Data the helper sent without being asked is caught here, before the
 * request, as it would otherwise be taken for the answer.
 *
 * Return: 0 on success, -EPROTO for unsolicited data, -ECONNRESET if the
 *	   helper is gone, -errno on failure
 *
 * #syscalls recvfrom sendmsg
 */
static int repair_send(int s, const int *fds, size_t n, const uint8_t *req,
		       size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * REPAIR_BATCH)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)req, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cmsg;
	ssize_t rc;
	char byte;

	ASSERT(n >= 1 && n <= REPAIR_BATCH);

	rc = recv(s, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (rc > 0)
		return -EPROTO;
	if (!rc)
		return -ECONNRESET;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;

	memset(u.buf, 0, sizeof(u.buf));
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n);

	do
		rc = sendmsg(s, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;
	if (rc != (ssize_t)len)		/* a few bytes: can't be short, but */
		return -EIO;
	return 0;
}

/**
 * repair_recv() - Wait for the answer to one request
 * @s:		Connection to the helper
 * @answer:	Answer byte, set on success
 *
 * Return: 0 if an answer came, -ETIMEDOUT if none in REPAIR_TIMEOUT_MS,
 *	   -ECONNRESET if the helper hung up, -EPROTO if it sent more than
 *	   one byte, -errno on failure
 *
 * #syscalls clock_gettime poll recvfrom
 */
static int repair_recv(int s, uint8_t *answer)
{
	struct timespec start, now;
	long long ms = 0;
	uint8_t buf[2];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (; ms < REPAIR_TIMEOUT_MS; ms = timespec_diff_ms(&now, &start)) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		ssize_t n;
		int rc;

		rc = poll(&pfd, 1, (int)(REPAIR_TIMEOUT_MS - ms));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (!rc)
			return -ETIMEDOUT;

		n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		if (n > 1)
			return -EPROTO;
		*answer = buf[0];
		return 0;
	}
	return -ETIMEDOUT;
}

/**
 * repair_exchange() - One request and its answer, or drop the connection
 * @c:		Execution context, with a helper connected
 * @fds:	Sockets
 * @n:		Number of sockets, 1 to REPAIR_BATCH
 * @req:	Request bytes
 * @len:	REPAIR_REQ_LEN or REPAIR_REQ_BUF_LEN
 * @answer:	Answer byte, set on success
 *
 * The connection is dropped when request and answer may no longer be
 * paired: hang-up, no answer in time, a malformed answer, or a failed send
 * (except for a bad descriptor from the caller, as nothing was sent then).
 *
 * Return: 0 if an answer came, -EBADF, or -ETIMEDOUT, -ECONNRESET,
 *	   -EPROTO, -errno as the connection failed (dropped)
 */
static int repair_exchange(struct ctx *c, const int *fds, size_t n,
			   const uint8_t *req, size_t len, uint8_t *answer)
{
	int rc = repair_send(c->repair_fd, fds, n, req, len);

	if (rc == -EBADF)
		return rc;
	if (!rc)
		rc = repair_recv(c->repair_fd, answer);
	if (rc) {
		warn("passt-repair: request failed: %s", strerror(-rc));
		repair_drop(c, "out of sync");
	}
	return rc;
}

/**
 * repair_set() - Switch repair mode on or off for a set of sockets
 * @c:		Execution context
 * @fds:	TCP sockets
 * @n:		Number of sockets, may be 0
 * @cmd:	REPAIR_ON, REPAIR_OFF, REPAIR_OFF_NO_WP, REPAIR_DEAF or
 *		REPAIR_HEAR
 *
 * Sends requests of up to REPAIR_BATCH sockets, each answered before the
 * next is sent.  A failure the helper reports for a batch is remembered
 * and the remaining batches are still sent: turning repair mode off again
 * after a failed migration should reach as many sockets as it can.  Any
 * other failure stops at once (see repair_exchange()).
 *
 * Return: 0 if the helper applied @cmd to every socket, -EINVAL for a bad
 *	   @cmd or descriptor, -ENOTCONN if no helper is connected, the
 *	   first error the helper reported as -errno (e.g. -EPERM), or
 *	   -ETIMEDOUT, -ECONNRESET, -EPROTO, -errno as the connection failed
 */
int repair_set(struct ctx *c, const int *fds, size_t n, int cmd)
{
	uint8_t req = (uint8_t)(int8_t)cmd;
	int first_err = 0;
	size_t i, batch;

	if (!n)
		return 0;
	if (!repair_cmd_valid(cmd))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			return -EINVAL;
	}
	if (c->repair_fd < 0)
		return -ENOTCONN;

	for (i = 0; i < n; i += batch) {
		uint8_t answer = 0;
		int rc;

		batch = MIN(n - i, (size_t)REPAIR_BATCH);
		rc = repair_exchange(c, fds + i, batch, &req, REPAIR_REQ_LEN,
				     &answer);
		if (rc)
			return rc;
		if (answer && !first_err) {
			warn("passt-repair: command %d failed for sockets %zu to %zu: %s",
			     cmd, i, i + batch - 1, strerror(answer));
			first_err = -(int)answer;
		}
	}
	debug("passt-repair: command %d on %zu sockets: %s", cmd, n,
	      first_err ? "failed" : "done");
	return first_err;
}

/**
 * repair_setbuf() - Have the helper force a socket's buffer size
 * @c:		Execution context
 * @fd:		TCP socket
 * @cmd:	REPAIR_SNDBUF (SO_SNDBUFFORCE) or REPAIR_RCVBUF (SO_RCVBUFFORCE)
 * @bytes:	Value for the option, 1 to REPAIR_BUF_MAX: the kernel doubles
 *		it, as for SO_SNDBUF, SO_RCVBUF
 *
 * For queues larger than an unprivileged SO_SNDBUF or SO_RCVBUF allows
 * (net.core.wmem_max, rmem_max).  Errors as repair_set().
 *
 * Return: 0, -EINVAL for a bad @cmd, @fd or @bytes, -ENOTCONN without a
 *	   helper, the error the helper reported as -errno, or -ETIMEDOUT,
 *	   -ECONNRESET, -EPROTO, -errno as the connection failed
 */
int repair_setbuf(struct ctx *c, int fd, int cmd, uint32_t bytes)
{
	uint8_t req[REPAIR_REQ_BUF_LEN], answer = 0;
	uint32_t be = htonl(bytes);
	int rc;

	if (!repair_cmd_buf(cmd) || fd < 0 || !repair_buf_valid(bytes))
		return -EINVAL;
	if (c->repair_fd < 0)
		return -ENOTCONN;

	req[0] = (uint8_t)cmd;
	memcpy(req + 1, &be, sizeof(be));
	if ((rc = repair_exchange(c, &fd, 1, req, sizeof(req), &answer)))
		return rc;
	if (answer) {
		warn("passt-repair: command %d (%u bytes) failed: %s", cmd,
		     bytes, strerror(answer));
		return -(int)answer;
	}
	return 0;
}

/**
 * repair_close() - Close the helper connection and the listening socket
 * @c:		Execution context
 *
 * At exit: the socket file goes too.
 *
 * #syscalls epoll_ctl close unlink
 */
void repair_close(struct ctx *c)
{
	repair_drop(c, "closing");
	if (c->repair_listen_fd < 0)
		return;
	ev_del(c->epollfd, c->repair_listen_fd);
	close_fd(&c->repair_listen_fd);
	if (unlink(c->repair_path) && errno != ENOENT)
		debug("Can't remove %s: %s", c->repair_path, strerror(errno));
}
