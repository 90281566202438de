/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c - CRC32C (Castagnoli) with the SSE4.2 crc32 instruction, which
 * uses general registers only.  Tested against ISA-L: tests/unit/guest/test_crc32c.c
 */
#include "defs.h"

static uint32_t crc32c_byte(uint32_t c, uint8_t b)
{
	__asm__("crc32b %1, %0" : "+r"(c) : "rm"(b));
	return c;
}

static uint64_t crc32c_quad(uint64_t c, uint64_t q)
{
	__asm__("crc32q %1, %0" : "+r"(c) : "rm"(q));
	return c;
}

/*
 * CRC32C of buf[0..len), continuing from @crc, zlib style: pass 0 to
 * start; crc32c(crc32c(0, a, n), b, m) is the CRC of a followed by b.
 * (Reflected, init ~0, final xor ~0: "123456789" gives 0xe3069283.)
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	uint64_t q;

	while (len && ((uintptr_t)p & 7)) {
		c = crc32c_byte(c, *p++);
		len--;
	}
	for (; len >= 8; p += 8, len -= 8) {
		__builtin_memcpy(&q, p, 8);
		c = (uint32_t)crc32c_quad(c, q);
	}
	while (len--)
		c = crc32c_byte(c, *p++);
	return ~c;
}
