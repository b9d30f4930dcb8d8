// SPDX-License-Identifier: GPL-2.0-or-later
/* migrate.c - The device state stream of a live migration
 *
 * DOC: Theory of operation
 *
 * QEMU moves our state with VHOST_USER_SET_DEVICE_STATE_FD: it hands us
 * one end of a pipe, we write our state to it (source, "save") or read it
 * (target, "load") until end of file, and CHECK_DEVICE_STATE asks us how
 * it went.  vhost_user.c only checks the request; it calls us through
 * migrate_devstate_ops, and the pipe is served by the epoll loop
 * (EV_DEVSTATE, migrate_handler()), so the control socket keeps being
 * answered during the transfer.
 *
 * The stream (layout in migrate.h and doc/migration.md) is a header with
 * magic, version and oldest readable version, then sections, each with an
 * id, a length and a CRC32C, then an end marker.  For each version there
 * is one NULL-terminated table of sections, and around the transfer there
 * are NULL-terminated arrays of handlers:
 *
 *   source pre:   freeze (TCP sockets into repair mode), build the stream
 *   source post:  on success, stop serving: we exit once QEMU hangs up,
 *                 and close the repaired sockets silently once QEMU has
 *                 our answer to CHECK_DEVICE_STATE (mig_release());
 *                 on failure, thaw
 *   target pre:   parse and check the whole stream: header, versions,
 *                 CRCs, every section's sizes and limits, touching nothing
 *   target post:  apply every section
 *
 * The source builds the whole stream in memory before writing it, so the
 * guest's connections are frozen once, for as short as we can make it,
 * and the pipe is written as fast as QEMU reads.  The target reads the
 * whole stream before looking at it: a truncated, corrupted, oversized or
 * unknown stream fails the transfer with nothing installed.
 *
 * Bad input: every length is checked against what is left before it is
 * used, the version table is indexed only after a bounds check, and a
 * stream over MIGRATE_STREAM_MAX is refused while reading.  A failed
 * transfer is logged and reported through CHECK_DEVICE_STATE; we keep
 * serving.
 */

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "migrate.h"
#include "mig_guest.h"
#include "mig_copy.h"
#include "tcp_migrate.h"
#include "tcp_restore.h"
#include "tcp_guard.h"
#include "tcp_listen.h"
#include "tcp.h"
#include "udp.h"
#include "icmp.h"

#define MIG_READ_CHUNK		(1 << 16)	/* bytes read at once */

/* ---------------------------------------------------------------- */
/* Sections                                                          */
/* ---------------------------------------------------------------- */

static const struct mig_section mig_sec_guest = {
	MIG_SEC_GUEST, "guest", mig_guest_save, mig_guest_check,
	mig_guest_load,
};

/* Read from version 1 streams, no longer written */
static const struct mig_section mig_sec_tcp = {
	MIG_SEC_TCP, "TCP", NULL, tcp_mig_check, tcp_mig_stage,
};

static const struct mig_section mig_sec_tcp2 = {
	MIG_SEC_TCP2, "TCP", tcp_mig_save, tcp_mig_check2, tcp_mig_stage2,
};

static const struct mig_section mig_sec_udp = {
	MIG_SEC_UDP, "UDP", udp_mig_save, udp_mig_check, udp_mig_stage,
};

static const struct mig_section mig_sec_icmp = {
	MIG_SEC_ICMP, "ICMP", icmp_mig_save, icmp_mig_check, icmp_mig_stage,
};

/* One table per version, never changed once released */
static const struct mig_section *const mig_v1[] = {
	&mig_sec_guest, &mig_sec_tcp, NULL,
};

/* Version 2: compact TCP records, UDP and ICMP echo flows.  A reader of
 * version 1 would skip the TCP records and lose every connection, so it
 * may not read this (min_version 2)
 */
static const struct mig_section *const mig_v2[] = {
	&mig_sec_guest, &mig_sec_tcp2, &mig_sec_udp, &mig_sec_icmp, NULL,
};

static const struct mig_section *const *const mig_versions[] = {
	[1] = mig_v1,
	[2] = mig_v2,
};
static_assert(ARRAY_SIZE(mig_versions) == MIGRATE_VERSION + 1,
	      "a table for each version up to ours");

/* ---------------------------------------------------------------- */
/* Writing and reading streams                                       */
/* ---------------------------------------------------------------- */

/**
 * mig_sec_put() - Append one section: header, payload from @save, CRC
 * @c:		Execution context
 * @b:		Buffer
 * @sec:	Section, or NULL for the end marker
 *
 * Return: 0, -errno from the section or -ENOMEM
 */
static int mig_sec_put(struct ctx *c, struct mig_buf *b,
		       const struct mig_section *sec)
{
	struct mig_sec_hdr h = { 0 };
	size_t start = b->len, plen;
	uint32_t crc;
	__be32 be;
	int rc;

	if ((rc = mig_buf_put(b, &h, sizeof(h))))	/* filled in below */
		return rc;
	if (sec && (rc = sec->save(c, b)))
		return rc;

	plen = b->len - start - sizeof(h);
	if (plen > MIGRATE_SEC_MAX)
		return -EFBIG;
	h.id = htonl(sec ? sec->id : MIG_SEC_END);
	h.len = htonl((uint32_t)plen);
	memcpy(b->p + start, &h, sizeof(h));

	crc = crc32c(0, b->p + start, b->len - start);
	be = htonl(crc);
	return mig_buf_put(b, &be, sizeof(be));
}

/**
 * migrate_build() - Write a whole stream of our version into a buffer
 * @c:		Execution context
 * @b:		Buffer, empty
 *
 * Return: 0, -errno
 */
int migrate_build(struct ctx *c, struct mig_buf *b)
{
	const struct mig_section *const *sec;
	struct mig_hdr h = {
		.magic = htobe64(MIGRATE_MAGIC),
		.version = htonl(MIGRATE_VERSION),
		.min_version = htonl(MIGRATE_MIN_VERSION),
	};
	int rc;

	if ((rc = mig_buf_put(b, &h, sizeof(h))))
		return rc;
	for (sec = mig_versions[MIGRATE_VERSION]; *sec; sec++) {
		if (!(*sec)->save)
			continue;
		if ((rc = mig_sec_put(c, b, *sec))) {
			err("migrate: can't save %s state: %s", (*sec)->name,
			    strerror(-rc));
			return rc;
		}
	}
	return mig_sec_put(c, b, NULL);
}

/**
 * mig_sec_find() - Look up a section id in a version's table
 * @table:	NULL-terminated table
 * @id:		Section id
 *
 * Return: entry, NULL if the table has none for @id
 */
static const struct mig_section *mig_sec_find(
	const struct mig_section *const *table, uint32_t id)
{
	for (; *table; table++) {
		if ((*table)->id == id)
			return *table;
	}
	return NULL;
}

/**
 * migrate_section() - The section table entry a reader of ours uses
 * @version:	Version of the stream being read (checked: not 0)
 * @id:		Section id
 *
 * Return: entry, NULL for a section id we skip
 */
const struct mig_section *migrate_section(uint32_t version, uint32_t id)
{
	return mig_sec_find(mig_versions[MIN(version, (uint32_t)MIGRATE_VERSION)],
			    id);
}

/**
 * migrate_parse() - Parse and check a whole stream, touching no state
 * @c:		Execution context (limits to check against)
 * @p:		Stream
 * @len:	Its length
 * @refs:	Sections found, in stream order, ended by one with len 0
 *		and sec NULL past the last
 *
 * Return: number of sections to apply, or -errno (logged)
 */
int migrate_parse(const struct ctx *c, const uint8_t *p, size_t len,
		  struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX])
{
	struct mig_stream_sec sec;
	struct mig_stream s;
	unsigned n = 0, i;
	int rc;

	memset(refs, 0, sizeof(*refs) * MIGRATE_SECTIONS_MAX);
	if ((rc = mig_stream_start(&s, p, len))) {
		err("migrate: %s", s.why);
		return rc;
	}
	info("migrate: stream version %" PRIu32 " (oldest reader %" PRIu32
	     ")", s.version, s.min_version);
	if (s.version > MIGRATE_VERSION)
		info("migrate: stream version %" PRIu32 ", reading it as %u",
		     s.version, MIGRATE_VERSION);

	while ((rc = mig_stream_next(&s, &sec)) > 0) {
		refs[n].sec = migrate_section(s.version, sec.id);
		refs[n].p = sec.p;
		refs[n].len = sec.len;
		if (!refs[n].sec)
			info("migrate: skipping unknown section %" PRIu32,
			     sec.id);
		for (i = 0; refs[n].sec && i < n; i++) {
			if (refs[i].sec == refs[n].sec) {
				err("migrate: %s state twice in the stream",
				    refs[n].sec->name);
				return -EINVAL;
			}
		}
		n++;
	}
	if (rc < 0) {
		err("migrate: byte %zu: %s", s.bad, s.why);
		return rc;
	}

	for (i = 0; i < n; i++) {
		if (!refs[i].sec)
			continue;
		if ((rc = refs[i].sec->check(c, refs[i].p, refs[i].len))) {
			err("migrate: %s state refused: %s", refs[i].sec->name,
			    strerror(-rc));
			return rc;
		}
	}
	return (int)n;
}

/**
 * migrate_apply() - Apply the sections of a parsed, checked stream
 * @c:		Execution context
 * @refs:	From migrate_parse()
 *
 * Return: 0, or the first error (the other sections are still applied)
 */
int migrate_apply(struct ctx *c, const struct mig_sec_ref *refs)
{
	int rc, ret = 0;
	unsigned i;

	for (i = 0; i < MIGRATE_SECTIONS_MAX && refs[i].p; i++) {
		if (!refs[i].sec)
			continue;
		if ((rc = refs[i].sec->load(c, refs[i].p, refs[i].len))) {
			err("migrate: applying %s state failed: %s",
			    refs[i].sec->name, strerror(-rc));
			if (!ret)
				ret = rc;
		}
	}
	return ret;
}

/* ---------------------------------------------------------------- */
/* The transfer                                                      */
/* ---------------------------------------------------------------- */

/**
 * enum mig_phase - What a finished transfer left us with
 * @MIG_IDLE:		Nothing: no migration, or one that is over
 * @MIG_HANDED_OVER:	Source: the state is out, the stream kept, to take
 *			the connections back if the guest runs here again
 * @MIG_STAGED:		Target, or a source taking its state back: the
 *			state is loaded, connections rebuilt but deaf, until
 *			our guest runs
 * @MIG_ROLLBACK:	Source: the guest runs here again, but the
 *			connections can't be rebuilt yet (a target on this
 *			host still holds them): retried on each tick
 */
enum mig_phase {
	MIG_IDLE,
	MIG_HANDED_OVER,
	MIG_STAGED,
	MIG_ROLLBACK,
};

#define MIG_ROLLBACK_TIMEOUT_MS	60000	/* then the connections are lost */
#define MIG_RELEASE_WAIT_MS	1000	/* for CHECK_DEVICE_STATE, at most */
#define MIG_HELD_WAIT_MS	2000	/* target: for addresses still held */
#define MIG_TIMES_LEN		192	/* log of phase times */

/**
 * struct mig_xfer - The transfer in progress, or the last one
 * @fd:		Pipe from the front-end, -1 if none
 * @dir:	VHOST_USER_STATE_SAVE or _LOAD
 * @running:	Reading or writing @fd
 * @result:	For CHECK_DEVICE_STATE: 0, -errno, -EINPROGRESS while
 *		running, -ENODATA if there was no transfer
 * @buf:	The stream being written or read
 * @off:	Source: bytes of @buf written so far
 * @refs:	Target: sections of @buf, parsed and checked once
 * @frozen:	Source: TCP connections are frozen (tcp_mig_freeze()), until
 *		thawed or, once handed over, released (mig_release())
 * @phase:	What the last transfer left
 * @kept:	Stream kept for @phase: ours on the source, the loaded one
 *		on the target (staged connections point into it)
 * @t0:		Start of the transfer, for the log
 * @lap:	End of the last phase timed
 * @times:	Phase times so far, for the log: " name ms" each
 * @t_fail:	Source: when the guest came back after a hand-over
 * @guest_runs:	Staged connections wait for nothing but the helper
 * @release_due:	Source: CHECK_DEVICE_STATE came, release once answered
 * @t_run:	Target: when the guest started, for MIG_HELD_WAIT_MS
 * @dgram_active:	Target: UDP and ICMP flows carry on already
 */
struct mig_xfer {
	int fd;
	uint32_t dir;
	bool running;
	int result;
	struct mig_buf buf;
	size_t off;
	struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];
	bool frozen;
	enum mig_phase phase;
	struct mig_buf kept;
	struct timespec t0;
	struct timespec lap;
	char times[MIG_TIMES_LEN];
	struct timespec t_fail;
	bool guest_runs;
	bool release_due;
	struct timespec t_run;
	bool dgram_active;
};

static struct mig_xfer mig = { .fd = -1, .result = -ENODATA };

typedef int (*mig_handler_t)(struct ctx *c, struct mig_xfer *x);

/**
 * struct mig_step - One handler of a pre, post or fail array
 * @name:	What it does, for the log of phase times; NULL ends the array
 * @fn:		The handler
 */
struct mig_step {
	const char *name;
	mig_handler_t fn;
};

/**
 * mig_forget() - Drop what a finished transfer kept
 * @x:		Transfer
 */
static void mig_forget(struct mig_xfer *x)
{
	mig_buf_free(&x->kept);
	x->phase = MIG_IDLE;
	x->guest_runs = x->dgram_active = false;
}

/**
 * mig_keep() - Keep the stream of a successful transfer for @phase
 * @x:		Transfer
 * @phase:	MIG_HANDED_OVER or MIG_STAGED
 */
static void mig_keep(struct mig_xfer *x, enum mig_phase phase)
{
	mig_buf_free(&x->kept);
	x->kept = x->buf;	/* same mapping: @refs stay valid */
	memset(&x->buf, 0, sizeof(x->buf));
	x->phase = phase;
}

/**
 * mig_accept() - Source pre: take the connections waiting on forwarded
 *		  ports, then stop listening (tcp_listen_hand_over())
 * @c:		Execution context
 * @x:		Transfer
 *
 * They move with the others; new ones go to a target on this host.  If
 * the transfer fails, we listen again once our guest runs again.
 *
 * Return: 0
 */
static int mig_accept(struct ctx *c, struct mig_xfer *x)
{
	(void)x;
	tcp_listen_hand_over(c, tcp_listen_handler);
	return 0;
}

/**
 * mig_freeze() - Source pre: freeze TCP connections into repair mode
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0, -errno if connections can't move (without the helper, say):
 *	   the transfer fails, and they carry on here
 */
static int mig_freeze(struct ctx *c, struct mig_xfer *x)
{
	int rc = tcp_mig_freeze(c);

	x->frozen = !rc;
	return rc;
}

/**
 * mig_build() - Source pre: the whole stream into the buffer
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0, -errno
 */
static int mig_build(struct ctx *c, struct mig_xfer *x)
{
	return migrate_build(c, &x->buf);
}

static const struct mig_step mig_source_pre[] = {
	{ "accept", mig_accept }, { "freeze", mig_freeze },
	{ "dump", mig_build }, { 0 },
};

/**
 * mig_hand_over() - Source post: the state is out, keep it for a rollback
 * @c:		Execution context
 * @x:		Transfer
 *
 * The rings are stopped already (GET_VRING_BASE): guest memory is not
 * touched again.  We stopped listening on forwarded ports before the
 * freeze (mig_accept()).  If QEMU hangs up now, the migration
 * succeeded and we exit; if it starts our guest again, it failed, and we
 * take everything back (migrate_guest_runs()).
 *
 * Return: 0
 */
static int mig_hand_over(struct ctx *c, struct mig_xfer *x)
{
	(void)c;
	mig_keep(x, MIG_HANDED_OVER);
	return 0;
}

/**
 * mig_dgram_release() - Source post: close UDP and ICMP flows, and the
 *			 forwarded UDP ports, for a target on this host
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0
 */
static int mig_dgram_release(struct ctx *c, struct mig_xfer *x)
{
	(void)x;
	udp_mig_release(c);
	icmp_mig_release(c);
	return 0;
}

static const struct mig_step mig_source_post[] = {
	{ "release-dgram", mig_dgram_release }, { "hand-over", mig_hand_over },
	{ 0 },
};

/**
 * mig_thaw() - Source, failed: connections frozen or guarded carry on
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0
 */
static int mig_thaw(struct ctx *c, struct mig_xfer *x)
{
	if (x->frozen)
		tcp_mig_thaw(c);
	x->frozen = false;
	tcp_guard_clear();
	return 0;
}

static const struct mig_step mig_source_fail[] = {
	{ "thaw", mig_thaw }, { 0 },
};

/**
 * mig_check_stream() - Target pre: parse and check the whole stream, once
 * @c:		Execution context
 * @x:		Transfer: the sections found go to @x->refs
 *
 * Return: 0, -errno
 */
static int mig_check_stream(struct ctx *c, struct mig_xfer *x)
{
	int rc = migrate_parse(c, x->buf.p, x->buf.len, x->refs);

	return rc < 0 ? rc : 0;
}

/**
 * mig_load() - Target post: apply the checked stream; keep it for the
 *		connections, which wait for our guest to run
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0, -errno
 */
static int mig_load(struct ctx *c, struct mig_xfer *x)
{
	int rc = migrate_apply(c, x->refs);

	if (!rc)
		mig_keep(x, MIG_STAGED);
	return rc;
}

static const struct mig_step mig_target_pre[] = {
	{ "check", mig_check_stream }, { 0 },
};
static const struct mig_step mig_target_post[] = {
	{ "restore", mig_load }, { 0 },
};

/**
 * mig_unstage() - Target, failed: let go of what was rebuilt, silently
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0
 */
static int mig_unstage(struct ctx *c, struct mig_xfer *x)
{
	(void)c;
	(void)x;
	tcp_mig_unstage();
	return 0;
}

/**
 * mig_dgram_unstage() - Target, failed: close staged UDP and ICMP flows
 * @c:		Execution context
 * @x:		Transfer
 *
 * Return: 0
 */
static int mig_dgram_unstage(struct ctx *c, struct mig_xfer *x)
{
	(void)x;
	udp_mig_unstage(c);
	icmp_mig_unstage(c);
	return 0;
}

static const struct mig_step mig_target_fail[] = {
	{ "unstage", mig_unstage }, { "unstage-dgram", mig_dgram_unstage },
	{ 0 },
};

/**
 * mig_lap() - A phase of the transfer ended: note its time for the log
 * @x:		Transfer
 * @name:	Phase
 */
static void mig_lap(struct mig_xfer *x, const char *name)
{
	size_t len = strlen(x->times);
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - x->lap.tv_sec) * 1000000000LL +
	     (now.tv_nsec - x->lap.tv_nsec);
	x->lap = now;
	snprintf(x->times + len, sizeof(x->times) - len, " %s %lld.%03lld",
		 name, ns / 1000000, ns / 1000 % 1000);
}

/**
 * mig_run() - Run an array of handlers, stop at an error; time each
 * @c:		Execution context
 * @h:		Handlers, ended by one without a name
 *
 * Return: 0, or the first -errno
 */
static int mig_run(struct ctx *c, const struct mig_step *h)
{
	int rc;

	for (; h->name; h++) {
		rc = h->fn(c, &mig);
		mig_lap(&mig, h->name);
		if (rc)
			return rc;
	}
	return 0;
}

/**
 * mig_release() - Source, handed over: close the dumped sockets, silently
 * @c:		Execution context
 *
 * Frozen sockets are deaf, and hold their connections' addresses: a
 * segment from a peer meanwhile finds them, and is dropped.  Only a
 * target on this host needs the addresses free, and only to connect its
 * sockets, once its guest runs, after QEMU has had our answer to
 * CHECK_DEVICE_STATE.  So the release waits for that answer (QEMU's
 * guest stays stopped until then): it runs after it, or when anything
 * else happens to the handed-over state (a rollback, a hang-up, a new
 * transfer), or after MIG_RELEASE_WAIT_MS without an answer.  A target
 * that comes first waits for the addresses (tcp_mig_activate()).  The
 * sockets are closed without a FIN or RST, guards left on their ports
 * (tcp_mig_release()).
 */
static void mig_release(struct ctx *c)
{
	struct timespec t;

	if (!mig.frozen)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	mig.lap = t;
	mig.times[0] = '\0';
	tcp_mig_release(c);
	mig.frozen = mig.release_due = false;
	mig_lap(&mig, "release");
	info("migrate: after-check phases, ms:%s", mig.times);
}

/**
 * mig_end() - End the transfer: close the pipe, keep the result
 * @c:		Execution context
 * @rc:		Result, 0 or -errno: on failure, the failure handlers run
 */
static void mig_end(struct ctx *c, int rc)
{
	bool save = mig.dir == VHOST_USER_STATE_SAVE;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (mig.fd >= 0) {
		ev_del(c->epollfd, mig.fd);
		close_fd(&mig.fd);
	}
	if (rc)
		mig_run(c, save ? mig_source_fail : mig_target_fail);
	mig.running = false;
	mig.result = rc;

	if (rc)
		err("migrate: %s failed: %s", save ? "save" : "load",
		    strerror(-rc));
	else
		info("migrate: %s %zu bytes of state in %lld ms",
		     save ? "wrote" : "read", mig.off,
		     timespec_diff_ms(&now, &mig.t0));
	info("migrate: %s phases, ms:%s", save ? "save" : "load", mig.times);
	mig_copy_write(c, save, mig.buf.p ? &mig.buf : &mig.kept);
	mig_buf_free(&mig.buf);
}

/**
 * mig_write() - Source: write what the pipe takes
 * @c:		Execution context
 *
 * #syscalls write
 */
static void mig_write(struct ctx *c)
{
	while (mig.off < mig.buf.len) {
		ssize_t n = write(mig.fd, mig.buf.p + mig.off,
				  mig.buf.len - mig.off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			mig_end(c, n < 0 ? -errno : -EPIPE);
			return;
		}
		mig.off += (size_t)n;
	}

	mig_lap(&mig, "write");
	mig_end(c, mig_run(c, mig_source_post));
}

/**
 * mig_read() - Target: read what the pipe has; at end of file, load
 * @c:		Execution context
 *
 * #syscalls read
 */
static void mig_read(struct ctx *c)
{
	int rc;

	for (;;) {
		uint8_t *p = mig_buf_reserve(&mig.buf, MIG_READ_CHUNK);
		ssize_t n;

		if (!p) {
			err("migrate: stream larger than %llu bytes",
			    (unsigned long long)MIGRATE_STREAM_MAX);
			mig_end(c, -EFBIG);
			return;
		}
		n = read(mig.fd, p, MIG_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			mig_end(c, -errno);
			return;
		}
		if (!n)
			break;
		mig.buf.len += (size_t)n;
	}

	mig.off = mig.buf.len;
	mig_lap(&mig, "read");
	if (!(rc = mig_run(c, mig_target_pre)))
		rc = mig_run(c, mig_target_post);
	mig_end(c, rc);
}

/**
 * migrate_handler() - The device state pipe is ready, or hung up
 * @c:		Execution context
 * @events:	epoll events
 */
void migrate_handler(struct ctx *c, uint32_t events)
{
	if (!mig.running)
		return;
	if (mig.dir == VHOST_USER_STATE_SAVE) {
		if (events & EPOLLERR)
			mig_end(c, -EPIPE);
		else
			mig_write(c);
	} else {
		mig_read(c);	/* reads to end of file on EPOLLHUP too */
	}
}

/**
 * mig_abort() - Drop a transfer in progress, if any
 * @c:		Execution context
 */
static void mig_abort(struct ctx *c)
{
	if (mig.running) {
		warn("migrate: transfer abandoned by the front-end");
		mig_end(c, -ECANCELED);
	}
}

/**
 * mig_start() - SET_DEVICE_STATE_FD: start a transfer on @fd
 * @opaque:	Execution context
 * @fd:		Front-end's pipe end, ours now
 * @dir:	VHOST_USER_STATE_SAVE or _LOAD
 *
 * A new transfer while we hold state of an earlier one: a save after a
 * hand-over that the front-end never followed with a rollback, or a load
 * over a load whose guest never ran, replaces it (the staged connections
 * are let go first; guards stay until the session ends).
 *
 * Return: 0, -errno (fd closed)
 *
 * #syscalls fcntl
 */
static int mig_start(void *opaque, int fd, uint32_t dir)
{
	struct ctx *c = opaque;
	int flags, rc;

	mig_abort(c);
	mig_release(c);
	if (mig.phase == MIG_STAGED)
		mig_run(c, mig_target_fail);	/* let go of what we staged */
	if (mig.phase == MIG_HANDED_OVER || mig.phase == MIG_ROLLBACK)
		warn("migrate: a new transfer while the last one's connections "
		     "were not taken back: they are lost");
	mig_forget(&mig);
	mig_buf_free(&mig.buf);
	mig.dir = dir;
	mig.off = 0;
	mig.fd = fd;
	mig.running = true;
	mig.result = -EINPROGRESS;
	clock_gettime(CLOCK_MONOTONIC, &mig.t0);
	mig.lap = mig.t0;
	mig.times[0] = '\0';
	info("migrate: %s started", dir == VHOST_USER_STATE_SAVE ?
	     "save" : "load");

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK)) {
		rc = -errno;
		goto fail;
	}

	if (dir == VHOST_USER_STATE_SAVE && (rc = mig_run(c, mig_source_pre)))
		goto fail;

	rc = ev_add(c->epollfd, fd, dir == VHOST_USER_STATE_SAVE ?
		    EPOLLOUT : EPOLLIN, EV_DEVSTATE, 0);
	if (rc)
		goto fail;

	if (dir == VHOST_USER_STATE_SAVE)
		mig_write(c);
	return 0;

fail:
	close_fd(&mig.fd);		/* not in epoll yet */
	mig_end(c, rc);
	return rc;
}

/**
 * mig_check() - CHECK_DEVICE_STATE: the result of the last transfer
 * @opaque:	Execution context
 *
 * QEMU closes its end of a load pipe before it asks: what's still in the
 * pipe is read and loaded now, so the answer is final.  A transfer that is
 * still not complete (a save QEMU stopped reading, a load pipe still open)
 * is abandoned: it fails, and nothing of it is applied later.
 *
 * Return: 0 on success, -errno
 */
static int mig_check(void *opaque)
{
	struct ctx *c = opaque;

	if (mig.running && mig.dir == VHOST_USER_STATE_LOAD)
		mig_read(c);
	if (mig.running) {
		warn("migrate: state transfer incomplete at CHECK_DEVICE_STATE");
		mig_end(c, -EINPROGRESS);
	}
	mig.release_due = mig.frozen;	/* once QEMU has our answer */
	return mig.result;
}

/**
 * mig_reset() - The front-end session ended
 * @opaque:	Execution context
 *
 * A target whose guest never ran lets go of the connections it rebuilt,
 * silently, so that the source can take them back.  Guards go: after a
 * hand-over, QEMU hanging up means the migration succeeded, and we exit
 * (migrate_source_done() stays true); otherwise the guest is gone.
 */
static void mig_reset(void *opaque)
{
	mig_abort(opaque);
	mig_release(opaque);
	if (mig.phase == MIG_STAGED)
		mig_run(opaque, mig_target_fail);	/* let go, silently */
	tcp_guard_clear();
	if (mig.phase != MIG_HANDED_OVER)
		mig_forget(&mig);
	mig.result = -ENODATA;
}

/**
 * mig_logging() - Dirty logging on: a migration starts; off: it's over
 * @opaque:	Execution context
 * @on:		Logging on or off
 *
 * While QEMU copies guest memory, the guest runs: we prepare what doesn't
 * need it stopped, so that the stopped phase is shorter.
 */
static void mig_logging(void *opaque, bool on)
{
	if (mig.running || mig.phase != MIG_IDLE)
		return;
	if (on) {
		tcp_guard_prepare(opaque);
		tcp_mig_names_prepare();
	} else {
		tcp_guard_unprepare();
	}
}

const struct vu_devstate_ops migrate_devstate_ops = {
	mig_start, mig_check, mig_reset, mig_logging,
};

/* ---------------------------------------------------------------- */
/* After the transfer: the guest runs, here or there                 */
/* ---------------------------------------------------------------- */

/**
 * mig_activate() - Staged connections carry on: our guest runs
 * @c:		Execution context
 * @held:	What a connection whose addresses another socket still holds
 *		does, see enum tcp_mig_held
 *
 * Return: 0, -errno if the helper failed or connections are held (they
 *	   stay staged, retried)
 */
static int mig_activate(struct ctx *c, enum tcp_mig_held held)
{
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &mig.lap);
	mig.times[0] = '\0';
	rc = tcp_mig_activate(c, held);
	if (rc < 0 && (rc != -EADDRNOTAVAIL || held != TCP_MIG_HELD_WAIT))
		return rc;
	if (!mig.dgram_active) {
		udp_mig_activate(c);
		icmp_mig_activate(c);
		mig.dgram_active = true;
	}
	if (rc < 0)
		return rc;
	mig_lap(&mig, "activate");
	info("migrate: guest-run phases, ms:%s", mig.times);
	mig_forget(&mig);
	return 0;
}

/**
 * mig_take_back() - Source: rebuild our connections from our own stream
 * @c:		Execution context
 *
 * The migration failed after the stream was out: we load it as a target
 * would, and our guest runs, so the connections carry on at once.  A
 * target on this host that still holds them (its QEMU is going away, but
 * it hasn't seen that yet) makes the rebuild fail: we try again on the
 * next tick, up to MIG_ROLLBACK_TIMEOUT_MS; meanwhile the guards keep the
 * peers from being reset.
 *
 * Return: 0 once done, -errno to try again
 */
static int mig_take_back(struct ctx *c)
{
	struct mig_xfer *x = &mig;
	int rc;

	if ((rc = migrate_parse(c, x->kept.p, x->kept.len, x->refs)) < 0 ||
	    (rc = migrate_apply(c, x->refs)))
		return rc;
	x->phase = MIG_STAGED;
	if ((rc = mig_activate(c, TCP_MIG_HELD_WAIT_ALL)))
		return rc;
	tcp_guard_clear();
	info("migrate: the migration failed: state taken back in %lld ms",
	     timespec_diff_ms(&c->now, &x->t_fail));
	return 0;
}

/**
 * mig_rollback() - Source: another try at taking our state back
 * @c:		Execution context
 */
static void mig_rollback(struct ctx *c)
{
	if (!mig_take_back(c))
		return;
	mig.phase = MIG_ROLLBACK;
	if (timespec_diff_ms(&c->now, &mig.t_fail) < MIG_ROLLBACK_TIMEOUT_MS)
		return;
	err("migrate: connections not taken back after %u s: those still "
	    "held elsewhere are lost", MIG_ROLLBACK_TIMEOUT_MS / 1000);
	if (mig_activate(c, TCP_MIG_HELD_LOSE))
		mig_run(c, mig_target_fail);	/* nothing left to wait for */
	tcp_guard_clear();
	mig_forget(&mig);
}

/**
 * migrate_guest_runs() - Our guest runs (its receive queue started)
 * @c:		Execution context
 *
 * On a target, the connections of the loaded state carry on now.  On a
 * source that handed its state over, this means the migration failed
 * (QEMU starts the device again only then): we take everything back.
 */
void migrate_guest_runs(struct ctx *c)
{
	switch (mig.phase) {
	case MIG_STAGED:
		mig.guest_runs = true;
		mig.t_run = c->now;
		mig_activate(c, TCP_MIG_HELD_WAIT);
		break;
	case MIG_HANDED_OVER:
		warn("migrate: our guest runs again after its state was handed "
		     "over: taking the state back");
		mig.t_fail = c->now;
		mig_release(c);		/* if QEMU never asked for the result */
		mig_rollback(c);
		break;
	case MIG_IDLE:
	case MIG_ROLLBACK:
		break;
	}
}

/**
 * migrate_timer() - Periodic: retry what waits
 * @c:		Execution context
 */
void migrate_timer(struct ctx *c)
{
	tcp_mig_timer(c);
	udp_mig_timer(c);
	icmp_mig_timer(c);
	if (mig.phase == MIG_ROLLBACK) {
		mig_rollback(c);
	} else if (mig.phase == MIG_STAGED && mig.guest_runs) {
		/* The helper failed, or addresses were held, before */
		bool wait = timespec_diff_ms(&c->now, &mig.t_run) <
			    MIG_HELD_WAIT_MS;

		mig_activate(c, wait ? TCP_MIG_HELD_WAIT : TCP_MIG_HELD_LOSE);
	} else if (mig.frozen && !mig.running &&
		   timespec_diff_ms(&c->now, &mig.t0) > MIG_RELEASE_WAIT_MS) {
		mig_release(c);		/* QEMU never asked for the result */
	}
}

/**
 * migrate_answered() - A front-end request was answered
 * @c:		Execution context
 *
 * After the answer to CHECK_DEVICE_STATE, a source releases the sockets
 * it handed over (mig_release()): QEMU doesn't wait for that.
 */
void migrate_answered(struct ctx *c)
{
	if (mig.release_due)
		mig_release(c);
}

/**
 * migrate_init() - Let vhost-user hand device state transfers to us
 * @c:		Execution context
 */
void migrate_init(struct ctx *c)
{
	c->vdev->devstate = &migrate_devstate_ops;
	c->vdev->devstate_opaque = c;
	mig_copy_init(c);	/* before the sandbox */
}

/**
 * migrate_source_done() - Did we hand our state over to a target?
 * @c:		Execution context
 *
 * Return: true while our state is out: we exit when QEMU hangs up, and
 *	   we don't listen on forwarded ports
 */
bool migrate_source_done(const struct ctx *c)
{
	(void)c;
	return mig.phase == MIG_HANDED_OVER;
}
