// SPDX-License-Identifier: GPL-2.0-or-later
/* netlink.c - Host routes and addresses via rtnetlink, for the defaults
 *
 * DOC: Theory of operation
 *
 * At start-up only, conf.c asks two questions about the host: which
 * interface and gateway carry the default route of an address family, and
 * which global address (with its prefix length) that interface has.  Each
 * question is one NETLINK_ROUTE dump request on a fresh socket, closed
 * afterwards, so no state survives between calls.
 *
 * Replies are treated as untrusted input all the same: only datagrams from
 * the kernel (port ID 0) with our sequence number are read, every message
 * and attribute length is checked against what is left of the datagram
 * before it is used, and attributes shorter than the address they should
 * hold are ignored.  A dump that ends without a match gives -ENOENT.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "util.h"
#include "netlink.h"

#define NL_BUFSIZE	65536	/* bytes: large enough for any dump datagram */

/* Receive buffer: start-up only, single-threaded, so one static copy */
static uint8_t nl_buf[NL_BUFSIZE] __attribute__((aligned(NLMSG_ALIGNTO)));

/**
 * struct nl_req - Dump request for routes or addresses
 * @nlh:	Netlink header
 * @rtm:	Route request (RTM_GETROUTE)
 * @ifa:	Address request (RTM_GETADDR)
 */
struct nl_req {
	struct nlmsghdr nlh;
	union {
		struct rtmsg rtm;
		struct ifaddrmsg ifa;
	};
};

/**
 * typedef nl_cb_t - Called for each message of a dump
 * @nh:		Message, nlmsg_len already checked to fit the datagram
 * @arg:	Caller's query state
 *
 * Return: true if the message answered the query (stop), false otherwise
 */
typedef bool (*nl_cb_t)(const struct nlmsghdr *nh, void *arg);

/**
 * nl_open() - Open and bind a NETLINK_ROUTE socket
 *
 * Return: socket, or -errno
 *
 * #syscalls socket bind close
 */
static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, rc;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/**
 * nl_recv() - Receive one datagram from the kernel
 * @fd:		Netlink socket
 *
 * Return: datagram length (into nl_buf), or -errno
 *
 * #syscalls recvfrom
 */
static ssize_t nl_recv(int fd)
{
	for (;;) {
		struct sockaddr_nl sa;
		socklen_t sl = sizeof(sa);
		ssize_t n;

		n = recvfrom(fd, nl_buf, sizeof(nl_buf), 0,
			     (struct sockaddr *)&sa, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (sl >= sizeof(sa) && sa.nl_pid == 0)
			return n;
		/* not from the kernel: ignore it */
	}
}

/**
 * nl_walk() - Hand the messages of one datagram to a callback
 * @len:	Datagram length in nl_buf
 * @seq:	Sequence number of our request
 * @cb:		Callback
 * @arg:	Callback state
 *
 * Return: 1 if the callback matched, 0 to read more, -ENOENT at the end
 *	   of the dump, -errno if the kernel reported an error
 */
static int nl_walk(size_t len, uint32_t seq, nl_cb_t cb, void *arg)
{
	const struct nlmsghdr *nh = (const struct nlmsghdr *)nl_buf;
	size_t left = len;

	for (; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
		if (nh->nlmsg_seq != seq)
			continue;
		if (nh->nlmsg_type == NLMSG_DONE)
			return -ENOENT;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error ? e->error : -ENOENT;
		}
		if (cb(nh, arg))
			return 1;
	}
	return 0;
}

/**
 * nl_dump() - Send a dump request and feed replies to a callback
 * @type:	RTM_GETROUTE or RTM_GETADDR
 * @af:		AF_INET or AF_INET6
 * @cb:		Callback, called for each reply message
 * @arg:	Callback state
 *
 * Return: 0 if the callback matched, -ENOENT if not, other -errno on error
 *
 * #syscalls sendto
 */
static int nl_dump(uint16_t type, int af, nl_cb_t cb, void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static uint32_t seq;
	struct nl_req req;
	int fd, rc;

	fd = nl_open();
	if (fd < 0)
		return fd;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_type = type;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = ++seq;
	if (type == RTM_GETROUTE) {
		req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rtm));
		req.rtm.rtm_family = af;
		req.rtm.rtm_table = RT_TABLE_MAIN;
	} else {
		req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
		req.ifa.ifa_family = af;
	}

	if (sendto(fd, &req, req.nlh.nlmsg_len, 0,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}

	do {
		ssize_t n = nl_recv(fd);

		if (n < 0) {
			rc = n;
			goto out;
		}
		rc = nl_walk(n, seq, cb, arg);
	} while (!rc);
	if (rc > 0)
		rc = 0;
out:
	close(fd);
	return rc;
}

/**
 * struct nl_route_q - Query state for the default route
 * @af:		Address family
 * @ifi_want:	Only routes via this interface, 0 for any
 * @ifi:	Output interface of the route found
 * @gw:		Gateway of the route found, zero if it has none
 */
struct nl_route_q {
	int af;
	unsigned ifi_want;
	unsigned ifi;
	uint8_t gw[sizeof(struct in6_addr)];
};

/**
 * nl_addr_len() - Size of an address of a family
 * @af:		AF_INET or AF_INET6
 *
 * Return: 4 or 16
 */
static size_t nl_addr_len(int af)
{
	return af == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

/**
 * nl_nexthop() - Take the interface and gateway of the first next hop
 * @q:		Query state, updated
 * @rta:	RTA_MULTIPATH attribute, length checked
 */
static void nl_nexthop(struct nl_route_q *q, const struct rtattr *rta)
{
	const struct rtnexthop *nh = RTA_DATA(rta);
	size_t left = RTA_PAYLOAD(rta);
	const struct rtattr *a;
	int alen;

	if (left < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) ||
	    nh->rtnh_len > left)
		return;
	q->ifi = nh->rtnh_ifindex;

	alen = nh->rtnh_len - RTNH_LENGTH(0);
	for (a = RTNH_DATA(nh); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == RTA_GATEWAY &&
		    RTA_PAYLOAD(a) >= nl_addr_len(q->af))
			memcpy(q->gw, RTA_DATA(a), nl_addr_len(q->af));
	}
}

/**
 * nl_route_cb() - Match a default route in the main table
 * @nh:		RTM_NEWROUTE message
 * @arg:	struct nl_route_q
 *
 * Return: true if this is the route we want
 */
static bool nl_route_cb(const struct nlmsghdr *nh, void *arg)
{
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	struct nl_route_q *q = arg;
	unsigned table;
	const struct rtattr *a;
	int alen;

	if (nh->nlmsg_type != RTM_NEWROUTE ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return false;
	if (rtm->rtm_family != q->af || rtm->rtm_dst_len ||
	    rtm->rtm_type != RTN_UNICAST)
		return false;

	table = rtm->rtm_table;
	q->ifi = 0;
	memset(q->gw, 0, sizeof(q->gw));
	alen = RTM_PAYLOAD(nh);
	for (a = RTM_RTA(rtm); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= 4)
			memcpy(&table, RTA_DATA(a), 4);
		else if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4)
			memcpy(&q->ifi, RTA_DATA(a), 4);
		else if (a->rta_type == RTA_GATEWAY &&
			 RTA_PAYLOAD(a) >= nl_addr_len(q->af))
			memcpy(q->gw, RTA_DATA(a), nl_addr_len(q->af));
		else if (a->rta_type == RTA_MULTIPATH && !q->ifi)
			nl_nexthop(q, a);
	}

	if (table != RT_TABLE_MAIN || !q->ifi)
		return false;
	return !q->ifi_want || q->ifi == q->ifi_want;
}

/**
 * nl_route_default() - Find the default route of an address family
 * @af:		AF_INET or AF_INET6
 * @ifi:	On input, interface to restrict the search to (0: any);
 *		on success, the route's output interface
 * @gw:		Gateway (struct in_addr or in6_addr), zero if the route has
 *		none (point-to-point link)
 *
 * Return: 0 on success, -ENOENT if there is no default route, -errno
 */
int nl_route_default(int af, unsigned *ifi, void *gw)
{
	struct nl_route_q q = { .af = af, .ifi_want = *ifi };
	int rc;

	rc = nl_dump(RTM_GETROUTE, af, nl_route_cb, &q);
	if (rc)
		return rc;
	*ifi = q.ifi;
	memcpy(gw, q.gw, nl_addr_len(af));
	return 0;
}

/**
 * struct nl_addr_q - Query state for an interface address
 * @af:		Address family
 * @ifi:	Interface index
 * @addr:	Address found
 * @prefix_len:	Its prefix length
 */
struct nl_addr_q {
	int af;
	unsigned ifi;
	uint8_t addr[sizeof(struct in6_addr)];
	int prefix_len;
};

/**
 * nl_addr_cb() - Match a usable global address on an interface
 * @nh:		RTM_NEWADDR message
 * @arg:	struct nl_addr_q
 *
 * Tentative, deprecated and duplicate (DAD failed) addresses are skipped.
 * For IPv4, IFA_LOCAL is our address (IFA_ADDRESS is the peer's on
 * point-to-point links); IPv6 only has IFA_ADDRESS.
 *
 * Return: true if the address is usable
 */
static bool nl_addr_cb(const struct nlmsghdr *nh, void *arg)
{
	const uint32_t skip = IFA_F_TENTATIVE | IFA_F_DEPRECATED |
			      IFA_F_DADFAILED;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	struct nl_addr_q *q = arg;
	const void *local = NULL, *address = NULL;
	uint32_t flags;
	const struct rtattr *a;
	int alen;

	if (nh->nlmsg_type != RTM_NEWADDR ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return false;
	if (ifa->ifa_family != q->af || ifa->ifa_index != q->ifi ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return false;

	flags = ifa->ifa_flags;
	alen = IFA_PAYLOAD(nh);
	for (a = IFA_RTA(ifa); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= 4)
			memcpy(&flags, RTA_DATA(a), 4);
		if (RTA_PAYLOAD(a) < nl_addr_len(q->af))
			continue;
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
	}

	if (flags & skip)
		return false;
	if (q->af == AF_INET && local)
		address = local;
	if (!address)
		return false;

	memcpy(q->addr, address, nl_addr_len(q->af));
	q->prefix_len = ifa->ifa_prefixlen;
	return true;
}

/**
 * nl_addr_first() - Find the first global address of an interface
 * @af:		AF_INET or AF_INET6
 * @ifi:	Interface index
 * @addr:	Address found (struct in_addr or in6_addr)
 * @prefix_len:	Its prefix length
 *
 * Return: 0 on success, -ENOENT if the interface has none, -errno
 */
int nl_addr_first(int af, unsigned ifi, void *addr, int *prefix_len)
{
	struct nl_addr_q q = { .af = af, .ifi = ifi };
	int rc;

	rc = nl_dump(RTM_GETADDR, af, nl_addr_cb, &q);
	if (rc)
		return rc;
	memcpy(addr, q.addr, nl_addr_len(af));
	*prefix_len = q.prefix_len;
	return 0;
}
