/* SPDX-License-Identifier: MIT */
/*
 * test_printf.c - the guest's kvsnprintf (guest/kernel/printf.c) must print
 * what glibc's snprintf prints, return what it returns and truncate as it
 * does.  Run: ctest --test-dir build -R printf --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

#define BUF 512

/*
 * Format with both into buffers full of 'X' of the same size and compare
 * the return values and every byte, so that a write past the NUL or past
 * @size shows.  The format stays a literal: -Wformat checks both calls.
 */
#define SAME(size, ...)                                                              \
	do {                                                                         \
		char a_[BUF], b_[BUF];                                               \
		int ra_, rb_;                                                        \
		memset(a_, 'X', sizeof(a_));                                         \
		memset(b_, 'X', sizeof(b_));                                         \
		ra_ = ksnprintf(a_, (size), __VA_ARGS__);                            \
		rb_ = snprintf(b_, (size), __VA_ARGS__);                             \
		ck_assert_msg(ra_ == rb_ && !memcmp(a_, b_, sizeof(a_)),             \
			      "%s:%d: size %zu: got %d \"%.*s\", glibc %d \"%.*s\"", \
			      __FILE__, __LINE__, (size_t)(size), ra_,               \
			      (int)strnlen(a_, 80), a_, rb_, (int)strnlen(b_, 80), b_); \
	} while (0)

#define SAME_ALL(...) SAME(BUF, __VA_ARGS__)

START_TEST(test_plain)
{
	SAME_ALL("hello");
	SAME_ALL("%s", "");
	SAME_ALL("100%% sure %%");
	SAME_ALL("%c%c%c", 'a', 'b', 'c');
	SAME_ALL("[%5c] [%-5c]", 'x', 'y');
}
END_TEST

static const long long ints[] = {
	0, 1, -1, 7, -7, 42, -42, 127, -128, 128, 255, 256, 1000, -1000, 32767, -32768, 65535,
	65536, 99999, INT_MAX, INT_MIN, (long long)UINT_MAX, 4294967296LL, LLONG_MAX, LLONG_MIN,
	123456789012345LL, -987654321098LL,
};

START_TEST(test_signed)
{
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		long long v = ints[i];
		int n = (int)v;

		SAME_ALL("%d|%i|%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-8.3d", n, n, n, n, n, n, n, n,
			 n, n);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat" /* '0' with a precision: ignored, as C says */
		SAME_ALL("%08.3d|%08.3x|%-08d|", n, (unsigned int)n, n);
#pragma GCC diagnostic pop
		SAME_ALL("%.0d|%+.0d|%-+6d|%0+6d|% 06d", n, n, n, n, n);
		SAME_ALL("%ld|%lld|%20lld|%-20lld|%020lld|%+lld", (long)v, v, v, v, v, v);
		SAME_ALL("%hd|%hhd|%hi|%hhi", (short)v, (signed char)v, (short)v, (signed char)v);
		SAME_ALL("%zd|%jd|%td", (ssize_t)v, (intmax_t)v, (ptrdiff_t)v);
	}
}
END_TEST

START_TEST(test_unsigned)
{
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		unsigned long long v = (unsigned long long)ints[i];
		unsigned int u = (unsigned int)v;

		SAME_ALL("%u|%x|%X|%o|%8x|%-8X|%08o|%.4x|%#x|%#X|%#o|%#8x|%#08x|%#.0o", u, u, u, u,
			 u, u, u, u, u, u, u, u, u, u);
		SAME_ALL("%.0u|%.0x|%#.0x|%#.3o", u, u, u, u);
		SAME_ALL("%lu|%llx|%llX|%llo|%#llx|%20llu|%-20llx|", (unsigned long)v, v, v, v, v,
			 v, v);
		SAME_ALL("%hu|%hhu|%hx|%hhx|%ho", (unsigned short)v, (unsigned char)v,
			 (unsigned short)v, (unsigned char)v, (unsigned short)v);
		SAME_ALL("%zu|%zx|%ju", (size_t)v, (size_t)v, (uintmax_t)v);
	}
}
END_TEST

START_TEST(test_strings)
{
	const char *s = "coop";
	const char *volatile null_v = NULL; /* not a constant gcc warns about */
	const char *null = null_v;

	SAME_ALL("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|%.0s|%.10s", s, s, s, s, s, s, s, s);
	SAME_ALL("[%s] [%s]", "", "a b\tc");
	SAME_ALL("%*s|%-*s|%*s|%.*s|%.*s", 8, s, 8, s, -8, s, 3, s, -1, s);
	SAME_ALL("%*d|%-*d|%.*d|%*.*d", 6, 42, 6, 42, 5, 42, 8, 4, -42);
	/* glibc's own choices for NULL, which the guest copies */
	SAME_ALL("%s", null);
	SAME_ALL("%10s|%-8s|%.6s", null, null, null);
}
END_TEST

START_TEST(test_pointers)
{
	int x;
	void *ps[] = { &x, (void *)(uintptr_t)0x200000100000ULL, (void *)(uintptr_t)1,
		       (void *)UINTPTR_MAX };
	void *volatile null_v = NULL;
	void *null = null_v;
	size_t i;

	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		SAME_ALL("%p|%20p|%-20p|", ps[i], ps[i], ps[i]);
	SAME_ALL("%p|%10p|%-10p|", null, null, null);
}
END_TEST

/* Every size from 0 up, on a format with every kind of conversion. */
START_TEST(test_truncation)
{
	size_t size;

	for (size = 0; size < 80; size++) {
		SAME(size, "hello %s, %d is %#x or %o; %c%%%p", "world", 1234, 1234, 1234, '!',
		     (void *)&size);
		SAME(size, "%-12s|%012lld|", "left", -123456789LL);
	}
}
END_TEST

START_TEST(test_null_buffer)
{
	ck_assert_int_eq(ksnprintf(NULL, 0, "%s %d", "abc", 12345), 9);
	ck_assert_int_eq(ksnprintf(NULL, 0, "%s", ""), 0);
}
END_TEST

START_TEST(test_long_output)
{
	char a[BUF], b[BUF];
	char big[400];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ksnprintf(a, sizeof(a), "%s%s", big, big),
			 snprintf(b, sizeof(b), "%s%s", big, big));
	ck_assert_str_eq(a, b);
	SAME_ALL("%200d|%-200s|", 5, "x");
}
END_TEST

START_TEST(test_fmt_bytes)
{
	static const struct {
		uint64_t bytes;   /* input */
		const char *text; /* what fmt_bytes() must make of it */
	} cases[] = {
		{ 0, "0 B" },
		{ 100, "100 B" },
		{ 1023, "1023 B" },
		{ 1024, "1 KiB" },
		{ 1536, "1.5 KiB" },
		{ 64ULL << 20, "64 MiB" },
		{ (64ULL << 20) - (64 << 10), "63.9 MiB" },
		{ 3ULL << 30, "3 GiB" },
		{ 5ULL << 40, "5 TiB" },
		{ 3000ULL << 40, "3000 TiB" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_bytes(buf, sizeof(buf), cases[i].bytes);
		ck_assert_str_eq(buf, cases[i].text);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest printf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_signed);
	tcase_add_test(tc, test_unsigned);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_pointers);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_null_buffer);
	tcase_add_test(tc, test_long_output);
	tcase_add_test(tc, test_fmt_bytes);
	suite_add_tcase(s, tc);
	return s;
}

