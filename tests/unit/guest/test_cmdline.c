/* SPDX-License-Identifier: MIT */
/*
 * test_cmdline.c - the guest's command-line parser (guest/kernel/cmdline.c):
 * key and key=value words, quotes, last one wins, overlong lines.
 * Run: ctest --test-dir build -R cmdline --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

static int printk_calls;

/* cmdline.c logs when it ignores words; count instead of printing. */
void printk(const char *fmt, ...)
{
	printk_calls++;
}

START_TEST(test_words)
{
	cmdline_init("  quiet loglevel=7 name=\"two words\" empty= last ");
	ck_assert_str_eq(cmdline_raw(), "  quiet loglevel=7 name=\"two words\" empty= last ");
	ck_assert_str_eq(cmdline_get("quiet"), "");
	ck_assert_str_eq(cmdline_get("loglevel"), "7");
	ck_assert_str_eq(cmdline_get("name"), "two words");
	ck_assert_str_eq(cmdline_get("empty"), "");
	ck_assert_str_eq(cmdline_get("last"), "");
	ck_assert_ptr_null(cmdline_get("missing"));
	ck_assert_ptr_null(cmdline_get("log"));
}
END_TEST

START_TEST(test_last_wins_and_reinit)
{
	cmdline_init("a=1 b a=2");
	ck_assert_str_eq(cmdline_get("a"), "2");
	ck_assert_str_eq(cmdline_get("b"), "");
	cmdline_init("");
	ck_assert_ptr_null(cmdline_get("a"));
	ck_assert_str_eq(cmdline_raw(), "");
	cmdline_init("x=\"unterminated value");
	ck_assert_str_eq(cmdline_get("x"), "unterminated value");
}
END_TEST

START_TEST(test_limits)
{
	char line[COOP_CMDLINE_MAX + 100];
	size_t i;

	/* an unterminated line from the host is cut, not overrun */
	memset(line, 'k', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	cmdline_init(line);
	ck_assert_uint_eq(strlen(cmdline_raw()), COOP_CMDLINE_MAX - 1);
	/* more words than it keeps: logged, the first ones still work */
	line[0] = '\0';
	for (i = 0; i < 40; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "w%zu=%zu ", i, i);
	printk_calls = 0;
	cmdline_init(line);
	ck_assert_int_eq(printk_calls, 1);
	ck_assert_str_eq(cmdline_get("w0"), "0");
	ck_assert_str_eq(cmdline_get("w31"), "31");
	ck_assert_ptr_null(cmdline_get("w32"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest cmdline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_last_wins_and_reinit);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

