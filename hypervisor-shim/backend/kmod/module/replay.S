/* SPDX-License-Identifier: GPL-2.0 */
/*
 * replay.S - hand a host interrupt that hit the guest to the host's own
 * handler for it, as if it had arrived here (the technique KVM uses
 * after a VM exit).  Host side only: the switcher is done, the host's
 * IDT, GDT, TR and CR3 are back, interrupts are still off.
 *
 *   void coop_sw_replay(unsigned long handler);   handler: an IDT entry point
 */
#include <linux/linkage.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>

	.text
SYM_FUNC_START(coop_sw_replay)
	/* A frame pointer: rsp is realigned below, rbp gets it back. */
	pushq	%rbp
	movq	%rsp, %rbp
	/* The CPU aligns rsp to 16 bytes before it pushes an interrupt frame. */
	andq	$-16, %rsp
	/* The frame an interrupt of this very code would push: ss, rsp, ... */
	xorl	%eax, %eax
	movw	%ss, %ax
	pushq	%rax
	pushq	%rbp
	/* ... rflags (IF = 0: the handler's iretq leaves interrupts off), cs ... */
	pushfq
	pushq	$__KERNEL_CS
	/* ... and rip: the return address.  The handler ends in iretq, back here. */
	CALL_NOSPEC rdi
	/* iretq restored rsp already; say so to objtool, which cannot know. */
	movq	%rbp, %rsp
	popq	%rbp
	RET
SYM_FUNC_END(coop_sw_replay)
