/* SPDX-License-Identifier: MIT */
/*
 * test_crc32c.c - the guest's CRC32C (guest/kernel/crc32c.c) against known
 * vectors and against ISA-L's crc32_iscsi: every test runs twice, on
 * crc32c() (the crc32 instruction: this host has SSE4.2) and on
 * crc32c_sw() (the table the guest takes on a CPU without SSE4.2, as
 * QEMU's qemu64).  Run: ctest --test-dir build -R crc32c
 */
#include <check.h>

#include "unit.h"
#include <isa-l/crc.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

/*
 * ISA-L's convention, found empirically and pinned by test_isal_convention:
 * crc32_iscsi(buf, len, state) takes and returns the raw register (no
 * final xor), so the CRC32C of buf is ~crc32_iscsi(buf, len, ~0) and
 * continuing from a CRC c is ~crc32_iscsi(buf, len, ~c).
 */
static uint32_t isal_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return ~crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, ~crc);
}

/* The implementation under test: _i of a loop test (tcase_add_loop_test 0..2). */
static uint32_t (*const impls[])(uint32_t, const void *, size_t) = { crc32c, crc32c_sw };
#define CRC impls[_i]

START_TEST(test_check_value)
{
	ck_assert_uint_eq(CRC(0, "123456789", 9), 0xe3069283);
	ck_assert_uint_eq(CRC(0, "", 0), 0);
	ck_assert_uint_eq(CRC(0, NULL, 0), 0);
}
END_TEST

/* The iSCSI test vectors (RFC 3720, B.4). */
START_TEST(test_rfc3720)
{
	uint8_t buf[32];
	int i;

	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(CRC(0, buf, sizeof(buf)), 0x8a9136aa);
	memset(buf, 0xff, sizeof(buf));
	ck_assert_uint_eq(CRC(0, buf, sizeof(buf)), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	ck_assert_uint_eq(CRC(0, buf, sizeof(buf)), 0x46dd794e);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	ck_assert_uint_eq(CRC(0, buf, sizeof(buf)), 0x113fdb5c);
}
END_TEST

START_TEST(test_isal_convention)
{
	const unsigned char *s = (const unsigned char *)"123456789";

	ck_assert_uint_eq(crc32_iscsi((unsigned char *)(uintptr_t)s, 9, 0xffffffff),
			  ~0xe3069283u);
	ck_assert_uint_eq(isal_crc32c(0, s, 9), 0xe3069283);
}
END_TEST

/* Random buffers of every length up to 1100 bytes, at every alignment. */
START_TEST(test_vs_isal)
{
	static uint8_t buf[1100 + 8];
	size_t len, off;

	srandom(1);
	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)random();
	for (len = 0; len <= 1100; len++)
		for (off = 0; off < 8; off++)
			ck_assert_msg(CRC(0, buf + off, len) == isal_crc32c(0, buf + off, len),
				      "%s: length %zu offset %zu", _i ? "crc32c_sw" : "crc32c", len,
				      off);
}
END_TEST

/* Big random buffers of random lengths. */
START_TEST(test_vs_isal_big)
{
	enum { MAX = 1 << 16 };
	uint8_t *buf = malloc(MAX);
	size_t i, len, off;

	ck_assert_ptr_nonnull(buf);
	srandom(2);
	for (i = 0; i < MAX; i++)
		buf[i] = (uint8_t)random();
	for (i = 0; i < 200; i++) {
		off = (size_t)random() % 64;
		len = (size_t)random() % (MAX - off);
		ck_assert_msg(CRC(0, buf + off, len) == isal_crc32c(0, buf + off, len),
			      "%s: length %zu offset %zu", _i ? "crc32c_sw" : "crc32c", len,
			      off);
	}
	free(buf);
}
END_TEST

/* crc32c(crc32c(0, a), b) is the CRC of a then b, as the message code uses it. */
START_TEST(test_continue)
{
	uint8_t buf[300];
	size_t i, cut;
	uint32_t whole;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = CRC(0, buf, sizeof(buf));
	ck_assert_uint_eq(whole, isal_crc32c(0, buf, sizeof(buf)));
	for (cut = 0; cut <= sizeof(buf); cut++) {
		uint32_t c = CRC(0, buf, cut);

		ck_assert_uint_eq(CRC(c, buf + cut, sizeof(buf) - cut), whole);
		ck_assert_uint_eq(isal_crc32c(c, buf + cut, sizeof(buf) - cut), whole);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest crc32c");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_check_value, 0, 2);
	tcase_add_loop_test(tc, test_rfc3720, 0, 2);
	tcase_add_test(tc, test_isal_convention);
	tcase_add_loop_test(tc, test_vs_isal, 0, 2);
	tcase_add_loop_test(tc, test_vs_isal_big, 0, 2);
	tcase_add_loop_test(tc, test_continue, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

