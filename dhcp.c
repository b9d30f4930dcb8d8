// SPDX-License-Identifier: GPL-2.0-or-later
/* dhcp.c - DHCPv4 server for the one guest (RFC 2131, RFC 2132)
 *
 * DOC: Theory of operation
 *
 * There is exactly one client and one address to give it: c->ip4.addr,
 * leased forever.  We answer from the gateway address (server identifier
 * and router), port 67 to port 68:
 *  - DISCOVER: OFFER
 *  - REQUEST: if it names another server (option 54), stay silent; if the
 *    address it asks for (option 50, else ciaddr) is ours to give, ACK;
 *    otherwise NAK, so that a guest moved here from another network drops
 *    its old lease at once
 *  - INFORM: ACK with configuration but no address and no lease time
 *  - RELEASE, DECLINE: noted, no reply (the address is still the only one)
 *
 * Offers and acks carry: subnet mask, router, DNS servers, interface MTU,
 * host name, domain search list (RFC 3397, uncompressed, split over
 * several option instances as RFC 3396 allows when longer than 255 bytes),
 * client FQDN (RFC 4702) and, when the gateway is outside the guest's
 * subnet, classless static routes (RFC 3442): a host route to the gateway
 * and a default route through it.  Option 3 is sent as well, for clients
 * that don't know option 121 (those that do ignore option 3 then).
 *
 * Replies go to the broadcast addresses (IP and MAC) if the client has no
 * address yet (ciaddr 0), asks for broadcast, or gets a NAK; otherwise to
 * ciaddr and the client's MAC.
 *
 * Bad input: dhcp_parse() copies the fixed part out, checks op, hardware
 * type and length and the magic cookie, then walks the options checking
 * every length against the end of the message; the list must end with
 * option 255 and include option 53, with the expected lengths for the
 * options we use.  Anything else and the message is dropped (-EINVAL).
 * Option overload (52) is ignored: we never read the sname and file
 * fields.  The option walk is linear, whatever the number of options.
 * The maximum message size (57) is parsed but replies aren't trimmed to
 * it: ours stay well under the 576 bytes every client must accept unless
 * long search lists or names are configured.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

#include "dhcp.h"
#include "checksum.h"
#include "dns.h"
#include "tap_out.h"

#define DHCP_LEASE_INFINITE	0xffffffff
#define DHCP_FQDN_FLAG_E	0x04	/* RFC 4702, 2.1: wire format name */
#define DHCP_FQDN_RCODE		255	/* RFC 4702, 2.2: servers send 255 */

static const char *const dhcp_type_name[DHCP_TYPE_MAX + 1] = {
	[0]		= "(none)",
	[DHCPDISCOVER]	= "DISCOVER",
	[DHCPOFFER]	= "OFFER",
	[DHCPREQUEST]	= "REQUEST",
	[DHCPDECLINE]	= "DECLINE",
	[DHCPACK]	= "ACK",
	[DHCPNAK]	= "NAK",
	[DHCPRELEASE]	= "RELEASE",
	[DHCPINFORM]	= "INFORM",
};
static_assert(ARRAY_SIZE(dhcp_type_name) == DHCP_TYPE_MAX + 1,
	      "one name per message type");

static const uint8_t dhcp_bcast_mac[ETH_ALEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

/**
 * dhcp_parse_opt() - Validate and store one option from a client
 * @req:	Request being filled
 * @code:	Option code (not pad nor end)
 * @data:	Option data
 * @len:	Option data length, bytes (already checked to be in bounds)
 *
 * Return: 0 on success (unknown options are skipped), -EINVAL on a bad
 * length or value
 */
static int dhcp_parse_opt(struct dhcp_req *req, uint8_t code,
			  const uint8_t *data, uint8_t len)
{
	switch (code) {
	case DHCP_OPT_TYPE:
		if (len != 1 || !data[0] || data[0] > DHCP_TYPE_MAX)
			return -EINVAL;
		req->type = data[0];
		break;
	case DHCP_OPT_REQ_ADDR:
		if (len != sizeof(req->req_addr))
			return -EINVAL;
		memcpy(&req->req_addr, data, len);
		req->has_req_addr = true;
		break;
	case DHCP_OPT_SERVER_ID:
		if (len != sizeof(req->server_id))
			return -EINVAL;
		memcpy(&req->server_id, data, len);
		req->has_server_id = true;
		break;
	case DHCP_OPT_CLIENT_ID:
		if (len < 2)		/* RFC 2132, 9.14: type and id */
			return -EINVAL;
		memcpy(req->client_id, data, len);
		req->client_id_len = len;
		break;
	case DHCP_OPT_MAX_SIZE:
		if (len != 2)
			return -EINVAL;
		req->max_size = (uint16_t)(data[0] << 8 | data[1]);
		break;
	default:		/* including DHCP_OPT_OVERLOAD: ignored */
		break;
	}
	return 0;
}

/**
 * dhcp_parse_opts() - Walk the options of a client's message
 * @opts:	Options, after the magic cookie
 * @len:	Bytes from @opts to the end of the message
 * @req:	Request being filled
 *
 * Return: 0 if the list is well-formed up to its end option, -EINVAL if
 * an option runs past the end, is malformed, or the end option is missing
 */
static int dhcp_parse_opts(const uint8_t *opts, size_t len,
			   struct dhcp_req *req)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = opts[i], olen;
		int rc;

		if (code == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == DHCP_OPT_END)
			return 0;

		if (len - i < 2)
			return -EINVAL;
		olen = opts[i + 1];
		if (len - i - 2 < olen)
			return -EINVAL;

		rc = dhcp_parse_opt(req, code, opts + i + 2, olen);
		if (rc)
			return rc;
		i += 2 + (size_t)olen;
	}
	return -EINVAL;		/* no end option: truncated */
}

/**
 * dhcp_parse() - Validate a client's message and extract what we use
 * @msg:	DHCP message (UDP payload)
 * @len:	Message length, bytes
 * @req:	Filled on success, zeroed otherwise
 *
 * Return: 0 on success, -EINVAL if the message is malformed, truncated,
 * not a BOOTREQUEST for Ethernet, or has no message type
 */
int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_req *req)
{
	struct dhcp_msg m;
	int rc;

	memset(req, 0, sizeof(*req));
	if (len < sizeof(m))
		return -EINVAL;
	memcpy(&m, msg, sizeof(m));

	if (m.op != 1 || m.htype != 1 || m.hlen != ETH_ALEN ||
	    ntohl(m.magic) != DHCP_MAGIC)
		return -EINVAL;

	req->xid = m.xid;
	req->flags = m.flags;
	memcpy(&req->ciaddr, m.ciaddr, sizeof(req->ciaddr));
	memcpy(&req->giaddr, m.giaddr, sizeof(req->giaddr));
	memcpy(req->chaddr, m.chaddr, ETH_ALEN);

	rc = dhcp_parse_opts(msg + sizeof(m), len - sizeof(m), req);
	if (!rc && !req->type)
		rc = -EINVAL;
	if (rc)
		memset(req, 0, sizeof(*req));
	return rc;
}

/**
 * dhcp_reply_type() - Decide how to answer a valid message
 * @c:		Execution context
 * @req:	Parsed message
 *
 * Return: DHCPOFFER, DHCPACK or DHCPNAK, or 0 for no reply
 */
int dhcp_reply_type(const struct ctx *c, const struct dhcp_req *req)
{
	struct in_addr want;

	if (!c->v4 || !c->ip4.addr.s_addr || !c->ip4.gw.s_addr)
		return 0;

	switch (req->type) {
	case DHCPDISCOVER:
		return DHCPOFFER;
	case DHCPREQUEST:
		if (req->has_server_id &&
		    req->server_id.s_addr != c->ip4.gw.s_addr)
			return 0;	/* the client chose another server */
		want = req->has_req_addr ? req->req_addr : req->ciaddr;
		if (want.s_addr == c->ip4.addr.s_addr)
			return DHCPACK;
		return DHCPNAK;
	case DHCPINFORM:
		return DHCPACK;
	case DHCPDECLINE:
		warn_ratelimit("DHCP: guest declined the address we offer");
		return 0;
	case DHCPRELEASE:
		debug("DHCP: guest released its address");
		return 0;
	default:
		return 0;	/* server messages: not for us */
	}
}

/**
 * struct dhcp_out - Bounded writer for reply options
 * @buf:	Reply buffer
 * @size:	Size of @buf, bytes
 * @off:	Bytes written so far
 * @full:	An option didn't fit: the reply is unusable
 */
struct dhcp_out {
	uint8_t *buf;
	size_t size;
	size_t off;
	bool full;
};

/**
 * dhcp_put() - Append one option
 * @o:		Writer
 * @code:	Option code
 * @data:	Option data
 * @len:	Data length, at most 255 bytes
 */
static void dhcp_put(struct dhcp_out *o, uint8_t code, const void *data,
		     size_t len)
{
	if (o->full || len > UINT8_MAX || o->size - o->off < len + 2) {
		o->full = true;
		return;
	}
	o->buf[o->off++] = code;
	o->buf[o->off++] = (uint8_t)len;
	memcpy(o->buf + o->off, data, len);
	o->off += len;
}

/**
 * dhcp_put_long() - Append an option that may be longer than 255 bytes,
 *		     as consecutive instances of it (RFC 3396)
 * @o:		Writer
 * @code:	Option code
 * @data:	Option data
 * @len:	Data length, bytes
 */
static void dhcp_put_long(struct dhcp_out *o, uint8_t code,
			  const uint8_t *data, size_t len)
{
	while (len) {
		size_t n = MIN(len, UINT8_MAX);

		dhcp_put(o, code, data, n);
		data += n;
		len -= n;
	}
}

/**
 * dhcp_put_u32() - Append a four-byte option (address or number)
 * @o:		Writer
 * @code:	Option code
 * @val:	Value, network order
 */
static void dhcp_put_u32(struct dhcp_out *o, uint8_t code, uint32_t val)
{
	dhcp_put(o, code, &val, sizeof(val));
}

/**
 * dhcp_put_search() - Append the domain search list (RFC 3397), if any
 * @o:		Writer
 * @c:		Execution context
 */
static void dhcp_put_search(struct dhcp_out *o, const struct ctx *c)
{
	uint8_t list[MAXDNSRCH * DNS_NAME_MAX];
	size_t len = 0, i;

	for (i = 0; i < MAXDNSRCH && c->dns_search[i][0]; i++) {
		int n = dns_name_encode(c->dns_search[i], list + len,
					sizeof(list) - len);

		if (n < 0) {
			debug("DHCP: skipping bad search domain %s",
			      c->dns_search[i]);
			continue;
		}
		len += (size_t)n;
	}
	dhcp_put_long(o, DHCP_OPT_SEARCH, list, len);
}

/**
 * dhcp_put_fqdn() - Append the client FQDN option (RFC 4702), if set
 * @o:		Writer
 * @c:		Execution context
 */
static void dhcp_put_fqdn(struct dhcp_out *o, const struct ctx *c)
{
	uint8_t opt[UINT8_MAX] = {
		DHCP_FQDN_FLAG_E, DHCP_FQDN_RCODE, DHCP_FQDN_RCODE
	};
	int n;

	if (!c->fqdn[0])
		return;
	n = dns_name_encode(c->fqdn, opt + 3, sizeof(opt) - 3);
	if (n < 0) {
		debug("DHCP: FQDN %s doesn't fit, not sent", c->fqdn);
		return;
	}
	dhcp_put(o, DHCP_OPT_FQDN, opt, 3 + (size_t)n);
}

/**
 * dhcp_put_routes() - Append router, and classless routes if needed
 * @o:		Writer
 * @c:		Execution context
 * @mask:	Guest's subnet mask, network order
 */
static void dhcp_put_routes(struct dhcp_out *o, const struct ctx *c,
			    uint32_t mask)
{
	uint32_t gw = c->ip4.gw.s_addr;

	if ((gw & mask) != (c->ip4.addr.s_addr & mask)) {
		/* Off-link gateway: reach it first, then route through it */
		uint8_t routes[9 + 5] = { 32 };

		memcpy(routes + 1, &gw, 4);	/* gw/32 via 0.0.0.0 */
		routes[9] = 0;			/* 0.0.0.0/0 via gw */
		memcpy(routes + 10, &gw, 4);
		dhcp_put(o, DHCP_OPT_ROUTES, routes, sizeof(routes));
	}
	dhcp_put_u32(o, DHCP_OPT_ROUTER, gw);
}

/**
 * dhcp_put_config() - Append the configuration options of OFFER and ACK
 * @o:		Writer
 * @c:		Execution context
 * @lease:	Include the lease time (not for an answer to INFORM)
 */
static void dhcp_put_config(struct dhcp_out *o, const struct ctx *c,
			    bool lease)
{
	int plen = MIN(MAX(c->ip4.prefix_len, 0), 32);
	uint32_t mask = plen ? htonl(~0U << (32 - plen)) : 0;
	size_t ndns;

	if (lease)
		dhcp_put_u32(o, DHCP_OPT_LEASE, htonl(DHCP_LEASE_INFINITE));
	dhcp_put_u32(o, DHCP_OPT_MASK, mask);
	dhcp_put_routes(o, c, mask);

	for (ndns = 0; ndns < MAXDNS && c->ip4.dns[ndns].s_addr; ndns++)
		;
	if (ndns)
		dhcp_put(o, DHCP_OPT_DNS, c->ip4.dns,
			 ndns * sizeof(c->ip4.dns[0]));

	if (c->mtu) {
		uint16_t mtu = htons((uint16_t)MIN(c->mtu, UINT16_MAX));

		dhcp_put(o, DHCP_OPT_MTU, &mtu, sizeof(mtu));
	}
	if (c->hostname[0])
		dhcp_put(o, DHCP_OPT_HOSTNAME, c->hostname,
			 strnlen(c->hostname, HOSTNAME_LEN));
	dhcp_put_search(o, c);
	dhcp_put_fqdn(o, c);
}

/**
 * dhcp_build_reply() - Write a reply message
 * @c:		Execution context
 * @req:	Parsed request
 * @type:	DHCPOFFER, DHCPACK or DHCPNAK
 * @buf:	Output buffer
 * @size:	Size of @buf, bytes (DHCP_REPLY_MAX always suffices)
 *
 * Return: message length, bytes, or -ENOSPC if @buf is too small
 */
int dhcp_build_reply(const struct ctx *c, const struct dhcp_req *req,
		     uint8_t type, uint8_t *buf, size_t size)
{
	struct dhcp_out o = { buf, size, sizeof(struct dhcp_msg), false };
	bool inform = req->type == DHCPINFORM;
	struct dhcp_msg m = { 0 };

	if (size < DHCP_MIN_LEN)
		return -ENOSPC;

	m.op = 2;
	m.htype = 1;
	m.hlen = ETH_ALEN;
	m.xid = req->xid;
	m.flags = req->flags;
	if (type == DHCPACK)
		memcpy(m.ciaddr, &req->ciaddr, sizeof(m.ciaddr));
	if (type != DHCPNAK && !inform)
		memcpy(m.yiaddr, &c->ip4.addr, sizeof(m.yiaddr));
	memcpy(m.giaddr, &req->giaddr, sizeof(m.giaddr));
	memcpy(m.chaddr, req->chaddr, ETH_ALEN);
	m.magic = htonl(DHCP_MAGIC);
	memcpy(buf, &m, sizeof(m));

	dhcp_put(&o, DHCP_OPT_TYPE, &type, sizeof(type));
	dhcp_put_u32(&o, DHCP_OPT_SERVER_ID, c->ip4.gw.s_addr);
	if (type != DHCPNAK)
		dhcp_put_config(&o, c, !inform);

	if (o.full || o.off >= size)
		return -ENOSPC;
	buf[o.off++] = DHCP_OPT_END;

	/* Some BOOTP-era clients want at least 300 bytes */
	if (o.off < DHCP_MIN_LEN) {
		memset(buf + o.off, 0, DHCP_MIN_LEN - o.off);
		o.off = DHCP_MIN_LEN;
	}
	return (int)o.off;
}

/**
 * dhcp_send() - Wrap a reply in UDP and send it to the guest
 * @c:		Execution context
 * @req:	Parsed request
 * @type:	Reply type
 * @udp:	Buffer holding the UDP header space, then the reply
 * @len:	Reply length, bytes
 *
 * Return: 0 on success, -errno on failure
 */
static int dhcp_send(struct ctx *c, const struct dhcp_req *req, uint8_t type,
		     uint8_t *udp, size_t len)
{
	const uint8_t *mac = req->chaddr;
	struct in_addr dst = req->ciaddr;
	struct udphdr uh;

	if (type == DHCPNAK || !dst.s_addr ||
	    (ntohs(req->flags) & DHCP_FLAG_BROADCAST)) {
		dst.s_addr = htonl(INADDR_BROADCAST);
		mac = dhcp_bcast_mac;
	}

	len += sizeof(uh);
	uh.source = htons(DHCP_SERVER_PORT);
	uh.dest = htons(DHCP_CLIENT_PORT);
	uh.len = htons((uint16_t)len);
	uh.check = 0;
	memcpy(udp, &uh, sizeof(uh));
	uh.check = csum_udp4(c->ip4.gw, dst, udp, len);
	memcpy(udp, &uh, sizeof(uh));

	return tap_send_ip4_mac(c, mac, c->ip4.gw, dst, IPPROTO_UDP, udp, len);
}

/**
 * dhcp_handler() - Handle a message from the guest to port 67
 * @c:		Execution context
 * @msg:	DHCP message (UDP payload)
 * @len:	Message length, bytes
 *
 * Return: 0 if handled (answered, or no answer due), -EINVAL if malformed,
 * other -errno if the reply couldn't be built or sent
 */
int dhcp_handler(struct ctx *c, const uint8_t *msg, size_t len)
{
	uint8_t buf[sizeof(struct udphdr) + DHCP_REPLY_MAX];
	struct dhcp_req req;
	int type, n;

	n = dhcp_parse(msg, len, &req);
	if (n)
		return n;

	type = dhcp_reply_type(c, &req);
	debug("DHCP: %s from guest, answer: %s", dhcp_type_name[req.type],
	      dhcp_type_name[type]);
	if (!type)
		return 0;

	n = dhcp_build_reply(c, &req, (uint8_t)type,
			     buf + sizeof(struct udphdr), DHCP_REPLY_MAX);
	if (n < 0)
		return n;

	return dhcp_send(c, &req, (uint8_t)type, buf, (size_t)n);
}
