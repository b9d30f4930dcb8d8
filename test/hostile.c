// SPDX-License-Identifier: GPL-2.0-or-later
/* test/hostile.c - A misbehaving vhost-user front-end against the daemon
 *
 * DOC: Theory of operation
 *
 * Usage: hostile SOCKET PID [CASE-SUBSTRING]
 *
 * We talk to a running daemon over its vhost-user socket, as QEMU would:
 * feature negotiation with REPLY_ACK, a memfd as guest memory, and split
 * rings for the RX (0) and TX (1) queues built inside that memfd.  Each
 * case then breaks the protocol in one way: malformed or unknown messages,
 * wrong file descriptor counts, bad queue indices, sizes and addresses,
 * hostile memory tables, corrupt descriptor chains, misused device state
 * transfers, connection churn.
 *
 * After every case a well-behaved front-end connects again (waiting, for a
 * bounded time, until the daemon answers GET_FEATURES: it serves one
 * front-end at a time and closes any other at once), does the whole
 * handshake with every REPLY_ACK 0, puts an ARP request for the gateway on
 * the TX ring and expects the reply on the RX ring within 2 s.  Then the
 * daemon's open file descriptors (/proc/PID/fd) and mappings
 * (/proc/PID/maps) must come back to their baseline: nothing it got from a
 * front-end may outlive the session.
 *
 * Output: "ok N - name" or "not ok N - name: reason" per case, then
 * "N passed, M failed".  Exit status 1 if any case failed.
 *
 * Every wait is bounded; a daemon that stops answering fails the case, and
 * one that died fails all the cases left without waiting for it.
 */

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user.h"
#include "vu_common.h"
#include "frontend.h"

/* Guest memory: one memfd, one region */
#define MEM_SIZE	(1UL << 20)
#define QVA_BASE	0x7f3a00000000ULL	/* "QEMU's" address of guest RAM */
#define GPA_BASE	0x0ULL

/* Rings of queue q at RING(q) in guest memory */
#define QNUM		256
#define RING(q)		(0x10000UL * (q))
#define DESC_OFF	0x0000UL
#define AVAIL_OFF	0x1000UL
#define USED_OFF	0x2000UL

/* Buffers */
#define RXBUF		0x20000UL	/* RX_BUFS receive buffers of RX_BUF_LEN */
#define RX_BUFS		16
#define RX_BUF_LEN	2048
#define TXBUF		0x40000UL	/* frames we send, 256 bytes apart */
#define TX_SLOT		256
#define INDBUF		0x80000UL	/* indirect descriptor tables */

#define NET_HDR_LEN	12		/* virtio_net_hdr_mrg_rxbuf */
#define ARP_LEN		42		/* Ethernet + ARP for IPv4 */

#define REPLY_MS	1000		/* an answer to a request */
#define DROP_MS		1000		/* the daemon closing a connection */
#define READY_MS	5000		/* the daemon serving a new front-end */
#define ARP_MS		2000		/* the ARP reply on the RX ring */
#define SETTLE_MS	2000		/* fds and mappings back to baseline */


#define GUEST_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |			\
			 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |		\
			 BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES))
#define WANT_PROTOCOL	(BIT_ULL(VHOST_USER_PROTOCOL_F_REPLY_ACK) |	\
			 BIT_ULL(VHOST_USER_PROTOCOL_F_LOG_SHMFD) |	\
			 BIT_ULL(VHOST_USER_PROTOCOL_F_DEVICE_STATE))

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t guest_ip[4] = { 192, 0, 2, 1 };
static const uint8_t gw_ip[4] = { 192, 0, 2, 2 };

/**
 * struct fe - One front-end connection and its guest
 * @s:		Control socket, -1 if none
 * @memfd:	Guest memory, -1 if none
 * @mem:	Our mapping of it, NULL if none
 * @kick:	Kick eventfds we gave, per queue, -1 if none
 * @call:	Call eventfds we gave, per queue, -1 if none
 * @ring:	Our view of the rings, per queue, avail_idx the next we publish
 * @used:	Used entries we have looked at, per queue
 * @offered:	Features from GET_FEATURES
 * @acked:	Features we acked with SET_FEATURES
 */
struct fe {
	int s;
	int memfd;
	uint8_t *mem;
	int kick[2];
	int call[2];
	struct vfe_ring ring[2];
	uint16_t used[2];
	uint64_t offered;
	uint64_t acked;
};

/* What we run against */
static const char *sock_path;
static pid_t daemon_pid;
static int base_fds, base_maps;

/* Reason of the last failure */
static char why[512];

/**
 * fail() - Format the reason a case failed
 * @fmt:	printf() format
 *
 * Return: the reason, in a static buffer
 */
__attribute__((format(printf, 1, 2)))
static const char *fail(const char *fmt, ...)
{
	char tmp[sizeof(why)];
	va_list ap;

	/* Arguments may point into why[] itself */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(why, tmp, sizeof(why));
	return why;
}

/**
 * now_ms() - Monotonic clock
 *
 * Return: milliseconds
 */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/**
 * sleep_ms() - Sleep
 * @ms:		Milliseconds
 */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/**
 * close_fd_p() - Close a file descriptor if open, set it to -1
 * @fd:		File descriptor
 */
static void close_fd_p(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* --- The daemon, from /proc ---------------------------------------------- */

/**
 * daemon_alive() - Check the daemon process still runs
 *
 * Return: true if it exists and is not a zombie
 */
static bool daemon_alive(void)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)daemon_pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	if (!(p = strrchr(buf, ')')) || p[1] != ' ')
		return false;
	return p[2] != 'Z' && p[2] != 'X';
}

/**
 * count_fds() - Count the daemon's open file descriptors
 *
 * Return: count, -1 on failure
 */
static int count_fds(void)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)daemon_pid);
	if (!(dir = opendir(path)))
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/**
 * count_maps() - Count the daemon's mappings
 *
 * Return: lines of /proc/PID/maps, -1 on failure
 */
static int count_maps(void)
{
	static char buf[1 << 16];
	char path[64];
	int fd, n = 0;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)daemon_pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		ssize_t i;

		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	}
	close(fd);
	return r < 0 ? -1 : n;
}

/**
 * wait_counts() - Wait until fds and mappings reach given counts
 * @fds:	Expected file descriptors
 * @maps:	Expected mappings
 * @ms:		Bound, milliseconds
 *
 * Return: NULL when reached, reason otherwise
 */
static const char *wait_counts(int fds, int maps, int ms)
{
	long long end = now_ms() + ms;
	int nf, nm;

	for (;;) {
		nf = count_fds();
		nm = count_maps();
		if (nf == fds && nm == maps)
			return NULL;
		if (now_ms() > end)
			break;
		sleep_ms(5);
	}
	return fail("%d fds (expected %d), %d mappings (expected %d)",
		    nf, fds, nm, maps);
}

/* --- Messages ----------------------------------------------------------- */

/**
 * recv_full() - Receive exactly @len bytes within a time bound
 * @s:		Socket
 * @buf:	Destination
 * @len:	Bytes
 * @ms:		Bound, milliseconds
 *
 * Return: 0, -ETIMEDOUT, -ECONNRESET if the peer closed, -errno
 */
static int recv_full(int s, void *buf, size_t len, int ms)
{
	long long end = now_ms() + ms;
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		long long left = end - now_ms();
		ssize_t n;
		int rc;

		if (left < 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (!rc)
			return -ETIMEDOUT;

		n = recv(s, p, len, MSG_DONTWAIT);
		if (!n)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ECONNRESET || errno == EPIPE)
				return -ECONNRESET;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/**
 * msg_reply() - Receive the reply to a request
 * @s:		Socket
 * @req:	Request it must answer
 * @v:		First 8 payload bytes, little-endian u64, set if not NULL
 * @ms:		Bound, milliseconds
 *
 * Return: 0, -ETIMEDOUT, -ECONNRESET if the daemon closed, -EPROTO for a
 *	   reply that isn't one to @req
 */
static int msg_reply(int s, uint32_t req, uint64_t *v, int ms)
{
	uint8_t pl[VHOST_USER_MAX_PAYLOAD];
	struct vhost_user_hdr h;
	uint32_t size;
	uint64_t u = 0;
	int rc;

	if ((rc = recv_full(s, &h, sizeof(h), ms)))
		return rc;
	size = le32toh(h.size);
	if (size > sizeof(pl))
		return -EPROTO;
	if ((rc = recv_full(s, pl, size, ms)))
		return rc;
	if (le32toh(h.request) != req ||
	    !(le32toh(h.flags) & VHOST_USER_FLAG_REPLY))
		return -EPROTO;
	memcpy(&u, pl, MIN(size, sizeof(u)));
	if (v)
		*v = le64toh(u);
	return 0;
}

/**
 * errstr() - Describe a transport error for a failure reason
 * @rc:		-errno from msg_reply() or vfe_send()
 *
 * Return: text
 */
static const char *errstr(int rc)
{
	switch (rc) {
	case -ETIMEDOUT:	return "no reply";
	case -ECONNRESET:	return "connection closed";
	case -EPROTO:		return "reply to something else";
	default:		return strerror(-rc);
	}
}

/**
 * ack() - Send a request with NEED_REPLY, wait for its reply
 * @s:		Socket
 * @req:	Request
 * @pl:		Payload, may be NULL
 * @len:	Payload size
 * @fds:	Descriptors, may be NULL
 * @nfds:	How many
 * @v:		Reply value, set on success
 *
 * Return: 0 if a reply came, -errno otherwise
 */
static int ack(int s, uint32_t req, const void *pl, size_t len,
	       const int *fds, unsigned nfds, uint64_t *v)
{
	int rc = vfe_send(s, req, true, pl, len, fds, nfds);

	if (rc == -EPIPE || rc == -ECONNRESET)
		return -ECONNRESET;
	if (rc)
		return rc;
	return msg_reply(s, req, v, REPLY_MS);
}

/**
 * ack_ok() - Send a request that must be acknowledged with 0
 * @s:		Socket
 * @req:	Request
 * @what:	Name for the failure reason
 * @pl:		Payload, may be NULL
 * @len:	Payload size
 * @fds:	Descriptors, may be NULL
 * @nfds:	How many
 *
 * Return: NULL if acknowledged with 0, reason otherwise
 */
static const char *ack_ok(int s, uint32_t req, const char *what,
			  const void *pl, size_t len, const int *fds,
			  unsigned nfds)
{
	uint64_t v;
	int rc = ack(s, req, pl, len, fds, nfds, &v);

	if (rc)
		return fail("%s: %s", what, errstr(rc));
	if (v)
		return fail("%s: acknowledged with %llu", what,
			    (unsigned long long)v);
	return NULL;
}

/**
 * refused() - Send a request that must be refused or dropped
 * @s:		Socket
 * @req:	Request
 * @what:	Name for the failure reason
 * @pl:		Payload, may be NULL
 * @len:	Payload size
 * @fds:	Descriptors, may be NULL
 * @nfds:	How many
 * @dropped:	Set if the daemon closed the connection, may be NULL
 *
 * A non-zero acknowledgement or the connection closed both count.
 *
 * Return: NULL if refused, reason otherwise
 */
static const char *refused(int s, uint32_t req, const char *what,
			   const void *pl, size_t len, const int *fds,
			   unsigned nfds, bool *dropped)
{
	uint64_t v;
	int rc = ack(s, req, pl, len, fds, nfds, &v);

	if (dropped)
		*dropped = rc == -ECONNRESET;
	if (rc == -ECONNRESET || (!rc && v))
		return NULL;
	if (rc)
		return fail("%s: %s", what, errstr(rc));
	return fail("%s: accepted", what);
}

/**
 * expect_drop() - Wait for the daemon to close the connection
 * @s:		Socket
 * @what:	Name for the failure reason
 *
 * Return: NULL if it closed it within DROP_MS (with nothing sent before),
 *	   reason otherwise
 */
static const char *expect_drop(int s, const char *what)
{
	uint8_t b;
	int rc = recv_full(s, &b, 1, DROP_MS);

	if (rc == -ECONNRESET)
		return NULL;
	if (!rc)
		return fail("%s: got an answer instead of a disconnection", what);
	return fail("%s: connection not closed: %s", what, errstr(rc));
}

/**
 * responsive() - Check the daemon still answers on this connection
 * @s:		Socket
 * @what:	Name for the failure reason
 *
 * Return: NULL if GET_FEATURES is answered within REPLY_MS
 */
static const char *responsive(int s, const char *what)
{
	uint64_t v;
	int rc;

	if ((rc = vfe_send(s, VHOST_USER_GET_FEATURES, false, NULL, 0,
			   NULL, 0)) ||
	    (rc = msg_reply(s, VHOST_USER_GET_FEATURES, &v, REPLY_MS)))
		return fail("%s: GET_FEATURES afterwards: %s", what,
			    errstr(rc));
	return NULL;
}

/* --- A front-end --------------------------------------------------------- */

/**
 * fe_init() - A front-end with nothing open
 * @f:		Front-end
 */
static void fe_init(struct fe *f)
{
	memset(f, 0, sizeof(*f));
	f->s = f->memfd = -1;
	f->kick[0] = f->kick[1] = f->call[0] = f->call[1] = -1;
}

/**
 * fe_close() - Close everything of a front-end
 * @f:		Front-end, ready to be used again
 */
static void fe_close(struct fe *f)
{
	close_fd_p(&f->s);
	close_fd_p(&f->memfd);
	close_fd_p(&f->kick[0]);
	close_fd_p(&f->kick[1]);
	close_fd_p(&f->call[0]);
	close_fd_p(&f->call[1]);
	if (f->mem)
		munmap(f->mem, MEM_SIZE);
	fe_init(f);
}

/**
 * sock_connect() - Connect to the daemon's socket, without blocking
 *
 * Return: connected socket (blocking), -errno on failure
 */
static int sock_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { 2, 0 };
	int s;

	if (strlen(sock_path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, sock_path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		int rc = -errno;

		close(s);
		return rc;
	}
	/* Blocking from now on, but no send waits forever */
	if (fcntl(s, F_SETFL, 0) ||
	    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		int rc = -errno;

		close(s);
		return rc;
	}
	return s;
}

/**
 * fe_connect() - Connect and wait until the daemon serves us
 * @f:		Front-end, with no socket
 * @ms:		Bound, milliseconds
 *
 * The daemon closes a connection at once while it still serves another
 * one (or hasn't yet seen the last one go): try again until GET_FEATURES
 * is answered.
 *
 * Return: NULL on success (@f->offered set), reason otherwise
 */
static const char *fe_connect(struct fe *f, int ms)
{
	long long end = now_ms() + ms;
	int rc = 0;

	while (now_ms() <= end) {
		uint64_t v;

		if (!daemon_alive())
			return fail("the daemon is gone");
		if ((f->s = sock_connect()) < 0) {
			rc = f->s;
			f->s = -1;
			sleep_ms(2);
			continue;
		}
		rc = vfe_send(f->s, VHOST_USER_GET_FEATURES, false, NULL, 0,
			      NULL, 0);
		if (!rc)
			rc = msg_reply(f->s, VHOST_USER_GET_FEATURES, &v,
				       REPLY_MS);
		if (!rc) {
			f->offered = v;
			return NULL;
		}
		close_fd_p(&f->s);
		sleep_ms(2);
	}
	return fail("daemon not serving a new front-end after %d ms: %s", ms,
		    errstr(rc));
}

/**
 * fe_rings() - Point our view of both queues at their rings in guest memory
 * @f:		Front-end, memory mapped
 */
static void fe_rings(struct fe *f)
{
	unsigned q;

	for (q = 0; q < 2; q++) {
		f->ring[q].desc = f->mem + RING(q) + DESC_OFF;
		f->ring[q].avail = f->mem + RING(q) + AVAIL_OFF;
		f->ring[q].used = f->mem + RING(q) + USED_OFF;
		f->ring[q].num = QNUM;
	}
}

/**
 * fe_memory() - Make the guest memory of a front-end
 * @f:		Front-end
 *
 * Return: NULL on success, reason otherwise
 */
static const char *fe_memory(struct fe *f)
{
	void *p;

	if ((f->memfd = vfe_memfd(MEM_SIZE, F_SEAL_SHRINK | F_SEAL_GROW)) < 0)
		return fail("memfd: %s", strerror(errno));
	p = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 f->memfd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	f->mem = p;
	fe_rings(f);
	return NULL;
}

/**
 * fe_mem_table() - Send the one-region memory table of a front-end
 * @f:		Front-end, with memory
 *
 * Return: NULL if acknowledged with 0, reason otherwise
 */
static const char *fe_mem_table(struct fe *f)
{
	struct vhost_user_mem_table t = { .nregions = htole32(1) };

	t.regions[0] = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE, 0);
	return ack_ok(f->s, VHOST_USER_SET_MEM_TABLE, "SET_MEM_TABLE", &t,
		      vfe_table_len(1), &f->memfd, 1);
}

/**
 * vaddr() - Make a vring address payload for the rings of queue @q
 * @idx:	Queue index in the message
 * @q:		Queue whose rings to point at (0 or 1)
 *
 * Return: payload
 */
static struct vhost_user_vring_addr vaddr(uint32_t idx, unsigned q)
{
	struct vhost_user_vring_addr a = {
		.index = htole32(idx),
		.desc_user_addr = htole64(QVA_BASE + RING(q) + DESC_OFF),
		.used_user_addr = htole64(QVA_BASE + RING(q) + USED_OFF),
		.avail_user_addr = htole64(QVA_BASE + RING(q) + AVAIL_OFF),
	};

	return a;
}

/**
 * fe_queue() - Set up one queue: size, base, addresses, eventfds, enable
 * @f:		Front-end, memory table sent
 * @q:		Queue
 *
 * Return: NULL on success, reason otherwise
 */
static const char *fe_queue(struct fe *f, unsigned q)
{
	struct vhost_user_vring_state st;
	struct vhost_user_vring_addr a;
	const char *r;
	uint64_t u;

	st = vfe_vstate(q, QNUM);
	if ((r = ack_ok(f->s, VHOST_USER_SET_VRING_NUM, "SET_VRING_NUM",
			&st, sizeof(st), NULL, 0)))
		return r;
	st = vfe_vstate(q, 0);
	if ((r = ack_ok(f->s, VHOST_USER_SET_VRING_BASE, "SET_VRING_BASE",
			&st, sizeof(st), NULL, 0)))
		return r;
	a = vaddr(q, q);
	if ((r = ack_ok(f->s, VHOST_USER_SET_VRING_ADDR, "SET_VRING_ADDR",
			&a, sizeof(a), NULL, 0)))
		return r;

	f->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->kick[q] < 0 || f->call[q] < 0)
		return fail("eventfd: %s", strerror(errno));
	u = htole64(q);
	if ((r = ack_ok(f->s, VHOST_USER_SET_VRING_KICK, "SET_VRING_KICK",
			&u, sizeof(u), &f->kick[q], 1)) ||
	    (r = ack_ok(f->s, VHOST_USER_SET_VRING_CALL, "SET_VRING_CALL",
			&u, sizeof(u), &f->call[q], 1)))
		return r;
	st = vfe_vstate(q, 1);
	return ack_ok(f->s, VHOST_USER_SET_VRING_ENABLE, "SET_VRING_ENABLE",
		      &st, sizeof(st), NULL, 0);
}

/**
 * fe_features() - Negotiate features, claim ownership
 * @f:		Front-end, connected (GET_FEATURES answered)
 * @features:	Virtio features to ack
 *
 * Return: NULL on success, reason otherwise
 */
static const char *fe_features(struct fe *f, uint64_t features)
{
	uint64_t pf, u;
	const char *r;
	int rc;

	if ((features & f->offered) != features)
		return fail("features 0x%llx offered, 0x%llx wanted",
			    (unsigned long long)f->offered,
			    (unsigned long long)features);
	if ((rc = vfe_send(f->s, VHOST_USER_GET_PROTOCOL_FEATURES, false,
			   NULL, 0, NULL, 0)) ||
	    (rc = msg_reply(f->s, VHOST_USER_GET_PROTOCOL_FEATURES, &pf,
			    REPLY_MS)))
		return fail("GET_PROTOCOL_FEATURES: %s", errstr(rc));
	if ((pf & WANT_PROTOCOL) != WANT_PROTOCOL)
		return fail("protocol features 0x%llx offered",
			    (unsigned long long)pf);

	u = htole64(WANT_PROTOCOL);
	if ((r = ack_ok(f->s, VHOST_USER_SET_PROTOCOL_FEATURES,
			"SET_PROTOCOL_FEATURES", &u, sizeof(u), NULL, 0)) ||
	    (r = ack_ok(f->s, VHOST_USER_SET_OWNER, "SET_OWNER", NULL, 0,
			NULL, 0)))
		return r;
	u = htole64(features);
	f->acked = features;
	return ack_ok(f->s, VHOST_USER_SET_FEATURES, "SET_FEATURES", &u,
		      sizeof(u), NULL, 0);
}

/**
 * fe_setup() - The whole handshake, as QEMU does it
 * @f:		Front-end, connected
 * @features:	Virtio features to ack
 *
 * Return: NULL on success, reason otherwise
 */
static const char *fe_setup(struct fe *f, uint64_t features)
{
	const char *r;

	if ((r = fe_features(f, features)))
		return r;
	if (!f->mem && (r = fe_memory(f)))
		return r;
	if ((r = fe_mem_table(f)) || (r = fe_queue(f, 0)) ||
	    (r = fe_queue(f, 1)))
		return r;
	return NULL;
}

/**
 * fe_open() - Connect and do the whole handshake
 * @f:		Front-end, initialised
 * @features:	Virtio features to ack
 *
 * Return: NULL on success, reason otherwise
 */
static const char *fe_open(struct fe *f, uint64_t features)
{
	const char *r;

	if ((r = fe_connect(f, READY_MS)))
		return r;
	return fe_setup(f, features);
}

/* --- Rings, from the guest's side ------------------------------------------ */

/**
 * kick() - Kick a queue
 * @f:		Front-end
 * @q:		Queue
 */
static void kick(struct fe *f, unsigned q)
{
	uint64_t one = 1;

	if (write(f->kick[q], &one, sizeof(one)) < 0)
		perror("kick");
}

/**
 * wait_used() - Wait for the used index of a queue to reach a value
 * @f:		Front-end
 * @q:		Queue
 * @idx:	Index to reach
 * @ms:		Bound, milliseconds
 *
 * Return: true if reached
 */
static bool wait_used(struct fe *f, unsigned q, uint16_t idx, int ms)
{
	long long end = now_ms() + ms;

	while ((uint16_t)(vfe_ring_used_idx(&f->ring[q]) - idx) > 0x8000) {
		if (now_ms() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/**
 * arp_request() - Build an ARP request for the gateway, from the guest
 * @b:		Buffer, ARP_LEN bytes
 */
static void arp_request(uint8_t *b)
{
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memset(b, 0xff, 6);			/* broadcast */
	memcpy(b + 6, guest_mac, 6);
	b[12] = 0x08;
	b[13] = 0x06;
	memcpy(b + 14, hdr, sizeof(hdr));	/* Ethernet, IPv4, request */
	memcpy(b + 22, guest_mac, 6);
	memcpy(b + 28, guest_ip, 4);
	memset(b + 32, 0, 6);
	memcpy(b + 38, gw_ip, 4);
}

/**
 * tx_frame() - Put a frame, after a zero virtio-net header, in a TX slot
 * @f:		Front-end
 * @slot:	Buffer slot, also the descriptor index
 * @frame:	Frame
 * @len:	Frame length, at most TX_SLOT - NET_HDR_LEN
 */
static void tx_frame(struct fe *f, unsigned slot, const uint8_t *frame,
		     size_t len)
{
	uint8_t *p = f->mem + TXBUF + (size_t)slot * TX_SLOT;

	memset(p, 0, NET_HDR_LEN);
	memcpy(p + NET_HDR_LEN, frame, len);
	vfe_ring_desc(&f->ring[1], slot,
		      GPA_BASE + TXBUF + (size_t)slot * TX_SLOT,
		      NET_HDR_LEN + len, 0, 0);
}

/**
 * tx_arp() - Put an ARP request on the TX ring and kick
 * @f:		Front-end
 * @slot:	Buffer slot and descriptor index
 */
static void tx_arp(struct fe *f, unsigned slot)
{
	uint8_t arp[ARP_LEN];

	arp_request(arp);
	tx_frame(f, slot, arp, sizeof(arp));
	vfe_ring_push(&f->ring[1], slot);
	kick(f, 1);
}

/**
 * rx_post() - Make receive buffers available (descriptors 0..n-1)
 * @f:		Front-end
 * @n:		How many, at most RX_BUFS
 */
static void rx_post(struct fe *f, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		vfe_ring_desc(&f->ring[0], i,
			      GPA_BASE + RXBUF + (size_t)i * RX_BUF_LEN,
			      RX_BUF_LEN, VRING_DESC_F_WRITE, 0);
		vfe_ring_push(&f->ring[0], i);
	}
}

/**
 * arp_reply_ok() - Check a received buffer holds our ARP reply
 * @f:		Front-end
 * @id:		Head descriptor index from the used ring
 * @len:	Length from the used ring
 *
 * Return: NULL if it does, reason otherwise
 */
static const char *arp_reply_ok(struct fe *f, uint32_t id, uint32_t len)
{
	struct vring_desc d;
	uint64_t addr;
	const uint8_t *p;

	if (id >= RX_BUFS)
		return fail("used entry with head %u, we posted 0..%u", id,
			    RX_BUFS - 1);
	memcpy(&d, f->mem + RING(0) + DESC_OFF + 16 * (size_t)id, sizeof(d));
	addr = le64toh(d.addr) - GPA_BASE;
	if (len < NET_HDR_LEN + ARP_LEN || len > RX_BUF_LEN)
		return fail("received %u bytes", len);
	p = f->mem + addr;
	if (p[10] != 1 || p[11] != 0)
		return fail("num_buffers %u", p[10] | p[11] << 8);
	/* Header flags: zero unless we take frames unchecked (5.1.6.4.1) */
	if (p[0] != ((f->acked & BIT_ULL(VIRTIO_NET_F_GUEST_CSUM)) ?
		     VIRTIO_NET_HDR_F_DATA_VALID : 0))
		return fail("header flags 0x%x with features 0x%llx", p[0],
			    (unsigned long long)f->acked);
	p += NET_HDR_LEN;
	if (memcmp(p, guest_mac, 6) || p[12] != 0x08 || p[13] != 0x06)
		return fail("not an ARP frame to the guest");
	if (p[20] != 0 || p[21] != 2 || memcmp(p + 28, gw_ip, 4) ||
	    memcmp(p + 32, guest_mac, 6) || memcmp(p + 38, guest_ip, 4))
		return fail("not an ARP reply from 192.0.2.2 to us");
	return NULL;
}

/**
 * arp_wait() - Wait for the ARP reply on the RX ring
 * @f:		Front-end, receive buffers posted
 * @ms:		Bound, milliseconds
 *
 * Other frames the daemon might send are skipped.
 *
 * Return: NULL if the reply came, reason otherwise
 */
static const char *arp_wait(struct fe *f, int ms)
{
	long long end = now_ms() + ms;
	const char *r = NULL;

	for (;;) {
		uint16_t u = vfe_ring_used_idx(&f->ring[0]);

		while (f->used[0] != u) {
			uint32_t id, len;

			vfe_ring_used_elem(&f->ring[0], f->used[0]++, &id,
					   &len);
			if (!(r = arp_reply_ok(f, id, len)))
				return NULL;
		}
		if (now_ms() > end)
			break;
		sleep_ms(1);
	}
	if (r)
		return fail("no ARP reply in %d ms, last frame: %s", ms, r);
	return fail("no ARP reply in %d ms (TX used %u of %u)", ms,
		    vfe_ring_used_idx(&f->ring[1]), f->ring[1].avail_idx);
}

/**
 * fe_arp() - ARP for the gateway, expect the answer
 * @f:		Front-end, set up
 * @slot:	TX slot and descriptor index to use
 *
 * Return: NULL on success, reason otherwise
 */
static const char *fe_arp(struct fe *f, unsigned slot)
{
	if (f->ring[0].avail_idx == f->used[0])
		rx_post(f, RX_BUFS);
	tx_arp(f, slot);
	return arp_wait(f, ARP_MS);
}

/* --- After each case: is the daemon still fine? ----------------------------- */

/**
 * health() - A well-behaved front-end: handshake, ARP, then leak check
 *
 * Return: NULL if the daemon serves as it should, reason otherwise
 */
static const char *health(void)
{
	const char *r;
	struct fe f;

	fe_init(&f);
	r = fe_open(&f, GUEST_FEATURES);
	if (!r)
		r = fe_arp(&f, 0);
	fe_close(&f);
	if (r)
		return fail("afterwards: %.400s", r);

	if ((r = wait_counts(base_fds, base_maps, SETTLE_MS))) {
		/* Judge the next cases by what they leak themselves */
		base_fds = count_fds();
		base_maps = count_maps();
		return fail("not back to baseline: %.400s", r);
	}
	return NULL;
}

/**
 * serving() - Quick check that the daemon takes a new front-end at all
 *
 * Return: NULL if it answers GET_FEATURES within a second, reason otherwise
 */
static const char *serving(void)
{
	const char *r;
	struct fe f;

	fe_init(&f);
	r = fe_connect(&f, 1000);
	fe_close(&f);
	return r;
}

/**
 * baseline() - Check the daemon serves, take fd and mapping counts
 *
 * Counted while a front-end is connected that did nothing but
 * GET_FEATURES: then one descriptor (the connection) more than idle.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *baseline(void)
{
	const char *r;
	struct fe f;

	fe_init(&f);
	r = fe_open(&f, GUEST_FEATURES);
	if (!r)
		r = fe_arp(&f, 0);
	fe_close(&f);
	if (r)
		return r;

	if ((r = fe_connect(&f, READY_MS)))
		return r;
	sleep_ms(20);
	base_fds = count_fds() - 1;
	base_maps = count_maps();
	fe_close(&f);
	if (base_fds < 0 || base_maps < 0)
		return fail("can't read /proc/%d", (int)daemon_pid);
	return wait_counts(base_fds, base_maps, SETTLE_MS);
}

/* --- Cases: malformed messages --------------------------------------------- */

/**
 * send_close() - Connect, send raw bytes, close
 * @buf:	Bytes
 * @len:	Length
 * @fds:	Descriptors to attach, may be NULL
 * @nfds:	How many
 * @hold_ms:	Milliseconds to stay connected before closing
 *
 * Return: NULL on success, reason otherwise
 */
static const char *send_close(const void *buf, size_t len, const int *fds,
			      unsigned nfds, int hold_ms)
{
	const char *r;
	struct fe f;
	int rc;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)))
		return r;
	rc = vfe_send_raw(f.s, buf, len, fds, nfds);
	if (hold_ms)
		sleep_ms(hold_ms);
	fe_close(&f);
	if (rc)
		return fail("send: %s", strerror(-rc));
	return NULL;
}

/**
 * case_short() - Truncated headers, then close
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_short(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_GET_FEATURES), htole32(1), 0
	};
	static const size_t lens[] = { 1, 4, 6, 11 };
	const char *r;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		if ((r = send_close(&h, lens[i], NULL, 0, 0)))
			return r;
	}
	return NULL;
}

/**
 * case_short_held() - Truncated header, the connection kept 300 ms
 *
 * The daemon reads the rest of a message blocking: it waits for us, then
 * sees the end of file.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_short_held(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_SET_OWNER), htole32(1), 0
	};

	return send_close(&h, 7, NULL, 0, 300);
}

/**
 * case_stalled() - Part of a header, then nothing, the connection kept
 *
 * The daemon reads the rest of a message blocking, but for at most
 * VU_MSG_TIMEOUT_S: then it must close the connection (and serve the next
 * front-end, which the check after each case does), not wait for us.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_stalled(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_SET_OWNER), htole32(1), 0
	};
	const char *r;
	long long t0;
	struct fe f;
	uint8_t b;
	int rc;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)))
		return r;
	rc = vfe_send_raw(f.s, &h, 7, NULL, 0);
	t0 = now_ms();
	if (!rc)
		rc = recv_full(f.s, &b, 1, VU_MSG_TIMEOUT_S * 1000 + DROP_MS);
	fe_close(&f);
	if (rc != -ECONNRESET)
		return fail("after %lld ms: %s", now_ms() - t0,
			    rc ? errstr(rc) : "an answer to half a header");
	return NULL;
}

/**
 * case_guest_csum() - A guest that takes frames without checking sums
 *
 * With VIRTIO_NET_F_GUEST_CSUM acked, the daemon marks what it sends
 * DATA_VALID (arp_reply_ok() checks the flags); without it, the check
 * after each case sees zero.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_guest_csum(void)
{
	const char *r;
	struct fe f;

	fe_init(&f);
	r = fe_open(&f, GUEST_FEATURES | BIT_ULL(VIRTIO_NET_F_GUEST_CSUM));
	if (!r)
		r = fe_arp(&f, 0);
	fe_close(&f);
	return r;
}

/**
 * case_oversized() - Payload sizes beyond any request, and wrong sizes
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_oversized(void)
{
	static const struct { uint32_t req, size, len; } t[] = {
		{ VHOST_USER_GET_FEATURES,	0x100000,	64 },
		{ VHOST_USER_GET_FEATURES,	0xffffffff,	64 },
		{ VHOST_USER_SET_MEM_TABLE,	VHOST_USER_MAX_PAYLOAD + 1,
						VHOST_USER_MAX_PAYLOAD + 1 },
		{ VHOST_USER_GET_FEATURES,	8,		8 },
		{ VHOST_USER_SET_FEATURES,	4,		4 },
		{ VHOST_USER_SET_FEATURES,	16,		16 },
		{ VHOST_USER_SET_VRING_NUM,	4,		4 },
		{ VHOST_USER_SET_VRING_ADDR,	32,		32 },
		{ VHOST_USER_SET_OWNER,		VHOST_USER_MAX_PAYLOAD,
						VHOST_USER_MAX_PAYLOAD },
		{ VHOST_USER_SET_MEM_TABLE,	4,		4 },
	};
	static uint8_t pl[VHOST_USER_MAX_PAYLOAD + 1];
	const char *r;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct fe f;
		int rc;

		fe_init(&f);
		if ((r = fe_connect(&f, READY_MS)))
			return r;
		rc = vfe_send_sz(f.s, t[i].req, VHOST_USER_VERSION |
				 VHOST_USER_FLAG_NEED_REPLY, pl, t[i].len,
				 t[i].size, NULL, 0);
		r = rc ? fail("send: %s", strerror(-rc)) :
			 expect_drop(f.s, "bad size");
		fe_close(&f);
		if (r)
			return fail("request %u, size %u: %s", t[i].req,
				    t[i].size, r);
	}
	return NULL;
}

/**
 * case_version() - Headers with a wrong version
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_version(void)
{
	static const uint32_t flags[] = { 0, 2, 3, 0xffffffff };
	const char *r;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		struct fe f;
		int rc;

		fe_init(&f);
		if ((r = fe_connect(&f, READY_MS)))
			return r;
		rc = vfe_send_sz(f.s, VHOST_USER_GET_FEATURES, flags[i], NULL,
				 0, 0, NULL, 0);
		r = rc ? fail("send: %s", strerror(-rc)) :
			 expect_drop(f.s, "bad version");
		fe_close(&f);
		if (r)
			return fail("flags 0x%x: %s", flags[i], r);
	}
	return NULL;
}

/**
 * case_unknown() - Unknown requests, with payload and descriptors
 *
 * Each must be refused or dropped; if refused, the session goes on.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_unknown(void)
{
	static const uint32_t reqs[] = {
		VHOST_USER_NONE, VHOST_USER_GET_MAX_MEM_SLOTS, 21, 41, 44,
		VHOST_USER_REQUEST_MAX, 99, 1000, 0x7fffffff, 0xffffffff,
	};
	uint8_t pl[100];
	const char *r;
	unsigned i;
	struct fe f;

	memset(pl, 0xa5, sizeof(pl));
	fe_init(&f);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		int fds[2] = { -1, -1 };
		bool dropped;

		if (f.s < 0 && (r = fe_connect(&f, READY_MS)))
			return r;
		fds[0] = eventfd(0, EFD_CLOEXEC);
		fds[1] = vfe_memfd(4096, 0);
		r = refused(f.s, reqs[i], "unknown request", pl,
			    i % 2 ? sizeof(pl) : 0, fds, i % 3 ? 2 : 0,
			    &dropped);
		close(fds[0]);
		close(fds[1]);
		if (!r && !dropped)
			r = responsive(f.s, "unknown request");
		if (r || dropped)
			fe_close(&f);
		if (r)
			return fail("request %u: %s", reqs[i], r);
	}
	fe_close(&f);
	return NULL;
}

/**
 * case_promise() - A header promising more payload than sent, then close
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_promise(void)
{
	struct {
		struct vhost_user_hdr h;
		uint8_t pl[40];
	} PACKED m;
	int fd = vfe_memfd(4096, 0);
	const char *r;

	memset(&m, 0, sizeof(m));
	m.h.request = htole32(VHOST_USER_SET_MEM_TABLE);
	m.h.flags = htole32(VHOST_USER_VERSION);
	m.h.size = htole32(VHOST_USER_MAX_PAYLOAD);
	m.pl[0] = 1;
	r = send_close(&m, sizeof(m), &fd, 1, 0);

	m.h.request = htole32(VHOST_USER_SET_FEATURES);
	m.h.size = htole32(8);
	if (!r)
		r = send_close(&m, sizeof(m.h) + 3, NULL, 0, 0);
	if (!r)		/* and staying a while before closing */
		r = send_close(&m, sizeof(m.h) + 3, NULL, 0, 200);
	close(fd);
	return r;
}

/**
 * case_no_read() - Thousands of requests whose replies we never read
 *
 * The daemon's replies fill the socket: it must get going again when we
 * close.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_no_read(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_GET_FEATURES), htole32(VHOST_USER_VERSION), 0
	};
	const char *r;
	unsigned i;
	struct fe f;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)))
		return r;
	for (i = 0; i < 20000; i++) {
		if (send(f.s, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	}
	sleep_ms(50);
	fe_close(&f);
	if (i < 100)
		return fail("could only send %u requests", i);
	return NULL;
}

/* --- Cases: file descriptors ------------------------------------------------ */

/**
 * case_fds_unexpected() - Descriptors on requests that take none
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_fds_unexpected(void)
{
	static const uint32_t reqs[] = {
		VHOST_USER_GET_FEATURES, VHOST_USER_SET_FEATURES,
		VHOST_USER_SET_OWNER, VHOST_USER_SET_VRING_NUM,
		VHOST_USER_SET_VRING_ADDR, VHOST_USER_GET_PROTOCOL_FEATURES,
		VHOST_USER_CHECK_DEVICE_STATE, VHOST_USER_NET_SET_MTU,
	};
	static uint8_t pl[VHOST_USER_MAX_PAYLOAD];
	static const size_t sizes[] = { 0, 8, 0, 8, 40, 0, 0, 8 };
	const char *r;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		int fds[3];
		struct fe f;

		fe_init(&f);
		if ((r = fe_connect(&f, READY_MS)))
			return r;
		fds[0] = eventfd(0, EFD_CLOEXEC);
		fds[1] = vfe_memfd(MEM_SIZE, 0);
		fds[2] = eventfd(0, EFD_CLOEXEC);
		memset(pl, 0, sizeof(pl));
		if (reqs[i] == VHOST_USER_NET_SET_MTU)
			pl[0] = 0xdc, pl[1] = 0x05;	/* 1500 */
		r = refused(f.s, reqs[i], "fds on a request taking none", pl,
			    sizes[i], fds, 1 + i % 3, NULL);
		close(fds[0]);
		close(fds[1]);
		close(fds[2]);
		fe_close(&f);
		if (r)
			return fail("request %u: %s", reqs[i], r);
	}
	return NULL;
}

/**
 * case_fds_too_many() - More descriptors than a request (or any) takes
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_fds_too_many(void)
{
	static int fds[VFE_MAX_FDS];
	struct vhost_user_mem_table t = { .nregions = htole32(1) };
	static const unsigned counts[] = { 2, 9, 16, VFE_MAX_FDS };
	const char *r = NULL;
	unsigned i, j;

	t.regions[0] = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE, 0);
	for (i = 0; i < VFE_MAX_FDS; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	if ((fds[0] = vfe_memfd(MEM_SIZE, 0)) < 0)
		return fail("memfd: %s", strerror(errno));

	for (i = 0; i < ARRAY_SIZE(counts) && !r; i++) {
		uint64_t u = 0;
		struct fe f;

		for (j = 0; j < 3 && !r; j++) {
			fe_init(&f);
			if ((r = fe_connect(&f, READY_MS)))
				break;
			if (j == 0)
				r = refused(f.s, VHOST_USER_SET_MEM_TABLE,
					    "SET_MEM_TABLE", &t,
					    vfe_table_len(1), fds, counts[i],
					    NULL);
			else if (j == 1)
				r = refused(f.s, VHOST_USER_SET_VRING_KICK,
					    "SET_VRING_KICK", &u, sizeof(u),
					    fds + 1, counts[i], NULL);
			else
				r = refused(f.s, VHOST_USER_SET_LOG_BASE,
					    "SET_LOG_BASE", &t, 16, fds,
					    counts[i], NULL);
			fe_close(&f);
			if (r)
				r = fail("%u fds: %s", counts[i], r);
		}
	}
	for (i = 0; i < VFE_MAX_FDS; i++)
		close(fds[i]);
	return r;
}

/**
 * case_fds_two_cmsgs() - Descriptors in two control messages
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_fds_two_cmsgs(void)
{
	union {
		char buf[2 * CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_SET_OWNER),
		htole32(VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY), 0
	};
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	const char *r;
	int fds[8], i;
	struct fe f;

	for (i = 0; i < 8; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	for (i = 0; i < 2; i++) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * 4);
		memcpy(CMSG_DATA(cm), fds + 4 * i, sizeof(int) * 4);
		cm = CMSG_NXTHDR(&mh, cm);
	}

	fe_init(&f);
	if (!(r = fe_connect(&f, READY_MS))) {
		if (sendmsg(f.s, &mh, MSG_NOSIGNAL) < 0)
			r = fail("sendmsg: %s", strerror(errno));
		else
			r = expect_drop(f.s, "SET_OWNER with 8 fds");
	}
	fe_close(&f);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	return r;
}

/**
 * case_fds_on_payload() - Descriptors attached to the payload bytes
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_fds_on_payload(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_SET_FEATURES),
		htole32(VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY),
		htole32(8)
	};
	uint64_t u = htole64(GUEST_FEATURES), v;
	int fds[4], i, rc;
	const char *r;
	struct fe f;

	for (i = 0; i < 4; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	fe_init(&f);
	if (!(r = fe_connect(&f, READY_MS))) {
		if ((rc = vfe_send_raw(f.s, &h, sizeof(h), NULL, 0)) ||
		    (sleep_ms(10), 0) ||
		    (rc = vfe_send_raw(f.s, &u, sizeof(u), fds, 4)))
			r = fail("send: %s", strerror(-rc));
		else if ((rc = msg_reply(f.s, VHOST_USER_SET_FEATURES, &v,
					 REPLY_MS)) && rc != -ECONNRESET)
			r = fail("SET_FEATURES: %s", errstr(rc));
	}
	fe_close(&f);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	return r;
}

/**
 * case_kick_not_eventfd() - Kick and call descriptors of the wrong kind
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_kick_not_eventfd(void)
{
	const char *r = NULL;
	int p[2], mfd, i;

	if (pipe2(p, O_CLOEXEC))
		return fail("pipe: %s", strerror(errno));
	mfd = vfe_memfd(4096, 0);

	for (i = 0; i < 4 && !r; i++) {
		uint32_t req = i < 2 ? VHOST_USER_SET_VRING_KICK :
				       VHOST_USER_SET_VRING_CALL;
		int fd = i % 2 ? mfd : p[1];
		uint64_t u = htole64(1), v;
		struct fe f;
		int rc;

		fe_init(&f);
		if (!(r = fe_open(&f, GUEST_FEATURES))) {
			/* A regular file can't be watched: must be refused */
			rc = ack(f.s, req, &u, sizeof(u), &fd, 1, &v);
			if (rc && rc != -ECONNRESET)
				r = fail("fd kind %d: %s", i, errstr(rc));
			else if (i == 1 && !rc && !v)
				r = fail("memfd as kick fd accepted");
			else if (!rc)
				r = responsive(f.s, "odd kick/call fd");
			if (!r && !rc) {
				tx_arp(&f, 1);
				sleep_ms(20);
				r = responsive(f.s, "frame with odd kick/call fd");
			}
		}
		fe_close(&f);
	}
	close(p[0]);
	close(p[1]);
	close(mfd);
	return r;
}

/* --- Cases: queue indices, sizes, addresses --------------------------------- */

/**
 * case_vring_index() - Queue index out of range in every vring message
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_vring_index(void)
{
	static const uint32_t state_reqs[] = {
		VHOST_USER_SET_VRING_NUM, VHOST_USER_SET_VRING_BASE,
		VHOST_USER_GET_VRING_BASE, VHOST_USER_SET_VRING_ENABLE,
		VHOST_USER_SET_VRING_ADDR,
	};
	static const uint32_t fd_reqs[] = {
		VHOST_USER_SET_VRING_KICK, VHOST_USER_SET_VRING_CALL,
		VHOST_USER_SET_VRING_ERR,
	};
	static const uint32_t idx[] = { 2, 3, 255, 256, 0x10000, 0xffffffff };
	static const uint64_t fidx[] = { 2, 0xff, 0x102, 0x200, 1ULL << 32,
					 ~0ULL };
	const char *r;
	unsigned i, j;

	for (i = 0; i < ARRAY_SIZE(state_reqs); i++) {
		for (j = 0; j < ARRAY_SIZE(idx); j++) {
			struct vhost_user_vring_state st = vfe_vstate(idx[j],
								      1);
			struct vhost_user_vring_addr a = vaddr(idx[j], 0);
			uint32_t req = state_reqs[i];
			bool isaddr = req == VHOST_USER_SET_VRING_ADDR;
			struct fe f;

			fe_init(&f);
			if ((r = fe_open(&f, GUEST_FEATURES)))
				return r;
			if (req == VHOST_USER_GET_VRING_BASE) {
				/* No acknowledgement: a reply of its own */
				int rc = vfe_send(f.s, req, false, &st,
						  sizeof(st), NULL, 0);

				r = rc ? fail("send: %s", strerror(-rc)) :
					 expect_drop(f.s, "GET_VRING_BASE");
			} else {
				r = refused(f.s, req, "bad index",
					    isaddr ? (void *)&a : (void *)&st,
					    isaddr ? sizeof(a) : sizeof(st),
					    NULL, 0, NULL);
			}
			fe_close(&f);
			if (r)
				return fail("request %u, index %u: %s", req,
					    idx[j], r);
		}
	}

	for (i = 0; i < ARRAY_SIZE(fd_reqs); i++) {
		for (j = 0; j < ARRAY_SIZE(fidx); j++) {
			uint64_t u = htole64(fidx[j]);
			int efd = eventfd(0, EFD_CLOEXEC);
			bool nofd = fidx[j] & VHOST_USER_VRING_NOFD_MASK;
			struct fe f;

			fe_init(&f);
			if (!(r = fe_open(&f, GUEST_FEATURES)))
				r = refused(f.s, fd_reqs[i], "bad index", &u,
					    sizeof(u), &efd, nofd ? 0 : 1,
					    NULL);
			fe_close(&f);
			close(efd);
			if (r)
				return fail("request %u, payload 0x%llx: %s",
					    fd_reqs[i],
					    (unsigned long long)fidx[j], r);
		}
	}
	return NULL;
}

/**
 * case_vring_size() - Queue sizes 0, not a power of two, too large
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_vring_size(void)
{
	static const uint32_t nums[] = {
		0, 3, 255, 257, 1000, 32769, 65535, 65536, 0x80000000,
		0xffffffff,
	};
	struct vhost_user_vring_state st;
	struct vhost_user_vring_addr a;
	const char *r;
	unsigned i, q;
	struct fe f;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)) ||
	    (r = fe_features(&f, GUEST_FEATURES)) || (r = fe_memory(&f)) ||
	    (r = fe_mem_table(&f)))
		goto out;

	for (q = 0; q < 2; q++) {
		for (i = 0; i < ARRAY_SIZE(nums); i++) {
			bool dropped;

			st = vfe_vstate(q, nums[i]);
			r = refused(f.s, VHOST_USER_SET_VRING_NUM, "queue size",
				    &st, sizeof(st), NULL, 0, &dropped);
			if (r || dropped) {
				r = fail("size %u: %s", nums[i],
					 r ? r : "connection dropped");
				goto out;
			}
			/* A ring of that size can't be mapped now */
			a = vaddr(q, q);
			if ((r = refused(f.s, VHOST_USER_SET_VRING_ADDR,
					 "addresses after a bad size", &a,
					 sizeof(a), NULL, 0, NULL)))
				goto out;
		}
	}

	/* The queues must still set up fine, and not change size once started */
	if ((r = fe_queue(&f, 0)) || (r = fe_queue(&f, 1)))
		goto out;
	st = vfe_vstate(1, 128);
	if ((r = refused(f.s, VHOST_USER_SET_VRING_NUM, "size of a started queue",
			 &st, sizeof(st), NULL, 0, NULL)))
		goto out;
	st = vfe_vstate(1, 0x10000);
	if ((r = refused(f.s, VHOST_USER_SET_VRING_BASE, "ring base 0x10000",
			 &st, sizeof(st), NULL, 0, NULL)))
		goto out;
	r = fe_arp(&f, 0);
out:
	fe_close(&f);
	return r;
}

/**
 * case_vring_addr() - Ring addresses outside, straddling, misaligned
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_vring_addr(void)
{
	static const struct { int which; uint64_t qva; } t[] = {
		{ 0, QVA_BASE - 4096 },
		{ 0, QVA_BASE + MEM_SIZE },
		{ 0, QVA_BASE + MEM_SIZE - 16 * 128 },	/* straddles the end */
		{ 0, QVA_BASE + 8 },			/* misaligned */
		{ 0, 0 },
		{ 0, ~0ULL - 15 },
		{ 1, QVA_BASE + MEM_SIZE - 100 },
		{ 1, QVA_BASE + MEM_SIZE - 6 },
		{ 1, QVA_BASE + 1 },
		{ 1, ~0ULL - 1 },
		{ 2, QVA_BASE + MEM_SIZE - 1000 },
		{ 2, QVA_BASE + MEM_SIZE - 4 },
		{ 2, QVA_BASE + 2 },
		{ 2, ~0ULL - 3 },
		{ 3, 0 },				/* unknown flag */
	};
	struct vhost_user_vring_addr a;
	const char *r;
	unsigned i;
	struct fe f;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)) ||
	    (r = fe_features(&f, GUEST_FEATURES)) || (r = fe_memory(&f)))
		goto out;

	/* Before any memory table */
	a = vaddr(0, 0);
	{
		struct vhost_user_vring_state st = vfe_vstate(0, QNUM);

		if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_NUM, "SET_VRING_NUM",
				&st, sizeof(st), NULL, 0)) ||
		    (r = refused(f.s, VHOST_USER_SET_VRING_ADDR,
				 "rings without memory", &a, sizeof(a), NULL,
				 0, NULL)))
			goto out;
	}
	if ((r = fe_mem_table(&f)))
		goto out;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		bool dropped;

		a = vaddr(0, 0);
		if (t[i].which == 0)
			a.desc_user_addr = htole64(t[i].qva);
		else if (t[i].which == 1)
			a.avail_user_addr = htole64(t[i].qva);
		else if (t[i].which == 2)
			a.used_user_addr = htole64(t[i].qva);
		else
			a.flags = htole32(0x80000002);
		r = refused(f.s, VHOST_USER_SET_VRING_ADDR, "ring address",
			    &a, sizeof(a), NULL, 0, &dropped);
		if (r || dropped) {
			r = fail("ring %d at 0x%llx: %s", t[i].which,
				 (unsigned long long)t[i].qva,
				 r ? r : "connection dropped");
			goto out;
		}
	}

	/* Kicking a queue whose addresses were refused: nothing to process */
	if ((r = fe_queue(&f, 1)))
		goto out;
	{
		uint64_t u = 0;
		int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		a = vaddr(0, 0);
		a.used_user_addr = htole64(QVA_BASE + MEM_SIZE);
		r = refused(f.s, VHOST_USER_SET_VRING_ADDR, "used ring outside",
			    &a, sizeof(a), NULL, 0, NULL);
		if (!r)
			r = ack_ok(f.s, VHOST_USER_SET_VRING_KICK,
				   "SET_VRING_KICK", &u, sizeof(u), &efd, 1);
		if (!r) {
			rx_post(&f, RX_BUFS);
			tx_arp(&f, 0);
			if (write(efd, &(uint64_t){ 1 }, 8) < 0)
				r = fail("kick: %s", strerror(errno));
			sleep_ms(20);
		}
		close(efd);
		if (!r)
			r = responsive(f.s, "RX queue without rings");
	}
out:
	fe_close(&f);
	return r;
}

/**
 * case_mem_moved() - Memory table replaced under running queues
 *
 * First a table where the rings are elsewhere (queues must stop), then
 * the original one again.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_mem_moved(void)
{
	struct vhost_user_mem_table t = { .nregions = htole32(1) };
	const char *r;
	struct fe f;
	int maps;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	maps = count_maps();
	t.regions[0] = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE + 0x40000000, 0);
	if ((r = ack_ok(f.s, VHOST_USER_SET_MEM_TABLE, "moved table", &t,
			vfe_table_len(1), &f.memfd, 1)))
		goto out;
	rx_post(&f, RX_BUFS);
	tx_arp(&f, 0);
	sleep_ms(20);
	if ((r = responsive(f.s, "queues outside the new table")))
		goto out;
	if (count_maps() != maps) {
		r = fail("%d mappings after replacing the table, %d before",
			 count_maps(), maps);
		goto out;
	}
	r = fe_mem_table(&f);
out:
	fe_close(&f);
	return r;
}

/* --- Cases: memory tables --------------------------------------------------- */

/**
 * mem_refused() - Send a memory table that must be refused, check maps
 * @f:		Front-end, connected, features set
 * @what:	Name for the failure reason
 * @t:		Table
 * @len:	Payload size
 * @fds:	Descriptors
 * @nfds:	How many
 * @dropped:	Set if the daemon closed the connection
 *
 * Return: NULL if refused with no mapping left behind, reason otherwise
 */
static const char *mem_refused(struct fe *f, const char *what,
			       const struct vhost_user_mem_table *t,
			       size_t len, const int *fds, unsigned nfds,
			       bool *dropped)
{
	int maps = count_maps();
	const char *r;

	r = refused(f->s, VHOST_USER_SET_MEM_TABLE, what, t, len, fds, nfds,
		    dropped);
	if (r)
		return r;
	if (!*dropped && count_maps() != maps)
		return fail("%s: %d mappings, %d before", what, count_maps(),
			    maps);
	return NULL;
}

/**
 * case_mem_bad() - Memory tables that must be refused
 *
 * Zero and too many regions, descriptor counts that don't match,
 * overflowing sizes and offsets, a file smaller than claimed, a pipe,
 * overlapping regions.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_mem_bad(void)
{
	enum { ZERO, NINE, HUGE_N, SIZE_LIE, FDS_LESS, FDS_MORE, SIZE0,
	       GPA_WRAP, QVA_WRAP, OFF_WRAP, OFF_BEYOND, SMALL_FILE, PIPE,
	       OVL_GPA, OVL_QVA, OVL_SAME, CASES };
	static const char *names[CASES] = {
		"zero regions", "9 regions", "0xffffffff regions",
		"2 regions, size for 1", "2 regions, 1 fd", "1 region, 2 fds",
		"region size 0", "gpa + size wraps", "qva + size wraps",
		"offset + size wraps", "offset beyond the file",
		"file smaller than claimed", "region fd is a pipe",
		"overlapping guest addresses", "overlapping front-end addresses",
		"the same region twice",
	};
	struct vhost_user_mem_table t;
	int fd, small, p[2], fds[8];
	const char *r = NULL;
	struct fe f;
	unsigned c;

	fd = vfe_memfd(MEM_SIZE, 0);
	small = vfe_memfd(64 * 1024, 0);
	if (fd < 0 || small < 0 || pipe2(p, O_CLOEXEC))
		return fail("memfd or pipe: %s", strerror(errno));

	fe_init(&f);
	for (c = 0; c < CASES && !r; c++) {
		unsigned n = 1, nfds = 1, i;
		size_t len;
		bool dropped;

		if (f.s < 0 &&
		    ((r = fe_connect(&f, READY_MS)) ||
		     (r = fe_features(&f, GUEST_FEATURES))))
			break;

		memset(&t, 0, sizeof(t));
		for (i = 0; i < 8; i++) {
			fds[i] = fd;
			t.regions[i] = vfe_region(GPA_BASE + i * MEM_SIZE,
						  MEM_SIZE,
						  QVA_BASE + i * MEM_SIZE, 0);
		}
		switch (c) {
		case ZERO:	n = 0; nfds = 0;	break;
		case NINE:	n = 9; nfds = 8;	break;
		case HUGE_N:	n = 0xffffffff;		break;
		case SIZE_LIE:	n = 2;			break;
		case FDS_LESS:	n = 2;			break;
		case FDS_MORE:	nfds = 2;		break;
		case SIZE0:
			t.regions[0].memory_size = 0;
			break;
		case GPA_WRAP:
			t.regions[0].guest_phys_addr = htole64(~0ULL - 4095);
			break;
		case QVA_WRAP:
			t.regions[0].userspace_addr = htole64(~0ULL - 4095);
			break;
		case OFF_WRAP:
			t.regions[0].mmap_offset = htole64(~0ULL - 4095);
			break;
		case OFF_BEYOND:
			t.regions[0].mmap_offset = htole64(MEM_SIZE);
			break;
		case SMALL_FILE:
			fds[0] = small;
			break;
		case PIPE:
			fds[0] = p[0];
			break;
		case OVL_GPA:
			n = nfds = 2;
			t.regions[1].guest_phys_addr =
				htole64(GPA_BASE + MEM_SIZE / 2);
			break;
		case OVL_QVA:
			n = nfds = 2;
			t.regions[1].userspace_addr =
				htole64(QVA_BASE + MEM_SIZE - 4096);
			break;
		case OVL_SAME:
			n = nfds = 2;
			t.regions[1] = t.regions[0];
			break;
		}
		t.nregions = htole32(n);
		len = vfe_table_len(MIN(n, 8U));
		if (c == SIZE_LIE)
			len = vfe_table_len(1);
		if (c == NINE)
			len = vfe_table_len(9);

		if (c == NINE) {	/* more than the payload can hold */
			static uint8_t big[8 + 9 * 32];

			memcpy(big, &t, sizeof(t));
			r = refused(f.s, VHOST_USER_SET_MEM_TABLE, names[c],
				    big, len, fds, nfds, &dropped);
		} else {
			r = mem_refused(&f, names[c], &t, len, fds, nfds,
					&dropped);
		}
		if (!r && !dropped)
			r = responsive(f.s, names[c]);
		if (r || dropped)
			fe_close(&f);
	}

	/* A session after all that refusing must still work */
	if (!r && f.s >= 0 && !(r = fe_memory(&f)) && !(r = fe_mem_table(&f)) &&
	    !(r = fe_queue(&f, 0)) && !(r = fe_queue(&f, 1)))
		r = fe_arp(&f, 0);
	fe_close(&f);
	close(fd);
	close(small);
	close(p[0]);
	close(p[1]);
	return r;
}

/**
 * case_mem_repeat() - A valid table 1000 times, then with new files
 *
 * Mappings and descriptors must not grow, and the queues keep working.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_mem_repeat(void)
{
	const char *r;
	int maps, fds, i;
	struct fe f;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	maps = count_maps();
	fds = count_fds();
	for (i = 0; i < 1000; i++) {
		if ((r = fe_mem_table(&f)))
			goto out;
	}
	if (count_maps() != maps || count_fds() != fds) {
		r = fail("after 1000 tables: %d mappings (%d before), %d fds "
			 "(%d before)", count_maps(), maps, count_fds(), fds);
		goto out;
	}

	/* The same, with a new file each time */
	for (i = 0; i < 200; i++) {
		struct vhost_user_mem_table t = { .nregions = htole32(1) };
		int nfd = vfe_memfd(MEM_SIZE, F_SEAL_SHRINK | F_SEAL_GROW);

		t.regions[0] = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE, 0);
		r = ack_ok(f.s, VHOST_USER_SET_MEM_TABLE, "new file", &t,
			   vfe_table_len(1), &nfd, 1);
		close(nfd);
		if (r)
			goto out;
	}
	if (count_maps() != maps || count_fds() != fds) {
		r = fail("after 200 tables from new files: %d mappings (%d "
			 "before), %d fds (%d before)", count_maps(), maps,
			 count_fds(), fds);
		goto out;
	}
	/* Rings were remapped onto the last table: the old memfd is gone */
	if ((r = fe_mem_table(&f)))
		goto out;
	r = fe_arp(&f, 0);
out:
	fe_close(&f);
	return r;
}

/**
 * case_mem_eight() - Eight regions from one file, then one again
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_mem_eight(void)
{
	struct vhost_user_mem_table t = { .nregions = htole32(8) };
	int fds[8], maps, i;
	const char *r;
	struct fe f;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	maps = count_maps();
	for (i = 0; i < 8; i++) {
		/* 128 KiB pieces of the same memfd, contiguous everywhere */
		t.regions[i] = vfe_region(GPA_BASE + i * (MEM_SIZE / 8),
					  MEM_SIZE / 8, QVA_BASE + i * (MEM_SIZE / 8),
					  i * (MEM_SIZE / 8));
		fds[i] = f.memfd;
	}
	if ((r = ack_ok(f.s, VHOST_USER_SET_MEM_TABLE, "8 regions", &t,
			vfe_table_len(8), fds, 8)))
		goto out;
	if ((r = fe_arp(&f, 0)))
		goto out;
	if ((r = fe_mem_table(&f)))
		goto out;
	if (count_maps() != maps)
		r = fail("%d mappings after going back to 1 region, %d before",
			 count_maps(), maps);
out:
	fe_close(&f);
	return r;
}

/**
 * case_reset_owner() - RESET_OWNER mid-session drops memory and rings
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_reset_owner(void)
{
	const char *r;
	struct fe f;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)) ||
	    (r = ack_ok(f.s, VHOST_USER_RESET_OWNER, "RESET_OWNER", NULL, 0,
			NULL, 0)))
		goto out;
	if ((r = wait_counts(base_fds + 1, base_maps, SETTLE_MS))) {
		r = fail("after RESET_OWNER: %s", r);
		goto out;
	}
	/* Set up again on the same connection */
	close_fd_p(&f.kick[0]);
	close_fd_p(&f.kick[1]);
	close_fd_p(&f.call[0]);
	close_fd_p(&f.call[1]);
	memset(f.mem, 0, MEM_SIZE);
	f.ring[0].avail_idx = f.ring[1].avail_idx = f.used[0] = f.used[1] = 0;
	if (!(r = fe_setup(&f, GUEST_FEATURES)))
		r = fe_arp(&f, 0);
out:
	fe_close(&f);
	return r;
}

/* --- Cases: dirty log ------------------------------------------------------- */

/**
 * case_misc_requests() - Rarely used requests, well-formed and not
 *
 * GET_QUEUE_NUM, SET_LOG_FD, SET_VRING_ERR, SEND_RARP, NET_SET_MTU,
 * features we weren't offered, SET_VRING_ENABLE 0, GET_VRING_BASE and a
 * restart of the queue from there.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_misc_requests(void)
{
	static const uint64_t bad_mtu[] = { 0, 67, 65536, ~0ULL };
	uint8_t mac[8] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0 };
	struct vhost_user_vring_state st;
	const char *r;
	uint64_t u, v;
	unsigned i;
	struct fe f;
	int efd, rc;

	fe_init(&f);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;

	if ((rc = vfe_send(f.s, VHOST_USER_GET_QUEUE_NUM, false, NULL, 0,
			   NULL, 0)) ||
	    (rc = msg_reply(f.s, VHOST_USER_GET_QUEUE_NUM, &v, REPLY_MS))) {
		r = fail("GET_QUEUE_NUM: %s", errstr(rc));
		goto out;
	}
	if (!v) {
		r = fail("GET_QUEUE_NUM: 0 queue pairs");
		goto out;
	}
	for (i = 0; i < 4; i++) {
		u = htole64(i % 2);
		if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_ERR, "SET_VRING_ERR",
				&u, sizeof(u), &efd, 1)) ||
		    (r = ack_ok(f.s, VHOST_USER_SET_LOG_FD, "SET_LOG_FD", NULL,
				0, &efd, 1)))
			goto out;
	}
	u = htole64(VHOST_USER_VRING_NOFD_MASK);
	if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_ERR, "SET_VRING_ERR, no fd",
			&u, sizeof(u), NULL, 0)) ||
	    (r = ack_ok(f.s, VHOST_USER_SEND_RARP, "SEND_RARP", mac,
			sizeof(mac), NULL, 0)))
		goto out;
	u = htole64(1500);
	if ((r = ack_ok(f.s, VHOST_USER_NET_SET_MTU, "NET_SET_MTU 1500", &u,
			sizeof(u), NULL, 0)))
		goto out;
	for (i = 0; i < ARRAY_SIZE(bad_mtu); i++) {
		u = htole64(bad_mtu[i]);
		if ((r = refused(f.s, VHOST_USER_NET_SET_MTU, "bad MTU", &u,
				 sizeof(u), NULL, 0, NULL)))
			goto out;
	}
	u = htole64(GUEST_FEATURES | BIT_ULL(63) | 1);
	if ((r = refused(f.s, VHOST_USER_SET_FEATURES, "features not offered",
			 &u, sizeof(u), NULL, 0, NULL)))
		goto out;
	u = htole64(WANT_PROTOCOL | BIT_ULL(60));
	if ((r = refused(f.s, VHOST_USER_SET_PROTOCOL_FEATURES,
			 "protocol features not offered", &u, sizeof(u), NULL,
			 0, NULL)))
		goto out;
	if ((r = fe_arp(&f, 0)))
		goto out;

	/* TX disabled: frames wait; enabled again: served */
	st = vfe_vstate(1, 0);
	if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_ENABLE, "disable TX", &st,
			sizeof(st), NULL, 0)))
		goto out;
	tx_arp(&f, 1);
	sleep_ms(30);
	if (vfe_ring_used_idx(&f.ring[1]) != 1) {
		r = fail("disabled TX queue served (used %u)",
			 vfe_ring_used_idx(&f.ring[1]));
		goto out;
	}
	st = vfe_vstate(1, 1);
	if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_ENABLE, "enable TX", &st,
			sizeof(st), NULL, 0)))
		goto out;
	kick(&f, 1);
	if ((r = arp_wait(&f, ARP_MS)))
		goto out;

	/* Stop TX, read where it is, start it again from there */
	st = vfe_vstate(1, 0);
	if ((rc = vfe_send(f.s, VHOST_USER_GET_VRING_BASE, false, &st,
			   sizeof(st), NULL, 0)) ||
	    (rc = msg_reply(f.s, VHOST_USER_GET_VRING_BASE, &v, REPLY_MS))) {
		r = fail("GET_VRING_BASE: %s", errstr(rc));
		goto out;
	}
	if (v >> 32 != f.ring[1].avail_idx || (v & 0xffffffff) != 1) {
		r = fail("GET_VRING_BASE: queue %llu at %llu, expected 1 at %u",
			 (unsigned long long)(v & 0xffffffff),
			 (unsigned long long)(v >> 32), f.ring[1].avail_idx);
		goto out;
	}
	st = vfe_vstate(1, (uint32_t)(v >> 32));
	close_fd_p(&f.kick[1]);
	f.kick[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	u = htole64(1);
	if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_BASE, "SET_VRING_BASE", &st,
			sizeof(st), NULL, 0)) ||
	    (r = ack_ok(f.s, VHOST_USER_SET_VRING_KICK, "SET_VRING_KICK", &u,
			sizeof(u), &f.kick[1], 1)))
		goto out;
	r = fe_arp(&f, 2);
out:
	fe_close(&f);
	if (efd >= 0)
		close(efd);
	return r;
}

/**
 * case_log_all() - Dirty logging: what the daemon writes is marked
 *
 * With VHOST_F_LOG_ALL, a log and the RX used ring logged, the pages of
 * the receive buffer and of the used ring must be dirty after the ARP
 * reply.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_log_all(void)
{
	struct vhost_user_log l = { htole64(4096), 0 };
	struct vhost_user_vring_addr a;
	const char *r;
	uint8_t *log;
	struct fe f;
	uint64_t u;
	int lfd;

	fe_init(&f);
	lfd = vfe_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	log = lfd < 0 ? MAP_FAILED :
	      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	if (log == MAP_FAILED) {
		r = fail("log memfd: %s", strerror(errno));
		goto out;
	}
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	u = htole64(GUEST_FEATURES | BIT_ULL(VHOST_F_LOG_ALL));
	if ((r = ack_ok(f.s, VHOST_USER_SET_FEATURES, "LOG_ALL", &u, sizeof(u),
			NULL, 0)) ||
	    (r = ack_ok(f.s, VHOST_USER_SET_LOG_BASE, "SET_LOG_BASE", &l,
			sizeof(l), &lfd, 1)))
		goto out;
	a = vaddr(0, 0);
	a.flags = htole32(1U << VHOST_VRING_F_LOG);
	a.log_guest_addr = htole64(GPA_BASE + RING(0) + USED_OFF);
	if ((r = ack_ok(f.s, VHOST_USER_SET_VRING_ADDR, "logged rings", &a,
			sizeof(a), NULL, 0)))
		goto out;
	if ((r = fe_arp(&f, 0)))
		goto out;
	/* Bit n of the log: guest page n */
	if (!(log[(RXBUF / 4096) / 8] & (1 << ((RXBUF / 4096) % 8))))
		r = fail("receive buffer page not marked dirty");
	else if (!(log[((RING(0) + USED_OFF) / 4096) / 8] &
		   (1 << (((RING(0) + USED_OFF) / 4096) % 8))))
		r = fail("used ring page not marked dirty");
	else if (log[(TXBUF / 4096) / 8] & (1 << ((TXBUF / 4096) % 8)))
		r = fail("TX buffer page marked dirty, never written");
out:
	fe_close(&f);
	if (log != MAP_FAILED)
		munmap(log, 4096);
	if (lfd >= 0)
		close(lfd);
	return r;
}

/**
 * case_log_base() - SET_LOG_BASE with bad sizes, offsets, files
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_log_base(void)
{
	static const struct { uint64_t size, off; unsigned nfds; int kind; }
	t[] = {
		{ 65536,	0,		1, 0 },	/* file of 4096 bytes */
		{ 8192,		0,		1, 0 },
		{ 4096,		4096,		1, 0 },	/* offset past the file */
		{ 0,		0,		1, 0 },
		{ 4096,		100,		1, 0 },	/* unaligned offset */
		{ 4096,		~0ULL - 4095,	1, 0 },	/* wraps */
		{ ~0ULL,	0,		1, 0 },
		{ 16,		0,		1, 0 },	/* doesn't cover memory */
		{ 4096,		0,		1, 1 },	/* a pipe */
		{ 4096,		0,		0, 0 },	/* no fd */
		{ 4096,		0,		2, 0 },	/* two fds */
	};
	int lfd = vfe_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW), p[2], maps;
	const char *r = NULL;
	unsigned i;
	struct fe f;

	if (lfd < 0 || pipe2(p, O_CLOEXEC))
		return fail("memfd or pipe: %s", strerror(errno));
	fe_init(&f);
	for (i = 0; i < ARRAY_SIZE(t) && !r; i++) {
		struct vhost_user_log l = { htole64(t[i].size),
					    htole64(t[i].off) };
		int fds[2] = { t[i].kind ? p[0] : lfd, lfd };
		bool dropped;

		if (f.s < 0 && (r = fe_open(&f, GUEST_FEATURES)))
			break;
		maps = count_maps();
		r = refused(f.s, VHOST_USER_SET_LOG_BASE, "log", &l, sizeof(l),
			    fds, t[i].nfds, &dropped);
		if (!r && !dropped && count_maps() != maps)
			r = fail("%d mappings, %d before", count_maps(), maps);
		if (r)
			r = fail("size 0x%llx offset 0x%llx, %u fds: %s",
				 (unsigned long long)t[i].size,
				 (unsigned long long)t[i].off, t[i].nfds, r);
		if (r || dropped)
			fe_close(&f);
	}

	/* A good log, replaced 100 times: one mapping only */
	if (!r && f.s < 0)
		r = fe_open(&f, GUEST_FEATURES);
	if (!r) {
		struct vhost_user_log l = { htole64(4096), 0 };

		maps = count_maps();
		for (i = 0; i < 100 && !r; i++)
			r = ack_ok(f.s, VHOST_USER_SET_LOG_BASE, "good log", &l,
				   sizeof(l), &lfd, 1);
		if (!r && count_maps() != maps + 1)
			r = fail("%d mappings after 100 logs, %d before",
				 count_maps(), maps);
		if (!r)
			r = fe_arp(&f, 0);
	}
	fe_close(&f);
	close(lfd);
	close(p[0]);
	close(p[1]);
	return r;
}

/* --- Cases: descriptor chains ----------------------------------------------- */

enum chain_kind {
	CH_LOOP2, CH_LOOP1, CH_NEXT_RANGE, CH_NEXT_FFFF, CH_HEAD_RANGE,
	CH_LEN0, CH_LEN_HUGE, CH_OUTSIDE, CH_WRAP, CH_IND_NESTED,
	CH_IND_LEN_ODD, CH_IND_LEN0, CH_IND_LEN_HUGE, CH_IND_OUTSIDE,
	CH_IND_NEXT, CH_IND_LOOP, CH_IND_NEXT_RANGE, CH_IND_NOT_HEAD,
	CH_AVAIL_JUMP, CH_AVAIL_FFFF, CH_WRITE_ON_TX, CH_READ_AFTER_WRITE,
	CH_LONG, CH_LOOP_LEN0, CH_IND_LOOP_LEN0, CH_COUNT
};

static const char *chain_names[CH_COUNT] = {
	"loop of two", "descriptor pointing to itself",
	"next index = queue size", "next index 0xffff",
	"head index out of range", "length 0", "length 0xffffffff",
	"buffer outside guest memory", "buffer wrapping the address space",
	"nested indirect table", "indirect length not a multiple of 16",
	"indirect length 0", "indirect length 0xfffffff0",
	"indirect table outside memory", "indirect descriptor with NEXT",
	"loop in an indirect table", "indirect next out of range",
	"indirect descriptor not at chain head",
	"avail index ahead by queue size + 1", "avail index 0xffff",
	"device-writable buffer on TX", "readable after writable",
	"chain of 100 segments", "loop of zero-length descriptors",
	"loop of zero-length descriptors in an indirect table",
};

/**
 * chain_build() - Write a hostile chain on the TX queue, at descriptor 0
 * @f:		Front-end
 * @k:		Kind of chain
 *
 * Return: head to make available
 */
static uint16_t chain_build(struct fe *f, enum chain_kind k)
{
	const uint64_t buf = GPA_BASE + TXBUF, ind = GPA_BASE + INDBUF;
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE;
	const uint16_t I = VRING_DESC_F_INDIRECT;
	uint8_t arp[ARP_LEN];
	unsigned i;

	arp_request(arp);
	tx_frame(f, 0, arp, sizeof(arp));	/* a frame to point at */
	switch (k) {
	case CH_LOOP2:
		vfe_ring_desc(&f->ring[1], 0, buf, 20, N, 1);
		vfe_ring_desc(&f->ring[1], 1, buf + 20, 34, N, 0);
		break;
	case CH_LOOP1:		vfe_ring_desc(&f->ring[1], 0, buf, 54, N,
					      0);	break;
	case CH_NEXT_RANGE:	vfe_ring_desc(&f->ring[1], 0, buf, 20, N,
					      QNUM);	break;
	case CH_NEXT_FFFF:	vfe_ring_desc(&f->ring[1], 0, buf, 20, N,
					      0xffff);	break;
	case CH_HEAD_RANGE:	return QNUM + 44;
	case CH_LEN0:		vfe_ring_desc(&f->ring[1], 0, buf, 0, 0,
					      0);	break;
	case CH_LEN_HUGE:	vfe_ring_desc(&f->ring[1], 0, buf, 0xffffffff,
					      0, 0); break;
	case CH_OUTSIDE:	vfe_ring_desc(&f->ring[1], 0, 1ULL << 40, 54, 0,
					      0); break;
	case CH_WRAP:		vfe_ring_desc(&f->ring[1], 0, ~0ULL - 15, 54, 0,
					      0); break;
	case CH_IND_NESTED:
		vfe_ring_desc(&f->ring[1], 0, ind, 16, I, 0);
		vfe_desc_put(f->mem + INDBUF + (0), 0, ind + 256, 16, I, 0);
		vfe_desc_put(f->mem + INDBUF + (256), 0, buf, 54, 0, 0);
		break;
	case CH_IND_LEN_ODD:
		vfe_desc_put(f->mem + INDBUF + (0), 0, buf, 54, 0, 0);
		vfe_ring_desc(&f->ring[1], 0, ind, 15, I, 0);
		break;
	case CH_IND_LEN0:	vfe_ring_desc(&f->ring[1], 0, ind, 0, I,
					      0);	break;
	case CH_IND_LEN_HUGE:	vfe_ring_desc(&f->ring[1], 0, ind, 0xfffffff0,
					      I, 0); break;
	case CH_IND_OUTSIDE:	vfe_ring_desc(&f->ring[1], 0, 1ULL << 40, 64, I,
					      0); break;
	case CH_IND_NEXT:
		vfe_desc_put(f->mem + INDBUF + (0), 0, buf, 54, 0, 0);
		vfe_ring_desc(&f->ring[1], 0, ind, 16, I | N, 1);
		vfe_ring_desc(&f->ring[1], 1, buf, 54, 0, 0);
		break;
	case CH_IND_LOOP:
		vfe_desc_put(f->mem + INDBUF + (0), 0, buf, 20, N, 1);
		vfe_desc_put(f->mem + INDBUF + (0), 1, buf + 20, 34, N, 0);
		vfe_ring_desc(&f->ring[1], 0, ind, 32, I, 0);
		break;
	case CH_IND_NEXT_RANGE:
		vfe_desc_put(f->mem + INDBUF + (0), 0, buf, 20, N, 2);
		vfe_desc_put(f->mem + INDBUF + (0), 1, buf + 20, 34, 0, 0);
		vfe_ring_desc(&f->ring[1], 0, ind, 32, I, 0);
		break;
	case CH_IND_NOT_HEAD:
		vfe_desc_put(f->mem + INDBUF + (0), 0, buf + 20, 34, 0, 0);
		vfe_ring_desc(&f->ring[1], 0, buf, 20, N, 1);
		vfe_ring_desc(&f->ring[1], 1, ind, 16, I, 0);
		break;
	case CH_AVAIL_JUMP:
		vfe_ring_avail_idx(&f->ring[1],
				   f->ring[1].avail_idx + QNUM + 1);
		return 0xffff;		/* nothing to push */
	case CH_AVAIL_FFFF:
		vfe_ring_avail_idx(&f->ring[1], f->ring[1].avail_idx + 0xffff);
		return 0xffff;
	case CH_WRITE_ON_TX:	vfe_ring_desc(&f->ring[1], 0, buf, 54, W,
					      0);	break;
	case CH_READ_AFTER_WRITE:
		vfe_ring_desc(&f->ring[1], 0, buf, 20, W | N, 1);
		vfe_ring_desc(&f->ring[1], 1, buf + 20, 34, 0, 0);
		break;
	case CH_LONG:
		/* 100 segments: more than the back-end takes in one element */
		for (i = 0; i < 100; i++)
			vfe_ring_desc(&f->ring[1], i, buf + (i % 54), 1,
				      i < 99 ? N : 0,
				      i + 1);
		break;
	case CH_LOOP_LEN0:	/* adds no segment: only the walk bound ends it */
		vfe_ring_desc(&f->ring[1], 0, buf, 0, N, 1);
		vfe_ring_desc(&f->ring[1], 1, buf, 0, N, 0);
		break;
	case CH_IND_LOOP_LEN0:
		vfe_desc_put(f->mem + INDBUF + (0), 0, buf, 0, N, 1);
		vfe_desc_put(f->mem + INDBUF + (0), 1, buf, 0, N, 0);
		vfe_ring_desc(&f->ring[1], 0, ind, 32, I, 0);
		break;
	case CH_COUNT:
		break;
	}
	return 0;
}

/**
 * case_chains() - Hostile descriptor chains on the TX queue
 *
 * The daemon must stay responsive, and not crash; the oversized chain
 * must come back used, and what follows it be served.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_chains(void)
{
	const uint64_t features = GUEST_FEATURES |
				  BIT_ULL(VIRTIO_F_INDIRECT_DESC);
	const char *r = NULL;
	unsigned k;

	for (k = 0; k < CH_COUNT && !r; k++) {
		struct fe f;
		uint16_t head;

		fe_init(&f);
		if ((r = fe_open(&f, features)))
			break;
		rx_post(&f, RX_BUFS);
		head = chain_build(&f, k);
		if (head != 0xffff)
			vfe_ring_push(&f.ring[1], head);
		kick(&f, 1);
		sleep_ms(10);
		r = responsive(f.s, chain_names[k]);

		if (!r && k == CH_LONG) {
			if (!wait_used(&f, 1, 1, REPLY_MS))
				r = fail("chain of 100 segments not returned");
			else		/* the next frame is still served */
				r = fe_arp(&f, 200);
		}
		if (!r && k == CH_LEN0)
			r = fe_arp(&f, 200);
		/* Kicking a broken queue again */
		if (!r) {
			kick(&f, 1);
			sleep_ms(5);
			r = responsive(f.s, chain_names[k]);
		}
		if (r)
			r = fail("%s: %s", chain_names[k], r);
		fe_close(&f);
	}
	return r;
}

/**
 * case_long_between() - An oversized chain between two good frames
 *
 * The daemon gives a chain with more segments than it takes back to the
 * guest as used, unprocessed.  The used ring must then hold each of the
 * three heads exactly once: the oversized one must not take the place of
 * a frame already popped, nor leave a stale entry behind.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_long_between(void)
{
	const uint64_t buf = GPA_BASE + TXBUF;
	static const uint32_t want[3] = { 200, 0, 201 };
	uint8_t arp[ARP_LEN];
	bool seen[3] = { false };
	const char *r;
	unsigned i, j;
	struct fe f;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	/* Sentinel in the used ring: the daemon writes what the guest sees */
	for (i = 0; i < QNUM; i++)
		memset(f.mem + RING(1) + USED_OFF + 4 + 8 * i, 0xee, 8);
	rx_post(&f, RX_BUFS);
	arp_request(arp);
	tx_frame(&f, 200, arp, sizeof(arp));
	tx_frame(&f, 201, arp, sizeof(arp));
	tx_frame(&f, 0, arp, sizeof(arp));
	for (i = 0; i < 100; i++)
		vfe_ring_desc(&f.ring[1], i, buf + (i % 54), 1,
			      i < 99 ? VRING_DESC_F_NEXT : 0, i + 1);
	vfe_le16_put(f.ring[1].avail + 4, 200);
	vfe_le16_put(f.ring[1].avail + 6, 0);
	vfe_le16_put(f.ring[1].avail + 8, 201);
	f.ring[1].avail_idx = 3;
	vfe_ring_avail_idx(&f.ring[1], 3);
	kick(&f, 1);
	if (!wait_used(&f, 1, 3, REPLY_MS)) {
		r = fail("TX used index %u, 3 expected",
			 vfe_ring_used_idx(&f.ring[1]));
		goto out;
	}
	sleep_ms(10);
	if (vfe_ring_used_idx(&f.ring[1]) != 3) {
		r = fail("TX used index %u, 3 expected",
			 vfe_ring_used_idx(&f.ring[1]));
		goto out;
	}
	for (i = 0; i < 3; i++) {
		uint32_t id, len;

		vfe_ring_used_elem(&f.ring[1], i, &id, &len);
		for (j = 0; j < 3 && id != want[j]; j++)
			;
		if (j == 3 || seen[j]) {
			r = fail("used entry %u has head 0x%x (heads 200, 0 "
				 "and 201 were made available, each must "
				 "come back once)", i, id);
			goto out;
		}
		seen[j] = true;
	}
	r = responsive(f.s, "oversized chain between frames");
out:
	fe_close(&f);
	return r;
}

/**
 * case_rx_chains() - Hostile receive buffers, filled by an ARP reply
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_rx_chains(void)
{
	static const char *names[] = {
		"RX loop", "RX buffer device-readable", "RX buffer of 4 bytes",
		"RX buffer length 0xffffffff", "RX buffer outside memory",
		"RX avail index jump", "RX head out of range",
		"RX 0-length buffer", "RX chain of 100 segments",
	};
	const uint64_t buf = GPA_BASE + RXBUF;
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE;
	const char *r = NULL;
	unsigned k, i;

	for (k = 0; k < ARRAY_SIZE(names) && !r; k++) {
		uint16_t head = 0;
		struct fe f;

		fe_init(&f);
		if ((r = fe_open(&f, GUEST_FEATURES)))
			break;
		switch (k) {
		case 0:
			vfe_ring_desc(&f.ring[0], 0, buf, 1024, W | N, 1);
			vfe_ring_desc(&f.ring[0], 1, buf + 1024, 1024, W | N,
				      0);
			break;
		case 1: vfe_ring_desc(&f.ring[0], 0, buf, 2048, 0,
				      0);		break;
		case 2: vfe_ring_desc(&f.ring[0], 0, buf, 4, W,
				      0);		break;
		case 3: vfe_ring_desc(&f.ring[0], 0, buf, 0xffffffff, W,
				      0);	break;
		case 4: vfe_ring_desc(&f.ring[0], 0, 1ULL << 40, 2048, W,
				      0);	break;
		case 5: head = 0xffff;
			vfe_ring_avail_idx(&f.ring[0],
					   QNUM + 7);			break;
		case 6: head = QNUM;					break;
		case 7: vfe_ring_desc(&f.ring[0], 0, buf, 0, W,
				      0);		break;
		case 8:
			for (i = 0; i < 100; i++)
				vfe_ring_desc(&f.ring[0], i, buf + i * 16, 16,
					      W | (i < 99 ? N : 0), i + 1);
			break;
		}
		if (head != 0xffff)
			vfe_ring_push(&f.ring[0], head);
		kick(&f, 0);
		tx_arp(&f, 0);
		sleep_ms(10);
		r = responsive(f.s, names[k]);
		if (!r) {
			tx_arp(&f, 1);
			sleep_ms(5);
			r = responsive(f.s, names[k]);
		}
		if (r)
			r = fail("%s: %s", names[k], r);
		fe_close(&f);
	}
	return r;
}

/**
 * case_tx_flood() - A full TX ring of ARP requests, few RX buffers
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_tx_flood(void)
{
	uint8_t arp[ARP_LEN];
	const char *r;
	struct fe f;
	unsigned i;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	rx_post(&f, 4);
	arp_request(arp);
	/* One frame, QNUM available entries all pointing at it */
	tx_frame(&f, 0, arp, sizeof(arp));
	for (i = 0; i < QNUM; i++)
		vfe_le16_put(f.ring[1].avail + 4 + 2 * i, 0);
	f.ring[1].avail_idx = QNUM;
	vfe_ring_avail_idx(&f.ring[1], QNUM);
	kick(&f, 1);
	if (!wait_used(&f, 1, QNUM, ARP_MS)) {
		r = fail("TX used %u of %u", vfe_ring_used_idx(&f.ring[1]),
							       QNUM);
		goto out;
	}
	r = responsive(f.s, "TX flood");
out:
	fe_close(&f);
	return r;
}

/**
 * unblock() - Read an eventfd of ours if it has a count, without waiting
 * @efd:	Eventfd, blocking
 *
 * Return: true if we read something (a writer blocked on it may go on)
 */
static bool unblock(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;

	return poll(&pfd, 1, 0) == 1 && read(efd, &v, sizeof(v)) == sizeof(v);
}

/**
 * catch_up() - Skip replies still due, until GET_FEATURES is answered
 * @s:		Socket
 *
 * Return: true if the daemon answered a GET_FEATURES within REPLY_MS
 */
static bool catch_up(int s)
{
	uint8_t pl[VHOST_USER_MAX_PAYLOAD];
	struct vhost_user_hdr h;
	int i;

	if (vfe_send(s, VHOST_USER_GET_FEATURES, false, NULL, 0, NULL, 0))
		return false;
	for (i = 0; i < 16; i++) {
		if (recv_full(s, &h, sizeof(h), REPLY_MS) ||
		    le32toh(h.size) > sizeof(pl) ||
		    recv_full(s, pl, le32toh(h.size), REPLY_MS))
			return false;
		if (le32toh(h.request) == VHOST_USER_GET_FEATURES)
			return true;
	}
	return false;
}

/**
 * nudge() - Add one to an eventfd if that doesn't block
 * @efd:	Eventfd, maybe blocking, maybe full
 */
static void nudge(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLOUT };
	uint64_t one = 1;

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) &&
	    write(efd, &one, sizeof(one)) < 0)
		perror("nudge");
}

/**
 * blocking_eventfd() - Kick or call eventfd that would block its writer
 * @req:	VHOST_USER_SET_VRING_KICK or VHOST_USER_SET_VRING_CALL
 *
 * We hand a blocking eventfd, its counter one short of the maximum, as
 * kick or call fd of the TX queue: a write of 1 then blocks until someone
 * reads it.  The daemon must not stop serving because of that (QEMU's
 * eventfds are non-blocking, but the daemon can't rely on it).  If it
 * does block, we read the counter ourselves to let it go, and fail.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *blocking_eventfd(uint32_t req)
{
	uint64_t u = htole64(1), max = 0xfffffffffffffffeULL;
	const char *r, *what = req == VHOST_USER_SET_VRING_KICK ?
			       "kick" : "call";
	struct fe f;
	int efd;

	fe_init(&f);
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || write(efd, &max, sizeof(max)) != sizeof(max)) {
		r = fail("eventfd: %s", strerror(errno));
		goto out;
	}
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	if (!(r = ack_ok(f.s, req, req == VHOST_USER_SET_VRING_KICK ?
			 "SET_VRING_KICK" : "SET_VRING_CALL", &u, sizeof(u),
			 &efd, 1))) {
		if (f.ring[0].avail_idx == f.used[0])
			rx_post(&f, RX_BUFS);
		tx_arp(&f, 0);
		/* Its kick goes to the old eventfd: kick through the new one,
		 * unless the daemon hasn't read it yet (it sees the frame
		 * then), and without blocking on it
		 */
		if (req == VHOST_USER_SET_VRING_KICK)
			nudge(efd);
		r = arp_wait(&f, ARP_MS);
	}
	if (r || (r = responsive(f.s, "saturated eventfd"))) {
		char reason[sizeof(why)];

		snprintf(reason, sizeof(reason), "%s", r);
		/* If it answers now, it was waiting for our read */
		if (unblock(efd) && catch_up(f.s))
			r = fail("%s (daemon blocked writing the %s eventfd "
				 "until we read it)", reason, what);
		else
			r = fail("%s", reason);
	}
out:
	fe_close(&f);
	/* Not read again: the daemon may be about to read a kick itself */
	if (efd >= 0)
		close(efd);
	return r;
}

/**
 * daemon_in_syscall() - Wait until the daemon sits in a given system call
 * @nr:		System call number
 * @ms:		Bound, milliseconds
 *
 * Return: true if /proc/PID/syscall showed @nr within @ms
 */
static bool daemon_in_syscall(long nr, int ms)
{
	long long end = now_ms() + ms;
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)daemon_pid);
	do {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			return false;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strtol(buf, NULL, 10) == nr)
				return true;
		}
		sleep_ms(1);
	} while (now_ms() < end);
	return false;
}

/**
 * case_kick_drained() - Kick eventfd drained by the front-end meanwhile
 *
 * The kick fd is shared with the front-end, which may read it too.  We
 * make the daemon see it readable, then read it ourselves before the
 * daemon does: the daemon is made to wait in between by a message whose
 * payload we hold back (it reads messages blocking).  Its read of the kick
 * fd must not then wait for a kick that never comes.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_kick_drained(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_SET_FEATURES),
		htole32(VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY),
		htole32(8)
	};
	struct {
		uint64_t pl;
		struct vhost_user_hdr h;
	} PACKED two = { htole64(GUEST_FEATURES), h };
	uint64_t u = htole64(1), one = 1, v;
	const char *r;
	struct fe f;
	int efd, rc;

	fe_init(&f);
	efd = eventfd(0, EFD_CLOEXEC);		/* blocking */
	if (efd < 0) {
		r = fail("eventfd: %s", strerror(errno));
		goto out;
	}
	if ((r = fe_open(&f, GUEST_FEATURES)) ||
	    (r = ack_ok(f.s, VHOST_USER_SET_VRING_KICK, "SET_VRING_KICK", &u,
			sizeof(u), &efd, 1)))
		goto out;
	sleep_ms(20);		/* any kick of its own is read by now */

	/* First message: header only, the daemon waits for the payload */
	if ((rc = vfe_send_raw(f.s, &h, sizeof(h), NULL, 0))) {
		r = fail("send: %s", strerror(-rc));
		goto out;
	}
	if (!daemon_in_syscall(SYS_recvfrom, REPLY_MS)) {
		r = fail("daemon not waiting for the payload");
		goto out;
	}
	/* Kick while it waits: the kick fd is ready after the connection */
	if (write(efd, &one, sizeof(one)) != sizeof(one)) {
		r = fail("kick: %s", strerror(errno));
		goto out;
	}
	/* Payload, and the header of a second message, held the same way */
	if ((rc = vfe_send_raw(f.s, &two, sizeof(two), NULL, 0)) ||
	    (rc = msg_reply(f.s, VHOST_USER_SET_FEATURES, &v, REPLY_MS))) {
		r = fail("first SET_FEATURES: %s", errstr(rc));
		goto out;
	}
	if (!daemon_in_syscall(SYS_recvfrom, REPLY_MS)) {
		r = fail("daemon not waiting for the second payload");
		goto out;
	}
	/* Now take the kick away, then let the daemon go on to it */
	unblock(efd);
	if ((rc = vfe_send_raw(f.s, &two.pl, sizeof(two.pl), NULL, 0)) ||
	    (rc = msg_reply(f.s, VHOST_USER_SET_FEATURES, &v, REPLY_MS))) {
		r = fail("second SET_FEATURES: %s", errstr(rc));
		goto out;
	}
	sleep_ms(10);
	if ((r = responsive(f.s, "after the kick was taken away"))) {
		char reason[sizeof(why)];

		snprintf(reason, sizeof(reason), "%s", r);
		if (write(efd, &one, sizeof(one)) == sizeof(one) &&
		    catch_up(f.s))
			r = fail("%s (daemon blocked reading the kick eventfd "
				 "until we kicked again)", reason);
		else
			r = fail("%s", reason);
	}
out:
	fe_close(&f);
	if (efd >= 0)
		close(efd);
	return r;
}

/**
 * case_call_blocking() - Call eventfd that would block the daemon
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_call_blocking(void)
{
	return blocking_eventfd(VHOST_USER_SET_VRING_CALL);
}

/**
 * case_kick_blocking() - Kick eventfd that would block the daemon
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_kick_blocking(void)
{
	return blocking_eventfd(VHOST_USER_SET_VRING_KICK);
}

/* --- Cases: device state ---------------------------------------------------- */

/**
 * devstate() - SET_DEVICE_STATE_FD
 * @s:		Socket
 * @dir:	Direction
 * @phase:	Phase
 * @fds:	Descriptors
 * @nfds:	How many
 * @v:		Reply value, set on success
 *
 * Return: 0 if a reply came, -errno otherwise
 */
static int devstate(int s, uint32_t dir, uint32_t phase, const int *fds,
		    unsigned nfds, uint64_t *v)
{
	struct vhost_user_device_state d = { htole32(dir), htole32(phase) };
	int rc = vfe_send(s, VHOST_USER_SET_DEVICE_STATE_FD, false, &d,
			  sizeof(d), fds, nfds);

	if (rc)
		return rc == -EPIPE ? -ECONNRESET : rc;
	return msg_reply(s, VHOST_USER_SET_DEVICE_STATE_FD, v, REPLY_MS);
}

/**
 * check_state() - CHECK_DEVICE_STATE
 * @s:		Socket
 * @v:		Reply value, set on success
 *
 * Return: 0 if a reply came, -errno otherwise
 */
static int check_state(int s, uint64_t *v)
{
	int rc = vfe_send(s, VHOST_USER_CHECK_DEVICE_STATE, false, NULL, 0,
			  NULL, 0);

	if (rc)
		return rc;
	return msg_reply(s, VHOST_USER_CHECK_DEVICE_STATE, v, REPLY_MS);
}

/**
 * case_devstate_bad() - SET_DEVICE_STATE_FD that must be refused
 *
 * Wrong direction, wrong phase, no fd, two fds.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_devstate_bad(void)
{
	static const struct { uint32_t dir, phase; unsigned nfds; } t[] = {
		{ 2, 0, 1 }, { 0xffffffff, 0, 1 }, { 1, 1, 1 },
		{ 1, 0xffffffff, 1 }, { 0, 7, 1 }, { 1, 0, 0 }, { 1, 0, 2 },
		{ 0, 0, 2 }, { 0, 0, 0 },
	};
	const char *r = NULL;
	unsigned i;
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return fail("pipe: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(t) && !r; i++) {
		int fds[2] = { p[0], p[1] };
		struct fe f;
		uint64_t v;
		int rc;

		fe_init(&f);
		if ((r = fe_open(&f, GUEST_FEATURES)))
			break;
		rc = devstate(f.s, t[i].dir, t[i].phase, fds, t[i].nfds, &v);
		if (rc && rc != -ECONNRESET)
			r = fail("%s", errstr(rc));
		else if (!rc && !(v & 0xff))
			r = fail("accepted (0x%llx)", (unsigned long long)v);
		else if (!rc && !(r = responsive(f.s, "refused state fd")) &&
			 !(rc = check_state(f.s, &v)) && !v)
			r = fail("CHECK_DEVICE_STATE says success");
		if (r)
			r = fail("direction %u, phase %u, %u fds: %s",
				 t[i].dir, t[i].phase, t[i].nfds, r);
		fe_close(&f);
	}
	close(p[0]);
	close(p[1]);
	return r;
}

/**
 * case_check_no_transfer() - CHECK_DEVICE_STATE with no transfer
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_check_no_transfer(void)
{
	const char *r;
	struct fe f;
	uint64_t v;
	int rc, i;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)))
		return r;
	for (i = 0; i < 3 && !r; i++) {
		if ((rc = check_state(f.s, &v)))
			r = fail("CHECK_DEVICE_STATE: %s", errstr(rc));
		else if (!v)
			r = fail("CHECK_DEVICE_STATE without transfer: success");
		if (!r && i == 0)
			r = fe_setup(&f, GUEST_FEATURES);
	}
	if (!r)
		r = fe_arp(&f, 0);
	fe_close(&f);
	return r;
}

/**
 * load_garbage() - Load a stream of garbage, then CHECK
 * @f:		Front-end, set up
 * @len:	Bytes of garbage
 * @seed:	Pattern
 * @close_first: Close our end before CHECK_DEVICE_STATE (as QEMU does)
 *
 * Return: NULL if CHECK_DEVICE_STATE reports a failure, reason otherwise
 */
static const char *load_garbage(struct fe *f, size_t len, unsigned seed,
				bool close_first)
{
	static uint8_t junk[65536];
	const char *r = NULL;
	size_t done = 0;
	uint64_t v;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC))
		return fail("pipe: %s", strerror(errno));
	rc = devstate(f->s, VHOST_USER_STATE_LOAD, 0, &p[0], 1, &v);
	close(p[0]);
	if (rc) {
		r = fail("SET_DEVICE_STATE_FD: %s", errstr(rc));
		goto out;
	}
	if (v & 0xff) {
		r = fail("load refused (0x%llx)", (unsigned long long)v);
		goto out;
	}

	srandom(seed);
	while (done < len) {
		size_t n = MIN(len - done, sizeof(junk)), i;
		struct pollfd pfd = { .fd = p[1], .events = POLLOUT };
		ssize_t w;

		for (i = 0; i < n; i++)
			junk[i] = (uint8_t)random();
		if (poll(&pfd, 1, 2000) != 1) {
			r = fail("daemon stopped reading the state pipe after "
				 "%zu bytes", done);
			goto out;
		}
		if ((w = write(p[1], junk, n)) < 0) {
			r = fail("write: %s", strerror(errno));
			goto out;
		}
		done += w;
	}
	if (close_first)
		close_fd_p(&p[1]);
	if ((rc = check_state(f->s, &v)))
		r = fail("CHECK_DEVICE_STATE: %s", errstr(rc));
	else if (!v)
		r = fail("garbage loaded successfully");
out:
	if (p[1] >= 0)
		close(p[1]);
	return r;
}

/**
 * case_load_garbage() - Load transfers carrying garbage
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_load_garbage(void)
{
	static const struct { size_t len; bool close_first; } t[] = {
		{ 0, true }, { 1, true }, { 16, true }, { 4096, true },
		{ 200000, true }, { 4 << 20, true }, { 4096, false },
	};
	const char *r;
	unsigned i;
	struct fe f;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	for (i = 0; i < ARRAY_SIZE(t) && !r; i++) {
		if ((r = load_garbage(&f, t[i].len, i + 1, t[i].close_first)))
			r = fail("%zu bytes%s: %s", t[i].len,
				 t[i].close_first ? "" : ", pipe open", r);
	}
	if (!r && (r = responsive(f.s, "after garbage")))
		goto out;
	if (!r && count_maps() != base_maps + 1)
		r = fail("%d mappings after the loads, %d expected",
			 count_maps(), base_maps + 1);
	if (!r)
		r = fe_arp(&f, 0);
out:
	fe_close(&f);
	return r;
}

/**
 * case_load_abandoned() - A load, then the front-end goes away
 *
 * Half a stream in the pipe, our end still open, and we disconnect: the
 * daemon must drop the transfer (pipe and buffer) with the session.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_load_abandoned(void)
{
	uint8_t junk[1000];
	const char *r;
	struct fe f;
	uint64_t v;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC))
		return fail("pipe: %s", strerror(errno));
	memset(junk, 0x5a, sizeof(junk));
	fe_init(&f);
	if (!(r = fe_open(&f, GUEST_FEATURES))) {
		rc = devstate(f.s, VHOST_USER_STATE_LOAD, 0, &p[0], 1, &v);
		if (rc)
			r = fail("SET_DEVICE_STATE_FD: %s", errstr(rc));
		else if (v & 0xff)
			r = fail("load refused");
		else if (write(p[1], junk, sizeof(junk)) != sizeof(junk))
			r = fail("write: %s", strerror(errno));
		sleep_ms(10);
	}
	fe_close(&f);
	close(p[0]);
	sleep_ms(10);
	close(p[1]);
	return r;
}

/**
 * case_save_nobody() - A save into a pipe nobody reads, and into a file
 *
 * The read end is closed before the request: the daemon's writes fail,
 * CHECK must say so, and the daemon carry on (not behave as a migrated
 * source).  A memfd can't be watched with epoll: refused.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_save_nobody(void)
{
	const char *r;
	struct fe f;
	uint64_t v;
	int p[2], rc, mfd;

	if (pipe2(p, O_CLOEXEC))
		return fail("pipe: %s", strerror(errno));
	close(p[0]);
	mfd = vfe_memfd(0, 0);
	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	rc = devstate(f.s, VHOST_USER_STATE_SAVE, 0, &p[1], 1, &v);
	if (rc) {
		r = fail("SET_DEVICE_STATE_FD: %s", errstr(rc));
		goto out;
	}
	if ((rc = check_state(f.s, &v)))
		r = fail("CHECK_DEVICE_STATE: %s", errstr(rc));
	else if (!v)
		r = fail("save without reader reported successful");
	if (r)
		goto out;

	rc = devstate(f.s, VHOST_USER_STATE_LOAD, 0, &mfd, 1, &v);
	if (rc)
		r = fail("load from a memfd: %s", errstr(rc));
	else if (!(v & 0xff) && (rc = check_state(f.s, &v)))
		r = fail("CHECK after load from a memfd: %s", errstr(rc));
	else if (!v)
		r = fail("load from an empty memfd reported successful");
	if (!r)
		r = fe_arp(&f, 0);
out:
	fe_close(&f);
	close(p[1]);
	if (mfd >= 0)
		close(mfd);
	return r;
}

/* --- Cases: connections ----------------------------------------------------- */

/**
 * case_second_frontend() - A second front-end is closed at once
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_second_frontend(void)
{
	const char *r;
	struct fe f;
	int s2, i;

	fe_init(&f);
	if ((r = fe_open(&f, GUEST_FEATURES)))
		goto out;
	for (i = 0; i < 20 && !r; i++) {
		uint8_t b;
		int rc;

		if ((s2 = sock_connect()) < 0) {
			if (s2 == -EAGAIN) {
				sleep_ms(5);
				continue;
			}
			r = fail("second connect: %s", strerror(-s2));
			break;
		}
		vfe_send(s2, VHOST_USER_GET_FEATURES, false, NULL, 0, NULL, 0);
		rc = recv_full(s2, &b, 1, DROP_MS);
		if (rc != -ECONNRESET)
			r = fail("second front-end: %s",
				 rc ? errstr(rc) : "got an answer");
		close(s2);
	}
	if (!r)
		r = fe_arp(&f, 0);
out:
	fe_close(&f);
	return r;
}

/**
 * case_churn() - 1000 connect and disconnect cycles
 *
 * Some close at once, some after GET_FEATURES, after the memory table,
 * after the whole set-up, or in the middle of a header.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_churn(void)
{
	struct vhost_user_hdr h = {
		htole32(VHOST_USER_SET_MEM_TABLE), htole32(1), htole32(100)
	};
	long long t0 = now_ms();
	const char *r = NULL;
	unsigned i;
	struct fe f;

	fe_init(&f);
	for (i = 0; i < 1000 && !r; i++) {
		switch (i % 6) {
		case 0:		/* connect, close at once */
			if ((f.s = sock_connect()) < 0 && f.s != -EAGAIN)
				r = fail("connect: %s", strerror(-f.s));
			if (f.s < 0)
				f.s = -1;
			break;
		case 1:
			r = fe_connect(&f, READY_MS);
			break;
		case 2:
			if (!(r = fe_connect(&f, READY_MS)) &&
			    !(r = fe_features(&f, GUEST_FEATURES)) &&
			    !(r = fe_memory(&f)))
				r = fe_mem_table(&f);
			break;
		case 3:
			r = fe_open(&f, GUEST_FEATURES);
			break;
		case 4:		/* half a header */
			if (!(r = fe_connect(&f, READY_MS)))
				vfe_send_raw(f.s, &h, 5, NULL, 0);
			break;
		case 5:		/* a header and part of its payload, an fd */
			if (!(r = fe_connect(&f, READY_MS)) &&
			    !(r = fe_memory(&f)))
				vfe_send_raw(f.s, &h, sizeof(h), &f.memfd, 1);
			break;
		}
		fe_close(&f);
		if (r)
			r = fail("cycle %u: %s", i, r);
		if (now_ms() - t0 > 60000 && !r)
			r = fail("cycle %u: over 60 s", i);
	}
	return r;
}

/**
 * case_memfd_shrunk() - Guest memory file shrunk after it was mapped
 *
 * A front-end can truncate a memfd it gave us unless the file is sealed
 * against shrinking (QEMU seals its memfds, we use an unsealed one here):
 * our accesses to the mapping then fault (SIGBUS).  Refusing the unsealed
 * file is fine too.  Last, as a daemon that doesn't cope dies here.
 *
 * Return: NULL on success, reason otherwise
 */
static const char *case_memfd_shrunk(void)
{
	const char *r;
	struct fe f;
	void *p;

	fe_init(&f);
	if ((r = fe_connect(&f, READY_MS)))
		goto out;
	if ((f.memfd = vfe_memfd(MEM_SIZE, 0)) < 0 ||
	    (p = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f.memfd, 0)) == MAP_FAILED) {
		r = fail("memfd: %s", strerror(errno));
		goto out;
	}
	f.mem = p;
	fe_rings(&f);
	if ((r = fe_features(&f, GUEST_FEATURES)))
		goto out;
	{
		struct vhost_user_mem_table t = { .nregions = htole32(1) };
		uint64_t v;
		int rc;

		t.regions[0] = vfe_region(GPA_BASE, MEM_SIZE, QVA_BASE, 0);
		rc = ack(f.s, VHOST_USER_SET_MEM_TABLE, &t, vfe_table_len(1),
			 &f.memfd, 1, &v);
		if (rc == -ECONNRESET || (!rc && v))
			goto out;		/* unsealed file refused: fine */
		if (rc) {
			r = fail("SET_MEM_TABLE: %s", errstr(rc));
			goto out;
		}
	}
	if ((r = fe_queue(&f, 0)) || (r = fe_queue(&f, 1)))
		goto out;
	rx_post(&f, RX_BUFS);
	tx_arp(&f, 0);
	if ((r = arp_wait(&f, ARP_MS)))
		goto out;

	/* Pull the pages from under the daemon, then make it look */
	munmap(f.mem, MEM_SIZE);
	f.mem = NULL;
	if (ftruncate(f.memfd, 0)) {
		r = fail("ftruncate: %s", strerror(errno));
		goto out;
	}
	kick(&f, 1);
	kick(&f, 0);
	sleep_ms(50);
	if (!daemon_alive())
		r = fail("daemon died touching guest memory whose file shrank "
			 "(SIGBUS)");
	else	/* the session is reset: its memory is gone */
		r = expect_drop(f.s, "memfd shrunk");
out:
	fe_close(&f);
	return r;
}

/* --- Runner ------------------------------------------------------------------ */

/**
 * struct tcase - One case
 * @name:	Name
 * @fn:		Function: NULL on success, reason otherwise
 */
struct tcase {
	const char *name;
	const char *(*fn)(void);
};

static const struct tcase cases[] = {
	{ "short headers, then close",		case_short },
	{ "short header, held open, then close", case_short_held },
	{ "short header, then nothing, held open", case_stalled },
	{ "guest taking frames unchecked (GUEST_CSUM)", case_guest_csum },
	{ "oversized and wrong payload sizes",	case_oversized },
	{ "wrong header version",		case_version },
	{ "unknown requests",			case_unknown },
	{ "header promising more payload, then close", case_promise },
	{ "replies never read",			case_no_read },
	{ "fds on messages that take none",	case_fds_unexpected },
	{ "too many fds",			case_fds_too_many },
	{ "fds in two control messages",	case_fds_two_cmsgs },
	{ "fds attached to the payload",	case_fds_on_payload },
	{ "kick and call fds not eventfds",	case_kick_not_eventfd },
	{ "queue index out of range, every vring message", case_vring_index },
	{ "vring size 0, not a power of two, too large", case_vring_size },
	{ "ring addresses outside or straddling memory", case_vring_addr },
	{ "memory table replaced under running queues", case_mem_moved },
	{ "bad memory tables",			case_mem_bad },
	{ "valid memory table 1000 times",	case_mem_repeat },
	{ "eight memory regions",		case_mem_eight },
	{ "RESET_OWNER mid-session",		case_reset_owner },
	{ "SET_LOG_BASE bad sizes and files",	case_log_base },
	{ "rarely used requests",		case_misc_requests },
	{ "dirty log with LOG_ALL",		case_log_all },
	{ "hostile TX descriptor chains",	case_chains },
	{ "hostile RX descriptor chains",	case_rx_chains },
	{ "oversized TX chain between two frames", case_long_between },
	{ "full TX ring",			case_tx_flood },
	{ "SET_DEVICE_STATE_FD wrong direction, phase, fds", case_devstate_bad },
	{ "CHECK_DEVICE_STATE without a transfer", case_check_no_transfer },
	{ "load transfers carrying garbage",	case_load_garbage },
	{ "load abandoned by the front-end",	case_load_abandoned },
	{ "save nobody reads, load from a file", case_save_nobody },
	{ "second front-end",			case_second_frontend },
	{ "1000 connect/disconnect cycles",	case_churn },
	{ "call eventfd that blocks",		case_call_blocking },
	{ "kick eventfd that blocks",		case_kick_blocking },
	{ "kick eventfd drained by the front-end", case_kick_drained },
	{ "guest memory file shrunk after mapping", case_memfd_shrunk },
};

/**
 * main() - Run the cases
 * @argc:	Argument count
 * @argv:	SOCKET PID [CASE-SUBSTRING]
 *
 * Return: 0 if all cases passed, 1 otherwise
 */
int main(int argc, char **argv)
{
	unsigned i, n = 0, passed = 0, failed = 0;
	const char *r;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "Usage: %s SOCKET PID [CASE-SUBSTRING]\n",
			argv[0]);
		return 2;
	}
	sock_path = argv[1];
	daemon_pid = atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	r = baseline();
	n++;
	if (r) {
		printf("not ok %u - baseline: %s\n", n, r);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("ok %u - baseline: handshake and ARP (%d fds, %d mappings)\n",
	       n, base_fds, base_maps);
	passed++;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		long long t0 = now_ms();

		if (argc == 4 && !strstr(cases[i].name, argv[3]))
			continue;
		n++;
		if (!daemon_alive()) {
			printf("not ok %u - %s: daemon is gone\n", n,
			       cases[i].name);
			failed++;
			continue;
		}
		if ((r = serving())) {
			printf("not ok %u - %s: not run: %s\n", n,
			       cases[i].name, r);
			failed++;
			continue;
		}
		r = cases[i].fn();
		if (!r)
			r = health();
		if (r) {
			char reason[sizeof(why)];

			snprintf(reason, sizeof(reason), "%s", r);
			if (daemon_alive())
				health();	/* the next case starts clean */
			printf("not ok %u - %s: %s\n", n, cases[i].name,
			       reason);
			failed++;
		} else {
			printf("ok %u - %s (%lld ms)\n", n, cases[i].name,
			       now_ms() - t0);
			passed++;
		}
	}

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
