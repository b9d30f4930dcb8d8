// SPDX-License-Identifier: GPL-2.0-or-later
/* test/frontend.c - a fake vhost-user front-end: messages, memory, rings
 *
 * DOC: Fake front-end
 *
 * What QEMU (or any front-end) does to talk to the daemon, reduced to
 * building blocks the tests combine, well-formed or not: messages with
 * descriptors sent on the control socket, whose header may lie about the
 * payload size; memfds as guest memory, sealed as QEMU seals them or not;
 * memory table and vring payloads; and the driver's half of split rings
 * (descriptors, indirect tables, the available ring, reading the used
 * ring), written little-endian into memory the test mapped.
 *
 * Nothing here checks what it is given: a test may well want a head index
 * past the ring or a size that is a lie.  Functions return -errno and
 * leave judging the outcome to the caller, so the hostile front-end, the
 * cmocka unit tests and the fuzzers can all use them.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend.h"

#define VFE_MAX_PAYLOAD	65536

/**
 * vfe_send_raw() - Send bytes, and descriptors with the first of them
 * @s:		Socket
 * @buf:	Bytes
 * @len:	How many
 * @fds:	Descriptors, may be NULL
 * @nfds:	How many
 *
 * #syscalls sendmsg
 *
 * Return: 0 on success, -errno on failure
 */
int vfe_send_raw(int s, const void *buf, size_t len, const int *fds,
		 unsigned nfds)
{
	static union {
		char buf[CMSG_SPACE(sizeof(int) * VFE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t done = 0;

	if (nfds > VFE_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}

	while (done < len) {
		ssize_t n;

		iov.iov_base = (uint8_t *)buf + done;
		iov.iov_len = len - done;
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

/**
 * vfe_send_sz() - Send a message whose header may lie about its size
 * @s:		Socket
 * @req:	Request
 * @flags:	Header flags, version included
 * @pl:		Payload, may be NULL if @len is 0
 * @len:	Payload bytes actually sent
 * @size:	Payload size in the header
 * @fds:	Descriptors, may be NULL
 * @nfds:	How many
 *
 * Return: 0 on success, -errno on failure
 */
int vfe_send_sz(int s, uint32_t req, uint32_t flags, const void *pl,
		size_t len, uint32_t size, const int *fds, unsigned nfds)
{
	static uint8_t buf[sizeof(struct vhost_user_hdr) + VFE_MAX_PAYLOAD];
	struct vhost_user_hdr h = {
		htole32(req), htole32(flags), htole32(size)
	};

	if (len > sizeof(buf) - sizeof(h))
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), pl, len);
	return vfe_send_raw(s, buf, sizeof(h) + len, fds, nfds);
}

/**
 * vfe_send() - Send a well-formed message
 * @s:		Socket
 * @req:	Request
 * @need_reply:	Set NEED_REPLY
 * @pl:		Payload, may be NULL if @len is 0
 * @len:	Payload size
 * @fds:	Descriptors, may be NULL
 * @nfds:	How many
 *
 * Return: 0 on success, -errno on failure
 */
int vfe_send(int s, uint32_t req, bool need_reply, const void *pl,
	     size_t len, const int *fds, unsigned nfds)
{
	uint32_t flags = VHOST_USER_VERSION;

	if (need_reply)
		flags |= VHOST_USER_FLAG_NEED_REPLY;
	return vfe_send_sz(s, req, flags, pl, len, len, fds, nfds);
}

/**
 * vfe_memfd() - Make a memfd to serve as guest memory
 * @size:	Size, bytes
 * @seals:	F_SEAL_* to add (QEMU: F_SEAL_SHRINK, maybe F_SEAL_GROW), or 0
 *		for a file that can't be sealed at all
 *
 * Return: file descriptor, -errno on failure
 */
int vfe_memfd(size_t size, unsigned seals)
{
	unsigned flags = MFD_CLOEXEC | (seals ? MFD_ALLOW_SEALING : 0);
	int fd = memfd_create("vfe-guest", flags), rc;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) || (seals && fcntl(fd, F_ADD_SEALS, seals))) {
		rc = -errno;
		close(fd);
		errno = -rc;
		return rc;
	}
	return fd;
}

/**
 * vfe_region() - Make a memory table region, as SET_MEM_TABLE carries it
 * @gpa:	Guest physical address
 * @size:	Size, bytes
 * @qva:	Front-end address
 * @off:	Offset in the file
 *
 * Return: region descriptor, little-endian
 */
struct vhost_user_mem_region_desc vfe_region(uint64_t gpa, uint64_t size,
					     uint64_t qva, uint64_t off)
{
	struct vhost_user_mem_region_desc d = {
		htole64(gpa), htole64(size), htole64(qva), htole64(off)
	};

	return d;
}

/**
 * vfe_table_len() - Payload size of a memory table
 * @n:		Regions
 *
 * Return: bytes
 */
size_t vfe_table_len(unsigned n)
{
	return offsetof(struct vhost_user_mem_table, regions) +
	       n * sizeof(struct vhost_user_mem_region_desc);
}

/**
 * vfe_vstate() - Make a vring state payload
 * @idx:	Queue index
 * @num:	Value
 *
 * Return: payload, little-endian
 */
struct vhost_user_vring_state vfe_vstate(uint32_t idx, uint32_t num)
{
	struct vhost_user_vring_state st = { htole32(idx), htole32(num) };

	return st;
}

/**
 * vfe_le16_put() - Write a little-endian 16-bit ring field
 * @p:		Where, any alignment
 * @v:		Value, host order
 */
void vfe_le16_put(void *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

/**
 * vfe_desc_put() - Write a descriptor in a table (ring or indirect)
 * @table:	Start of the table, our pointer
 * @i:		Entry
 * @addr:	Guest physical address
 * @len:	Length
 * @flags:	VRING_DESC_F_*
 * @next:	Next entry
 */
void vfe_desc_put(void *table, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		htole64(addr), htole32(len), htole16(flags), htole16(next)
	};

	memcpy((uint8_t *)table + sizeof(d) * (size_t)i, &d, sizeof(d));
}

/**
 * vfe_ring_desc() - Write an entry of a ring's descriptor table
 * @r:		Ring
 * @i:		Index in the table (not checked: may be hostile)
 * @addr:	Guest physical address
 * @len:	Length
 * @flags:	VRING_DESC_F_*
 * @next:	Next index
 */
void vfe_ring_desc(const struct vfe_ring *r, unsigned i, uint64_t addr,
		   uint32_t len, uint16_t flags, uint16_t next)
{
	vfe_desc_put(r->desc, i, addr, len, flags, next);
}

/**
 * vfe_ring_avail_idx() - Publish an available index
 * @r:		Ring
 * @idx:	Index, any value
 */
void vfe_ring_avail_idx(const struct vfe_ring *r, uint16_t idx)
{
	__atomic_store_n((uint16_t *)(void *)(r->avail + 2), htole16(idx),
			 __ATOMIC_RELEASE);
}

/**
 * vfe_ring_push() - Make a chain available, and publish it
 * @r:		Ring
 * @head:	Head index (not checked: may be hostile)
 */
void vfe_ring_push(struct vfe_ring *r, uint16_t head)
{
	vfe_le16_put(r->avail + 4 + 2 * (size_t)(r->avail_idx % r->num), head);
	vfe_ring_avail_idx(r, ++r->avail_idx);
}

/**
 * vfe_ring_used_idx() - Read the used index the device published
 * @r:		Ring
 *
 * Return: index
 */
uint16_t vfe_ring_used_idx(const struct vfe_ring *r)
{
	return le16toh(__atomic_load_n((uint16_t *)(void *)(r->used + 2),
				       __ATOMIC_ACQUIRE));
}

/**
 * vfe_ring_used_elem() - Read a used ring entry
 * @r:		Ring
 * @i:		Free-running index
 * @id:		Head index, set
 * @len:	Length written, set
 */
void vfe_ring_used_elem(const struct vfe_ring *r, uint16_t i, uint32_t *id,
			uint32_t *len)
{
	struct vring_used_elem e;

	memcpy(&e, r->used + 4 + sizeof(e) * (size_t)(i % r->num), sizeof(e));
	*id = le32toh(e.id);
	*len = le32toh(e.len);
}
