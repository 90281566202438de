/* SPDX-License-Identifier: MIT */
/*
 * test_kalloc.c - the guest heap (guest/kernel/kalloc.c) over a malloc'ed
 * arena: alignment, reuse, coalescing, exhaustion, and panics on bad
 * frees.  Run: ctest --test-dir build -R kalloc --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

#define ARENA (64 * 1024)
#define HDR 16 /* kalloc's block header */

static jmp_buf panic_jmp;
static char panic_msg[256];

/* kalloc.c panics on bad frees; here a panic jumps back into the test. */
void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	longjmp(panic_jmp, 1);
}

/* One CPU and no interrupts here: the guest's vIF critical sections are no-ops. */
static uint32_t vif = 1;

uint32_t irq_save(void)
{
	uint32_t old = vif;

	vif = 0;
	return old;
}

void irq_restore(uint32_t flags)
{
	vif = flags;
}

static uint8_t *arena;

static void setup(void)
{
	arena = aligned_alloc(16, ARENA);
	ck_assert_ptr_nonnull(arena);
	memset(arena, 0xa5, ARENA);
	kalloc_init(arena, ARENA);
	vif = 1;
}

static void teardown(void)
{
	free(arena);
}

static struct kalloc_stats stats(void)
{
	struct kalloc_stats st;

	kalloc_stats(&st);
	return st;
}

/* The heap is one free block again: everything freed and coalesced. */
static void assert_pristine(void)
{
	struct kalloc_stats st = stats();

	ck_assert_uint_eq(st.free, st.total);
	ck_assert_uint_eq(st.free_blocks, 1);
	ck_assert_uint_eq(st.largest_free, st.total);
	ck_assert_uint_eq(st.allocated, 0);
}

START_TEST(test_init)
{
	struct kalloc_stats st = stats();

	ck_assert_uint_eq(st.total, ARENA);
	assert_pristine();
	/* an unaligned region is trimmed to 16-byte boundaries */
	kalloc_init(arena + 3, ARENA - 10);
	st = stats();
	ck_assert_uint_eq(st.total, ARENA - 16 - 16);
	ck_assert_uint_eq(st.free, st.total);
	/* too small to hold a block: every allocation fails */
	kalloc_init(arena, 16);
	ck_assert_ptr_null(kalloc(1));
	kalloc_init(arena, 0);
	ck_assert_ptr_null(kalloc(1));
}
END_TEST

START_TEST(test_alignment)
{
	void *p[100];
	size_t i;

	for (i = 0; i < 100; i++) {
		p[i] = kalloc(i);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % 16, 0);
		ck_assert((uint8_t *)p[i] >= arena + HDR && (uint8_t *)p[i] + i <= arena + ARENA);
		memset(p[i], (int)i, i);
	}
	for (i = 0; i < 100; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			ck_assert_uint_eq(((uint8_t *)p[i])[j], i);
		if (i)
			ck_assert_ptr_ne(p[i], p[i - 1]);
	}
	for (i = 0; i < 100; i++)
		kfree(p[i]);
	assert_pristine();
}
END_TEST

START_TEST(test_first_fit_reuse)
{
	void *a = kalloc(64), *b = kalloc(64), *c;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq((uintptr_t)b - (uintptr_t)a, 64 + HDR);
	kfree(a);
	c = kalloc(32); /* fits into a's hole: first fit takes it */
	ck_assert_ptr_eq(c, a);
	kfree(c);
	kfree(b);
	assert_pristine();
}
END_TEST

/* Free in several orders: the neighbours must always merge back into one. */
START_TEST(test_coalescing)
{
	enum { N = 20 };
	void *p[N];
	int order, i;

	for (order = 0; order < 4; order++) {
		for (i = 0; i < N; i++)
			ck_assert_ptr_nonnull(p[i] = kalloc(100 + (size_t)i * 8));
		switch (order) {
		case 0:
			for (i = 0; i < N; i++)
				kfree(p[i]);
			break;
		case 1:
			for (i = N - 1; i >= 0; i--)
				kfree(p[i]);
			break;
		case 2: /* every other one, then the gaps: merges on both sides */
			for (i = 0; i < N; i += 2)
				kfree(p[i]);
			ck_assert_uint_eq(stats().free_blocks, N / 2 + 1);
			for (i = 1; i < N; i += 2)
				kfree(p[i]);
			break;
		case 3:
			for (i = N / 2; i < N; i++)
				kfree(p[i]);
			for (i = 0; i < N / 2; i++)
				kfree(p[i]);
			break;
		}
		assert_pristine();
	}
}
END_TEST

START_TEST(test_exhaustion)
{
	void *p[ARENA / 1024 + 1];
	size_t n = 0, i;

	ck_assert_ptr_null(kalloc(ARENA));
	ck_assert_ptr_null(kalloc(SIZE_MAX));
	ck_assert_ptr_null(kalloc(SIZE_MAX - 8));
	while ((p[n] = kalloc(1024 - HDR)))
		n++;
	ck_assert_uint_eq(n, ARENA / 1024);
	ck_assert_uint_eq(stats().free, 0);
	ck_assert_ptr_null(kalloc(1));
	kfree(p[n / 2]);
	ck_assert_ptr_eq(kalloc(1000), p[n / 2]);
	for (i = 0; i < n; i++)
		kfree(p[i]);
	assert_pristine();
	/* one block of everything */
	p[0] = kalloc(ARENA - HDR);
	ck_assert_ptr_nonnull(p[0]);
	kfree(p[0]);
	assert_pristine();
}
END_TEST

START_TEST(test_kzalloc_and_null)
{
	uint8_t *p = kzalloc(200);
	int i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 200; i++)
		ck_assert_uint_eq(p[i], 0);
	kfree(p);
	kfree(NULL);
	assert_pristine();
}
END_TEST

START_TEST(test_double_free_panics)
{
	void *p = kalloc(48), *q = kalloc(48);

	kfree(p);
	if (!setjmp(panic_jmp)) {
		kfree(p);
		ck_abort_msg("a double free did not panic");
	}
	ck_assert_ptr_nonnull(strstr(panic_msg, "not allocated"));
	kfree(q);
}
END_TEST

START_TEST(test_bad_pointer_panics)
{
	static int outside;
	uint8_t *p = kalloc(64);

	if (!setjmp(panic_jmp)) {
		kfree(&outside);
		ck_abort_msg("freeing a pointer outside the heap did not panic");
	}
	ck_assert_ptr_nonnull(strstr(panic_msg, "not in the heap"));
	if (!setjmp(panic_jmp)) {
		kfree(p + 16);
		ck_abort_msg("freeing the middle of a block did not panic");
	}
	if (!setjmp(panic_jmp)) {
		kfree(p + 1);
		ck_abort_msg("freeing a misaligned pointer did not panic");
	}
}
END_TEST

/* Random allocations and frees; contents must survive, stats must add up. */
START_TEST(test_random)
{
	enum { SLOTS = 64 };
	struct {
		uint8_t *p;   /* the allocation, or NULL */
		size_t n;     /* its size */
		uint8_t fill; /* the byte it is filled with */
	} s[SLOTS] = { { 0 } };
	int round, i;
	size_t j;

	srandom(7);
	for (round = 0; round < 20000; round++) {
		i = (int)(random() % SLOTS);
		if (s[i].p) {
			for (j = 0; j < s[i].n && s[i].p[j] == s[i].fill; j++)
				;
			ck_assert_msg(j == s[i].n, "slot %d: byte %zu of %zu overwritten", i, j,
				      s[i].n);
			kfree(s[i].p);
			s[i].p = NULL;
			continue;
		}
		s[i].n = (size_t)(random() % 2000);
		s[i].fill = (uint8_t)random();
		s[i].p = kalloc(s[i].n);
		if (s[i].p) {
			ck_assert_uint_eq((uintptr_t)s[i].p % 16, 0);
			memset(s[i].p, s[i].fill, s[i].n);
		}
	}
	for (i = 0; i < SLOTS; i++)
		kfree(s[i].p);
	assert_pristine();
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest kalloc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_first_fit_reuse);
	tcase_add_test(tc, test_coalescing);
	tcase_add_test(tc, test_exhaustion);
	tcase_add_test(tc, test_kzalloc_and_null);
	tcase_add_test(tc, test_double_free_panics);
	tcase_add_test(tc, test_bad_pointer_panics);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}

