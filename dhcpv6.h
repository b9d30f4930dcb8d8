/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DHCPV6_H
#define DHCPV6_H

#include <netinet/in.h>

#include "ctx.h"

#define DHCPV6_CLIENT_PORT	546
#define DHCPV6_SERVER_PORT	547
#define DHCPV6_REPLY_MAX	2048	/* our largest reply, bytes */
#define DHCPV6_IAADDR_MAX	8	/* addresses remembered from one IA */
#define DHCPV6_DUID_MAX		130	/* RFC 8415, 11.1: 2 + 128 bytes */
#define DHCPV6_INFINITY		0xffffffff

/* Message types (RFC 8415, 7.3) */
enum dhcpv6_type {
	DHCPV6_SOLICIT = 1,
	DHCPV6_ADVERTISE = 2,
	DHCPV6_REQUEST = 3,
	DHCPV6_CONFIRM = 4,
	DHCPV6_RENEW = 5,
	DHCPV6_REBIND = 6,
	DHCPV6_REPLY = 7,
	DHCPV6_RELEASE = 8,
	DHCPV6_DECLINE = 9,
	DHCPV6_RECONFIGURE = 10,
	DHCPV6_INFO_REQUEST = 11,
	DHCPV6_TYPE_MAX = DHCPV6_INFO_REQUEST,
};

/* Option codes we read or write (RFC 8415, 21; RFC 3646) */
enum dhcpv6_opt {
	DHCPV6_OPT_CLIENTID = 1,
	DHCPV6_OPT_SERVERID = 2,
	DHCPV6_OPT_IA_NA = 3,
	DHCPV6_OPT_IAADDR = 5,
	DHCPV6_OPT_ORO = 6,
	DHCPV6_OPT_ELAPSED_TIME = 8,
	DHCPV6_OPT_STATUS_CODE = 13,
	DHCPV6_OPT_RAPID_COMMIT = 14,
	DHCPV6_OPT_DNS_SERVERS = 23,
	DHCPV6_OPT_DOMAIN_LIST = 24,
};

/* Status codes (RFC 8415, 21.13) */
enum dhcpv6_status {
	DHCPV6_STATUS_SUCCESS = 0,
	DHCPV6_STATUS_NOADDRSAVAIL = 2,
	DHCPV6_STATUS_NOTONLINK = 4,
};

/**
 * struct dhcpv6_req - What we use from a client's message, after validation
 * @type:	Message type, enum dhcpv6_type
 * @xid:	Transaction ID, 3 bytes as on the wire (echoed)
 * @client_id_len: Length of @client_id, 0 if absent
 * @client_id:	Client DUID, as on the wire
 * @server_id_len: Length of @server_id, 0 if absent
 * @server_id:	Server DUID the client addressed, as on the wire
 * @has_ia_na:	An IA_NA option was present (we answer the first one)
 * @iaid:	IAID of the first IA_NA, network order (echoed)
 * @addr_cnt:	Addresses in @addr (IAADDR options in any IA_NA)
 * @addr:	Addresses the client listed, for Confirm
 * @rapid_commit: Rapid Commit option present
 */
struct dhcpv6_req {
	uint8_t type;
	uint8_t xid[3];
	uint8_t client_id_len;
	uint8_t client_id[DHCPV6_DUID_MAX];
	uint8_t server_id_len;
	uint8_t server_id[DHCPV6_DUID_MAX];
	bool has_ia_na;
	uint32_t iaid;
	unsigned addr_cnt;
	struct in6_addr addr[DHCPV6_IAADDR_MAX];
	bool rapid_commit;
};

int dhcpv6_parse(const uint8_t *msg, size_t len, struct dhcpv6_req *req);
int dhcpv6_build_reply(const struct ctx *c, const struct dhcpv6_req *req,
		       uint8_t *buf, size_t size);
int dhcpv6_handler(struct ctx *c, const struct in6_addr *saddr,
		   const uint8_t *msg, size_t len);

#endif /* DHCPV6_H */
