/* SPDX-License-Identifier: MIT */
/*
 * trap.S - the guest's assembly: the asynchronous virtual-interrupt entry
 * (virq_entry) and return (virq_return) for struct coop_irq_frame (abi.h),
 * the thread switch (swtch, as xv6's) and the first frame of a new thread.
 * Offsets come from the generated coop/asm-offsets.h, never typed by hand.
 */
#include <coop/abi.h>
#include <coop/asm-offsets.h>

/*
 * Every FRAME_* offset is generated from abi.h; these checks fail the
 * build if abi.h ever reorders the frame in a way this code relies on.
 */
.if FRAME_R15 != 0 || FRAME_RAX != FRAME_R15 + 14 * 8 || FRAME_RFLAGS != FRAME_RAX + 8
.error "struct coop_irq_frame: GPRs are not r15..rax in pop order, then rflags"
.endif
.if FRAME_RIP != FRAME_RFLAGS + 8 || FRAME_SIZE != FRAME_RIP + 8 || FRAME_SIZE >= 8192
.error "struct coop_irq_frame: rip must be last, right below the interrupted rsp"
.endif
.if PASSAGE_VIRQ_MASKED != PASSAGE_VIRQ_PENDING + 32
.error "coop_virq_state: masked[] must follow pending[4]"
.endif

/* DWARF register numbers (x86-64 psABI, figure 3.36) and CFI opcodes. */
#define DW_RAX 0
#define DW_RDX 1
#define DW_RCX 2
#define DW_RBX 3
#define DW_RSI 4
#define DW_RDI 5
#define DW_RBP 6
#define DW_RSP 7
#define DW_R8 8
#define DW_R9 9
#define DW_R10 10
#define DW_R11 11
#define DW_R12 12
#define DW_R13 13
#define DW_R14 14
#define DW_R15 15
#define DW_RIP 16
#define DW_OP_breg3 0x73 /* rbx + SLEB128 offset */
#define DW_OP_breg7 0x77 /* rsp + SLEB128 offset */
#define DW_CFA_def_cfa_expression 0x0f
#define DW_CFA_expression 0x10     /* the register is saved at the address computed */
#define DW_CFA_val_expression 0x16 /* the register's value is the one computed */
/* 0 <= x < 8192 as a two-byte SLEB128 (padded, so every escape has one length). */
#define SLEB2(x) (((x) & 0x7f) | 0x80), (((x) >> 7) & 0x3f)

/*
 * CFI for code that has the frame's address in register \breg (a
 * DW_OP_bregN): the CFA and the caller's rsp are the interrupted rsp
 * (frame + FRAME_SIZE), rip and every GPR are in the frame.  This lets
 * libunwind, gdb and the host's crash backtrace walk from a handler back
 * into the interrupted code.  rflags (DWARF 49) is left out on purpose:
 * libunwind (1.6) rejects a register number above 16 and ends the
 * backtrace at this frame.
 */
.macro SAVED dwreg, off, breg
	.cfi_escape DW_CFA_expression, \dwreg, 3, \breg, SLEB2(\off)
.endm
.macro FRAME_CFI breg
	.cfi_escape DW_CFA_def_cfa_expression, 3, \breg, SLEB2(FRAME_SIZE)
	.cfi_escape DW_CFA_val_expression, DW_RSP, 3, \breg, SLEB2(FRAME_SIZE)
	SAVED DW_RIP, FRAME_RIP, \breg
	SAVED DW_RAX, FRAME_RAX, \breg
	SAVED DW_RBX, FRAME_RBX, \breg
	SAVED DW_RCX, FRAME_RCX, \breg
	SAVED DW_RDX, FRAME_RDX, \breg
	SAVED DW_RSI, FRAME_RSI, \breg
	SAVED DW_RDI, FRAME_RDI, \breg
	SAVED DW_RBP, FRAME_RBP, \breg
	SAVED DW_R8, FRAME_R8, \breg
	SAVED DW_R9, FRAME_R9, \breg
	SAVED DW_R10, FRAME_R10, \breg
	SAVED DW_R11, FRAME_R11, \breg
	SAVED DW_R12, FRAME_R12, \breg
	SAVED DW_R13, FRAME_R13, \breg
	SAVED DW_R14, FRAME_R14, \breg
	SAVED DW_R15, FRAME_R15, \breg
.endm

/* Pop one register of the frame; rsp (the CFA's base now) moves up. */
.macro POP_FRAME reg
	popq	%\reg
	.cfi_adjust_cfa_offset -8
	.cfi_same_value \reg
.endm

	.text

/*
 * void virq_entry(struct coop_irq_frame *frame)
 *
 * The host interrupted guest code that ran with vif = 1, pushed a frame
 * right below its rsp, set vif = 0 and resumed us here with %rdi = %rsp =
 * the frame.  Every GPR of the interrupted code is in the frame, so all
 * registers are ours to use.  vif = 0 means nothing else can enter until
 * we set it again, in virq_return.
 */
	.globl	virq_entry
	.hidden	virq_entry
	.type	virq_entry, @function
	.p2align 4
virq_entry:
	.cfi_startproc
	.cfi_signal_frame	/* the caller's rip is exact, not a return address */
	FRAME_CFI DW_OP_breg7	/* rsp is the frame, for one instruction */
	/*
	 * Keep the frame in rbx: callee-saved, so it survives the C calls
	 * below and a thread switch inside them, and the CFI can use it.
	 */
	movq	%rsp, %rbx
	FRAME_CFI DW_OP_breg3
	/*
	 * The interrupted code may have been between std and cld: the C
	 * code below needs DF = 0 (popfq gives the old value back).
	 */
	cld
	/* The frame is only 8-byte aligned; C wants rsp % 16 == 0 at a call. */
	andq	$-16, %rsp
	movq	%rbx, %rdi
	call	virq_async	/* handlers, and maybe schedule() (preemption) */
	jmp	virq_return
	.cfi_endproc
	.size	virq_entry, .-virq_entry

/*
 * virq_return: back to the interrupted code, with %rbx = the frame and
 * vif = 0.  Reached only from virq_entry.
 *
 * Race-free because every step is safe if the host interrupts it:
 *  1. rsp = frame, then vif = 1.  From here the host may enter virq_entry
 *     again: it pushes a new frame below rsp (never over ours, which is
 *     above rsp) and that entry returns here, to the very instruction it
 *     interrupted.  Such nesting is bounded: it happens only after our
 *     handlers are done, and leaves the stack as it found it.
 *  2. Check pending & ~masked.  A vector raised after the check finds
 *     vif = 1 and is delivered asynchronously as in 1.  A vector that
 *     came while vif was 0 (during the handlers) is found here: clear
 *     vif, deliver it (virq_again: COOP_OP_IRQ_ENABLE and the handlers)
 *     and go back to 1.
 *  3. Nothing deliverable: pop r15 .. rax, popfq, ret.  An interrupt
 *     between two pops sees the registers popped so far and rsp inside
 *     our frame; its own frame goes below rsp, over the part already
 *     popped, and it returns to the next pop.  After ret rsp is exactly
 *     the interrupted rsp (the frame's rip sat at rsp - 8).
 */
	.globl	virq_return
	.hidden	virq_return
	.type	virq_return, @function
	.p2align 4
virq_return:
	.cfi_startproc
	.cfi_signal_frame
	FRAME_CFI DW_OP_breg3
	/* The passage; r12 is free (the interrupted r12 is in the frame). */
	movabsq	$COOP_GUEST_BASE, %r12
1:
	movq	%rbx, %rsp	/* drop the alignment padding: rsp = frame */
	movl	$1, PASSAGE_VIRQ_VIF(%r12)	/* 1. vif = 1 */
	/* 2. Any of pending[w] & ~masked[w], w = 0..3, nonzero? */
	xorl	%eax, %eax
	.irp w, 0, 8, 16, 24
	movq	PASSAGE_VIRQ_MASKED+\w(%r12), %rcx
	notq	%rcx
	andq	PASSAGE_VIRQ_PENDING+\w(%r12), %rcx
	orq	%rcx, %rax
	.endr
	testq	%rax, %rax
	jnz	2f
	/*
	 * 3. Pop the frame.  rbx is popped too, so describe the frame from
	 * rsp from here on (plain CFA-relative rules).
	 */
	.cfi_remember_state
	.cfi_def_cfa rsp, FRAME_SIZE
	.cfi_val_offset rsp, 0
	.cfi_offset rip, FRAME_RIP - FRAME_SIZE
	.cfi_offset r15, FRAME_R15 - FRAME_SIZE
	.cfi_offset r14, FRAME_R14 - FRAME_SIZE
	.cfi_offset r13, FRAME_R13 - FRAME_SIZE
	.cfi_offset r12, FRAME_R12 - FRAME_SIZE
	.cfi_offset r11, FRAME_R11 - FRAME_SIZE
	.cfi_offset r10, FRAME_R10 - FRAME_SIZE
	.cfi_offset r9, FRAME_R9 - FRAME_SIZE
	.cfi_offset r8, FRAME_R8 - FRAME_SIZE
	.cfi_offset rbp, FRAME_RBP - FRAME_SIZE
	.cfi_offset rdi, FRAME_RDI - FRAME_SIZE
	.cfi_offset rsi, FRAME_RSI - FRAME_SIZE
	.cfi_offset rdx, FRAME_RDX - FRAME_SIZE
	.cfi_offset rcx, FRAME_RCX - FRAME_SIZE
	.cfi_offset rbx, FRAME_RBX - FRAME_SIZE
	.cfi_offset rax, FRAME_RAX - FRAME_SIZE
	POP_FRAME r15
	POP_FRAME r14
	POP_FRAME r13
	POP_FRAME r12
	POP_FRAME r11
	POP_FRAME r10
	POP_FRAME r9
	POP_FRAME r8
	POP_FRAME rbp
	POP_FRAME rdi
	POP_FRAME rsi
	POP_FRAME rdx
	POP_FRAME rcx
	POP_FRAME rbx
	POP_FRAME rax
	popfq			/* flags, DF included; IF is not ours to change */
	.cfi_adjust_cfa_offset -8
	ret			/* to the interrupted rip; rsp = interrupted rsp */
	.cfi_restore_state
2:
	/* Something came while the handlers ran: vif = 0, deliver, recheck. */
	movl	$0, PASSAGE_VIRQ_VIF(%r12)
	andq	$-16, %rsp
	movq	%rbx, %rdi
	call	virq_again
	jmp	1b
	.cfi_endproc
	.size	virq_return, .-virq_return

/*
 * void swtch(uint64_t *save_rsp, uint64_t load_rsp)
 *
 * Switch threads: push the callee-saved registers on the current stack,
 * store rsp in *save_rsp, load the other thread's rsp and pop its
 * registers; ret returns into its own swtch call (or thread_trampoline
 * for a new thread).  The caller-saved registers are dead across a call,
 * and the guest has no vector state (-mgeneral-regs-only).  Called with
 * vif = 0 (schedule()); each thread's resume path restores its own vif.
 */
	.globl	swtch
	.hidden	swtch
	.type	swtch, @function
	.p2align 4
swtch:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r15, 0
	movq	%rsp, (%rdi)
	/*
	 * The other stack has the same layout (six registers, then the
	 * return address), so the CFI above stays true after the load.
	 */
	movq	%rsi, %rsp
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp
	ret
	.cfi_endproc
	.size	swtch, .-swtch

/*
 * The first code a new thread runs: swtch's ret lands here with rsp 16-byte
 * aligned (proc.c builds the stack so).  The bottom of the thread's call
 * chain: the CFI says there is no caller, so unwinders stop here.
 */
	.globl	thread_trampoline
	.hidden	thread_trampoline
	.type	thread_trampoline, @function
	.p2align 4
thread_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp	/* no frame above this one */
	call	thread_main	/* never returns */
	ud2
	.cfi_endproc
	.size	thread_trampoline, .-thread_trampoline

	.section .note.GNU-stack, "", @progbits
