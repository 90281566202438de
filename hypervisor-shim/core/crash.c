/* SPDX-License-Identifier: MIT */
/*
 * crash.c - end a guest that faulted, and say why: the signal and what it
 * means, the guest's registers, and a backtrace from the faulting guest
 * function through the switch's bottom frame into the host, guest frames
 * named from the guest ELF's symbols.  Format (docs/architecture.md, "Crash reports"):
 *
 *   coop: guest crashed: SIGSEGV (page fault writing 0x10) in crash_segv+0x4
 *   guest registers:
 *     rip 0x... rsp 0x... rflags 0x...
 *     ...
 *   backtrace:
 *     #0  0x0000200000101234 crash_segv+0x4 [guest]
 *     ...
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "core/shim.h"

/*
 * The watchdog's verdict, for every backend: the guest made no progress --
 * no hypercall and no vIRQ delivered -- for --watchdog seconds.  Not the
 * vIF bit: a guest with vIF on and every vector masked (or no entry point)
 * takes no interrupt either, and spins just as well.
 */
bool shim_guest_hung(const struct shim_vm *vm)
{
	uint64_t ms = (shim_rdtsc() - vm->progress_tsc) / shim_tsc_khz();

	return vm->irq.watchdog_ns && ms * 1000000u >= vm->irq.watchdog_ns;
}

static const char *what(const struct shim_vm *vm, const struct shim_crash *c, char *buf,
			size_t len)
{
	uint64_t rsp = (uint64_t)c->gregs[REG_RSP];
	/* (A Linux guest has no guard page of ours: vm->guard is 0.) */
	bool in_guard = vm->guard && c->addr >= vm->guard &&
			c->addr < vm->guard + COOP_STACK_GUARD_SIZE;

	switch (c->sig) {
	case 0:
		snprintf(buf, len, "hung (watchdog: no hypercall and no vIRQ taken for %.1f s)",
			 (double)vm->irq.watchdog_ns / 1e9);
		break;
	case SIGSEGV:
		if (in_guard || (vm->guard && rsp >= vm->guard && rsp < vm->guard + COOP_STACK_GUARD_SIZE + 64))
			snprintf(buf, len, "SIGSEGV (stack overflow: %#llx is the guard page below the boot stack)",
				 (unsigned long long)c->addr);
		else
			snprintf(buf, len, "SIGSEGV (%s at address %#llx)",
				 c->code == SEGV_ACCERR ? "access not permitted" : "page not mapped",
				 (unsigned long long)c->addr);
		break;
	case SIGBUS:
		snprintf(buf, len, "SIGBUS (bus error at address %#llx)", (unsigned long long)c->addr);
		break;
	case SIGILL:
		snprintf(buf, len, "SIGILL (invalid opcode at %#llx)", (unsigned long long)c->addr);
		break;
	case SIGFPE:
		snprintf(buf, len, "SIGFPE (%s)",
			 c->code == FPE_INTDIV ? "integer divide by zero" :
			 c->code == FPE_INTOVF ? "integer overflow" : "arithmetic exception");
		break;
	case SIGTRAP:
		snprintf(buf, len, "SIGTRAP (%s at %#llx: int3, the trap flag or icebp in guest code)",
			 c->code == TRAP_TRACE ? "single step" : "breakpoint",
			 (unsigned long long)c->gregs[REG_RIP]);
		break;
	case SIGSYS:
		snprintf(buf, len, "SIGSYS (system call %d from guest code at %#llx: the guest "
			 "asks the host through hypercalls only)", c->syscall,
			 (unsigned long long)c->gregs[REG_RIP]);
		break;
	default:
		snprintf(buf, len, "signal %d", c->sig);
	}
	return buf;
}

/*
 * Name a frame.  Above the innermost one, ip is a return address: look up
 * ip - 1, the call, so that a call as a function's last instruction is not
 * named after the next function.
 */
static void frame_name(const struct shim_vm *vm, const struct shim_frame *f, bool caller,
		       char *buf, size_t len)
{
	uint64_t off = 0;
	const char *name = f->guest ? shim_symbol(&vm->syms, f->ip - caller, &off) : f->name;

	off += caller && f->guest;
	if (name && *name)
		snprintf(buf, len, "%s+%#llx", name, (unsigned long long)(f->guest ? off : f->off));
	else
		snprintf(buf, len, "?");
}

static void registers(FILE *out, const struct shim_crash *c)
{
	static const struct { const char *name; int reg; } regs[] = {
		{ "rip", REG_RIP }, { "rsp", REG_RSP }, { "rflags", REG_EFL }, { "rax", REG_RAX },
		{ "rbx", REG_RBX }, { "rcx", REG_RCX }, { "rdx", REG_RDX },    { "rsi", REG_RSI },
		{ "rdi", REG_RDI }, { "rbp", REG_RBP }, { "r8", REG_R8 },      { "r9", REG_R9 },
		{ "r10", REG_R10 }, { "r11", REG_R11 }, { "r12", REG_R12 },    { "r13", REG_R13 },
		{ "r14", REG_R14 }, { "r15", REG_R15 },
	};

	fputs("guest registers:\n", out);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		fprintf(out, "  %-6s 0x%016llx%s", regs[i].name,
			(unsigned long long)c->gregs[regs[i].reg], i % 3 == 2 ? "\n" : "");
}

/*
 * A Linux guest: its stack is not in this process's address space, so no
 * backtrace; the exception, and where to look up its instruction pointer.
 */
static void linux_where(FILE *out, const struct shim_crash *c)
{
	fprintf(out, "  vector %lld, error code %#llx\n", c->gregs[REG_TRAPNO],
		(unsigned long long)c->gregs[REG_ERR]);
	fprintf(out, "backtrace: not taken for a Linux guest; its instruction pointer in the "
		"unstripped vmlinux:\n  addr2line -f -i -e VMLINUX %#llx\n",
		(unsigned long long)c->gregs[REG_RIP]);
}

void shim_crash_end(struct shim_vm *vm)
{
	const struct shim_crash *c = &vm->crash;
	char why[160], where[96] = "?";
	size_t size = 0;
	FILE *out = open_memstream(&vm->report, &size);

	if (c->nframes)
		frame_name(vm, &c->frames[0], false, where, sizeof(where));
	shim_kill_guest(vm, "guest %s%s in %s", c->sig ? "crashed: " : "", what(vm, c, why, sizeof(why)),
			where);
	if (!out)
		return;
	registers(out, c);
	if (vm->lx.phys_base) {
		linux_where(out, c);
		fclose(out);
		return;
	}
	fputs("backtrace:\n", out);
	for (unsigned int i = 0; i < c->nframes; i++) {
		char name[96];

		frame_name(vm, &c->frames[i], i > 0, name, sizeof(name));
		fprintf(out, "  #%-2u 0x%016llx %s [%s]\n", i, (unsigned long long)c->frames[i].ip, name,
			c->frames[i].guest ? "guest" : "host");
	}
	if (!c->nframes)
		fputs("  (no frames: the unwinder could not start)\n", out);
	if (c->unwind_lost)
		fputs("  (the guest's unwind table led the unwinder astray: the backtrace stops "
		      "here)\n", out);
	fclose(out);
}
