// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/dhcpv6.c - DHCPv6 server, and the TCP/UDP checks in tap.c
 *
 * Client messages are built by hand and fed either to dhcpv6_parse() (cut
 * at every length, right before an unmapped page) or, as whole frames, to
 * tap_handler(); vu_frame_send() is wrapped (-Wl,--wrap=vu_frame_send) so that the
 * reply is captured here and taken apart.
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
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <cmocka.h>

#include "ctx.h"
#include "checksum.h"
#include "dhcpv6.h"
#include "flow.h"
#include "tap.h"
#include "tap_out.h"
#include "common.h"

static const uint8_t our_duid[] = { 0, 3, 0, 1, 0x9a, 0x55, 0x9a, 0x55,
				    0x9a, 0x55 };
static const uint8_t client_duid[] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0x12,
				       0x34, 0x56 };

static struct ctx c;
static uint8_t frame[UNIT_FRAME_MAX];

static int setup(void **state)
{
	(void)state;
	unit_ctx_init(&c);
	unit_ctx_ip6(&c);
	c.v4 = true;
	c.ip4.addr.s_addr = htonl(0x0a00020f);
	c.ip4.gw.s_addr = htonl(0x0a000202);
	flow_init();
	return 0;
}

/* --- Building client messages --- */

static struct {
	uint8_t b[4096];
	size_t len;
	size_t bounds[64];	/* lengths at which the message is whole */
	unsigned nbounds;
} m;

static void put(const void *d, size_t len)
{
	assert_true(m.len + len <= sizeof(m.b));
	memcpy(m.b + m.len, d, len);
	m.len += len;
}

static void put16(uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(b, 2);
}

static void put32(uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, 4);
}

static void mark(void)
{
	m.bounds[m.nbounds++] = m.len;
}

static void msg_start(uint8_t type)
{
	memset(&m, 0, sizeof(m));
	m.b[0] = type;
	m.b[1] = 0xab;
	m.b[2] = 0xcd;
	m.b[3] = 0xef;
	m.len = 4;
	mark();
}

static void opt(uint16_t code, const void *d, uint16_t len)
{
	put16(code);
	put16(len);
	put(d, len);
	mark();
}

static void opt_client(void)
{
	opt(DHCPV6_OPT_CLIENTID, client_duid, sizeof(client_duid));
}

static void opt_server(void)
{
	opt(DHCPV6_OPT_SERVERID, our_duid, sizeof(our_duid));
}

/* IA_NA, IAID 0x11223344, with one IAADDR per address given (or none) */
static void opt_ia_na(const char *addr1, const char *addr2)
{
	const char *addrs[2] = { addr1, addr2 };
	unsigned n = !!addr1 + !!addr2, i;

	put16(DHCPV6_OPT_IA_NA);
	put16((uint16_t)(12 + n * 28));
	put32(0x11223344);
	put32(0);
	put32(0);
	for (i = 0; i < n; i++) {
		struct in6_addr a = a6(addrs[i]);

		put16(DHCPV6_OPT_IAADDR);
		put16(24);
		put(&a, 16);
		put32(0);
		put32(0);
	}
	mark();
}

static void opt_oro(void)
{
	uint8_t oro[4] = { 0, 23, 0, 24 };

	opt(DHCPV6_OPT_ORO, oro, 4);
}

/* Ethernet + IPv6 + UDP from the guest's link-local to ff02::1:2 */
static size_t frame_udp6(const char *src, const char *dst, uint16_t dport,
			 const uint8_t *data, size_t len)
{
	union inany_addr s = { .a6 = a6(src) }, d = { .a6 = a6(dst) };
	uint8_t *l4 = frame + ETH_HLEN + sizeof(struct ip6_hdr);
	struct iovec iov = { l4, sizeof(struct udphdr) + len };
	struct ether_header eh;
	struct ip6_hdr ip6 = { 0 };
	struct udphdr uh = { 0 };

	memset(eh.ether_dhost, 0x33, ETH_ALEN);
	memcpy(eh.ether_shost, guest_mac, ETH_ALEN);
	eh.ether_type = htons(ETHERTYPE_IPV6);
	memcpy(frame, &eh, sizeof(eh));

	ip6.ip6_flow = htonl(6U << 28);
	ip6.ip6_plen = htons((uint16_t)iov.iov_len);
	ip6.ip6_nxt = IPPROTO_UDP;
	ip6.ip6_hlim = 1;
	ip6.ip6_src = s.a6;
	ip6.ip6_dst = d.a6;
	memcpy(frame + ETH_HLEN, &ip6, sizeof(ip6));

	uh.source = htons(546);
	uh.dest = htons(dport);
	uh.len = htons((uint16_t)iov.iov_len);
	memcpy(l4, &uh, sizeof(uh));
	memcpy(l4 + sizeof(uh), data, len);
	uh.check = csum_l4(&s, &d, IPPROTO_UDP, &iov, 1);
	if (!uh.check)
		uh.check = 0xffff;
	memcpy(l4, &uh, sizeof(uh));
	return ETH_HLEN + sizeof(ip6) + iov.iov_len;
}

static void msg_send(void)
{
	tap_handler(&c, frame, frame_udp6(guest_ll, "ff02::1:2", 547,
					  m.b, m.len));
}

/* --- Taking replies apart --- */

/* Check the headers, return the DHCPv6 message */
static const uint8_t *reply_get(size_t *len)
{
	const uint8_t *l4 = sent_frame.b + ETH_HLEN + sizeof(struct ip6_hdr);
	union inany_addr s = { .a6 = a6("fe80::1") }, d = { .a6 = a6(guest_ll) };
	struct ether_header eh;
	struct ip6_hdr ip6;
	struct udphdr uh;
	struct iovec iov;

	assert_int_equal(sent_frame.count, 1);
	memcpy(&eh, sent_frame.b, sizeof(eh));
	assert_memory_equal(eh.ether_dhost, guest_mac, ETH_ALEN);
	assert_memory_equal(eh.ether_shost, our_mac, ETH_ALEN);
	memcpy(&ip6, sent_frame.b + ETH_HLEN, sizeof(ip6));
	assert_int_equal(ip6.ip6_nxt, IPPROTO_UDP);
	assert_memory_equal(&ip6.ip6_src, &s.a6, 16);
	assert_memory_equal(&ip6.ip6_dst, &d.a6, 16);
	assert_int_equal(ntohs(ip6.ip6_plen), sent_frame.len - ETH_HLEN - 40);

	memcpy(&uh, l4, sizeof(uh));
	assert_int_equal(ntohs(uh.source), 547);
	assert_int_equal(ntohs(uh.dest), 546);
	assert_int_equal(ntohs(uh.len), ntohs(ip6.ip6_plen));
	assert_int_not_equal(uh.check, 0);
	iov = (struct iovec){ (void *)l4, ntohs(uh.len) };
	assert_int_equal(csum_l4(&s, &d, IPPROTO_UDP, &iov, 1), 0);

	*len = ntohs(uh.len) - sizeof(uh);
	assert_true(*len >= 4);
	assert_int_equal(l4[9], 0xab);		/* transaction ID echoed */
	assert_int_equal(l4[10], 0xcd);
	assert_int_equal(l4[11], 0xef);
	return l4 + sizeof(uh);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Find option @code in a list (every length checked); NULL if absent */
static const uint8_t *opt_find(const uint8_t *p, size_t len, uint16_t code,
			       uint16_t *olen)
{
	size_t off = 0;

	while (off < len) {
		assert_true(len - off >= 4);
		assert_true(be16(p + off + 2) <= len - off - 4);
		if (be16(p + off) == code) {
			*olen = be16(p + off + 2);
			return p + off + 4;
		}
		off += 4 + be16(p + off + 2);
	}
	return NULL;
}

/* Identifiers, DNS and domain list: common to most replies */
static void check_common(const uint8_t *r, size_t len, bool dns)
{
	static const uint8_t names[] = {
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	};
	const uint8_t *o;
	uint16_t olen;

	o = opt_find(r + 4, len - 4, DHCPV6_OPT_CLIENTID, &olen);
	assert_non_null(o);
	assert_int_equal(olen, sizeof(client_duid));
	assert_memory_equal(o, client_duid, olen);
	o = opt_find(r + 4, len - 4, DHCPV6_OPT_SERVERID, &olen);
	assert_non_null(o);
	assert_int_equal(olen, sizeof(our_duid));
	assert_memory_equal(o, our_duid, olen);

	o = opt_find(r + 4, len - 4, DHCPV6_OPT_DNS_SERVERS, &olen);
	assert_true(!o == !dns);
	if (!dns)
		return;
	assert_int_equal(olen, 16);
	assert_memory_equal(o, &c.ip6.dns[0], 16);
	o = opt_find(r + 4, len - 4, DHCPV6_OPT_DOMAIN_LIST, &olen);
	assert_non_null(o);
	assert_int_equal(olen, sizeof(names));
	assert_memory_equal(o, names, olen);
}

/* Check the IA_NA: our address with infinite lifetimes first, then
 * @old with zero lifetimes if given */
static void check_ia_na(const uint8_t *r, size_t len, const char *old)
{
	struct in6_addr a;
	const uint8_t *ia, *o;
	uint16_t olen, ialen;

	ia = opt_find(r + 4, len - 4, DHCPV6_OPT_IA_NA, &ialen);
	assert_non_null(ia);
	assert_int_equal(ialen, 12 + (old ? 2 : 1) * 28);
	assert_int_equal(be32(ia), 0x11223344);
	assert_int_equal(be32(ia + 4), DHCPV6_INFINITY);
	assert_int_equal(be32(ia + 8), DHCPV6_INFINITY);

	o = opt_find(ia + 12, ialen - 12, DHCPV6_OPT_IAADDR, &olen);
	assert_non_null(o);
	assert_int_equal(olen, 24);
	assert_memory_equal(o, &c.ip6.addr, 16);
	assert_int_equal(be32(o + 16), DHCPV6_INFINITY);
	assert_int_equal(be32(o + 20), DHCPV6_INFINITY);
	if (!old)
		return;
	o += 24;
	assert_int_equal(be16(o), DHCPV6_OPT_IAADDR);
	a = a6(old);
	assert_memory_equal(o + 4, &a, 16);
	assert_int_equal(be32(o + 20), 0);
	assert_int_equal(be32(o + 24), 0);
}

static void check_status(const uint8_t *r, size_t len, uint16_t status)
{
	const uint8_t *o;
	uint16_t olen;

	o = opt_find(r + 4, len - 4, DHCPV6_OPT_STATUS_CODE, &olen);
	assert_non_null(o);
	assert_true(olen >= 2);
	assert_int_equal(be16(o), status);
}

/* --- Tests --- */

static void test_dhcpv6_solicit_advertise(void **state)
{
	const uint8_t *r;
	uint16_t olen;
	size_t len;

	(void)state;
	msg_start(DHCPV6_SOLICIT);
	opt_client();
	opt(DHCPV6_OPT_ELAPSED_TIME, "\0\0", 2);
	opt_ia_na(NULL, NULL);
	opt_oro();
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_ADVERTISE);
	check_common(r, len, true);
	check_ia_na(r, len, NULL);
	assert_null(opt_find(r + 4, len - 4, DHCPV6_OPT_RAPID_COMMIT, &olen));
}

static void test_dhcpv6_solicit_rapid_commit(void **state)
{
	const uint8_t *r;
	uint16_t olen;
	size_t len;

	(void)state;
	msg_start(DHCPV6_SOLICIT);
	opt_client();
	opt(DHCPV6_OPT_RAPID_COMMIT, NULL, 0);
	opt_ia_na(NULL, NULL);
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_REPLY);
	assert_non_null(opt_find(r + 4, len - 4, DHCPV6_OPT_RAPID_COMMIT,
				 &olen));
	assert_int_equal(olen, 0);
	check_ia_na(r, len, NULL);
}

static void test_dhcpv6_request_reply(void **state)
{
	const uint8_t *r;
	size_t len;

	(void)state;
	msg_start(DHCPV6_REQUEST);
	opt_client();
	opt_server();
	opt_ia_na("2001:db8::15", NULL);
	opt_oro();
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_REPLY);
	check_common(r, len, true);
	check_ia_na(r, len, NULL);
}

/* An address from another network is handed back with zero lifetimes */
static void test_dhcpv6_renew_old_address(void **state)
{
	const uint8_t *r;
	size_t len;

	(void)state;
	msg_start(DHCPV6_RENEW);
	opt_client();
	opt_server();
	opt_ia_na("2001:db8:dead::7", "2001:db8::15");
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_REPLY);
	check_ia_na(r, len, "2001:db8:dead::7");
}

static void test_dhcpv6_rebind_info_release(void **state)
{
	const uint8_t *r;
	uint16_t olen;
	size_t len;

	(void)state;
	msg_start(DHCPV6_REBIND);
	opt_client();
	opt_ia_na(NULL, NULL);
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_REPLY);
	check_ia_na(r, len, NULL);

	/* Information-request: configuration, no address */
	sent_frame.count = 0;
	msg_start(DHCPV6_INFO_REQUEST);
	opt_client();
	opt_oro();
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_REPLY);
	check_common(r, len, true);
	assert_null(opt_find(r + 4, len - 4, DHCPV6_OPT_IA_NA, &olen));

	/* Release: success, nothing else */
	sent_frame.count = 0;
	msg_start(DHCPV6_RELEASE);
	opt_client();
	opt_server();
	opt_ia_na("2001:db8::15", NULL);
	msg_send();
	r = reply_get(&len);
	assert_int_equal(r[0], DHCPV6_REPLY);
	check_common(r, len, false);
	check_status(r, len, DHCPV6_STATUS_SUCCESS);
	assert_null(opt_find(r + 4, len - 4, DHCPV6_OPT_IA_NA, &olen));
}

static void test_dhcpv6_confirm(void **state)
{
	const uint8_t *r;
	size_t len;

	(void)state;
	msg_start(DHCPV6_CONFIRM);
	opt_client();
	opt_ia_na("2001:db8::5054:ff:fe12:3456", NULL);
	msg_send();
	r = reply_get(&len);
	check_status(r, len, DHCPV6_STATUS_SUCCESS);

	sent_frame.count = 0;
	msg_start(DHCPV6_CONFIRM);
	opt_client();
	opt_ia_na("2001:db8::15", "2001:db8:1::15");
	msg_send();
	r = reply_get(&len);
	check_status(r, len, DHCPV6_STATUS_NOTONLINK);

	/* Nothing to confirm: no reply (RFC 8415, 18.3.3) */
	sent_frame.count = 0;
	msg_start(DHCPV6_CONFIRM);
	opt_client();
	opt_ia_na(NULL, NULL);
	msg_send();
	assert_int_equal(sent_frame.count, 0);
}

/* Messages for another server, or breaking RFC 8415, 16 */
static void test_dhcpv6_identifiers(void **state)
{
	static const uint8_t other[] = { 0, 3, 0, 1, 1, 2, 3, 4, 5, 6 };
	uint64_t bad = tap_stats()->dhcpv6;

	(void)state;
	msg_start(DHCPV6_REQUEST);
	opt_client();
	opt(DHCPV6_OPT_SERVERID, other, sizeof(other));
	opt_ia_na(NULL, NULL);
	msg_send();
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->dhcpv6, bad);	/* not an error */

	msg_start(DHCPV6_REQUEST);			/* no server ID */
	opt_client();
	opt_ia_na(NULL, NULL);
	msg_send();
	msg_start(DHCPV6_SOLICIT);			/* server ID */
	opt_client();
	opt_server();
	msg_send();
	msg_start(DHCPV6_SOLICIT);			/* no client ID */
	opt_ia_na(NULL, NULL);
	msg_send();
	msg_start(DHCPV6_SOLICIT);			/* client ID twice */
	opt_client();
	opt_client();
	msg_send();
	msg_start(DHCPV6_ADVERTISE);			/* server message */
	opt_client();
	opt_server();
	msg_send();
	msg_start(DHCPV6_SOLICIT);			/* rapid commit, data */
	opt_client();
	opt(DHCPV6_OPT_RAPID_COMMIT, "x", 1);
	msg_send();
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->dhcpv6, bad + 6);
}

/* Cut at every length: valid exactly at option boundaries, no overread */
static void test_dhcpv6_truncated(void **state)
{
	struct dhcpv6_req req;
	size_t l;
	unsigned b;

	(void)state;
	msg_start(DHCPV6_REQUEST);
	opt_client();
	opt_server();
	opt(DHCPV6_OPT_ELAPSED_TIME, "\0\1", 2);
	opt_ia_na("2001:db8::15", "2001:db8::16");
	opt_oro();

	for (l = 0, b = 0; l <= m.len; l++) {
		int rc = dhcpv6_parse(at_guard(m.b, l), l, &req);
		bool whole = b < m.nbounds && m.bounds[b] == l;

		assert_int_equal(rc, whole ? 0 : -EINVAL);
		b += whole;
	}
	assert_int_equal(b, m.nbounds);
	assert_int_equal(req.addr_cnt, 2);
	assert_int_equal(req.iaid, htonl(0x11223344));

	/* Whole frames cut at every length: never an answer */
	l = frame_udp6(guest_ll, "ff02::1:2", 547, m.b, m.len);
	while (l--) {
		tap_handler(&c, at_guard(frame, l), l);
		assert_int_equal(sent_frame.count, 0);
	}
}

/* Nested lengths past the end of their container */
static void test_dhcpv6_nested_lengths(void **state)
{
	struct dhcpv6_req req;
	size_t ia;

	(void)state;
	/* IA_NA claiming more than the message */
	msg_start(DHCPV6_REQUEST);
	opt_client();
	ia = m.len;
	opt_ia_na("2001:db8::15", NULL);
	m.b[ia + 3] += 1;
	assert_int_equal(dhcpv6_parse(m.b, m.len, &req), -EINVAL);

	/* IAADDR past the end of its IA_NA, though within the message */
	m.b[ia + 3] -= 1;
	m.b[ia + 4 + 12 + 3] += 4;
	opt(DHCPV6_OPT_ELAPSED_TIME, "\0\0", 2);
	assert_int_equal(dhcpv6_parse(m.b, m.len, &req), -EINVAL);

	/* IAADDR shorter than its fixed part */
	msg_start(DHCPV6_REQUEST);
	opt_client();
	put16(DHCPV6_OPT_IA_NA);
	put16(12 + 4 + 8);
	put32(1); put32(0); put32(0);
	put16(DHCPV6_OPT_IAADDR);
	put16(8);
	put32(0); put32(0);
	assert_int_equal(dhcpv6_parse(m.b, m.len, &req), -EINVAL);

	/* Option inside an IAADDR running past it */
	msg_start(DHCPV6_REQUEST);
	opt_client();
	put16(DHCPV6_OPT_IA_NA);
	put16(12 + 4 + 24 + 4);
	put32(1); put32(0); put32(0);
	put16(DHCPV6_OPT_IAADDR);
	put16(24 + 4);
	put(&c.ip6.addr, 16); put32(0); put32(0);
	put16(DHCPV6_OPT_STATUS_CODE);
	put16(2);				/* 2 bytes: beyond the IAADDR */
	put16(0);
	assert_int_equal(dhcpv6_parse(m.b, m.len, &req), -EINVAL);
	/* ...and the same, well-formed */
	m.b[m.len - 2 - 4 - 24 - 1] += 2;	/* IAADDR length */
	m.b[m.len - 2 - 4 - 24 - 4 - 12 - 1] += 2;	/* IA_NA length */
	assert_int_equal(dhcpv6_parse(m.b, m.len, &req), 0);
	assert_int_equal(req.addr_cnt, 1);

	/* IA_NA shorter than IAID, T1, T2 */
	msg_start(DHCPV6_SOLICIT);
	opt_client();
	opt(DHCPV6_OPT_IA_NA, "\1\2\3\4", 4);
	assert_int_equal(dhcpv6_parse(m.b, m.len, &req), -EINVAL);
}

/* Random input: no crash, no overread; anything accepted is well-formed */
static void test_dhcpv6_random(void **state)
{
	struct dhcpv6_req req;
	uint8_t b[256];
	unsigned i, j;

	(void)state;
	srand(1);
	for (i = 0; i < 20000; i++) {
		size_t l = (size_t)rand() % sizeof(b);

		for (j = 0; j < l; j++)
			b[j] = (uint8_t)rand();
		if (l)
			b[0] = (uint8_t)(1 + rand() % 11);
		if (l > 5 && (rand() & 1))
			b[4] = 0;		/* plausible option codes */
		if (!dhcpv6_parse(at_guard(b, l), l, &req))
			assert_true(req.client_id_len <= DHCPV6_DUID_MAX);
	}
}

/* tap.c: UDP and TCP checks for both families */
static void test_dhcpv6_l4_checks(void **state)
{
	uint64_t csum_bad = tap_stats()->bad_csum;
	uint64_t other = tap_stats()->unhandled;
	uint8_t *l4 = frame + ETH_HLEN + 40;
	size_t len;

	(void)state;
	/* UDP/IPv6 with a zero checksum: invalid (RFC 8200, 8.1) */
	msg_start(DHCPV6_INFO_REQUEST);
	len = frame_udp6(guest_ll, "ff02::1:2", 547, m.b, m.len);
	memset(l4 + 6, 0, 2);
	tap_handler(&c, frame, len);
	/* ...and a wrong one */
	len = frame_udp6(guest_ll, "ff02::1:2", 547, m.b, m.len);
	l4[6] ^= 0x10;
	tap_handler(&c, frame, len);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_csum, csum_bad + 2);

	/* UDP to another port: not ours, passed on to udp.c as a new flow */
	tap_handler(&c, frame, frame_udp6("2001:db8::15", "2001:db8::1", 53,
					  m.b, m.len));
	assert_int_equal(flow_stats()->allocs, 1);
	assert_int_equal(tap_stats()->unhandled, other);
	assert_int_equal(tap_stats()->bad_csum, csum_bad + 2);
}

/* TCP over IPv6 and IPv4: checksum verified before going further */
static void test_dhcpv6_tcp_checks(void **state)
{
	union inany_addr s6 = { .a6 = a6("2001:db8::15") };
	union inany_addr d6 = { .a6 = a6("2001:db8::1") };
	uint64_t csum_bad = tap_stats()->bad_csum;
	uint64_t other = tap_stats()->unhandled, bad6 = tap_stats()->bad_ip6;
	uint8_t *l4 = frame + ETH_HLEN + 40;
	struct iovec iov = { l4, 20 };
	struct tcphdr th = { 0 };
	uint16_t sum;
	size_t len;
	int sent_before;

	(void)state;
	len = frame_udp6("2001:db8::15", "2001:db8::1", 80, m.b, 12);
	frame[ETH_HLEN + 6] = IPPROTO_TCP;		/* 20 bytes of TCP */
	th.source = htons(40000);
	th.dest = htons(80);
	th.doff = 5;
	th.syn = 1;
	memcpy(l4, &th, sizeof(th));
	sum = csum_l4(&s6, &d6, IPPROTO_TCP, &iov, 1);
	memcpy(l4 + 16, &sum, 2);
	tap_handler(&c, frame, len);
	assert_int_equal(flow_stats()->allocs, 1);	/* reached tcp.c */
	assert_int_equal(tap_stats()->unhandled, other);
	sent_before = sent_frame.count;	/* SYN-ACK or RST, as connect() went */

	l4[16] ^= 1;
	tap_handler(&c, frame, len);
	assert_int_equal(tap_stats()->bad_csum, csum_bad + 1);

	l4[16] ^= 1;
	l4[12] = 6 << 4;				/* offset past the end */
	tap_handler(&c, frame, len);
	l4[12] = 4 << 4;				/* below 5 words */
	tap_handler(&c, frame, len);
	assert_int_equal(tap_stats()->bad_ip6, bad6 + 2);
	assert_int_equal(tap_stats()->unhandled, other);
	assert_int_equal(flow_stats()->allocs, 1);
	assert_int_equal(sent_frame.count, sent_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_dhcpv6_solicit_advertise, setup),
		cmocka_unit_test_setup(test_dhcpv6_solicit_rapid_commit, setup),
		cmocka_unit_test_setup(test_dhcpv6_request_reply, setup),
		cmocka_unit_test_setup(test_dhcpv6_renew_old_address, setup),
		cmocka_unit_test_setup(test_dhcpv6_rebind_info_release, setup),
		cmocka_unit_test_setup(test_dhcpv6_confirm, setup),
		cmocka_unit_test_setup(test_dhcpv6_identifiers, setup),
		cmocka_unit_test_setup(test_dhcpv6_truncated, setup),
		cmocka_unit_test_setup(test_dhcpv6_nested_lengths, setup),
		cmocka_unit_test_setup(test_dhcpv6_random, setup),
		cmocka_unit_test_setup(test_dhcpv6_l4_checks, setup),
		cmocka_unit_test_setup(test_dhcpv6_tcp_checks, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
