/* SPDX-License-Identifier: MIT */
/*
 * test_num.c - util/num.c: coop_parse_u64, the one rule for numbers users
 * type: all of the string, decimal or 0x hex, no wrap.  Run:
 * build/tests/test_num.
 */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdint.h>

#include "util/util.h"

START_TEST(test_accepts_numbers)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 },     { "7", 7 },     { "010", 10 }, /* decimal, not octal */
		{ "0x10", 16 }, { "0XfF", 255 }, { "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 42;

		ck_assert_msg(coop_parse_u64(ok[i].s, UINT64_MAX, &v) == 0, "'%s' refused", ok[i].s);
		ck_assert_msg(v == ok[i].v, "'%s' read as %llu", ok[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(test_refuses_the_rest)
{
	static const char *const bad[] = { "", " ", " 1", "1 ", "-1", "+1", "1x", "x1", "0x",
					   "0x-1", "1.5", "1e3", "0b1", "12a", "1,2", "\t1" };
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(coop_parse_u64(bad[i], UINT64_MAX, &v) == -EINVAL, "'%s' taken",
			      bad[i]);
	ck_assert_int_eq(coop_parse_u64(NULL, UINT64_MAX, &v), -EINVAL);
	ck_assert_uint_eq(v, 42); /* untouched when refused */
}
END_TEST

START_TEST(test_ranges)
{
	uint64_t v = 42;

	ck_assert_int_eq(coop_parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(coop_parse_u64("0x10000000000000000", UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(coop_parse_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
	/* What strtol and a cast made partition 1 of. */
	ck_assert_int_eq(coop_parse_u64("4294967297", 4, &v), -ERANGE);
	ck_assert_int_eq(coop_parse_u64("5", 4, &v), -ERANGE);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(coop_parse_u64("4", 4, &v), 0);
	ck_assert_uint_eq(v, 4);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("num");
	TCase *tc = tcase_create("num");

	tcase_add_test(tc, test_accepts_numbers);
	tcase_add_test(tc, test_refuses_the_rest);
	tcase_add_test(tc, test_ranges);
	suite_add_tcase(s, tc);
	return s;
}
