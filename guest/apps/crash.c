/* SPDX-License-Identifier: MIT */
/*
 * crash.c - `crash segv|ud|div|stack|hang`: ways for the guest to die, so
 * that the host's crash reports (reason, registers, backtrace) and its
 * watchdog can be tested.  Each is a noipa function with a fixed name:
 * the host's backtrace must show it.  Try: coop run --exec 'crash ud'; echo $?
 */
#include "defs.h"

#define CRASH_FRAME 2048 /* bytes of the array in every crash_stack() frame */

/* The compiler sees an opaque value: no folding, no "known" null pointer. */
static uintptr_t opaque(uintptr_t v)
{
	__asm__ volatile("" : "+r"(v));
	return v;
}

/* A write to an unmapped low address: SIGSEGV on the user backend. */
__attribute__((noipa)) void crash_segv(void)
{
	*(volatile uint32_t *)opaque(0x10) = 0xdead;
}

/* An undefined instruction: SIGILL. */
__attribute__((noipa)) void crash_ud(void)
{
	__asm__ volatile("ud2");
}

/* idiv by zero (#DE, SIGFPE); the divisor is hidden from the compiler. */
__attribute__((noipa)) int crash_div(void)
{
	volatile int q;
	int n = (int)opaque(1), d = (int)opaque(0);

	q = n / d;
	return q;
}

/*
 * Recursion without end, each frame with an array the compiler must
 * keep (volatile, and read after the call): runs down the boot stack into
 * the host's guard page.  Every byte is written, so no frame skips the
 * guard.  The depth check is against a value the compiler cannot know.
 */
__attribute__((noipa)) int crash_stack(int depth)
{
	volatile char buf[CRASH_FRAME];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)depth;
	if ((uintptr_t)depth == opaque(UINT32_MAX))
		return buf[0];
	return crash_stack(depth + 1) + buf[depth % CRASH_FRAME];
}

/* vif off, then forever busy: only the host's watchdog can end this. */
__attribute__((noipa)) void crash_hang(void)
{
	irq_disable();
	for (;;)
		cpu_relax();
}

int cmd_crash(int argc, char **argv)
{
	const char *how = argc == 2 ? argv[1] : "";

	msg_flush(); /* what was printed so far reaches the host first */
	if (!strcmp(how, "segv"))
		crash_segv();
	else if (!strcmp(how, "ud"))
		crash_ud();
	else if (!strcmp(how, "div"))
		crash_div();
	else if (!strcmp(how, "stack"))
		crash_stack(0);
	else if (!strcmp(how, "hang"))
		crash_hang();
	else {
		kprintf("usage: crash segv|ud|div|stack|hang\n");
		return 2;
	}
	kprintf("crash %s: still alive\n", how);
	return 1;
}
