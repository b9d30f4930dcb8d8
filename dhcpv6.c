// SPDX-License-Identifier: GPL-2.0-or-later
/* dhcpv6.c - Stateful DHCPv6 server for the one guest (RFC 8415, RFC 3646)
 *
 * DOC: Theory of operation
 *
 * There is exactly one client and one address to give it: c->ip6.addr,
 * with infinite preferred and valid lifetimes (and T1, T2 infinite: no
 * need to renew).  Router Advertisements (ndp.c) set the M and O flags, so
 * a client that does DHCPv6 comes here; one that doesn't still has SLAAC.
 * We answer from our link-local address, port 547, to the client's source
 * address (its link-local), port 546:
 *  - Solicit: Advertise, or Reply if the client asked for Rapid Commit
 *  - Request, Renew, Rebind: Reply with the address; any other address
 *    the client lists in its IA_NA is returned with zero lifetimes, so
 *    that it stops using it
 *  - Confirm: Reply with Success if every address listed is in our /64,
 *    NotOnLink otherwise; nothing if it lists none (RFC 8415, 18.3.3)
 *  - Information-request: Reply with configuration only
 *  - Release, Decline: Reply with Success (the address stays the only one)
 * Every reply carries the client's DUID back, our DUID (DUID-LL from our
 * MAC), and, except for Release and Decline, DNS servers (option 23) and
 * the domain search list (option 24), RFC 3646.  Only the first IA_NA of
 * a message gets an address: there is one to give.
 *
 * A message that names a server DUID other than ours is for someone else:
 * ignored (0), no reply.  A message must carry the server identifier when
 * RFC 8415, 16 says so, and must not when it says not.
 *
 * Bad input: dhcpv6_parse() checks the fixed header and walks the options
 * at each nesting level (message, IA_NA, IAADDR) with every length checked
 * against the end of its enclosing option; a client identifier or server
 * identifier given twice, of a bad length, or any option running past its
 * container drops the message (-EINVAL, counted by tap.c).  Messages only
 * servers send (Advertise, Reply, Reconfigure) and relay messages are
 * dropped too.  Nesting is fixed at three levels, so the walk is bounded.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

#include "dhcpv6.h"
#include "checksum.h"
#include "dns.h"
#include "tap_out.h"

#define DHCPV6_HDR_LEN		4	/* type, transaction ID */
#define DHCPV6_OPT_HDR_LEN	4	/* code, length */
#define DHCPV6_IA_NA_LEN	12	/* IAID, T1, T2 */
#define DHCPV6_IAADDR_LEN	24	/* address, preferred, valid */
#define DHCPV6_DUID_LL		3	/* RFC 8415, 11.4 */
#define DHCPV6_HW_ETHERNET	1
#define DHCPV6_CONFIRM_PREFIX	8	/* bytes: our /64 */

/* Where options may appear: their container */
enum dhcpv6_level {
	DHCPV6_IN_MSG,
	DHCPV6_IN_IA_NA,
	DHCPV6_IN_IAADDR,
};

/**
 * struct dhcpv6_duid_ll - Our server DUID: DUID-LL (RFC 8415, 11.4)
 * @type:	DHCPV6_DUID_LL, network order
 * @hw:		DHCPV6_HW_ETHERNET, network order
 * @mac:	Our MAC address
 */
struct dhcpv6_duid_ll {
	__be16 type;
	__be16 hw;
	uint8_t mac[ETH_ALEN];
} PACKED;
static_assert(sizeof(struct dhcpv6_duid_ll) == 10, "wire size");

/**
 * struct dhcpv6_ia_na - IA_NA option data, fixed part (RFC 8415, 21.4)
 * @iaid:	Identity association ID, as the client gave it
 * @t1:		Renew after, seconds, network order
 * @t2:		Rebind after, seconds, network order
 */
struct dhcpv6_ia_na {
	__be32 iaid;
	__be32 t1;
	__be32 t2;
} PACKED;
static_assert(sizeof(struct dhcpv6_ia_na) == DHCPV6_IA_NA_LEN, "wire size");

/**
 * struct dhcpv6_iaaddr - IA Address option data, fixed part (21.6)
 * @addr:	Address
 * @preferred:	Preferred lifetime, seconds, network order
 * @valid:	Valid lifetime, seconds, network order
 */
struct dhcpv6_iaaddr {
	struct in6_addr addr;
	__be32 preferred;
	__be32 valid;
} PACKED;
static_assert(sizeof(struct dhcpv6_iaaddr) == DHCPV6_IAADDR_LEN, "wire size");

static int dhcpv6_walk(struct dhcpv6_req *req, enum dhcpv6_level level,
		       const uint8_t *p, size_t len);

/**
 * dhcpv6_duid() - Store a client or server identifier
 * @dst:	Where to store it
 * @dst_len:	Its length, 0 until stored
 * @data:	Option data
 * @len:	Option data length
 *
 * Return: 0 on success, -EINVAL if already given or of a bad length
 */
static int dhcpv6_duid(uint8_t *dst, uint8_t *dst_len, const uint8_t *data,
		       size_t len)
{
	if (*dst_len || len < 3 || len > DHCPV6_DUID_MAX)
		return -EINVAL;	/* a DUID is a type and something */
	memcpy(dst, data, len);
	*dst_len = (uint8_t)len;
	return 0;
}

/**
 * dhcpv6_opt_msg() - Parse one option at message level
 * @req:	Request being filled
 * @code:	Option code
 * @data:	Option data, within the message
 * @len:	Option data length
 *
 * Return: 0 on success (unknown options are skipped), -EINVAL if bad
 */
static int dhcpv6_opt_msg(struct dhcpv6_req *req, uint16_t code,
			  const uint8_t *data, size_t len)
{
	struct dhcpv6_ia_na ia;

	switch (code) {
	case DHCPV6_OPT_CLIENTID:
		return dhcpv6_duid(req->client_id, &req->client_id_len,
				   data, len);
	case DHCPV6_OPT_SERVERID:
		return dhcpv6_duid(req->server_id, &req->server_id_len,
				   data, len);
	case DHCPV6_OPT_RAPID_COMMIT:
		if (len)
			return -EINVAL;
		req->rapid_commit = true;
		return 0;
	case DHCPV6_OPT_ELAPSED_TIME:
		return len == 2 ? 0 : -EINVAL;
	case DHCPV6_OPT_ORO:
		return len % 2 ? -EINVAL : 0;
	case DHCPV6_OPT_IA_NA:
		if (len < sizeof(ia))
			return -EINVAL;
		memcpy(&ia, data, sizeof(ia));
		if (!req->has_ia_na) {
			req->has_ia_na = true;
			req->iaid = ia.iaid;
		}
		return dhcpv6_walk(req, DHCPV6_IN_IA_NA, data + sizeof(ia),
				   len - sizeof(ia));
	default:
		return 0;
	}
}

/**
 * dhcpv6_opt() - Parse one option, at any level
 * @req:	Request being filled
 * @level:	Container of the option
 * @code:	Option code
 * @data:	Option data, within its container
 * @len:	Option data length
 *
 * Return: 0 on success (unknown options are skipped), -EINVAL if bad
 */
static int dhcpv6_opt(struct dhcpv6_req *req, enum dhcpv6_level level,
		      uint16_t code, const uint8_t *data, size_t len)
{
	struct dhcpv6_iaaddr ia;

	if (level == DHCPV6_IN_MSG)
		return dhcpv6_opt_msg(req, code, data, len);
	if (level != DHCPV6_IN_IA_NA || code != DHCPV6_OPT_IAADDR)
		return 0;	/* status codes and the like: not used */

	if (len < sizeof(ia))
		return -EINVAL;
	memcpy(&ia, data, sizeof(ia));
	if (req->addr_cnt < DHCPV6_IAADDR_MAX)
		req->addr[req->addr_cnt++] = ia.addr;
	return dhcpv6_walk(req, DHCPV6_IN_IAADDR, data + sizeof(ia),
			   len - sizeof(ia));
}

/**
 * dhcpv6_walk() - Walk a list of options, checking every length
 * @req:	Request being filled
 * @level:	Container of the list
 * @p:		First option
 * @len:	Bytes from @p to the end of the container
 *
 * Recursion: IA_NA calls this for its options, IAADDR for its own, and
 * nothing deeper, so the depth is at most three.
 *
 * Return: 0 on success, -EINVAL if an option runs past the end or is bad
 */
static int dhcpv6_walk(struct dhcpv6_req *req, enum dhcpv6_level level,
		       const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint16_t code, olen;
		int rc;

		if (len - off < DHCPV6_OPT_HDR_LEN)
			return -EINVAL;
		code = (uint16_t)(p[off] << 8 | p[off + 1]);
		olen = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += DHCPV6_OPT_HDR_LEN;
		if (olen > len - off)
			return -EINVAL;

		rc = dhcpv6_opt(req, level, code, p + off, olen);
		if (rc)
			return rc;
		off += olen;
	}
	return 0;
}

/**
 * dhcpv6_parse() - Validate a client's message and extract what we use
 * @msg:	DHCPv6 message (UDP payload)
 * @len:	Message length, bytes
 * @req:	Filled on success, zeroed otherwise
 *
 * Return: 0 on success, -EINVAL if malformed, truncated, or not a message
 * a client sends to a server
 */
int dhcpv6_parse(const uint8_t *msg, size_t len, struct dhcpv6_req *req)
{
	int rc;

	memset(req, 0, sizeof(*req));
	if (len < DHCPV6_HDR_LEN)
		return -EINVAL;

	switch (msg[0]) {
	case DHCPV6_SOLICIT: case DHCPV6_REQUEST: case DHCPV6_CONFIRM:
	case DHCPV6_RENEW: case DHCPV6_REBIND: case DHCPV6_RELEASE:
	case DHCPV6_DECLINE: case DHCPV6_INFO_REQUEST:
		break;
	default:
		return -EINVAL;
	}
	req->type = msg[0];
	memcpy(req->xid, msg + 1, sizeof(req->xid));

	rc = dhcpv6_walk(req, DHCPV6_IN_MSG, msg + DHCPV6_HDR_LEN,
			 len - DHCPV6_HDR_LEN);
	if (rc)
		memset(req, 0, sizeof(*req));
	return rc;
}

/**
 * dhcpv6_our_duid() - Our server DUID
 * @c:		Execution context
 * @duid:	Filled with DUID-LL from our MAC
 */
static void dhcpv6_our_duid(const struct ctx *c, struct dhcpv6_duid_ll *duid)
{
	duid->type = htons(DHCPV6_DUID_LL);
	duid->hw = htons(DHCPV6_HW_ETHERNET);
	memcpy(duid->mac, c->our_mac, ETH_ALEN);
}

/**
 * dhcpv6_check() - Decide whether a valid message is for us to answer
 * @c:		Execution context
 * @req:	Parsed message
 *
 * Return: 0 to answer, -ENOENT if for another server or nothing to say,
 * -EINVAL if identifiers are missing or present against RFC 8415, 16
 */
static int dhcpv6_check(const struct ctx *c, const struct dhcpv6_req *req)
{
	struct dhcpv6_duid_ll ours;
	bool need_sid = false, no_sid = false;

	switch (req->type) {
	case DHCPV6_SOLICIT: case DHCPV6_CONFIRM: case DHCPV6_REBIND:
		no_sid = true;
		break;
	case DHCPV6_REQUEST: case DHCPV6_RENEW: case DHCPV6_RELEASE:
	case DHCPV6_DECLINE:
		need_sid = true;
		break;
	default:		/* Information-request: both optional */
		break;
	}
	if (req->type != DHCPV6_INFO_REQUEST && !req->client_id_len)
		return -EINVAL;
	if ((need_sid && !req->server_id_len) ||
	    (no_sid && req->server_id_len))
		return -EINVAL;

	dhcpv6_our_duid(c, &ours);
	if (req->server_id_len &&
	    (req->server_id_len != sizeof(ours) ||
	     memcmp(req->server_id, &ours, sizeof(ours)) != 0))
		return -ENOENT;
	if (req->type == DHCPV6_CONFIRM && !req->addr_cnt)
		return -ENOENT;
	return 0;
}

/**
 * struct dhcpv6_buf - A reply being built
 * @b:		Message
 * @size:	Size of @b
 * @len:	Bytes written so far
 * @full:	Something didn't fit: the reply is not sent
 */
struct dhcpv6_buf {
	uint8_t *b;
	size_t size;
	size_t len;
	bool full;
};

/**
 * dhcpv6_put() - Append raw bytes to a reply
 * @r:		Reply
 * @data:	Bytes
 * @len:	Length
 */
static void dhcpv6_put(struct dhcpv6_buf *r, const void *data, size_t len)
{
	if (r->full || r->size - r->len < len) {
		r->full = true;
		return;
	}
	memcpy(r->b + r->len, data, len);
	r->len += len;
}

/**
 * dhcpv6_put_opt() - Append an option header and its data
 * @r:		Reply
 * @code:	Option code
 * @len:	Option data length (what follows the header, nested included)
 * @data:	Data to copy, NULL if the caller appends it
 * @dlen:	Length of @data
 */
static void dhcpv6_put_opt(struct dhcpv6_buf *r, uint16_t code, size_t len,
			   const void *data, size_t dlen)
{
	uint8_t h[DHCPV6_OPT_HDR_LEN] = {
		code >> 8, code & 0xff, (len >> 8) & 0xff, len & 0xff,
	};

	if (len > UINT16_MAX) {
		r->full = true;
		return;
	}
	dhcpv6_put(r, h, sizeof(h));
	if (data)
		dhcpv6_put(r, data, dlen);
}

/**
 * dhcpv6_put_status() - Append a status code option with no message
 * @r:		Reply
 * @status:	enum dhcpv6_status
 */
static void dhcpv6_put_status(struct dhcpv6_buf *r, uint16_t status)
{
	uint8_t s[2] = { status >> 8, status & 0xff };

	dhcpv6_put_opt(r, DHCPV6_OPT_STATUS_CODE, sizeof(s), s, sizeof(s));
}

/**
 * dhcpv6_put_ia_na() - Append the IA_NA with our address, and any other
 *			address the client listed with zero lifetimes
 * @c:		Execution context
 * @req:	Parsed message
 * @r:		Reply
 */
static void dhcpv6_put_ia_na(const struct ctx *c,
			     const struct dhcpv6_req *req,
			     struct dhcpv6_buf *r)
{
	struct dhcpv6_ia_na ia = {
		.iaid = req->iaid,
		.t1 = htonl(DHCPV6_INFINITY), .t2 = htonl(DHCPV6_INFINITY),
	};
	struct dhcpv6_iaaddr a = {
		.addr = c->ip6.addr,
		.preferred = htonl(DHCPV6_INFINITY),
		.valid = htonl(DHCPV6_INFINITY),
	};
	size_t n = 1, i;

	for (i = 0; i < req->addr_cnt; i++)
		n += !IN6_ARE_ADDR_EQUAL(&req->addr[i], &c->ip6.addr);

	dhcpv6_put_opt(r, DHCPV6_OPT_IA_NA,
		       sizeof(ia) + n * (DHCPV6_OPT_HDR_LEN + sizeof(a)),
		       &ia, sizeof(ia));
	dhcpv6_put_opt(r, DHCPV6_OPT_IAADDR, sizeof(a), &a, sizeof(a));

	a.preferred = a.valid = 0;
	for (i = 0; i < req->addr_cnt; i++) {
		if (IN6_ARE_ADDR_EQUAL(&req->addr[i], &c->ip6.addr))
			continue;
		a.addr = req->addr[i];
		dhcpv6_put_opt(r, DHCPV6_OPT_IAADDR, sizeof(a), &a, sizeof(a));
	}
}

/**
 * dhcpv6_put_dns() - Append DNS servers (23) and domain list (24), if any
 * @c:		Execution context
 * @r:		Reply
 */
static void dhcpv6_put_dns(const struct ctx *c, struct dhcpv6_buf *r)
{
	uint8_t names[MAXDNSRCH * (DNSRCH_LEN + 2)];
	size_t n = 0, len = 0, i;

	while (n < MAXDNS && !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[n]))
		n++;
	if (n)
		dhcpv6_put_opt(r, DHCPV6_OPT_DNS_SERVERS,
			       n * sizeof(struct in6_addr),
			       c->ip6.dns, n * sizeof(struct in6_addr));

	for (i = 0; i < MAXDNSRCH && c->dns_search[i][0]; i++) {
		int rc = dns_name_encode(c->dns_search[i], names + len,
					 sizeof(names) - len);

		if (rc > 0)
			len += (size_t)rc;
	}
	if (len)
		dhcpv6_put_opt(r, DHCPV6_OPT_DOMAIN_LIST, len, names, len);
}

/**
 * dhcpv6_confirm_status() - Are the addresses in a Confirm on our link?
 * @c:		Execution context
 * @req:	Parsed Confirm
 *
 * Return: DHCPV6_STATUS_SUCCESS or DHCPV6_STATUS_NOTONLINK
 */
static uint16_t dhcpv6_confirm_status(const struct ctx *c,
				      const struct dhcpv6_req *req)
{
	unsigned i;

	for (i = 0; i < req->addr_cnt; i++) {
		if (memcmp(&req->addr[i], &c->ip6.addr,
			   DHCPV6_CONFIRM_PREFIX) != 0)
			return DHCPV6_STATUS_NOTONLINK;
	}
	return DHCPV6_STATUS_SUCCESS;
}

/**
 * dhcpv6_build_reply() - Build the answer to a valid message
 * @c:		Execution context
 * @req:	Parsed message
 * @buf:	Output: DHCPv6 message (UDP payload)
 * @size:	Size of @buf
 *
 * Return: reply length, 0 if the message is to be ignored (for another
 * server, or nothing to confirm), -EINVAL if it breaks RFC 8415, 16,
 * -ENOSPC if the reply doesn't fit
 */
int dhcpv6_build_reply(const struct ctx *c, const struct dhcpv6_req *req,
		       uint8_t *buf, size_t size)
{
	struct dhcpv6_buf r = { .b = buf, .size = size };
	bool rapid = req->type == DHCPV6_SOLICIT && req->rapid_commit;
	uint8_t type = DHCPV6_REPLY;
	struct dhcpv6_duid_ll duid;
	int rc = dhcpv6_check(c, req);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;

	if (req->type == DHCPV6_SOLICIT && !rapid)
		type = DHCPV6_ADVERTISE;
	dhcpv6_put(&r, &type, 1);
	dhcpv6_put(&r, req->xid, sizeof(req->xid));
	if (req->client_id_len)
		dhcpv6_put_opt(&r, DHCPV6_OPT_CLIENTID, req->client_id_len,
			       req->client_id, req->client_id_len);
	dhcpv6_our_duid(c, &duid);
	dhcpv6_put_opt(&r, DHCPV6_OPT_SERVERID, sizeof(duid), &duid,
		       sizeof(duid));
	if (rapid)
		dhcpv6_put_opt(&r, DHCPV6_OPT_RAPID_COMMIT, 0, NULL, 0);

	switch (req->type) {
	case DHCPV6_SOLICIT: case DHCPV6_REQUEST: case DHCPV6_RENEW:
	case DHCPV6_REBIND:
		if (req->has_ia_na)
			dhcpv6_put_ia_na(c, req, &r);
		break;
	case DHCPV6_CONFIRM:
		dhcpv6_put_status(&r, dhcpv6_confirm_status(c, req));
		break;
	case DHCPV6_RELEASE: case DHCPV6_DECLINE:
		dhcpv6_put_status(&r, DHCPV6_STATUS_SUCCESS);
		return r.full ? -ENOSPC : (int)r.len;
	default:
		break;
	}
	dhcpv6_put_dns(c, &r);

	return r.full ? -ENOSPC : (int)r.len;
}

/**
 * dhcpv6_handler() - Handle a DHCPv6 message from the guest
 * @c:		Execution context
 * @saddr:	Source address of the message: the reply goes there
 * @msg:	DHCPv6 message (UDP payload, checksum already verified)
 * @len:	Message length, bytes
 *
 * Return: 0 if answered or ignored on purpose, -EINVAL if malformed,
 * other -errno if no reply could be built or sent
 */
int dhcpv6_handler(struct ctx *c, const struct in6_addr *saddr,
		   const uint8_t *msg, size_t len)
{
	static uint8_t buf[sizeof(struct udphdr) + DHCPV6_REPLY_MAX];
	union inany_addr src = { .a6 = c->ip6.our_ll }, dst = { .a6 = *saddr };
	struct iovec iov = { buf, 0 };
	struct dhcpv6_req req;
	struct udphdr uh;
	int rc;

	if (IN6_IS_ADDR_UNSPECIFIED(saddr) || IN6_IS_ADDR_MULTICAST(saddr))
		return -EINVAL;
	rc = dhcpv6_parse(msg, len, &req);
	if (!rc)
		rc = dhcpv6_build_reply(c, &req, buf + sizeof(uh),
					sizeof(buf) - sizeof(uh));
	if (rc <= 0)
		return rc;

	iov.iov_len = sizeof(uh) + (size_t)rc;
	uh.source = htons(DHCPV6_SERVER_PORT);
	uh.dest = htons(DHCPV6_CLIENT_PORT);
	uh.len = htons((uint16_t)iov.iov_len);
	uh.check = 0;
	memcpy(buf, &uh, sizeof(uh));
	uh.check = csum_l4(&src, &dst, IPPROTO_UDP, &iov, 1);
	if (!uh.check)
		uh.check = 0xffff;
	memcpy(buf, &uh, sizeof(uh));

	return tap_send_l4(c, &src, &dst, IPPROTO_UDP, &iov, 1);
}
