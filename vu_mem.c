// SPDX-License-Identifier: GPL-2.0-or-later
/* vu_mem.c - guest memory: the region table, address translation, dirty log
 *
 * DOC: Theory of operation
 *
 * The front-end hands us guest memory as up to VU_MAX_REGIONS regions, each
 * a file descriptor we map whole (SET_MEM_TABLE), and, for a migration, a
 * dirty log bitmap to map (SET_LOG_BASE).  This file owns those mappings:
 * it checks and maps a new table, installs it, translates guest physical
 * and front-end virtual addresses into our mapping and back, marks pages
 * dirty in the log, and turns a SIGBUS on guest memory into a reset of the
 * session instead of our death.  It knows nothing of rings or messages: it
 * is handed decoded regions and file descriptors, and a struct vu_mem.
 *
 * Bad input, by kind:
 * - a region with a zero size, one that wraps around in any address
 *   space, overlaps another region, or whose file is smaller than
 *   announced (mapping it would give SIGBUS on access): -EINVAL, nothing
 *   of the new table stays mapped and the old one is untouched;
 * - a dirty log that is empty, misaligned, doesn't cover all of guest
 *   memory, or whose file is too small: -EINVAL, the old log stays;
 * - a memfd that could still shrink: sealed (F_SEAL_SHRINK) if possible,
 *   else accepted, and a later SIGBUS is handled (vu_mem_sigbus_hit());
 * - an address in no region: translation returns NULL (or false), and the
 *   caller decides (virtio.c marks the ring broken); log writes outside
 *   the bitmap or outside guest memory are ignored.
 *
 * Prefixes, one file each: see the table in vhost_user.c.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vu_mem.h"

/* Translation */

/**
 * vu_mem_xlate() - Translate an address through the region table
 * @m:		Guest memory
 * @addr:	Address, guest physical (@qva false) or front-end virtual
 * @len:	In: wanted length, out: contiguous length mapped from @addr
 * @qva:	Translate front-end virtual addresses instead of guest physical
 *
 * Return: pointer into our mapping, NULL if @addr is in no region
 */
static void *vu_mem_xlate(const struct vu_mem *m, uint64_t addr,
			  uint64_t *len, bool qva)
{
	unsigned i;

	for (i = 0; i < m->nregions && i < VU_MAX_REGIONS; i++) {
		const struct vu_mem_region *r = &m->r[i];
		uint64_t start = qva ? r->qva : r->gpa;
		uint64_t off;

		if (!r->mmap_addr || addr < start)
			continue;

		off = addr - start;
		if (off >= r->size)
			continue;

		*len = MIN(*len, r->size - off);
		return (void *)(uintptr_t)(r->mmap_addr + r->mmap_offset + off);
	}

	return NULL;
}

/**
 * vu_mem_gpa_to_va() - Translate a guest physical address into our mapping
 * @m:		Guest memory
 * @gpa:	Guest physical address
 * @len:	In: wanted length, out: contiguous length available (may be less)
 *
 * Return: pointer into our mapping, NULL if @gpa is in no region
 */
void *vu_mem_gpa_to_va(const struct vu_mem *m, uint64_t gpa, uint64_t *len)
{
	return vu_mem_xlate(m, gpa, len, false);
}

/**
 * vu_mem_qva_to_va() - Translate a front-end virtual address into our mapping
 * @m:		Guest memory
 * @qva:	Address in the front-end's address space (SET_VRING_ADDR)
 * @len:	In: wanted length, out: contiguous length available (may be less)
 *
 * Return: pointer into our mapping, NULL if @qva is in no region
 */
void *vu_mem_qva_to_va(const struct vu_mem *m, uint64_t qva, uint64_t *len)
{
	return vu_mem_xlate(m, qva, len, true);
}

/**
 * vu_mem_qva_to_gpa() - Find the guest physical address of a front-end address
 * @m:		Guest memory
 * @qva:	Front-end virtual address
 * @gpa:	Guest physical address, set on success
 *
 * Return: true if @qva is in a region
 */
bool vu_mem_qva_to_gpa(const struct vu_mem *m, uint64_t qva, uint64_t *gpa)
{
	unsigned i;

	for (i = 0; i < m->nregions && i < VU_MAX_REGIONS; i++) {
		const struct vu_mem_region *r = &m->r[i];

		if (r->mmap_addr && qva >= r->qva && qva - r->qva < r->size) {
			*gpa = r->gpa + (qva - r->qva);
			return true;
		}
	}
	return false;
}

/**
 * vu_mem_va_region() - Find the region our mapping of which contains an address
 * @m:		Guest memory
 * @p:		Address in our mapping
 *
 * Return: region, NULL if none
 */
static const struct vu_mem_region *vu_mem_va_region(const struct vu_mem *m,
						     uintptr_t p)
{
	unsigned i;

	for (i = 0; i < m->nregions && i < VU_MAX_REGIONS; i++) {
		const struct vu_mem_region *r = &m->r[i];
		uint64_t base = r->mmap_addr + r->mmap_offset;

		if (r->mmap_addr && p >= base && p - base < r->size)
			return r;
	}
	return NULL;
}

/**
 * vu_mem_va_to_qva() - Find the front-end address of a pointer in our mapping
 * @m:		Guest memory
 * @p:		Pointer into one of the regions of @m
 * @qva:	Front-end virtual address, set on success
 *
 * Return: true if @p is in a region
 */
bool vu_mem_va_to_qva(const struct vu_mem *m, const void *p, uint64_t *qva)
{
	uintptr_t a = (uintptr_t)p;
	const struct vu_mem_region *r = vu_mem_va_region(m, a);

	if (!r)
		return false;
	*qva = r->qva + (a - (r->mmap_addr + r->mmap_offset));
	return true;
}

/* Dirty log writes */

/**
 * vu_mem_log_write() - Mark guest pages dirty in the migration log
 * @m:		Guest memory, with the log bitmap
 * @gpa:	Guest physical address written
 * @len:	Bytes written
 *
 * Bit n (bit n % 8 of byte n / 8) stands for guest page n. Pages beyond the
 * bitmap are silently ignored: we never write outside it.
 */
void vu_mem_log_write(struct vu_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t page, last, npages;

	if (!m->log_all || !m->log || !m->log_size || !len)
		return;

	npages = m->log_size > UINT64_MAX / 8 ? UINT64_MAX : m->log_size * 8;
	page = gpa / VHOST_LOG_PAGE;
	if (len - 1 > UINT64_MAX - gpa)		/* gpa + len wraps */
		last = UINT64_MAX / VHOST_LOG_PAGE;
	else
		last = (gpa + len - 1) / VHOST_LOG_PAGE;
	last = MIN(last, npages - 1);

	for (; page <= last; page++) {
		__atomic_fetch_or(&m->log[page / 8], (uint8_t)(1U << (page % 8)),
				  __ATOMIC_RELAXED);
	}
}

/**
 * vu_mem_log_write_va() - Mark guest pages dirty, given a pointer to them
 * @m:		Guest memory, with the log bitmap
 * @va:		Start of the written area, in our mapping of guest memory
 * @len:	Bytes written
 *
 * An area spanning several regions is logged region by region; bytes
 * outside every region are not guest memory and are ignored.
 */
void vu_mem_log_write_va(struct vu_mem *m, const void *va, uint64_t len)
{
	uintptr_t p = (uintptr_t)va;

	if (!m->log_all || !m->log)
		return;

	while (len) {
		const struct vu_mem_region *r = vu_mem_va_region(m, p);
		uint64_t off, l;

		if (!r)
			return;

		off = p - (r->mmap_addr + r->mmap_offset);
		l = MIN(len, r->size - off);
		vu_mem_log_write(m, r->gpa + off, l);
		p += l;
		len -= l;
	}
}

/* The region table */

/**
 * vu_mem_fd_no_shrink() - Refuse a memfd its owner could still shrink
 * @fd:		File to map guest memory or the dirty log from
 * @what:	For the log
 *
 * Touching a mapping past the end of its file raises SIGBUS: a front-end
 * that truncates a memfd we mapped would kill us.  QEMU seals its memfds
 * (F_SEAL_SHRINK); one that still allows sealing gets the seal from us;
 * we refuse the others.  Other files (hugetlbfs, shm) have no seals to ask
 * for, and are taken as they are.
 *
 * Return: 0 if acceptable, -EPERM if a memfd without F_SEAL_SHRINK
 *
 * #syscalls fcntl
 */
static int vu_mem_fd_no_shrink(int fd, const char *what)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || (seals & F_SEAL_SHRINK))
		return 0;

	/* Sealable: seal it ourselves, nobody shrinks it now */
	if (!(seals & F_SEAL_SEAL) && !fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		return 0;

	/* DPDK's can't be sealed: vu_mem_sigbus() covers what a shrink does */
	debug("vhost-user: %s is a memfd that could shrink", what);
	return 0;
}

/**
 * vu_mem_region_check() - Validate one decoded region and the file it maps
 * @r:		Region, decoded from the front-end's table (not mapped yet)
 * @fd:		File descriptor to map the region from
 *
 * Return: 0 if acceptable, -EINVAL otherwise, -errno from fstat()
 *
 * #syscalls newfstatat
 */
static int vu_mem_region_check(const struct vu_mem_region *r, int fd)
{
	struct stat st;

	if (!r->size || r->size > UINT64_MAX - r->gpa ||
	    r->size > UINT64_MAX - r->qva ||
	    r->size > UINT64_MAX - r->mmap_offset ||
	    r->mmap_offset + r->size > SIZE_MAX) {
		warn("vhost-user: bad region size 0x%" PRIx64 " at gpa 0x%"
		     PRIx64 ", offset 0x%" PRIx64, r->size, r->gpa,
		     r->mmap_offset);
		return -EINVAL;
	}

	if (fstat(fd, &st))
		return -errno;
	if (st.st_size < 0 ||
	    (uint64_t)st.st_size < r->mmap_offset + r->size) {
		warn("vhost-user: region file of %jd bytes, 0x%" PRIx64
		     " needed", (intmax_t)st.st_size, r->mmap_offset + r->size);
		return -EINVAL;
	}
	return vu_mem_fd_no_shrink(fd, "region file");
}

/**
 * vu_mem_range_overlap() - Check whether two address ranges overlap
 * @a:		Start of first range
 * @alen:	Length of first range, non-zero, no wrap-around
 * @b:		Start of second range
 * @blen:	Length of second range, non-zero, no wrap-around
 *
 * Return: true if they share at least one byte
 */
static bool vu_mem_range_overlap(uint64_t a, uint64_t alen, uint64_t b,
				 uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/**
 * vu_mem_region_overlaps() - Check a new region against the ones before it
 * @r:		Regions
 * @n:		Index of the new region in @r
 *
 * Return: true if region @n overlaps another one in guest physical or in
 *	   front-end virtual address space
 */
static bool vu_mem_region_overlaps(const struct vu_mem_region *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (vu_mem_range_overlap(r[i].gpa, r[i].size,
					 r[n].gpa, r[n].size) ||
		    vu_mem_range_overlap(r[i].qva, r[i].size,
					 r[n].qva, r[n].size)) {
			warn("vhost-user: memory regions %u and %u overlap",
			     i, n);
			return true;
		}
	}
	return false;
}

/**
 * vu_mem_region_map() - Map one validated region
 * @r:		Region, mmap_addr and mmap_size set on success
 * @fd:		File descriptor of the region
 *
 * Return: 0 on success, -errno from mmap()
 *
 * #syscalls mmap
 */
static int vu_mem_region_map(struct vu_mem_region *r, int fd)
{
	size_t len = r->mmap_offset + r->size;
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED) {
		int rc = -errno;

		warn("vhost-user: can't map region: %s", strerror(-rc));
		return rc;
	}

	r->mmap_addr = (uintptr_t)p;
	r->mmap_size = len;
	return 0;
}

/**
 * vu_mem_regions_unmap() - Unmap guest memory regions
 * @r:		Regions
 * @n:		Number of regions
 *
 * #syscalls munmap
 */
static void vu_mem_regions_unmap(struct vu_mem_region *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (r[i].mmap_addr)
			munmap((void *)(uintptr_t)r[i].mmap_addr, r[i].mmap_size);
		memset(&r[i], 0, sizeof(r[i]));
	}
}

/**
 * vu_mem_regions_map() - Check and map the regions of a new memory table
 * @r:		Regions, decoded; mmap_addr and mmap_size set on success
 * @fds:	One file descriptor per region, still owned by the caller
 * @n:		Number of regions, at most VU_MAX_REGIONS
 *
 * Return: 0 with all regions mapped, -EINVAL or -errno with none mapped
 */
int vu_mem_regions_map(struct vu_mem_region *r, const int *fds, unsigned n)
{
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = vu_mem_region_check(&r[i], fds[i]);
		if (!rc && vu_mem_region_overlaps(r, i))
			rc = -EINVAL;
		if (!rc)
			rc = vu_mem_region_map(&r[i], fds[i]);
		if (rc)
			goto err_unmap;
	}
	return 0;

err_unmap:
	vu_mem_regions_unmap(r, i + 1);
	return rc;
}

/**
 * vu_mem_install() - Replace the regions of guest memory by mapped ones
 * @m:		Guest memory: its old regions are unmapped
 * @r:		New regions, mapped: ownership passes to @m
 * @n:		Number of regions, at most VU_MAX_REGIONS
 */
void vu_mem_install(struct vu_mem *m, const struct vu_mem_region *r,
		    unsigned n)
{
	vu_mem_regions_unmap(m->r, VU_MAX_REGIONS);
	memcpy(m->r, r, sizeof(*r) * n);
	m->nregions = n;
}

/* The dirty log */

/**
 * vu_mem_log_covers() - Check that a dirty log covers all of guest memory
 * @m:		Guest memory
 * @size:	Log size, bytes
 *
 * Return: true if every page of every region has a bit in the log
 */
static bool vu_mem_log_covers(const struct vu_mem *m, uint64_t size)
{
	uint64_t end = 0, pages;
	unsigned i;

	for (i = 0; i < m->nregions && i < VU_MAX_REGIONS; i++)
		end = MAX(end, m->r[i].gpa + m->r[i].size);

	pages = end / VHOST_LOG_PAGE + !!(end % VHOST_LOG_PAGE);
	return size >= pages / 8 + !!(pages % 8);
}

/**
 * vu_mem_log_unmap() - Unmap the dirty log, if any
 * @m:		Guest memory
 *
 * #syscalls munmap
 */
static void vu_mem_log_unmap(struct vu_mem *m)
{
	if (m->log)
		munmap(m->log, m->log_size);
	m->log = NULL;
	m->log_size = 0;
}

/**
 * vu_mem_log_set() - Map a new dirty log, replacing any previous one
 * @m:		Guest memory, its regions already set
 * @fd:		File to map the log from, still owned by the caller
 * @size:	Log size, bytes
 * @off:	Offset of the log in the file, bytes, page-aligned
 *
 * Return: 0, -EINVAL if refused (the old log is left), -EPERM for a file
 *	   that could shrink, -errno from fstat() or mmap()
 *
 * #syscalls newfstatat mmap
 */
int vu_mem_log_set(struct vu_mem *m, int fd, uint64_t size, uint64_t off)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;
	void *p;

	if (!size || size > SIZE_MAX || size > UINT64_MAX - off || off % page ||
	    !vu_mem_log_covers(m, size)) {
		warn("vhost-user: bad log, size 0x%" PRIx64 " offset 0x%" PRIx64,
		     size, off);
		return -EINVAL;
	}
	if (fstat(fd, &st))
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size < off + size) {
		warn("vhost-user: log file of %jd bytes, 0x%" PRIx64 " needed",
		     (intmax_t)st.st_size, off + size);
		return -EINVAL;
	}
	if (vu_mem_fd_no_shrink(fd, "dirty log file"))
		return -EPERM;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;

	vu_mem_log_unmap(m);
	m->log = p;
	m->log_size = size;
	debug("vhost-user: dirty log of %" PRIu64 " bytes", size);
	return 0;
}

/**
 * vu_mem_reset() - Unmap all of guest memory and the dirty log
 * @m:		Guest memory, left empty
 */
void vu_mem_reset(struct vu_mem *m)
{
	vu_mem_regions_unmap(m->r, VU_MAX_REGIONS);
	vu_mem_log_unmap(m);
	memset(m, 0, sizeof(*m));
}

/* SIGBUS: the front-end shrank a file we mapped */

static const struct vu_mem *vu_mem_sigbus_mem;	/* for vu_mem_sigbus() only */
/* Set by vu_mem_sigbus() */
static volatile sig_atomic_t vu_mem_sigbus_flag;

/**
 * vu_mem_sigbus() - SIGBUS on guest memory: the front-end shrank the file
 * @sig:	SIGBUS
 * @si:		Fault information: the address
 * @uc:		Unused
 *
 * The faulting page is replaced by a private zero page, so the access
 * completes (reads see zeros, writes go nowhere), and the loop resets the
 * session (vu_sigbus_check()).  A SIGBUS anywhere else is ours: the
 * default action takes over, and the fault kills us as it should.
 *
 * #syscalls mmap rt_sigreturn rt_sigaction
 */
static void vu_mem_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr, page = ~(uintptr_t)4095;
	const struct vu_mem *m = vu_mem_sigbus_mem;
	unsigned i;

	(void)uc;
	for (i = 0; m && i < m->nregions && i < VU_MAX_REGIONS; i++) {
		uintptr_t start = (uintptr_t)m->r[i].mmap_addr;

		if (a - start < m->r[i].mmap_size &&
		    mmap((void *)(a & page), 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    MAP_FAILED) {
			vu_mem_sigbus_flag = 1;
			return;
		}
	}
	signal(sig, SIG_DFL);
}

/**
 * vu_mem_sigbus_init() - Catch SIGBUS on guest memory, for the session
 * @m:		Guest memory, for the process' lifetime
 *
 * #syscalls rt_sigaction
 */
void vu_mem_sigbus_init(const struct vu_mem *m)
{
	struct sigaction sa = { .sa_sigaction = vu_mem_sigbus,
				.sa_flags = SA_SIGINFO };

	vu_mem_sigbus_mem = m;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		warn("vhost-user: no SIGBUS handler: %s", strerror(errno));
}

/**
 * vu_mem_sigbus_hit() - Did guest memory shrink under us? Forget it once told
 *
 * Return: true if a SIGBUS on guest memory came since the last call
 */
bool vu_mem_sigbus_hit(void)
{
	if (!vu_mem_sigbus_flag)
		return false;
	vu_mem_sigbus_flag = 0;
	return true;
}
