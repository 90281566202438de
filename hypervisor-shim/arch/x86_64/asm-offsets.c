/* SPDX-License-Identifier: MIT */
/*
 * asm-offsets.c - the offsets assembly uses (switch.S, the guest's trap.S), generated from abi.h so that
 * no offset is ever typed by hand (as lguest and Linux do).  Compiled with
 * -S only; cmake/asm-offsets.cmake turns the markers into asm-offsets.h.
 */
#include <stddef.h>

#include <coop/abi.h>

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %0\"" : : "i"(val))
#define CTX(sym, field) DEFINE(CTX_##sym, offsetof(struct coop_cpu_context, field))

void asm_offsets(void);
void asm_offsets(void)
{
	CTX(RSP, rsp);
	CTX(RBX, rbx);
	CTX(RBP, rbp);
	CTX(R12, r12);
	CTX(R13, r13);
	CTX(R14, r14);
	CTX(R15, r15);
	CTX(RAX, rax);
	CTX(RCX, rcx);
	CTX(RDX, rdx);
	CTX(RSI, rsi);
	CTX(RDI, rdi);
	CTX(R8, r8);
	CTX(R9, r9);
	CTX(R10, r10);
	CTX(R11, r11);
	CTX(RFLAGS, rflags);
	CTX(FS_BASE, fs_base);
	CTX(GS_BASE, gs_base);
	CTX(MXCSR, mxcsr);
	CTX(FPU_CW, fpu_cw);
	CTX(XSAVE_MASK, xsave_mask);
	CTX(XSAVE, xsave);
	DEFINE(CTX_SIZE, sizeof(struct coop_cpu_context));
	DEFINE(PASSAGE_HOST, offsetof(struct coop_passage, host));
	DEFINE(PASSAGE_GUEST, offsetof(struct coop_passage, guest));

	/* For the guest's interrupt entry and return (guest/kernel/trap.S). */
	DEFINE(PASSAGE_VIRQ_VIF, offsetof(struct coop_passage, virq.vif));
	DEFINE(PASSAGE_VIRQ_PENDING, offsetof(struct coop_passage, virq.pending));
	DEFINE(PASSAGE_VIRQ_MASKED, offsetof(struct coop_passage, virq.masked));
#define FRAME(sym, field) DEFINE(FRAME_##sym, offsetof(struct coop_irq_frame, field))
	FRAME(R15, r15);
	FRAME(R14, r14);
	FRAME(R13, r13);
	FRAME(R12, r12);
	FRAME(R11, r11);
	FRAME(R10, r10);
	FRAME(R9, r9);
	FRAME(R8, r8);
	FRAME(RBP, rbp);
	FRAME(RDI, rdi);
	FRAME(RSI, rsi);
	FRAME(RDX, rdx);
	FRAME(RCX, rcx);
	FRAME(RBX, rbx);
	FRAME(RAX, rax);
	DEFINE(FRAME_RFLAGS, offsetof(struct coop_irq_frame, rflags));
	DEFINE(FRAME_RIP, offsetof(struct coop_irq_frame, rip));
	DEFINE(FRAME_SIZE, sizeof(struct coop_irq_frame));
}
