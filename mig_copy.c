// SPDX-License-Identifier: GPL-2.0-or-later
/* mig_copy.c - Copies of the device state streams (--state-copy DIR)
 *
 * DOC: Theory of operation
 *
 * With --state-copy DIR, each stream we write as a source or read as a
 * target is also written to a file in DIR, for passt-ctl decode:
 *
 *   DIR/save-PID-N.state, DIR/load-PID-N.state
 *
 * PID is ours, N counts the transfers of this process from 1.  Files are
 * created with O_CREAT | O_EXCL, mode 0600: an existing file is never
 * overwritten, nor a link followed.
 *
 * DIR is opened at start-up, before the sandbox (isolation.c) takes the
 * file system away; files are created relative to that descriptor.  They
 * are created as the user we run as then (--runas, nobody by default),
 * which must be allowed to write in DIR.
 *
 * The copy is written once the transfer is over and its pipe closed
 * (migrate.c, mig_end()), before we answer CHECK_DEVICE_STATE: the time
 * of one file write (well under a millisecond for a stream of kilobytes)
 * adds to the guest's downtime, and only with this debugging option.  A
 * stream that failed is copied too, as far as it went: that is the one
 * worth reading.
 * Failing to write a copy is logged, the partial file removed, and the
 * migration goes on as if we had never tried.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig_copy.h"
#include "log.h"

/**
 * struct mig_copy - Where copies go
 * @dirfd:	--state-copy DIR, opened at start-up, -1 without the option
 * @pid:	Our PID, for the file names
 * @seq:	Copies written or tried so far
 */
static struct {
	int dirfd;
	pid_t pid;
	unsigned seq;
} copy = { .dirfd = -1 };

/**
 * mig_copy_init() - Open --state-copy DIR, if given, before the sandbox
 * @c:		Execution context
 */
void mig_copy_init(const struct ctx *c)
{
	if (!*c->state_copy)
		return;
	copy.dirfd = open(c->state_copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (copy.dirfd < 0)
		die_perror("Can't open --state-copy directory %s",
			   c->state_copy);
	copy.pid = getpid();
	info("Copies of migration state streams go to %s", c->state_copy);
}

/**
 * mig_copy_put() - Write a whole buffer to a new file
 * @fd:		File
 * @b:		Buffer
 *
 * Return: 0, -errno
 *
 * #syscalls write
 */
static int mig_copy_put(int fd, const struct mig_buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

/**
 * mig_copy_write() - Save a copy of a stream, if asked to
 * @c:		Execution context
 * @save:	We were the source (the stream is ours), else the target
 * @b:		The stream, as far as it went
 *
 * #syscalls openat close unlinkat
 */
void mig_copy_write(const struct ctx *c, bool save, const struct mig_buf *b)
{
	char name[64];
	int fd, rc;

	if (copy.dirfd < 0 || !b->len)
		return;
	snprintf(name, sizeof(name), "%s-%d-%u.state", save ? "save" : "load",
		 (int)copy.pid, ++copy.seq);

	fd = openat(copy.dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		warn("migrate: can't create state copy %s/%s: %s",
		     c->state_copy, name, strerror(errno));
		return;
	}
	rc = mig_copy_put(fd, b);
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		warn("migrate: can't write state copy %s/%s: %s",
		     c->state_copy, name, strerror(-rc));
		unlinkat(copy.dirfd, name, 0);
		return;
	}
	info("migrate: state copy %s/%s, %zu bytes", c->state_copy, name,
	     b->len);
}
