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
 * Or it may start before anyone knows the socket's name (KubeVirt, on the
 * target of a migration): given a directory, it waits there for a UNIX
 * socket whose name ends in ".repair", for up to DIR_TIMEOUT_MS, then
 * goes on as if given that path.  It watches the directory with inotify,
 * and looks again every DIR_RESCAN_MS anyway (inotify may be unavailable,
 * or out of watches).  Anything else named *.repair is ignored; two such
 * sockets at once are an error, as the helper can't tell which daemon is
 * its own.  --timeout sets either wait.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"		/* VERSION, NORETURN, PRINTF only */
#include "repair.h"

#define CONNECT_TIMEOUT_MS	5000	/* passt may not be listening yet */
#define CONNECT_RETRY_MS	100
#define DIR_TIMEOUT_MS		60000	/* the daemon isn't even started yet */
#define DIR_RESCAN_MS		1000	/* without inotify events, look anyway */
#define TIMEOUT_MAX_S		86400	/* --timeout: a day */
#define SOCK_SUFFIX		".repair"
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
	fputs("Usage: passt-repair [--timeout SECONDS] PATH\n"
	      "Connect to passt's UNIX socket PATH (its --repair-path), and\n"
	      "set TCP_REPAIR on the sockets it passes, for live migration\n"
	      "(and socket filters, and buffer sizes of restored sockets).\n"
	      "If PATH is a directory, wait there for a socket whose name\n"
	      "ends in .repair, and use that one.\n"
	      "Needs CAP_NET_ADMIN. Exits 0 when passt closes the connection.\n"
	      "  --timeout SECONDS	how long to wait for the socket (default\n"
	      "			5 for a socket path, 60 for a directory)\n"
	      "  -h, --help		show this help\n"
	      "  --version		show the version\n", f);
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
 * @timeout_ms:	How long to retry while the path is missing or refuses
 *
 * Return: connected socket; exits on failure
 *
 * #syscalls socket connect close clock_gettime nanosleep
 */
static int helper_connect(const char *path, long long timeout_ms)
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
		if (ms_since(&t0) >= timeout_ms)
			fail("can't connect to %s: %s (waited %lld ms)", path,
			     strerror(rc), timeout_ms);
		nanosleep(&pause, NULL);
	}
}

/**
 * dir_scan() - Look for the one UNIX socket named *.repair in a directory
 * @dir:	Directory
 * @path:	Its path joined with the name found, on success
 * @size:	Size of @path
 *
 * Return: true if found; false if none (yet); exits if there are two, or
 *	   the directory can't be read
 *
 * #syscalls openat getdents64 newfstatat close
 */
static bool dir_scan(const char *dir, char *path, size_t size)
{
	size_t slen = strlen(SOCK_SUFFIX);
	char found[NAME_MAX + 1] = "";
	const struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		fail("can't read directory %s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);
		struct stat st;

		if (len <= slen ||
		    strcmp(d->d_name + len - slen, SOCK_SUFFIX) != 0)
			continue;
		if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISSOCK(st.st_mode))
			continue;		/* gone already, or no socket */
		if (*found) {
			closedir(dp);
			fail("two sockets in %s: %s and %s, give the path of "
			     "one", dir, found, d->d_name);
		}
		snprintf(found, sizeof(found), "%s", d->d_name);
	}
	closedir(dp);

	if (!*found)
		return false;
	if (snprintf(path, size, "%s/%s", dir, found) >= (int)size)
		fail("socket path %s/%s too long", dir, found);
	return true;
}

/**
 * dir_wait() - Wait for a socket named *.repair to appear in a directory
 * @dir:	Directory
 * @timeout_ms:	How long to wait
 * @path:	Path of the socket found
 * @size:	Size of @path
 *
 * The watch is set before the first look, so a socket bound in between
 * is seen either way.  Without inotify, the directory is read every
 * DIR_RESCAN_MS.
 *
 * Exits if nothing comes in time.
 *
 * #syscalls inotify_init1 inotify_add_watch poll read close clock_gettime
 */
static void dir_wait(const char *dir, long long timeout_ms, char *path,
		     size_t size)
{
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ifd >= 0 &&
	    inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB |
					IN_ONLYDIR) < 0) {
		close(ifd);
		ifd = -1;
	}

	while (!dir_scan(dir, path, size)) {
		struct pollfd pfd = { .fd = ifd, .events = POLLIN };
		long long left = timeout_ms - ms_since(&t0);
		char ev[4096];

		if (left <= 0) {
			fail("no socket named *%s in %s after %lld s",
			     SOCK_SUFFIX, dir, timeout_ms / 1000);
		}
		if (poll(&pfd, 1, (int)MIN(left, DIR_RESCAN_MS)) > 0)
			while (read(ifd, ev, sizeof(ev)) > 0)
				;		/* drained: look again */
	}
	if (ifd >= 0)
		close(ifd);
}

/**
 * timeout_parse() - Parse the value of --timeout
 * @arg:	Seconds, 1 to TIMEOUT_MAX_S
 *
 * Return: milliseconds; exits if @arg isn't such a number
 */
static long long timeout_parse(const char *arg)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || !v ||
	    v > TIMEOUT_MAX_S)
		fail("invalid --timeout '%s' (1 to %d seconds)", arg,
		     TIMEOUT_MAX_S);
	return v * 1000LL;
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
 * @argv:	Socket path or directory, optionally after --timeout SECONDS;
 *		or --help, --version
 *
 * Return: 0 once passt closes the connection, 1 on errors
 *
 * #syscalls sendto close newfstatat
 */
int main(int argc, char **argv)
{
	char found[sizeof(((struct sockaddr_un *)0)->sun_path)];
	long long timeout_ms = 0;
	const char *path;
	struct stat st;
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
	if (argc == 4 && !strcmp(argv[1], "--timeout")) {
		timeout_ms = timeout_parse(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return EXIT_FAILURE;
	}

	path = argv[1];
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		dir_wait(path, timeout_ms ? timeout_ms : DIR_TIMEOUT_MS,
			 found, sizeof(found));
		path = found;
	}
	s = helper_connect(path, timeout_ms ? timeout_ms : CONNECT_TIMEOUT_MS);
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
