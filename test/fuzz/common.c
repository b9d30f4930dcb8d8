// SPDX-License-Identifier: GPL-2.0-or-later
/* test/fuzz/common.c - Helpers shared by the libFuzzer targets
 *
 * - die() and die_perror() are wrapped (-Wl,--wrap=die,--wrap=die_perror):
 *   the daemon's _exit() would end the fuzzer without a reproducer, so an
 *   ASSERT() or a die() on peer input becomes an abort() here, which
 *   libFuzzer reports as a crash and saves the input for.
 * - Log messages are all formatted (level TRACE, so every format string
 *   and argument is exercised) but written only with FUZZ_LOG=1.
 * - fuzz_require_netns(): targets that open real sockets refuse to run
 *   unless they are alone in a network namespace with loopback only; the
 *   loopback interface is brought up and ping sockets allowed there.
 */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "common.h"

/**
 * fuzz_fail() - Report a broken invariant and abort, so the input is saved
 * @file:	Source file of the check
 * @line:	Line of the check
 * @fmt:	Message
 */
void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ INVARIANT BROKEN (%s:%d): ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void __wrap_die(const char *fmt, ...) __attribute__((noreturn));
void __wrap_die_perror(const char *fmt, ...) __attribute__((noreturn));

/**
 * __wrap_die() - die() from daemon code: abort, so libFuzzer sees a crash
 * @fmt:	Message
 */
void __wrap_die(const char *fmt, ...)
{
	va_list ap;

	fputs("daemon called die(): ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/**
 * __wrap_die_perror() - die_perror() from daemon code: abort
 * @fmt:	Message
 */
void __wrap_die_perror(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	fputs("daemon called die_perror(): ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	abort();
}

/**
 * fuzz_log_init() - Format every message, print them only with FUZZ_LOG=1
 */
void fuzz_log_init(void)
{
	const char *v = getenv("FUZZ_LOG");

	log_set_level(LOG_TRACE);
	log_set_stderr(v && *v == '1');
}

/**
 * fuzz_seeds_or_go_on() - With FUZZ_SEED_DIR, write the seeds there and exit
 * @seeds:	The target's seed builder, given the directory
 */
void fuzz_seeds_or_go_on(void (*seeds)(const char *dir))
{
	if (fuzz_seed_dir()) {
		seeds(fuzz_seed_dir());
		exit(0);
	}
}

/**
 * fuzz_sysctl_set() - Write a sysctl of our network namespace
 * @path:	Under /proc/sys/net
 * @val:	Value
 */
void fuzz_sysctl_set(const char *path, const char *val)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "/proc/sys/net/%s", path);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		fprintf(stderr, "fuzz: can't set %s\n", p);
	close(fd);
}

/**
 * netns_is_init() - Are we in the network namespace of PID 1?
 *
 * Return: true if we are, or if we can't tell but /proc says so; false if
 *	   the namespaces differ or PID 1's is unreadable (user namespace)
 */
static bool netns_is_init(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/net", &self) || stat("/proc/1/ns/net", &init))
		return false;
	return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

/**
 * lo_up() - Bring the loopback interface up
 */
static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	strcpy(ifr.ifr_name, "lo");
	if (!ioctl(s, SIOCGIFFLAGS, &ifr) && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			perror("fuzz: can't bring lo up");
	}
	close(s);
}

/**
 * fuzz_require_netns() - Refuse to run where traffic could leave the host
 *
 * Run as "unshare -n <fuzzer>" (or "unshare -rn" without root): the
 * namespace then has one interface, lo, which we bring up, and we allow
 * ping sockets for every group in it (net.ipv4.ping_group_range is per
 * namespace).
 */
void fuzz_require_netns(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	bool others = false;
	int fd;

	if (!ifs) {
		perror("fuzz: if_nameindex");
		exit(1);
	}
	for (i = ifs; i->if_index; i++)
		others |= strcmp(i->if_name, "lo") != 0;
	if_freenameindex(ifs);

	if (others || netns_is_init()) {
		fprintf(stderr, "fuzz: this target opens real sockets: run it "
			"in a fresh network namespace (unshare -n, or "
			"unshare -rn), where lo is the only interface\n");
		exit(1);
	}

	lo_up();
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		const char range[] = "0 2147483647\n";

		if (write(fd, range, sizeof(range) - 1) < 0)
			perror("fuzz: ping_group_range");
		close(fd);
	}
}

/**
 * fuzz_fds_snapshot() - Note which descriptor numbers are open
 * @s:		Snapshot to fill
 */
void fuzz_fds_snapshot(struct fuzz_fds *s)
{
	int fd;

	memset(s, 0, sizeof(*s));
	for (fd = 0; fd < FUZZ_FD_SCAN; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			s->open[fd / 8] |= (uint8_t)(1U << (fd % 8));
	}
}

/**
 * fuzz_fds_check() - Fail if a descriptor is open now that wasn't before
 * @s:		Snapshot taken before (pipes are not checked)
 * @what:	What should have closed it, for the message
 */
void fuzz_fds_check(const struct fuzz_fds *s, const char *what)
{
	int fd;

	for (fd = 0; fd < FUZZ_FD_SCAN; fd++) {
		bool was = s->open[fd / 8] & (1U << (fd % 8));

		if (!was && fcntl(fd, F_GETFD) >= 0) {
			char path[64], target[256] = "?";
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			n = readlink(path, target, sizeof(target) - 1);
			if (n > 0)
				target[n] = '\0';
			/* libFuzzer's own threads open pipes now and then;
			 * the code under test here makes none
			 */
			if (!strncmp(target, "pipe:", 5))
				continue;
			FUZZ_FAIL("descriptor %d (%s) still open after %s", fd,
				  target, what);
		}
	}
}

/**
 * fuzz_seed_dir() - Where to write seeds, if asked to
 *
 * Return: value of FUZZ_SEED_DIR, NULL if unset: targets then fuzz
 */
const char *fuzz_seed_dir(void)
{
	const char *d = getenv("FUZZ_SEED_DIR");

	return d && *d ? d : NULL;
}

/**
 * fuzz_seed_write() - Write one seed input
 * @dir:	Corpus directory, created if missing
 * @name:	File name
 * @buf:	Input
 * @len:	Its length
 *
 * Return: 0, -errno
 */
int fuzz_seed_write(const char *dir, const char *name, const void *buf,
		    size_t len)
{
	char path[4096];
	int fd, rc;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, buf, len);
	close(fd);
	if (!rc)
		printf("seed %s: %zu bytes\n", path, len);
	return rc;
}

/* Where fuzz_touch() leaves its sums, so the reads aren't optimised out */
volatile unsigned fuzz_sink;

/**
 * fuzz_touch() - Read every byte of an area: a bad pointer faults (or ASan
 *		  reports it) here, not later in some unrelated place
 * @p:		Area
 * @len:	Length
 */
void fuzz_touch(const void *p, size_t len)
{
	const volatile uint8_t *b = p;
	unsigned s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s += b[i];
	fuzz_sink += s;
}

/**
 * fuzz_sum() - One's complement sum of 16-bit big-endian words (RFC 1071)
 * @buf:	Bytes
 * @len:	Length; an odd last byte is padded with zero
 * @sum:	Sum so far
 *
 * Return: unfolded sum
 */
uint32_t fuzz_sum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

/**
 * fuzz_fold() - Fold a sum to 16 bits and complement it
 * @sum:	Unfolded sum
 *
 * Return: checksum, host order (0 if the data including its checksum
 *	   field was correct)
 */
uint16_t fuzz_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * fb_put() - Append bytes to a seed being built
 * @f:		Seed
 * @p:		Bytes, may be NULL if @len is 0
 * @len:	How many
 */
void fb_put(struct fuzz_buf *f, const void *p, size_t len)
{
	if (!len)
		return;
	if (f->len + len > sizeof(f->b))
		FUZZ_FAIL("seed buffer full");
	memcpy(f->b + f->len, p, len);
	f->len += len;
}

/**
 * fb_u8() - Append a byte
 * @f:		Seed
 * @v:		Value
 */
void fb_u8(struct fuzz_buf *f, uint8_t v)
{
	fb_put(f, &v, 1);
}

/**
 * fb_le16() - Append a 16-bit value, little-endian
 * @f:		Seed
 * @v:		Value, host order
 */
void fb_le16(struct fuzz_buf *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	fb_put(f, b, sizeof(b));
}

/**
 * fb_le32() - Append a 32-bit value, little-endian
 * @f:		Seed
 * @v:		Value, host order
 */
void fb_le32(struct fuzz_buf *f, uint32_t v)
{
	fb_le16(f, (uint16_t)v);
	fb_le16(f, (uint16_t)(v >> 16));
}

/**
 * fb_le64() - Append a 64-bit value, little-endian
 * @f:		Seed
 * @v:		Value, host order
 */
void fb_le64(struct fuzz_buf *f, uint64_t v)
{
	fb_le32(f, (uint32_t)v);
	fb_le32(f, (uint32_t)(v >> 32));
}

/**
 * fb_be16() - Append a 16-bit value, big-endian
 * @f:		Seed
 * @v:		Value, host order
 */
void fb_be16(struct fuzz_buf *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	fb_put(f, b, sizeof(b));
}

/**
 * fb_be32() - Append a 32-bit value, big-endian
 * @f:		Seed
 * @v:		Value, host order
 */
void fb_be32(struct fuzz_buf *f, uint32_t v)
{
	fb_be16(f, (uint16_t)(v >> 16));
	fb_be16(f, (uint16_t)v);
}
