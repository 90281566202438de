/* SPDX-License-Identifier: MIT */
/*
 * test_mbr.c - devices/mbr.c: partition N of a whole-disk image from its
 * MBR, and every way a table can be wrong.  Run: build/tests/test_mbr.
 */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/mbr.h"

#define IMG (64ull << 20)

static uint8_t mbr[512];
static char err[256];

static void entry(int n, uint8_t status, uint8_t type, uint32_t start, uint32_t count)
{
	uint8_t *e = mbr + 446 + (n - 1) * 16;

	e[0] = status;
	e[4] = type;
	memcpy(e + 8, &start, 4); /* little-endian host, as the MBR */
	memcpy(e + 12, &count, 4);
}

static void setup(void)
{
	memset(mbr, 0, sizeof(mbr));
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	entry(1, 0x80, 0x83, 2048, 16384);
	entry(2, 0x00, 0x83, 18432, 24576);
}

START_TEST(test_finds_partitions)
{
	uint64_t off, size;

	ck_assert_int_eq(mbr_partition(mbr, IMG, 1, &off, &size, err, sizeof(err)), 0);
	ck_assert_uint_eq(off, 2048 * 512ull);
	ck_assert_uint_eq(size, 16384 * 512ull);
	ck_assert_int_eq(mbr_partition(mbr, IMG, 2, &off, &size, err, sizeof(err)), 0);
	ck_assert_uint_eq(off, 18432 * 512ull);
	ck_assert_uint_eq(size, 24576 * 512ull);
}
END_TEST

static void expect_bad(unsigned int n, const char *phrase)
{
	uint64_t off = 1, size = 1;

	ck_assert_int_eq(mbr_partition(mbr, IMG, n, &off, &size, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, phrase), "'%s' lacks '%s'", err, phrase);
	ck_assert_uint_eq(off, 1); /* untouched on error */
}

START_TEST(test_rejects_bad_tables)
{
	expect_bad(0, "1..4");
	expect_bad(5, "1..4");
	expect_bad(3, "empty");
	entry(3, 0x42, 0x83, 100, 100);
	expect_bad(3, "status");
	entry(3, 0x00, 0x83, 0, 100);
	expect_bad(3, "outside");
	entry(3, 0x00, 0x83, 0xffffffffu, 0xffffffffu);
	expect_bad(3, "outside"); /* 64-bit arithmetic: no wrap-around */
	entry(4, 0x00, 0xee, 1, 1000);
	expect_bad(4, "GPT");
	mbr[511] = 0;
	expect_bad(1, "signature");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("mbr");
	TCase *tc = tcase_create("mbr");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_finds_partitions);
	tcase_add_test(tc, test_rejects_bad_tables);
	suite_add_tcase(s, tc);
	return s;
}
