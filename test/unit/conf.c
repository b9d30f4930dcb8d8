// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for conf.c (command line, port specs) and netlink.c (host
 * defaults).
 *
 * conf() exits on errors, so error cases run it in a forked child whose
 * stdout and stderr go to pipes; the parent checks the exit status and
 * that stderr holds exactly one line naming the option.  Host defaults are
 * tested in a child moved to a new network namespace (root only: skipped
 * otherwise) that we populate with a veth pair, addresses and routes.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ctx.h"
#include "conf.h"
#include "fwd.h"

#define CHILD_OK	42	/* conf() returned in the child */
#define CHILD_SKIP	77	/* can't set up the test environment */
#define OUT_MAX		3000

static struct ctx c;		/* big: port maps */
static struct fwd_ports fwd;

/* ---------------------------------------------------------------- */
/* Port specs                                                        */
/* ---------------------------------------------------------------- */

static char perr[FWD_ERR_LEN];		/* conf_ports() message */

/* Parse one more option into fwd */
static int more(const char *spec)
{
	perr[0] = '\0';
	return conf_ports(&fwd, spec, perr, sizeof(perr));
}

/* Parse one option into an empty fwd */
static int ports(const char *spec)
{
	memset(&fwd, 0, sizeof(fwd));
	return more(spec);
}

/* Guest port a host port maps to through rule i, 0 if not in it */
static unsigned to(unsigned i, unsigned port)
{
	const struct fwd_rule *r = &fwd.rules[i];

	assert_true(i < fwd.n);
	if (port < r->first || port > r->last)
		return 0;
	return fwd_guest_port(&fwd, FWD_REF(i, port));
}

/* Rule i covers first..last, bound to addr (NULL: any) and dev */
static void assert_rule(unsigned i, unsigned first, unsigned last,
			const char *addr, const char *dev)
{
	const struct fwd_rule *r = &fwd.rules[i];
	union inany_addr a;
	struct in_addr a4;

	assert_true(i < fwd.n);
	assert_int_equal(r->first, first);
	assert_int_equal(r->last, last);
	assert_string_equal(r->ifname, dev ? dev : "");
	if (!addr) {
		assert_int_equal(r->af, AF_UNSPEC);
		return;
	}
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		inany_from_v4(&a, a4);
		assert_int_equal(r->af, AF_INET);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &a.a6), 1);
		assert_int_equal(r->af, AF_INET6);
	}
	assert_memory_equal(&r->addr, &a, sizeof(a));
}

/* Every accepted form, one option at a time */
static void test_conf_ports_forms(void **state)
{
	(void)state;
	assert_int_equal(ports("22"), 0);
	assert_int_equal(fwd.n, 1);
	assert_rule(0, 22, 22, NULL, NULL);
	assert_int_equal(to(0, 22), 22);
	assert_false(fwd.rules[0].weak);

	assert_int_equal(ports("8080:80"), 0);
	assert_int_equal(to(0, 8080), 80);
	assert_int_equal(to(0, 80), 0);

	assert_int_equal(ports("1000-1010:2000-2010"), 0);
	assert_rule(0, 1000, 1010, NULL, NULL);
	assert_int_equal(to(0, 1010), 2010);

	/* a range onto a single start port: same length implied */
	assert_int_equal(ports("1000-1002:5"), 0);
	assert_int_equal(to(0, 1002), 7);
	assert_int_equal(ports("65535:1"), 0);
	assert_int_equal(to(0, 65535), 1);

	assert_int_equal(ports("22,25,80-82"), 0);
	assert_int_equal(fwd.n, 3);
	assert_rule(2, 80, 82, NULL, NULL);
	assert_int_equal(fwd.slots, 5);
	assert_int_equal(fwd.rules[2].slot, 2);

	assert_int_equal(ports("192.0.2.1/22"), 0);
	assert_rule(0, 22, 22, "192.0.2.1", NULL);
	assert_int_equal(ports("2001:db8::1/22"), 0);
	assert_rule(0, 22, 22, "2001:db8::1", NULL);
	assert_int_equal(ports("192.0.2.1%eth0/22"), 0);
	assert_rule(0, 22, 22, "192.0.2.1", "eth0");
	assert_int_equal(ports("%eth0/22"), 0);
	assert_rule(0, 22, 22, NULL, "eth0");
	assert_int_equal(ports("0.0.0.0/22"), 0);
	assert_rule(0, 22, 22, "0.0.0.0", NULL);
}

/* Exclusions split the ranges of their own option */
static void test_conf_ports_excl(void **state)
{
	(void)state;
	assert_int_equal(ports("2000-5000,~3000-3010"), 0);
	assert_int_equal(fwd.n, 2);
	assert_rule(0, 2000, 2999, NULL, NULL);
	assert_rule(1, 3011, 5000, NULL, NULL);
	assert_false(fwd.rules[0].weak);

	/* mapped: the offset holds across the hole */
	assert_int_equal(ports("10000-10010:20000,~10005"), 0);
	assert_int_equal(to(1, 10006), 20006);

	assert_int_equal(ports("192.0.2.1/20-30,~25"), 0);
	assert_rule(0, 20, 24, "192.0.2.1", NULL);
	assert_rule(1, 26, 30, "192.0.2.1", NULL);

	/* exclusions alone: every other port, weak */
	assert_int_equal(ports("~20000-20010"), 0);
	assert_int_equal(fwd.n, 2);
	assert_rule(0, 1, 19999, NULL, NULL);
	assert_rule(1, 20011, 65535, NULL, NULL);
	assert_true(fwd.rules[0].weak && fwd.rules[1].weak);

	/* overlapping and edge exclusions */
	assert_int_equal(ports("1-10,~1-3,~2-5,~10"), 0);
	assert_int_equal(fwd.n, 1);
	assert_rule(0, 6, 9, NULL, NULL);
	assert_int_equal(ports("5,~5"), 0);
	assert_int_equal(fwd.n, 0);
}

static void test_conf_ports_all_none(void **state)
{
	(void)state;
	assert_int_equal(ports("all"), 0);
	assert_int_equal(fwd.n, 1);
	assert_rule(0, 1, 65535, NULL, NULL);
	assert_true(fwd.rules[0].weak);
	assert_int_equal(to(0, 443), 443);

	assert_int_equal(ports("all,~22"), 0);
	assert_int_equal(fwd.n, 2);
	assert_rule(1, 23, 65535, NULL, NULL);

	assert_int_equal(ports("2001:db8::1%eth0/all"), 0);
	assert_rule(0, 1, 65535, "2001:db8::1", "eth0");

	assert_int_equal(ports("none"), 0);
	assert_int_equal(fwd.n, 0);
	assert_int_equal(more("22"), 0);
	assert_int_equal(more("none"), -EINVAL);
	assert_non_null(strstr(perr, "'none'"));
}

/* libvirt: one option per <portForward>, each with its own address */
static void test_conf_ports_libvirt(void **state)
{
	(void)state;
	assert_int_equal(ports("127.0.0.1/2222:22"), 0);
	assert_int_equal(more("fd00::2%eth0/18080,14433:3444"), 0);
	assert_int_equal(fwd.n, 3);
	assert_rule(0, 2222, 2222, "127.0.0.1", NULL);
	assert_int_equal(to(0, 2222), 22);
	assert_rule(1, 18080, 18080, "fd00::2", "eth0");
	assert_int_equal(to(1, 18080), 18080);
	assert_rule(2, 14433, 14433, "fd00::2", "eth0");
	assert_int_equal(to(2, 14433), 3444);
	assert_int_equal(fwd.rules[0].opt, 1);
	assert_int_equal(fwd.rules[2].opt, 2);

	/* one without an address doesn't take another's */
	assert_int_equal(more("8080"), 0);
	assert_rule(3, 8080, 8080, NULL, NULL);

	/* same port, other addresses or interfaces: one socket each */
	assert_int_equal(ports("192.0.2.1/80"), 0);
	assert_int_equal(more("192.0.2.2/80"), 0);
	assert_int_equal(more("2001:db8::1/80"), 0);
	assert_int_equal(more("127.0.0.1/80"), 0);
	assert_int_equal(more("80"), 0);
	assert_int_equal(more("%eth0/80"), 0);
	assert_int_equal(more("192.0.2.1%eth0/80"), 0);
	assert_int_equal(fwd.n, 7);
}

/* The same address, interface and port twice */
static void test_conf_ports_conflict(void **state)
{
	static const char *const twice[][2] = {
		{ "22", "22" },
		{ "22", "20-30" },
		{ "22", "all" },
		{ "22", "~80" },
		{ "all", "22" },
		{ "22", "0.0.0.0/22" },
		{ "::/22", "22" },
		{ "127.0.0.1/2222:22", "127.0.0.1/2222:23" },
		{ "fd00::2%eth0/18080", "fd00::2%eth0/18000-18100" },
		{ "%eth0/22", "%eth0/22" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(twice); i++) {
		assert_int_equal(ports(twice[i][0]), 0);
		if (more(twice[i][1]) != -EEXIST)
			fail_msg("'%s' then '%s' accepted", twice[i][0],
				 twice[i][1]);
		assert_non_null(strstr(perr, "already forwarded"));
	}

	assert_int_equal(ports("22,22"), -EEXIST);
	assert_string_equal(perr, "port 22 given twice");
	assert_int_equal(ports("20-30,25:80"), -EEXIST);
	assert_string_equal(perr, "port 25 given twice");
	assert_int_equal(ports("20-30"), 0);
	assert_int_equal(more("10-25"), -EEXIST);
	assert_string_equal(perr, "port 20 already forwarded on this address "
				 "by an earlier option");
}

static void test_conf_ports_invalid(void **state)
{
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
		{ "", "empty item" },
		{ "0", "malformed item, or a port not from 1 to 65535" },
		{ "65536", "malformed item, or a port not from 1 to 65535" },
		{ "99999999999", "malformed item, or a port not from" },
		{ "10-5", "malformed item" }, { "0-10", "malformed item" },
		{ "1000-1010:2000-2005", "host and guest ranges of different" },
		{ "65530-65535:65531", "host and guest ranges of different" },
		{ "1:2-3", "host and guest ranges" },
		{ "abc", "malformed" }, { "22,", "empty item" },
		{ ",22", "empty item" }, { "22,,23", "empty item" },
		{ "22:", "malformed" }, { "22-", "malformed" },
		{ "-22", "malformed" }, { "~", "malformed" },
		{ "~22:80", "malformed" }, { "22:0", "malformed" },
		{ "1.2.3/22", "not an IPv4 or IPv6 address" },
		{ "fd00::2%eth0%eth1/22", "empty or too long interface" },
		{ "localhost/22", "not an IPv4 or IPv6 address" },
		{ "/22", "malformed address" }, { "22 ", "malformed" },
		{ " 22", "malformed" }, { "+22", "malformed" },
		{ "22x", "malformed" }, { "0x16", "malformed" },
		{ "2001:db8::1%/22", "empty or too long interface name" },
		{ "%waytoolonginterfacename/22", "empty or too long" },
		{ "all,22", "'all' mixed with explicit ports" },
		{ "all,all", "malformed" }, { "none,22", "malformed" },
		{ "192.0.2.1/none", "malformed" },
		{ "22/", "not an IPv4 or IPv6 address" },
		{ "192.0.2.1/", "empty item" },
		{ "1-2-3", "malformed" }, { "~~22", "malformed" },
		{ "192.0.2.1/22/23", "malformed" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (ports(bad[i].spec) != -EINVAL)
			fail_msg("spec '%s' accepted", bad[i].spec);
		if (strncmp(perr, bad[i].why, strlen(bad[i].why)))
			fail_msg("spec '%s': '%s'", bad[i].spec, perr);
	}
}

/* Rules and sockets are bounded, and say so */
static void test_conf_ports_full(void **state)
{
	char spec[16];
	unsigned i;

	(void)state;
	memset(&fwd, 0, sizeof(fwd));
	for (i = 0; i < FWD_RULES_MAX; i++) {
		snprintf(spec, sizeof(spec), "%u", 1000 + i);
		assert_int_equal(more(spec), 0);
	}
	assert_int_equal(more("80"), -ENOSPC);
	assert_string_equal(perr, "too many forwarded ports or ranges");

	assert_int_equal(ports("all"), 0);
	assert_int_equal(more("127.0.0.1/all"), 0);
	assert_int_equal(more("127.0.0.2/1-10"), -ENOSPC);
}

/* ---------------------------------------------------------------- */
/* conf() in a child                                                 */
/* ---------------------------------------------------------------- */

struct child {
	int status;		/* exit status, or -1 if signalled */
	char out[OUT_MAX];	/* stdout */
	char err[OUT_MAX];	/* stderr */
};

static void read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	buf[n] = '\0';
}

typedef void (*child_fn)(char **argv, int argc);

static void child_conf(char **argv, int argc)
{
	conf(&c, argc, argv);
}

/* Run conf() (or @fn) on a NULL-terminated vector in a child */
static void run(struct child *r, child_fn fn, char **argv)
{
	int out[2], err[2], argc = 0, st;
	pid_t pid;

	while (argv[argc])
		argc++;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(err[0]);
		close(out[1]);
		close(err[1]);
		fn(argv, argc);
		fflush(NULL);
		_exit(CHILD_OK);
	}
	close(out[1]);
	close(err[1]);
	read_all(err[0], r->err, sizeof(r->err));	/* small: no deadlock */
	read_all(out[0], r->out, sizeof(r->out));
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define ARGV(...)	((char *[]){ "passt", __VA_ARGS__, NULL })

/* Expect exit 1 with one stderr line "passt: ..." containing @what */
static void expect_fail(char **argv, const char *what)
{
	struct child r;
	char *nl;

	run(&r, child_conf, argv);
	if (r.status != 1)
		fail_msg("%s ...: exit %d, stderr '%s'", argv[1], r.status,
			 r.err);
	nl = strchr(r.err, '\n');
	if (strncmp(r.err, "passt: ", 7) || !nl || nl[1])
		fail_msg("not one 'passt: ' line: '%s'", r.err);
	if (!strstr(r.err, what))
		fail_msg("'%s' doesn't name '%s'", r.err, what);
}

static void test_conf_no_vhost_user(void **state)
{
	(void)state;
	expect_fail(ARGV("-f"), "only --vhost-user mode is supported");
}

static void test_conf_bad_options(void **state)
{
	(void)state;
	expect_fail(ARGV("--vhost-user", "-m", "abc"), "'abc' for -m");
	expect_fail(ARGV("--vhost-user", "--mtu", "0"), "--mtu");
	expect_fail(ARGV("--vhost-user", "-m", "575"), "-m");
	expect_fail(ARGV("--vhost-user", "-m", "65521"), "-m");
	expect_fail(ARGV("--vhost-user", "-m", "-1500"), "-m");
	expect_fail(ARGV("--vhost-user", "--bogus"), "--bogus");
	expect_fail(ARGV("--vhost-user", "-x"), "-x");
	expect_fail(ARGV("--vhost-user", "-fxq"), "invalid option '-x'");
	expect_fail(ARGV("--vhost-user=1"), "'--vhost-user' doesn't allow");
	expect_fail(ARGV("--vhost-user", "-fm"), "'-m' requires");
	expect_fail(ARGV("--vhost-user", "-m"), "-m");
	expect_fail(ARGV("--vhost-user", "--socket"), "--socket");
	expect_fail(ARGV("--vhost-user", "stray"), "stray");
	expect_fail(ARGV("--vhost-user", "-a", "300.1.1.1"), "-a");
	expect_fail(ARGV("--vhost-user", "-a", "127.0.0.1"), "-a");
	expect_fail(ARGV("--vhost-user", "-a", "10.0.0.1/33"), "-a");
	expect_fail(ARGV("--vhost-user", "-n", "255.0.255.0"), "-n");
	expect_fail(ARGV("--vhost-user", "--netmask", "33"), "--netmask");
	expect_fail(ARGV("--vhost-user", "-g", "::"), "-g");
	expect_fail(ARGV("--vhost-user", "-g", "nope"), "-g");
	expect_fail(ARGV("--vhost-user", "-M", "01:00:5e:00:00:01"), "-M");
	expect_fail(ARGV("--vhost-user", "-M", "52:54:00:12:34"), "-M");
	expect_fail(ARGV("--vhost-user", "-M", "52:54:00:12:34:5g"), "-M");
	expect_fail(ARGV("--vhost-user", "-M", " 2:54:00:12:34:56"), "-M");
	expect_fail(ARGV("--vhost-user", "-D", "bad"), "-D");
	expect_fail(ARGV("--vhost-user", "-S", "a b c d e"), "-S");
	expect_fail(ARGV("--vhost-user", "--fd", "abc"), "--fd");
	expect_fail(ARGV("--vhost-user", "--fd", "1000"), "--fd");
	expect_fail(ARGV("--vhost-user", "-t", "0"), "-t");
	expect_fail(ARGV("--vhost-user", "--udp-ports", "70000"),
		    "--udp-ports");
	expect_fail(ARGV("--vhost-user", "--log-size", "100"), "--log-size");
	expect_fail(ARGV("--vhost-user", "-P", ""), "-P");
	expect_fail(ARGV("--vhost-user", "--runas", ""), "--runas");
	expect_fail(ARGV("--vhost-user", "-i", "nosuchif0"), "-i");
	expect_fail(ARGV("--vhost-user", "-H",
			 "a-hostname-that-is-longer-than-sixty-four-bytes-"
			 "which-is-too-long"), "-H");
	expect_fail(ARGV("--vhost-user", "-s",
			 "/tmp/a/socket/path/that/is/far/too/long/for/the/"
			 "sun_path/field/of/a/sockaddr_un/structure/it/has/"
			 "room/for/one/hundred/and/seven/bytes/x.sock"),
		    "-s");
}

static void test_conf_repeats_conflicts(void **state)
{
	(void)state;
	expect_fail(ARGV("--vhost-user", "-m", "1500", "--mtu", "1500"),
		    "--mtu given more than once");
	expect_fail(ARGV("--vhost-user", "-s", "/tmp/a", "--socket-path",
			 "/tmp/b"), "--socket-path");
	expect_fail(ARGV("--vhost-user", "--vhost-user"), "--vhost-user");
	expect_fail(ARGV("--vhost-user", "-a", "10.0.0.1", "-a", "10.0.0.2"),
		    "-a");
	expect_fail(ARGV("--vhost-user", "-g", "10.0.0.1", "-g", "10.0.0.2"),
		    "-g");
	expect_fail(ARGV("--vhost-user", "-D", "1.2.3.4", "-D", "none"),
		    "-D");
	expect_fail(ARGV("--vhost-user", "-D", "1.1.1.1", "-D", "1.1.1.2",
			 "-D", "1.1.1.3", "-D", "1.1.1.4", "-D", "1.1.1.5"),
		    "-D");
	expect_fail(ARGV("--vhost-user", "-t", "none", "-t", "22"), "-t");
	expect_fail(ARGV("--vhost-user", "-t", "22", "-t", "22"), "-t");
	expect_fail(ARGV("--vhost-user", "-t", "127.0.0.1/2222:22", "-t",
			 "127.0.0.1/2222"),
		    "invalid port specification '127.0.0.1/2222' for -t: port "
		    "2222 already forwarded on this address by an earlier "
		    "option");
	expect_fail(ARGV("--vhost-user", "--udp-ports", "1.2.3/53"),
		    "invalid port specification '1.2.3/53' for --udp-ports: "
		    "not an IPv4 or IPv6 address");
	expect_fail(ARGV("--vhost-user", "-4", "-6"), "-4");
	expect_fail(ARGV("--vhost-user", "-q", "-d"), "--quiet");
	expect_fail(ARGV("--vhost-user", "-6", "-a", "10.0.0.2"), "-6");
}

static void test_conf_exit_early(void **state)
{
	struct child r;

	(void)state;
	run(&r, child_conf, ARGV("--print-capabilities"));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "{\n  \"type\": \"net\"\n}\n");
	assert_string_equal(r.err, "");

	run(&r, child_conf, ARGV("--help"));
	assert_int_equal(r.status, 0);
	assert_true(!strncmp(r.out, "Usage: passt", 12));
	assert_non_null(strstr(r.out, "--vhost-user"));
	assert_non_null(strstr(r.out, "--repair-path"));

	run(&r, child_conf, ARGV("--version"));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, VERSION));
}

static void test_conf_fd(void **state)
{
	struct child r;
	char arg[16];
	int sv[2], pfd[2];

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	snprintf(arg, sizeof(arg), "%d", pfd[0]);
	expect_fail(ARGV("--vhost-user", "--fd", arg), "not a socket");
	close(pfd[0]);
	close(pfd[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snprintf(arg, sizeof(arg), "%d", sv[0]);
	run(&r, child_conf, ARGV("--vhost-user", "--fd", arg, "-a",
				 "10.0.0.2/24", "-g", "10.0.0.1", "-4",
				 "-D", "none", "-S", "none"));
	assert_int_equal(r.status, CHILD_OK);
	expect_fail(ARGV("--vhost-user", "--fd", arg, "-s", "/tmp/x"),
		    "--fd and --socket");
	close(sv[0]);
	close(sv[1]);
}

/* Run conf() in this process on a NULL-terminated vector */
static void conf_v(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	conf(&c, argc, argv);
}

/* All given on the command line: no host lookups, deterministic */
static void test_conf_full(void **state)
{
	struct in6_addr a6;
	struct in_addr a4;

	(void)state;
	conf_v(ARGV("--vhost-user", "-s", "/tmp/test.sock", "-f", "-1",
			  "-P", "/tmp/p.pid", "-q", "-l", "/tmp/p.log",
			  "--log-size", "100000", "-m", "1500",
			  "-a", "10.0.0.2", "-n", "255.255.240.0",
			  "-a", "2001:db8::2/56", "-g", "10.0.0.1",
			  "-g", "fe80::1:1", "-M", "52:54:00:AB:cd:56",
			  "-D", "10.0.0.53", "-D", "2001:db8::53",
			  "-S", "a.example, b.example", "-H", "guest",
			  "--fqdn", "guest.example", "-t", "22,8080:80",
			  "-u", "~53", "-i", "lo"));
	assert_true(c.mode_vu && c.foreground && c.one_off && c.quiet);
	assert_false(c.debug);
	assert_string_equal(c.sock_path, "/tmp/test.sock");
	assert_int_equal(c.fd_conn, -1);
	assert_string_equal(c.pid_file, "/tmp/p.pid");
	assert_string_equal(c.log_file, "/tmp/p.log");
	assert_int_equal(c.log_size, 100000);
	assert_int_equal(c.mtu, 1500);
	assert_true(c.v4 && c.v6);

	inet_pton(AF_INET, "10.0.0.2", &a4);
	assert_int_equal(c.ip4.addr.s_addr, a4.s_addr);
	assert_int_equal(c.ip4.addr_seen.s_addr, a4.s_addr);
	assert_int_equal(c.ip4.prefix_len, 20);
	inet_pton(AF_INET, "10.0.0.1", &a4);
	assert_int_equal(c.ip4.gw.s_addr, a4.s_addr);
	inet_pton(AF_INET, "10.0.0.53", &a4);
	assert_int_equal(c.ip4.dns[0].s_addr, a4.s_addr);
	assert_int_equal(c.ip4.dns[1].s_addr, 0);

	inet_pton(AF_INET6, "2001:db8::2", &a6);
	assert_memory_equal(&c.ip6.addr, &a6, 16);
	assert_int_equal(c.ip6.prefix_len, 56);
	inet_pton(AF_INET6, "fe80::1:1", &a6);
	assert_memory_equal(&c.ip6.gw, &a6, 16);
	inet_pton(AF_INET6, "2001:db8::53", &a6);
	assert_memory_equal(&c.ip6.dns[0], &a6, 16);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&c.ip6.dns[1]));
	inet_pton(AF_INET6, "fe80::1", &a6);
	assert_memory_equal(&c.ip6.our_ll, &a6, 16);

	assert_true(c.guest_mac_set);
	assert_memory_equal(c.guest_mac, "\x52\x54\x00\xab\xcd\x56", 6);
	assert_int_equal(c.our_mac[0] & 3, 2);	/* local, unicast */

	assert_string_equal(c.dns_search[0], "a.example");
	assert_string_equal(c.dns_search[1], "b.example");
	assert_string_equal(c.dns_search[2], "");
	assert_string_equal(c.hostname, "guest");
	assert_string_equal(c.fqdn, "guest.example");
	assert_string_equal(c.ifname, "lo");
	assert_int_equal(c.ifi4, if_nametoindex("lo"));

	fwd = c.tcp;
	assert_int_equal(fwd.n, 2);
	assert_int_equal(to(0, 22), 22);
	assert_int_equal(to(1, 8080), 80);
	fwd = c.udp;
	assert_int_equal(fwd.n, 2);
	assert_rule(0, 1, 52, NULL, NULL);
	assert_rule(1, 54, 65535, NULL, NULL);
}

/* Defaults, and conf() starting from a dirty context */
static void test_conf_defaults(void **state)
{
	unsigned n;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	conf_v(ARGV("--vhost-user", "-4", "-a", "10.0.0.2/24", "-g",
			 "10.0.0.1", "-D", "none", "-S", "none"));
	assert_true(sscanf(c.sock_path, "/tmp/passt_%u.socket", &n) == 1);
	assert_true(n >= 1 && n <= 64);
	assert_true(!strncmp(c.repair_path, c.sock_path, strlen(c.sock_path)));
	assert_string_equal(c.repair_path + strlen(c.sock_path), ".repair");
	assert_int_equal(c.repair_listen_fd, -1);
	assert_int_equal(c.repair_fd, -1);
	assert_int_equal(c.mtu, MTU_DEFAULT);
	assert_false(c.guest_mac_set);
	assert_memory_equal(c.guest_mac, "\xff\xff\xff\xff\xff\xff", 6);
	assert_true(c.v4);
	assert_false(c.v6);
	assert_false(c.foreground || c.one_off || c.debug || c.quiet);
	assert_int_equal(c.fd_conn, -1);
	assert_string_equal(c.pid_file, "");
	assert_string_equal(c.dns_search[0], "");
	assert_int_equal(c.ip4.dns[0].s_addr, 0);
	assert_int_equal(c.tcp.n, 0);
	assert_int_equal(c.udp.n, 0);
}

#define ARGV_FIXED(...)							\
	ARGV("--vhost-user", "-4", "-a", "10.0.0.2/24", "-g", "10.0.0.1",	\
	     "-D", "none", "-S", "none", __VA_ARGS__)

/* libvirt's options, as it writes them: one rule set each, own address */
static void test_conf_libvirt_ports(void **state)
{
	(void)state;
	conf_v(ARGV_FIXED("--tcp-ports", "127.0.0.1/2222:22", "--tcp-ports",
			  "fd00::2%eth0/18080,14433:3444", "--udp-ports",
			  "192.0.2.1/5353", "-t", "10000-10010,~10005"));
	fwd = c.tcp;
	assert_int_equal(fwd.n, 5);
	assert_rule(0, 2222, 2222, "127.0.0.1", NULL);
	assert_int_equal(to(0, 2222), 22);
	assert_rule(2, 14433, 14433, "fd00::2", "eth0");
	assert_int_equal(to(2, 14433), 3444);
	assert_rule(3, 10000, 10004, NULL, NULL);
	assert_rule(4, 10006, 10010, NULL, NULL);
	fwd = c.udp;
	assert_int_equal(fwd.n, 1);
	assert_rule(0, 5353, 5353, "192.0.2.1", NULL);
}

/* --repair-path: default from the socket path, explicit, none with --fd */
static void test_conf_repair_path(void **state)
{
	char arg[16], sock[104], path[109];
	int sv[2];

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	conf_v(ARGV_FIXED("-s", "/tmp/test.sock"));
	assert_string_equal(c.repair_path, "/tmp/test.sock.repair");
	assert_int_equal(c.repair_listen_fd, -1);
	assert_int_equal(c.repair_fd, -1);

	conf_v(ARGV_FIXED("-s", "/tmp/test.sock", "--repair-path", "/tmp/r"));
	assert_string_equal(c.sock_path, "/tmp/test.sock");
	assert_string_equal(c.repair_path, "/tmp/r");

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snprintf(arg, sizeof(arg), "%d", sv[0]);
	conf_v(ARGV_FIXED("--fd", arg));
	assert_string_equal(c.repair_path, "");
	conf_v(ARGV_FIXED("--fd", arg, "--repair-path", "/tmp/r"));
	assert_string_equal(c.repair_path, "/tmp/r");
	close(sv[0]);
	close(sv[1]);

	/* 103 bytes: fits sun_path, but not with ".repair" appended */
	memset(sock, 'x', sizeof(sock) - 1);
	memcpy(sock, "/tmp/", 5);
	sock[sizeof(sock) - 1] = '\0';
	expect_fail(ARGV_FIXED("-s", sock), "--repair-path");
	conf_v(ARGV_FIXED("-s", sock, "--repair-path", "/tmp/r"));
	assert_string_equal(c.repair_path, "/tmp/r");

	memset(path, 'y', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	expect_fail(ARGV_FIXED("--repair-path", path), "--repair-path");
	expect_fail(ARGV_FIXED("--repair-path", ""), "--repair-path");
	expect_fail(ARGV_FIXED("--repair-path", "/a", "--repair-path", "/b"),
		    "--repair-path given more than once");
	expect_fail(ARGV("--vhost-user", "--repair-path"), "--repair-path");
}

/* ---------------------------------------------------------------- */
/* Host defaults in a private network namespace                      */
/* ---------------------------------------------------------------- */

static const char netns_setup[] =
	"ip link add v0 type veth peer name v1 && "
	"ip link set v0 up && ip link set v1 up && "
	"ip addr add 192.0.2.10/26 dev v0 && "
	"ip route add default via 192.0.2.1 && "
	"ip -6 addr add fe80::10/64 dev v0 nodad && "
	"ip -6 addr add 2001:db8:1::10/60 dev v0 nodad && "
	"ip -6 route add default via fe80::1 dev v0";

/* Child: enter a fresh netns; optionally set it up; run conf() */
static void child_netns(char **argv, int argc, bool setup)
{
	char buf[INET6_ADDRSTRLEN];

	if (unshare(CLONE_NEWNET))
		_exit(CHILD_SKIP);
	if (setup && system(netns_setup))
		_exit(CHILD_SKIP);
	conf(&c, argc, argv);
	/* report what conf() found on stdout, one field a line */
	printf("%s/%d\n", inet_ntop(AF_INET, &c.ip4.addr, buf, sizeof(buf)),
	       c.ip4.prefix_len);
	printf("%s\n", inet_ntop(AF_INET, &c.ip4.gw, buf, sizeof(buf)));
	printf("%s/%d\n", inet_ntop(AF_INET6, &c.ip6.addr, buf, sizeof(buf)),
	       c.ip6.prefix_len);
	printf("%s\n", inet_ntop(AF_INET6, &c.ip6.gw, buf, sizeof(buf)));
	printf("v4 %d v6 %d ifi4 %d\n", c.v4, c.v6,
	       c.ifi4 == if_nametoindex("v0"));
}

static void child_netns_empty(char **argv, int argc)
{
	child_netns(argv, argc, false);
}

static void child_netns_veth(char **argv, int argc)
{
	child_netns(argv, argc, true);
}

static void test_conf_host_none(void **state)
{
	struct child r;

	(void)state;
	run(&r, child_netns_empty, ARGV("--vhost-user", "-D", "none"));
	if (r.status == CHILD_SKIP)
		skip();
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "No usable IPv4 or IPv6"));

	/* IPv4 given, IPv6 unavailable: disabled, not fatal */
	run(&r, child_netns_empty, ARGV("--vhost-user", "-a", "10.0.0.2",
					"-D", "none"));
	assert_int_equal(r.status, CHILD_OK);
	assert_non_null(strstr(r.err, "IPv6: no default route"));
	assert_non_null(strstr(r.out, "10.0.0.2/24\n"));
	assert_non_null(strstr(r.out, "v4 1 v6 0"));
}

static void test_conf_host_defaults(void **state)
{
	struct child r;

	(void)state;
	run(&r, child_netns_veth, ARGV("--vhost-user", "-D", "none"));
	if (r.status == CHILD_SKIP)
		skip();
	if (r.status != CHILD_OK)
		fail_msg("exit %d: %s", r.status, r.err);
	assert_string_equal(r.out, "192.0.2.10/26\n192.0.2.1\n"
				   "2001:db8:1::10/60\nfe80::1\n"
				   "v4 1 v6 1 ifi4 1\n");

	/* -a overrides the address, the prefix still comes from the host */
	run(&r, child_netns_veth, ARGV("--vhost-user", "-a", "192.0.2.20",
				       "-g", "192.0.2.2", "-4"));
	assert_int_equal(r.status, CHILD_OK);
	assert_non_null(strstr(r.out, "192.0.2.20/26\n192.0.2.2\n"));
	assert_non_null(strstr(r.out, "v4 1 v6 0 ifi4 1"));

	/* -i with no default route on that interface */
	run(&r, child_netns_veth, ARGV("--vhost-user", "-i", "v1"));
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no default route on the given"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_ports_forms),
		cmocka_unit_test(test_conf_ports_excl),
		cmocka_unit_test(test_conf_ports_all_none),
		cmocka_unit_test(test_conf_ports_libvirt),
		cmocka_unit_test(test_conf_ports_conflict),
		cmocka_unit_test(test_conf_ports_invalid),
		cmocka_unit_test(test_conf_ports_full),
		cmocka_unit_test(test_conf_libvirt_ports),
		cmocka_unit_test(test_conf_no_vhost_user),
		cmocka_unit_test(test_conf_bad_options),
		cmocka_unit_test(test_conf_repeats_conflicts),
		cmocka_unit_test(test_conf_exit_early),
		cmocka_unit_test(test_conf_fd),
		cmocka_unit_test(test_conf_full),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_repair_path),
		cmocka_unit_test(test_conf_host_none),
		cmocka_unit_test(test_conf_host_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
