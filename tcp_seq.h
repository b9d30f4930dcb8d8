/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcp_seq.h - TCP sequence number arithmetic, modulo 2^32
 *
 * Sequence numbers wrap: "a before b" means b - a, taken modulo 2^32 and
 * read as signed, is positive (RFC 793, 3.3; RFC 1982 serial numbers).
 * Comparisons are only meaningful for numbers less than 2^31 apart, which
 * TCP windows guarantee (at most 2^30 with window scaling).
 */
#ifndef TCP_SEQ_H
#define TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/**
 * seq_diff() - Distance from one sequence number to another
 * @a:		Later sequence number
 * @b:		Earlier sequence number
 *
 * Return: @a - @b modulo 2^32, as a signed value
 */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/**
 * seq_lt() - Is @a before @b?
 * @a, @b:	Sequence numbers
 *
 * Return: true if @a comes strictly before @b
 */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

/**
 * seq_le() - Is @a before or equal to @b?
 * @a, @b:	Sequence numbers
 *
 * Return: true if @a comes before @b or is @b
 */
static inline bool seq_le(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

/**
 * seq_gt() - Is @a after @b?
 * @a, @b:	Sequence numbers
 *
 * Return: true if @a comes strictly after @b
 */
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}

/**
 * seq_ge() - Is @a after or equal to @b?
 * @a, @b:	Sequence numbers
 *
 * Return: true if @a comes after @b or is @b
 */
static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}

/**
 * seq_in() - Is @s within [@lo, @lo + @len)?
 * @s:		Sequence number
 * @lo:		Start of the range
 * @len:	Length of the range, bytes, below 2^31
 *
 * Return: true if @s is in the half-open range
 */
static inline bool seq_in(uint32_t s, uint32_t lo, uint32_t len)
{
	return s - lo < len;
}

/**
 * wnd_avail() - Room left in a peer's window
 * @wnd:	Window the peer advertised, bytes, already scaled
 * @una:	Oldest byte sent and not acknowledged
 * @nxt:	Next byte to send
 *
 * Return: bytes that may still be sent, 0 if the window is full or shrank
 */
static inline uint32_t wnd_avail(uint32_t wnd, uint32_t una, uint32_t nxt)
{
	int32_t flight = seq_diff(nxt, una);

	if (flight < 0)
		return 0;	/* our invariant says never; be safe */
	return (uint32_t)flight >= wnd ? 0 : wnd - (uint32_t)flight;
}

#endif /* TCP_SEQ_H */
