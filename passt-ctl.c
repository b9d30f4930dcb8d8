// SPDX-License-Identifier: GPL-2.0-or-later
/* passt-ctl.c - Tools for the operator of passt: decode a saved state
 *
 * DOC: Theory of operation
 *
 *   passt-ctl decode FILE
 *
 * prints a device state stream that a daemon saved with --state-copy DIR
 * (or any stream: what QEMU carries between the daemons), section by
 * section (mig_decode.c).  A stream the daemon would refuse stops the
 * listing at its first bad byte: what came before it is printed, then
 *
 *   passt-ctl: FILE: offset N: what is wrong
 *
 * on standard error, and the exit status is 1.  Usage errors exit with 2.
 *
 * This is no daemon: it runs as its user, without a sandbox, and reads
 * one file, at most MIGRATE_STREAM_MAX bytes (a bigger one is refused, as
 * the daemon refuses it), into memory.  The daemon's section checks may
 * log why they refused a payload: those lines go to standard error too.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig_decode.h"
#include "mig_buf.h"
#include "mig_wire.h"
#include "log.h"

#define CTL_READ_CHUNK		(1 << 16)	/* bytes read at once */

/**
 * ctl_usage() - Print usage and exit
 * @f:		stdout (--help) or stderr
 * @status:	Exit status
 */
static void ctl_usage(FILE *f, int status)
{
	fputs("Usage: passt-ctl decode FILE\n"
	      "  decode FILE	print a saved device state stream (--state-copy)\n"
	      "		section by section; exit 1 at its first bad byte\n",
	      f);
	exit(status);
}

/**
 * ctl_read() - Read a whole file into a buffer, as the daemon reads a pipe
 * @path:	File
 * @b:		Buffer, empty
 *
 * Return: 0, -errno (-EFBIG past MIGRATE_STREAM_MAX)
 */
static int ctl_read(const char *path, struct mig_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		uint8_t *p = mig_buf_reserve(b, CTL_READ_CHUNK);
		ssize_t n;

		if (!p) {
			rc = -EFBIG;
			break;
		}
		n = read(fd, p, CTL_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n ? -errno : 0;
			break;
		}
		b->len += (size_t)n;
	}
	close(fd);
	return rc;
}

/**
 * ctl_decode() - passt-ctl decode FILE
 * @path:	File
 *
 * Return: exit status, 0 if the stream is valid, 1 if not
 */
static int ctl_decode(const char *path)
{
	struct mig_buf b = { 0 };
	struct mig_stream s;
	int rc;

	if ((rc = ctl_read(path, &b))) {
		fprintf(stderr, "passt-ctl: %s: %s\n", path,
			rc == -EFBIG ? "larger than a stream can be" :
				       strerror(-rc));
		mig_buf_free(&b);
		return 1;
	}
	rc = mig_decode(b.p, b.len, stdout, &s);
	fflush(stdout);
	if (rc)
		fprintf(stderr, "passt-ctl: %s: offset %zu: %s\n", path, s.bad,
			s.why);
	mig_buf_free(&b);
	return rc ? 1 : 0;
}

/**
 * main() - Entry point
 * @argc:	Argument count
 * @argv:	Arguments
 *
 * Return: exit status
 */
int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		ctl_usage(stdout, EXIT_SUCCESS);
	if (argc != 3 || strcmp(argv[1], "decode") != 0)
		ctl_usage(stderr, 2);

	log_set_level(LOG_ERR);		/* the checks' reasons, no chatter */
	return ctl_decode(argv[2]);
}
