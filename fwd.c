// SPDX-License-Identifier: GPL-2.0-or-later
/* fwd.c - Port forwarding and the address mapping between guest and host
 *
 * DOC: Theory of operation
 *
 * The guest is given the host's own address, and a gateway address that
 * stands for the host itself.  So addresses need mapping in two places:
 *
 * - outbound (guest to a host socket), fwd_nat_outbound(): the gateway
 *   address (IPv4 gateway; IPv6 gateway or our link-local address) is the
 *   host's loopback, 127.0.0.1 or ::1.  A DNS query to an address we
 *   announced as resolver, port 53, goes to the host's own loopback
 *   resolver (e.g. systemd-resolved's 127.0.0.53) if it uses one: we
 *   announced the gateway in its place, see conf.c.
 *
 * - inbound (a host peer to a forwarded port), fwd_nat_inbound(): a peer
 *   on the host's loopback, or using the host's own address (which is the
 *   guest's too, so the guest would take it for itself), appears to come
 *   from the gateway address.
 *
 * Everything else goes through unchanged.
 *
 * Forwarded ports (-t, -u) are rules (struct fwd_rule): a range of host
 * ports, the guest port of its first one, the host address to bind (or
 * any, of both families) and optionally an interface (SO_BINDTODEVICE).
 * Each -t or -u option is parsed on its own by fwd_ports_parse(): its
 * ADDR[%DEV]/ prefix applies to its own ports only, its exclusions (~)
 * cut holes in its own ranges, splitting them into more rules, and "all"
 * or exclusions alone make "weak" rules (ports we can't bind are skipped
 * quietly).  Two rules may forward the same port on different addresses
 * or interfaces (one socket each); the same port on the same address and
 * interface twice is an error, and so is anything malformed: conf.c
 * reports the message we give, with the spec, and exits.  A listening
 * socket's epoll index is FWD_REF(rule, port), from which tcp.c and udp.c
 * find the guest port.
 *
 * None of this looks at peer data beyond addresses and ports, which are
 * all valid values: there is no bad input to reject at run time.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <net/if.h>
#include <sys/socket.h>

#include "fwd.h"

#define FWD_DNS_PORT	53

#define FWD_EPHEMERAL_PATH	"/proc/sys/net/ipv4/ip_local_port_range"
#define FWD_EPHEMERAL_LO	32768	/* Linux defaults, if unreadable */
#define FWD_EPHEMERAL_HI	60999

/**
 * fwd_is_dns4() - Is an IPv4 address one of the resolvers we announced?
 * @c:		Execution context
 * @a:		Address
 *
 * Return: true if listed in c->ip4.dns
 */
static bool fwd_is_dns4(const struct ctx *c, struct in_addr a)
{
	int i;

	for (i = 0; i < MAXDNS && c->ip4.dns[i].s_addr; i++) {
		if (c->ip4.dns[i].s_addr == a.s_addr)
			return true;
	}
	return false;
}

/**
 * fwd_is_dns6() - Is an IPv6 address one of the resolvers we announced?
 * @c:		Execution context
 * @a:		Address
 *
 * Return: true if listed in c->ip6.dns
 */
static bool fwd_is_dns6(const struct ctx *c, const struct in6_addr *a)
{
	int i;

	for (i = 0; i < MAXDNS && !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[i]);
	     i++) {
		if (IN6_ARE_ADDR_EQUAL(&c->ip6.dns[i], a))
			return true;
	}
	return false;
}

/**
 * fwd_nat_outbound4() - fwd_nat_outbound() for IPv4
 * @c:		Execution context
 * @a4:		Destination the guest used
 * @fport:	Destination port, host order
 * @host_dst:	Destination for the host socket, set
 */
static void fwd_nat_outbound4(const struct ctx *c, struct in_addr a4,
			      uint16_t fport, union inany_addr *host_dst)
{
	if (fport == FWD_DNS_PORT && c->ip4.dns_host.s_addr &&
	    fwd_is_dns4(c, a4))
		a4 = c->ip4.dns_host;
	else if (c->ip4.gw.s_addr && a4.s_addr == c->ip4.gw.s_addr)
		a4.s_addr = htonl(INADDR_LOOPBACK);
	inany_from_v4(host_dst, a4);
}

/**
 * fwd_nat_outbound() - Where a host socket must send what the guest sent
 * @c:		Execution context
 * @faddr:	Destination address the guest used
 * @fport:	Destination port, host order
 * @host_dst:	Destination address for the host socket, set (may be @faddr)
 */
void fwd_nat_outbound(const struct ctx *c, const union inany_addr *faddr,
		      uint16_t fport, union inany_addr *host_dst)
{
	const struct in_addr *a4 = inany_v4(faddr);
	union inany_addr out = *faddr;

	if (a4) {
		fwd_nat_outbound4(c, *a4, fport, host_dst);
		return;
	}

	if (fport == FWD_DNS_PORT &&
	    !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_host) &&
	    fwd_is_dns6(c, &faddr->a6))
		out.a6 = c->ip6.dns_host;
	else if ((!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.gw) &&
		  IN6_ARE_ADDR_EQUAL(&faddr->a6, &c->ip6.gw)) ||
		 (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.our_ll) &&
		  IN6_ARE_ADDR_EQUAL(&faddr->a6, &c->ip6.our_ll)))
		out.a6 = in6addr_loopback;
	*host_dst = out;
}

/**
 * fwd_nat_inbound() - How the guest must see a host peer's address
 * @c:		Execution context
 * @host_src:	Peer address as the host socket saw it
 * @guest_src:	Source address for the guest, set (may be @host_src)
 */
void fwd_nat_inbound(const struct ctx *c, const union inany_addr *host_src,
		     union inany_addr *guest_src)
{
	const struct in_addr *a4 = inany_v4(host_src);
	union inany_addr out = *host_src;

	if (a4) {
		if (c->ip4.gw.s_addr &&
		    ((ntohl(a4->s_addr) >> 24) == IN_LOOPBACKNET ||
		     a4->s_addr == c->ip4.addr.s_addr))
			inany_from_v4(&out, c->ip4.gw);
	} else if (IN6_IS_ADDR_LOOPBACK(&host_src->a6) ||
		   (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) &&
		    IN6_ARE_ADDR_EQUAL(&host_src->a6, &c->ip6.addr))) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.gw))
			out.a6 = c->ip6.gw;
		else
			out.a6 = c->ip6.our_ll;
	}
	*guest_src = out;
}

/**
 * fwd_guest_addr() - The guest's address in one family
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @gaddr:	Address, set: the last one the guest used, else the one we
 *		gave it
 */
void fwd_guest_addr(const struct ctx *c, int af, union inany_addr *gaddr)
{
	if (af == AF_INET) {
		inany_from_v4(gaddr, c->ip4.addr_seen.s_addr ?
				     c->ip4.addr_seen : c->ip4.addr);
		return;
	}
	gaddr->a6 = IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_seen) ?
		    c->ip6.addr : c->ip6.addr_seen;
}


/* ---------------------------------------------------------------- */
/* Forwarding rules                                                  */
/* ---------------------------------------------------------------- */

/**
 * fwd_rule_at() - The rule an epoll reference points to
 * @fwd:	Rules of one protocol
 * @ref:	FWD_REF() of a listening socket we registered
 *
 * Return: the rule
 */
const struct fwd_rule *fwd_rule_at(const struct fwd_ports *fwd, uint32_t ref)
{
	const struct fwd_rule *r;

	ASSERT(FWD_REF_RULE(ref) < fwd->n);
	r = &fwd->rules[FWD_REF_RULE(ref)];
	ASSERT(FWD_REF_PORT(ref) >= r->first && FWD_REF_PORT(ref) <= r->last);
	return r;
}

/**
 * fwd_guest_port() - Guest port for a host port of a rule
 * @fwd:	Rules of one protocol
 * @ref:	FWD_REF() of the listening socket
 *
 * Return: guest port, host order
 */
uint16_t fwd_guest_port(const struct fwd_ports *fwd, uint32_t ref)
{
	const struct fwd_rule *r = fwd_rule_at(fwd, ref);

	return (uint16_t)(r->to + (FWD_REF_PORT(ref) - r->first));
}

/**
 * fwd_low_ports() - Does a rule forward a host port below 1024?
 * @fwd:	Rules of one protocol
 *
 * Return: true if binding its ports takes CAP_NET_BIND_SERVICE
 */
bool fwd_low_ports(const struct fwd_ports *fwd)
{
	unsigned i;

	for (i = 0; i < fwd->n; i++) {
		if (fwd->rules[i].first < 1024)
			return true;
	}
	return false;
}

/**
 * fwd_rule_addr() - Address a rule's socket of one family binds to
 * @r:		Rule
 * @af:		AF_INET or AF_INET6: the socket's family
 * @a:		Address, set: the rule's, or "any" of @af (IPv4-mapped
 *		0.0.0.0 for AF_INET, :: for AF_INET6)
 */
void fwd_rule_addr(const struct fwd_rule *r, int af, union inany_addr *a)
{
	struct in_addr any = { htonl(INADDR_ANY) };

	if (r->af != AF_UNSPEC) {
		*a = r->addr;
		return;
	}
	memset(a, 0, sizeof(*a));
	if (af == AF_INET)
		inany_from_v4(a, any);
}

/**
 * fwd_rule_find() - The rule whose socket has a local address and port
 * @fwd:	Rules of one protocol
 * @laddr:	Local address: a rule's, or "any" of one family
 * @port:	Host port, host order
 *
 * Return: rule index, or -ENOENT
 */
int fwd_rule_find(const struct fwd_ports *fwd, const union inany_addr *laddr,
		  uint16_t port)
{
	int af = inany_v4(laddr) ? AF_INET : AF_INET6;
	union inany_addr a;
	unsigned i;

	for (i = 0; i < fwd->n; i++) {
		const struct fwd_rule *r = &fwd->rules[i];

		if (port < r->first || port > r->last ||
		    (r->af != AF_UNSPEC && r->af != af))
			continue;
		fwd_rule_addr(r, af, &a);
		if (inany_equals(&a, laddr))
			return (int)i;
	}
	return -ENOENT;
}

/**
 * fwd_ephemeral() - The host's ephemeral port range
 * @lo:		First port, set
 * @hi:		Last port, set
 *
 * Weak rules ("all", exclusions only) leave these alone: our own connect()
 * calls need them.
 *
 * #syscalls openat read close
 */
void fwd_ephemeral(unsigned *lo, unsigned *hi)
{
	unsigned long l, h;
	char buf[32], *end;
	ssize_t n;
	int fd;

	*lo = FWD_EPHEMERAL_LO;
	*hi = FWD_EPHEMERAL_HI;

	fd = open(FWD_EPHEMERAL_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;

	errno = 0;
	l = strtoul(buf, &end, 10);
	h = strtoul(end, NULL, 10);
	if (errno || !l || l > h || h > 65535)
		return;
	*lo = (unsigned)l;
	*hi = (unsigned)h;
}

/**
 * fwd_reuseport_first() - New connections and datagrams for a port go to
 *			   the oldest socket of its SO_REUSEPORT group
 * @fd:		Socket, in its group already (TCP: listening; UDP: bound)
 *
 * A classic BPF program returning 0 selects socks[0] of the group, see
 * the DOC block of tcp_listen.c for why that is the oldest socket.  The
 * program belongs to the group: attaching it from a later socket replaces
 * the group's program with this same one.
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls setsockopt
 */
int fwd_reuseport_first(int fd)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog;

	memset(&prog, 0, sizeof(prog));		/* padding: valgrind */
	prog.len = ARRAY_SIZE(code);
	prog.filter = code;

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
		       sizeof(prog)))
		return -errno;
	return 0;
}

/**
 * fwd_sock_setup() - Options and address of a rule's new socket
 * @fd:		Socket
 * @r:		Rule
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @v6only:	For an IPv6 socket: IPv6 only, else dual-stack
 * @sa:		Address to bind
 * @sl:		Its length
 *
 * Return: 0 on success, -errno on failure
 *
 * #syscalls setsockopt bind
 */
static int fwd_sock_setup(int fd, const struct fwd_rule *r, int type,
			  bool v6only, const struct sockaddr_storage *sa,
			  socklen_t sl)
{
	int one = 1, v6o = v6only;

	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		return -errno;
	if (sa->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6o, sizeof(v6o)))
		return -errno;
	if (*r->ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, r->ifname,
		       strlen(r->ifname) + 1))
		return -errno;
	return bind(fd, (const struct sockaddr *)sa, sl) ? -errno : 0;
}

/**
 * fwd_sock() - A socket for one port of a rule, bound
 * @r:		Rule
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @af:		AF_INET or AF_INET6
 * @v6only:	For AF_INET6: IPv6 only, else dual-stack (any address only)
 * @port:	Host port, host order
 *
 * SO_REUSEPORT: a migration target on the same host binds the same ports
 * while its source lives (fwd_reuseport_first() keeps the traffic on the
 * source).  SO_BINDTODEVICE if the rule names an interface.
 *
 * Return: socket on success, -errno on failure
 *
 * #syscalls socket close
 */
int fwd_sock(const struct fwd_rule *r, int type, int af, bool v6only,
	     uint16_t port)
{
	struct sockaddr_storage sa;
	union inany_addr a;
	socklen_t sl;
	int fd, rc;

	fwd_rule_addr(r, af, &a);
	sl = inany_sockaddr(&sa, &a, port);
	fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = fd >= (1 << 23) ? -EMFILE :	/* see union evtag */
	     fwd_sock_setup(fd, r, type, v6only, &sa, sl);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* ---------------------------------------------------------------- */
/* Port specs                                                        */
/* ---------------------------------------------------------------- */

#define FWD_ITEMS_MAX	64	/* items (ranges, exclusions) per option */

/**
 * struct fwd_range - A range of host ports, and where it maps to
 * @first:	First host port
 * @last:	Last host port
 * @to:		Guest port for @first
 */
struct fwd_range {
	uint16_t first;
	uint16_t last;
	uint16_t to;
};

/**
 * struct fwd_spec - One -t or -u option, parsed
 * @addr:	See struct fwd_rule
 * @ifname:	See struct fwd_rule
 * @af:		See struct fwd_rule
 * @all:	"all", or exclusions only: every port but those excluded
 * @n_in:	Ranges forwarded
 * @n_ex:	Ranges excluded
 * @in:		Ranges forwarded
 * @ex:		Ranges excluded (@to unused)
 */
struct fwd_spec {
	union inany_addr addr;
	char ifname[IFNAMSIZ];
	uint8_t af;
	bool all;
	unsigned n_in;
	unsigned n_ex;
	struct fwd_range in[FWD_ITEMS_MAX];
	struct fwd_range ex[FWD_ITEMS_MAX];
};

/**
 * ports_num() - Parse a port number, 1 to 65535
 * @p:		Cursor, advanced past the digits
 * @end:	End of the item
 * @port:	Port number
 *
 * Return: 0 on success, -EINVAL if not a valid port
 */
static int ports_num(const char **p, const char *end, unsigned *port)
{
	const char *s = *p;
	unsigned v = 0;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	*p = s;
	*port = v;
	return 0;
}

/**
 * ports_range() - Parse PORT[-PORT]
 * @p:		Cursor, advanced past the range
 * @end:	End of the item
 * @first:	First port
 * @last:	Last port, @first if no range
 * @range:	Whether a -PORT part was given
 *
 * Return: 0 on success, -EINVAL if malformed or backwards
 */
static int ports_range(const char **p, const char *end, unsigned *first,
		       unsigned *last, bool *range)
{
	if (ports_num(p, end, first))
		return -EINVAL;
	*last = *first;
	*range = *p < end && **p == '-';
	if (!*range)
		return 0;
	(*p)++;
	if (ports_num(p, end, last) || *last < *first)
		return -EINVAL;
	return 0;
}

/**
 * ports_item() - Parse one item: ~PORT[-PORT] or PORT[-PORT][:PORT[-PORT]]
 * @sp:		Option being parsed, item added
 * @s:		Start of the item
 * @end:	End of the item (comma or end of string)
 * @why:	Reason on failure, set
 *
 * Return: 0 on success, -EINVAL if malformed, -ENOSPC if too many items
 */
static int ports_item(struct fwd_spec *sp, const char *s, const char *end,
		      const char **why)
{
	bool excl = *s == '~', hr, gr;
	unsigned h0, h1, g0, g1;
	struct fwd_range *r;

	*why = "malformed item, or a port not from 1 to 65535";
	if (excl)
		s++;
	if (ports_range(&s, end, &h0, &h1, &hr))
		return -EINVAL;
	g0 = h0;
	g1 = h1;
	if (!excl && s < end && *s == ':') {
		s++;
		if (ports_range(&s, end, &g0, &g1, &gr))
			return -EINVAL;
		if (!gr)	/* A-B:C means A-B:C-(C+B-A) */
			g1 = g0 + (h1 - h0);
		*why = "host and guest ranges of different lengths";
		if (g1 > 65535 || g1 - g0 != h1 - h0)
			return -EINVAL;
	}
	*why = "malformed item";
	if (s != end)
		return -EINVAL;

	*why = "too many items";
	if ((excl ? sp->n_ex : sp->n_in) >= FWD_ITEMS_MAX)
		return -ENOSPC;
	r = excl ? &sp->ex[sp->n_ex++] : &sp->in[sp->n_in++];
	r->first = (uint16_t)h0;
	r->last = (uint16_t)h1;
	r->to = (uint16_t)g0;
	return 0;
}

/**
 * ports_addr() - Parse the ADDR[%DEV] or %DEV part before the slash
 * @sp:		Option being parsed, address and interface set
 * @s:		Start of the spec
 * @len:	Length up to the slash
 * @why:	Reason on failure, set
 *
 * Return: 0 on success, -EINVAL if malformed
 */
static int ports_addr(struct fwd_spec *sp, const char *s, size_t len,
		      const char **why)
{
	char buf[INET6_ADDRSTRLEN + IFNAMSIZ + 1], *dev;
	struct in6_addr a6;
	struct in_addr a4;

	*why = "malformed address or interface";
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dev = strchr(buf, '%');
	if (dev) {
		*dev++ = '\0';
		*why = "empty or too long interface name";
		if (!*dev || strlen(dev) >= IFNAMSIZ || strchr(dev, '%'))
			return -EINVAL;
		strcpy(sp->ifname, dev);
		if (!*buf)
			return 0;	/* %DEV: any address */
	}

	*why = "not an IPv4 or IPv6 address";
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		sp->af = AF_INET;
		inany_from_v4(&sp->addr, a4);
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		sp->af = AF_INET6;
		sp->addr.a6 = a6;
	} else {
		return -EINVAL;
	}
	return 0;
}

/**
 * ports_items() - Parse the comma-separated list after the address
 * @sp:		Option being parsed
 * @s:		The list
 * @why:	Reason on failure, set
 *
 * Return: 0 on success, -EINVAL or -ENOSPC
 */
static int ports_items(struct fwd_spec *sp, const char *s, const char **why)
{
	const char *end;
	int rc;

	for (;; s = end + 1) {
		end = strchrnul(s, ',');
		if (end - s == 3 && !strncmp(s, "all", 3) && !sp->all) {
			sp->all = true;
		} else if (end == s) {
			*why = "empty item";
			return -EINVAL;
		} else if ((rc = ports_item(sp, s, end, why))) {
			return rc;
		}
		if (!*end)
			break;
	}
	*why = "'all' mixed with explicit ports";
	if (sp->all && sp->n_in)
		return -EINVAL;
	if (!sp->n_in) {		/* "all", or exclusions only */
		sp->all = true;
		sp->in[0].first = sp->in[0].to = 1;
		sp->in[0].last = 65535;
		sp->n_in = 1;
	}
	return 0;
}

/**
 * ports_overlap() - First port two ranges share
 * @a:		Range
 * @b:		Range
 *
 * Return: the port, 0 if none
 */
static unsigned ports_overlap(const struct fwd_range *a,
			      const struct fwd_range *b)
{
	if (a->last < b->first || b->last < a->first)
		return 0;
	return a->first > b->first ? a->first : b->first;
}

/**
 * ports_any() - Is an address "any" of its family?
 * @a:		Address
 *
 * Return: true for 0.0.0.0 (IPv4-mapped) and ::
 */
static bool ports_any(const union inany_addr *a)
{
	const struct in_addr *a4 = inany_v4(a);

	return a4 ? !a4->s_addr : IN6_IS_ADDR_UNSPECIFIED(&a->a6);
}

/**
 * ports_same_sock() - Would two rules bind the same address and interface?
 * @a:		Rule
 * @b:		Rule
 *
 * Any address of both families (AF_UNSPEC) meets any address of one.
 *
 * Return: true if a port in both would be bound twice
 */
static bool ports_same_sock(const struct fwd_rule *a, const struct fwd_rule *b)
{
	if (strcmp(a->ifname, b->ifname) != 0)
		return false;
	if (a->af == b->af)
		return inany_equals(&a->addr, &b->addr);
	if (a->af == AF_UNSPEC)
		return ports_any(&b->addr);
	if (b->af == AF_UNSPEC)
		return ports_any(&a->addr);
	return false;
}

/**
 * ports_add() - Add one piece of a forwarded range as a rule
 * @fwd:	Rules of one protocol
 * @sp:		Option it comes from
 * @in:		Forwarded range it's a piece of
 * @first:	First port of the piece
 * @last:	Last port of the piece
 * @err:	Message on failure, set
 * @errlen:	Size of @err
 *
 * Return: 0 on success, -EEXIST if another rule binds a port of it to the
 *	   same address, -ENOSPC if the rules or slots are used up
 */
static int ports_add(struct fwd_ports *fwd, const struct fwd_spec *sp,
		     const struct fwd_range *in, unsigned first, unsigned last,
		     char *err, size_t errlen)
{
	struct fwd_range piece = { (uint16_t)first, (uint16_t)last, 0 };
	struct fwd_rule *r;
	unsigned i, p;

	if (fwd->n >= FWD_RULES_MAX ||
	    fwd->slots + (last - first + 1) > FWD_SLOTS_MAX) {
		snprintf(err, errlen, "too many forwarded ports or ranges");
		return -ENOSPC;
	}
	r = &fwd->rules[fwd->n];
	memset(r, 0, sizeof(*r));
	r->addr = sp->addr;
	memcpy(r->ifname, sp->ifname, IFNAMSIZ);
	r->af = sp->af;
	r->first = (uint16_t)first;
	r->last = (uint16_t)last;
	r->to = (uint16_t)(in->to + (first - in->first));
	r->weak = sp->all;
	r->opt = (uint16_t)fwd->opts;

	for (i = 0; i < fwd->n; i++) {
		struct fwd_range o = { fwd->rules[i].first,
				       fwd->rules[i].last, 0 };

		if (!ports_same_sock(r, &fwd->rules[i]) ||
		    !(p = ports_overlap(&piece, &o)))
			continue;
		if (fwd->rules[i].opt == r->opt)
			snprintf(err, errlen, "port %u given twice", p);
		else
			snprintf(err, errlen, "port %u already forwarded on "
				 "this address by an earlier option", p);
		return -EEXIST;
	}
	r->slot = fwd->slots;
	fwd->slots += last - first + 1;
	fwd->n++;
	return 0;
}

/**
 * ports_excluded() - Is a port excluded by an option?
 * @sp:		Option
 * @port:	Port
 *
 * Return: last port of the exclusion @port is in, 0 if not excluded
 */
static unsigned ports_excluded(const struct fwd_spec *sp, unsigned port)
{
	unsigned i, last = 0;

	for (i = 0; i < sp->n_ex; i++) {
		if (port >= sp->ex[i].first && port <= sp->ex[i].last &&
		    sp->ex[i].last > last)
			last = sp->ex[i].last;
	}
	return last;
}

/**
 * ports_split() - Add a forwarded range, less the exclusions, as rules
 * @fwd:	Rules of one protocol
 * @sp:		Option it comes from
 * @in:		Forwarded range
 * @err:	Message on failure, set
 * @errlen:	Size of @err
 *
 * Return: 0 on success, -EEXIST or -ENOSPC from ports_add()
 */
static int ports_split(struct fwd_ports *fwd, const struct fwd_spec *sp,
		       const struct fwd_range *in, char *err, size_t errlen)
{
	unsigned p = in->first, start, x;
	int rc;

	while (p <= in->last) {
		if ((x = ports_excluded(sp, p))) {
			p = x + 1;
			continue;
		}
		for (start = p; p <= in->last && !ports_excluded(sp, p); p++)
			;
		if ((rc = ports_add(fwd, sp, in, start, p - 1, err, errlen)))
			return rc;
	}
	return 0;
}

/**
 * fwd_ports_parse() - Parse one port forwarding option (-t, -u)
 * @fwd:	Rules of one protocol: zeroed before the first option; each
 *		option adds rules
 * @spec:	"none", or [ADDR[%DEV]/]ITEM[,ITEM]... with ITEM one of
 *		"all", PORT[-PORT][:PORT[-PORT]] (host port, then guest port)
 *		or ~PORT[-PORT] (exclusion, from this option's ports);
 *		exclusions alone mean "all but"
 * @err:	Reason on failure, set (without the spec)
 * @errlen:	Size of @err
 *
 * Return: 0 on success, -EINVAL on a malformed spec, a port 0 or past
 *	   65535, a backwards range, ranges of different lengths, "all"
 *	   mixed with explicit ports, or "none" with other options;
 *	   -EEXIST for a port bound twice to the same address (and
 *	   interface); -ENOSPC past FWD_RULES_MAX or FWD_SLOTS_MAX.  On
 *	   error @fwd is left partly updated.
 */
int fwd_ports_parse(struct fwd_ports *fwd, const char *spec, char *err,
		    size_t errlen)
{
	const char *s = spec, *slash = strchr(spec, '/'), *why = NULL;
	struct fwd_spec sp;
	unsigned i;
	int rc;

	fwd->opts++;
	if (!strcmp(spec, "none")) {
		snprintf(err, errlen, "'none' with other forwards");
		return fwd->n ? -EINVAL : 0;
	}

	memset(&sp, 0, sizeof(sp));
	if (slash) {
		if ((rc = ports_addr(&sp, spec, (size_t)(slash - spec), &why)))
			goto bad;
		s = slash + 1;
	}
	if ((rc = ports_items(&sp, s, &why)))
		goto bad;

	for (i = 0; i < sp.n_in; i++) {
		if ((rc = ports_split(fwd, &sp, &sp.in[i], err, errlen)))
			return rc;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s", why);
	return rc;
}
