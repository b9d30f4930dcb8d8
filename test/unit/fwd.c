// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for fwd.c: the sockets of forwarding rules, and how the
 * running kernel shares a forwarded port between two daemons (a migration
 * source and its target on the same host), as tcp_listen.c's DOC block
 * relies on: new connections and datagrams go to the oldest socket of the
 * reuseport group, and to the other one once the oldest leaves.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "fwd.h"
#include "unit/common.h"

#define CONNS	16	/* connections or datagrams per check */

static struct fwd_ports fwd;
static char err[FWD_ERR_LEN];

/* A free loopback port, for both protocols */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* One rule, 127.0.0.1/PORT */
static const struct fwd_rule *rule(uint16_t port)
{
	char spec[32];

	memset(&fwd, 0, sizeof(fwd));
	snprintf(spec, sizeof(spec), "127.0.0.1/%u", port);
	assert_int_equal(fwd_ports_parse(&fwd, spec, err, sizeof(err)), 0);
	return &fwd.rules[0];
}

/* A daemon's listener: bound, listening, with or without the program */
static int listener(const struct fwd_rule *r, uint16_t port, bool prog)
{
	int fd = fwd_sock(r, SOCK_STREAM, AF_INET, true, port);

	assert_true(fd >= 0);
	assert_int_equal(listen(fd, CONNS * 2), 0);
	if (prog)
		assert_int_equal(fwd_reuseport_first(fd), 0);
	return fd;
}

/* Connect CONNS times; return how many the listener @fd got */
static int conns_to(uint16_t port, int fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int c[CONNS], i, n = 0, a;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	for (i = 0; i < CONNS; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(c[i], (struct sockaddr *)&sa,
					 sizeof(sa)), 0);
	}
	while ((a = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		close(a);
		n++;
	}
	for (i = 0; i < CONNS; i++)
		close(c[i]);
	return n;
}

/* Drain the other listener, so that its backlog doesn't fill */
static void drain(int fd)
{
	int a;

	while ((a = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		close(a);
}

/* Source listens, then target: the source gets all, until it stops */
static void test_fwd_reuseport_tcp(void **state)
{
	uint16_t port = free_port();
	const struct fwd_rule *r = rule(port);
	int src, tgt;

	(void)state;
	src = listener(r, port, true);
	tgt = listener(r, port, true);
	assert_int_equal(conns_to(port, src), CONNS);
	drain(tgt);

	/* Hand-over: the source stops listening, the target takes over */
	assert_int_equal(shutdown(src, SHUT_RDWR), 0);
	assert_int_equal(conns_to(port, tgt), CONNS);

	/* Rollback: the source listens again, behind the target... */
	assert_int_equal(listen(src, CONNS * 2), 0);
	assert_int_equal(fwd_reuseport_first(src), 0);
	assert_int_equal(conns_to(port, tgt), CONNS);
	drain(src);

	/* ...until the target goes */
	close(tgt);
	assert_int_equal(conns_to(port, src), CONNS);
	close(src);
}

/* An older source without the program: the target's serves it too */
static void test_fwd_reuseport_tcp_old_source(void **state)
{
	uint16_t port = free_port();
	const struct fwd_rule *r = rule(port);
	int src, tgt;

	(void)state;
	src = listener(r, port, false);
	tgt = listener(r, port, true);
	assert_int_equal(conns_to(port, src), CONNS);
	drain(tgt);
	close(src);
	assert_int_equal(conns_to(port, tgt), CONNS);
	close(tgt);
}

/* Send CONNS datagrams; return how many @fd got */
static int dgrams_to(uint16_t port, int fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM, 0), i, n = 0;
	char buf[8];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	for (i = 0; i < CONNS; i++) {
		/* from other source ports: the hash would spread them */
		close(s);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		assert_int_equal(sendto(s, "x", 1, 0, (struct sockaddr *)&sa,
					sizeof(sa)), 1);
	}
	close(s);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* UDP: the source's socket takes the datagrams until it's closed */
static void test_fwd_reuseport_udp(void **state)
{
	uint16_t port = free_port();
	const struct fwd_rule *r = rule(port);
	char buf[8];
	int src, tgt;

	(void)state;
	src = fwd_sock(r, SOCK_DGRAM, AF_INET, true, port);
	tgt = fwd_sock(r, SOCK_DGRAM, AF_INET, true, port);
	assert_true(src >= 0 && tgt >= 0);
	assert_int_equal(fwd_reuseport_first(src), 0);
	assert_int_equal(fwd_reuseport_first(tgt), 0);
	assert_int_equal(dgrams_to(port, src), CONNS);
	assert_int_equal(recv(tgt, buf, sizeof(buf), MSG_DONTWAIT), -1);
	close(src);
	assert_int_equal(dgrams_to(port, tgt), CONNS);
	close(tgt);
}

/* %DEV: SO_BINDTODEVICE, an unknown interface fails */
static void test_fwd_sock_dev(void **state)
{
	uint16_t port = free_port();
	char spec[32], dev[IFNAMSIZ] = "";
	socklen_t sl = sizeof(dev);
	int fd;

	(void)state;
	memset(&fwd, 0, sizeof(fwd));
	snprintf(spec, sizeof(spec), "%%lo/%u", port);
	assert_int_equal(fwd_ports_parse(&fwd, spec, err, sizeof(err)), 0);
	fd = fwd_sock(&fwd.rules[0], SOCK_STREAM, AF_INET6, false, port);
	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
				    &sl), 0);
	assert_string_equal(dev, "lo");
	close(fd);

	snprintf(spec, sizeof(spec), "%%nosuchif0/%u", port);
	assert_int_equal(fwd_ports_parse(&fwd, spec, err, sizeof(err)), 0);
	assert_int_equal(fwd_sock(&fwd.rules[1], SOCK_STREAM, AF_INET, true,
				  port), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwd_reuseport_tcp),
		cmocka_unit_test(test_fwd_reuseport_tcp_old_source),
		cmocka_unit_test(test_fwd_reuseport_udp),
		cmocka_unit_test(test_fwd_sock_dev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
