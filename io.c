// SPDX-License-Identifier: GPL-2.0-or-later
/* io.c - The write loop every writer shares
 *
 * DOC: Theory of operation
 *
 * The very bottom of the layering: log.c writes its file with
 * write_all(), and util.h, which sits above log.h, passes it on to
 * everybody else.  Nothing here logs or includes any other module.
 */

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "io.h"

/**
 * write_all() - Write a whole buffer, retrying on short writes and EINTR
 * @fd:		File descriptor (blocking)
 * @buf:	Data
 * @len:	Length, bytes
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls write
 */
int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}
