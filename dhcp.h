/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DHCP_H
#define DHCP_H

#include "ctx.h"

#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68
#define DHCP_MAGIC		0x63825363	/* RFC 2131, 3: 99.130.83.99 */
#define DHCP_FLAG_BROADCAST	0x8000		/* in the flags field */
#define DHCP_MIN_LEN		300	/* BOOTP message with 64-byte options */
#define DHCP_REPLY_MAX		2048	/* our largest reply, options included */

/* Message types, option 53 (RFC 2132, 9.6) */
enum dhcp_type {
	DHCPDISCOVER = 1,
	DHCPOFFER,
	DHCPREQUEST,
	DHCPDECLINE,
	DHCPACK,
	DHCPNAK,
	DHCPRELEASE,
	DHCPINFORM,
	DHCP_TYPE_MAX = DHCPINFORM,
};

/* Option codes we read or write (RFC 2132 unless noted) */
enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_REQ_ADDR = 50,
	DHCP_OPT_LEASE = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_FQDN = 81,		/* RFC 4702 */
	DHCP_OPT_SEARCH = 119,		/* RFC 3397 */
	DHCP_OPT_ROUTES = 121,		/* RFC 3442 */
	DHCP_OPT_END = 255,
};

/**
 * struct dhcp_msg - Fixed part of a BOOTP/DHCP message (RFC 2131, 2),
 *		     followed by the options; multi-byte fields network order
 * @op:		1 BOOTREQUEST, 2 BOOTREPLY
 * @htype:	Hardware type, 1 for Ethernet
 * @hlen:	Hardware address length, 6 for Ethernet
 * @hops:	Relay hops
 * @xid:	Transaction ID chosen by the client
 * @secs:	Seconds since the client began
 * @flags:	DHCP_FLAG_BROADCAST, others zero
 * @ciaddr:	Client address, if it has one
 * @yiaddr:	"Your" address, given by the server
 * @siaddr:	Next server (boot), zero here
 * @giaddr:	Relay agent address
 * @chaddr:	Client hardware address, first @hlen bytes used
 * @sname:	Server host name, unused
 * @file:	Boot file name, unused
 * @magic:	DHCP_MAGIC
 */
struct dhcp_msg {
	uint8_t op;
	uint8_t htype;
	uint8_t hlen;
	uint8_t hops;
	__be32 xid;
	__be16 secs;
	__be16 flags;
	uint8_t ciaddr[4];
	uint8_t yiaddr[4];
	uint8_t siaddr[4];
	uint8_t giaddr[4];
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	__be32 magic;
} PACKED;
static_assert(sizeof(struct dhcp_msg) == 240, "wire size");

/**
 * struct dhcp_req - What we use from a client's message, after validation
 * @type:	Message type from option 53, enum dhcp_type
 * @xid:	Transaction ID, network order (echoed as is)
 * @flags:	Flags, network order (echoed as is)
 * @ciaddr:	Client address, network order
 * @giaddr:	Relay address, network order
 * @chaddr:	Client MAC
 * @has_req_addr: Option 50 present
 * @req_addr:	Requested address (option 50), network order
 * @has_server_id: Option 54 present
 * @server_id:	Server identifier (option 54), network order
 * @client_id_len: Length of @client_id (option 61), 0 if absent
 * @client_id:	Client identifier, type byte first
 * @max_size:	Maximum message size (option 57), host order, 0 if absent
 */
struct dhcp_req {
	uint8_t type;
	__be32 xid;
	__be16 flags;
	struct in_addr ciaddr;
	struct in_addr giaddr;
	uint8_t chaddr[ETH_ALEN];
	bool has_req_addr;
	struct in_addr req_addr;
	bool has_server_id;
	struct in_addr server_id;
	uint8_t client_id_len;
	uint8_t client_id[255];
	uint16_t max_size;
};

int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_req *req);
int dhcp_reply_type(const struct ctx *c, const struct dhcp_req *req);
int dhcp_build_reply(const struct ctx *c, const struct dhcp_req *req,
		     uint8_t type, uint8_t *buf, size_t size);
int dhcp_handler(struct ctx *c, const uint8_t *msg, size_t len);

#endif /* DHCP_H */
