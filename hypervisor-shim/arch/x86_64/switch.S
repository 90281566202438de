/* SPDX-License-Identifier: MIT */
/*
 * switch.S - the user backend's world switch: save one side's CPU context
 * into a struct coop_cpu_context and load the other's.  Both sides call it
 * like a C function and, later, return from it when the other side
 * switches back; the two kernels are coroutines.  Offsets come from the
 * generated coop/asm-offsets.h, never typed by hand.
 *
 *   void coop_switch_default(struct coop_cpu_context *save,    %rdi
 *                            struct coop_cpu_context *load);   %rsi
 *   void coop_switch_full(...same...);
 *
 * Unit test: tests/unit/shim/test_switch.c fills every register a mode
 * promises to keep, switches away and back, and checks them all.
 */
#include <coop/asm-offsets.h>

/* The bottom frame's CFI encodes these offsets as one-byte ULEB128s. */
.if CTX_RSP >= 128 || CTX_R15 >= 128 || CTX_RBX >= 128 || CTX_RBP >= 128
.error "coop_cpu_context: callee-saved slots must stay below offset 128"
.endif

	.text

/*
 * Default mode: what the C calling convention says survives a call -
 * rbx, rbp, r12-r15, rsp, the MXCSR control bits and the x87 control word
 * (the psABI makes those two callee-saved too).  Everything else is dead
 * across a call anyway, so this is a complete switch for C code, and the
 * floor a cooperative world switch can reach (~40-55 cycles).
 */
/* The default mode's save and load, shared by both of its entries below. */
.macro SWITCH_DEFAULT_BODY
	/*
	 * Save.  Our return address sits at (%rsp): storing rsp is all it
	 * takes to resume here later, with a plain ret.
	 */
	movq	%rsp, CTX_RSP(%rdi)
	movq	%rbx, CTX_RBX(%rdi)
	movq	%rbp, CTX_RBP(%rdi)
	movq	%r12, CTX_R12(%rdi)
	movq	%r13, CTX_R13(%rdi)
	movq	%r14, CTX_R14(%rdi)
	movq	%r15, CTX_R15(%rdi)
	stmxcsr	CTX_MXCSR(%rdi)
	fnstcw	CTX_FPU_CW(%rdi)
	/*
	 * Load.  From the moment rsp changes we are on the other side's
	 * stack, whose top is also a return address: the CFI rule "CFA =
	 * rsp + 8, return address at CFA - 8" stays true throughout.
	 */
	movq	CTX_RSP(%rsi), %rsp
	movq	CTX_RBX(%rsi), %rbx
	movq	CTX_RBP(%rsi), %rbp
	movq	CTX_R12(%rsi), %r12
	movq	CTX_R13(%rsi), %r13
	movq	CTX_R14(%rsi), %r14
	movq	CTX_R15(%rsi), %r15
	ldmxcsr	CTX_MXCSR(%rsi)
	fldcw	CTX_FPU_CW(%rsi)
.endm

	.globl	coop_switch_default
	.type	coop_switch_default, @function
	.p2align 4
coop_switch_default:
	.cfi_startproc
	SWITCH_DEFAULT_BODY
	/* Return into the other side's last switch call (or its entry). */
	ret
	.cfi_endproc
	.size	coop_switch_default, .-coop_switch_default

/*
 * The default mode's way back into the host, the routine the guest calls
 * (passage hdr.switch_to_host).  The context it loads is the host's own,
 * coop_host_context, kept outside guest RAM: the guest's `load` argument
 * (&passage->host) is not trusted, so a guest that scribbles over its RAM
 * cannot send the host anywhere.  rflags is not kept, but two of its bits
 * must not cross into host C code: DF (the psABI wants it clear at every
 * call; set, the host's memcpy runs backwards over its heap) and AC (set,
 * with CR0.AM on as Linux has it, the host's first unaligned access is a
 * SIGBUS).  A guest under development sets either by mistake; the host
 * must not pay for it.  Only popfq clears AC in user mode, and it is slow:
 * the flags are tested first.  The host's way into the guest needs none of
 * this: the host never sets them.
 */
	.globl	coop_switch_to_host
	.type	coop_switch_to_host, @function
	.p2align 4
coop_switch_to_host:
	.cfi_startproc
	movq	coop_host_context(%rip), %rsi	/* the host's, not the guest's word */
	SWITCH_DEFAULT_BODY
	pushfq
	.cfi_adjust_cfa_offset 8
	testl	$0x40400, (%rsp)		/* X86_EFLAGS_AC | X86_EFLAGS_DF */
	jnz	1f
	leaq	8(%rsp), %rsp			/* lea: no flag changes, none needed */
	.cfi_adjust_cfa_offset -8
	ret
1:	.cfi_adjust_cfa_offset 8
	andl	$~0x40400, (%rsp)
	popfq
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	coop_switch_to_host, .-coop_switch_to_host

/*
 * Full mode: every general register, rflags, the FS and GS bases and the
 * xsave area (x87, SSE, AVX, AVX-512, ... as ctx->xsave_mask says) - what
 * a ring-0 switch between two kernels has to exchange, so that the user
 * backend can model its cost.  Needs FSGSBASE (Linux >= 5.9 enables it
 * for user space) and XSAVEOPT; the backend checks before choosing it.
 */
	.globl	coop_switch_full
	.type	coop_switch_full, @function
	.p2align 4
coop_switch_full:
	.cfi_startproc
	/* Flags first, before any instruction below can change them. */
	pushfq
	.cfi_adjust_cfa_offset 8
	popq	CTX_RFLAGS(%rdi)
	.cfi_adjust_cfa_offset -8
	movq	%rsp, CTX_RSP(%rdi)
	movq	%rbx, CTX_RBX(%rdi)
	movq	%rbp, CTX_RBP(%rdi)
	movq	%r12, CTX_R12(%rdi)
	movq	%r13, CTX_R13(%rdi)
	movq	%r14, CTX_R14(%rdi)
	movq	%r15, CTX_R15(%rdi)
	movq	%rax, CTX_RAX(%rdi)
	movq	%rcx, CTX_RCX(%rdi)
	movq	%rdx, CTX_RDX(%rdi)
	movq	%rsi, CTX_RSI(%rdi)
	movq	%rdi, CTX_RDI(%rdi)
	movq	%r8, CTX_R8(%rdi)
	movq	%r9, CTX_R9(%rdi)
	movq	%r10, CTX_R10(%rdi)
	movq	%r11, CTX_R11(%rdi)
	/* rax and rdx are saved: free to carry the bases and the mask. */
	rdfsbase %rax
	movq	%rax, CTX_FS_BASE(%rdi)
	rdgsbase %rax
	movq	%rax, CTX_GS_BASE(%rdi)
	/*
	 * xsaveopt writes only the components that differ from their init
	 * state or changed since the last xrstor from this very area; the
	 * area keeps the rest from before, so the result is the same as a
	 * full xsave at a fraction of the cost.
	 */
	movl	CTX_XSAVE_MASK(%rdi), %eax
	movl	CTX_XSAVE_MASK+4(%rdi), %edx
	xsaveopt64 CTX_XSAVE(%rdi)

	/* Load.  %rsi is the base until the very last instruction. */
	movl	CTX_XSAVE_MASK(%rsi), %eax
	movl	CTX_XSAVE_MASK+4(%rsi), %edx
	xrstor64 CTX_XSAVE(%rsi)
	movq	CTX_FS_BASE(%rsi), %rax
	wrfsbase %rax
	movq	CTX_GS_BASE(%rsi), %rax
	wrgsbase %rax
	movq	CTX_RSP(%rsi), %rsp
	/* rflags now, while nothing below touches the flags (mov does not). */
	pushq	CTX_RFLAGS(%rsi)
	.cfi_adjust_cfa_offset 8
	popfq
	.cfi_adjust_cfa_offset -8
	movq	CTX_RBX(%rsi), %rbx
	movq	CTX_RBP(%rsi), %rbp
	movq	CTX_R12(%rsi), %r12
	movq	CTX_R13(%rsi), %r13
	movq	CTX_R14(%rsi), %r14
	movq	CTX_R15(%rsi), %r15
	movq	CTX_RAX(%rsi), %rax
	movq	CTX_RCX(%rsi), %rcx
	movq	CTX_RDX(%rsi), %rdx
	movq	CTX_RDI(%rsi), %rdi
	movq	CTX_R8(%rsi), %r8
	movq	CTX_R9(%rsi), %r9
	movq	CTX_R10(%rsi), %r10
	movq	CTX_R11(%rsi), %r11
	movq	CTX_RSI(%rsi), %rsi
	ret
	.cfi_endproc
	.size	coop_switch_full, .-coop_switch_full

/*
 * The full mode's way back into the host, the guest's routine in that
 * mode: coop_switch_full with the host's own context, as above.  rsi is
 * an argument register, dead across the call: replacing it is invisible.
 * The full switch restores the host's whole rflags, DF and AC included.
 */
	.globl	coop_switch_full_to_host
	.type	coop_switch_full_to_host, @function
	.p2align 4
coop_switch_full_to_host:
	.cfi_startproc
	movq	coop_host_context(%rip), %rsi
	jmp	coop_switch_full
	.cfi_endproc
	.size	coop_switch_full_to_host, .-coop_switch_full_to_host

/*
 * The bottom frame of every guest stack.  shim_user_context_init() lays
 * a new stack out as
 *
 *	top -  8:  0                      (keeps the entry's rsp ABI-aligned)
 *	top - 16:  struct coop_cpu_context *host
 *	top - 24:  coop_guest_return      the entry function's return address
 *	top - 32:  entry                  the first switch's ret goes here
 *
 * so that the guest entry looks called from here.  The CFI below tells an
 * unwinder (gdb, libunwind) that this frame's caller is the host code
 * that switched into the guest: the CFA is the host's saved rsp + 8, and
 * the host's callee-saved registers are in *host.  A backtrace taken in
 * guest code therefore continues into the host's run loop.
 *
 * DWARF, as bytes: DW_CFA_def_cfa_expression (0x0f) and DW_CFA_expression
 * (0x10) with DW_OP_breg7 (0x77: rsp + 0), DW_OP_deref (0x06) and
 * DW_OP_plus_uconst (0x23).  At this frame rsp = top - 16, so
 * "breg7 0; deref" is the host context pointer.
 */
#define HOST_SLOT(off) 0x77, 0x00, 0x06, 0x23, (off)
	.globl	coop_guest_bottom
	.globl	coop_guest_return
	.type	coop_guest_bottom, @function
	.p2align 4
coop_guest_bottom:
	.cfi_startproc
	/* CFA = *(host + CTX_RSP) + 8 */
	.cfi_escape 0x0f, 8, HOST_SLOT(CTX_RSP), 0x06, 0x23, 8
	.cfi_offset %rip, -8
	.cfi_escape 0x10, 3, 5, HOST_SLOT(CTX_RBX)
	.cfi_escape 0x10, 6, 5, HOST_SLOT(CTX_RBP)
	.cfi_escape 0x10, 12, 5, HOST_SLOT(CTX_R12)
	.cfi_escape 0x10, 13, 5, HOST_SLOT(CTX_R13)
	.cfi_escape 0x10, 14, 5, HOST_SLOT(CTX_R14)
	.cfi_escape 0x10, 15, 5, HOST_SLOT(CTX_R15)
	/*
	 * Unwinders look up (return address - 1) for the FDE and the symbol:
	 * this nop is that byte, so the return address is the label after it.
	 */
	nop
coop_guest_return:
	/*
	 * A guest entry function never returns.  If one does, trap: the
	 * monitor ends the guest on SIGILL like any other guest crash.
	 */
	ud2
	.cfi_endproc
	.size	coop_guest_bottom, .-coop_guest_bottom

/*
 * The host's context while a guest runs (host_context_bind sets it): the
 * guest's ways back load this, never their `load` argument.
 */
	.bss
	.p2align 3
	.globl	coop_host_context
	.type	coop_host_context, @object
	.size	coop_host_context, 8
coop_host_context:
	.zero	8

	.section .note.GNU-stack, "", @progbits
