// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/arp.c - ARP responder and Ethernet dispatch
 *
 * Requests are built by hand and fed through tap_handler(), as frames from
 * the guest; vu_frame_send() is wrapped (-Wl,--wrap=vu_frame_send) so that the reply
 * frame, if any, is captured here and checked byte by byte.
 */

/* WRAP: vu_frame_send */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <cmocka.h>

#include "ctx.h"
#include "arp.h"
#include "tap.h"
#include "tap_out.h"
#include "common.h"

#define FRAME_LEN	(ETH_HLEN + sizeof(struct arp_body))

static struct ctx c;			/* big: port maps */

static int setup(void **state)
{
	(void)state;
	unit_ctx_init(&c);
	unit_ctx_ip4(&c);
	return 0;
}

static uint8_t frame[128];

/* Build an ARP frame from the guest into frame[], return its length */
static size_t arp_frame(uint16_t op, const char *spa, const char *tpa)
{
	struct ether_header eh;
	struct arp_body a = { 0 };
	struct in_addr s = a4(spa), t = a4(tpa);

	memcpy(eh.ether_dhost, bcast_mac, ETH_ALEN);
	memcpy(eh.ether_shost, guest_mac, ETH_ALEN);
	eh.ether_type = htons(ETHERTYPE_ARP);

	a.htype = htons(ARPHRD_ETHER);
	a.ptype = htons(ETHERTYPE_IP);
	a.hlen = ETH_ALEN;
	a.plen = 4;
	a.op = htons(op);
	memcpy(a.sha, guest_mac, ETH_ALEN);
	memcpy(a.spa, &s, 4);
	memcpy(a.tpa, &t, 4);

	memset(frame, 0, sizeof(frame));
	memcpy(frame, &eh, sizeof(eh));
	memcpy(frame + sizeof(eh), &a, sizeof(a));
	return FRAME_LEN;
}

/* Check the captured reply: our MAC for @target, to the guest */
static void check_reply(const char *target, const char *requester)
{
	struct in_addr t = a4(target), r = a4(requester);
	struct ether_header eh;
	struct arp_body a;

	assert_int_equal(sent_frame.count, 1);
	assert_int_equal(sent_frame.len, FRAME_LEN);
	memcpy(&eh, sent_frame.b, sizeof(eh));
	memcpy(&a, sent_frame.b + sizeof(eh), sizeof(a));

	assert_memory_equal(eh.ether_dhost, guest_mac, ETH_ALEN);
	assert_memory_equal(eh.ether_shost, our_mac, ETH_ALEN);
	assert_int_equal(ntohs(eh.ether_type), ETHERTYPE_ARP);

	assert_int_equal(ntohs(a.htype), ARPHRD_ETHER);
	assert_int_equal(ntohs(a.ptype), ETHERTYPE_IP);
	assert_int_equal(a.hlen, 6);
	assert_int_equal(a.plen, 4);
	assert_int_equal(ntohs(a.op), ARPOP_REPLY);
	assert_memory_equal(a.sha, our_mac, ETH_ALEN);
	assert_memory_equal(a.spa, &t, 4);
	assert_memory_equal(a.tha, guest_mac, ETH_ALEN);
	assert_memory_equal(a.tpa, &r, 4);
}

static void test_arp_request_gateway(void **state)
{
	size_t len = arp_frame(ARPOP_REQUEST, "10.0.2.15", "10.0.2.2");

	(void)state;
	tap_handler(&c, frame, len);
	check_reply("10.0.2.2", "10.0.2.15");
	assert_memory_equal(c.guest_mac, guest_mac, ETH_ALEN);
}

/* Every other address is ours too: on the subnet or not */
static void test_arp_request_other_addresses(void **state)
{
	static const char *const targets[] = {
		"10.0.2.3", "10.0.2.77", "8.8.8.8", "192.168.1.1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		sent_frame.count = 0;
		tap_handler(&c, frame,
			    arp_frame(ARPOP_REQUEST, "10.0.2.15", targets[i]));
		check_reply(targets[i], "10.0.2.15");
	}
}

/* Minimum-size Ethernet frame: padding after the ARP body is fine */
static void test_arp_request_padded(void **state)
{
	(void)state;
	arp_frame(ARPOP_REQUEST, "10.0.2.15", "10.0.2.2");
	memset(frame + FRAME_LEN, 0x5a, 60 - FRAME_LEN);
	tap_handler(&c, frame, 60);
	check_reply("10.0.2.2", "10.0.2.15");
}

static void test_arp_request_guest_address(void **state)
{
	(void)state;
	tap_handler(&c, frame, arp_frame(ARPOP_REQUEST, "10.0.2.2",
					 "10.0.2.15"));
	assert_int_equal(sent_frame.count, 0);

	/* The address the guest actually uses, if not the one we gave */
	c.ip4.addr_seen = a4("10.0.2.200");
	tap_handler(&c, frame, arp_frame(ARPOP_REQUEST, "10.0.2.15",
					 "10.0.2.200"));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(arp_handler(&c, frame, FRAME_LEN), 0);
	assert_int_equal(sent_frame.count, 0);
}

static void test_arp_gratuitous_ignored(void **state)
{
	(void)state;
	/* Announcement as a request, and as a reply */
	tap_handler(&c, frame, arp_frame(ARPOP_REQUEST, "10.0.2.15",
					 "10.0.2.15"));
	tap_handler(&c, frame, arp_frame(ARPOP_REPLY, "10.0.2.15",
					 "10.0.2.15"));
	/* Announcing some other address it took */
	tap_handler(&c, frame, arp_frame(ARPOP_REQUEST, "10.0.2.99",
					 "10.0.2.99"));
	assert_int_equal(sent_frame.count, 0);
}

static void test_arp_probe_ignored(void **state)
{
	(void)state;
	/* RFC 5227 probe for its own address, and for another one */
	tap_handler(&c, frame, arp_frame(ARPOP_REQUEST, "0.0.0.0",
					 "10.0.2.15"));
	tap_handler(&c, frame, arp_frame(ARPOP_REQUEST, "0.0.0.0",
					 "169.254.7.7"));
	assert_int_equal(sent_frame.count, 0);
}

static void test_arp_reply_ignored(void **state)
{
	(void)state;
	tap_handler(&c, frame, arp_frame(ARPOP_REPLY, "10.0.2.15",
					 "10.0.2.2"));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(arp_handler(&c, frame, FRAME_LEN), 0);

	/* Unknown operation, e.g. RARP request */
	arp_frame(3, "10.0.2.15", "10.0.2.2");
	assert_int_equal(arp_handler(&c, frame, FRAME_LEN), 0);
	assert_int_equal(sent_frame.count, 0);
}

static void test_arp_truncated(void **state)
{
	uint64_t dropped = tap_stats()->arp;
	uint64_t shorts = tap_stats()->short_frame;
	size_t len;

	(void)state;
	arp_frame(ARPOP_REQUEST, "10.0.2.15", "10.0.2.2");
	for (len = 0; len < FRAME_LEN; len++) {
		tap_handler(&c, at_guard(frame, len), len);
		assert_int_equal(sent_frame.count, 0);
		if (len >= ETH_HLEN)
			assert_int_equal(arp_handler(&c, at_guard(frame, len),
						     len), -EINVAL);
	}
	/* Short of an Ethernet header: tap.c; short of the body: arp.c */
	assert_int_equal(tap_stats()->short_frame, shorts + ETH_HLEN);
	assert_int_equal(tap_stats()->arp,
			 dropped + FRAME_LEN - ETH_HLEN);

	tap_handler(&c, frame, FRAME_LEN);
	assert_int_equal(sent_frame.count, 1);
}

static void test_arp_bad_fields(void **state)
{
	static const struct { size_t off; uint8_t val; } t[] = {
		{ ETH_HLEN + 1, 6 },		/* hardware type 6 (IEEE 802) */
		{ ETH_HLEN + 0, 1 },		/* hardware type 0x0101 */
		{ ETH_HLEN + 2, 0x86 },		/* protocol 0x86dd */
		{ ETH_HLEN + 4, 8 },		/* hlen 8 */
		{ ETH_HLEN + 4, 0 },		/* hlen 0 */
		{ ETH_HLEN + 5, 16 },		/* plen 16 */
		{ ETH_HLEN + 5, 0 },		/* plen 0 */
	};
	uint64_t dropped = tap_stats()->arp;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		arp_frame(ARPOP_REQUEST, "10.0.2.15", "10.0.2.2");
		frame[t[i].off] = t[i].val;
		tap_handler(&c, frame, FRAME_LEN);
		assert_int_equal(sent_frame.count, 0);
		assert_int_equal(arp_handler(&c, frame, FRAME_LEN), -EINVAL);
	}
	assert_int_equal(tap_stats()->arp, dropped + ARRAY_SIZE(t));
}

/* tap.c: the guest's MAC is learnt from frames, unless given with -M */
static void test_arp_guest_mac_learning(void **state)
{
	static const uint8_t fixed[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t other[ETH_ALEN] = { 2, 0, 0, 0, 0, 2 };
	uint64_t bad = tap_stats()->bad_mac;

	(void)state;
	arp_frame(ARPOP_REQUEST, "10.0.2.15", "10.0.2.2");
	memcpy(frame + ETH_ALEN, other, ETH_ALEN);
	tap_handler(&c, frame, FRAME_LEN);
	assert_memory_equal(c.guest_mac, other, ETH_ALEN);

	memcpy(c.guest_mac, fixed, ETH_ALEN);
	c.guest_mac_set = true;
	memcpy(frame + ETH_ALEN, guest_mac, ETH_ALEN);
	tap_handler(&c, frame, FRAME_LEN);
	assert_memory_equal(c.guest_mac, fixed, ETH_ALEN);

	/* Group or zero source address: dropped before anything else */
	sent_frame.count = 0;
	c.guest_mac_set = false;
	memcpy(frame + ETH_ALEN, bcast_mac, ETH_ALEN);
	tap_handler(&c, frame, FRAME_LEN);
	memset(frame + ETH_ALEN, 0, ETH_ALEN);
	tap_handler(&c, frame, FRAME_LEN);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_mac, bad + 2);
	assert_memory_equal(c.guest_mac, fixed, ETH_ALEN);
}

/* tap.c: malformed IPv6 and unknown EtherTypes are counted and dropped */
static void test_arp_other_ethertypes(void **state)
{
	uint64_t ip6 = tap_stats()->bad_ip6, other = tap_stats()->unhandled;
	uint16_t type;

	(void)state;
	arp_frame(ARPOP_REQUEST, "10.0.2.15", "10.0.2.2");
	type = htons(ETHERTYPE_IPV6);
	memcpy(frame + 12, &type, 2);
	tap_handler(&c, frame, FRAME_LEN);
	type = htons(0x88cc);			/* LLDP */
	memcpy(frame + 12, &type, 2);
	tap_handler(&c, frame, FRAME_LEN);

	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_ip6, ip6 + 1);
	assert_int_equal(tap_stats()->unhandled, other + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_arp_request_gateway, setup),
		cmocka_unit_test_setup(test_arp_request_other_addresses, setup),
		cmocka_unit_test_setup(test_arp_request_padded, setup),
		cmocka_unit_test_setup(test_arp_request_guest_address, setup),
		cmocka_unit_test_setup(test_arp_gratuitous_ignored, setup),
		cmocka_unit_test_setup(test_arp_probe_ignored, setup),
		cmocka_unit_test_setup(test_arp_reply_ignored, setup),
		cmocka_unit_test_setup(test_arp_truncated, setup),
		cmocka_unit_test_setup(test_arp_bad_fields, setup),
		cmocka_unit_test_setup(test_arp_guest_mac_learning, setup),
		cmocka_unit_test_setup(test_arp_other_ethertypes, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
