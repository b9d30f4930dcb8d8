// SPDX-License-Identifier: GPL-2.0-or-later
/* conf.c - Command line and host-derived defaults
 *
 * DOC: Theory of operation
 *
 * conf() runs once, before anything else: it parses the command line with
 * getopt_long() into struct ctx, then fills whatever was not given from the
 * host (netlink.c: default route, interface address) and /etc/resolv.conf,
 * and logs a summary.  The option names follow upstream passt's, so that
 * launchers (libvirt, scripts) can start us unchanged; of its modes we only
 * implement vhost-user, so --vhost-user is required.
 *
 * Bad input: every malformed, unknown, missing or repeated (where that
 * makes no sense) option argument ends the process with exit status 1 and
 * exactly one line on standard error, "passt: <problem>", naming the
 * option as it was typed.  Nothing is half-applied, since we exit.
 *
 * Port specifications (-t, -u) are parsed into forwarding rules by
 * fwd_ports_parse() in fwd.c, see doc/passt.1 for their syntax.
 * Forwarding itself is tcp.c's and udp.c's business.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "conf.h"
#include "fwd.h"
#include "netlink.h"

#define LOG_SIZE_DEFAULT	1048576		/* bytes, 1 MiB */
#define LOG_SIZE_MIN		65536		/* bytes, 64 KiB */
#define SOCK_DEFAULT_FMT	"/tmp/passt_%u.socket"
#define SOCK_DEFAULT_MAX	64
#define RESOLV_CONF		"/etc/resolv.conf"

/* Locally administered (bit 1 of the first byte), unicast (bit 0 clear) */
static const uint8_t conf_our_mac[ETH_ALEN] = {
	0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55
};
static_assert((0x9a & 0x03) == 0x02, "our MAC: local, unicast");

/* Long-only options: values past any character */
enum {
	OPT_VHOST_USER = 256, OPT_SOCKET_PATH, OPT_TRACE, OPT_LOG_SIZE,
	OPT_FQDN, OPT_PRINT_CAPS, OPT_VERSION, OPT_RUNAS, OPT_STDERR,
	OPT_REPAIR_PATH, OPT_STATE_COPY, OPT_COUNT
};

/* "+": no permutation, so each call looks at argv[optind] as it was before */
static const char conf_shortopts[] = "+:s:F:1fP:dql:p:m:a:n:g:M:D:S:H:i:46t:u:h";

static const struct option conf_longopts[] = {
	{ "vhost-user",		no_argument,		NULL, OPT_VHOST_USER },
	{ "socket",		required_argument,	NULL, 's' },
	{ "socket-path",	required_argument,	NULL, OPT_SOCKET_PATH },
	{ "fd",			required_argument,	NULL, 'F' },
	{ "repair-path",	required_argument,	NULL, OPT_REPAIR_PATH },
	{ "state-copy",		required_argument,	NULL, OPT_STATE_COPY },
	{ "one-off",		no_argument,		NULL, '1' },
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "pid",		required_argument,	NULL, 'P' },
	{ "debug",		no_argument,		NULL, 'd' },
	{ "trace",		no_argument,		NULL, OPT_TRACE },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "log-file",		required_argument,	NULL, 'l' },
	{ "log-size",		required_argument,	NULL, OPT_LOG_SIZE },
	{ "pcap",		required_argument,	NULL, 'p' },
	{ "mtu",		required_argument,	NULL, 'm' },
	{ "address",		required_argument,	NULL, 'a' },
	{ "netmask",		required_argument,	NULL, 'n' },
	{ "gateway",		required_argument,	NULL, 'g' },
	{ "mac-addr",		required_argument,	NULL, 'M' },
	{ "dns",		required_argument,	NULL, 'D' },
	{ "search",		required_argument,	NULL, 'S' },
	{ "hostname",		required_argument,	NULL, 'H' },
	{ "fqdn",		required_argument,	NULL, OPT_FQDN },
	{ "interface",		required_argument,	NULL, 'i' },
	{ "ipv4-only",		no_argument,		NULL, '4' },
	{ "ipv6-only",		no_argument,		NULL, '6' },
	{ "tcp-ports",		required_argument,	NULL, 't' },
	{ "udp-ports",		required_argument,	NULL, 'u' },
	{ "print-capabilities",	no_argument,		NULL, OPT_PRINT_CAPS },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "runas",		required_argument,	NULL, OPT_RUNAS },
	{ "stderr",		no_argument,		NULL, OPT_STDERR },
	{ NULL, 0, NULL, 0 },
};

/**
 * struct conf_args - What the command line gave, beyond struct ctx itself
 * @seen:	Times each option (by getopt value) was given
 * @addr4, @addr6: -a given for IPv4, IPv6
 * @gw4, @gw6:	-g given for IPv4, IPv6
 * @plen4:	IPv4 prefix length given (-n or -a ADDR/LEN)
 * @plen6:	IPv6 prefix length given (-a ADDR/LEN)
 * @ndns4, @ndns6: -D servers given per family
 * @dns_none:	-D none
 * @ports_none:	-t none, -u none given (index 0: TCP, 1: UDP)
 * @ifi:	Interface index for -i, 0 if not given
 */
struct conf_args {
	uint8_t seen[OPT_COUNT];
	bool addr4, addr6, gw4, gw6, plen4, plen6;
	int ndns4, ndns6;
	bool dns_none;
	bool ports_none[2];
	unsigned ifi;
};

/**
 * conf_fail() - Report a command line error on one line and exit 1
 * @fmt:	printf() format, without "passt: " and newline
 */
static NORETURN PRINTF(1, 2) void conf_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("passt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/**
 * conf_usage() - Print usage to a stream
 * @f:		stdout (--help) or stderr
 */
static void conf_usage(FILE *f)
{
	fputs("Usage: passt --vhost-user [OPTION]...\n"
	      "  --vhost-user		vhost-user back-end (required)\n"
	      "  -s, --socket PATH	UNIX socket to listen on\n"
	      "	  default: /tmp/passt_N.socket, first free N in 1..64\n"
	      "  --socket-path PATH	same as --socket\n"
	      "  -F, --fd N		use connected vhost-user socket N\n"
	      "  --repair-path PATH	UNIX socket for passt-repair (migration)\n"
	      "	  default: socket path + .repair, none with --fd\n"
	      "  --state-copy DIR	save a copy of each migration state stream\n"
	      "  -1, --one-off		exit when the front-end disconnects\n"
	      "  -f, --foreground	don't run in background\n"
	      "  -P, --pid FILE	write our PID to FILE\n"
	      "  -d, --debug		debug messages; --trace: more\n"
	      "  -q, --quiet		warnings and errors only\n"
	      "  -l, --log-file PATH	log to file; --log-size SIZE, bytes\n"
	      "  -p, --pcap FILE	capture guest frames to FILE (pcap)\n"
	      "  -m, --mtu N		MTU for the guest, 576 to 65520\n"
	      "  -a, --address ADDR[/LEN]	guest IPv4 or IPv6 address\n"
	      "  -n, --netmask MASK	IPv4 netmask or prefix length\n"
	      "  -g, --gateway ADDR	gateway IPv4 or IPv6 address\n"
	      "  -M, --mac-addr MAC	guest MAC address\n"
	      "  -D, --dns ADDR	DNS server for the guest, or 'none'\n"
	      "  -S, --search LIST	DNS search domains, or 'none'\n"
	      "  -H, --hostname NAME	hostname for DHCP; --fqdn NAME\n"
	      "  -i, --interface NAME	host interface for the defaults\n"
	      "  -4, --ipv4-only; -6, --ipv6-only\n"
	      "  -t, --tcp-ports SPEC	TCP ports to forward, may be repeated:\n"
	      "			  none, or [ADDR[%DEV]/]ITEM[,ITEM]...\n"
	      "			  ITEM: all, PORT[-PORT][:PORT[-PORT]]\n"
	      "			  (host:guest), ~PORT[-PORT] (exclude)\n"
	      "			  e.g. -t 127.0.0.1/2222:22 -t 8000-8010,~8005\n"
	      "  -u, --udp-ports SPEC	UDP ports to forward, same SPEC\n"
	      "  --print-capabilities	vhost-user back-end capabilities\n"
	      "  -h, --help; --version\n", f);
}

/**
 * conf_optname() - Name of the current option as typed
 * @opt:	getopt_long() return value
 * @longidx:	Index into conf_longopts, or -1 for a short option
 *
 * Return: "-m" or "--mtu", in a static buffer
 */
static const char *conf_optname(int opt, int longidx)
{
	static char buf[32];

	if (longidx >= 0)
		snprintf(buf, sizeof(buf), "--%s", conf_longopts[longidx].name);
	else
		snprintf(buf, sizeof(buf), "-%c", opt);
	return buf;
}

/**
 * conf_uint() - Parse a decimal unsigned number, nothing else
 * @s:		String
 * @max:	Largest value accepted
 * @v:		Parsed value
 *
 * Return: true if @s is all digits and at most @max
 */
static bool conf_uint(const char *s, unsigned long long max,
		      unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end && *v <= max;
}

/**
 * conf_str() - Copy a non-empty string option argument that must fit
 * @dst:	Destination
 * @size:	Size of @dst, including terminator
 * @arg:	Argument
 * @name:	Option name, for the error
 */
static void conf_str(char *dst, size_t size, const char *arg,
		     const char *name)
{
	size_t len = strlen(arg);

	if (!len)
		conf_fail("empty argument for %s", name);
	if (len >= size)
		conf_fail("argument too long for %s (%zu bytes, at most %zu)",
			  name, len, size - 1);
	memcpy(dst, arg, len + 1);
}

/**
 * conf_inany() - Parse an IPv4 or IPv6 address
 * @s:		String
 * @a4:		IPv4 result
 * @a6:		IPv6 result
 *
 * Return: AF_INET, AF_INET6, or 0 if @s is neither
 */
static int conf_inany(const char *s, struct in_addr *a4, struct in6_addr *a6)
{
	if (inet_pton(AF_INET, s, a4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a6) == 1)
		return AF_INET6;
	return 0;
}

/**
 * conf_addr4_bad() - Is an IPv4 address unusable as a host address?
 * @a:		Address
 *
 * Return: true for unspecified, loopback, multicast or broadcast
 */
static bool conf_addr4_bad(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return !h || (h >> 24) == 127 || IN_MULTICAST(h) || h == INADDR_NONE;
}

/**
 * conf_addr6_bad() - Is an IPv6 address unusable as a host address?
 * @a:		Address
 *
 * Return: true for unspecified, loopback or multicast
 */
static bool conf_addr6_bad(const struct in6_addr *a)
{
	return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) ||
	       IN6_IS_ADDR_MULTICAST(a);
}

/**
 * conf_address() - -a ADDR[/LEN]: guest address, one per family
 * @c:		Execution context
 * @a:		Command line state
 * @arg:	Argument
 * @name:	Option name
 */
static void conf_address(struct ctx *c, struct conf_args *a, const char *arg,
			 const char *name)
{
	char buf[INET6_ADDRSTRLEN + 4];
	unsigned long long plen = 0;
	struct in6_addr a6;
	struct in_addr a4;
	char *slash;
	int af;

	if (strlen(arg) >= sizeof(buf))
		conf_fail("invalid address '%s' for %s", arg, name);
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';

	af = conf_inany(buf, &a4, &a6);
	if (!af || (af == AF_INET ? conf_addr4_bad(a4) : conf_addr6_bad(&a6)))
		conf_fail("invalid address '%s' for %s", arg, name);
	if (slash && !conf_uint(slash + 1, af == AF_INET ? 32 : 128, &plen))
		conf_fail("invalid prefix length in '%s' for %s", arg, name);
	if (slash && !plen)
		conf_fail("invalid prefix length in '%s' for %s", arg, name);

	if (af == AF_INET) {
		if (a->addr4)
			conf_fail("IPv4 address given twice with %s", name);
		a->addr4 = true;
		c->ip4.addr = a4;
		if (slash) {
			if (a->plen4)
				conf_fail("IPv4 prefix given twice with %s",
					  name);
			a->plen4 = true;
			c->ip4.prefix_len = plen;
		}
	} else {
		if (a->addr6)
			conf_fail("IPv6 address given twice with %s", name);
		a->addr6 = true;
		c->ip6.addr = a6;
		a->plen6 = slash;
		if (slash)
			c->ip6.prefix_len = plen;
	}
}

/**
 * conf_netmask() - -n MASK: IPv4 netmask, dotted or prefix length
 * @c:		Execution context
 * @a:		Command line state
 * @arg:	Argument
 * @name:	Option name
 */
static void conf_netmask(struct ctx *c, struct conf_args *a, const char *arg,
			 const char *name)
{
	unsigned long long plen;
	struct in_addr m;

	if (a->plen4)
		conf_fail("IPv4 prefix given twice with %s", name);

	if (inet_pton(AF_INET, arg, &m) == 1) {
		uint32_t h = ntohl(m.s_addr);

		/* contiguous ones: inverse plus one is a power of two */
		if (!h || ((~h + 1) & ~h))
			conf_fail("invalid netmask '%s' for %s", arg, name);
		plen = 32 - __builtin_ctz(h);
	} else if (!conf_uint(arg, 32, &plen) || !plen) {
		conf_fail("invalid netmask '%s' for %s", arg, name);
	}
	c->ip4.prefix_len = plen;
	a->plen4 = true;
}

/**
 * conf_gateway() - -g ADDR: gateway, one per family
 * @c:		Execution context
 * @a:		Command line state
 * @arg:	Argument
 * @name:	Option name
 */
static void conf_gateway(struct ctx *c, struct conf_args *a, const char *arg,
			 const char *name)
{
	struct in6_addr a6;
	struct in_addr a4;
	int af = conf_inany(arg, &a4, &a6);

	if (!af || (af == AF_INET ? conf_addr4_bad(a4) : conf_addr6_bad(&a6)))
		conf_fail("invalid gateway '%s' for %s", arg, name);
	if (af == AF_INET) {
		if (a->gw4)
			conf_fail("IPv4 gateway given twice with %s", name);
		a->gw4 = true;
		c->ip4.gw = a4;
	} else {
		if (a->gw6)
			conf_fail("IPv6 gateway given twice with %s", name);
		a->gw6 = true;
		c->ip6.gw = a6;
	}
}

/**
 * conf_hex() - Value of one hexadecimal digit
 * @ch:		Character
 *
 * Return: 0 to 15, or -1 if @ch is not a hexadecimal digit
 */
static int conf_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/**
 * conf_mac() - -M MAC: guest's MAC address, unicast
 * @c:		Execution context
 * @arg:	Argument, six colon-separated pairs of hex digits
 * @name:	Option name
 */
static void conf_mac(struct ctx *c, const char *arg, const char *name)
{
	uint8_t mac[ETH_ALEN];
	const char *p = arg;
	size_t i;

	if (strlen(arg) != ETH_ALEN * 3 - 1)
		conf_fail("invalid MAC address '%s' for %s", arg, name);
	for (i = 0; i < ETH_ALEN; i++, p += 3) {
		int hi = conf_hex(p[0]), lo = conf_hex(p[1]);

		if (hi < 0 || lo < 0 || (i < ETH_ALEN - 1 && p[2] != ':'))
			conf_fail("invalid MAC address '%s' for %s", arg, name);
		mac[i] = hi << 4 | lo;
	}
	if (mac[0] & 1)
		conf_fail("multicast MAC address '%s' for %s", arg, name);
	memcpy(c->guest_mac, mac, ETH_ALEN);
	c->guest_mac_set = true;
}

/**
 * conf_dns() - -D ADDR or none: DNS server, up to MAXDNS per family
 * @c:		Execution context
 * @a:		Command line state
 * @arg:	Argument
 * @name:	Option name
 */
static void conf_dns(struct ctx *c, struct conf_args *a, const char *arg,
		     const char *name)
{
	struct in6_addr a6;
	struct in_addr a4;
	int af;

	if (!strcmp(arg, "none")) {
		if (a->dns_none || a->ndns4 || a->ndns6)
			conf_fail("'none' conflicts with other %s options",
				  name);
		a->dns_none = true;
		return;
	}
	if (a->dns_none)
		conf_fail("'none' conflicts with other %s options", name);

	af = conf_inany(arg, &a4, &a6);
	if (af == AF_INET && a4.s_addr && !IN_MULTICAST(ntohl(a4.s_addr))) {
		if (a->ndns4 == MAXDNS)
			conf_fail("too many IPv4 DNS servers for %s (at most %d)",
				  name, MAXDNS);
		c->ip4.dns[a->ndns4++] = a4;
	} else if (af == AF_INET6 && !IN6_IS_ADDR_UNSPECIFIED(&a6) &&
		   !IN6_IS_ADDR_MULTICAST(&a6)) {
		if (a->ndns6 == MAXDNS)
			conf_fail("too many IPv6 DNS servers for %s (at most %d)",
				  name, MAXDNS);
		c->ip6.dns[a->ndns6++] = a6;
	} else {
		conf_fail("invalid DNS server '%s' for %s", arg, name);
	}
}

/**
 * conf_search_set() - Set the search list from a space or comma list
 * @c:		Execution context
 * @list:	Domains, separated by spaces, tabs or commas
 *
 * Return: 0 on success, -E2BIG for too many domains, -EINVAL for a bad one
 */
static int conf_search_set(struct ctx *c, const char *list)
{
	static const char sep[] = " \t\n,";
	const char *p = list;
	int n = 0;

	memset(c->dns_search, 0, sizeof(c->dns_search));
	for (p += strspn(p, sep); *p; p += strspn(p, sep)) {
		size_t len = strcspn(p, sep), i;

		if (n == MAXDNSRCH)
			return -E2BIG;
		if (len > DNSRCH_LEN)
			return -EINVAL;
		for (i = 0; i < len; i++) {
			if (p[i] <= ' ' || p[i] >= 0x7f)
				return -EINVAL;
		}
		memcpy(c->dns_search[n++], p, len);
		p += len;
	}
	return 0;
}

/**
 * conf_fd() - --fd N: an open, connected vhost-user socket
 * @c:		Execution context
 * @arg:	Argument
 * @name:	Option name
 *
 * #syscalls newfstatat
 */
static void conf_fd(struct ctx *c, const char *arg, const char *name)
{
	unsigned long long fd;
	struct stat st;

	if (!conf_uint(arg, INT_MAX, &fd))
		conf_fail("invalid file descriptor '%s' for %s", arg, name);
	if (fstat((int)fd, &st))
		conf_fail("file descriptor %llu for %s: %s", fd, name,
			  strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		conf_fail("file descriptor %llu for %s is not a socket", fd,
			  name);
	c->fd_conn = fd;
}

/**
 * conf_ports() - Parse one port forwarding option (-t, -u) into @fwd
 * @fwd:	Rules of one protocol: zeroed before the first option
 * @spec:	Spec, see fwd_ports_parse()
 * @err:	Reason on failure, set
 * @errlen:	Size of @err
 *
 * Return: 0 on success, -errno from fwd_ports_parse()
 */
int conf_ports(struct fwd_ports *fwd, const char *spec, char *err,
	       size_t errlen)
{
	return fwd_ports_parse(fwd, spec, err, errlen);
}

/**
 * conf_tcp_udp() - -t, -u SPEC: port forwarding, may be repeated
 * @fwd:	Rules of one protocol
 * @none:	'none' seen for this protocol, updated
 * @arg:	Spec
 * @name:	Option name
 */
static void conf_tcp_udp(struct fwd_ports *fwd, bool *none, const char *arg,
			 const char *name)
{
	bool is_none = !strcmp(arg, "none");
	char err[FWD_ERR_LEN];

	if (*none || (is_none && fwd->n))
		conf_fail("'none' conflicts with other %s options", name);
	if (conf_ports(fwd, arg, err, sizeof(err)))
		conf_fail("invalid port specification '%s' for %s: %s", arg,
			  name, err);
	*none = is_none;
}

/**
 * conf_exit_early() - Options that print something and exit 0
 * @opt:	Option value
 */
static NORETURN void conf_exit_early(int opt)
{
	if (opt == OPT_PRINT_CAPS)
		fputs("{\n  \"type\": \"net\"\n}\n", stdout);
	else if (opt == OPT_VERSION)
		fputs("passt " VERSION " (vhost-user only)\n", stdout);
	else
		conf_usage(stdout);
	exit(EXIT_SUCCESS);
}

/**
 * conf_opt() - Apply one option
 * @c:		Execution context
 * @a:		Command line state
 * @opt:	getopt_long() value
 * @arg:	Argument, NULL for options without one
 * @name:	Option name as typed, for errors
 */
static void conf_opt(struct ctx *c, struct conf_args *a, int opt,
		     const char *arg, const char *name)
{
	unsigned long long v;

	switch (opt) {
	case OPT_VHOST_USER:	c->mode_vu = true;		break;
	case '1':		c->one_off = true;		break;
	case 'f':		c->foreground = true;		break;
	case 'd':		c->debug = true;		break;
	case OPT_TRACE:		c->debug = c->trace = true;	break;
	case 'q':		c->quiet = true;		break;
	case '4':		c->v6 = false;			break;
	case '6':		c->v4 = false;			break;
	case 'F':		conf_fd(c, arg, name);		break;
	case 'a':		conf_address(c, a, arg, name);	break;
	case 'n':		conf_netmask(c, a, arg, name);	break;
	case 'g':		conf_gateway(c, a, arg, name);	break;
	case 'M':		conf_mac(c, arg, name);		break;
	case 'D':		conf_dns(c, a, arg, name);	break;
	case 's':
		conf_str(c->sock_path, sizeof(c->sock_path), arg, name);
		break;
	case OPT_REPAIR_PATH:
		conf_str(c->repair_path, sizeof(c->repair_path), arg, name);
		break;
	case OPT_STATE_COPY:
		conf_str(c->state_copy, sizeof(c->state_copy), arg, name);
		break;
	case 'P':
		conf_str(c->pid_file, sizeof(c->pid_file), arg, name);
		break;
	case 'l':
		conf_str(c->log_file, sizeof(c->log_file), arg, name);
		break;
	case 'p':
		conf_str(c->pcap, sizeof(c->pcap), arg, name);
		break;
	case OPT_LOG_SIZE:
		if (!conf_uint(arg, SIZE_MAX, &v) || v < LOG_SIZE_MIN)
			conf_fail("invalid log size '%s' for %s (bytes, at least %d)",
				  arg, name, LOG_SIZE_MIN);
		c->log_size = v;
		break;
	case 'm':
		if (!conf_uint(arg, MTU_MAX, &v) || v < MTU_MIN)
			conf_fail("invalid MTU '%s' for %s (%d to %d)", arg,
				  name, MTU_MIN, MTU_MAX);
		c->mtu = v;
		break;
	case 'S':
		if (strcmp(arg, "none") != 0 && conf_search_set(c, arg))
			conf_fail("invalid search list '%s' for %s (at most %d domains of %d bytes)",
				  arg, name, MAXDNSRCH, DNSRCH_LEN);
		break;
	case 'H':
		conf_str(c->hostname, sizeof(c->hostname), arg, name);
		break;
	case OPT_FQDN:
		conf_str(c->fqdn, sizeof(c->fqdn), arg, name);
		break;
	case 'i':
		conf_str(c->ifname, sizeof(c->ifname), arg, name);
		a->ifi = if_nametoindex(arg);	/* #syscalls socket ioctl */
		if (!a->ifi)
			conf_fail("unknown interface '%s' for %s", arg, name);
		break;
	case 't':
		conf_tcp_udp(&c->tcp, &a->ports_none[0], arg, name);
		break;
	case 'u':
		conf_tcp_udp(&c->udp, &a->ports_none[1], arg, name);
		break;
	case OPT_RUNAS:
		if (!*arg)
			conf_fail("empty user for %s", name);
		conf_str(c->runas, sizeof(c->runas), arg, name);
		break;
	}
}

/**
 * conf_repeat_ok() - May this option be given more than once?
 * @opt:	getopt_long() value
 *
 * Return: true for options that accumulate (or check repeats themselves)
 */
static bool conf_repeat_ok(int opt)
{
	return opt == 'a' || opt == 'g' || opt == 'D' || opt == 't' ||
	       opt == 'u';
}

/**
 * conf_bad_opt() - Report an unknown option or a missing argument, exit 1
 * @opt:	'?' (unknown, or argument not allowed) or ':' (missing)
 * @typed:	Argument getopt_long() looked at
 */
static NORETURN void conf_bad_opt(int opt, const char *typed)
{
	int len = strcspn(typed, "=");

	if (strncmp(typed, "--", 2) != 0) {		/* short option: optopt */
		if (opt == ':')
			conf_fail("option '-%c' requires an argument", optopt);
		conf_fail("invalid option '-%c'", optopt);
	}
	if (opt == ':')
		conf_fail("option '%.*s' requires an argument", len, typed);
	if (optopt)
		conf_fail("option '%.*s' doesn't allow an argument", len,
			  typed);
	conf_fail("unrecognized or ambiguous option '%.*s'", len, typed);
}

/**
 * conf_parse() - Parse the command line into the context
 * @c:		Execution context
 * @a:		Command line state
 * @argc:	Argument count
 * @argv:	Arguments
 */
static void conf_parse(struct ctx *c, struct conf_args *a, int argc,
		       char **argv)
{
	int opt, longidx;

	if (argc < 1)
		conf_fail("no arguments, not even a program name");
	opterr = 0;
	optind = 0;	/* full re-initialisation: conf() may run again */
	for (;;) {
		const char *typed = argv[MAX(optind, 1)];
		const char *name;
		int slot;

		longidx = -1;
		opt = getopt_long(argc, argv, conf_shortopts, conf_longopts,
				  &longidx);
		if (opt == -1)
			break;
		if (opt == '?' || opt == ':')
			conf_bad_opt(opt, typed);

		name = conf_optname(opt, longidx);
		if (opt == OPT_PRINT_CAPS || opt == 'h' || opt == OPT_VERSION)
			conf_exit_early(opt);

		slot = opt == OPT_SOCKET_PATH ? 's' : opt;
		if (a->seen[slot]++ && !conf_repeat_ok(slot))
			conf_fail("%s given more than once", name);
		conf_opt(c, a, slot, optarg, name);
	}

	if (optind < argc)
		conf_fail("unexpected argument '%s'", argv[optind]);
}

/**
 * conf_check() - Cross-option checks after parsing
 * @c:		Execution context
 * @a:		Command line state
 */
static void conf_check(const struct ctx *c, const struct conf_args *a)
{
	if (!c->mode_vu)
		conf_fail("only --vhost-user mode is supported");
	if (a->seen['4'] && a->seen['6'])
		conf_fail("-4 and -6 are mutually exclusive");
	if (c->quiet && c->debug)
		conf_fail("--quiet and --debug/--trace are mutually exclusive");
	if (c->fd_conn >= 0 && *c->sock_path)
		conf_fail("--fd and --socket are mutually exclusive");
	if (!c->v4 && (a->addr4 || a->gw4 || a->plen4 || a->ndns4))
		conf_fail("IPv4 settings given with -6");
	if (!c->v6 && (a->addr6 || a->gw6 || a->ndns6))
		conf_fail("IPv6 settings given with -4");
}

/**
 * conf_sock_default() - Pick /tmp/passt_N.socket, first N that is free
 * @c:		Execution context
 *
 * "Free" means nothing exists at the path: a stale socket left by a
 * crashed instance is skipped rather than removed, as it might be in use.
 *
 * #syscalls newfstatat
 */
static void conf_sock_default(struct ctx *c)
{
	struct stat st;
	unsigned n;

	if (c->fd_conn >= 0 || *c->sock_path)
		return;
	for (n = 1; n <= SOCK_DEFAULT_MAX; n++) {
		snprintf(c->sock_path, sizeof(c->sock_path), SOCK_DEFAULT_FMT,
			 n);
		if (lstat(c->sock_path, &st) && errno == ENOENT)
			return;
	}
	die("No free socket path /tmp/passt_N.socket, N from 1 to %d",
	    SOCK_DEFAULT_MAX);
}

/**
 * conf_repair_default() - Default --repair-path: socket path + ".repair"
 * @c:		Execution context, with the final socket path
 * @a:		Command line state
 *
 * With --fd and no socket path, there is no default: no repair socket.
 */
static void conf_repair_default(struct ctx *c, const struct conf_args *a)
{
	int n;

	if (a->seen[OPT_REPAIR_PATH] || !*c->sock_path)
		return;
	n = snprintf(c->repair_path, sizeof(c->repair_path), "%s.repair",
		     c->sock_path);
	if (n < 0 || (size_t)n >= sizeof(c->repair_path))
		conf_fail("socket path too long for the default --repair-path (%s.repair, at most %zu bytes): give --repair-path",
			  c->sock_path, sizeof(c->repair_path) - 1);
}

/**
 * struct conf_fam - One address family's configuration, seen generically
 * @af:		AF_INET or AF_INET6
 * @name:	"IPv4" or "IPv6"
 * @addr, @gw:	Pointers into struct ip4_ctx or ip6_ctx
 * @plen:	Prefix length in the same
 * @given_addr, @given_gw, @given_plen: From the command line
 * @plen_default: Prefix length if neither given nor found on the host
 */
struct conf_fam {
	int af;
	const char *name;
	void *addr, *gw;
	int *plen;
	bool given_addr, given_gw, given_plen;
	int plen_default;
};

/**
 * conf_fam_host() - Complete one family from the host's default route
 * @f:		Family
 * @ifi_want:	-i interface index, 0 if not given
 * @ifi:	Interface the defaults came from, set
 *
 * Return: true if the family is usable (has an address), false to disable
 */
static bool conf_fam_host(const struct conf_fam *f, unsigned ifi_want,
			  unsigned *ifi)
{
	uint8_t gw[sizeof(struct in6_addr)], addr[sizeof(struct in6_addr)];
	size_t alen = f->af == AF_INET ? 4 : 16;
	int plen, rc;

	*ifi = ifi_want;
	if (f->given_addr && f->given_gw && f->given_plen)
		return true;

	rc = nl_route_default(f->af, ifi, gw);	/* leaves *ifi on failure */
	if (rc) {
		if (!f->given_addr) {
			info("%s: no default route%s (%s), disabled", f->name,
			     ifi_want ? " on the given interface" : "",
			     strerror(-rc));
			return false;
		}
		if (!f->given_plen)
			*f->plen = f->plen_default;
		if (!f->given_gw)
			warn("%s: no gateway given, and none on the host",
			     f->name);
		return true;
	}

	if (!f->given_gw)
		memcpy(f->gw, gw, alen);
	if (!f->given_gw && !memcmp(gw, &in6addr_any, alen))
		warn("%s: the host's default route has no gateway", f->name);

	rc = nl_addr_first(f->af, *ifi, addr, &plen);
	if (rc && !f->given_addr) {
		info("%s: no usable global address on the host, disabled",
		     f->name);
		return false;
	}
	if (!f->given_addr)
		memcpy(f->addr, addr, alen);
	if (!f->given_plen)
		*f->plen = rc ? f->plen_default : plen;
	return true;
}

/**
 * conf_ip() - Fill addresses, prefixes and gateways not given
 * @c:		Execution context
 * @a:		Command line state
 */
static void conf_ip(struct ctx *c, const struct conf_args *a)
{
	struct conf_fam f4 = {
		AF_INET, "IPv4", &c->ip4.addr, &c->ip4.gw, &c->ip4.prefix_len,
		a->addr4, a->gw4, a->plen4, 24,
	};
	struct conf_fam f6 = {
		AF_INET6, "IPv6", &c->ip6.addr, &c->ip6.gw, &c->ip6.prefix_len,
		a->addr6, a->gw6, a->plen6, 64,
	};

	if (c->v4)
		c->v4 = conf_fam_host(&f4, a->ifi, &c->ifi4);
	if (c->v6)
		c->v6 = conf_fam_host(&f6, a->ifi, &c->ifi6);

	if (!c->v4 && !c->v6)
		die("No usable IPv4 or IPv6 configuration: the host has no "
		    "default route with an address%s; give one with -a and -g",
		    a->ifi ? " on that interface" : "");

	c->ip4.addr_seen = c->ip4.addr;
	c->ip6.addr_seen = c->ip6.addr;
	/* fe80::1: our link-local address, as the guest's router */
	inet_pton(AF_INET6, "fe80::1", &c->ip6.our_ll);
}

/**
 * conf_resolv_ns() - Add one nameserver from resolv.conf
 * @c:		Execution context
 * @arg:	Address text
 * @n4, @n6:	Servers so far per family, updated
 *
 * A loopback resolver (127.0.0.53, ::1) is unreachable from the guest as
 * such, but the gateway address maps to the host: offer that instead, and
 * remember the first such resolver in dns_host, where fwd.c sends queries
 * for the gateway's port 53.
 */
static void conf_resolv_ns(struct ctx *c, const char *arg, int *n4, int *n6)
{
	struct in6_addr a6;
	struct in_addr a4;
	int af = conf_inany(arg, &a4, &a6), i;

	if (af == AF_INET && *n4 < MAXDNS) {
		if ((ntohl(a4.s_addr) >> 24) == 127) {
			if (!c->ip4.dns_host.s_addr)
				c->ip4.dns_host = a4;
			a4 = c->ip4.gw;
		}
		for (i = 0; i < *n4; i++)
			if (c->ip4.dns[i].s_addr == a4.s_addr)
				return;
		if (a4.s_addr)
			c->ip4.dns[(*n4)++] = a4;
	} else if (af == AF_INET6 && *n6 < MAXDNS) {
		if (IN6_IS_ADDR_LOOPBACK(&a6)) {
			c->ip6.dns_host = a6;
			a6 = c->ip6.gw;
		}
		if (IN6_IS_ADDR_LINKLOCAL(&a6) &&
		    !IN6_ARE_ADDR_EQUAL(&a6, &c->ip6.gw))
			return;	/* link-local of the host's link: unusable */
		for (i = 0; i < *n6; i++)
			if (IN6_ARE_ADDR_EQUAL(&c->ip6.dns[i], &a6))
				return;
		if (!IN6_IS_ADDR_UNSPECIFIED(&a6))
			c->ip6.dns[(*n6)++] = a6;
	}
}

/**
 * conf_resolv() - DNS servers and search list from /etc/resolv.conf
 * @c:		Execution context
 * @a:		Command line state: what -D and -S already gave
 *
 * #syscalls openat newfstatat read close
 */
static void conf_resolv(struct ctx *c, const struct conf_args *a)
{
	bool want_ns = !a->dns_none && !a->ndns4 && !a->ndns6;
	bool want_search = !a->seen['S'];
	char line[512], *p;
	int n4 = 0, n6 = 0;
	FILE *f;

	if (!want_ns && !want_search)
		return;
	f = fopen(RESOLV_CONF, "re");
	if (!f) {
		info("Can't read " RESOLV_CONF ": %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *kw = strtok_r(line, " \t\n", &p);
		char *arg = strtok_r(NULL, "\n", &p);

		if (!kw || !arg)
			continue;
		arg += strspn(arg, " \t");
		if (want_ns && !strcmp(kw, "nameserver")) {
			arg[strcspn(arg, " \t")] = '\0';
			conf_resolv_ns(c, arg, &n4, &n6);
		} else if (want_search && !strcmp(kw, "search") &&
			   conf_search_set(c, arg)) {
			info("Ignoring bad search list in " RESOLV_CONF);
			memset(c->dns_search, 0, sizeof(c->dns_search));
		}
	}
	fclose(f);
}

/**
 * conf_print() - Log the resulting configuration
 * @c:		Execution context
 */
static void conf_print(const struct ctx *c)
{
	char b1[INET6_ADDRSTRLEN], b2[INET6_ADDRSTRLEN];
	int i;

	info("MTU: %u", c->mtu);
	if (c->fd_conn >= 0)
		info("vhost-user: connected socket, fd %d", c->fd_conn);
	else
		info("vhost-user socket: %s", c->sock_path);
	if (*c->repair_path)
		info("passt-repair socket: %s", c->repair_path);
	if (c->v4) {
		info("IPv4: address %s/%d, gateway %s",
		     inet_ntop(AF_INET, &c->ip4.addr, b1, sizeof(b1)),
		     c->ip4.prefix_len,
		     inet_ntop(AF_INET, &c->ip4.gw, b2, sizeof(b2)));
		for (i = 0; c->ip4.dns[i].s_addr; i++)
			info("    DNS: %s", inet_ntop(AF_INET, &c->ip4.dns[i],
						     b1, sizeof(b1)));
	}
	if (c->v6) {
		info("IPv6: address %s/%d, gateway %s",
		     inet_ntop(AF_INET6, &c->ip6.addr, b1, sizeof(b1)),
		     c->ip6.prefix_len,
		     inet_ntop(AF_INET6, &c->ip6.gw, b2, sizeof(b2)));
		for (i = 0; !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[i]); i++)
			info("    DNS: %s", inet_ntop(AF_INET6, &c->ip6.dns[i],
						     b1, sizeof(b1)));
	}
	for (i = 0; *c->dns_search[i]; i++)
		info("DNS search: %s", c->dns_search[i]);
}

/**
 * conf_defaults() - Values before the command line is read
 * @c:		Execution context
 */
static void conf_defaults(struct ctx *c)
{
	c->mode_vu = c->one_off = c->foreground = false;
	c->debug = c->trace = c->quiet = false;
	c->fd_conn = -1;
	c->repair_listen_fd = c->repair_fd = -1;
	*c->sock_path = *c->repair_path = *c->pid_file = *c->log_file = '\0';
	*c->runas = '\0';
	*c->hostname = *c->fqdn = *c->ifname = '\0';
	c->log_size = LOG_SIZE_DEFAULT;
	c->mtu = MTU_DEFAULT;
	memcpy(c->our_mac, conf_our_mac, ETH_ALEN);
	memset(c->guest_mac, 0xff, ETH_ALEN);	/* broadcast until learnt */
	c->guest_mac_set = false;
	c->ifi4 = c->ifi6 = 0;
	memset(&c->ip4, 0, sizeof(c->ip4));
	memset(&c->ip6, 0, sizeof(c->ip6));
	c->v4 = c->v6 = true;
	memset(c->dns_search, 0, sizeof(c->dns_search));
	memset(&c->tcp, 0, sizeof(c->tcp));
	memset(&c->udp, 0, sizeof(c->udp));
}

/**
 * conf() - Fill the context from the command line and the host
 * @c:		Execution context
 * @argc:	Argument count
 * @argv:	Arguments
 *
 * Exits with status 1 on any command line error, 0 after --help,
 * --version or --print-capabilities.
 */
void conf(struct ctx *c, int argc, char **argv)
{
	struct conf_args a;

	memset(&a, 0, sizeof(a));
	conf_defaults(c);
	conf_parse(c, &a, argc, argv);
	conf_check(c, &a);

	if (c->trace)
		log_set_level(LOG_TRACE);
	else if (c->debug)
		log_set_level(LOG_DEBUG);
	else if (c->quiet)
		log_set_level(LOG_WARNING);
	else
		log_set_level(LOG_INFO);

	if (a.seen[OPT_STDERR])
		debug("--stderr: ignored, we log to stderr until detached");

	conf_sock_default(c);
	conf_repair_default(c, &a);
	conf_ip(c, &a);
	conf_resolv(c, &a);
	conf_print(c);
}
