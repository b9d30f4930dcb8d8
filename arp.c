// SPDX-License-Identifier: GPL-2.0-or-later
/* arp.c - Answer the guest's ARP requests
 *
 * DOC: Theory of operation
 *
 * The guest sees a link with one other host on it: us.  Whatever IPv4
 * address it asks about, the gateway or any other, we answer with our MAC
 * address, so that every destination, on its subnet or not, is reached
 * through us.  The exceptions are the addresses that belong to the guest
 * itself (the one we assigned and the one it uses), and the announcements
 * and probes a host sends about its own address (RFC 5227): gratuitous
 * ARP (sender and target address equal) and duplicate address detection
 * probes (sender address 0.0.0.0).  Answering those would tell the guest
 * that someone else holds its address.
 *
 * Bad input: anything but an Ethernet/IPv4 request of the right length is
 * dropped (-EINVAL, counted by the caller); ARP replies are ignored.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <string.h>

#include "arp.h"
#include "tap_out.h"

/**
 * struct arp_frame - A whole ARP frame for Ethernet and IPv4
 * @eh:		Ethernet header
 * @arp:	ARP body
 */
struct arp_frame {
	struct ether_header eh;
	struct arp_body arp;
} PACKED;
static_assert(sizeof(struct arp_frame) == ETH_HLEN + 28, "wire size");

/**
 * arp_parse() - Copy out and validate an ARP frame
 * @frame:	Frame, Ethernet header first
 * @len:	Frame length, bytes (may include Ethernet padding)
 * @f:		Copy of the frame, on success
 *
 * Return: 0 for a well-formed Ethernet/IPv4 request, -ENOMSG for a
 * well-formed message that isn't a request, -EINVAL otherwise
 */
static int arp_parse(const uint8_t *frame, size_t len, struct arp_frame *f)
{
	if (len < sizeof(*f))
		return -EINVAL;
	memcpy(f, frame, sizeof(*f));

	if (ntohs(f->arp.htype) != ARPHRD_ETHER ||
	    ntohs(f->arp.ptype) != ETHERTYPE_IP ||
	    f->arp.hlen != ETH_ALEN || f->arp.plen != 4)
		return -EINVAL;
	if (ntohs(f->arp.op) != ARPOP_REQUEST)
		return -ENOMSG;
	return 0;
}

/**
 * arp_should_answer() - Decide whether a request is ours to answer
 * @c:		Execution context
 * @req:	Validated request
 *
 * Return: true if we answer with our MAC address
 */
static bool arp_should_answer(const struct ctx *c, const struct arp_body *req)
{
	struct in_addr spa, tpa;

	memcpy(&spa, req->spa, sizeof(spa));
	memcpy(&tpa, req->tpa, sizeof(tpa));

	if (spa.s_addr == htonl(INADDR_ANY))		/* RFC 5227 probe */
		return false;
	if (spa.s_addr == tpa.s_addr)			/* announcement */
		return false;
	if (tpa.s_addr == htonl(INADDR_ANY))
		return false;
	if (tpa.s_addr == c->ip4.addr.s_addr ||		/* the guest's own */
	    tpa.s_addr == c->ip4.addr_seen.s_addr)
		return false;

	return true;
}

/**
 * arp_handler() - Handle an ARP frame from the guest, reply if ours
 * @c:		Execution context
 * @frame:	Frame, Ethernet header first
 * @len:	Frame length, bytes
 *
 * Return: 0 if handled (answered or rightly ignored), -EINVAL if malformed,
 * other -errno if the reply couldn't be sent
 */
int arp_handler(struct ctx *c, const uint8_t *frame, size_t len)
{
	struct arp_frame req, rep;
	int rc;

	rc = arp_parse(frame, len, &req);
	if (rc == -ENOMSG)
		return 0;
	if (rc)
		return rc;
	if (!arp_should_answer(c, &req.arp))
		return 0;

	memcpy(rep.eh.ether_dhost, req.arp.sha, ETH_ALEN);
	memcpy(rep.eh.ether_shost, c->our_mac, ETH_ALEN);
	rep.eh.ether_type = htons(ETHERTYPE_ARP);

	rep.arp = req.arp;
	rep.arp.op = htons(ARPOP_REPLY);
	memcpy(rep.arp.sha, c->our_mac, ETH_ALEN);
	memcpy(rep.arp.spa, req.arp.tpa, sizeof(rep.arp.spa));
	memcpy(rep.arp.tha, req.arp.sha, ETH_ALEN);
	memcpy(rep.arp.tpa, req.arp.spa, sizeof(rep.arp.tpa));

	return tap_send(c, &rep, sizeof(rep));
}
