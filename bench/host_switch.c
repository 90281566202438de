/* SPDX-License-Identifier: MIT */
/*
 * host_switch.c - switches between two coroutines of this thread, no guest
 * and no monitor: the floors (floor.S), glibc's swapcontext, and coop's own
 * switch routines alone (switch.S's coop_switch_default / _full), so that a
 * world switch's cost splits into "the routine" and "everything around it".
 * A sample is the mean of BENCH_BATCH round trips (there and back).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "bench/bench.h"
#include "bench/floor.h"
#include "core/shim.h"

#define STACK_SIZE (64u << 10)
#define MXCSR_OFF 24         /* MXCSR in the xsave legacy region */
#define MXCSR_DEFAULT 0x1f80 /* exceptions masked, round to nearest */

/* The partner coroutine's side, and ours, of each kind of switch. */
static uint64_t floor_main, floor_partner;
static struct bench_floor_ctx xfloor_main, xfloor_partner;
static ucontext_t uc_main, uc_partner;
static struct coop_cpu_context coop_main, coop_partner;
static coop_switch_fn coop_fn, coop_back; /* there (host -> guest) and back */

/* A new coroutine stack whose top holds `words` (last one lowest); returns its rsp. */
static uint64_t stack_frame(void **stack, const uint64_t *words, size_t nwords)
{
	uint64_t *top;

	*stack = aligned_alloc(64, STACK_SIZE);
	if (!*stack)
		return 0;
	top = (uint64_t *)((uint8_t *)*stack + STACK_SIZE);
	*--top = 0; /* the entry's "return address": it never returns */
	for (size_t i = 0; i < nwords; i++)
		*--top = words[i];
	return (uint64_t)(uintptr_t)top;
}

static void floor_partner_main(void)
{
	for (;;)
		bench_floor_switch(&floor_partner, floor_main);
}

int bench_coroutine_switch(const struct bench_opts *o, struct bench_result *r)
{
	/* ret into the entry, after popping six callee-saved registers */
	const uint64_t frame[7] = { (uint64_t)(uintptr_t)floor_partner_main };
	void *stack;
	int rc;

	r->name = "coroutine_switch_rtt";
	r->note = "minimal asm coroutine switch there and back: callee-saved regs + rsp";
	floor_partner = stack_frame(&stack, frame, 7);
	if (!floor_partner)
		return -ENOMEM;
	rc = BENCH_MEASURE(o, r, 20000, 200000, BENCH_BATCH,
	                   bench_floor_switch(&floor_main, floor_partner));
	free(stack);
	return rc;
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void xfloor_partner_main(void)
{
	for (;;)
		bench_floor_switch_xsave(&xfloor_partner, &xfloor_main);
}

int bench_xsave_floor(const struct bench_opts *o, struct bench_result *r)
{
	char why[256];
	uint64_t frame[19] = { (uint64_t)(uintptr_t)xfloor_partner_main, 0x202 /* rflags */ };
	void *stack;
	int rc;

	r->name = "xsave_floor_rtt";
	r->note = "asm switch there and back: all GPRs, rflags, FS/GS base (wr*base), "
	          "xsaveopt/xrstor of XCR0's components";
	/* The full switch mode's needs are the floor's: FSGSBASE, XSAVEOPT, the area's size. */
	if (host_switch_mode_check(COOP_SWITCH_FULL, why, sizeof(why)))
		return bench_skip(r, "%s", why);
	__asm__ volatile("rdfsbase %0" : "=r"(frame[17])); /* glibc's TLS: keep it */
	__asm__ volatile("rdgsbase %0" : "=r"(frame[18]));
	memset(&xfloor_main, 0, sizeof(xfloor_main));
	memset(&xfloor_partner, 0, sizeof(xfloor_partner));
	xfloor_main.mask = xfloor_partner.mask = xgetbv0();
	/* An all-zero header is "every component in its init state"; MXCSR is loaded regardless. */
	memcpy(xfloor_partner.area + MXCSR_OFF, &(uint32_t){ MXCSR_DEFAULT }, sizeof(uint32_t));
	xfloor_partner.rsp = stack_frame(&stack, frame, 19);
	if (!xfloor_partner.rsp)
		return -ENOMEM;
	rc = BENCH_MEASURE(o, r, 10000, 100000, BENCH_BATCH,
	                   bench_floor_switch_xsave(&xfloor_main, &xfloor_partner));
	free(stack);
	return rc;
}

static void uc_partner_main(void)
{
	for (;;)
		swapcontext(&uc_partner, &uc_main);
}

int bench_swapcontext(const struct bench_opts *o, struct bench_result *r)
{
	void *stack = malloc(STACK_SIZE);
	int rc;

	r->name = "swapcontext_rtt";
	r->note = "glibc swapcontext there and back (each saves the signal mask: a syscall)";
	if (!stack || getcontext(&uc_partner)) {
		free(stack);
		return -ENOMEM;
	}
	uc_partner.uc_stack.ss_sp = stack;
	uc_partner.uc_stack.ss_size = STACK_SIZE;
	uc_partner.uc_link = NULL;
	makecontext(&uc_partner, uc_partner_main, 0);
	rc = BENCH_MEASURE(o, r, 5000, 50000, BENCH_BATCH, swapcontext(&uc_main, &uc_partner));
	free(stack);
	return rc;
}

static void coop_partner_main(void)
{
	for (;;)
		coop_back(&coop_partner, &coop_main);
}

/* coop's own switch routine in @mode between two host coroutines. */
static int switch_asm(const struct bench_opts *o, struct bench_result *r, uint32_t mode)
{
	void *stack = aligned_alloc(64, STACK_SIZE);
	char why[256];
	int rc;

	if (!stack)
		return -ENOMEM;
	if (host_switch_mode_check(mode, why, sizeof(why))) {
		free(stack);
		return bench_skip(r, "%s", why);
	}
	coop_fn = host_switch_fn(mode);
	coop_back = host_guest_switch_fn(mode); /* the partner plays the guest */
	host_context_bind(&coop_main);
	host_context_init_host(&coop_main, mode);
	host_context_init_entry(&coop_partner, mode, (uint64_t)(uintptr_t)stack + STACK_SIZE,
	                        (uint64_t)(uintptr_t)coop_partner_main, &coop_main);
	rc = BENCH_MEASURE(o, r, 10000, 100000, BENCH_BATCH, coop_fn(&coop_main, &coop_partner));
	free(stack);
	return rc;
}

int bench_switch_asm(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "switch_asm_rtt";
	r->note = "coop_switch_default there, coop_switch_to_host back (switch.S), alone, between "
		  "host coroutines";
	r->baseline = "coroutine_switch_rtt";
	return switch_asm(o, r, COOP_SWITCH_DEFAULT);
}

int bench_switch_asm_full(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "switch_asm_full_rtt";
	r->note = "coop_switch_full (switch.S) alone there and back, between host coroutines";
	r->baseline = "xsave_floor_rtt";
	return switch_asm(o, r, COOP_SWITCH_FULL);
}
