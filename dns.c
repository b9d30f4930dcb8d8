// SPDX-License-Identifier: GPL-2.0-or-later
/* dns.c - Domain names in DNS wire format, for the options that carry them
 *
 * DOC: Theory of operation
 *
 * DHCP (search list, RFC 3397, and client FQDN, RFC 4702), DHCPv6 (domain
 * list, RFC 3646) and NDP (DNSSL, RFC 8106) all carry domain names as
 * RFC 1035 labels, without compression.  This is their one encoder.
 *
 * Bad input: names come from our own configuration (-S, --fqdn), not
 * from the guest; a name with an empty or overlong label, or longer than
 * DNS_NAME_MAX encoded, is refused with -EINVAL and the caller skips it.
 */

#include <errno.h>
#include <string.h>

#include "dns.h"

/**
 * dns_name_encode() - Encode a domain name in DNS wire format, no
 *		       compression (RFC 1035, 3.1)
 * @name:	Dotted name, a trailing dot allowed
 * @out:	Output buffer
 * @size:	Space in @out, bytes
 *
 * Return: encoded length including the root label, -EINVAL for an empty
 * or overlong label or name, -ENOSPC if @out is too small
 */
int dns_name_encode(const char *name, uint8_t *out, size_t size)
{
	size_t len = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (!l || l > DNS_LABEL_MAX || len + 1 + l + 1 > DNS_NAME_MAX)
			return -EINVAL;
		if (len + 1 + l + 1 > size)
			return -ENOSPC;
		out[len++] = (uint8_t)l;
		memcpy(out + len, name, l);
		len += l;
		name += l + (dot ? 1 : 0);
	}
	if (!len)
		return -EINVAL;
	out[len++] = 0;
	return (int)len;
}
