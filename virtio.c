// SPDX-License-Identifier: GPL-2.0-or-later
/**
 * DOC: virtio.c - split virtqueue mechanics
 *
 * This module owns the device side of a virtio 1.x split virtqueue
 * (virtio 1.x, 2.7): mapping and starting rings, walking descriptor chains
 * into iovecs, returning buffers through the used ring, deciding when the
 * guest needs an interrupt, and marking the ring writes it makes dirty
 * while a migration logs writes. Guest addresses are translated, and pages
 * marked dirty, by vu_mem.c below it. It knows nothing about what the
 * buffers carry, nor about the vhost-user messages that set the rings up:
 * it is handed a struct vu_mem and a struct virtq.
 *
 * Everything in guest memory is hostile. The guest may rewrite any ring
 * field at any time, so each field is read exactly once into a local
 * (descriptors are copied, then a compiler barrier keeps the compiler from
 * reading the shared copy again) and only the local is validated and used.
 * Indices are checked against the queue size before use, every walk is
 * bounded (a direct chain by the queue size, an indirect one by the size of
 * its table), and lengths are checked for wrap-around before any
 * arithmetic. All ring fields are little-endian.
 *
 * Bad input, by kind:
 * - a ring the guest corrupted (index jump, head or next index out of
 *   range, loop, address outside guest memory, nested indirect table,
 *   indirect with NEXT, bad indirect length, device-readable buffer after a
 *   device-writable one): the queue is marked broken, logged once, and
 *   virtq_pop() returns -EIO until the queue is set up again;
 * - a well-formed chain with more than VU_ELEM_MAX_SG segments: we can't
 *   serve it, so it goes straight back to the guest as used with length 0
 *   (logged at a bounded rate), and popping goes on with the next chain.
 *
 * Callers pop one or more elements, then fill them at used ring offsets
 * 0..n-1 and flush n. They must not keep unflushed fills across a pop:
 * returning an oversized chain fills and flushes one used entry at once.
 *
 * Dirty logging (vhost-user "LOG_ALL", for live migration): every write we
 * make to the rings is logged here when the ring has VHOST_VRING_F_LOG;
 * writes to the guest's buffers are logged by whoever writes the data.
 *
 * Prefixes, one file each: see the table in vhost_user.c.
 */

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "virtio.h"

/* Byte offsets inside the rings (virtio 1.x, 2.7.6 and 2.7.8) */
#define AVAIL_FLAGS_OFF		0
#define AVAIL_IDX_OFF		2
#define AVAIL_RING_OFF(i)	(4 + 2 * (size_t)(i))	/* [num]: used_event */
#define USED_IDX_OFF		2
#define USED_RING_OFF(i)	(4 + 8 * (size_t)(i))	/* [num]: avail_event */

/* Ring sizes for a queue of num entries, event index fields included */
#define DESC_SIZE(num)		(16 * (uint64_t)(num))
#define AVAIL_SIZE(num)		(6 + 2 * (uint64_t)(num))
#define USED_SIZE(num)		(6 + 8 * (uint64_t)(num))

/* Alignment required by 2.7 for each part */
#define DESC_ALIGN		16
#define AVAIL_ALIGN		2
#define USED_ALIGN		4

/* Keep the compiler from re-reading guest memory in place of a local copy */
#define COMPILER_BARRIER()	__asm__ __volatile__("" ::: "memory")

/**
 * struct desc - A descriptor copied out of guest memory, host byte order
 * @addr:	Guest physical address of the buffer
 * @len:	Buffer length, bytes
 * @flags:	VRING_DESC_F_*
 * @next:	Next descriptor index, meaningful with VRING_DESC_F_NEXT
 */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/**
 * virtq_load16() - Read a little-endian 16-bit ring field once
 * @base:	Ring start, in our mapping
 * @off:	Field offset, bytes, a multiple of 2
 *
 * Return: field value, host byte order
 */
static uint16_t virtq_load16(const void *base, size_t off)
{
	const uint16_t *p = (const uint16_t *)((const uint8_t *)base + off);

	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

/**
 * virtq_store16() - Write a little-endian 16-bit ring field
 * @base:	Ring start, in our mapping
 * @off:	Field offset, bytes, a multiple of 2
 * @v:		Value, host byte order
 */
static void virtq_store16(void *base, size_t off, uint16_t v)
{
	uint16_t *p = (uint16_t *)((uint8_t *)base + off);

	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

/**
 * virtq_store32() - Write a little-endian 32-bit ring field
 * @base:	Ring start, in our mapping
 * @off:	Field offset, bytes, a multiple of 4
 * @v:		Value, host byte order
 */
static void virtq_store32(void *base, size_t off, uint32_t v)
{
	uint32_t *p = (uint32_t *)((uint8_t *)base + off);

	__atomic_store_n(p, htole32(v), __ATOMIC_RELAXED);
}

/**
 * virtq_init() - Reset a virtqueue to its initial, unconfigured state
 * @vq:		Virtqueue
 */
void virtq_init(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

/**
 * virtq_map_part() - Map one part of a ring, checking size and alignment
 * @m:		Guest memory
 * @qva:	Front-end virtual address of the ring part
 * @size:	Bytes that must be contiguously mapped
 * @align:	Required alignment, bytes, power of two
 * @va:		Pointer in our mapping, set on success
 * @gpa:	Guest physical address, set on success
 *
 * Return: 0 on success, -EINVAL if misaligned, -EFAULT if not mapped
 */
static int virtq_map_part(const struct vu_mem *m, uint64_t qva, uint64_t size,
			  uint64_t align, void **va, uint64_t *gpa)
{
	uint64_t len = size;
	void *p;

	if (qva & (align - 1))
		return -EINVAL;

	p = vu_mem_qva_to_va(m, qva, &len);
	if (!p || len != size || !vu_mem_qva_to_gpa(m, qva, gpa))
		return -EFAULT;

	/* We access fields atomically: our mapping must be aligned, too */
	if ((uintptr_t)p & (align - 1))
		return -EINVAL;

	*va = p;
	return 0;
}

/**
 * virtq_map() - Map the three parts of a ring given by SET_VRING_ADDR
 * @m:		Guest memory
 * @vq:		Virtqueue, with @num already set
 * @desc_qva:	Front-end address of the descriptor table
 * @avail_qva:	Front-end address of the available ring
 * @used_qva:	Front-end address of the used ring
 *
 * On success, sets ring pointers and guest physical addresses in @vq (the
 * caller may then override @used_gpa with the log address). On failure,
 * @vq is left untouched.
 *
 * Return: 0 on success, -EINVAL for a bad size or alignment, -EFAULT if a
 *	   ring is not contiguously mapped
 */
int virtq_map(const struct vu_mem *m, struct virtq *vq, uint64_t desc_qva,
	      uint64_t avail_qva, uint64_t used_qva)
{
	uint64_t desc_gpa, avail_gpa, used_gpa;
	void *desc, *avail, *used;
	unsigned num = vq->num;
	int rc;

	if (!num || num > VIRTQUEUE_MAX_SIZE || (num & (num - 1)))
		return -EINVAL;

	rc = virtq_map_part(m, desc_qva, DESC_SIZE(num), DESC_ALIGN, &desc,
			    &desc_gpa);
	if (rc)
		return rc;
	rc = virtq_map_part(m, avail_qva, AVAIL_SIZE(num), AVAIL_ALIGN, &avail,
			    &avail_gpa);
	if (rc)
		return rc;
	rc = virtq_map_part(m, used_qva, USED_SIZE(num), USED_ALIGN, &used,
			    &used_gpa);
	if (rc)
		return rc;

	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->desc_gpa = desc_gpa;
	vq->avail_gpa = avail_gpa;
	vq->used_gpa = used_gpa;
	return 0;
}

/**
 * virtq_mapped() - Check that the rings of a queue are translated
 * @vq:		Virtqueue
 *
 * Return: true if descriptor table, available and used rings are mapped
 */
bool virtq_mapped(const struct virtq *vq)
{
	return vq->num && vq->desc && vq->avail && vq->used;
}

/**
 * virtq_unmap() - Forget ring addresses and stop the queue
 * @vq:		Virtqueue
 */
void virtq_unmap(struct virtq *vq)
{
	vq->started = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
}

/**
 * virtq_wake() - Kick ourselves and interrupt the guest, once
 * @vq:		Virtqueue, started
 *
 * A ring that starts (again) may hold work nobody will tell us about, and
 * used entries the guest hasn't been told of: after a migration, the
 * source may have filled the last receive buffers and stopped before its
 * interrupt reached the guest, which then waits for one forever.  A kick
 * to our own eventfd makes the loop look at the ring; an interrupt the
 * guest didn't need costs it a look at its used ring.
 *
 * #syscalls write
 */
void virtq_wake(const struct virtq *vq)
{
	uint64_t one = 1;

	if (vq->kick_fd >= 0 && write(vq->kick_fd, &one, sizeof(one)) < 0)
		debug("vhost-user: can't kick ourselves: %s", strerror(errno));
	if (vq->call_fd >= 0 && write(vq->call_fd, &one, sizeof(one)) < 0)
		debug("vhost-user: can't interrupt the guest: %s",
		      strerror(errno));
}

/**
 * virtq_start() - Start a queue whose rings are mapped
 * @vq:		Virtqueue
 * @idx:	Index of @vq, for logs
 *
 * The next used ring index is the one in guest memory (vhost-user.rst,
 * SET_VRING_BASE): read it once, here, as the rings become ours.
 */
void virtq_start(struct virtq *vq, unsigned idx)
{
	if (vq->started || !virtq_mapped(vq))
		return;

	vq->used_idx = le16toh(vq->used->idx);
	vq->signalled_used_valid = false;
	vq->inuse = 0;
	vq->broken = false;
	vq->started = true;
	debug("vhost-user: queue %u started, size %u, avail %u, used %u", idx,
	      vq->num, vq->last_avail_idx, vq->used_idx);
	virtq_wake(vq);
}

/**
 * virtq_set_broken() - Stop processing a queue the guest corrupted
 * @vq:		Virtqueue
 * @why:	Reason, logged the first time only
 */
void virtq_set_broken(struct virtq *vq, const char *why)
{
	if (vq->broken)
		return;

	vq->broken = true;
	err("virtqueue broken: %s", why);
}

/**
 * virtq_ready() - Check that a queue can be processed
 * @vq:		Virtqueue
 *
 * Return: true if started, mapped and not broken
 */
static bool virtq_ready(const struct virtq *vq)
{
	return vq->started && !vq->broken && vq->num && vq->desc &&
	       vq->avail && vq->used;
}

/**
 * virtq_avail_pending() - Read the available index, count entries not popped
 * @vq:		Virtqueue, ready
 *
 * Orders later reads of ring entries and descriptors after the index read.
 *
 * Return: number of new entries, or -EIO (queue now broken) if the guest
 *	   claims more than the queue holds
 */
static int virtq_avail_pending(struct virtq *vq)
{
	uint16_t idx = virtq_load16(vq->avail, AVAIL_IDX_OFF), n;

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	vq->shadow_avail_idx = idx;

	n = idx - vq->last_avail_idx;
	if (n > vq->num) {
		virtq_set_broken(vq, "available index jumped");
		return -EIO;
	}
	return n;
}

/**
 * virtq_empty() - Check whether the guest made no new buffers available
 * @vq:		Virtqueue
 *
 * Return: true if there is nothing to pop (or the queue can't be processed)
 */
bool virtq_empty(struct virtq *vq)
{
	if (!virtq_ready(vq))
		return true;

	return virtq_load16(vq->avail, AVAIL_IDX_OFF) == vq->last_avail_idx;
}

/**
 * virtq_avail_event_set() - Ask the guest to kick once it passes last_avail_idx
 * @m:		Guest memory, for the dirty log
 * @vq:		Virtqueue, ready, with event index negotiated
 *
 * Followed by a full barrier: a later read of the available index must not
 * be ordered before this store, or we could miss the guest's next kick.
 */
static void virtq_avail_event_set(struct vu_mem *m, struct virtq *vq)
{
	size_t off = USED_RING_OFF(vq->num);

	/* The field is ours: skip rewriting (and logging) an unchanged value */
	if (virtq_load16(vq->used, off) != vq->last_avail_idx) {
		virtq_store16(vq->used, off, vq->last_avail_idx);
		if (vq->log_used)
			vu_mem_log_write(m, vq->used_gpa + off, sizeof(__le16));
	}

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/**
 * virtq_desc_get() - Copy a descriptor out of guest memory, once
 * @src:	Descriptor in our mapping of guest memory
 * @d:		Local copy, host byte order
 */
static void virtq_desc_get(const void *src, struct desc *d)
{
	struct vring_desc raw;

	memcpy(&raw, src, sizeof(raw));
	COMPILER_BARRIER();

	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

/**
 * virtq_guest_read() - Copy bytes from guest memory, possibly across regions
 * @m:		Guest memory
 * @gpa:	Guest physical address, @gpa + @len must not wrap
 * @buf:	Destination
 * @len:	Bytes to copy
 *
 * Return: 0 on success, -EFAULT if any byte is outside guest memory
 */
static int virtq_guest_read(const struct vu_mem *m, uint64_t gpa, void *buf,
			    size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t l = len;
		const void *va = vu_mem_gpa_to_va(m, gpa, &l);

		if (!va)
			return -EFAULT;

		memcpy(p, va, l);
		p += l;
		gpa += l;
		len -= l;
	}
	COMPILER_BARRIER();

	return 0;
}

/**
 * virtq_elem_add() - Map one descriptor's buffer and append it to an element
 * @m:		Guest memory
 * @vq:		Virtqueue, marked broken on a bad descriptor
 * @elem:	Element being built
 * @d:		Descriptor, not indirect
 *
 * Return: 0 on success, -E2BIG if the element has no more room for
 *	   segments, -EIO if the queue is now broken
 */
static int virtq_elem_add(const struct vu_mem *m, struct virtq *vq,
			  struct virtq_elem *elem, const struct desc *d)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	uint64_t gpa = d->addr, left = d->len;

	if (!left)		/* zero-length: nothing to map, not an error */
		return 0;

	if (!write && elem->in_num) {
		virtq_set_broken(vq, "device-readable after device-writable descriptor");
		return -EIO;
	}

	if (left - 1 > UINT64_MAX - gpa) {
		virtq_set_broken(vq, "descriptor wraps around address space");
		return -EIO;
	}

	while (left) {
		unsigned n = elem->out_num + elem->in_num;
		uint64_t l = left;
		void *va;

		if (n >= VU_ELEM_MAX_SG)
			return -E2BIG;

		va = vu_mem_gpa_to_va(m, gpa, &l);
		if (!va) {
			virtq_set_broken(vq, "descriptor outside guest memory");
			return -EIO;
		}

		elem->sg[n].iov_base = va;
		elem->sg[n].iov_len = l;
		if (write)
			elem->in_num++;
		else
			elem->out_num++;

		gpa += l;
		left -= l;
	}

	return 0;
}

/**
 * virtq_chain_step() - Add a descriptor to an element, find the next one
 * @m:		Guest memory
 * @vq:		Virtqueue, ready, marked broken on a bad chain
 * @elem:	Element to fill
 * @d:		Descriptor, copied out of guest memory
 * @num:	Entries in the table @d comes from
 * @next:	Index of the next descriptor, set if the chain goes on
 * @why:	What to log if the next index is out of range
 *
 * Return: 1 if the chain goes on at @next, 0 at its end, -E2BIG if too
 *	   many segments, -EIO if broken
 */
static int virtq_chain_step(const struct vu_mem *m, struct virtq *vq,
			    struct virtq_elem *elem, const struct desc *d,
			    unsigned num, unsigned *next, const char *why)
{
	int rc = virtq_elem_add(m, vq, elem, d);

	if (rc)
		return rc;
	if (!(d->flags & VRING_DESC_F_NEXT))
		return 0;
	if (d->next >= num) {
		virtq_set_broken(vq, why);
		return -EIO;
	}
	*next = d->next;
	return 1;
}

/**
 * virtq_chain_indirect() - Walk an indirect descriptor table into an element
 * @m:		Guest memory
 * @vq:		Virtqueue, marked broken on a bad table
 * @elem:	Element being built, empty
 * @ind:	The descriptor pointing to the table
 *
 * Return: 0 on success, -E2BIG if too many segments, -EIO if broken
 */
static int virtq_chain_indirect(const struct vu_mem *m, struct virtq *vq,
				struct virtq_elem *elem, const struct desc *ind)
{
	uint32_t entries = ind->len / sizeof(struct vring_desc), i = 0, seen;
	struct desc d;
	int rc;

	if (ind->flags & VRING_DESC_F_NEXT) {
		virtq_set_broken(vq, "indirect descriptor with NEXT");
		return -EIO;
	}
	if (!ind->len || ind->len % sizeof(struct vring_desc)) {
		virtq_set_broken(vq, "bad indirect table length");
		return -EIO;
	}
	if (ind->len - 1 > UINT64_MAX - ind->addr) {
		virtq_set_broken(vq, "indirect table wraps around");
		return -EIO;
	}

	for (seen = 0; ; seen++) {
		struct vring_desc raw;

		if (seen >= entries) {
			virtq_set_broken(vq, "loop in indirect descriptor table");
			return -EIO;
		}

		if (virtq_guest_read(m, ind->addr + (uint64_t)i * sizeof(raw),
				     &raw, sizeof(raw))) {
			virtq_set_broken(vq, "indirect table outside guest memory");
			return -EIO;
		}
		virtq_desc_get(&raw, &d);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			virtq_set_broken(vq, "nested indirect descriptor");
			return -EIO;
		}

		rc = virtq_chain_step(m, vq, elem, &d, entries, &i,
				      "indirect next index out of range");
		if (rc <= 0)
			return rc;
	}
}

/**
 * virtq_chain_walk() - Walk a descriptor chain from its head into an element
 * @m:		Guest memory
 * @vq:		Virtqueue, ready, marked broken on a bad chain
 * @head:	Head descriptor index, below @vq->num
 * @elem:	Element to fill
 *
 * Return: 0 on success, -E2BIG if too many segments, -EIO if broken
 */
static int virtq_chain_walk(const struct vu_mem *m, struct virtq *vq,
			    unsigned head, struct virtq_elem *elem)
{
	unsigned i = head, seen;
	struct desc d;
	int rc;

	elem->index = head;
	elem->out_num = elem->in_num = 0;

	for (seen = 0; ; seen++) {
		if (seen >= vq->num) {
			virtq_set_broken(vq, "loop in descriptor chain");
			return -EIO;
		}

		virtq_desc_get(&vq->desc[i], &d);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (seen) {
				virtq_set_broken(vq, "indirect descriptor not at chain head");
				return -EIO;
			}
			return virtq_chain_indirect(m, vq, elem, &d);
		}

		rc = virtq_chain_step(m, vq, elem, &d, vq->num, &i,
				      "next descriptor index out of range");
		if (rc <= 0)
			return rc;
	}
}

/**
 * virtq_pop() - Take the next available descriptor chain from a queue
 * @m:		Guest memory
 * @vq:		Virtqueue
 * @elem:	Element to fill: buffers, out (device-readable) first
 *
 * A chain with too many segments comes back with no buffers at all
 * (out_num and in_num 0, index set): the caller returns it, used with
 * length 0, at its own place in the batch it is filling.
 *
 * Return: 1 with @elem filled, 0 if nothing is available (or the queue is
 *	   not started), -EIO if the queue is broken
 */
int virtq_pop(struct vu_mem *m, struct virtq *vq, struct virtq_elem *elem)
{
	uint16_t head;
	int n, rc;

	if (vq->broken)
		return -EIO;
	if (!virtq_ready(vq))
		return 0;

	if (vq->event_idx)
		virtq_avail_event_set(m, vq);

	n = virtq_avail_pending(vq);
	if (n <= 0)
		return n;

	if (vq->inuse >= vq->num) {
		virtq_set_broken(vq, "more buffers in flight than queue size");
		return -EIO;
	}

	head = virtq_load16(vq->avail,
			    AVAIL_RING_OFF(vq->last_avail_idx % vq->num));
	if (head >= vq->num) {
		virtq_set_broken(vq, "head index out of range");
		return -EIO;
	}

	vq->last_avail_idx++;
	vq->inuse++;

	rc = virtq_chain_walk(m, vq, head, elem);
	if (rc == -E2BIG) {
		/* The caller gives it back, used with length 0, in its place
		 * in the batch it fills
		 */
		err_ratelimit("virtqueue: chain %u has more than %u segments, "
			      "dropped", elem->index, VU_ELEM_MAX_SG);
		elem->out_num = elem->in_num = 0;
	} else if (rc) {
		return rc;
	}

	if (vq->event_idx)
		virtq_avail_event_set(m, vq);
	return 1;
}

/**
 * virtq_rewind() - Give back elements popped but not used
 * @vq:		Virtqueue
 * @num:	Number of elements, the last ones popped
 */
void virtq_rewind(struct virtq *vq, unsigned num)
{
	num = MIN(num, vq->inuse);
	vq->last_avail_idx -= num;
	vq->inuse -= num;
}

/**
 * virtq_fill() - Write a used ring entry, not yet visible to the guest
 * @m:		Guest memory, for the dirty log
 * @vq:		Virtqueue
 * @elem:	Element being returned
 * @len:	Bytes we wrote into its device-writable buffers
 * @idx:	Offset from the current used index (n-th element of a batch)
 *
 * The caller logs the data it wrote to the buffers; we log the ring entry.
 */
void virtq_fill(struct vu_mem *m, struct virtq *vq,
		const struct virtq_elem *elem, uint32_t len, unsigned idx)
{
	size_t off;

	if (vq->broken || !vq->used || !vq->num)
		return;

	off = USED_RING_OFF((uint16_t)(vq->used_idx + idx) % vq->num);
	virtq_store32(vq->used, off, elem->index);
	virtq_store32(vq->used, off + sizeof(__le32), len);

	if (vq->log_used)
		vu_mem_log_write(m, vq->used_gpa + off,
				 sizeof(struct vring_used_elem));
}

/**
 * virtq_flush() - Publish filled used ring entries to the guest
 * @m:		Guest memory, for the dirty log
 * @vq:		Virtqueue
 * @count:	Number of entries filled since the last flush
 */
void virtq_flush(struct vu_mem *m, struct virtq *vq, unsigned count)
{
	uint16_t old = vq->used_idx, new = old + count;

	if (vq->broken || !vq->used || !vq->num)
		return;

	/* Entries and buffer contents before the index that publishes them */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	virtq_store16(vq->used, USED_IDX_OFF, new);
	if (vq->log_used)
		vu_mem_log_write(m, vq->used_gpa + USED_IDX_OFF,
				 sizeof(__le16));

	vq->used_idx = new;
	vq->inuse -= MIN(count, vq->inuse);

	/* If the index just ran past the last signalled value again (2^16
	 * entries later), that value no longer tells whether the guest was
	 * already told about these entries: forget it, notify next time.
	 */
	if ((uint16_t)(new - vq->signalled_used) < (uint16_t)(new - old))
		vq->signalled_used_valid = false;
}

/**
 * virtq_need_event() - Is @event in (@old, @new]? (virtio 1.x, 2.7.10)
 * @event:	Index the other side asked to be notified at
 * @new:	Index after our update
 * @old:	Index at the last notification
 *
 * Return: true if moving from @old to @new crossed @event
 */
static bool virtq_need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/**
 * virtq_should_notify() - Decide whether the guest wants an interrupt
 * @vq:		Virtqueue
 *
 * With VIRTIO_F_EVENT_IDX, notify if the used index crossed used_event
 * since the last notification (and record this one); otherwise, unless the
 * guest set VRING_AVAIL_F_NO_INTERRUPT. VIRTIO_F_NOTIFY_ON_EMPTY is a
 * legacy feature we never offer, so it's not handled.
 *
 * Return: true if the guest should be notified
 */
bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old, new;
	bool valid;

	if (vq->broken || !vq->avail || !vq->num)
		return false;

	/* Our used index store before the guest's flags or used_event load */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (!vq->event_idx) {
		return !(virtq_load16(vq->avail, AVAIL_FLAGS_OFF) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	}

	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	new = vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;

	if (!valid)
		return true;

	uint16_t event = virtq_load16(vq->avail, AVAIL_RING_OFF(vq->num));

	return virtq_need_event(event, new, old);
}

/**
 * virtq_notify() - Send the guest an interrupt through the call eventfd
 * @vq:		Virtqueue
 *
 * #syscalls write
 */
void virtq_notify(struct virtq *vq)
{
	uint64_t one = 1;

	if (vq->call_fd < 0 || !virtq_should_notify(vq))
		return;

	/* EAGAIN: the counter is saturated, the guest will wake up anyway */
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warn_ratelimit("virtqueue: call eventfd write failed: %s",
			       strerror(errno));
}
