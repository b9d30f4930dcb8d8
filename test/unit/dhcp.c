// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/dhcp.c - DHCP server, IPv4 dispatch and checksums
 *
 * Messages are built by hand, byte by byte, and fed either to dhcp_parse()
 * and dhcp_build_reply() directly or, as whole Ethernet frames, through
 * tap_handler().  vu_frame_send() is wrapped (-Wl,--wrap=vu_frame_send): the frame the
 * daemon would give the guest is captured here and taken apart.
 */

/* WRAP: vu_frame_send */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <cmocka.h>

#include "ctx.h"
#include "checksum.h"
#include "dhcp.h"
#include "tap.h"
#include "tap_out.h"
#include "common.h"

static struct ctx c;			/* big: port maps */

static int setup(void **state)
{
	(void)state;
	unit_ctx_init(&c);
	unit_ctx_ip4(&c);
	c.ip4.dns[0] = a4("10.0.2.3");
	c.ip4.dns[1] = a4("192.0.2.53");
	return 0;
}

/* --- Building client messages --- */

struct msg {
	uint8_t b[65535];
	size_t len;
};

static struct msg m;			/* message being built */

static void msg_start(uint8_t type, const char *ciaddr)
{
	struct dhcp_msg h = { 0 };

	h.op = 1;
	h.htype = 1;
	h.hlen = 6;
	h.xid = htonl(0x12345678);
	if (ciaddr) {
		struct in_addr a = a4(ciaddr);

		memcpy(h.ciaddr, &a, 4);
	}
	memcpy(h.chaddr, guest_mac, ETH_ALEN);
	h.magic = htonl(DHCP_MAGIC);
	memset(&m, 0, sizeof(m));
	memcpy(m.b, &h, sizeof(h));
	m.len = sizeof(h);
	if (type) {
		m.b[m.len++] = DHCP_OPT_TYPE;
		m.b[m.len++] = 1;
		m.b[m.len++] = type;
	}
}

static void msg_opt(uint8_t code, const void *data, uint8_t len)
{
	assert_true(m.len + 2 + len <= sizeof(m.b));
	m.b[m.len++] = code;
	m.b[m.len++] = len;
	memcpy(m.b + m.len, data, len);
	m.len += len;
}

static void msg_opt_addr(uint8_t code, const char *addr)
{
	struct in_addr a = a4(addr);

	msg_opt(code, &a, 4);
}

static void msg_end(void)
{
	m.b[m.len++] = DHCP_OPT_END;
}

/* Wrap a payload in Ethernet, IPv4 and UDP, checksums valid */
static size_t frame_udp4(uint8_t *f, const char *src, const char *dst,
			 uint16_t sport, uint16_t dport,
			 const uint8_t *data, size_t len)
{
	struct ether_header eh;
	struct udphdr uh;
	struct iphdr ip = { 0 };
	uint8_t *l4 = f + ETH_HLEN + sizeof(ip);

	memcpy(eh.ether_dhost, bcast_mac, ETH_ALEN);
	memcpy(eh.ether_shost, guest_mac, ETH_ALEN);
	eh.ether_type = htons(ETHERTYPE_IP);
	memcpy(f, &eh, sizeof(eh));

	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = htons(sizeof(ip) + sizeof(uh) + len);
	ip.ttl = 64;
	ip.protocol = IPPROTO_UDP;
	ip.saddr = a4(src).s_addr;
	ip.daddr = a4(dst).s_addr;
	ip.check = csum_ip4_header(&ip, sizeof(ip));
	memcpy(f + ETH_HLEN, &ip, sizeof(ip));

	uh.source = htons(sport);
	uh.dest = htons(dport);
	uh.len = htons(sizeof(uh) + len);
	uh.check = 0;
	memcpy(l4, &uh, sizeof(uh));
	memcpy(l4 + sizeof(uh), data, len);
	uh.check = csum_udp4(a4(src), a4(dst), l4, sizeof(uh) + len);
	memcpy(l4, &uh, sizeof(uh));

	return ETH_HLEN + sizeof(ip) + sizeof(uh) + len;
}

static uint8_t frame[UNIT_FRAME_MAX];

/*
 * Copy @len bytes so that they end exactly where an unmapped page begins:
 * any read past @len faults, in a plain run as well as under valgrind.
 */
/* Send the message under construction to port 67 through tap_handler() */
static void msg_send(void)
{
	size_t len = frame_udp4(frame, "0.0.0.0", "255.255.255.255",
				68, 67, m.b, m.len);

	tap_handler(&c, frame, len);
}

/* --- Taking replies apart --- */

struct reply {
	const uint8_t *eth_dst;
	struct in_addr ip_src, ip_dst;
	const uint8_t *msg;
	size_t len;
	struct dhcp_msg h;
};

/* Check every header of the captured frame, return the DHCP message */
static void reply_get(struct reply *r)
{
	const uint8_t *l3 = sent_frame.b + ETH_HLEN, *l4 = l3 + sizeof(struct iphdr);
	struct ether_header eh;
	struct iphdr ip;
	struct udphdr uh;

	assert_int_equal(sent_frame.count, 1);
	assert_true(sent_frame.len >= ETH_HLEN + sizeof(ip) + sizeof(uh) +
			       DHCP_MIN_LEN);

	memcpy(&eh, sent_frame.b, sizeof(eh));
	assert_memory_equal(eh.ether_shost, our_mac, ETH_ALEN);
	assert_int_equal(ntohs(eh.ether_type), ETHERTYPE_IP);
	r->eth_dst = sent_frame.b;

	memcpy(&ip, l3, sizeof(ip));
	assert_int_equal(ip.version, 4);
	assert_int_equal(ip.ihl, 5);
	assert_int_equal(ntohs(ip.tot_len), sent_frame.len - ETH_HLEN);
	assert_int_equal(ip.ttl, 64);
	assert_int_equal(ntohs(ip.frag_off), IP_DF);
	assert_int_equal(ip.protocol, IPPROTO_UDP);
	assert_int_equal(csum_ip4_header(l3, sizeof(ip)), 0);
	r->ip_src.s_addr = ip.saddr;
	r->ip_dst.s_addr = ip.daddr;
	assert_int_equal(r->ip_src.s_addr, c.ip4.gw.s_addr);

	memcpy(&uh, l4, sizeof(uh));
	assert_int_equal(ntohs(uh.source), 67);
	assert_int_equal(ntohs(uh.dest), 68);
	assert_int_equal(ntohs(uh.len), sent_frame.len - ETH_HLEN - sizeof(ip));
	assert_int_not_equal(uh.check, 0);
	assert_int_equal(csum(l4, ntohs(uh.len),
			      csum_pseudo4(r->ip_src, r->ip_dst, IPPROTO_UDP,
					   ntohs(uh.len))), 0);

	r->msg = l4 + sizeof(uh);
	r->len = ntohs(uh.len) - sizeof(uh);
	memcpy(&r->h, r->msg, sizeof(r->h));
	assert_int_equal(r->h.op, 2);
	assert_int_equal(r->h.htype, 1);
	assert_int_equal(r->h.hlen, 6);
	assert_int_equal(ntohl(r->h.xid), 0x12345678);
	assert_memory_equal(r->h.chaddr, guest_mac, ETH_ALEN);
	assert_int_equal(ntohl(r->h.magic), DHCP_MAGIC);
}

/* Concatenate every instance of an option (RFC 3396); -1 if absent */
static int opt_get(const uint8_t *msg, size_t len, uint8_t code,
		   uint8_t *out, size_t size)
{
	size_t i = sizeof(struct dhcp_msg), n = 0;
	bool found = false, end = false;

	while (i < len) {
		uint8_t oc = msg[i];

		if (oc == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (oc == DHCP_OPT_END) {
			end = true;
			break;
		}
		assert_true(i + 2 <= len);
		assert_true(i + 2 + msg[i + 1] <= len);
		if (oc == code) {
			assert_true(n + msg[i + 1] <= size);
			memcpy(out + n, msg + i + 2, msg[i + 1]);
			n += msg[i + 1];
			found = true;
		}
		i += 2 + msg[i + 1];
	}
	assert_true(end);
	return found ? (int)n : -1;
}

static uint32_t opt_u32(const struct reply *r, uint8_t code)
{
	uint8_t v[255];
	uint32_t x;

	assert_int_equal(opt_get(r->msg, r->len, code, v, sizeof(v)), 4);
	memcpy(&x, v, 4);
	return x;
}

static uint8_t opt_type(const struct reply *r)
{
	uint8_t v[255];

	assert_int_equal(opt_get(r->msg, r->len, DHCP_OPT_TYPE, v,
				 sizeof(v)), 1);
	return v[0];
}

static bool opt_present(const struct reply *r, uint8_t code)
{
	uint8_t v[2048];

	return opt_get(r->msg, r->len, code, v, sizeof(v)) >= 0;
}

/* --- Parser --- */

static void test_dhcp_parse_discover(void **state)
{
	static const uint8_t cid[] = { 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct dhcp_req req;
	uint8_t prl[] = { 1, 3, 6, 15, 26, 119, 121 };

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_opt(55, prl, sizeof(prl));
	msg_opt(DHCP_OPT_CLIENT_ID, cid, sizeof(cid));
	msg_opt(DHCP_OPT_MAX_SIZE, "\x05\xdc", 2);
	msg_end();

	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);
	assert_int_equal(req.type, DHCPDISCOVER);
	assert_int_equal(ntohl(req.xid), 0x12345678);
	assert_int_equal(req.flags, 0);
	assert_int_equal(req.ciaddr.s_addr, 0);
	assert_memory_equal(req.chaddr, guest_mac, ETH_ALEN);
	assert_false(req.has_req_addr);
	assert_false(req.has_server_id);
	assert_int_equal(req.client_id_len, sizeof(cid));
	assert_memory_equal(req.client_id, cid, sizeof(cid));
	assert_int_equal(req.max_size, 1500);
}

static void test_dhcp_parse_request(void **state)
{
	struct dhcp_req req;

	(void)state;
	msg_start(DHCPREQUEST, "10.0.2.99");
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "10.0.2.15");
	msg_opt_addr(DHCP_OPT_SERVER_ID, "10.0.2.2");
	msg_opt(DHCP_OPT_OVERLOAD, "\x03", 1);	/* ignored */
	msg_end();
	/* Padding after the end option, as most clients send */
	m.len = MAX(m.len, (size_t)DHCP_MIN_LEN);

	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);
	assert_int_equal(req.type, DHCPREQUEST);
	assert_true(req.has_req_addr);
	assert_int_equal(req.req_addr.s_addr, a4("10.0.2.15").s_addr);
	assert_true(req.has_server_id);
	assert_int_equal(req.server_id.s_addr, a4("10.0.2.2").s_addr);
	assert_int_equal(req.ciaddr.s_addr, a4("10.0.2.99").s_addr);
}

static void test_dhcp_parse_release(void **state)
{
	struct dhcp_req req;

	(void)state;
	msg_start(DHCPRELEASE, "10.0.2.15");
	msg_opt_addr(DHCP_OPT_SERVER_ID, "10.0.2.2");
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);
	assert_int_equal(req.type, DHCPRELEASE);
	assert_int_equal(dhcp_reply_type(&c, &req), 0);

	msg_send();
	assert_int_equal(sent_frame.count, 0);
}

/* Every proper prefix of a message is refused, through both entry points */
static void test_dhcp_parse_truncated_every_length(void **state)
{
	uint64_t dropped = tap_stats()->dhcp;
	struct dhcp_req req;
	size_t full, len;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_opt(DHCP_OPT_HOSTNAME, "guest", 5);
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "10.0.2.15");
	msg_end();
	full = m.len;

	assert_int_equal(dhcp_parse(at_guard(m.b, full), full, &req), 0);
	for (len = 0; len < full; len++) {
		size_t flen;

		assert_int_equal(dhcp_parse(at_guard(m.b, len), len, &req),
				 -EINVAL);
		assert_int_equal(req.type, 0);

		/* Shorter message, consistent UDP and IP lengths */
		flen = frame_udp4(frame, "0.0.0.0", "255.255.255.255", 68, 67,
				  m.b, len);
		tap_handler(&c, at_guard(frame, flen), flen);
		assert_int_equal(sent_frame.count, 0);
	}
	assert_int_equal(tap_stats()->dhcp, dropped + full);

	/* And the whole frame cut short: IPv4 length past the end */
	len = frame_udp4(frame, "0.0.0.0", "255.255.255.255", 68, 67,
			 m.b, full);
	while (len--) {
		tap_handler(&c, at_guard(frame, len), len);
		assert_int_equal(sent_frame.count, 0);
	}

	/* The whole thing does get an answer */
	msg_send();
	assert_int_equal(sent_frame.count, 1);
}

static void test_dhcp_parse_option_past_end(void **state)
{
	struct dhcp_req req;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	m.b[m.len++] = DHCP_OPT_HOSTNAME;
	m.b[m.len++] = 200;		/* but only 10 bytes follow */
	memset(m.b + m.len, 'a', 9);
	m.len += 9;
	m.b[m.len++] = DHCP_OPT_END;
	assert_int_equal(dhcp_parse(at_guard(m.b, m.len), m.len, &req),
			 -EINVAL);

	/* Options we copy out, claiming more than is there */
	msg_start(DHCPDISCOVER, NULL);
	m.b[m.len++] = DHCP_OPT_CLIENT_ID;
	m.b[m.len++] = 255;
	m.b[m.len++] = 1;
	assert_int_equal(dhcp_parse(at_guard(m.b, m.len), m.len, &req),
			 -EINVAL);
	msg_start(DHCPREQUEST, NULL);
	m.b[m.len++] = DHCP_OPT_REQ_ADDR;
	m.b[m.len++] = 4;
	m.b[m.len++] = 10;
	assert_int_equal(dhcp_parse(at_guard(m.b, m.len), m.len, &req),
			 -EINVAL);

	/* Length byte itself missing */
	msg_start(DHCPDISCOVER, NULL);
	m.b[m.len++] = DHCP_OPT_HOSTNAME;
	assert_int_equal(dhcp_parse(at_guard(m.b, m.len), m.len, &req),
			 -EINVAL);

	/* Option 53 pointing past the end */
	msg_start(0, NULL);
	m.b[m.len++] = DHCP_OPT_TYPE;
	m.b[m.len++] = 1;
	assert_int_equal(dhcp_parse(at_guard(m.b, m.len), m.len, &req),
			 -EINVAL);
}

static void test_dhcp_parse_bad_fields(void **state)
{
	struct dhcp_req req;
	uint8_t save;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);

	/* Magic cookie */
	m.b[236] ^= 1;
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	m.b[236] ^= 1;

	/* op: a BOOTREPLY isn't for us */
	m.b[0] = 2;
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	m.b[0] = 1;

	/* Hardware type and length */
	save = m.b[1];
	m.b[1] = 6;
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	m.b[1] = save;
	m.b[2] = 16;
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	m.b[2] = 6;

	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);

	/* A BOOTP message with no cookie at all */
	assert_int_equal(dhcp_parse(m.b, 236, &req), -EINVAL);
}

static void test_dhcp_parse_bad_options(void **state)
{
	static const uint8_t bad_types[] = { 0, 9, 255 };
	struct dhcp_req req;
	size_t i;

	(void)state;

	/* Option 53 missing */
	msg_start(0, NULL);
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "10.0.2.15");
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	msg_send();
	assert_int_equal(sent_frame.count, 0);

	/* Option 53 with a bad length or value */
	msg_start(0, NULL);
	msg_opt(DHCP_OPT_TYPE, "\x01\x01", 2);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad_types); i++) {
		msg_start(0, NULL);
		msg_opt(DHCP_OPT_TYPE, &bad_types[i], 1);
		msg_end();
		assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	}

	/* Addresses that aren't four bytes */
	msg_start(DHCPREQUEST, NULL);
	msg_opt(DHCP_OPT_REQ_ADDR, "\x0a\x00\x02", 3);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	msg_start(DHCPREQUEST, NULL);
	msg_opt(DHCP_OPT_SERVER_ID, "\x0a\x00\x02\x02\x00", 5);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);

	/* Client identifier too short, maximum size not two bytes */
	msg_start(DHCPDISCOVER, NULL);
	msg_opt(DHCP_OPT_CLIENT_ID, "\x01", 1);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
	msg_start(DHCPDISCOVER, NULL);
	msg_opt(DHCP_OPT_MAX_SIZE, "\x05", 1);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);

	/* No end option */
	msg_start(DHCPDISCOVER, NULL);
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
}

/* Tens of thousands of options: linear walk, still a valid message */
static void test_dhcp_parse_huge_option_count(void **state)
{
	struct dhcp_req req;
	struct reply r;
	size_t limit = 65535 - 20 - 8 - 1, n = 0;

	(void)state;
	msg_start(0, NULL);
	while (m.len + 2 <= limit - 3) {	/* room for 53 at the end */
		if (n++ % 2) {
			msg_opt(224, NULL, 0);
		} else {
			m.b[m.len++] = DHCP_OPT_PAD;
			m.b[m.len++] = DHCP_OPT_PAD;
		}
	}
	msg_opt(DHCP_OPT_TYPE, "\x01", 1);
	msg_end();
	assert_true(n > 10000);
	assert_true(m.len <= 65535 - 28);

	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);
	assert_int_equal(req.type, DHCPDISCOVER);

	msg_send();
	reply_get(&r);
	assert_int_equal(opt_type(&r), DHCPOFFER);

	/* Same, with the end option dropped: refused after the whole walk */
	m.len--;
	assert_int_equal(dhcp_parse(m.b, m.len, &req), -EINVAL);
}

/* --- Replies --- */

static void test_dhcp_discover_offer(void **state)
{
	uint8_t v[255];
	struct reply r;
	uint32_t lease;
	uint16_t mtu;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	msg_send();
	reply_get(&r);

	/* No address yet: broadcast */
	assert_memory_equal(r.eth_dst, bcast_mac, ETH_ALEN);
	assert_int_equal(r.ip_dst.s_addr, htonl(INADDR_BROADCAST));

	assert_int_equal(opt_type(&r), DHCPOFFER);
	assert_memory_equal(r.h.yiaddr, &c.ip4.addr, 4);
	assert_memory_equal(r.h.ciaddr, "\0\0\0\0", 4);
	assert_int_equal(opt_u32(&r, DHCP_OPT_SERVER_ID), c.ip4.gw.s_addr);
	assert_int_equal(opt_u32(&r, DHCP_OPT_MASK), htonl(0xffffff00));
	assert_int_equal(opt_u32(&r, DHCP_OPT_ROUTER), c.ip4.gw.s_addr);

	lease = opt_u32(&r, DHCP_OPT_LEASE);
	assert_int_equal(lease, 0xffffffff);

	assert_int_equal(opt_get(r.msg, r.len, DHCP_OPT_DNS, v, sizeof(v)), 8);
	assert_memory_equal(v, &c.ip4.dns[0], 4);
	assert_memory_equal(v + 4, &c.ip4.dns[1], 4);

	assert_int_equal(opt_get(r.msg, r.len, DHCP_OPT_MTU, v, sizeof(v)), 2);
	memcpy(&mtu, v, 2);
	assert_int_equal(ntohs(mtu), 1500);

	/* Nothing configured, nothing sent */
	assert_false(opt_present(&r, DHCP_OPT_ROUTES));
	assert_false(opt_present(&r, DHCP_OPT_SEARCH));
	assert_false(opt_present(&r, DHCP_OPT_HOSTNAME));
	assert_false(opt_present(&r, DHCP_OPT_FQDN));

	/* Guest's source address 0.0.0.0 isn't recorded */
	assert_int_equal(c.ip4.addr_seen.s_addr, 0);
	assert_memory_equal(c.guest_mac, guest_mac, ETH_ALEN);
}

static void test_dhcp_broadcast_flag(void **state)
{
	struct dhcp_msg h;
	struct reply r;

	(void)state;
	msg_start(DHCPREQUEST, "10.0.2.15");
	msg_end();
	memcpy(&h, m.b, sizeof(h));
	h.flags = htons(DHCP_FLAG_BROADCAST);
	memcpy(m.b, &h, sizeof(h));
	msg_send();
	reply_get(&r);
	assert_int_equal(opt_type(&r), DHCPACK);
	assert_int_equal(ntohs(r.h.flags), DHCP_FLAG_BROADCAST);
	assert_memory_equal(r.eth_dst, bcast_mac, ETH_ALEN);
	assert_int_equal(r.ip_dst.s_addr, htonl(INADDR_BROADCAST));
}

static void test_dhcp_request_ack(void **state)
{
	struct reply r;

	(void)state;
	msg_start(DHCPREQUEST, NULL);
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "10.0.2.15");
	msg_opt_addr(DHCP_OPT_SERVER_ID, "10.0.2.2");
	msg_end();
	msg_send();
	reply_get(&r);

	assert_int_equal(opt_type(&r), DHCPACK);
	assert_memory_equal(r.h.yiaddr, &c.ip4.addr, 4);
	assert_int_equal(opt_u32(&r, DHCP_OPT_MASK), htonl(0xffffff00));
	assert_int_equal(opt_u32(&r, DHCP_OPT_ROUTER), c.ip4.gw.s_addr);
	assert_int_equal(opt_u32(&r, DHCP_OPT_LEASE), 0xffffffff);
	assert_memory_equal(r.eth_dst, bcast_mac, ETH_ALEN);
}

/* Renewing: no option 50, ciaddr set: unicast to it */
static void test_dhcp_request_renew_unicast(void **state)
{
	size_t len;
	struct reply r;

	(void)state;
	msg_start(DHCPREQUEST, "10.0.2.15");
	msg_end();
	len = frame_udp4(frame, "10.0.2.15", "10.0.2.2", 68, 67, m.b, m.len);
	tap_handler(&c, frame, len);
	reply_get(&r);

	assert_int_equal(opt_type(&r), DHCPACK);
	assert_memory_equal(r.h.ciaddr, &c.ip4.addr, 4);
	assert_memory_equal(r.eth_dst, guest_mac, ETH_ALEN);
	assert_int_equal(r.ip_dst.s_addr, c.ip4.addr.s_addr);
	assert_int_equal(c.ip4.addr_seen.s_addr, c.ip4.addr.s_addr);
}

static void test_dhcp_request_nak(void **state)
{
	struct reply r;

	(void)state;
	msg_start(DHCPREQUEST, NULL);
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "192.168.1.50");
	msg_end();
	msg_send();
	reply_get(&r);

	assert_int_equal(opt_type(&r), DHCPNAK);
	assert_memory_equal(r.h.yiaddr, "\0\0\0\0", 4);
	assert_int_equal(opt_u32(&r, DHCP_OPT_SERVER_ID), c.ip4.gw.s_addr);
	assert_false(opt_present(&r, DHCP_OPT_LEASE));
	assert_false(opt_present(&r, DHCP_OPT_MASK));
	assert_false(opt_present(&r, DHCP_OPT_ROUTER));
	assert_memory_equal(r.eth_dst, bcast_mac, ETH_ALEN);
	assert_int_equal(r.ip_dst.s_addr, htonl(INADDR_BROADCAST));

	/* Renewing a lease from another network: NAK too, broadcast */
	sent_frame.count = 0;
	msg_start(DHCPREQUEST, "192.168.1.50");
	msg_end();
	msg_send();
	reply_get(&r);
	assert_int_equal(opt_type(&r), DHCPNAK);
	assert_memory_equal(r.eth_dst, bcast_mac, ETH_ALEN);
}

static void test_dhcp_request_other_server(void **state)
{
	(void)state;
	msg_start(DHCPREQUEST, NULL);
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "10.0.2.15");
	msg_opt_addr(DHCP_OPT_SERVER_ID, "10.0.2.1");
	msg_end();
	msg_send();
	assert_int_equal(sent_frame.count, 0);
}

static void test_dhcp_inform(void **state)
{
	size_t len;
	struct reply r;

	(void)state;
	msg_start(DHCPINFORM, "10.0.2.15");
	msg_end();
	len = frame_udp4(frame, "10.0.2.15", "255.255.255.255", 68, 67,
			 m.b, m.len);
	tap_handler(&c, frame, len);
	reply_get(&r);

	assert_int_equal(opt_type(&r), DHCPACK);
	assert_memory_equal(r.h.yiaddr, "\0\0\0\0", 4);
	assert_memory_equal(r.h.ciaddr, &c.ip4.addr, 4);
	assert_false(opt_present(&r, DHCP_OPT_LEASE));
	assert_int_equal(opt_u32(&r, DHCP_OPT_ROUTER), c.ip4.gw.s_addr);
	assert_int_equal(r.ip_dst.s_addr, c.ip4.addr.s_addr);
	assert_memory_equal(r.eth_dst, guest_mac, ETH_ALEN);
}

static void test_dhcp_decline_no_reply(void **state)
{
	(void)state;
	msg_start(DHCPDECLINE, NULL);
	msg_opt_addr(DHCP_OPT_REQ_ADDR, "10.0.2.15");
	msg_end();
	msg_send();
	assert_int_equal(sent_frame.count, 0);

	/* Server messages from the guest: ignored */
	msg_start(DHCPOFFER, NULL);
	msg_end();
	msg_send();
	assert_int_equal(sent_frame.count, 0);
}

static void test_dhcp_search_list(void **state)
{
	static const uint8_t want[] =
		"\x07" "example" "\x03" "com" "\x00"
		"\x03" "lab" "\x07" "example" "\x03" "org" "\x00";
	uint8_t v[2048];
	struct reply r;

	(void)state;
	strcpy(c.dns_search[0], "example.com");
	strcpy(c.dns_search[1], "bad..name");		/* skipped */
	strcpy(c.dns_search[2], "lab.example.org.");
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	msg_send();
	reply_get(&r);

	assert_int_equal(opt_get(r.msg, r.len, DHCP_OPT_SEARCH, v, sizeof(v)),
			 sizeof(want) - 1);
	assert_memory_equal(v, want, sizeof(want) - 1);
}

/* Over 255 bytes of search list: split over several options (RFC 3396) */
static void test_dhcp_search_list_long(void **state)
{
	uint8_t want[1024], v[2048];
	size_t wlen = 0, i, j;
	struct reply r;
	int n;

	(void)state;
	for (i = 0; i < MAXDNSRCH; i++) {
		char *d = c.dns_search[i];

		for (j = 0; j < 3; j++) {	/* 3 labels of 60: 183 bytes */
			memset(d + j * 61, 'a' + i, 60);
			d[j * 61 + 60] = '.';
			want[wlen++] = 60;
			memset(want + wlen, 'a' + i, 60);
			wlen += 60;
		}
		d[3 * 61 - 1] = '\0';
		want[wlen++] = 0;
	}
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	msg_send();
	reply_get(&r);

	n = opt_get(r.msg, r.len, DHCP_OPT_SEARCH, v, sizeof(v));
	assert_int_equal(n, wlen);
	assert_memory_equal(v, want, wlen);
}

static void test_dhcp_hostname_fqdn(void **state)
{
	static const uint8_t want_fqdn[] =
		"\x04\xff\xff" "\x05" "guest" "\x07" "example" "\x03" "com"
		"\x00";
	uint8_t v[255];
	struct reply r;

	(void)state;
	strcpy(c.hostname, "guest");
	strcpy(c.fqdn, "guest.example.com");
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	msg_send();
	reply_get(&r);

	assert_int_equal(opt_get(r.msg, r.len, DHCP_OPT_HOSTNAME, v,
				 sizeof(v)), 5);
	assert_memory_equal(v, "guest", 5);
	assert_int_equal(opt_get(r.msg, r.len, DHCP_OPT_FQDN, v, sizeof(v)),
			 sizeof(want_fqdn) - 1);
	assert_memory_equal(v, want_fqdn, sizeof(want_fqdn) - 1);
}

static void test_dhcp_classless_routes_offlink_gw(void **state)
{
	static const uint8_t want[] = {
		32, 192, 168, 1, 1, 0, 0, 0, 0,		/* gw/32 on-link */
		0, 192, 168, 1, 1,			/* default via gw */
	};
	uint8_t v[255];
	struct reply r;

	(void)state;
	c.ip4.addr = a4("10.0.0.5");
	c.ip4.gw = a4("192.168.1.1");
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	msg_send();
	reply_get(&r);

	assert_int_equal(opt_type(&r), DHCPOFFER);
	assert_int_equal(opt_get(r.msg, r.len, DHCP_OPT_ROUTES, v, sizeof(v)),
			 sizeof(want));
	assert_memory_equal(v, want, sizeof(want));
	assert_int_equal(opt_u32(&r, DHCP_OPT_ROUTER), c.ip4.gw.s_addr);
	assert_int_equal(opt_u32(&r, DHCP_OPT_SERVER_ID), c.ip4.gw.s_addr);
}

static void test_dhcp_prefix_lengths(void **state)
{
	static const struct { int plen; uint32_t mask; bool offlink; } t[] = {
		{ 0, 0, false }, { 8, 0xff000000, false },
		{ 17, 0xffff8000, false }, { 24, 0xffffff00, false },
		{ 31, 0xfffffffe, true },	/* .15 and .2: not a /31 pair */
		{ 32, 0xffffffff, true },
	};
	uint8_t buf[DHCP_REPLY_MAX];
	struct dhcp_req req;
	struct reply r;
	size_t i;
	int n;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		c.ip4.prefix_len = t[i].plen;
		n = dhcp_build_reply(&c, &req, DHCPOFFER, buf, sizeof(buf));
		assert_true(n >= DHCP_MIN_LEN);
		r.msg = buf;
		r.len = (size_t)n;
		assert_int_equal(opt_u32(&r, DHCP_OPT_MASK), htonl(t[i].mask));
		assert_int_equal(opt_present(&r, DHCP_OPT_ROUTES),
				 t[i].offlink);
		assert_true(opt_present(&r, DHCP_OPT_ROUTER));
	}
}

static void test_dhcp_build_reply_no_room(void **state)
{
	uint8_t buf[DHCP_REPLY_MAX + 64];
	struct dhcp_req req;
	size_t i;
	int n;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	assert_int_equal(dhcp_parse(m.b, m.len, &req), 0);

	/* Small reply: padded to the BOOTP minimum of 300 bytes */
	n = dhcp_build_reply(&c, &req, DHCPOFFER, buf, sizeof(buf));
	assert_int_equal(n, DHCP_MIN_LEN);
	assert_int_equal(dhcp_build_reply(&c, &req, DHCPOFFER, buf, 299),
			 -ENOSPC);

	/* Large reply into a buffer too small: refused, nothing written past */
	strcpy(c.fqdn, "a-rather-long-host-name.example.com");
	for (i = 0; i < MAXDNSRCH; i++)
		memset(c.dns_search[i], 'a' + i, 60);
	n = dhcp_build_reply(&c, &req, DHCPOFFER, buf, sizeof(buf));
	assert_true(n > 400);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(dhcp_build_reply(&c, &req, DHCPOFFER, buf, 400),
			 -ENOSPC);
	for (i = 400; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xaa);
	assert_int_equal(dhcp_build_reply(&c, &req, DHCPOFFER, buf, (size_t)n),
			 n);
	assert_int_equal(dhcp_build_reply(&c, &req, DHCPOFFER, buf,
					  (size_t)n - 1), -ENOSPC);
}

static void test_dhcp_no_address_no_reply(void **state)
{
	(void)state;
	c.v4 = false;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	msg_send();
	assert_int_equal(sent_frame.count, 0);
}

/* --- IPv4 dispatch in tap.c --- */

static void test_dhcp_ip4_bad_headers(void **state)
{
	uint64_t bad = tap_stats()->bad_ip4, frag = tap_stats()->frag4;
	size_t len;
	struct iphdr ip;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	len = frame_udp4(frame, "0.0.0.0", "255.255.255.255", 68, 67,
			 m.b, m.len);

	/* Header checksum */
	frame[ETH_HLEN + 8] ^= 0x10;		/* TTL */
	tap_handler(&c, frame, len);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_ip4, bad + 1);
	frame[ETH_HLEN + 8] ^= 0x10;

	/* IHL below 5, version 6 in an IPv4 frame (checksums fixed up) */
	memcpy(&ip, frame + ETH_HLEN, sizeof(ip));
	ip.ihl = 4;
	ip.check = 0;
	ip.check = csum_ip4_header(&ip, 16);
	memcpy(frame + ETH_HLEN, &ip, sizeof(ip));
	tap_handler(&c, frame, len);
	assert_int_equal(tap_stats()->bad_ip4, bad + 2);

	ip.ihl = 5;
	ip.version = 6;
	ip.check = 0;
	ip.check = csum_ip4_header(&ip, sizeof(ip));
	memcpy(frame + ETH_HLEN, &ip, sizeof(ip));
	tap_handler(&c, frame, len);
	assert_int_equal(tap_stats()->bad_ip4, bad + 3);

	/* IHL 15: header longer than the total length */
	ip.version = 4;
	ip.ihl = 15;
	ip.tot_len = htons(40);
	ip.check = 0;
	memcpy(frame + ETH_HLEN, &ip, sizeof(ip));
	ip.check = csum_ip4_header(frame + ETH_HLEN, 60);
	memcpy(frame + ETH_HLEN, &ip, sizeof(ip));
	tap_handler(&c, frame, len);
	assert_int_equal(tap_stats()->bad_ip4, bad + 4);

	/* A fragment */
	len = frame_udp4(frame, "0.0.0.0", "255.255.255.255", 68, 67,
			 m.b, m.len);
	memcpy(&ip, frame + ETH_HLEN, sizeof(ip));
	ip.frag_off = htons(IP_MF);
	ip.check = 0;
	ip.check = csum_ip4_header(&ip, sizeof(ip));
	memcpy(frame + ETH_HLEN, &ip, sizeof(ip));
	tap_handler(&c, frame, len);
	assert_int_equal(tap_stats()->frag4, frag + 1);
	assert_int_equal(sent_frame.count, 0);
}

static void test_dhcp_udp_bad_length(void **state)
{
	uint64_t bad = tap_stats()->bad_ip4;
	size_t len;
	struct udphdr uh;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	len = frame_udp4(frame, "0.0.0.0", "255.255.255.255", 68, 67,
			 m.b, m.len);
	memcpy(&uh, frame + ETH_HLEN + 20, sizeof(uh));
	uh.len = htons(ntohs(uh.len) + 1);	/* past the IPv4 packet */
	memcpy(frame + ETH_HLEN + 20, &uh, sizeof(uh));
	tap_handler(&c, frame, len);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_ip4, bad + 1);

	uh.len = htons(7);
	memcpy(frame + ETH_HLEN + 20, &uh, sizeof(uh));
	tap_handler(&c, frame, len);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_ip4, bad + 2);
}

/* Ethernet padding after the IPv4 packet is ignored */
static void test_dhcp_ethernet_padding(void **state)
{
	struct reply r;
	size_t len;

	(void)state;
	msg_start(DHCPDISCOVER, NULL);
	msg_end();
	len = frame_udp4(frame, "0.0.0.0", "255.255.255.255", 68, 67,
			 m.b, m.len);
	memset(frame + len, 0xee, 30);
	tap_handler(&c, frame, len + 30);
	reply_get(&r);
	assert_int_equal(opt_type(&r), DHCPOFFER);
}

static void test_dhcp_send_ip4_mtu(void **state)
{
	static uint8_t payload[65535];

	(void)state;
	c.mtu = 1500;
	assert_int_equal(tap_send_ip4(&c, c.ip4.gw, c.ip4.addr, IPPROTO_UDP,
				      payload, 1481), -EMSGSIZE);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_send_ip4(&c, c.ip4.gw, c.ip4.addr, IPPROTO_UDP,
				      payload, 1480), 0);
	assert_int_equal(sent_frame.count, 1);
	assert_int_equal(sent_frame.len, ETH_HLEN + 1500);
	/* Guest MAC not known yet: broadcast */
	assert_memory_equal(sent_frame.b, bcast_mac, ETH_ALEN);

	c.mtu = 65520;
	assert_int_equal(tap_send_ip4(&c, c.ip4.gw, c.ip4.addr, IPPROTO_UDP,
				      payload, 65516), -EMSGSIZE);
}

/* --- Checksums, against a naive reference --- */

static uint16_t naive_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void test_dhcp_checksum_reference(void **state)
{
	static uint8_t buf[70000];
	unsigned seed = 1;
	size_t i, round;

	(void)state;
	for (round = 0; round < 2000; round++) {
		size_t len = (size_t)rand_r(&seed) %
			     (round < 1000 ? 64 : sizeof(buf) - 1);
		size_t off = (size_t)rand_r(&seed) % 8;	/* any alignment */
		uint8_t fill = round % 3 == 0 ? 0xff : 0;

		for (i = 0; i < len; i++)
			buf[off + i] = fill ? fill : (uint8_t)rand_r(&seed);
		assert_int_equal(ntohs(csum(buf + off, len, 0)),
				 naive_csum(buf + off, len, 0));
	}

	/* RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	memcpy(buf, "\x00\x01\xf2\x03\xf4\xf5\xf6\xf7", 8);
	assert_int_equal(ntohs(csum(buf, 8, 0)), (uint16_t)~0xddf2);

	/* A zero UDP checksum is sent as all ones: pseudo-header sums to
	 * 17 + 8 = 0x19, so 0xffe6 in the data makes the total 0xffff
	 */
	memset(buf, 0, 8);
	buf[4] = 0xff;
	buf[5] = 0xe6;
	assert_int_equal(csum_udp4(a4("0.0.0.0"), a4("0.0.0.0"), buf, 8),
			 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define S(f)	cmocka_unit_test_setup(f, setup)
		S(test_dhcp_parse_discover),
		S(test_dhcp_parse_request),
		S(test_dhcp_parse_release),
		S(test_dhcp_parse_truncated_every_length),
		S(test_dhcp_parse_option_past_end),
		S(test_dhcp_parse_bad_fields),
		S(test_dhcp_parse_bad_options),
		S(test_dhcp_parse_huge_option_count),
		S(test_dhcp_discover_offer),
		S(test_dhcp_broadcast_flag),
		S(test_dhcp_request_ack),
		S(test_dhcp_request_renew_unicast),
		S(test_dhcp_request_nak),
		S(test_dhcp_request_other_server),
		S(test_dhcp_inform),
		S(test_dhcp_decline_no_reply),
		S(test_dhcp_search_list),
		S(test_dhcp_search_list_long),
		S(test_dhcp_hostname_fqdn),
		S(test_dhcp_classless_routes_offlink_gw),
		S(test_dhcp_prefix_lengths),
		S(test_dhcp_build_reply_no_room),
		S(test_dhcp_no_address_no_reply),
		S(test_dhcp_ip4_bad_headers),
		S(test_dhcp_udp_bad_length),
		S(test_dhcp_ethernet_padding),
		S(test_dhcp_send_ip4_mtu),
		S(test_dhcp_checksum_reference),
#undef S
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
