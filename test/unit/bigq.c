// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/bigq.c - TCP queues larger than an unprivileged buffer
 *
 * A source socket's queues may grow, by autotuning, to tcp_wmem[2] and
 * tcp_rmem[2] (or further, forced by passt-repair on an earlier target),
 * while SO_SNDBUF and SO_RCVBUF give at most wmem_max and rmem_max: the
 * target has to ask passt-repair for SO_SNDBUFFORCE and SO_RCVBUFFORCE.
 *
 * What is tested, as root, against the real tcp_migrate.o, tcp_restore.o,
 * migrate.o, repair.o and the real passt-repair binary (skipped without
 * them):
 *
 * - a loopback connection whose receive queue and send queue are filled
 *   to what the kernel takes (measured here) with buffers past what an
 *   unprivileged SO_RCVBUF, SO_SNDBUF gives, is frozen, dumped
 *   (migrate_build()), closed, and rebuilt (migrate_parse(),
 *   migrate_apply(), tcp_mig_activate()): every byte arrives at both
 *   ends, in order; if the helper refuses, the load fails, and the log
 *   says which queue and how big
 * - hostile requests to the helper's buffer commands: value 0, value past
 *   REPAIR_BUF_MAX, two descriptors, short and long requests; a socket
 *   that isn't TCP; the daemon's own checks in repair_setbuf()
 *
 * Wrapped: tap_send_l4() (nothing goes to a guest), logmsg() (kept, and
 * printed with BIGQ_TEST_DEBUG=1), repair_setbuf() (the real one, or a
 * refusal).
 */

/* WRAP: tap_send_l4 logmsg repair_setbuf */

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
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "ctx.h"
#include "vu_dev.h"
#include "flow.h"
#include "migrate.h"
#include "repair.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "tcp_migrate.h"
#include "tcp_guard.h"
#include "tcp_restore.h"

#define HELPER_BIN	"./passt-repair"
#define WAIT_MS		20000		/* for the streams to drain */

static struct ctx c;
static struct vu_dev vdev;
static char tmpdir[64];
static pid_t helper_pid = -1;
static int helper_err = -1;		/* its stderr and stdout */

/* Test double: nothing goes to a guest */
int __wrap_tap_send_l4(struct ctx *cc, const union inany_addr *s,
		       const union inany_addr *d, uint8_t proto,
		       const struct iovec *l4, size_t cnt);
int __wrap_tap_send_l4(struct ctx *cc, const union inany_addr *s,
		       const union inany_addr *d, uint8_t proto,
		       const struct iovec *l4, size_t cnt)
{
	(void)cc;
	(void)s;
	(void)d;
	(void)proto;
	(void)l4;
	(void)cnt;
	return 0;
}

static char errs[2048];		/* messages at LOG_ERR or worse, lines */

void __real_logmsg(int pri, const char *fmt, ...);
void __wrap_logmsg(int pri, const char *fmt, ...) PRINTF(2, 3);

static int setbuf_refuse;	/* repair_setbuf() fails with this, if set */

int __real_repair_setbuf(struct ctx *cc, int fd, int cmd, uint32_t bytes);
int __wrap_repair_setbuf(struct ctx *cc, int fd, int cmd, uint32_t bytes);

/* Test double: the real one, or a helper that refuses */
int __wrap_repair_setbuf(struct ctx *cc, int fd, int cmd, uint32_t bytes)
{
	if (setbuf_refuse)
		return setbuf_refuse;
	return __real_repair_setbuf(cc, fd, cmd, bytes);
}

/* Test double: keep the last error, print everything when asked to */
void __wrap_logmsg(int pri, const char *fmt, ...)
{
	char msg[512];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pri <= LOG_ERR) {
		size_t len = strlen(errs);

		snprintf(errs + len, sizeof(errs) - len, "%s\n", msg);
	}
	if (getenv("BIGQ_TEST_DEBUG"))
		__real_logmsg(pri, "%s", msg);
	errno = saved;
}

static long sysctl_get(const char *path)
{
	FILE *f = fopen(path, "re");
	long v[3] = { -1, -1, -1 };
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%ld %ld %ld", &v[0], &v[1], &v[2]);
	fclose(f);
	return n == 3 ? v[2] : n == 1 ? v[0] : -1;	/* tcp_*mem: max */
}

static bool can_run(void)
{
	return !geteuid() && !access(HELPER_BIN, X_OK);
}

/* Start the real helper on c.repair_path and accept it */
static void helper_start(void)
{
	struct epoll_event ev;
	int p[2], i;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	helper_pid = fork();
	assert_true(helper_pid >= 0);
	if (!helper_pid) {
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execl(HELPER_BIN, HELPER_BIN, c.repair_path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	helper_err = p[0];

	for (i = 0; i < 100 && !repair_ready(&c); i++) {
		if (epoll_wait(c.epollfd, &ev, 1, 100) == 1)
			repair_listen_handler(&c, ev.events);
	}
	assert_true(repair_ready(&c));
}

/* Wait (up to 10 s) for the helper to exit: its status; output in @out */
static int helper_wait(char *out, size_t size)
{
	size_t n = 0;
	ssize_t r;
	int st, i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(helper_pid, &st, WNOHANG) == helper_pid)
			break;
		usleep(10000);
	}
	if (i == 1000) {
		kill(helper_pid, SIGKILL);
		waitpid(helper_pid, &st, 0);
	}
	helper_pid = -1;
	while (n < size - 1 &&
	       (r = read(helper_err, out + n, size - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(helper_err);
	helper_err = -1;
	return i < 1000 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
	(void)state;
	if (!can_run())
		return 0;
	errs[0] = '\0';
	memset(&c, 0, sizeof(c));
	memset(&vdev, 0, sizeof(vdev));
	c.vdev = &vdev;		/* activation sends the guest what it owes */
	c.mode_vu = true;
	c.repair_fd = c.repair_listen_fd = c.fd_conn = -1;
	c.timerfd = -1;
	c.mtu = 65520;
	c.v4 = c.v6 = true;
	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(c.epollfd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &c.now);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/passt-bigq-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(c.repair_path, sizeof(c.repair_path), "%s/sock.repair",
		 tmpdir);
	assert_int_equal(repair_listen(&c), 0);
	flow_init();
	assert_int_equal(tcp_init(&c), 0);
	return 0;
}

static int teardown(void **state)
{
	char out[512];
	int idx;

	(void)state;
	if (!can_run())
		return 0;
	while ((idx = flow_next(FLOW_TCP, -1)) >= 0)
		tcp_conn_drop(&c, (unsigned)idx);
	flow_defer_handler();
	tcp_mig_unstage();
	tcp_guard_clear();
	repair_close(&c);
	if (helper_pid > 0)
		helper_wait(out, sizeof(out));
	close(c.epollfd);
	rmdir(tmpdir);
	return 0;
}

/* The two streams: peer to us (for the guest), us (the guest) to peer */
static uint8_t pat_in(size_t i)
{
	return (uint8_t)(i % 251);
}

static uint8_t pat_out(size_t i)
{
	return (uint8_t)(i % 241 + 7);
}

/* Write the stream of @pat from offset *@off until @fd takes no more */
static void fill(int fd, uint8_t (*pat)(size_t), size_t *off)
{
	static uint8_t b[1 << 20];
	int idle;

	for (idle = 0; idle < 25; ) {
		size_t i;
		ssize_t n;

		for (i = 0; i < sizeof(b); i++)
			b[i] = pat(*off + i);
		n = send(fd, b, sizeof(b), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			*off += (size_t)n;
			idle = 0;
			continue;
		}
		assert_true(n < 0 && errno == EAGAIN);
		idle++;
		usleep(20000);
	}
}

/* Read what @fd has, check it against @pat from offset *@off */
static void drain(int fd, uint8_t (*pat)(size_t), size_t *off)
{
	static uint8_t b[1 << 20];
	ssize_t n, i;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		for (i = 0; i < n; i++) {
			if (b[i] != pat(*off + (size_t)i))
				fail_msg("byte %zu of the stream is wrong",
					 *off + (size_t)i);
		}
		*off += (size_t)n;
	}
	assert_true(n < 0 && errno == EAGAIN);
}

static int bufsize(int fd, int opt)
{
	socklen_t sl = sizeof(int);
	int v = 0;

	assert_int_equal(getsockopt(fd, SOL_SOCKET, opt, &v, &sl), 0);
	return v;
}

static void force(int fd, int opt, int v)
{
	assert_int_equal(setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)), 0);
}

/* A loopback connection: *@cfd ours, with buffers forced to @v (the
 * kernel doubles it), *@sfd the peer, with a large send buffer and a
 * small receive buffer, so that our send queue fills up
 */
static void pair_big(int *cfd, int *sfd, uint16_t *port, int v)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int l, small = 4096;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	force(l, SO_SNDBUFFORCE, v);
	force(l, SO_RCVBUF, small);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);

	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*cfd >= 0);
	force(*cfd, SO_RCVBUFFORCE, v);
	force(*cfd, SO_SNDBUFFORCE, v);
	assert_int_equal(connect(*cfd, (struct sockaddr *)&sa, sl), 0);
	*sfd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(*sfd >= 0);
	close(l);
	assert_int_equal(fcntl(*cfd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(*sfd, F_SETFL, O_NONBLOCK), 0);
}

/* Make @fd the socket of a guest connection, as tcp.c would */
static void conn_install(int fd, struct flow_key *key, uint16_t fport)
{
	struct tcp_conn *conn;
	int idx;

	memset(key, 0, sizeof(*key));
	key->proto = IPPROTO_TCP;
	inany_from_v4(&key->gaddr, (struct in_addr){ htonl(0x0a00020f) });
	inany_from_v4(&key->faddr, (struct in_addr){ htonl(0x0a000202) });
	key->gport = 40100;
	key->fport = fport;
	idx = flow_alloc(FLOW_TCP, key);
	assert_true(idx >= 0);
	conn = tcp_conn_at((unsigned)idx);
	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
	conn->state = CS_ESTABLISHED;
	conn->flags = CONN_WS;
	conn->ws_guest = 7;
	conn->mss = 1460;
	conn->seq_acked = conn->seq_to_guest = conn->seq_max = 1000;
	conn->seq_from_guest = 0x12345678;
	conn->wnd_from_guest = 65535U << 7;
	conn->wnd_to_guest = 65535;
	assert_int_equal(tcp_conn_adopt(&c, (unsigned)idx), 0);
}

/* Save the connection, close it, load it back: the new socket */
static int move(const struct flow_key *key)
{
	struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
	struct mig_buf b = { 0 };
	int idx, rc;

	assert_int_equal(tcp_mig_freeze(&c), 0);
	assert_int_equal(migrate_build(&c, &b), 0);
	tcp_mig_release(&c);
	flow_defer_handler();
	assert_true(flow_lookup(key) < 0);

	assert_true(migrate_parse(&c, b.p, b.len, refs) > 0);
	rc = migrate_apply(&c, refs);
	if (rc) {
		mig_buf_free(&b);
		fail_msg("load failed: %s; logged:\n%s", strerror(-rc),
			 errs);
	}
	rc = tcp_mig_activate(&c, TCP_MIG_HELD_LOSE);
	mig_buf_free(&b);
	if (rc != 1)
		fail_msg("activation: %d; logged:\n%s", rc, errs);
	idx = flow_lookup(key);
	assert_true(idx >= 0);
	return tcp_conn_at((unsigned)idx)->fd;
}

/* A guest connection with both queues at the kernel's maximum, past
 * what an unprivileged SO_RCVBUF, SO_SNDBUF gives; bytes written in *@in
 * (by the peer @sfd) and *@out (by us)
 */
static void conn_full(struct flow_key *key, int *sfd, size_t *in,
		      size_t *out)
{
	long rmem_max = sysctl_get("/proc/sys/net/core/rmem_max");
	long wmem_max = sysctl_get("/proc/sys/net/core/wmem_max");
	int cfd, inq, outq, v;
	uint16_t port;

	/* Buffers twice the unprivileged ceiling: the kernel doubles this */
	v = (int)(2 * MAX(rmem_max, wmem_max));
	assert_true(v > 0 && (unsigned)v <= REPAIR_BUF_MAX / 2);
	pair_big(&cfd, sfd, &port, v);
	fill(*sfd, pat_in, in);		/* we don't read: our receive queue */
	fill(cfd, pat_out, out);	/* the peer doesn't: our send queue */
	assert_int_equal(ioctl(cfd, SIOCINQ, &inq), 0);
	assert_int_equal(ioctl(cfd, SIOCOUTQ, &outq), 0);
	printf("rmem_max %ld, wmem_max %ld, tcp_rmem[2] %ld, tcp_wmem[2] %ld\n"
	       "queues at the maximum: receive %d bytes (SO_RCVBUF %d), "
	       "send %d bytes (SO_SNDBUF %d)\n", rmem_max, wmem_max,
	       sysctl_get("/proc/sys/net/ipv4/tcp_rmem"),
	       sysctl_get("/proc/sys/net/ipv4/tcp_wmem"), inq,
	       bufsize(cfd, SO_RCVBUF), outq, bufsize(cfd, SO_SNDBUF));
	/* Past what SO_RCVBUF, SO_SNDBUF could take for them on the target */
	assert_true(inq > rmem_max && outq > wmem_max);
	conn_install(cfd, key, port);
}

/* Every byte arrives after the move, at both ends */
static void test_bigq_round_trip(void **state)
{
	size_t in = 0, out = 0, got_in = 0, got_out = 0;
	struct flow_key key;
	int sfd, fd, inq, t;

	(void)state;
	if (!can_run())
		skip();
	helper_start();
	conn_full(&key, &sfd, &in, &out);
	fd = move(&key);

	for (t = 0; t < WAIT_MS / 10 && (got_in < in || got_out < out); t++) {
		drain(fd, pat_in, &got_in);
		drain(sfd, pat_out, &got_out);
		usleep(10000);
	}
	printf("after the move: %zu of %zu bytes in, %zu of %zu out\n",
	       got_in, in, got_out, out);
	assert_int_equal(got_in, in);
	assert_int_equal(got_out, out);

	/* And it goes on, both ways */
	assert_int_equal(send(sfd, "peer", 4, MSG_NOSIGNAL), 4);
	assert_int_equal(send(fd, "guest", 5, MSG_NOSIGNAL), 5);
	usleep(50000);
	assert_int_equal(ioctl(fd, SIOCINQ, &inq), 0);
	assert_int_equal(inq, 4);
	assert_int_equal(ioctl(sfd, SIOCINQ, &inq), 0);
	assert_int_equal(inq, 5);
	close(sfd);
}

/* The helper refuses: the load fails, and says which queue, how big */
static void test_bigq_refused(void **state)
{
	struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
	struct mig_buf b = { 0 };
	size_t in = 0, out = 0;
	struct flow_key key;
	int sfd, rc;

	(void)state;
	if (!can_run())
		skip();
	helper_start();
	conn_full(&key, &sfd, &in, &out);
	assert_int_equal(tcp_mig_freeze(&c), 0);
	assert_int_equal(migrate_build(&c, &b), 0);
	tcp_mig_release(&c);
	flow_defer_handler();

	setbuf_refuse = -EPERM;
	assert_true(migrate_parse(&c, b.p, b.len, refs) > 0);
	rc = migrate_apply(&c, refs);
	setbuf_refuse = 0;
	mig_buf_free(&b);
	assert_int_equal(rc, -ENOBUFS);
	assert_false(tcp_mig_staged());
	assert_true(flow_lookup(&key) < 0);
	if (!strstr(errs, "TCP connection 0: send queue of ") ||
	    !strstr(errs, strerror(EPERM)))
		fail_msg("logged:\n%s", errs);
	close(sfd);
}

/* Send one raw request to the helper: @len bytes, @n descriptors */
static void raw_send(const void *data, size_t len, const int *fds, size_t n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);

	assert_true(n >= 1 && n <= 2);
	memset(u.buf, 0, sizeof(u.buf));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n);
	assert_int_equal(sendmsg(c.repair_fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* A hostile request: the helper exits 1, saying @why */
static void refused(const void *data, size_t len, size_t n, const char *why)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fds[2] = { fd, fd };
	char out[512];

	assert_true(fd >= 0);
	helper_start();
	raw_send(data, len, fds, n);
	close(fd);
	assert_int_equal(helper_wait(out, sizeof(out)), 1);
	if (!strstr(out, why))
		fail_msg("helper said \"%s\", expected \"%s\"", out, why);
	repair_handler(&c, EPOLLHUP);
	assert_false(repair_ready(&c));
}

static void test_bigq_helper_hostile(void **state)
{
	uint8_t ok[5] = { REPAIR_RCVBUF, 0, 1, 0, 0 };	/* 65536 bytes */
	uint8_t zero[5] = { REPAIR_SNDBUF, 0, 0, 0, 0 };
	uint8_t big[5] = { REPAIR_RCVBUF, 0, 0, 0, 0 };
	uint8_t long_req[6] = { REPAIR_RCVBUF, 0, 1, 0, 0, 0 };
	uint8_t old[5] = { REPAIR_ON, 0, 1, 0, 0 };
	uint32_t be = htonl(REPAIR_BUF_MAX + 1);
	int tcp, udp, rc;
	char out[512];

	(void)state;
	if (!can_run())
		skip();
	memcpy(big + 1, &be, sizeof(be));

	refused(zero, sizeof(zero), 1, "buffer size 0");
	refused(big, sizeof(big), 1, "buffer size 67108865");
	refused(ok, sizeof(ok), 2, "for 2 sockets");
	refused(ok, 1, 1, "in 1 bytes");
	refused(long_req, sizeof(long_req), 1, "in 6 bytes");
	refused(old, sizeof(old), 1, "request of 5 bytes");

	/* The daemon checks before sending: the helper stays */
	helper_start();
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(tcp >= 0 && udp >= 0);
	assert_int_equal(repair_setbuf(&c, tcp, REPAIR_ON, 4096), -EINVAL);
	assert_int_equal(repair_setbuf(&c, tcp, REPAIR_RCVBUF, 0), -EINVAL);
	assert_int_equal(repair_setbuf(&c, tcp, REPAIR_RCVBUF,
				       REPAIR_BUF_MAX + 1), -EINVAL);
	assert_int_equal(repair_setbuf(&c, -1, REPAIR_SNDBUF, 4096), -EINVAL);
	assert_int_equal(repair_set(&c, &tcp, 1, REPAIR_RCVBUF), -EINVAL);

	/* Not TCP: refused, and the helper stays */
	rc = repair_setbuf(&c, udp, REPAIR_RCVBUF, 4096);
	assert_int_equal(rc, -EPROTOTYPE);
	assert_true(repair_ready(&c));

	/* A TCP socket: forced past the unprivileged ceiling */
	rc = (int)sysctl_get("/proc/sys/net/core/rmem_max");
	assert_int_equal(repair_setbuf(&c, tcp, REPAIR_RCVBUF,
				       (uint32_t)rc * 2), 0);
	assert_int_equal(bufsize(tcp, SO_RCVBUF), rc * 4);
	assert_int_equal(repair_setbuf(&c, tcp, REPAIR_SNDBUF, 65536), 0);
	assert_int_equal(bufsize(tcp, SO_SNDBUF), 131072);
	close(tcp);
	close(udp);

	repair_close(&c);
	assert_int_equal(helper_wait(out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(repair_listen(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_bigq_round_trip),
		T(test_bigq_refused),
		T(test_bigq_helper_hostile),
#undef T
	};

	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
