// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/repair.c - passt-repair: the daemon's side, and the helper
 *
 * Each test gets a real listening socket from repair_listen() in a fresh
 * temporary directory, and a real epoll instance.  A fake helper, forked
 * from the test, connects there and follows a script: per request, answer
 * a given byte, hang up, stay silent, or answer too much.  It reports what
 * each request carried (command, data length, descriptor count, and
 * whether every descriptor was the one expected at its position) on a
 * pipe, so batch boundaries and order are checked from the receiving end.
 *
 * The answer timeout is shortened by wrapping poll() (--wrap=poll): the
 * wrapper records the timeout repair.c asks for, and caps it in the one
 * test that waits for a silent helper.
 *
 * The built passt-repair binary, if present, is tested as a black box:
 * protocol errors, errors reported for non-TCP descriptors, exit on hang-up,
 * start before the daemon listens, or before its socket exists (given a
 * directory, with a decoy file named like the socket); and, as root only,
 * real TCP sockets over loopback: repair mode is seen to be on when
 * TCP_REPAIR_QUEUE can be set (it fails with EPERM otherwise).
 *
 * Descriptors are counted in /proc/self/fd around every test.
 */

/* WRAP: poll */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "ctx.h"
#include "repair.h"
#include "common.h"

#define HELPER_BIN	"./passt-repair"
#define NFDS_MAX	600
#define REC_MAX		16
#define POLL_CAP_MS	200		/* answer timeout in test_repair_timeout */

/* Fake helper's script: an answer byte (0 to 255), or one of these */
#define FAKE_CLOSE	(-1)	/* hang up instead of answering */
#define FAKE_SILENT	(-2)	/* never answer, wait for the hang-up */
#define FAKE_EXTRA	(-3)	/* answer 0, and one byte more */

static struct ctx c;		/* big: port maps */
static char tmpdir[64];
static int fd_base;		/* descriptors open before the test */
static int fd_a, fd_b;		/* distinct sockets, the payload */
static int fds[NFDS_MAX];	/* fd_a at multiples of 7, fd_b elsewhere */

static int poll_cap = -1;	/* cap for poll() timeouts, -1: none */
static int poll_max_req;	/* largest timeout asked for, ms */
static int poll_calls;

int __real_poll(struct pollfd *pfd, nfds_t n, int timeout);

/* poll(), as repair.o (and this file) call it */
int __wrap_poll(struct pollfd *pfd, nfds_t n, int timeout)
{
	poll_calls++;
	poll_max_req = MAX(poll_max_req, timeout);
	if (poll_cap >= 0 && (timeout < 0 || timeout > poll_cap))
		timeout = poll_cap;
	return __real_poll(pfd, n, timeout);
}

/**
 * struct rec - What the fake helper saw in one request
 * @cmd:	Command byte, as signed
 * @bytes:	Data length
 * @nfds:	Descriptors received
 * @ctrunc:	MSG_CTRUNC was set
 * @wrong:	Descriptors that weren't the ones expected at their position
 */
struct rec {
	int cmd;
	int bytes;
	int nfds;
	int ctrunc;
	int wrong;
};

static int setup(void **state)
{
	size_t i;

	(void)state;
	fd_base = fd_count();
	memset(&c, 0, sizeof(c));
	c.repair_listen_fd = c.repair_fd = -1;
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/passt-repair-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(c.repair_path, sizeof(c.repair_path), "%s/sock.repair",
		 tmpdir);
	assert_int_equal(repair_listen(&c), 0);
	assert_true(c.repair_listen_fd >= 0);
	assert_false(repair_ready(&c));

	fd_a = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fd_b = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd_a >= 0 && fd_b >= 0);
	for (i = 0; i < NFDS_MAX; i++)
		fds[i] = i % 7 ? fd_b : fd_a;

	poll_cap = -1;
	poll_max_req = poll_calls = 0;
	return 0;
}

static int teardown(void **state)
{
	struct stat st;

	(void)state;
	repair_close(&c);
	assert_int_equal(c.repair_fd, -1);
	assert_int_equal(c.repair_listen_fd, -1);
	assert_true(lstat(c.repair_path, &st) && errno == ENOENT);
	close(fd_a);
	close(fd_b);
	close(c.epollfd);
	assert_int_equal(rmdir(tmpdir), 0);
	assert_int_equal(fd_count(), fd_base);
	return 0;
}

/* Connect to the repair socket as a helper would */
static int client_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	strcpy(addr.sun_path, c.repair_path);
	assert_int_equal(connect(s, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return s;
}

/* Connect, and let the daemon accept */
static int client_accepted(void)
{
	int s = client_connect();

	repair_listen_handler(&c, EPOLLIN);
	assert_true(repair_ready(&c));
	return s;
}

/* Daemon side: drop the helper the way it is dropped anywhere */
static void daemon_drop(void)
{
	if (c.repair_fd >= 0) {
		ev_del(c.epollfd, c.repair_fd);
		close_fd(&c.repair_fd);
	}
}

/* ---------------------------------------------------------------- */
/* Fake helper                                                       */
/* ---------------------------------------------------------------- */

static bool same_file(int fd, const struct stat *want)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_dev == want->st_dev &&
	       st.st_ino == want->st_ino;
}

/* Child: serve requests on @s by @script, report each on @rep, exit 0 */
static void fake_child(int s, int rep, const int *script, size_t len)
{
	size_t m = 0, idx = 0;
	struct stat sa, sb;

	if (fstat(fd_a, &sa) || fstat(fd_b, &sb))
		_exit(2);
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 512)];
			struct cmsghdr align;
		} u;
		uint8_t data[8], ans[2] = { 0, 0 };
		struct iovec iov = { data, sizeof(data) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
		};
		struct cmsghdr *cm;
		struct rec r = { 0 };
		ssize_t n;
		int act;

		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		r.cmd = (int8_t)data[0];
		r.bytes = n;
		r.ctrunc = !!(mh.msg_flags & MSG_CTRUNC);
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			int *p = (int *)CMSG_DATA(cm);
			size_t k, cnt;

			if (cm->cmsg_type != SCM_RIGHTS)
				continue;
			cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < cnt; k++, idx++) {
				const struct stat *want = idx % 7 ? &sb : &sa;

				r.wrong += !same_file(p[k], want);
				close(p[k]);
				r.nfds++;
			}
		}
		if (write(rep, &r, sizeof(r)) != sizeof(r))
			_exit(3);

		act = m < len ? script[m++] : FAKE_SILENT;
		if (act == FAKE_CLOSE)
			break;
		if (act == FAKE_SILENT)
			continue;
		ans[0] = act >= 0 ? act : 0;
		if (send(s, ans, act == FAKE_EXTRA ? 2 : 1, MSG_NOSIGNAL) < 0)
			_exit(4);
	}
	_exit(0);
}

/**
 * struct fake - A running fake helper
 * @pid:	Its process
 * @rep:	Read end of its report pipe
 */
struct fake {
	pid_t pid;
	int rep;
};

static struct fake fake_start(const int *script, size_t len)
{
	int s = client_accepted(), rep[2];
	struct fake f;

	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	fflush(NULL);
	f.pid = fork();
	assert_true(f.pid >= 0);
	if (!f.pid) {
		/* Our copies of the daemon's end would hide its hang-up */
		close(c.repair_fd);
		close(c.repair_listen_fd);
		close(c.epollfd);
		close(rep[0]);
		fake_child(s, rep[1], script, len);
	}
	close(s);
	close(rep[1]);
	f.rep = rep[0];
	return f;
}

/* Hang up if still connected, collect the reports, reap the child */
static size_t fake_finish(struct fake *f, struct rec *r)
{
	size_t n = 0;
	int st;

	daemon_drop();
	while (n < REC_MAX && read(f->rep, &r[n], sizeof(*r)) == sizeof(*r))
		n++;
	close(f->rep);
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	return n;
}

static void rec_check(const struct rec *r, int cmd, int nfds)
{
	assert_int_equal(r->cmd, cmd);
	assert_int_equal(r->bytes, 1);
	assert_int_equal(r->nfds, nfds);
	assert_int_equal(r->ctrunc, 0);
	assert_int_equal(r->wrong, 0);
}

/* ---------------------------------------------------------------- */
/* Daemon side against the fake helper                               */
/* ---------------------------------------------------------------- */

static void test_repair_no_helper_enotconn(void **state)
{
	int bad[2] = { fd_a, -1 };

	(void)state;
	assert_int_equal(repair_set(&c, fds, 0, REPAIR_ON), 0);
	assert_int_equal(repair_set(&c, fds, 1, REPAIR_ON), -ENOTCONN);
	assert_int_equal(repair_set(&c, fds, NFDS_MAX, REPAIR_OFF),
			 -ENOTCONN);
	assert_int_equal(repair_set(&c, fds, 1, 2), -EINVAL);
	assert_int_equal(repair_set(&c, bad, 2, REPAIR_ON), -EINVAL);
}

/* 600 sockets: 253 + 253 + 94, every command, boundaries exact */
static void test_repair_batches_split(void **state)
{
	static const struct {
		size_t n;
		int cmd;
		int nmsg;
		int last;
	} cases[] = {
		{ 600, REPAIR_ON, 3, 94 },
		{ 253, REPAIR_OFF_NO_WP, 1, 253 },
		{ 254, REPAIR_OFF, 2, 1 },
		{ 506, REPAIR_ON, 2, 253 },
		{ 1, REPAIR_OFF, 1, 1 },
	};
	static const int ok[] = { 0, 0, 0 };
	struct rec r[REC_MAX];
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake f = fake_start(ok, ARRAY_SIZE(ok));
		size_t n;

		assert_int_equal(repair_set(&c, fds, cases[i].n, cases[i].cmd),
				 0);
		assert_true(repair_ready(&c));
		n = fake_finish(&f, r);
		assert_int_equal(n, cases[i].nmsg);
		for (k = 0; k < cases[i].nmsg - 1; k++)
			rec_check(&r[k], cases[i].cmd, REPAIR_BATCH);
		rec_check(&r[k], cases[i].cmd, cases[i].last);
	}
}

/* An errno reported for one batch: first one returned, all sent */
static void test_repair_error_answer(void **state)
{
	static const int script[] = { 0, EPERM, ENOENT, 0, 255 };
	struct rec r[REC_MAX];
	struct fake f;

	(void)state;
	f = fake_start(script, ARRAY_SIZE(script));
	assert_int_equal(repair_set(&c, fds, NFDS_MAX, REPAIR_ON), -EPERM);
	assert_true(repair_ready(&c));		/* still in sync */
	/* the fake helper's position count goes on: 600 % 7 == 5 */
	assert_int_equal(repair_set(&c, fds + 5, 7, REPAIR_OFF), 0);
	assert_int_equal(repair_set(&c, fds + 5, 1, REPAIR_OFF), -255);
	assert_true(repair_ready(&c));
	assert_int_equal(fake_finish(&f, r), 5);
	rec_check(&r[2], REPAIR_ON, 94);
	rec_check(&r[3], REPAIR_OFF, 7);
}

/* Helper hangs up instead of answering the second batch */
static void test_repair_helper_closes_mid_request(void **state)
{
	static const int script[] = { 0, FAKE_CLOSE };
	struct rec r[REC_MAX];
	struct fake f;

	(void)state;
	f = fake_start(script, ARRAY_SIZE(script));
	assert_int_equal(repair_set(&c, fds, NFDS_MAX, REPAIR_ON),
			 -ECONNRESET);
	assert_false(repair_ready(&c));
	assert_int_equal(c.repair_fd, -1);
	assert_int_equal(fake_finish(&f, r), 2);
	rec_check(&r[1], REPAIR_ON, REPAIR_BATCH);

	assert_int_equal(repair_set(&c, fds, 1, REPAIR_OFF), -ENOTCONN);
}

/* Helper gone before the request: nothing sent */
static void test_repair_helper_gone_before_request(void **state)
{
	int s;

	(void)state;
	s = client_accepted();
	close(s);
	assert_int_equal(repair_set(&c, fds, 3, REPAIR_ON), -ECONNRESET);
	assert_false(repair_ready(&c));

	/* reading side shut: sendmsg() fails with EPIPE, and no SIGPIPE */
	s = client_accepted();
	assert_int_equal(shutdown(s, SHUT_RD), 0);
	assert_int_equal(repair_set(&c, fds, 3, REPAIR_ON), -ECONNRESET);
	assert_false(repair_ready(&c));
	close(s);
}

/* Helper never answers: bounded wait, then dropped */
static void test_repair_timeout(void **state)
{
	static const int script[] = { FAKE_SILENT };
	struct timespec t0, t1;
	struct rec r[REC_MAX];
	struct fake f;
	long long ms;

	(void)state;
	f = fake_start(script, ARRAY_SIZE(script));
	poll_cap = POLL_CAP_MS;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(repair_set(&c, fds, 2, REPAIR_ON), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	poll_cap = -1;
	ms = timespec_diff_ms(&t1, &t0);

	assert_false(repair_ready(&c));
	assert_true(poll_calls > 0);
	assert_true(poll_max_req > REPAIR_TIMEOUT_MS - 1000 &&
		    poll_max_req <= REPAIR_TIMEOUT_MS);
	assert_true(ms >= POLL_CAP_MS - 10 && ms < REPAIR_TIMEOUT_MS);
	assert_int_equal(fake_finish(&f, r), 1);	/* saw our hang-up */
	rec_check(&r[0], REPAIR_ON, 2);
}

/* Two answer bytes for one request */
static void test_repair_answer_too_long(void **state)
{
	static const int script[] = { FAKE_EXTRA };
	struct rec r[REC_MAX];
	struct fake f;
	int rc;

	(void)state;
	f = fake_start(script, ARRAY_SIZE(script));
	rc = repair_set(&c, fds, NFDS_MAX, REPAIR_ON);
	/* both bytes in one read: -EPROTO; split: caught before batch 2 */
	assert_int_equal(rc, -EPROTO);
	assert_false(repair_ready(&c));
	assert_int_equal(fake_finish(&f, r), 1);
}

/* Data nobody asked for is not taken as the answer */
static void test_repair_unsolicited_data(void **state)
{
	int s;

	(void)state;
	s = client_accepted();
	assert_int_equal(send(s, "", 1, MSG_NOSIGNAL), 1);
	assert_int_equal(repair_set(&c, fds, 1, REPAIR_ON), -EPROTO);
	assert_false(repair_ready(&c));
	close(s);
}

/* A second helper is refused, the first one kept; reconnect after */
static void test_repair_second_helper_refused(void **state)
{
	struct pollfd pfd;
	int s1, s2, s3, fd1;
	char b;

	(void)state;
	s1 = client_accepted();
	fd1 = c.repair_fd;

	s2 = client_connect();
	repair_listen_handler(&c, EPOLLIN);
	assert_int_equal(c.repair_fd, fd1);
	pfd = (struct pollfd){ .fd = s2, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(recv(s2, &b, 1, MSG_DONTWAIT), 0);	/* closed */
	close(s2);

	assert_int_equal(recv(s1, &b, 1, MSG_DONTWAIT), -1);	/* open */
	assert_int_equal(errno, EAGAIN);

	/* nothing pending: the handler returns quietly */
	repair_listen_handler(&c, EPOLLIN);
	assert_int_equal(c.repair_fd, fd1);

	close(s1);
	repair_handler(&c, EPOLLRDHUP);
	assert_false(repair_ready(&c));

	s3 = client_accepted();
	close(s3);
}

/* Registration: hang-up reaches the loop, data from the helper doesn't */
static void test_repair_hangup_event(void **state)
{
	struct epoll_event ev[4];
	union evtag tag;
	int s;

	(void)state;
	s = client_accepted();
	assert_int_equal(send(s, "x", 1, MSG_NOSIGNAL), 1);
	assert_int_equal(epoll_wait(c.epollfd, ev, 4, 0), 0);

	/* stale: the connection is fine, nothing happens */
	repair_handler(&c, EPOLLRDHUP);
	assert_true(repair_ready(&c));

	close(s);
	assert_int_equal(epoll_wait(c.epollfd, ev, 4, 1000), 1);
	tag.u64 = ev[0].data.u64;
	assert_int_equal(tag.kind, EV_REPAIR);
	assert_int_equal(tag.fd, c.repair_fd);
	assert_true(ev[0].events & EPOLLRDHUP);
	assert_false(ev[0].events & EPOLLIN);
	repair_handler(&c, ev[0].events);
	assert_false(repair_ready(&c));
	assert_int_equal(epoll_wait(c.epollfd, ev, 4, 0), 0);

	repair_handler(&c, EPOLLHUP);		/* no helper: no-op */
	assert_false(repair_ready(&c));
}

/* The listening socket: mode, stale and live sockets, other files */
static void test_repair_listen_path(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct epoll_event ev;
	union evtag tag;
	struct stat st;
	int fd, s;

	(void)state;
	assert_int_equal(lstat(c.repair_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(repair_listen(&c), -EALREADY);

	/* a helper connecting shows up as EV_REPAIR_LISTEN */
	s = client_connect();
	assert_int_equal(epoll_wait(c.epollfd, &ev, 1, 1000), 1);
	tag.u64 = ev.data.u64;
	assert_int_equal(tag.kind, EV_REPAIR_LISTEN);
	assert_int_equal(tag.fd, c.repair_listen_fd);
	repair_listen_handler(&c, ev.events);
	assert_true(repair_ready(&c));
	close(s);
	repair_handler(&c, EPOLLRDHUP);

	/* live listener at the path: left alone (the probe is a dud client) */
	fd = c.repair_listen_fd;
	c.repair_listen_fd = -1;
	assert_int_equal(repair_listen(&c), -EADDRINUSE);
	c.repair_listen_fd = fd;
	repair_listen_handler(&c, EPOLLIN);	/* accept the probe... */
	repair_handler(&c, EPOLLRDHUP);		/* ...which has left */
	assert_false(repair_ready(&c));

	/* stale socket: replaced */
	repair_close(&c);
	assert_true(lstat(c.repair_path, &st) && errno == ENOENT);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(addr.sun_path, c.repair_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(repair_listen(&c), 0);
	s = client_accepted();
	close(s);

	/* not a socket: refused, and not removed */
	repair_close(&c);
	fd = open(c.repair_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(repair_listen(&c), -EEXIST);
	assert_int_equal(c.repair_listen_fd, -1);
	assert_int_equal(lstat(c.repair_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(c.repair_path), 0);

	/* no path (--fd without --repair-path): nothing to do */
	*c.repair_path = '\0';
	assert_int_equal(repair_listen(&c), 0);
	assert_int_equal(c.repair_listen_fd, -1);
	snprintf(c.repair_path, sizeof(c.repair_path), "%s/sock.repair",
		 tmpdir);
	assert_int_equal(repair_listen(&c), 0);
}

/* ---------------------------------------------------------------- */
/* The real helper                                                   */
/* ---------------------------------------------------------------- */

/**
 * struct helper - A running passt-repair
 * @pid:	Its process
 * @err:	Read end of its stderr
 */
struct helper {
	pid_t pid;
	int err;
};

static bool helper_present(void)
{
	return !access(HELPER_BIN, X_OK);
}

/* Start the helper with up to three arguments (NULL-terminated) */
static struct helper helper_spawn_args(const char *a0, const char *a1,
				       const char *a2)
{
	struct helper h;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	h.pid = fork();
	assert_true(h.pid >= 0);
	if (!h.pid) {
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execl(HELPER_BIN, HELPER_BIN, a0, a1, a2, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	h.err = p[0];
	return h;
}

static struct helper helper_spawn(const char *arg)
{
	return helper_spawn_args(arg, NULL, NULL);
}

/* Wait (up to 10 s) for the helper to exit: its status, its output */
static int helper_wait(struct helper *h, char *out, size_t size)
{
	size_t n = 0;
	ssize_t r;
	int st, i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(h->pid, &st, WNOHANG) == h->pid)
			break;
		usleep(10000);
	}
	if (i == 1000) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, &st, 0);
		close(h->err);
		fail_msg("passt-repair didn't exit");
	}
	while (n < size - 1 && (r = read(h->err, out + n, size - 1 - n)) > 0)
		n += r;
	out[n] = '\0';
	close(h->err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Accept the helper from the loop's point of view: epoll, then handler */
static void helper_accept(void)
{
	struct epoll_event ev;
	int i;

	for (i = 0; i < 100 && !repair_ready(&c); i++) {
		if (epoll_wait(c.epollfd, &ev, 1, 100) == 1) {
			union evtag tag = { .u64 = ev.data.u64 };

			assert_int_equal(tag.kind, EV_REPAIR_LISTEN);
			repair_listen_handler(&c, ev.events);
		}
	}
	assert_true(repair_ready(&c));
}

static struct helper helper_connected(void)
{
	struct helper h = helper_spawn(c.repair_path);

	helper_accept();
	return h;
}

static void test_repair_helper_args(void **state)
{
	char out[512], path[200];
	struct helper h;
	int fd;

	(void)state;
	if (!helper_present())
		skip();
	h = helper_spawn("--help");
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Usage: passt-repair [--timeout SECONDS] PATH"));
	h = helper_spawn("--version");
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	assert_string_equal(out, "passt-repair " VERSION "\n");
	h = helper_spawn("--bogus");
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	h = helper_spawn_args("--timeout", "0", tmpdir);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "invalid --timeout '0'"));
	h = helper_spawn_args("--timeout", "2s", tmpdir);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "invalid --timeout '2s'"));
	h = helper_spawn_args("--timeout", tmpdir, NULL);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "Usage:"));

	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	h = helper_spawn(path);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "invalid socket path"));

	/* below a regular file (ENOTDIR): no point in retrying */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/file/sock", tmpdir);
	h = helper_spawn(path);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "can't connect"));
	assert_non_null(strstr(out, strerror(ENOTDIR)));
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	assert_int_equal(unlink(path), 0);
}

/* Started before the daemon listens; exits 0 when the daemon hangs up */
static void test_repair_helper_waits_and_exits(void **state)
{
	struct helper h;
	char out[512];

	(void)state;
	if (!helper_present())
		skip();
	repair_close(&c);
	h = helper_spawn(c.repair_path);
	usleep(300000);
	assert_int_equal(repair_listen(&c), 0);
	helper_accept();
	repair_close(&c);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(repair_listen(&c), 0);
}

/* A directory of its own, with a regular file named like a socket */
static void dir_make(char *dir, size_t size, char *decoy, size_t dsize)
{
	int fd;

	snprintf(dir, size, "%s/d", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(decoy, dsize, "%s/x.repair", dir);
	fd = open(decoy, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void dir_remove(const char *dir, const char *decoy)
{
	assert_int_equal(unlink(decoy), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* KubeVirt's way: given a directory, the helper waits for the daemon's
 * socket to appear there, ignoring a file that only has the name, then
 * serves requests and exits when the daemon hangs up
 */
static void test_repair_helper_dir_waits(void **state)
{
	char dir[80], decoy[100], out[512];
	struct helper h;
	int p[2], st;

	(void)state;
	if (!helper_present())
		skip();
	repair_close(&c);
	dir_make(dir, sizeof(dir), decoy, sizeof(decoy));
	h = helper_spawn(dir);
	usleep(1500000);		/* past the first rescan */
	assert_int_equal(waitpid(h.pid, &st, WNOHANG), 0);

	snprintf(c.repair_path, sizeof(c.repair_path), "%s/net.sock.repair",
		 dir);
	assert_int_equal(repair_listen(&c), 0);
	helper_accept();
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(repair_set(&c, p, 1, REPAIR_ON), -ENOTSOCK);
	assert_true(repair_ready(&c));
	repair_close(&c);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	close(p[0]);
	close(p[1]);

	dir_remove(dir, decoy);
	snprintf(c.repair_path, sizeof(c.repair_path), "%s/sock.repair",
		 tmpdir);
	assert_int_equal(repair_listen(&c), 0);
}

/* Nothing but a regular file named *.repair: it gives up, and says so */
static void test_repair_helper_dir_timeout(void **state)
{
	char dir[80], decoy[100], out[512];
	struct timespec t0, t1;
	struct helper h;
	long long ms;

	(void)state;
	if (!helper_present())
		skip();
	dir_make(dir, sizeof(dir), decoy, sizeof(decoy));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	h = helper_spawn_args("--timeout", "1", dir);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000LL +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 1000 && ms < 5000);
	assert_non_null(strstr(out, "passt-repair: no socket named *.repair"));
	assert_non_null(strstr(out, "after 1 s\n"));
	assert_true(strchr(out, '\n') == out + strlen(out) - 1);
	dir_remove(dir, decoy);
}

/* Two sockets: it can't tell which daemon is its own, and won't guess */
static void test_repair_helper_dir_two_sockets(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[80], decoy[100], out[512];
	struct helper h;
	int s[2], i;

	(void)state;
	if (!helper_present())
		skip();
	dir_make(dir, sizeof(dir), decoy, sizeof(decoy));
	for (i = 0; i < 2; i++) {
		s[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%d.repair",
			 dir, i);
		assert_int_equal(bind(s[i], (struct sockaddr *)&addr,
				      sizeof(addr)), 0);
		assert_int_equal(listen(s[i], 1), 0);
	}
	h = helper_spawn(dir);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "two sockets in"));
	for (i = 0; i < 2; i++) {
		close(s[i]);
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%d.repair",
			 dir, i);
		assert_int_equal(unlink(addr.sun_path), 0);
	}
	dir_remove(dir, decoy);
}

/* Errors from setsockopt() come back as -errno; the helper stays */
static void test_repair_helper_reports_errno(void **state)
{
	struct helper h;
	int p[2], mix[3], rc;
	char out[512];

	(void)state;
	if (!helper_present())
		skip();
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	h = helper_connected();
	assert_int_equal(repair_set(&c, p, 1, REPAIR_ON), -ENOTSOCK);
	mix[0] = fd_a;		/* not TCP: ENOPROTOOPT or EOPNOTSUPP */
	mix[1] = p[0];
	mix[2] = p[1];
	rc = repair_set(&c, mix, 3, REPAIR_OFF);
	assert_true(rc == -EOPNOTSUPP || rc == -ENOPROTOOPT);
	assert_int_equal(repair_set(&c, p, 2, REPAIR_OFF_NO_WP), -ENOTSOCK);
	assert_true(repair_ready(&c));
	repair_close(&c);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(repair_listen(&c), 0);
}

/* Send one raw request to the helper */
static void raw_send(const void *data, size_t len, const int *rfds, size_t n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), rfds, sizeof(int) * n);
	}
	assert_int_equal(sendmsg(c.repair_fd, &mh, MSG_NOSIGNAL), len);
}

/* Malformed requests: the helper exits 1 with one line naming it */
static void test_repair_helper_protocol_errors(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		size_t nfds;
		const char *what;
	} cases[] = {
		{ "\x01", 1, 0, "without descriptors" },
		{ "\x01\x01", 2, 1, "request of 2 bytes" },
		{ "\x05", 1, 1, "unknown command 5" },
		{ "\xfe", 1, 2, "unknown command -2" },
	};
	char out[512];
	size_t i;

	(void)state;
	if (!helper_present())
		skip();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct helper h = helper_connected();
		int rfds[2] = { fd_a, fd_b };

		raw_send(cases[i].data, cases[i].len, rfds, cases[i].nfds);
		assert_int_equal(helper_wait(&h, out, sizeof(out)), 1);
		if (!strstr(out, cases[i].what) ||
		    strncmp(out, "passt-repair: protocol error", 28) ||
		    strchr(out, '\n') != out + strlen(out) - 1)
			fail_msg("case %zu: '%s'", i, out);
		daemon_drop();
	}
}

/* Set TCP_REPAIR_QUEUE: works in repair mode only (EPERM otherwise) */
static int queue_set(int fd)
{
	int q = TCP_SEND_QUEUE;

	return setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ?
	       -errno : 0;
}

/* Real TCP over loopback, real helper, real repair mode (root only) */
static void test_repair_helper_tcp_repair(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int l, tcp[2], mix[3];
	struct helper h;
	char out[512];

	(void)state;
	if (!helper_present() || geteuid())
		skip();

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	tcp[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(tcp[0], (struct sockaddr *)&sa, sl), 0);
	tcp[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(tcp[1] >= 0);

	assert_int_equal(queue_set(tcp[0]), -EPERM);
	assert_int_equal(queue_set(tcp[1]), -EPERM);

	h = helper_connected();
	assert_int_equal(repair_set(&c, tcp, 2, REPAIR_ON), 0);
	assert_int_equal(queue_set(tcp[0]), 0);
	assert_int_equal(queue_set(tcp[1]), 0);
	assert_int_equal(repair_set(&c, tcp, 2, REPAIR_OFF), 0);
	assert_int_equal(queue_set(tcp[0]), -EPERM);
	assert_int_equal(queue_set(tcp[1]), -EPERM);

	/* first failure reported (listening socket: EPERM), rest still done */
	mix[0] = l;
	mix[1] = tcp[0];
	mix[2] = fd_a;
	assert_int_equal(repair_set(&c, mix, 3, REPAIR_ON), -EPERM);
	assert_int_equal(queue_set(tcp[0]), 0);
	assert_int_equal(repair_set(&c, &tcp[0], 1, REPAIR_OFF_NO_WP), 0);
	assert_int_equal(queue_set(tcp[0]), -EPERM);
	assert_true(repair_ready(&c));

	repair_close(&c);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	close(tcp[0]);
	close(tcp[1]);
	close(l);
	assert_int_equal(repair_listen(&c), 0);
}

/* Instructions of the socket filter on @fd, 0 for none */
static int filter_len(int fd)
{
	socklen_t len = 0;

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len),
			 0);
	return (int)len;
}

/* The helper attaches and detaches the drop-all filter (root only) */
static void test_repair_helper_filters(void **state)
{
	int tcp[2], udp, p[2];
	struct helper h;
	char out[512];

	(void)state;
	if (!helper_present() || geteuid())
		skip();

	tcp[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	tcp[1] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(tcp[0] >= 0 && tcp[1] >= 0 && udp >= 0);
	assert_int_equal(filter_len(tcp[0]), 0);

	h = helper_connected();
	assert_int_equal(repair_set(&c, tcp, 2, REPAIR_DEAF), 0);
	assert_int_equal(filter_len(tcp[0]), 1);
	assert_int_equal(filter_len(tcp[1]), 1);
	assert_int_equal(repair_set(&c, tcp, 2, REPAIR_HEAR), 0);
	assert_int_equal(filter_len(tcp[0]), 0);
	assert_int_equal(filter_len(tcp[1]), 0);

	/* Nothing to detach is no error; a pipe takes no filter */
	assert_int_equal(repair_set(&c, tcp, 1, REPAIR_HEAR), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(repair_set(&c, p, 1, REPAIR_DEAF), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	assert_int_equal(repair_set(&c, &udp, 1, REPAIR_DEAF), 0);
	assert_int_equal(filter_len(udp), 1);
	assert_true(repair_ready(&c));

	repair_close(&c);
	assert_int_equal(helper_wait(&h, out, sizeof(out)), 0);
	close(tcp[0]);
	close(tcp[1]);
	close(udp);
	assert_int_equal(repair_listen(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_repair_no_helper_enotconn),
		T(test_repair_batches_split),
		T(test_repair_error_answer),
		T(test_repair_helper_closes_mid_request),
		T(test_repair_helper_gone_before_request),
		T(test_repair_timeout),
		T(test_repair_answer_too_long),
		T(test_repair_unsolicited_data),
		T(test_repair_second_helper_refused),
		T(test_repair_hangup_event),
		T(test_repair_listen_path),
		T(test_repair_helper_args),
		T(test_repair_helper_waits_and_exits),
		T(test_repair_helper_dir_waits),
		T(test_repair_helper_dir_timeout),
		T(test_repair_helper_dir_two_sockets),
		T(test_repair_helper_reports_errno),
		T(test_repair_helper_protocol_errors),
		T(test_repair_helper_tcp_repair),
		T(test_repair_helper_filters),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
