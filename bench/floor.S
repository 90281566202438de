/* SPDX-License-Identifier: MIT */
/*
 * floor.S - the floors coop's world switch is measured against: what any
 * coroutine switch must do, written independently of the switch under
 * test (hypervisor-shim/arch/x86_64/switch.S), in the classic push/pop
 * style.  Both sides of a floor are coroutines of one thread; a new side's
 * stack is laid out by host_switch.c to look like one of these frames.
 */
#include "bench/floor.h"

	.text

/*
 * void bench_floor_switch(uint64_t *save, uint64_t load)
 * The minimum: the registers the psABI says survive a call, and rsp.  The
 * return address is already on the stack; pushing six registers and
 * swapping rsp is the whole switch (~40 cycles: boost.context's fcontext).
 */
	.globl	bench_floor_switch
	.type	bench_floor_switch, @function
	.p2align 4
bench_floor_switch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	bench_floor_switch, .-bench_floor_switch

/*
 * void bench_floor_switch_xsave(struct bench_floor_ctx *save,
 *                               struct bench_floor_ctx *load)
 * What a switch between two kernels must exchange at least, short of the
 * privileged state: flags, all fifteen GPRs besides rsp, the FS and GS
 * bases, and the extended state (xsaveopt: only components in use and
 * modified since this area's last xrstor are written).  Frame, from the
 * top: return address, rflags, rax..r15, fs base, gs base.
 */
	.globl	bench_floor_switch_xsave
	.type	bench_floor_switch_xsave, @function
	.p2align 4
bench_floor_switch_xsave:
	pushfq
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	rdfsbase %rax
	pushq	%rax
	rdgsbase %rax
	pushq	%rax
	movl	FLOOR_MASK(%rdi), %eax
	movl	FLOOR_MASK+4(%rdi), %edx
	xsaveopt64 FLOOR_AREA(%rdi)
	movq	%rsp, FLOOR_RSP(%rdi)

	movq	FLOOR_RSP(%rsi), %rsp
	movl	FLOOR_MASK(%rsi), %eax
	movl	FLOOR_MASK+4(%rsi), %edx
	xrstor64 FLOOR_AREA(%rsi)
	popq	%rax
	wrgsbase %rax
	popq	%rax
	wrfsbase %rax
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	popfq
	ret
	.size	bench_floor_switch_xsave, .-bench_floor_switch_xsave

	.section .note.GNU-stack, "", @progbits
