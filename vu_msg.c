// SPDX-License-Identifier: GPL-2.0-or-later
/* vu_msg.c - vhost-user message framing: receive and send, fd passing
 *
 * DOC: Theory of operation
 *
 * A vhost-user message is a 12-byte header (request, flags, payload size),
 * then the payload; file descriptors, up to VHOST_USER_MAX_FDS, come with
 * the first bytes as SCM_RIGHTS ancillary data.  vu_msg_recv() reads one
 * whole message, header and payload, with its descriptors;
 * vu_msg_send() writes a reply.  What a message means is vhost_user.c's
 * business: this file only checks what the framing itself says.
 *
 * The control socket is blocking, with a receive timeout
 * (VU_MSG_TIMEOUT_S): front-ends send each message at once, so reading the
 * payload right after the header doesn't stall the loop, and a front-end
 * that stops in the middle of a message only ends its own session.
 *
 * Bad input, by kind: a connection closed before a message
 * (-ECONNRESET); one closed in the middle of it, control data truncated or
 * of another kind than SCM_RIGHTS, more descriptors than
 * VHOST_USER_MAX_FDS (-EPROTO); a payload larger than any request takes
 * (-EMSGSIZE); a timeout (-ETIMEDOUT).  Whatever the failure, no
 * descriptor received with the message is left open: the caller drops the
 * connection.
 *
 * Prefixes, one file each: see the table in vhost_user.c.
 */

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "vu_msg.h"

/**
 * vu_msg_fds_close() - Close the file descriptors left in a message
 * @msg:	Message
 */
void vu_msg_fds_close(struct vhost_user_msg *msg)
{
	unsigned i;

	for (i = 0; i < msg->nfds && i < VHOST_USER_MAX_FDS; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nfds = 0;
}

/**
 * vu_msg_read_full() - Read exactly the given number of bytes from a socket
 * @fd:		Socket, blocking, with a receive timeout
 * @buf:	Destination
 * @len:	Bytes to read
 *
 * Return: 0 on success, -EPROTO on end of file, -ETIMEDOUT if the bytes
 *	   don't come in time, -errno on failure
 *
 * #syscalls recvfrom
 */
static int vu_msg_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -ETIMEDOUT;	/* SO_RCVTIMEO, vu_set_conn() */
		if (n < 0)
			return -errno;
		if (!n)
			return -EPROTO;
		p += n;
		len -= n;
	}
	return 0;
}

/**
 * vu_msg_cmsg_fds() - Collect file descriptors from received control messages
 * @mh:		Received message header
 * @msg:	Message to store descriptors in (nfds updated)
 *
 * Return: 0, -EPROTO if control data was truncated or unexpected
 */
static int vu_msg_cmsg_fds(struct msghdr *mh, struct vhost_user_msg *msg)
{
	struct cmsghdr *cmsg;
	int rc = 0;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		size_t n, i;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			rc = -EPROTO;
			continue;
		}

		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(fd));
			if (msg->nfds < VHOST_USER_MAX_FDS) {
				msg->fds[msg->nfds++] = fd;
			} else {
				close(fd);
				rc = -EPROTO;
			}
		}
	}

	if (mh->msg_flags & MSG_CTRUNC)
		rc = -EPROTO;
	return rc;
}

/**
 * vu_msg_recv() - Receive one message with its file descriptors
 * @fd:		Control socket, blocking
 * @msg:	Message to fill
 *
 * Return: 0 on success, -ECONNRESET on end of file before a message,
 *	   -EPROTO for a truncated message or control data, -EMSGSIZE for a
 *	   payload larger than any request takes, -errno on failure. On
 *	   failure, no descriptor is left open.
 *
 * #syscalls recvmsg recvfrom
 */
int vu_msg_recv(int fd, struct vhost_user_msg *msg)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { &msg->hdr, sizeof(msg->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	uint32_t size;
	unsigned i;
	ssize_t n;
	int rc;

	msg->nfds = 0;
	for (i = 0; i < VHOST_USER_MAX_FDS; i++)
		msg->fds[i] = -1;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!n)
		return -ECONNRESET;

	if ((rc = vu_msg_cmsg_fds(&mh, msg)))
		goto err;

	if ((size_t)n < sizeof(msg->hdr) &&
	    (rc = vu_msg_read_full(fd, (uint8_t *)&msg->hdr + n,
				   sizeof(msg->hdr) - n)))
		goto err;

	size = le32toh(msg->hdr.size);
	if (size > sizeof(msg->payload)) {
		rc = -EMSGSIZE;
		goto err;
	}
	if ((rc = vu_msg_read_full(fd, msg->payload.raw, size)))
		goto err;
	return 0;

err:
	vu_msg_fds_close(msg);
	return rc;
}

/**
 * vu_msg_send() - Send a reply
 * @fd:		Control socket
 * @msg:	Reply: header and payload of the size given in the header
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls sendto
 */
int vu_msg_send(int fd, const struct vhost_user_msg *msg)
{
	size_t len = sizeof(msg->hdr) + le32toh(msg->hdr.size);
	const uint8_t *p = (const uint8_t *)msg;

	ASSERT(len <= sizeof(msg->hdr) + sizeof(msg->payload));
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}
