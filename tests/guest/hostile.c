/* SPDX-License-Identifier: MIT */
/*
 * hostile.c - `hostile WHAT`: the mistakes a guest kernel under development
 * makes against its host, one per subcommand, compiled only into the test
 * guest coop-guest-hostile (tests/guest/CMakeLists.txt).  The host must
 * survive each: the guest goes on, or it is ended with a crash report
 * (exit 3) -- never coop itself.  tests/integration/hostile.sh runs them.
 */
#include "defs.h"

/*
 * DF and AC set across a hypercall: the host's C code must not run with
 * them (a backwards memcpy over the host heap; a SIGBUS on the host's first
 * unaligned access).  Only this asm runs between setting them and the
 * switch; the host's way back leaves them clear.
 */
static int hostile_flags(void)
{
	for (int i = 0; i < 100; i++) {
		__asm__ volatile("pushfq; orq $0x40400, (%%rsp); popfq" ::: "memory", "cc");
		platform_nop();
		__asm__ volatile("cld" ::: "memory", "cc"); /* ours again, whatever came back */
	}
	kprintf("hostile flags: 100 hypercalls with DF and AC set, the host is fine\n");
	return 0;
}

/* Breakpoint, single step, icebp: SIGTRAP on the user backend. */
static __attribute__((noipa)) void hostile_int3(void)
{
	__asm__ volatile("int3");
}

static __attribute__((noipa)) void hostile_tf(void)
{
	__asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq; nop" ::: "memory", "cc");
}

static __attribute__((noipa)) void hostile_icebp(void)
{
	__asm__ volatile(".byte 0xf1");
}

/*
 * Virtual interrupts on, every vector masked, no hypercall: the guest takes
 * no interrupt and makes no progress.  The watchdog must see it.
 */
static __attribute__((noipa)) void hostile_maskall(void)
{
	struct coop_virq_state *v = &passage()->virq;

	for (int i = 0; i < 4; i++)
		WRITE_ONCE(v->masked[i], ~0ull);
	irq_enable();
	for (;;)
		cpu_relax();
}

int cmd_hostile(int argc, char **argv)
{
	const char *what = argc == 2 ? argv[1] : "";

	if (!strcmp(what, "flags"))
		return hostile_flags();
	if (!strcmp(what, "int3"))
		hostile_int3();
	else if (!strcmp(what, "tf"))
		hostile_tf();
	else if (!strcmp(what, "icebp"))
		hostile_icebp();
	else if (!strcmp(what, "maskall"))
		hostile_maskall();
	else {
		kprintf("usage: hostile flags|int3|tf|icebp|maskall\n");
		return 2;
	}
	kprintf("hostile %s: still here\n", what);
	return 1;
}
