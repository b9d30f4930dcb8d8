// SPDX-License-Identifier: GPL-2.0-or-later
/* pcap.c - Capture of the guest's frames to a pcap file (-p, --pcap)
 *
 * DOC: Theory of operation
 *
 * With -p FILE, every Ethernet frame to and from the guest is appended to
 * FILE in the classic pcap format (the one tcpdump -r and Wireshark read):
 * a 24-byte file header, then one 16-byte record header per frame with a
 * microsecond timestamp (CLOCK_REALTIME), then the frame.  Fields are in
 * our own byte order, which readers tell from the magic number.  Link type
 * is Ethernet, with no virtio-net header.
 *
 * pcap_init() opens (and truncates) the file at start-up, before the
 * sandbox closes the file system to us; the descriptor then stays open.
 * tap.c calls pcap_frame() for frames in both directions, and only if
 * c->pcap is set: without -p the cost is that one test.
 *
 * Each record goes out in a single writev(), so a reader never sees half
 * a record header.  If a write fails (disk full), capture stops for good
 * with one warning: a capture with holes in it is worse than a short one.
 * Frames longer than PCAP_SNAPLEN are cut to it (caplen < len), which
 * cannot happen with frames we accept.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pcap.h"

#define PCAP_IOV_MAX		16	/* frame entries written per record */

static int pcap_fd = -1;

/**
 * pcap_init() - Open the capture file and write its header
 * @c:		Execution context
 *
 * Exits on failure: this runs at start-up only.
 *
 * #syscalls openat write close
 */
void pcap_init(const struct ctx *c)
{
	struct pcap_file_hdr h = {
		.magic = PCAP_MAGIC,
		.major = PCAP_VERSION_MAJOR,
		.minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};
	int fd;

	if (!*c->pcap)
		return;

	fd = open(c->pcap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("can't open capture file %s: %s", c->pcap, strerror(errno));
	if (write_all(fd, &h, sizeof(h)))
		die("can't write capture file %s", c->pcap);

	if (pcap_fd >= 0)
		close(pcap_fd);
	pcap_fd = fd;
	info("Capturing guest frames to %s", c->pcap);
}

/**
 * pcap_frame() - Append one frame to the capture file
 * @iov:	Frame, Ethernet header first, no virtio header
 * @cnt:	Entries in @iov
 *
 * #syscalls writev clock_gettime
 */
void pcap_frame(const struct iovec *iov, size_t cnt)
{
	struct iovec out[PCAP_IOV_MAX + 1];
	size_t len = iov_size(iov, cnt), cap = 0, i, n = 1;
	struct pcap_rec_hdr h;
	struct timespec now;
	ssize_t rc;

	if (pcap_fd < 0)
		return;

	for (i = 0; i < cnt && n <= PCAP_IOV_MAX && cap < PCAP_SNAPLEN; i++) {
		size_t part = MIN(iov[i].iov_len, PCAP_SNAPLEN - cap);

		out[n++] = (struct iovec){ iov[i].iov_base, part };
		cap += part;
	}

	clock_gettime(CLOCK_REALTIME, &now);
	h.tv_sec = (uint32_t)now.tv_sec;
	h.tv_usec = (uint32_t)(now.tv_nsec / 1000);
	h.caplen = (uint32_t)cap;
	h.len = (uint32_t)len;
	out[0] = (struct iovec){ &h, sizeof(h) };

	rc = writev(pcap_fd, out, (int)n);
	if (rc == (ssize_t)(sizeof(h) + cap))
		return;

	warn("Capture file: write failed (%s), capture stopped",
	     rc < 0 ? strerror(errno) : "short write");
	close(pcap_fd);
	pcap_fd = -1;
}
