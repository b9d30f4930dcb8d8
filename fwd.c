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
 * Everything else goes through unchanged.  Forwarded ports (-t, -u) are
 * bitmaps in struct fwd_ports, with a per-port offset from host port to
 * guest port, parsed from the command line by fwd_ports_parse(): a
 * malformed spec is rejected with -EINVAL (conf.c reports it and exits).  None of this looks at peer data beyond addresses and ports,
 * which are all valid values: there is no bad input to reject here.
 */

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "fwd.h"

#define FWD_DNS_PORT	53

/**
 * fwd_bit() - Test a bit in a port bitmap
 * @map:	Bitmap, 65536 bits
 * @port:	Port
 *
 * Return: true if set
 */
static bool fwd_bit(const uint8_t *map, uint16_t port)
{
	return map[port / 8] & (1U << (port % 8));
}

/**
 * fwd_port_forwarded() - Is a host port forwarded to the guest?
 * @fwd:	Forwarding spec of one protocol
 * @host_port:	Host port, host order
 *
 * Return: true if forwarded: listed (FWD_SPEC) or not excluded (FWD_ALL)
 */
bool fwd_port_forwarded(const struct fwd_ports *fwd, uint16_t host_port)
{
	if (!host_port || fwd_bit(fwd->excl, host_port))
		return false;
	if (fwd->mode == FWD_ALL)
		return true;
	return fwd->mode == FWD_SPEC && fwd_bit(fwd->map, host_port);
}

/**
 * fwd_port_to_guest() - Guest port for a forwarded host port
 * @fwd:	Forwarding spec of one protocol
 * @host_port:	Host port, host order
 *
 * Return: guest port, host order
 */
uint16_t fwd_port_to_guest(const struct fwd_ports *fwd, uint16_t host_port)
{
	return (uint16_t)(host_port + fwd->delta[host_port]);
}

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

/**
 * fwd_bind_addr() - Address to bind a forwarded port's socket to
 * @fwd:	Forwarding spec, with its optional address
 * @af:		AF_INET or AF_INET6: the socket's family
 * @a:		Address, set: the spec's if it's of family @af, else "any"
 *		(IPv4-mapped 0.0.0.0 for AF_INET, :: for AF_INET6)
 */
void fwd_bind_addr(const struct fwd_ports *fwd, int af, union inany_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (af == AF_INET) {
		struct in_addr any = { htonl(INADDR_ANY) };

		inany_from_v4(a, fwd->addr.family == AF_INET ?
				 fwd->addr.a4 : any);
	} else if (fwd->addr.family == AF_INET6) {
		a->a6 = fwd->addr.a6;
	}
}

/* ---------------------------------------------------------------- */
/* Port specs                                                        */
/* ---------------------------------------------------------------- */

/**
 * fwd_inany() - Parse an IPv4 or IPv6 address
 * @s:		String
 * @a4:		IPv4 result
 * @a6:		IPv6 result
 *
 * Return: AF_INET, AF_INET6, or 0 if @s is neither
 */
static int fwd_inany(const char *s, struct in_addr *a4, struct in6_addr *a6)
{
	if (inet_pton(AF_INET, s, a4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a6) == 1)
		return AF_INET6;
	return 0;
}

/* Port bitmaps: one bit per port, port / 8 is the byte */
#define BIT_SET(map, p)		((map)[(p) / 8] |= 1U << ((p) % 8))
#define BIT_CLEAR(map, p)	((map)[(p) / 8] &= ~(1U << ((p) % 8)))
#define BIT_ISSET(map, p)	(!!((map)[(p) / 8] & (1U << ((p) % 8))))

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
		v = v * 10 + (*s - '0');
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
 * ports_item() - Apply one item: ~PORT[-PORT] or PORT[-PORT][:PORT[-PORT]]
 * @fwd:	Ports of one protocol
 * @s:		Start of the item
 * @end:	End of the item (comma or end of string)
 * @incl:	Set if the item forwards ports (not an exclusion)
 *
 * Return: 0 on success, -EINVAL if malformed or overlapping
 */
static int ports_item(struct fwd_ports *fwd, const char *s, const char *end,
		      bool *incl)
{
	unsigned h0, h1, g0, g1, p;
	bool excl = *s == '~', hr, gr;

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
		if (g1 > 65535 || g1 - g0 != h1 - h0)
			return -EINVAL;
	}
	if (s != end)
		return -EINVAL;

	for (p = h0; p <= h1; p++) {
		if (excl) {
			BIT_SET(fwd->excl, p);
			continue;
		}
		if (BIT_ISSET(fwd->map, p))
			return -EINVAL;
		BIT_SET(fwd->map, p);
		fwd->delta[p] = (uint16_t)(g0 - h0);
	}
	*incl |= !excl;
	return 0;
}

/**
 * ports_addr() - Parse the ADDR[%DEV] or %DEV part before the slash
 * @fwd:	Ports of one protocol
 * @s:		Start of the spec
 * @len:	Length up to the slash
 *
 * The interface name is checked but not used yet: we bind to the address.
 *
 * Return: 0 on success, -EINVAL if malformed or differing from an address
 *	   given in an earlier spec for the same protocol
 */
static int ports_addr(struct fwd_ports *fwd, const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + IFNAMSIZ + 1], *dev;
	struct in6_addr a6;
	struct in_addr a4;
	int af;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dev = strchr(buf, '%');
	if (dev) {
		*dev++ = '\0';
		if (!*dev || strlen(dev) >= IFNAMSIZ)
			return -EINVAL;
		if (!*buf)
			return 0;
	}

	af = fwd_inany(buf, &a4, &a6);
	if (!af)
		return -EINVAL;
	if (fwd->addr.family && (fwd->addr.family != af ||
	    (af == AF_INET ? memcmp(&fwd->addr.a4, &a4, sizeof(a4)) != 0 :
			     memcmp(&fwd->addr.a6, &a6, sizeof(a6)) != 0)))
		return -EINVAL;
	fwd->addr.family = af;
	if (af == AF_INET)
		fwd->addr.a4 = a4;
	else
		fwd->addr.a6 = a6;
	return 0;
}

/**
 * ports_finish() - Fill the map for FWD_ALL, then apply exclusions
 * @fwd:	Ports of one protocol
 */
static void ports_finish(struct fwd_ports *fwd)
{
	unsigned p;

	for (p = 1; p <= 65535; p++) {
		if (BIT_ISSET(fwd->excl, p)) {
			BIT_CLEAR(fwd->map, p);
			fwd->delta[p] = 0;
		} else if (fwd->mode == FWD_ALL) {
			BIT_SET(fwd->map, p);
			fwd->delta[p] = 0;
		}
	}
}

/**
 * fwd_ports_parse() - Parse a port forwarding spec (-t, -u) into @fwd
 * @fwd:	Ports of one protocol: zeroed before the first spec; later
 *		specs add to it
 * @spec:	"none", "all", or [ADDR[%DEV]/]ITEM[,ITEM]... with ITEM one of
 *		PORT[-PORT][:PORT[-PORT]] (host port, then guest port) or
 *		~PORT[-PORT] (exclusion); exclusions alone mean "all but"
 *
 * Return: 0 on success, -EINVAL on a malformed spec, a port 0 or past
 *	   65535, a backwards range, ranges of different lengths, a port
 *	   given twice, or "all" mixed with explicit ports.  On error @fwd
 *	   is left partly updated.
 */
int fwd_ports_parse(struct fwd_ports *fwd, const char *spec)
{
	const char *s = spec, *slash = strchr(spec, '/'), *end;
	bool incl = false;

	if (!strcmp(spec, "none"))
		return fwd->mode == FWD_NONE ? 0 : -EINVAL;
	if (slash) {
		if (ports_addr(fwd, spec, slash - spec))
			return -EINVAL;
		s = slash + 1;
	}

	if (!strcmp(s, "all")) {
		if (fwd->mode != FWD_NONE)
			return -EINVAL;
		fwd->mode = FWD_ALL;
		ports_finish(fwd);
		return 0;
	}

	for (;; s = end + 1) {
		end = strchrnul(s, ',');
		if (end == s || ports_item(fwd, s, end, &incl))
			return -EINVAL;
		if (!*end)
			break;
	}

	if (incl && fwd->mode == FWD_ALL)
		return -EINVAL;
	if (incl)
		fwd->mode = FWD_SPEC;
	else if (fwd->mode == FWD_NONE)
		fwd->mode = FWD_ALL;
	ports_finish(fwd);
	return 0;
}
