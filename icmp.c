// SPDX-License-Identifier: GPL-2.0-or-later
/* icmp.c - ICMP and ICMPv6 echo from the guest, through ping sockets
 *
 * DOC: Theory of operation
 *
 * An echo request from the guest is sent on with a "ping" socket
 * (SOCK_DGRAM, IPPROTO_ICMP or IPPROTO_ICMPV6), which needs no privilege,
 * only a group in net.ipv4.ping_group_range (which covers both families).
 * The kernel picks the echo identifier itself (the socket's local port)
 * and fills the checksum; the sequence number and data go through
 * unchanged.
 *
 * Each (destination, guest identifier) pair is an echo "flow" with its own
 * socket, in a fixed table of ICMP_FLOWS entries.  Replies read from the
 * socket get the guest's identifier back and a fresh checksum, and go to
 * the guest from the address it pinged; ICMPv6 replies get their checksum
 * with the pseudo-header (RFC 4443, 2.3).  The gateway address stands for
 * the host: echo requests to it (c->ip4.gw, c->ip6.gw or c->ip6.our_ll) go
 * to 127.0.0.1 or ::1, and replies come back from the address pinged.
 * Echo headers have the same layout in both families (type, code,
 * checksum, identifier, sequence), so one struct icmphdr serves both.
 *
 * Flows idle for ICMP_TIMEOUT_MS are closed by icmp_timer().  A full table
 * gives up its least recently used flow.  If we can't open a ping socket
 * (ping_group_range doesn't include us, or out of descriptors), the
 * request is dropped and we warn at most once a minute.
 *
 * Bad input: requests shorter than an ICMP header, with a non-zero code
 * or to a broadcast or multicast address are dropped (-errno, counted by
 * the caller), and so are ICMPv6 requests to a link-local address other
 * than ours (no interface to send them from); other types are not
 * handled.  Socket events are checked against the table (index, fd) so a
 * stale one does nothing.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "icmp.h"
#include "checksum.h"
#include "tap_out.h"

#define ICMP_WARN_INTERVAL	60	/* seconds between socket warnings */
#define ICMP_RECV_BATCH		32	/* replies read per event at most */
#define ICMP_MAX_LEN		65535

/**
 * struct icmp_flow - One echo flow: a guest identifier to one destination
 * @in_use:	Entry holds an open socket
 * @fd:		Ping socket
 * @dst:	Destination as the guest addressed it (IPv4-mapped for IPv4)
 * @src:	Guest's source address, same family: replies go there
 * @id:		Guest's echo identifier, host order
 * @seq:	Last sequence number the guest sent, host order
 * @last:	Last activity (CLOCK_MONOTONIC)
 */
struct icmp_flow {
	bool in_use;
	int fd;
	union inany_addr dst;
	union inany_addr src;
	uint16_t id;
	uint16_t seq;
	struct timespec last;
};

static struct icmp_flow icmp_flows[ICMP_FLOWS];

/**
 * icmp_flow_close() - Close a flow's socket and free its entry
 * @c:		Execution context
 * @f:		Flow
 *
 * #syscalls close
 */
static void icmp_flow_close(const struct ctx *c, struct icmp_flow *f)
{
	ev_del(c->epollfd, f->fd);
	close_fd(&f->fd);
	f->in_use = false;
}

/**
 * icmp_flow_find() - Look up the flow for a destination and identifier
 * @dst:	Destination (IPv4-mapped for IPv4)
 * @id:		Guest's echo identifier, host order
 *
 * Return: flow, or NULL if none
 */
static struct icmp_flow *icmp_flow_find(const union inany_addr *dst,
					uint16_t id)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (f->in_use && f->id == id && inany_equals(&f->dst, dst))
			return f;
	}
	return NULL;
}

/**
 * icmp_flow_slot() - Pick a free entry, or make one from the LRU flow
 * @c:		Execution context
 *
 * Return: free entry
 */
static struct icmp_flow *icmp_flow_slot(const struct ctx *c)
{
	struct icmp_flow *lru = &icmp_flows[0];
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (!f->in_use)
			return f;
		if (timespec_diff_ms(&lru->last, &f->last) > 0)
			lru = f;
	}
	debug("ICMP: flow table full, reusing the least recently used");
	icmp_flow_close(c, lru);
	return lru;
}

/**
 * icmp_flow_new() - Open a ping socket for a new flow
 * @c:		Execution context
 * @dst:	Destination (IPv4-mapped for IPv4)
 * @id:		Guest's echo identifier, host order
 *
 * Return: flow, or NULL if no socket could be opened
 *
 * #syscalls socket close
 */
static struct icmp_flow *icmp_flow_new(const struct ctx *c,
				       const union inany_addr *dst,
				       uint16_t id)
{
	static time_t last_warn;
	struct icmp_flow *f = icmp_flow_slot(c);
	int fd, rc;

	if (inany_v4(dst))
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    IPPROTO_ICMP);
	else
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    IPPROTO_ICMPV6);
	if (fd < 0) {
		rc = -errno;
		goto err;
	}
	rc = ev_add(c->epollfd, fd, EPOLLIN, EV_ICMP,
		    (uint32_t)(f - icmp_flows));
	if (rc)
		goto err_close;

	*f = (struct icmp_flow){
		.in_use = true, .fd = fd, .dst = *dst, .id = id, .last = c->now,
	};
	return f;

err_close:
	close(fd);
err:
	if (!last_warn || c->now.tv_sec - last_warn >= ICMP_WARN_INTERVAL) {
		last_warn = c->now.tv_sec ? c->now.tv_sec : 1;
		warn("ICMP: can't open ping socket (%s), dropping echo requests;"
		     " check net.ipv4.ping_group_range", strerror(-rc));
	}
	return NULL;
}

/**
 * icmp_dst_ok() - Can an echo request to this address be sent on?
 * @c:		Execution context
 * @dst:	Destination as the guest addressed it (IPv4-mapped for IPv4)
 * @sa:		Socket address to send to, filled on success
 * @sl:		Length of @sa, set on success
 *
 * Return: true if @dst is a unicast address we can reach; the gateway
 * addresses become the host's loopback
 */
static bool icmp_dst_ok(const struct ctx *c, const union inany_addr *dst,
			union sockaddr_inany *sa, socklen_t *sl)
{
	const struct in_addr *d4 = inany_v4(dst);
	const struct in6_addr *d6 = &dst->a6;
	union inany_addr to = *dst;

	if (d4) {
		struct in_addr lo = { htonl(INADDR_LOOPBACK) };

		if (d4->s_addr == htonl(INADDR_ANY) ||
		    d4->s_addr == htonl(INADDR_BROADCAST) ||
		    IN_MULTICAST(ntohl(d4->s_addr)))
			return false;
		if (d4->s_addr == c->ip4.gw.s_addr)
			inany_from_v4(&to, lo);
	} else {
		if (IN6_IS_ADDR_UNSPECIFIED(d6) ||
		    IN6_IS_ADDR_MULTICAST(d6))
			return false;
		if (IN6_ARE_ADDR_EQUAL(d6, &c->ip6.gw) ||
		    IN6_ARE_ADDR_EQUAL(d6, &c->ip6.our_ll))
			to.a6 = in6addr_loopback;
		else if (IN6_IS_ADDR_LINKLOCAL(d6))
			return false;	/* another host's link: not ours */
	}

	*sl = inany_sockaddr(&sa->ss, &to, 0);
	return true;
}

/**
 * icmp_tap_handler() - Handle an ICMP or ICMPv6 message from the guest
 * @c:		Execution context
 * @src:	Source address (IPv4-mapped for IPv4)
 * @dst:	Destination address, same family as @src
 * @msg:	ICMP or ICMPv6 header and data (ICMPv6 checksum verified)
 * @len:	Length, bytes
 *
 * Return: 0 if the echo request was sent on, -EINVAL if malformed,
 * -EOPNOTSUPP if not an echo request we can forward, other -errno if
 * sending failed
 *
 * #syscalls sendto
 */
int icmp_tap_handler(struct ctx *c, const union inany_addr *src,
		     const union inany_addr *dst, const uint8_t *msg,
		     size_t len)
{
	bool v4 = inany_v4(dst);
	char a[INET6_ADDRSTRLEN];
	union sockaddr_inany sa;
	struct icmp_flow *f;
	struct icmphdr ih;
	socklen_t sl;
	uint16_t id;

	if (len < sizeof(ih) || len > ICMP_MAX_LEN || v4 != !!inany_v4(src))
		return -EINVAL;
	memcpy(&ih, msg, sizeof(ih));
	if (ih.type != (v4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST))
		return -EOPNOTSUPP;
	if (ih.code)
		return -EINVAL;
	if (!icmp_dst_ok(c, dst, &sa, &sl))
		return -EOPNOTSUPP;

	id = ntohs(ih.un.echo.id);
	f = icmp_flow_find(dst, id);
	if (!f && !(f = icmp_flow_new(c, dst, id)))
		return -ENOBUFS;

	f->src = *src;
	f->seq = ntohs(ih.un.echo.sequence);
	f->last = c->now;

	if (sendto(f->fd, msg, len, MSG_NOSIGNAL, &sa.sa, sl) < 0) {
		int rc = -errno;

		debug("ICMP: echo request to %s: %s",
		      inany_ntop(dst, a, sizeof(a)), strerror(-rc));
		return rc;
	}
	return 0;
}

/**
 * icmp_reply() - Pass one echo reply from a socket to the guest
 * @c:		Execution context
 * @f:		Flow the reply came on
 * @buf:	ICMP header and data, as read from the socket
 * @len:	Length, bytes
 */
static void icmp_reply(struct ctx *c, struct icmp_flow *f, uint8_t *buf,
		       size_t len)
{
	struct icmphdr ih;
	int rc;

	struct iovec iov = { buf, len };
	bool v4 = inany_v4(&f->dst);
	char a[INET6_ADDRSTRLEN];

	if (len < sizeof(ih))
		return;
	memcpy(&ih, buf, sizeof(ih));
	if (ih.type != (v4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
		return;

	ih.un.echo.id = htons(f->id);	/* the kernel put its own there */
	ih.checksum = 0;
	memcpy(buf, &ih, sizeof(ih));
	if (v4)
		ih.checksum = csum_icmp4(buf, len);
	else
		ih.checksum = csum_l4(&f->dst, &f->src, IPPROTO_ICMPV6,
				      &iov, 1);
	memcpy(buf, &ih, sizeof(ih));

	f->last = c->now;
	rc = tap_send_l4(c, &f->dst, &f->src,
			 v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, &iov, 1);
	if (rc)
		debug("ICMP: reply from %s dropped: %s",
		      inany_ntop(&f->dst, a, sizeof(a)), strerror(-rc));
}

/**
 * icmp_sock_handler() - Read echo replies from a ping socket
 * @c:		Execution context
 * @tag:	Event tag: idx is the flow, fd its socket
 * @events:	epoll events
 *
 * #syscalls recvfrom
 */
void icmp_sock_handler(struct ctx *c, union evtag tag, uint32_t events)
{
	static uint8_t buf[ICMP_MAX_LEN];
	char a[INET6_ADDRSTRLEN];
	struct icmp_flow *f;
	int i;

	(void)events;		/* errors show up as recv() failures */
	if (tag.idx >= ICMP_FLOWS)
		return;
	f = &icmp_flows[tag.idx];
	if (!f->in_use || f->fd != tag.fd)
		return;		/* stale event */

	for (i = 0; i < ICMP_RECV_BATCH; i++) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				debug("ICMP: recv from %s: %s",
				      inany_ntop(&f->dst, a, sizeof(a)),
				      strerror(errno));
			break;
		}
		icmp_reply(c, f, buf, (size_t)n);
	}
}

/**
 * icmp_timer() - Close flows idle for more than ICMP_TIMEOUT_MS
 * @c:		Execution context, with a current @now
 */
void icmp_timer(struct ctx *c)
{
	size_t i;

	for (i = 0; i < ICMP_FLOWS; i++) {
		struct icmp_flow *f = &icmp_flows[i];

		if (f->in_use &&
		    timespec_diff_ms(&c->now, &f->last) > ICMP_TIMEOUT_MS)
			icmp_flow_close(c, f);
	}
}
