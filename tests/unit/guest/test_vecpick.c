/* SPDX-License-Identifier: MIT */
/*
 * test_vecpick.c - the guest's vector-priority picker (guest/kernel/vecpick.c):
 * the highest pending, unmasked vector wins, across all four words.
 * Run: ctest --test-dir build -R vecpick --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "defs.h"

static void set(uint64_t map[4], unsigned int vec)
{
	map[vec / 64] |= 1ULL << (vec % 64);
}

START_TEST(test_none)
{
	uint64_t pending[4] = { 0 }, masked[4] = { 0 };

	ck_assert_int_eq(virq_pick(pending, masked), -1);
	set(pending, 40);
	set(masked, 40);
	ck_assert_int_eq(virq_pick(pending, masked), -1); /* masked stays pending */
}
END_TEST

START_TEST(test_highest_wins)
{
	uint64_t pending[4] = { 0 }, masked[4] = { 0 };

	set(pending, COOP_VEC_TIMER);
	ck_assert_int_eq(virq_pick(pending, masked), COOP_VEC_TIMER);
	set(pending, COOP_VEC_COCON);
	ck_assert_int_eq(virq_pick(pending, masked), COOP_VEC_COCON);
	set(pending, 63);
	set(pending, 64);
	ck_assert_int_eq(virq_pick(pending, masked), 64); /* across a word boundary */
	set(pending, 255);
	ck_assert_int_eq(virq_pick(pending, masked), 255);
	set(pending, 0);
	ck_assert_int_eq(virq_pick(pending, masked), 255);
}
END_TEST

START_TEST(test_mask_skips)
{
	uint64_t pending[4] = { 0 }, masked[4] = { 0 };

	set(pending, 32);
	set(pending, 200);
	set(masked, 200);
	ck_assert_int_eq(virq_pick(pending, masked), 32);
	set(masked, 33); /* a masked vector that is not pending changes nothing */
	ck_assert_int_eq(virq_pick(pending, masked), 32);
}
END_TEST

/* Every single vector alone, and with every lower one also pending. */
START_TEST(test_every_vector)
{
	uint64_t pending[4] = { 0 }, masked[4] = { 0 }, one[4];
	unsigned int v;

	for (v = 0; v < COOP_VEC_COUNT; v++) {
		memset(one, 0, sizeof(one));
		set(one, v);
		ck_assert_int_eq(virq_pick(one, masked), (int)v);
		set(pending, v);
		ck_assert_int_eq(virq_pick(pending, masked), (int)v);
	}
	/* Taking them one by one from the top gives them in priority order. */
	for (v = COOP_VEC_COUNT; v-- > 0;) {
		ck_assert_int_eq(virq_pick(pending, masked), (int)v);
		pending[v / 64] &= ~(1ULL << (v % 64));
	}
	ck_assert_int_eq(virq_pick(pending, masked), -1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest vecpick");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_highest_wins);
	tcase_add_test(tc, test_mask_skips);
	tcase_add_test(tc, test_every_vector);
	suite_add_tcase(s, tc);
	return s;
}
