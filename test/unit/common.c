// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/common.c - fixtures shared by the unit tests
 *
 * DOC: Shared unit-test fixtures
 *
 * Linked into every unit test from test/unit/libunit.a, so a test gets what
 * it calls and nothing else.  __wrap_vu_frame_send() only takes the place of
 * vu_frame_send() in a test that asks for it ("WRAP: vu_frame_send"): it keeps a copy
 * of each frame, which the test then checks byte by byte.  Helpers fail
 * the running test (cmocka assertions) rather than return errors: a typo in
 * an address is a broken test, not a case.
 */

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctx.h"
#include "mig_buf.h"
#include "mig_wire.h"
#include "util.h"
#include "common.h"

struct frame_capture sent_frame;

const uint8_t guest_mac[ETH_ALEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
const uint8_t our_mac[ETH_ALEN] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };
const uint8_t bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
/* The guest's link-local address, from guest_mac (EUI-64) */
const char *guest_ll = "fe80::5054:ff:fe12:3456";

int __wrap_vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t cnt);

/**
 * __wrap_vu_frame_send() - Test double: the frame goes nowhere, we keep a copy
 * @vdev:	Unused
 * @iov:	Frame
 * @cnt:	Entries in @iov
 *
 * Return: frame length, as vu_frame_send() on success
 */
int __wrap_vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t cnt)
{
	(void)vdev;
	assert_true(iov_size(iov, cnt) <= sizeof(sent_frame.b));
	sent_frame.len = iov_to_buf(iov, cnt, 0, sent_frame.b,
				    sizeof(sent_frame.b));
	sent_frame.count++;
	return (int)sent_frame.len;
}

/**
 * unit_ctx_init() - The context the L2 responders see, before addresses
 * @c:		Context to reset: MTU 1500, no epoll, our MAC; capture emptied
 */
void unit_ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->mtu = 1500;
	c->epollfd = -1;
	memcpy(c->our_mac, our_mac, ETH_ALEN);
	sent_frame.len = 0;
	sent_frame.count = 0;
}

/**
 * unit_ctx_ip4() - IPv4 on, the guest at 10.0.2.15/24, gateway 10.0.2.2
 * @c:		Context, from unit_ctx_init()
 */
void unit_ctx_ip4(struct ctx *c)
{
	c->v4 = true;
	c->ip4.addr = a4("10.0.2.15");
	c->ip4.prefix_len = 24;
	c->ip4.gw = a4("10.0.2.2");
}

/**
 * unit_ctx_ip6() - IPv6 on, the guest at 2001:db8::15/64, one resolver
 * @c:		Context, from unit_ctx_init()
 *
 * Gateway 2001:db8::1, our link-local address fe80::1, resolver
 * 2001:db8::53, search domain example.com.
 */
void unit_ctx_ip6(struct ctx *c)
{
	c->v6 = true;
	c->ip6.addr = a6("2001:db8::15");
	c->ip6.prefix_len = 64;
	c->ip6.gw = a6("2001:db8::1");
	c->ip6.our_ll = a6("fe80::1");
	c->ip6.dns[0] = a6("2001:db8::53");
	strcpy(c->dns_search[0], "example.com");
}

/**
 * a4() - Parse an IPv4 address, failing the test on a typo
 * @s:		Dotted quad
 *
 * Return: address, network order
 */
struct in_addr a4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/**
 * a6() - Parse an IPv6 address, failing the test on a typo
 * @s:		Text form
 *
 * Return: address
 */
struct in6_addr a6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/**
 * any4() - Parse an IPv4 address into an inany (IPv4-mapped)
 * @s:		Dotted quad
 *
 * Return: address
 */
union inany_addr any4(const char *s)
{
	union inany_addr a;

	inany_from_v4(&a, a4(s));
	return a;
}

/**
 * any6() - Parse an IPv6 address into an inany
 * @s:		Text form
 *
 * Return: address
 */
union inany_addr any6(const char *s)
{
	union inany_addr a;

	a.a6 = a6(s);
	return a;
}

/**
 * at_guard() - Copy bytes to just before an unmapped page: overreads fault
 * @data:	Bytes
 * @len:	How many, at most a page
 *
 * Return: the copy, ending where the unmapped page begins
 */
const uint8_t *at_guard(const uint8_t *data, size_t len)
{
	static uint8_t *area;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!area) {
		area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(area != MAP_FAILED);
		assert_int_equal(mprotect(area + pg, pg, PROT_NONE), 0);
	}
	assert_true(len <= pg);
	memcpy(area + pg - len, data, len);
	return area + pg - len;
}

/**
 * fd_count() - How many file descriptors the process holds
 *
 * Return: entries of /proc/self/fd, less the one reading it
 */
int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;		/* the directory itself */
}

/**
 * maps_count() - How many memfd mappings the process holds
 *
 * Mappings of memfds only: immune to allocator (and valgrind) noise
 *
 * Return: lines of /proc/self/maps naming a memfd
 */
int maps_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "/memfd:");
	fclose(f);
	return n;
}

/**
 * netns_init() - Our own network namespace, loopback up, ping sockets
 *		  allowed: for tests that open real sockets (needs root)
 */
void netns_init(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET), needs root");
		exit(1);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		perror("loopback up");
		exit(1);
	}
	close(fd);
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0 2147483647", 12) != 12) {
		perror("ping_group_range");
		exit(1);
	}
	close(fd);
}

/**
 * sec_put() - Append a migration stream section with a correct CRC
 * @s:		Stream being built
 * @id:		Section id
 * @p:		Payload
 * @len:	Its length
 */
void sec_put(struct mig_buf *s, uint32_t id, const void *p, size_t len)
{
	struct mig_sec_hdr h = { htonl(id), htonl((uint32_t)len) };
	size_t at = s->len;
	__be32 crc;

	assert_int_equal(mig_buf_put(s, &h, sizeof(h)), 0);
	assert_int_equal(mig_buf_put(s, p, len), 0);
	crc = htonl(crc32c(0, s->p + at, s->len - at));
	assert_int_equal(mig_buf_put(s, &crc, sizeof(crc)), 0);
}
