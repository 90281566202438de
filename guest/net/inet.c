/* SPDX-License-Identifier: MIT */
/*
 * inet.c - the stack's pure pieces: the Internet checksum (RFC 1071),
 * dotted-quad and CIDR parsing, address formatting, big-endian loads and
 * stores.  Built for the host too: tests/unit/guest/test_inet.c.
 */
#include "net.h"

uint16_t get_be16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] << 8 | b[1]);
}

uint32_t get_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void put_be16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

void put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/*
 * Add @len bytes to a running ones'-complement sum of big-endian 16-bit
 * words (an odd last byte is padded with zero).  Sums of pieces add up as
 * long as every piece but the last has an even length.
 */
uint32_t inet_sum(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint64_t s = sum;

	for (; len >= 2; b += 2, len -= 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (len)
		s += (uint32_t)b[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* The checksum to store (host order): the folded sum's complement. */
uint16_t inet_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One decimal 0..255 at *s; advances *s.  -EINVAL if there is none. */
static int parse_octet(const char **s, uint32_t *v)
{
	unsigned int n = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		n = n * 10 + (unsigned int)(**s - '0');
		(*s)++;
		digits++;
	}
	if (!digits || digits > 3 || n > 255)
		return -EINVAL;
	*v = n;
	return 0;
}

/* "a.b.c.d" and nothing after it -> *ip (host order). */
static int parse_quad(const char **s, uint32_t *ip)
{
	uint32_t v, out = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (i && *(*s)++ != '.')
			return -EINVAL;
		if (parse_octet(s, &v))
			return -EINVAL;
		out = out << 8 | v;
	}
	*ip = out;
	return 0;
}

int inet_parse(const char *s, uint32_t *ip)
{
	uint32_t v;

	if (!s || parse_quad(&s, &v) || *s)
		return -EINVAL;
	*ip = v;
	return 0;
}

/* "a.b.c.d/P" (P 0..32; without "/P": 32) -> address and prefix. */
int inet_parse_cidr(const char *s, uint32_t *ip, unsigned int *prefix)
{
	uint32_t v, p = 32;

	if (!s || parse_quad(&s, &v))
		return -EINVAL;
	if (*s == '/') {
		s++;
		if (parse_octet(&s, &p) || p > 32)
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	*ip = v;
	*prefix = p;
	return 0;
}

uint32_t inet_mask(unsigned int prefix)
{
	return prefix ? ~(uint32_t)0 << (32 - (prefix > 32 ? 32 : prefix)) : 0;
}

void inet_format(uint32_t ip, char *buf, size_t size)
{
	ksnprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		  ip & 0xff);
}

void mac_format(const uint8_t mac[ETH_ALEN], char *buf, size_t size)
{
	ksnprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		  mac[4], mac[5]);
}
