/* SPDX-License-Identifier: MIT */
/*
 * num.c - the one way coop reads a number a user typed (util.h).  strtoul
 * and friends skip blanks, take a sign, wrap "-1" to the largest value and
 * stop quietly at junk; a cast then wraps again (4294967297 became 1).
 * Here the whole string must be the number, or it is refused.
 */
#include <errno.h>
#include <stdint.h>

#include "util/util.h"

static int digit(char c, unsigned int base)
{
	unsigned int d;

	if (c >= '0' && c <= '9')
		d = (unsigned int)(c - '0');
	else if (c >= 'a' && c <= 'f')
		d = (unsigned int)(c - 'a') + 10;
	else if (c >= 'A' && c <= 'F')
		d = (unsigned int)(c - 'A') + 10;
	else
		return -1;
	return d < base ? (int)d : -1;
}

int coop_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	int d;

	if (!s || !*s)
		return -EINVAL;
	/* Hex only with its prefix; a leading 0 is decimal, never octal (seed 010 is 10). */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		d = digit(*s, base);
		if (d < 0)
			return -EINVAL;
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			return -ERANGE;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
