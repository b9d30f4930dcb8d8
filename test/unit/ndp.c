// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/ndp.c - NDP (router and neighbour discovery), IPv6 input in
 *		     tap.c and pcap capture
 *
 * Frames are built by hand and fed to tap_handler(); vu_frame_send() is wrapped
 * (-Wl,--wrap=vu_frame_send) so that what the daemon would give the guest is
 * captured here and taken apart byte by byte.
 */

/* WRAP: vu_frame_send */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <netinet/ip6.h>
#include <cmocka.h>

#include "ctx.h"
#include "checksum.h"
#include "ndp.h"
#include "pcap.h"
#include "tap.h"
#include "tap_out.h"
#include "common.h"

static struct ctx c;
static uint8_t frame[UNIT_FRAME_MAX];

static int setup(void **state)
{
	(void)state;
	unit_ctx_init(&c);
	unit_ctx_ip6(&c);
	c.v4 = true;
	c.ip6.dns[1] = a6("2001:db8:1::53");
	strcpy(c.dns_search[1], "lab.example.org.");
	return 0;
}

/*
 * Build Ethernet + IPv6 (+ @ext extension bytes, whose first byte the
 * caller set up) + an ICMPv6 message with a valid checksum.  Returns the
 * frame length.
 */
static size_t frame6_ext(const char *src, const char *dst, uint8_t hlim,
			 const uint8_t *ext, size_t ext_len, uint8_t ext_nh,
			 const uint8_t *msg, size_t len)
{
	union inany_addr s = { .a6 = a6(src) }, d = { .a6 = a6(dst) };
	uint8_t *l4 = frame + ETH_HLEN + sizeof(struct ip6_hdr) + ext_len;
	struct iovec iov = { l4, len };
	struct ether_header eh;
	struct ip6_hdr ip6 = { 0 };
	uint16_t sum;

	memset(eh.ether_dhost, 0x33, ETH_ALEN);
	memcpy(eh.ether_shost, guest_mac, ETH_ALEN);
	eh.ether_type = htons(ETHERTYPE_IPV6);
	memcpy(frame, &eh, sizeof(eh));

	ip6.ip6_flow = htonl(6U << 28);
	ip6.ip6_plen = htons((uint16_t)(ext_len + len));
	ip6.ip6_nxt = ext_len ? ext_nh : IPPROTO_ICMPV6;
	ip6.ip6_hlim = hlim;
	ip6.ip6_src = s.a6;
	ip6.ip6_dst = d.a6;
	memcpy(frame + ETH_HLEN, &ip6, sizeof(ip6));
	memcpy(frame + ETH_HLEN + sizeof(ip6), ext, ext_len);

	memcpy(l4, msg, len);
	if (len >= 4) {
		memset(l4 + 2, 0, 2);
		sum = csum_l4(&s, &d, IPPROTO_ICMPV6, &iov, 1);
		memcpy(l4 + 2, &sum, 2);
	}
	return ETH_HLEN + sizeof(ip6) + ext_len + len;
}

static size_t frame6(const char *src, const char *dst, uint8_t hlim,
		     const uint8_t *msg, size_t len)
{
	return frame6_ext(src, dst, hlim, NULL, 0, 0, msg, len);
}

/* Messages from the guest */
static size_t rs(uint8_t *m, bool sll)
{
	memset(m, 0, 16);
	m[0] = NDP_RS;
	if (!sll)
		return 8;
	m[8] = NDP_OPT_SRC_LL;
	m[9] = 1;
	memcpy(m + 10, guest_mac, ETH_ALEN);
	return 16;
}

static size_t ns(uint8_t *m, const char *target, bool sll)
{
	struct in6_addr t = a6(target);

	memset(m, 0, 32);
	m[0] = NDP_NS;
	memcpy(m + 8, &t, sizeof(t));
	if (!sll)
		return 24;
	m[24] = NDP_OPT_SRC_LL;
	m[25] = 1;
	memcpy(m + 26, guest_mac, ETH_ALEN);
	return 32;
}

/* Check headers of the captured frame; return the ICMPv6 message */
static const uint8_t *reply_get(const char *src, const char *dst,
				size_t *len)
{
	const uint8_t *l4 = sent_frame.b + ETH_HLEN + sizeof(struct ip6_hdr);
	union inany_addr s = { .a6 = a6(src) }, d = { .a6 = a6(dst) };
	struct ether_header eh;
	struct ip6_hdr ip6;
	struct iovec iov;

	assert_int_equal(sent_frame.count, 1);
	assert_true(sent_frame.len >= ETH_HLEN + sizeof(ip6) + 8);
	memcpy(&eh, sent_frame.b, sizeof(eh));
	assert_memory_equal(eh.ether_shost, our_mac, ETH_ALEN);
	assert_memory_equal(eh.ether_dhost, guest_mac, ETH_ALEN);
	assert_int_equal(ntohs(eh.ether_type), ETHERTYPE_IPV6);

	memcpy(&ip6, sent_frame.b + ETH_HLEN, sizeof(ip6));
	assert_int_equal(ntohl(ip6.ip6_flow) >> 28, 6);
	assert_int_equal(ntohs(ip6.ip6_plen),
			 sent_frame.len - ETH_HLEN - sizeof(ip6));
	assert_int_equal(ip6.ip6_nxt, IPPROTO_ICMPV6);
	assert_int_equal(ip6.ip6_hlim, 255);
	assert_memory_equal(&ip6.ip6_src, &s.a6, 16);
	assert_memory_equal(&ip6.ip6_dst, &d.a6, 16);

	*len = ntohs(ip6.ip6_plen);
	iov = (struct iovec){ (void *)l4, *len };
	assert_int_equal(csum_l4(&s, &d, IPPROTO_ICMPV6, &iov, 1), 0);
	assert_int_equal(l4[1], 0);	/* code */
	return l4;
}

/* Find option @type in an NDP option list; NULL if absent */
static const uint8_t *opt_find(const uint8_t *opts, size_t len, uint8_t type)
{
	size_t off = 0;

	while (off < len) {
		assert_true(len - off >= 8);
		assert_int_not_equal(opts[off + 1], 0);
		assert_true((size_t)opts[off + 1] * 8 <= len - off);
		if (opts[off] == type)
			return opts + off;
		off += (size_t)opts[off + 1] * 8;
	}
	return NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Router Solicitation: Router Advertisement with everything in it */
static void test_ndp_rs_ra(void **state)
{
	static const uint8_t dnssl[] = {
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		3, 'o', 'r', 'g', 0,
	};
	const uint8_t *ra, *o, *opts;
	struct in6_addr p = a6("2001:db8::");
	uint8_t m[64];
	size_t len;

	(void)state;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 255, m, rs(m, true)));
	ra = reply_get("fe80::1", guest_ll, &len);

	assert_int_equal(ra[0], NDP_RA);
	assert_int_equal(ra[4], 64);			/* cur hop limit */
	assert_int_equal(ra[5], 0xc0);			/* M, O */
	assert_int_equal(ra[6] << 8 | ra[7], 65535);	/* router lifetime */
	opts = ra + 16;
	len -= 16;

	o = opt_find(opts, len, NDP_OPT_SRC_LL);
	assert_non_null(o);
	assert_int_equal(o[1], 1);
	assert_memory_equal(o + 2, our_mac, ETH_ALEN);

	o = opt_find(opts, len, NDP_OPT_MTU);
	assert_non_null(o);
	assert_int_equal(be32(o + 4), 1500);

	o = opt_find(opts, len, NDP_OPT_PREFIX);
	assert_non_null(o);
	assert_int_equal(o[1], 4);
	assert_int_equal(o[2], 64);
	assert_int_equal(o[3], 0xc0);			/* L, A */
	assert_int_equal(be32(o + 4), 0xffffffff);
	assert_int_equal(be32(o + 8), 0xffffffff);
	assert_memory_equal(o + 16, &p, 16);

	o = opt_find(opts, len, NDP_OPT_RDNSS);
	assert_non_null(o);
	assert_int_equal(o[1], 5);
	assert_memory_equal(o + 8, &c.ip6.dns[0], 16);
	assert_memory_equal(o + 24, &c.ip6.dns[1], 16);

	o = opt_find(opts, len, NDP_OPT_DNSSL);
	assert_non_null(o);
	assert_int_equal(o[1], (8 + sizeof(dnssl) + 7) / 8);
	assert_memory_equal(o + 8, dnssl, sizeof(dnssl));
	for (len = 8 + sizeof(dnssl); len < (size_t)o[1] * 8; len++)
		assert_int_equal(o[len], 0);		/* padding */

	/* The guest's link-local address was noted */
	p = a6(guest_ll);
	assert_memory_equal(&c.ip6.addr_ll_seen, &p, 16);
}

/* No DNS, no search list, no address: just the router and the MTU */
static void test_ndp_rs_ra_minimal(void **state)
{
	uint8_t m[64];
	size_t len;
	const uint8_t *ra;

	(void)state;
	memset(c.ip6.dns, 0, sizeof(c.ip6.dns));
	memset(c.dns_search, 0, sizeof(c.dns_search));
	memset(&c.ip6.addr, 0, sizeof(c.ip6.addr));
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 255, m, rs(m, false)));
	ra = reply_get("fe80::1", guest_ll, &len);
	assert_int_equal(len, 16 + 8 + 8);
	assert_null(opt_find(ra + 16, len - 16, NDP_OPT_PREFIX));
	assert_null(opt_find(ra + 16, len - 16, NDP_OPT_RDNSS));
	assert_null(opt_find(ra + 16, len - 16, NDP_OPT_DNSSL));
}

/* With IPv6 disabled (-4), valid IPv6 frames are not answered */
static void test_ndp_ipv6_disabled(void **state)
{
	uint64_t other = tap_stats()->unhandled;
	uint8_t m[64];

	(void)state;
	c.v6 = false;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 255, m, rs(m, true)));
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff00:1", 255, m,
				      ns(m, "fe80::1", true)));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->unhandled, other + 2);
}

/* RS from :: goes to all nodes; with a source link-layer option it's bad */
static void test_ndp_rs_unspecified(void **state)
{
	uint64_t bad = tap_stats()->ndp;
	uint8_t m[64];
	size_t len;

	(void)state;
	tap_handler(&c, frame, frame6("::", "ff02::2", 255, m, rs(m, false)));
	assert_int_equal(reply_get("fe80::1", "ff02::1", &len)[0], NDP_RA);

	sent_frame.count = 0;
	tap_handler(&c, frame, frame6("::", "ff02::2", 255, m, rs(m, true)));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->ndp, bad + 1);
}

/* RFC 4861 validation: hop limit, code, option lengths */
static void test_ndp_rs_invalid(void **state)
{
	uint64_t bad = tap_stats()->ndp;
	uint8_t m[64];
	size_t len;

	(void)state;
	len = rs(m, true);
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 254, m, len));
	m[1] = 1;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 255, m, len));
	m[1] = 0;
	m[9] = 0;					/* zero length */
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 255, m, len));
	m[9] = 2;					/* past the end */
	tap_handler(&c, frame, frame6(guest_ll, "ff02::2", 255, m, len));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->ndp, bad + 4);
}

/* A bad ICMPv6 checksum is counted, never answered */
static void test_ndp_bad_checksum(void **state)
{
	uint64_t bad = tap_stats()->bad_csum;
	uint8_t m[64];
	size_t len;

	(void)state;
	len = frame6(guest_ll, "ff02::2", 255, m, rs(m, true));
	frame[len - 1] ^= 1;
	tap_handler(&c, frame, len);
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_csum, bad + 1);
}

/* NS for our link-local and the gateway: NA with router flag, our MAC */
static void check_na(const char *target, const char *from, bool router)
{
	struct in6_addr t = a6(target);
	const uint8_t *na, *o;
	uint8_t m[64];
	size_t len;

	sent_frame.count = 0;
	tap_handler(&c, frame, frame6(from, "ff02::1:ff00:1", 255, m,
				      ns(m, target, true)));
	na = reply_get(target, from, &len);
	assert_int_equal(na[0], NDP_NA);
	assert_int_equal(na[4], router ? 0xe0 : 0x60);	/* R, S, O */
	assert_memory_equal(na + 8, &t, 16);
	o = opt_find(na + 24, len - 24, NDP_OPT_TGT_LL);
	assert_non_null(o);
	assert_memory_equal(o + 2, our_mac, ETH_ALEN);
}

static void test_ndp_ns_na(void **state)
{
	(void)state;
	check_na("fe80::1", guest_ll, true);
	check_na("2001:db8::1", guest_ll, true);
	check_na("2001:db8::99", "2001:db8::15", false);
	check_na("fe80::2", guest_ll, false);
	check_na("2001:db8:ffff::1", guest_ll, false);
}

/* The guest's own addresses are never claimed; DAD is never answered */
static void test_ndp_ns_guest_own(void **state)
{
	uint64_t bad = tap_stats()->ndp;
	uint8_t m[64];

	(void)state;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff00:15", 255, m,
				      ns(m, "2001:db8::15", true)));
	assert_int_equal(sent_frame.count, 0);
	/* Its link-local, now that it used it as a source */
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff12:3456", 255, m,
				      ns(m, guest_ll, true)));
	assert_int_equal(sent_frame.count, 0);
	/* A SLAAC address other than the one we give, once seen */
	tap_handler(&c, frame, frame6("2001:db8::5054:ff:fe12:3456", "fe80::1",
				      255, m, ns(m, "fe80::1", false)));
	assert_int_equal(sent_frame.count, 1);
	sent_frame.count = 0;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff12:3456", 255, m,
				      ns(m, "2001:db8::5054:ff:fe12:3456",
					 true)));
	assert_int_equal(sent_frame.count, 0);

	/* DAD for any address: silence, and it's not an error */
	tap_handler(&c, frame, frame6("::", "ff02::1:ff00:99", 255, m,
				      ns(m, "2001:db8::99", false)));
	tap_handler(&c, frame, frame6("::", "ff02::1:ff00:1", 255, m,
				      ns(m, "fe80::1", false)));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->ndp, bad);
}

static void test_ndp_ns_invalid(void **state)
{
	uint64_t bad = tap_stats()->ndp;
	uint8_t m[64];
	size_t len;

	(void)state;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1", 255, m,
				      ns(m, "ff02::1", false)));
	len = ns(m, "fe80::1", true);
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff00:1", 64, m, len));
	m[25] = 0;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff00:1", 255, m, len));
	m[25] = 3;
	tap_handler(&c, frame, frame6(guest_ll, "ff02::1:ff00:1", 255, m, len));
	/* DAD must not carry a source link-layer address */
	tap_handler(&c, frame, frame6("::", "ff02::1:ff00:1", 255, m,
				      ns(m, "fe80::1", true)));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->ndp, bad + 5);
}

/*
 * Messages cut at every length, with consistent IPv6 length and checksum
 * (so that ndp.c itself sees them), and frames cut at every length: an
 * answer only for complete messages, and no read past the end.
 */
static void test_ndp_truncated(void **state)
{
	uint8_t m[64];
	size_t full, l, flen;

	(void)state;
	full = ns(m, "fe80::1", true);
	for (l = 0; l <= full; l++) {
		flen = frame6(guest_ll, "ff02::1:ff00:1", 255, m, l);
		sent_frame.count = 0;
		tap_handler(&c, at_guard(frame, flen), flen);
		assert_int_equal(sent_frame.count, l == 24 || l == full);
	}
	flen = frame6(guest_ll, "ff02::1:ff00:1", 255, m, full);
	for (l = 0; l < flen; l++) {
		sent_frame.count = 0;
		tap_handler(&c, at_guard(frame, l), l);
		assert_int_equal(sent_frame.count, 0);
	}

	full = rs(m, true);
	for (l = 0; l <= full; l++) {
		flen = frame6(guest_ll, "ff02::2", 255, m, l);
		sent_frame.count = 0;
		tap_handler(&c, at_guard(frame, flen), flen);
		assert_int_equal(sent_frame.count, l == 8 || l == full);
	}
}

/* Extension headers: skipped when well-formed, fragments dropped */
static void test_ndp_ext_headers(void **state)
{
	uint64_t frag = tap_stats()->frag6, bad = tap_stats()->bad_ip6;
	uint8_t m[64], ext[24] = { 0 };
	size_t len = ns(m, "fe80::1", true), flen;

	(void)state;
	/* Hop-by-hop (PadN), then destination options, then ICMPv6 */
	ext[0] = IPPROTO_DSTOPTS;
	ext[1] = 0;
	ext[2] = 1;				/* PadN, 4 bytes of padding */
	ext[3] = 4;
	ext[8] = IPPROTO_ICMPV6;
	ext[9] = 1;				/* 16 bytes */
	ext[10] = 1;
	ext[11] = 12;
	tap_handler(&c, frame, frame6_ext(guest_ll, "ff02::1:ff00:1", 255,
					  ext, 24, IPPROTO_HOPOPTS, m, len));
	assert_int_equal(sent_frame.count, 1);

	/* Hop-by-hop anywhere but first */
	sent_frame.count = 0;
	ext[0] = IPPROTO_HOPOPTS;
	tap_handler(&c, frame, frame6_ext(guest_ll, "ff02::1:ff00:1", 255,
					  ext, 24, IPPROTO_HOPOPTS, m, len));
	assert_int_equal(tap_stats()->bad_ip6, bad + 1);

	/* Header length past the payload */
	ext[0] = IPPROTO_ICMPV6;
	ext[1] = 200;
	tap_handler(&c, frame, frame6_ext(guest_ll, "ff02::1:ff00:1", 255,
					  ext, 24, IPPROTO_DSTOPTS, m, len));
	assert_int_equal(tap_stats()->bad_ip6, bad + 2);

	/* Only an extension header, cut short */
	flen = frame6_ext(guest_ll, "ff02::1:ff00:1", 255, ext, 4,
			  IPPROTO_ROUTING, m, 0);
	tap_handler(&c, at_guard(frame, flen), flen);
	assert_int_equal(tap_stats()->bad_ip6, bad + 3);

	/* Fragment */
	ext[0] = IPPROTO_ICMPV6;
	ext[1] = 0;
	tap_handler(&c, frame, frame6_ext(guest_ll, "ff02::1:ff00:1", 255,
					  ext, 8, IPPROTO_FRAGMENT, m, len));
	assert_int_equal(tap_stats()->frag6, frag + 1);
	assert_int_equal(sent_frame.count, 0);
}

/* Fixed header: version, payload length, multicast source */
static void test_ndp_bad_ip6(void **state)
{
	uint64_t bad = tap_stats()->bad_ip6;
	uint8_t m[64];
	size_t len = frame6(guest_ll, "ff02::2", 255, m, rs(m, true));

	(void)state;
	frame[ETH_HLEN] = 0x40;				/* version 4 */
	tap_handler(&c, frame, len);
	frame6(guest_ll, "ff02::2", 255, m, rs(m, true));
	frame[ETH_HLEN + 5] += 1;			/* past the frame */
	tap_handler(&c, frame, len);
	tap_handler(&c, frame, frame6("ff02::1", "ff02::2", 255, m,
				      rs(m, true)));
	tap_handler(&c, frame, frame6("::ffff:10.0.2.15", "ff02::2", 255, m,
				      rs(m, true)));
	assert_int_equal(sent_frame.count, 0);
	assert_int_equal(tap_stats()->bad_ip6, bad + 4);

	/* Ethernet padding after the payload is fine */
	len = frame6(guest_ll, "ff02::2", 255, m, rs(m, true));
	memset(frame + len, 0xee, 20);
	tap_handler(&c, frame, len + 20);
	assert_int_equal(sent_frame.count, 1);
}

/* Unsolicited advertisements: once the guest is there, then periodically */
static void test_ndp_timer(void **state)
{
	size_t len;

	(void)state;
	c.now.tv_sec = 1000;
	ndp_timer(&c);
	assert_int_equal(sent_frame.count, 0);		/* no guest yet */

	memcpy(c.guest_mac, guest_mac, ETH_ALEN);
	ndp_timer(&c);
	assert_int_equal(reply_get("fe80::1", "ff02::1", &len)[0], NDP_RA);
	c.now.tv_sec += NDP_RA_INTERVAL_S - 1;
	ndp_timer(&c);
	assert_int_equal(sent_frame.count, 1);
	c.now.tv_sec += 1;
	ndp_timer(&c);
	assert_int_equal(sent_frame.count, 2);
}

/* -p: both directions in a classic pcap file */
static void test_ndp_pcap(void **state)
{
	char path[] = "/tmp/test_ndp_pcapXXXXXX";
	struct pcap_file_hdr fh;
	struct pcap_rec_hdr rh;
	uint8_t m[64], buf[4096];
	size_t in_len;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	strcpy(c.pcap, path);
	pcap_init(&c);

	in_len = frame6(guest_ll, "ff02::2", 255, m, rs(m, true));
	tap_handler(&c, frame, in_len);
	assert_int_equal(sent_frame.count, 1);

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, &fh, sizeof(fh)), sizeof(fh));
	assert_int_equal(fh.magic, 0xa1b2c3d4);
	assert_int_equal(fh.major, 2);
	assert_int_equal(fh.minor, 4);
	assert_int_equal(fh.linktype, 1);

	assert_int_equal(read(fd, &rh, sizeof(rh)), sizeof(rh));
	assert_int_equal(rh.caplen, in_len);
	assert_int_equal(rh.len, in_len);
	assert_true(rh.tv_usec < 1000000);
	assert_int_equal(read(fd, buf, in_len), in_len);
	assert_memory_equal(buf, frame, in_len);

	assert_int_equal(read(fd, &rh, sizeof(rh)), sizeof(rh));
	assert_int_equal(rh.caplen, sent_frame.len);
	assert_int_equal(read(fd, buf, sent_frame.len), sent_frame.len);
	assert_memory_equal(buf, sent_frame.b, sent_frame.len);
	assert_int_equal(read(fd, buf, 1), 0);		/* nothing else */
	close(fd);

	/* Without -p nothing more is written */
	c.pcap[0] = '\0';
	tap_handler(&c, frame, in_len);
	fd = open(path, O_RDONLY);
	assert_int_equal(lseek(fd, 0, SEEK_END),
			 sizeof(fh) + 2 * sizeof(rh) + in_len + sent_frame.len);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ndp_rs_ra, setup),
		cmocka_unit_test_setup(test_ndp_rs_ra_minimal, setup),
		cmocka_unit_test_setup(test_ndp_ipv6_disabled, setup),
		cmocka_unit_test_setup(test_ndp_rs_unspecified, setup),
		cmocka_unit_test_setup(test_ndp_rs_invalid, setup),
		cmocka_unit_test_setup(test_ndp_bad_checksum, setup),
		cmocka_unit_test_setup(test_ndp_ns_na, setup),
		cmocka_unit_test_setup(test_ndp_ns_guest_own, setup),
		cmocka_unit_test_setup(test_ndp_ns_invalid, setup),
		cmocka_unit_test_setup(test_ndp_truncated, setup),
		cmocka_unit_test_setup(test_ndp_ext_headers, setup),
		cmocka_unit_test_setup(test_ndp_bad_ip6, setup),
		cmocka_unit_test_setup(test_ndp_timer, setup),
		cmocka_unit_test_setup(test_ndp_pcap, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
