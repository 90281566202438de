/* SPDX-License-Identifier: MIT */
/*
 * test_switch.c - the user backend's world switch (arch/x86_64/switch.S):
 * every register each mode promises to keep survives a round trip on both
 * sides, the bottom frame's CFI lets libunwind walk from the other side's
 * frames into the host's, and many round trips stay consistent.
 * Run: build/tests/test_switch (part of `make test`).
 */
#include <check.h>
#include <cpuid.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "backend/user/user.h"

#define STACK_SIZE (256 * 1024)
#define FLAG_FULL 1
#define FLAG_AVX 2
#define ARITH_FLAGS 0x8d5 /* CF PF AF ZF SF OF */

/* Shared with switch_regs.S. */
coop_switch_fn test_fn;
struct coop_cpu_context *test_self, *test_other;
struct coop_cpu_context *test_in, *test_out, *test_in_other, *test_out_other;
uint8_t *test_vec_in, *test_vec_out, *test_vec_in_other, *test_vec_out_other;
uint64_t test_scratch, test_host_gs;
uint32_t test_flags;
void test_regs_host(void);
void test_regs_other(void);

static struct coop_cpu_context self_ctx, other_ctx;
static struct coop_cpu_context in_a, out_a, in_b, out_b;
static uint8_t vec_a[512], vec_out_a[512], vec_b[512], vec_out_b[512];

static void *stack_new(void)
{
	void *s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(s, MAP_FAILED);
	return s;
}

static bool cpu_has_avx(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX) && (c & bit_OSXSAVE);
}

/* A distinct, recognisable value for each register of each side. */
static void pattern(struct coop_cpu_context *p, uint8_t *vec, uint64_t seed, bool full)
{
	uint64_t *r = &p->rbx;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 15; i++) /* rbx .. r11 */
		r[i] = seed * 0x0101010101010101ull ^ ((uint64_t)i << 56) ^ 0x5a5a0000u;
	p->mxcsr = seed & 1 ? 0x3f80 : 0xdf80; /* other rounding modes (+FZ) */
	p->fpu_cw = seed & 1 ? 0x077f : 0x0b7f;
	p->rflags = seed & 1 ? 0x202 | 0x1 | 0x40 | 0x800 : 0x202 | 0x4 | 0x80;
	p->gs_base = 0x7000000000ull + seed * 0x1000;
	p->fs_base = 0x6000000000ull + seed * 0x1000; /* garbage: only asm runs with it */
	for (int i = 0; i < 512; i++)
		vec[i] = (uint8_t)(seed * 31 + i * 7);
	(void)full;
}

static void check_regs(const char *side, const struct coop_cpu_context *want,
		       const struct coop_cpu_context *got, const uint8_t *vwant, const uint8_t *vgot)
{
	static const char *const names[] = { "rbx", "rbp", "r12", "r13", "r14", "r15",
					     "rax", "rcx", "rdx", "rsi", "rdi", "r8",
					     "r9",  "r10", "r11" };
	const uint64_t *w = &want->rbx, *g = &got->rbx;
	int ngpr = test_flags & FLAG_FULL ? 15 : 6;

	for (int i = 0; i < ngpr; i++)
		ck_assert_msg(w[i] == g[i], "%s: %s is %#llx, expected %#llx", side, names[i],
			      (unsigned long long)g[i], (unsigned long long)w[i]);
	ck_assert_msg(want->mxcsr == got->mxcsr, "%s: mxcsr %#x, expected %#x", side, got->mxcsr,
		      want->mxcsr);
	ck_assert_msg(want->fpu_cw == got->fpu_cw, "%s: fpu_cw %#x, expected %#x", side,
		      got->fpu_cw, want->fpu_cw);
	if (!(test_flags & FLAG_FULL))
		return;
	ck_assert_msg((want->rflags & ARITH_FLAGS) == (got->rflags & ARITH_FLAGS),
		      "%s: rflags %#llx, expected %#llx", side, (unsigned long long)got->rflags,
		      (unsigned long long)want->rflags);
	ck_assert_msg(want->fs_base == got->fs_base, "%s: fs_base %#llx, expected %#llx", side,
		      (unsigned long long)got->fs_base, (unsigned long long)want->fs_base);
	ck_assert_msg(want->gs_base == got->gs_base, "%s: gs_base %#llx, expected %#llx", side,
		      (unsigned long long)got->gs_base, (unsigned long long)want->gs_base);
	if (test_flags & FLAG_AVX)
		for (int i = 0; i < 16; i++)
			ck_assert_msg(!memcmp(vwant + 32 * i, vgot + 32 * i, 32),
				      "%s: ymm%d differs", side, i);
}

static void regs_roundtrip(uint32_t mode)
{
	char err[256];
	uint8_t *stack;
	bool full = mode == COOP_SWITCH_FULL;

	ck_assert_msg(host_switch_mode_check(mode, err, sizeof(err)) == 0, "%s", err);
	test_flags = (full ? FLAG_FULL : 0) | (full && cpu_has_avx() ? FLAG_AVX : 0);
	test_fn = host_switch_fn(mode);
	test_self = &self_ctx;
	test_other = &other_ctx;
	test_in = &in_a, test_out = &out_a, test_in_other = &in_b, test_out_other = &out_b;
	test_vec_in = vec_a, test_vec_out = vec_out_a;
	test_vec_in_other = vec_b, test_vec_out_other = vec_out_b;
	pattern(&in_a, vec_a, 1, full);
	pattern(&in_b, vec_b, 2, full);
	/* The host side runs C after the switch: it keeps its real FS base. */
	__asm__ volatile("rdfsbase %0" : "=r"(in_a.fs_base));
	if (full)
		__asm__ volatile("rdgsbase %0" : "=r"(test_host_gs));
	/* rdi/rsi carry the switch's arguments: those are the values to keep. */
	in_a.rdi = (uintptr_t)&self_ctx, in_a.rsi = (uintptr_t)&other_ctx;
	in_b.rdi = (uintptr_t)&other_ctx, in_b.rsi = (uintptr_t)&self_ctx;

	stack = stack_new();
	host_context_init_host(&self_ctx, mode);
	host_context_init_entry(&other_ctx, mode, (uintptr_t)(stack + STACK_SIZE),
				(uintptr_t)test_regs_other, &self_ctx);

	test_regs_host(); /* host (A) -> other loads B -> host */
	check_regs("host", &in_a, &out_a, vec_a, vec_out_a);
	test_fn(&self_ctx, &other_ctx); /* other resumes, records B, switches back */
	check_regs("other", &in_b, &out_b, vec_b, vec_out_b);
	munmap(stack, STACK_SIZE);
}

START_TEST(test_default_mode_keeps_its_registers)
{
	regs_roundtrip(COOP_SWITCH_DEFAULT);
}
END_TEST

START_TEST(test_full_mode_keeps_every_register)
{
	char err[256];

	if (host_switch_mode_check(COOP_SWITCH_FULL, err, sizeof(err)))
		return; /* main() reports the skip */
	regs_roundtrip(COOP_SWITCH_FULL);
}
END_TEST

/* -- CFI: unwinding from the other side into the host ------------------- */

static struct coop_cpu_context cfi_host, cfi_other;
static char cfi_names[32][64];
static int cfi_count;

static void cfi_other_entry(void)
{
	unw_context_t uc;
	unw_cursor_t cur;
	unw_word_t off;

	unw_getcontext(&uc);
	unw_init_local(&cur, &uc);
	do {
		if (unw_get_proc_name(&cur, cfi_names[cfi_count], sizeof(cfi_names[0]), &off))
			strcpy(cfi_names[cfi_count], "?");
		cfi_count++;
	} while (cfi_count < 32 && unw_step(&cur) > 0);
	test_fn(&cfi_other, &cfi_host);
	abort(); /* never resumed */
}

static __attribute__((noinline)) void cfi_host_caller(void)
{
	test_fn(&cfi_host, &cfi_other);
	__asm__ volatile("" ::: "memory"); /* keep the call from becoming a tail call */
}

static bool cfi_seen(const char *name)
{
	for (int i = 0; i < cfi_count; i++)
		if (!strcmp(cfi_names[i], name))
			return true;
	return false;
}

static void cfi_walk(uint32_t mode)
{
	uint8_t *stack = stack_new();

	test_fn = host_switch_fn(mode);
	cfi_count = 0;
	host_context_init_host(&cfi_host, mode);
	host_context_init_entry(&cfi_other, mode, (uintptr_t)(stack + STACK_SIZE),
				(uintptr_t)cfi_other_entry, &cfi_host);
	cfi_host_caller();
	ck_assert_msg(cfi_seen("cfi_other_entry"), "the other side's own frame");
	ck_assert_msg(cfi_seen("coop_guest_bottom"), "the bottom frame");
	ck_assert_msg(cfi_seen("cfi_host_caller"),
		      "the walk continues into the host frame that switched (frames: %d, last %s)",
		      cfi_count, cfi_names[cfi_count - 1]);
	munmap(stack, STACK_SIZE);
}

START_TEST(test_unwind_crosses_into_host_default)
{
	cfi_walk(COOP_SWITCH_DEFAULT);
}
END_TEST

START_TEST(test_unwind_crosses_into_host_full)
{
	char err[256];

	if (host_switch_mode_check(COOP_SWITCH_FULL, err, sizeof(err)))
		return;
	cfi_walk(COOP_SWITCH_FULL);
}
END_TEST

/* -- many round trips: a counter passed back and forth ------------------ */

#define ROUNDS 200000
static struct coop_cpu_context ping_host, ping_other;
static volatile uint64_t ping_counter;

static void ping_entry(void)
{
	for (;;) {
		ping_counter++;
		test_fn(&ping_other, &ping_host);
	}
}

static void ping(uint32_t mode)
{
	uint8_t *stack = stack_new();

	test_fn = host_switch_fn(mode);
	ping_counter = 0;
	host_context_init_host(&ping_host, mode);
	host_context_init_entry(&ping_other, mode, (uintptr_t)(stack + STACK_SIZE),
				(uintptr_t)ping_entry, &ping_host);
	for (uint64_t i = 1; i <= ROUNDS; i++) {
		test_fn(&ping_host, &ping_other);
		ck_assert_uint_eq(ping_counter, i);
	}
	munmap(stack, STACK_SIZE);
}

START_TEST(test_many_roundtrips)
{
	char err[256];

	ping(COOP_SWITCH_DEFAULT);
	if (!host_switch_mode_check(COOP_SWITCH_FULL, err, sizeof(err)))
		ping(COOP_SWITCH_FULL);
}
END_TEST

/* -- the guest's DF and AC never reach the host ---------------------------- */

static struct coop_cpu_context flags_host, flags_other;
static coop_switch_fn flags_back;

/* The "guest": sets DF and AC (a guest under development's mistakes), switches back. */
static void flags_entry(void)
{
	for (;;) {
		__asm__ volatile("pushfq; orq $0x40400, (%%rsp); popfq" ::: "memory", "cc");
		flags_back(&flags_other, &flags_host);
	}
}

static uint64_t rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f)::"memory");
	return f;
}

static void flags_roundtrip(uint32_t mode)
{
	uint8_t *stack = stack_new();
	coop_switch_fn there = host_switch_fn(mode);

	flags_back = host_guest_switch_fn(mode);
	host_context_init_host(&flags_host, mode);
	host_context_bind(&flags_host);
	host_context_init_entry(&flags_other, mode, (uintptr_t)(stack + STACK_SIZE),
				(uintptr_t)flags_entry, &flags_host);
	for (int i = 0; i < 3; i++) {
		uint64_t f;

		there(&flags_host, &flags_other);
		f = rflags(); /* before anything else can fault on AC or run memcpy on DF */
		ck_assert_msg(!(f & 0x40400), "mode %u: rflags %#llx in the host after the guest "
			      "set DF and AC", mode, (unsigned long long)f);
	}
	munmap(stack, STACK_SIZE);
}

START_TEST(test_guest_flags_stay_in_the_guest)
{
	char err[256];

	flags_roundtrip(COOP_SWITCH_DEFAULT);
	if (!host_switch_mode_check(COOP_SWITCH_FULL, err, sizeof(err)))
		flags_roundtrip(COOP_SWITCH_FULL);
}
END_TEST

START_TEST(test_mode_names)
{
	uint32_t m = 99;

	ck_assert_int_eq(host_switch_mode_parse("default", &m), 0);
	ck_assert_uint_eq(m, COOP_SWITCH_DEFAULT);
	ck_assert_int_eq(host_switch_mode_parse("full", &m), 0);
	ck_assert_uint_eq(m, COOP_SWITCH_FULL);
	ck_assert_int_lt(host_switch_mode_parse("fast", &m), 0);
	ck_assert_str_eq(host_switch_mode_name(COOP_SWITCH_FULL), "full");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("switch");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	char err[256];
	int failed;
	bool full_ok = host_switch_mode_check(COOP_SWITCH_FULL, err, sizeof(err)) == 0;

	tcase_add_test(tc, test_default_mode_keeps_its_registers);
	tcase_add_test(tc, test_full_mode_keeps_every_register);
	tcase_add_test(tc, test_unwind_crosses_into_host_default);
	tcase_add_test(tc, test_unwind_crosses_into_host_full);
	tcase_add_test(tc, test_many_roundtrips);
	tcase_add_test(tc, test_guest_flags_stay_in_the_guest);
	tcase_add_test(tc, test_mode_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed)
		return EXIT_FAILURE;
	if (!full_ok) {
		printf("SKIP: full-mode cases not run: %s\n", err);
		return 77;
	}
	return EXIT_SUCCESS;
}
