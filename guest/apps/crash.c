/* SPDX-License-Identifier: MIT */
/*
 * crash.c - `crash segv|ud|div|stack|hang|int N`: ways for the guest to
 * die, so that the host's crash reports (reason, registers, backtrace)
 * and its watchdog can be tested.  Each is a noipa function with a fixed
 * name: the host's backtrace must show it.
 * Try: coop run --exec 'crash ud'; echo $?
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

/*
 * `int $N`, a software interrupt, for the vectors a ring-0 guest could
 * abuse (the kmod backend must end the guest, never pass one to the
 * host): #BP, the exceptions that push an error code (a software one
 * pushes none), two host interrupt vectors, the int $0x80 syscall gate.
 * N is an immediate: one asm per vector.  Returns -1 for another N, 0 if
 * the interrupt returned (on the user backend int $0x80 is a 32-bit
 * system call, which coop run traps as SIGSYS; were it let through,
 * eax = -1 would make it fail with -ENOSYS).
 */
#define INT(n) __asm__ volatile("int $" #n : : : "memory")
__attribute__((noipa)) int crash_int(uint64_t n)
{
	switch (n) {
	case 3: INT(3); break;
	case 8: INT(8); break;
	case 10: INT(10); break;
	case 11: INT(11); break;
	case 12: INT(12); break;
	case 13: INT(13); break;
	case 14: INT(14); break;
	case 17: INT(17); break;
	case 21: INT(21); break;
	case 29: INT(29); break;
	case 30: INT(30); break;
	case 32: INT(32); break;
	case 0xec: INT(0xec); break; /* Linux's local APIC timer vector */
	case 0x80: {
		long ax = -1;

		__asm__ volatile("int $0x80" : "+a"(ax) : : "r8", "r9", "r10", "r11", "memory");
		break;
	}
	default:
		return -1;
	}
	return 0;
}

#define CRASH_INTS "3 8 10 11 12 13 14 17 21 29 30 32 128 236"

int cmd_crash(int argc, char **argv)
{
	const char *how = argc >= 2 ? argv[1] : "";
	uint64_t n;

	if (!strcmp(how, "int")) {
		if (argc != 3 || kstrtou64(argv[2], 0, &n)) {
			kprintf("usage: crash int N (N: " CRASH_INTS ")\n");
			return 2;
		}
		msg_flush();
		if (crash_int(n)) {
			kprintf("crash int: %s is not one of " CRASH_INTS "\n", argv[2]);
			return 2;
		}
		kprintf("crash int %s: still alive\n", argv[2]);
		return 1;
	}
	if (argc != 2)
		how = "";
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
		kprintf("usage: crash segv|ud|div|stack|hang|int N\n");
		return 2;
	}
	kprintf("crash %s: still alive\n", how);
	return 1;
}
