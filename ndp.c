// SPDX-License-Identifier: GPL-2.0-or-later
/* ndp.c - Neighbour Discovery for the guest: we are its router and every
 *	   neighbour (RFC 4861, RFC 8106)
 *
 * DOC: Theory of operation
 *
 * Router Solicitation: answered with a Router Advertisement from our
 * link-local address (c->ip6.our_ll, fe80::1 by default) carrying
 *  - the M and O flags: addresses and other configuration also come from
 *    our DHCPv6 server (dhcpv6.c), for guests that ask,
 *  - router lifetime NDP_ROUTER_LIFETIME_S, so we become the default
 *    router,
 *  - our MAC as source link-layer address, the MTU (c->mtu),
 *  - a prefix information option with the /64 of c->ip6.addr, on-link and
 *    autonomous (L and A) with infinite lifetimes, so that SLAAC works,
 *  - RDNSS (c->ip6.dns) and DNSSL (c->dns_search), RFC 8106, if any.
 * The same advertisement goes out unsolicited to all nodes from
 * ndp_timer(), once the guest has shown up and then every
 * NDP_RA_INTERVAL_S, so that lifetimes never run out.
 *
 * Neighbour Solicitation: like ARP in arp.c, we answer for every target
 * except the guest's own addresses, with a solicited, override Neighbour
 * Advertisement giving our MAC; the router flag is set for our link-local
 * and the gateway addresses.  Duplicate Address Detection (source ::) is
 * never answered: the guest's addresses are its own.
 *
 * Bad input (RFC 4861, 6.1.1 and 7.1.1): hop limit other than 255 (the
 * message came from off-link), non-zero code, a message shorter than its
 * fixed part, a multicast target, an option of length zero or running
 * past the end: dropped with -EINVAL, counted by tap.c.  The checksum was
 * verified by tap.c.  Options are walked linearly; their content is not
 * otherwise used.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "ndp.h"
#include "checksum.h"
#include "dns.h"
#include "tap_out.h"

#define NDP_RA_FLAG_M		0x80	/* Managed: addresses by DHCPv6 */
#define NDP_RA_FLAG_O		0x40	/* Other configuration by DHCPv6 */
#define NDP_NA_FLAG_R		0x80000000U	/* Router */
#define NDP_NA_FLAG_S		0x40000000U	/* Solicited */
#define NDP_NA_FLAG_O		0x20000000U	/* Override */
#define NDP_PREFIX_FLAG_L	0x80	/* On-link */
#define NDP_PREFIX_FLAG_A	0x40	/* Autonomous: use for SLAAC */
#define NDP_PREFIX_LEN		64	/* SLAAC needs a /64 (RFC 4862) */
#define NDP_INFINITY		0xffffffffU
#define NDP_CUR_HOP_LIMIT	64	/* suggested to the guest */
#define NDP_OPT_UNIT		8	/* option lengths count 8 bytes */

/**
 * struct ndp_rs - Router Solicitation, fixed part (RFC 4861, 4.1)
 * @type:	NDP_RS
 * @code:	0
 * @csum:	ICMPv6 checksum
 * @reserved:	Zero, ignored
 */
struct ndp_rs {
	uint8_t type;
	uint8_t code;
	__be16 csum;
	__be32 reserved;
} PACKED;
static_assert(sizeof(struct ndp_rs) == 8, "wire size");

/**
 * struct ndp_ra - Router Advertisement, fixed part (RFC 4861, 4.2)
 * @type:	NDP_RA
 * @code:	0
 * @csum:	ICMPv6 checksum
 * @hop_limit:	Hop limit the guest should use
 * @flags:	NDP_RA_FLAG_M, NDP_RA_FLAG_O
 * @lifetime:	Router lifetime, seconds, network order
 * @reachable:	Reachable time, ms, network order (0: unspecified)
 * @retrans:	Retransmission timer, ms, network order (0: unspecified)
 */
struct ndp_ra {
	uint8_t type;
	uint8_t code;
	__be16 csum;
	uint8_t hop_limit;
	uint8_t flags;
	__be16 lifetime;
	__be32 reachable;
	__be32 retrans;
} PACKED;
static_assert(sizeof(struct ndp_ra) == 16, "wire size");

/**
 * struct ndp_ns_na - Neighbour Solicitation or Advertisement (RFC 4861,
 *		      4.3 and 4.4), fixed part
 * @type:	NDP_NS or NDP_NA
 * @code:	0
 * @csum:	ICMPv6 checksum
 * @flags:	NA: NDP_NA_FLAG_*, network order; NS: reserved
 * @target:	Target address
 */
struct ndp_ns_na {
	uint8_t type;
	uint8_t code;
	__be16 csum;
	__be32 flags;
	struct in6_addr target;
} PACKED;
static_assert(sizeof(struct ndp_ns_na) == 24, "wire size");

/**
 * struct ndp_opt_ll - Source or target link-layer address option (4.6.1)
 * @type:	NDP_OPT_SRC_LL or NDP_OPT_TGT_LL
 * @len:	1 (units of 8 bytes)
 * @mac:	MAC address
 */
struct ndp_opt_ll {
	uint8_t type;
	uint8_t len;
	uint8_t mac[ETH_ALEN];
} PACKED;
static_assert(sizeof(struct ndp_opt_ll) == 8, "wire size");

/**
 * struct ndp_opt_mtu - MTU option (4.6.4)
 * @type:	NDP_OPT_MTU
 * @len:	1
 * @reserved:	Zero
 * @mtu:	MTU, bytes, network order
 */
struct ndp_opt_mtu {
	uint8_t type;
	uint8_t len;
	__be16 reserved;
	__be32 mtu;
} PACKED;
static_assert(sizeof(struct ndp_opt_mtu) == 8, "wire size");

/**
 * struct ndp_opt_prefix - Prefix information option (4.6.2)
 * @type:	NDP_OPT_PREFIX
 * @len:	4
 * @prefix_len:	Prefix length, bits
 * @flags:	NDP_PREFIX_FLAG_L, NDP_PREFIX_FLAG_A
 * @valid:	Valid lifetime, seconds, network order
 * @preferred:	Preferred lifetime, seconds, network order
 * @reserved:	Zero
 * @prefix:	Prefix, bits past @prefix_len zero
 */
struct ndp_opt_prefix {
	uint8_t type;
	uint8_t len;
	uint8_t prefix_len;
	uint8_t flags;
	__be32 valid;
	__be32 preferred;
	__be32 reserved;
	struct in6_addr prefix;
} PACKED;
static_assert(sizeof(struct ndp_opt_prefix) == 32, "wire size");

/**
 * struct ndp_opt_dns - Header of RDNSS and DNSSL options (RFC 8106, 5.1
 *			and 5.2), followed by addresses or encoded names
 * @type:	NDP_OPT_RDNSS or NDP_OPT_DNSSL
 * @len:	Whole option, units of 8 bytes
 * @reserved:	Zero
 * @lifetime:	Seconds, network order
 */
struct ndp_opt_dns {
	uint8_t type;
	uint8_t len;
	__be16 reserved;
	__be32 lifetime;
} PACKED;
static_assert(sizeof(struct ndp_opt_dns) == 8, "wire size");

/* All-nodes multicast, ff02::1: unsolicited advertisements go there */
static const struct in6_addr ndp_all_nodes = {
	.s6_addr = { 0xff, 0x02, [15] = 0x01 }
};

/**
 * ndp_opts_valid() - Check the options of a message from the guest
 * @opts:	First option
 * @len:	Bytes from @opts to the end of the message
 * @has_sll:	Set if a source link-layer address option is present
 *
 * Return: true if every option has a non-zero length within @len
 */
static bool ndp_opts_valid(const uint8_t *opts, size_t len, bool *has_sll)
{
	size_t off = 0;

	*has_sll = false;
	while (off < len) {
		size_t olen;

		if (len - off < 2)
			return false;
		olen = (size_t)opts[off + 1] * NDP_OPT_UNIT;
		if (!olen || olen > len - off)
			return false;
		if (opts[off] == NDP_OPT_SRC_LL)
			*has_sll = true;
		off += olen;
	}
	return true;
}

/**
 * ndp_put() - Append bytes to a message being built
 * @buf:	Message
 * @size:	Size of @buf
 * @off:	Current length, updated
 * @data:	Bytes to append
 * @len:	Length of @data
 *
 * Return: 0 on success, -ENOSPC if @buf is full (nothing appended)
 */
static int ndp_put(uint8_t *buf, size_t size, size_t *off, const void *data,
		   size_t len)
{
	if (size - *off < len)
		return -ENOSPC;
	memcpy(buf + *off, data, len);
	*off += len;
	return 0;
}

/**
 * ndp_put_rdnss() - Append an RDNSS option, if there are DNS servers
 * @c:		Execution context
 * @buf:	Message
 * @size:	Size of @buf
 * @off:	Current length, updated
 *
 * Return: 0 on success, -ENOSPC if @buf is full
 */
static int ndp_put_rdnss(const struct ctx *c, uint8_t *buf, size_t size,
			 size_t *off)
{
	struct ndp_opt_dns h = { .type = NDP_OPT_RDNSS };
	size_t n = 0, start = *off;
	int rc;

	while (n < MAXDNS && !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[n]))
		n++;
	if (!n)
		return 0;

	h.len = (uint8_t)(1 + 2 * n);
	h.lifetime = htonl(NDP_INFINITY);
	rc = ndp_put(buf, size, off, &h, sizeof(h));
	if (!rc)
		rc = ndp_put(buf, size, off, c->ip6.dns,
			     n * sizeof(struct in6_addr));
	if (rc)
		*off = start;
	return rc;
}

/**
 * ndp_put_dnssl() - Append a DNSSL option, if there are search domains
 * @c:		Execution context
 * @buf:	Message
 * @size:	Size of @buf
 * @off:	Current length, updated
 *
 * Names that can't be encoded are skipped; the option is padded with
 * zeroes to a multiple of 8 bytes (RFC 8106, 5.2).
 *
 * Return: 0 on success, -ENOSPC if @buf is full
 */
static int ndp_put_dnssl(const struct ctx *c, uint8_t *buf, size_t size,
			 size_t *off)
{
	struct ndp_opt_dns h = { .type = NDP_OPT_DNSSL };
	size_t start = *off, len = sizeof(h), used, i;

	for (i = 0; i < MAXDNSRCH && c->dns_search[i][0]; i++) {
		int n;

		if (size - start < len)
			return -ENOSPC;
		n = dns_name_encode(c->dns_search[i], buf + start + len,
				    size - start - len);
		if (n == -ENOSPC)
			return -ENOSPC;
		if (n > 0)
			len += (size_t)n;
	}
	if (len == sizeof(h))
		return 0;

	used = len;
	len = ROUND_UP(len, NDP_OPT_UNIT);
	if (size - start < len)
		return -ENOSPC;
	memset(buf + start + used, 0, len - used);	/* names in place */
	h.len = (uint8_t)(len / NDP_OPT_UNIT);
	h.lifetime = htonl(NDP_INFINITY);
	memcpy(buf + start, &h, sizeof(h));
	*off = start + len;
	return 0;
}

/**
 * ndp_build_ra() - Build our Router Advertisement
 * @c:		Execution context
 * @buf:	Output: ICMPv6 message, checksum left zero
 * @size:	Size of @buf, bytes
 *
 * Return: message length, -ENOSPC if @buf is too small
 */
int ndp_build_ra(const struct ctx *c, uint8_t *buf, size_t size)
{
	struct ndp_ra ra = {
		.type = NDP_RA, .hop_limit = NDP_CUR_HOP_LIMIT,
		.flags = NDP_RA_FLAG_M | NDP_RA_FLAG_O,
		.lifetime = htons(NDP_ROUTER_LIFETIME_S),
	};
	struct ndp_opt_ll sll = { .type = NDP_OPT_SRC_LL, .len = 1 };
	struct ndp_opt_mtu mtu = {
		.type = NDP_OPT_MTU, .len = 1,
		.mtu = htonl(c->mtu ? c->mtu : MTU_DEFAULT),
	};
	struct ndp_opt_prefix pi = {
		.type = NDP_OPT_PREFIX, .len = sizeof(pi) / NDP_OPT_UNIT,
		.prefix_len = NDP_PREFIX_LEN,
		.flags = NDP_PREFIX_FLAG_L | NDP_PREFIX_FLAG_A,
		.valid = htonl(NDP_INFINITY), .preferred = htonl(NDP_INFINITY),
	};
	size_t off = 0;
	int rc;

	memcpy(sll.mac, c->our_mac, ETH_ALEN);
	memcpy(pi.prefix.s6_addr, c->ip6.addr.s6_addr, NDP_PREFIX_LEN / 8);

	rc = ndp_put(buf, size, &off, &ra, sizeof(ra));
	if (!rc)
		rc = ndp_put(buf, size, &off, &sll, sizeof(sll));
	if (!rc)
		rc = ndp_put(buf, size, &off, &mtu, sizeof(mtu));
	if (!rc && !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr))
		rc = ndp_put(buf, size, &off, &pi, sizeof(pi));
	if (!rc)
		rc = ndp_put_rdnss(c, buf, size, &off);
	if (!rc)
		rc = ndp_put_dnssl(c, buf, size, &off);
	return rc ? rc : (int)off;
}

/**
 * ndp_send() - Checksum an ICMPv6 message and send it to the guest
 * @c:		Execution context
 * @src:	Source address
 * @dst:	Destination address
 * @msg:	Message, checksum field zero
 * @len:	Message length, bytes
 *
 * Return: 0 on success, -errno if the guest can't take it
 */
static int ndp_send(struct ctx *c, const struct in6_addr *src,
		    const struct in6_addr *dst, uint8_t *msg, size_t len)
{
	union inany_addr s = { .a6 = *src }, d = { .a6 = *dst };
	struct iovec iov = { msg, len };
	uint16_t sum = csum_l4(&s, &d, IPPROTO_ICMPV6, &iov, 1);

	memcpy(msg + offsetof(struct ndp_ra, csum), &sum, sizeof(sum));
	return tap_send_l4(c, &s, &d, IPPROTO_ICMPV6, &iov, 1);
}

/**
 * ndp_ra() - Send our Router Advertisement
 * @c:		Execution context
 * @dst:	Destination: the soliciting guest, or all nodes
 *
 * Return: 0 on success, -errno on failure
 */
static int ndp_ra(struct ctx *c, const struct in6_addr *dst)
{
	static uint8_t buf[NDP_REPLY_MAX];
	int len = ndp_build_ra(c, buf, sizeof(buf));

	if (len < 0)
		return len;
	return ndp_send(c, &c->ip6.our_ll, dst, buf, (size_t)len);
}

/**
 * ndp_rs() - Check a Router Solicitation and answer it
 * @c:		Execution context
 * @saddr:	Source address of the solicitation
 * @msg:	ICMPv6 message
 * @len:	Message length, bytes
 *
 * Return: 0 if answered, -EINVAL if malformed, other -errno on failure
 */
static int ndp_rs(struct ctx *c, const struct in6_addr *saddr,
		  const uint8_t *msg, size_t len)
{
	bool has_sll;

	if (len < sizeof(struct ndp_rs))
		return -EINVAL;
	if (!ndp_opts_valid(msg + sizeof(struct ndp_rs),
			    len - sizeof(struct ndp_rs), &has_sll))
		return -EINVAL;

	/* RFC 4861, 6.1.1: no source link-layer address from :: */
	if (IN6_IS_ADDR_UNSPECIFIED(saddr)) {
		if (has_sll)
			return -EINVAL;
		return ndp_ra(c, &ndp_all_nodes);
	}
	return ndp_ra(c, saddr);
}

/**
 * ndp_is_guest() - Is this one of the guest's own addresses?
 * @c:		Execution context
 * @a:		Address
 *
 * Return: true if @a is the address we give the guest or one it uses
 */
static bool ndp_is_guest(const struct ctx *c, const struct in6_addr *a)
{
	return IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr) ||
	       IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr_seen) ||
	       IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr_ll_seen);
}

/**
 * ndp_ns() - Check a Neighbour Solicitation and answer it for the target
 * @c:		Execution context
 * @saddr:	Source address of the solicitation
 * @msg:	ICMPv6 message
 * @len:	Message length, bytes
 *
 * Return: 0 if answered or nothing to answer (DAD, the guest's own
 * address), -EINVAL if malformed, other -errno on failure
 */
static int ndp_ns(struct ctx *c, const struct in6_addr *saddr,
		  const uint8_t *msg, size_t len)
{
	struct {
		struct ndp_ns_na na;
		struct ndp_opt_ll tll;
	} PACKED r = { 0 };
	struct in6_addr target;
	struct ndp_ns_na ns;
	bool has_sll;

	if (len < sizeof(ns))
		return -EINVAL;
	memcpy(&ns, msg, sizeof(ns));
	target = ns.target;
	if (IN6_IS_ADDR_MULTICAST(&target) ||
	    !ndp_opts_valid(msg + sizeof(ns), len - sizeof(ns), &has_sll))
		return -EINVAL;

	if (IN6_IS_ADDR_UNSPECIFIED(saddr))
		return has_sll ? -EINVAL : 0;	/* DAD: never contest it */
	if (IN6_IS_ADDR_UNSPECIFIED(&target) ||
	    ndp_is_guest(c, &target))
		return 0;

	r.na.type = NDP_NA;
	r.na.flags = htonl(NDP_NA_FLAG_S | NDP_NA_FLAG_O);
	if (IN6_ARE_ADDR_EQUAL(&target, &c->ip6.our_ll) ||
	    IN6_ARE_ADDR_EQUAL(&target, &c->ip6.gw))
		r.na.flags |= htonl(NDP_NA_FLAG_R);
	r.na.target = target;
	r.tll.type = NDP_OPT_TGT_LL;
	r.tll.len = 1;
	memcpy(r.tll.mac, c->our_mac, ETH_ALEN);

	/* We answer as the target itself: it's one of "our" addresses */
	return ndp_send(c, &target, saddr, (uint8_t *)&r, sizeof(r));
}

/**
 * ndp_handler() - Handle a Router or Neighbour Solicitation from the guest
 * @c:		Execution context
 * @saddr:	IPv6 source address
 * @daddr:	IPv6 destination address
 * @hop_limit:	Hop limit of the IPv6 header
 * @icmp:	ICMPv6 message, checksum already verified
 * @len:	Message length, bytes
 *
 * Return: 0 if answered or deliberately ignored, -EINVAL if malformed,
 * -EOPNOTSUPP for other types, other -errno if no reply could be sent
 */
int ndp_handler(struct ctx *c, const struct in6_addr *saddr,
		const struct in6_addr *daddr, uint8_t hop_limit,
		const uint8_t *icmp, size_t len)
{
	(void)daddr;	/* any of ours, or a multicast group we stand for */

	if (len < 2 || hop_limit != NDP_HOP_LIMIT || icmp[1] != 0)
		return -EINVAL;

	switch (icmp[0]) {
	case NDP_RS:
		return ndp_rs(c, saddr, icmp, len);
	case NDP_NS:
		return ndp_ns(c, saddr, icmp, len);
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * ndp_timer() - Send unsolicited Router Advertisements to the guest
 * @c:		Execution context, with a current @now
 *
 * The first goes out once the guest has sent a frame (its MAC is known),
 * then one every NDP_RA_INTERVAL_S.
 */
void ndp_timer(struct ctx *c)
{
	static const uint8_t zero[ETH_ALEN];
	static struct timespec last;
	static bool sent;

	if (!c->v6 || !memcmp(c->guest_mac, zero, ETH_ALEN))
		return;
	if (sent && timespec_diff_ms(&c->now, &last) <
		    (long long)NDP_RA_INTERVAL_S * 1000)
		return;

	if (ndp_ra(c, &ndp_all_nodes) == 0) {
		sent = true;
		last = c->now;
	}
}
