// SPDX-License-Identifier: GPL-2.0-or-later
/* passt-repair.c - Privileged helper: TCP_REPAIR on sockets passt passes us
 *
 * DOC: Theory of operation
 *
 * passt never keeps CAP_NET_ADMIN, but migrating a TCP connection needs
 * its socket in repair mode (TCP_REPAIR), and that takes the capability.
 * This helper has it (run it as root, or with CAP_NET_ADMIN): it connects
 * to the UNIX socket passt listens on for it (--repair-path), receives
 * sockets there with SCM_RIGHTS, sets TCP_REPAIR on its copies (the same
 * socket objects, so the change is seen by passt), closes them and
 * answers.  On kernels where attaching a socket filter takes the same
 * capability, passt asks us for that too: one that drops every segment,
 * or none.  And a restored socket may need larger buffers than an
 * unprivileged SO_SNDBUF or SO_RCVBUF gives (net.core.wmem_max,
 * rmem_max) to take back its queues: we set SO_SNDBUFFORCE or
 * SO_RCVBUFFORCE on it, to a value carried in the request, for one TCP
 * socket at a time.  Descriptors carry their network namespace with them, so it
 * doesn't matter in which namespace the helper runs; only the socket
 * path must be reachable.  See doc/repair.md for the protocol.
 *
 * The helper may start before passt has bound its socket: it retries for
 * up to CONNECT_TIMEOUT_MS.  It exits 0 when passt closes the connection.
 *
 * Bad input: a request that isn't exactly one byte of data with 1 to
 * REPAIR_BATCH descriptors (or, for the buffer commands, exactly five
 * bytes, a value from 1 to REPAIR_BUF_MAX and exactly one descriptor),
 * an unknown command byte, or truncated control data is a protocol error:
 * we print one line on stderr and exit 1 (the received descriptors close
 * with us).  We do nothing with a descriptor but the one setsockopt() (for
 * buffer commands, after a getsockopt() checking that it is a TCP socket)
 * and close(): one of the wrong kind just fails, and the failure is
 * reported back.
 *
 * This links no daemon object: repair.h gives the protocol constants.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"		/* VERSION, NORETURN, PRINTF only */
#include "repair.h"

#define CONNECT_TIMEOUT_MS	5000	/* passt may not be listening yet */
#define CONNECT_RETRY_MS	100
#define REQ_BUF			8	/* bytes: room to see a long request */

static_assert(REPAIR_ON == TCP_REPAIR_ON && REPAIR_OFF == TCP_REPAIR_OFF &&
	      REPAIR_OFF_NO_WP == TCP_REPAIR_OFF_NO_WP,
	      "the command byte is the TCP_REPAIR value");
static_assert(REQ_BUF > REPAIR_REQ_BUF_LEN, "a longer request is seen");
static_assert(REPAIR_BUF_MAX <= INT32_MAX / 2, "the kernel doubles it");

/**
 * struct req - One request, as received
 * @cmd:	A command of repair.h (wire: signed byte)
 * @bytes:	Buffer size for REPAIR_SNDBUF, REPAIR_RCVBUF, else 0
 * @n:		Number of descriptors in @fds, 1 to REPAIR_BATCH (exactly 1
 *		for the buffer commands)
 * @fds:	Descriptors received, ours to close
 */
struct req {
	int cmd;
	uint32_t bytes;
	size_t n;
	int fds[REPAIR_BATCH];
};

/**
 * fail() - Print one line on stderr and exit 1
 * @fmt:	printf() format, without "passt-repair: " and newline
 */
static NORETURN PRINTF(1, 2) void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("passt-repair: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/**
 * usage() - Print usage
 * @f:		stdout (--help) or stderr
 */
static void usage(FILE *f)
{
	fputs("Usage: passt-repair PATH\n"
	      "Connect to passt's UNIX socket PATH (its --repair-path), and\n"
	      "set TCP_REPAIR on the sockets it passes, for live migration\n"
	      "(and socket filters, and buffer sizes of restored sockets).\n"
	      "Needs CAP_NET_ADMIN. Exits 0 when passt closes the connection.\n"
	      "  -h, --help	show this help\n"
	      "  --version	show the version\n", f);
}

/**
 * ms_since() - Milliseconds elapsed since a time
 * @t0:		CLOCK_MONOTONIC time
 *
 * Return: milliseconds
 *
 * #syscalls clock_gettime
 */
static long long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000LL +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/**
 * helper_connect() - Connect to passt, waiting for it to listen
 * @path:	Socket path
 *
 * Return: connected socket; exits on failure
 *
 * #syscalls socket connect close clock_gettime nanosleep
 */
static int helper_connect(const char *path)
{
	const struct timespec pause = { 0, CONNECT_RETRY_MS * 1000000L };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	struct timespec t0;
	int s, rc;

	if (!len || len >= sizeof(addr.sun_path))
		fail("invalid socket path '%s' (1 to %zu bytes)", path,
		     sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, len + 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			fail("socket: %s", strerror(errno));
		if (!connect(s, (struct sockaddr *)&addr, sizeof(addr)))
			return s;
		rc = errno;
		close(s);

		if (rc != ENOENT && rc != ECONNREFUSED && rc != EINTR)
			fail("can't connect to %s: %s", path, strerror(rc));
		if (ms_since(&t0) >= CONNECT_TIMEOUT_MS)
			fail("can't connect to %s: %s (waited %d ms)", path,
			     strerror(rc), CONNECT_TIMEOUT_MS);
		nanosleep(&pause, NULL);
	}
}

/**
 * req_fds() - Take the descriptors out of a request's control data
 * @mh:		Message received
 * @r:		Request: @n and @fds set
 *
 * Exits on anything but one SCM_RIGHTS block of 1 to REPAIR_BATCH fds.
 */
static void req_fds(struct msghdr *mh, struct req *r)
{
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(mh);
	size_t len;

	if (mh->msg_flags & MSG_CTRUNC)
		fail("protocol error: control data truncated");
	if (!cmsg)
		fail("protocol error: request without descriptors");
	if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
		fail("protocol error: control data of type %d, level %d",
		     cmsg->cmsg_type, cmsg->cmsg_level);
	if (CMSG_NXTHDR(mh, cmsg))
		fail("protocol error: more than one control message");

	if (cmsg->cmsg_len < CMSG_LEN(0))
		fail("protocol error: control message of %zu bytes",
		     (size_t)cmsg->cmsg_len);
	len = cmsg->cmsg_len - CMSG_LEN(0);
	if (!len || len % sizeof(int) || len / sizeof(int) > REPAIR_BATCH)
		fail("protocol error: %zu bytes of descriptors", len);
	r->n = len / sizeof(int);
	memcpy(r->fds, CMSG_DATA(cmsg), len);
}

/**
 * req_buf_parse() - Check the rest of a REPAIR_SNDBUF, REPAIR_RCVBUF request
 * @data:	Request bytes, command first
 * @n:		How many
 * @r:		Request, with @cmd and @n set: @bytes set
 *
 * Exits unless it is exactly REPAIR_REQ_BUF_LEN bytes, with a value of 1
 * to REPAIR_BUF_MAX, and exactly one descriptor.
 */
static void req_buf_parse(const uint8_t *data, size_t n, struct req *r)
{
	uint32_t be;

	if (n != REPAIR_REQ_BUF_LEN)
		fail("protocol error: command %d in %zu bytes, expected %d",
		     r->cmd, n, REPAIR_REQ_BUF_LEN);
	if (r->n != 1)
		fail("protocol error: command %d for %zu sockets, expected 1",
		     r->cmd, r->n);
	memcpy(&be, data + 1, sizeof(be));
	r->bytes = ntohl(be);
	if (!repair_buf_valid(r->bytes))
		fail("protocol error: buffer size %u, expected 1 to %u",
		     r->bytes, REPAIR_BUF_MAX);
}

/**
 * req_parse() - Receive and check one request
 * @s:		Connection to passt
 * @r:		Request, filled
 *
 * Return: true for a request, false if passt closed the connection;
 *	   exits on errors
 *
 * #syscalls recvmsg
 */
static bool req_parse(int s, struct req *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * REPAIR_BATCH)];
		struct cmsghdr align;
	} u;
	uint8_t data[REQ_BUF];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	ssize_t n;

	do
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fail("receiving request: %s", strerror(errno));
	if (!n && !mh.msg_controllen)
		return false;

	req_fds(&mh, r);
	if (n < 1)
		fail("protocol error: request of %zd bytes", n);
	r->cmd = data[0] > INT8_MAX ? data[0] - 256 : data[0];	/* int8_t */
	r->bytes = 0;
	if (repair_cmd_buf(r->cmd))
		req_buf_parse(data, (size_t)n, r);
	else if (!repair_cmd_valid(r->cmd))
		fail("protocol error: unknown command %d", r->cmd);
	else if (n != REPAIR_REQ_LEN)
		fail("protocol error: request of %zd bytes, expected %d", n,
		     REPAIR_REQ_LEN);
	return true;
}

/**
 * req_buf_apply() - Force the size of a TCP socket's send or receive buffer
 * @fd:		Socket
 * @cmd:	REPAIR_SNDBUF or REPAIR_RCVBUF
 * @bytes:	Value, 1 to REPAIR_BUF_MAX (checked)
 *
 * Return: 0, -1 with errno set: ENOTSOCK, or EPROTOTYPE for anything but
 *	   a TCP socket
 *
 * #syscalls getsockopt setsockopt
 */
static int req_buf_apply(int fd, int cmd, uint32_t bytes)
{
	int v = (int)bytes, type = 0, proto = 0;
	socklen_t sl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl))
		return -1;
	sl = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &sl))
		return -1;
	if (type != SOCK_STREAM || proto != IPPROTO_TCP) {
		errno = EPROTOTYPE;
		return -1;
	}
	return setsockopt(fd, SOL_SOCKET, cmd == REPAIR_SNDBUF ?
			  SO_SNDBUFFORCE : SO_RCVBUFFORCE, &v, sizeof(v));
}

/**
 * req_apply() - Apply a command to one socket
 * @fd:		Socket
 * @r:		Request: a TCP_REPAIR value, REPAIR_DEAF, REPAIR_HEAR, or a
 *		buffer command and its value
 *
 * Return: 0, -1 with errno set (a filter that isn't there to detach is
 *	   no failure)
 *
 * #syscalls setsockopt
 */
static int req_apply(int fd, const struct req *r)
{
	int v = r->cmd;

	if (repair_cmd_buf(r->cmd))
		return req_buf_apply(fd, r->cmd, r->bytes);
	if (r->cmd == REPAIR_DEAF || r->cmd == REPAIR_HEAR)
		return repair_filter(fd, r->cmd == REPAIR_DEAF);
	return setsockopt(fd, SOL_TCP, TCP_REPAIR, &v, sizeof(v));
}

/**
 * req_handle() - Apply a request to all its sockets, then close them
 * @r:		Request
 *
 * Return: answer: 0, or the errno (1 to 255) of the first failure
 *
 * #syscalls setsockopt close
 */
static uint8_t req_handle(const struct req *r)
{
	int answer = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (req_apply(r->fds[i], r) && !answer)
			answer = MIN(MAX(errno, 1), 255);
		close(r->fds[i]);
	}
	return (uint8_t)answer;
}

/**
 * main() - Entry point
 * @argc:	Argument count
 * @argv:	Socket path, or --help, --version
 *
 * Return: 0 once passt closes the connection, 1 on errors
 *
 * #syscalls sendto close
 */
int main(int argc, char **argv)
{
	struct req r;
	int s;

	if (argc == 2 && (!strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		fputs("passt-repair " VERSION "\n", stdout);
		return EXIT_SUCCESS;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return EXIT_FAILURE;
	}

	s = helper_connect(argv[1]);
	while (req_parse(s, &r)) {
		uint8_t answer = req_handle(&r);
		ssize_t n;

		do
			n = send(s, &answer, sizeof(answer), MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(answer))
			fail("sending answer: %s",
			     n < 0 ? strerror(errno) : "short write");
	}
	close(s);
	return EXIT_SUCCESS;
}
