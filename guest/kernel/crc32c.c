/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c - CRC32C (Castagnoli) with the SSE4.2 crc32 instruction, which
 * uses general registers only, three streams at a time to fill its pipeline;
 * on a CPU without SSE4.2 (QEMU's qemu64, pre-Nehalem x86-64) a table-driven
 * software CRC instead, chosen once at boot (crc32c_init()) from cpuid.
 * Both are tested against ISA-L: tests/unit/guest/test_crc32c.c
 */
#include "defs.h"

/* "r", not "rm": clang reads "rm" as memory and spills every operand to the stack. */
static uint32_t crc32c_byte(uint32_t c, uint8_t b)
{
	__asm__("crc32b %1, %0" : "+r"(c) : "r"(b));
	return c;
}

static uint64_t crc32c_quad(uint64_t c, uint64_t q)
{
	__asm__("crc32q %1, %0" : "+r"(c) : "r"(q));
	return c;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t q;

	__builtin_memcpy(&q, p, 8);
	return q;
}

/*
 * The crc32 instruction's result comes 3 cycles after its inputs, but the
 * unit takes a new one every cycle (Intel since Nehalem; measured on this
 * project's Zen 4: 2.1 TSC cycles for one chain of them, 0.7 a piece for
 * three chains).  One dependent chain runs at a third of the speed the
 * unit has, so a long buffer is cut into blocks of three streams, each
 * with a CRC register of its own, joined at the end of the block.
 *
 * Joining: the raw CRC register is linear, so the register over A then B
 * is shift(reg over A, |B|) ^ (reg over B, started from 0), where
 * shift(c, n) = c * x^(8n) mod P.  That multiplication is done with
 * general registers: a carry-less 32x32 product of c and a constant k,
 * reduced by the crc32 instruction itself.  With the reflected bit order
 * the product of c and k, taken as a 64-bit message, is c * k * x, and
 * crc32q(0, m) is m * x^32 mod P; so k = x^(8n - 33) mod P.
 *
 * crc32c_shift(c, k) is that c * k * x^33 mod P.  k is always a constant
 * here: the loop over its bits unrolls into one shift and xor per set bit.
 */
static inline __attribute__((always_inline)) uint32_t crc32c_shift(uint32_t c, uint32_t k)
{
	uint64_t prod = 0;
	unsigned int i;

#pragma GCC unroll 32
	for (i = 0; i < 32; i++)
		if ((k >> i) & 1)
			prod ^= (uint64_t)c << i;
	return (uint32_t)crc32c_quad(0, prod);
}

/*
 * The CRC register @c continued over 3 * @len bytes at @p, 8-aligned: three
 * streams of @len bytes, joined with k2 = x^(16 * len - 33) mod P (stream 0
 * moves past two streams) and k1 = x^(8 * len - 33) mod P, bit-reflected.
 */
static inline __attribute__((always_inline)) uint32_t
crc32c_3way(uint32_t c, const uint8_t *p, size_t len, uint32_t k2, uint32_t k1)
{
	const uint8_t *end = p + len;
	uint64_t c0 = c, c1 = 0, c2 = 0;

	for (; p < end; p += 8) {
		c0 = crc32c_quad(c0, load64(p));
		c1 = crc32c_quad(c1, load64(p + len));
		c2 = crc32c_quad(c2, load64(p + 2 * len));
	}
	return crc32c_shift((uint32_t)c0, k2) ^ crc32c_shift((uint32_t)c1, k1) ^ (uint32_t)c2;
}

/* The software CRC's table: the register after one byte, reflected polynomial 0x82f63b78. */
static uint32_t crc32c_table[256];

/* Which one crc32c() runs: not chosen yet, the crc32 instruction, or the table. */
static enum { CRC32C_UNCHOSEN, CRC32C_SSE42, CRC32C_SOFT } crc32c_impl;

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	/* table[1] is never 0: 0 means not built yet (a caller before crc32c_init()) */
	if (!crc32c_table[1])
		crc32c_init_table();
	while (len--)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* cpuid leaf 1, ECX bit 20: SSE4.2, which brings the crc32 instruction. */
static bool cpu_has_sse42(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1u << 20);
}

void crc32c_init(void)
{
	if (cpu_has_sse42()) {
		crc32c_impl = CRC32C_SSE42;
		return;
	}
	crc32c_init_table();
	crc32c_impl = CRC32C_SOFT;
}

/*
 * CRC32C of buf[0..len), continuing from @crc, zlib style: pass 0 to
 * start; crc32c(crc32c(0, a, n), b, m) is the CRC of a followed by b.
 * (Reflected, init ~0, final xor ~0: "123456789" gives 0xe3069283.)
 * The first call chooses the implementation if crc32c_init() has not
 * (the host's unit tests link this file without the guest's boot).
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	if (__builtin_expect(crc32c_impl != CRC32C_SSE42, 0)) {
		if (crc32c_impl == CRC32C_UNCHOSEN)
			crc32c_init();
		if (crc32c_impl == CRC32C_SOFT)
			return crc32c_sw(crc, buf, len);
	}

	while (len && ((uintptr_t)p & 7)) {
		c = crc32c_byte(c, *p++);
		len--;
	}
	/*
	 * Blocks of three streams, biggest first.  16 KiB streams make the
	 * joins cost nothing on long buffers; 1360 fits a 4 KiB request in
	 * one block (4080 bytes); 256 serves frames.  The constants are x^n mod 0x11edc6f41 by
	 * square-and-multiply over GF(2), bits reversed; a wrong one fails
	 * every test against ISA-L longer than its block.
	 */
	for (; len >= 3 * 16384; p += 3 * 16384, len -= 3 * 16384)
		c = crc32c_3way(c, p, 16384, 0x5ae703ab, 0x1dc403cc);
	for (; len >= 3 * 1360; p += 3 * 1360, len -= 3 * 1360)
		c = crc32c_3way(c, p, 1360, 0x5aa1f3cf, 0x3f70cc6f);
	for (; len >= 3 * 256; p += 3 * 256, len -= 3 * 256)
		c = crc32c_3way(c, p, 256, 0xdd7e3b0c, 0xb9e02b86);
	for (; len >= 8; p += 8, len -= 8)
		c = (uint32_t)crc32c_quad(c, load64(p));
	while (len--)
		c = crc32c_byte(c, *p++);
	return ~c;
}
