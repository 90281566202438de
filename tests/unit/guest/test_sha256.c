/* SPDX-License-Identifier: MIT */
/*
 * test_sha256.c - the guest's SHA-256 (guest/kernel/sha256.c) against the
 * FIPS 180-4 examples ("abc", the 448-bit message, a million 'a'), the
 * empty message, and every way of cutting a message into updates.
 * Run: ctest --test-dir build -R test_sha256 --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "defs.h"

/* The hex digest of @len bytes of @msg, hashed in pieces of @step bytes (0: one update). */
static void hash_hex(const void *msg, size_t len, size_t step, char hex[65])
{
	const uint8_t *p = msg;
	uint8_t d[SHA256_DIGEST];
	struct sha256_ctx c;
	size_t n;

	sha256_init(&c);
	if (!step)
		step = len ? len : 1;
	for (; len; p += n, len -= n) {
		n = len < step ? len : step;
		sha256_update(&c, p, n);
	}
	sha256_final(&c, d);
	sha256_hex(d, hex);
}

static void expect(const char *msg, size_t len, size_t step, const char *digest)
{
	char hex[65];

	hash_hex(msg, len, step, hex);
	ck_assert_str_eq(hex, digest);
}

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define M448_TEXT "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define M448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

START_TEST(test_fips_abc)
{
	expect("abc", 3, 0, ABC);
}
END_TEST

START_TEST(test_fips_448)
{
	ck_assert_uint_eq(strlen(M448_TEXT), 56); /* 448 bits: padding spills into a new block */
	expect(M448_TEXT, 56, 0, M448);
}
END_TEST

START_TEST(test_fips_million_a)
{
	size_t len = 1000000;
	char *a = malloc(len);

	ck_assert_ptr_nonnull(a);
	memset(a, 'a', len);
	expect(a, len, 0, MILLION_A);
	expect(a, len, 1000, MILLION_A); /* not a multiple of the block size */
	expect(a, len, 64, MILLION_A);
	free(a);
}
END_TEST

START_TEST(test_empty)
{
	expect("", 0, 0, EMPTY);
}
END_TEST

/* Any way of cutting the message gives the same digest (buffering across blocks). */
START_TEST(test_pieces)
{
	size_t step;

	for (step = 1; step <= 70; step++) {
		expect("abc", 3, step, ABC);
		expect(M448_TEXT, 56, step, M448);
	}
}
END_TEST

/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes) agree with pieces. */
START_TEST(test_boundaries)
{
	static const size_t lens[] = { 55, 56, 57, 63, 64, 65, 119, 120, 128 };
	char msg[128], one[65], bytes[65];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('A' + i % 26);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		hash_hex(msg, lens[i], 0, one);
		hash_hex(msg, lens[i], 1, bytes);
		ck_assert_str_eq(one, bytes);
	}
	/* 64 x 'A'..: a known value (python3 hashlib) */
	hash_hex(msg, 64, 0, one);
	ck_assert_str_eq(one, "9b0c3567683f6d5198d714b00c40df3039f7717ba5ca65c2b6617688b63b42fa");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest sha256");
	TCase *tc = tcase_create("fips");

	tcase_add_test(tc, test_fips_abc);
	tcase_add_test(tc, test_fips_448);
	tcase_add_test(tc, test_fips_million_a);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_pieces);
	tcase_add_test(tc, test_boundaries);
	suite_add_tcase(s, tc);
	return s;
}

