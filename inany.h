/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef INANY_H
#define INANY_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

/**
 * union inany_addr - An IPv4 or IPv6 address in one type
 * @a6:		IPv6 address, or IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * @v4mapped:	The parts of an IPv4-mapped address
 *
 * IPv4 addresses are held as IPv4-mapped IPv6 addresses (RFC 4291,
 * 2.5.5.2), so tables and keys need one layout for both families.
 */
union inany_addr {
	struct in6_addr a6;
	struct {
		uint8_t zero[10];
		uint8_t one[2];
		struct in_addr a4;
	} v4mapped;
};
static_assert(sizeof(union inany_addr) == 16, "size");

/**
 * inany_from_v4() - Make an inany address from an IPv4 address
 * @a:		Result
 * @a4:		IPv4 address, network order
 */
static inline void inany_from_v4(union inany_addr *a, struct in_addr a4)
{
	memset(a->v4mapped.zero, 0, sizeof(a->v4mapped.zero));
	a->v4mapped.one[0] = a->v4mapped.one[1] = 0xff;
	a->v4mapped.a4 = a4;
}

/**
 * inany_v4() - The IPv4 address inside an inany address, if it is one
 * @a:		Address
 *
 * Return: pointer to the IPv4 address, NULL if @a is IPv6
 */
static inline const struct in_addr *inany_v4(const union inany_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(&a->a6) ? &a->v4mapped.a4 : NULL;
}

/**
 * inany_equals() - Compare two inany addresses
 * @a, @b:	Addresses
 *
 * Return: true if equal
 */
static inline bool inany_equals(const union inany_addr *a,
				const union inany_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/**
 * inany_ntop() - Format an inany address for logging
 * @a:		Address
 * @buf:	Buffer, INET6_ADDRSTRLEN bytes at least
 * @size:	Size of @buf
 *
 * Return: @buf
 */
static inline const char *inany_ntop(const union inany_addr *a, char *buf,
				     socklen_t size)
{
	const struct in_addr *a4 = inany_v4(a);

	if (a4)
		return inet_ntop(AF_INET, a4, buf, size);
	return inet_ntop(AF_INET6, &a->a6, buf, size);
}

/**
 * union sockaddr_inany - Socket address of either family
 * @sa:		Generic, for the socket calls
 * @sa4:	AF_INET
 * @sa6:	AF_INET6
 * @ss:		Storage, for inany_sockaddr()
 */
union sockaddr_inany {
	struct sockaddr sa;
	struct sockaddr_in sa4;
	struct sockaddr_in6 sa6;
	struct sockaddr_storage ss;
};

/**
 * inany_sockaddr() - Fill a socket address from an inany address and port
 * @sa:		Socket address, set: AF_INET for an IPv4-mapped address,
 *		else AF_INET6, everything else zero
 * @a:		Address
 * @port:	Port, host order
 *
 * Return: length of @sa to pass to bind(), connect() or sendto()
 */
static inline socklen_t inany_sockaddr(struct sockaddr_storage *sa,
				       const union inany_addr *a,
				       uint16_t port)
{
	const struct in_addr *a4 = inany_v4(a);

	memset(sa, 0, sizeof(*sa));
	if (a4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = *a4;
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a->a6;
		return sizeof(*s6);
	}
}

#endif /* INANY_H */
