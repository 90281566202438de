/* SPDX-License-Identifier: GPL-2.0 */
/*
 * switcher.S - the ring-0 world switch between the host kernel and the
 * guest kernel, and the guest's interrupt stubs.
 *
 * All of this file sits in one page-aligned section that the guest's page
 * tables map at the very address the host has it at (module text), and
 * every byte of data it touches is in struct coop_sw (coop.h), also mapped
 * at its host address.  Long mode cannot turn paging off, so the
 * instruction after "mov to %cr3" must be where it was: identical
 * mappings on both sides are what make the switch a single CR3 load.
 * Offsets come from coop-offsets.h, generated from coop.h and
 * <coop/kmod.h> (offsets.c): none is typed here.
 *
 * The order of the steps matters because an NMI (or a machine check) can
 * arrive between any two instructions, interrupts or not.  The invariants:
 *  - while the IDT or CR3 is the guest's, TR is the guest's TSS (so the
 *    guest's stubs never use a host interrupt stack - a host NMI keeps
 *    state on its own - and nothing looks for one the guest does not map);
 *  - while the IDT is the guest's, the GDT is the guest's (so the NMI stub
 *    finds struct coop_sw with sgdt, whatever the registers hold);
 *  - while the IDT is the host's and TR the guest's (E2..E3, X2..X3), a
 *    host NMI, #MC, #DB or #DF handler takes its stack from the guest's TSS
 *    at the host's own IST index: those are real stacks in sw (coop.h);
 *  - the guest's NMI stub, finding that it interrupted this code, only
 *    notes the NMI (sw->nmi_pending) and returns; the host replays it
 *    through its own handler once it is back (run.c).
 *
 * Whether the CPU pushed an error code is read from the stack pointer,
 * never assumed from the vector: the guest may execute `int $N` for any N,
 * and a software interrupt pushes no error code even where the exception
 * of that number does.  In long mode the CPU aligns rsp to 16 bytes before
 * it pushes an interrupt frame, on every stack, so the frame's 5 quadwords
 * leave rsp = 8 (mod 16), with an error code 0 (mod 16).  The stubs tell
 * run.c what they found (COOP_SW_VEC_ERROR); run.c decides whether the
 * exit was an exception, a host interrupt, or a software interrupt.
 *
 *   void coop_sw_run(struct coop_sw *sw);    host -> guest -> host, IF = 0
 *   coop_sw_guest_call                       what the guest calls (hdr.switch_to_host)
 *   coop_sw_stubs[256], coop_sw_nmi/df/mc    its IDT's targets
 */
#include <linux/linkage.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>
#include <asm/page_types.h>
#include <asm/segment.h>
#include <asm/trapnr.h>
#include <coop/kmod.h>
#include "coop-offsets.h"

/* The register block is pt_regs-shaped; the pushes below rely on it. */
.if R_R14 != R_R15 + 8 || R_RDI != R_R15 + 14 * 8 || R_VECTOR != R_RDI + 8
.error "struct coop_kmod_regs: r15 .. rdi must precede vector"
.endif
.if R_ERROR != R_VECTOR + 8 || R_RIP != R_ERROR + 8 || R_SS != R_RIP + 32 || R_SIZE != R_SS + 8
.error "struct coop_kmod_regs: error, then the hardware frame rip .. ss, must end it"
.endif

/* Find struct coop_sw from the loaded GDTR, which is sw->gdt, into \reg. */
.macro SW_FROM_GDTR reg
	leaq	-16(%rsp), %rsp		/* lea: the flags may still be needed */
	sgdt	(%rsp)			/* 2 bytes of limit, then the base */
	movq	2(%rsp), %\reg
	leaq	16(%rsp), %rsp
	leaq	-SW_GDT(%\reg), %\reg
.endm

	.section .coop.switcher, "ax"
	.balign	PAGE_SIZE
SYM_INNER_LABEL(__coop_switcher_start, SYM_L_GLOBAL)

/*
 * void coop_sw_run(struct coop_sw *sw)
 *
 * Called by run.c with interrupts off and sw's host fields filled in for
 * this CPU (coop_segments_host).  Enters the guest with its registers from
 * sw->guest and returns when the guest leaves again, for whatever reason:
 * sw->guest.vector says which.
 */
SYM_FUNC_START(coop_sw_run)
	/* The C caller expects the callee-saved registers back. */
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	/* Flags last: IF = 0 and AC = 0 come back with the popfq at the end. */
	pushfq
	/* The only pointer into the host stack the way back needs. */
	movq	%rsp, SW_HOST_RSP(%rdi)
	/*
	 * E1: the guest's GDT.  This CPU's own but for TR and LDTR, so the
	 * CS and SS we run with stay valid and a host NMI here (host IDT,
	 * host TSS) irets into descriptors it knows.
	 */
	lgdt	SW_GUEST_GDTR(%rdi)
	/*
	 * E2: the guest's TSS, before its IDT and CR3.  A host NMI from here
	 * to E3 still runs the host's handler, on the stack our TSS has at
	 * the host's NMI index.  ltr faults on a busy descriptor, and the
	 * last ltr left ours busy: make it available first.
	 */
	andb	$~0x02, SW_GDT + GDT_ENTRY_TSS * 8 + 5(%rdi)
	movw	$GDT_ENTRY_TSS * 8, %ax
	ltr	%ax
	/*
	 * E3: the guest's IDT.  From here on an NMI reaches coop_sw_nmi, on
	 * its own stack, which sees that it interrupted the switcher and
	 * only notes it.
	 */
	lidt	SW_GUEST_IDTR(%rdi)
	/*
	 * E4: the guest's address space.  PCID 0 without the no-flush bit:
	 * whatever an earlier guest left in the TLB is gone.  This code and
	 * sw are mapped at the same addresses there; the host stack is not,
	 * so no push or call until rsp points into sw.
	 */
	movq	SW_GUEST_CR3(%rdi), %rax
	movq	%rax, %cr3
	/*
	 * An NMI noted during E3..E4 would otherwise wait for the guest's
	 * next exit: go straight back instead, the guest's registers untouched.
	 * (One landing after this check waits for that exit, at most a tick.)
	 */
	cmpb	$0, SW_NMI_PENDING(%rdi)
	jne	.Lnmi_before_entry
	/* The guest's registers, in pt_regs order, end in an iretq frame. */
	leaq	SW_GUEST(%rdi), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	/* Skip vector and error code: rsp now points at the frame rip .. ss. */
	addq	$16, %rsp
	/*
	 * rip, cs, rflags (IF = 1: host interrupts now hit the guest's IDT),
	 * rsp, ss in one instruction: the guest runs.  Its next interrupt
	 * or exception puts its frame right back here (COOP_IST_REGS).
	 */
	iretq

.Lnmi_before_entry:
	/* Leave as if the NMI had hit the guest before its first instruction. */
	movq	$X86_TRAP_NMI, SW_GUEST + R_VECTOR(%rdi)
	/* fall through */

/*
 * The way back, from every exit path: rdi = sw, interrupts off, the guest's
 * registers saved in sw->guest, on a stack the guest maps (IST, or the
 * guest's own for a call).
 */
.Lexit:
	/* A #PF's address, before any host code can fault and replace it. */
	movq	%cr2, %rax
	movq	%rax, SW_CR2(%rdi)
	/*
	 * X1: the host's address space (with PCID: its tagged TLB entries
	 * kept).  TR is still the guest's TSS, whose stacks are in sw, which
	 * the host maps too.
	 */
	movq	SW_HOST_CR3(%rdi), %rax
	movq	%rax, %cr3
	/*
	 * X2: the host's IDT.  From here an NMI runs the host's own handler;
	 * until TR is back it does so on sw->nmi_stack, which sits at the
	 * host's NMI index in the guest's TSS: a real, mapped 8 KiB stack.
	 */
	lidt	SW_HOST_IDTR(%rdi)
	/*
	 * X3: the host's TR.  Its descriptor is busy in the host's read-only
	 * GDT, and ltr wants an available one it can mark busy: the
	 * transition GDT has a writable, available copy (coop_segments_host).
	 * Only base and limit go into TR; which table they came from does
	 * not matter afterwards.
	 */
	lgdt	SW_XGDTR(%rdi)
	movw	$GDT_ENTRY_TSS * 8, %ax
	ltr	%ax
	/* X4: the host's GDT, the read-only one it had: the switch is done. */
	lgdt	SW_HOST_GDTR(%rdi)
	/* The iretq into the guest loaded the guest's SS selector. */
	movq	SW_HOST_SS(%rdi), %rax
	movw	%ax, %ss
	/* The host stack, as coop_sw_run left it. */
	movq	SW_HOST_RSP(%rdi), %rsp
	/*
	 * IF stays 0: run.c first replays what made the guest leave, as if
	 * it had arrived here, and only then lets interrupts in.
	 */
	popfq
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	/* The host's own return (through its return thunk, as all its code). */
	RET
SYM_FUNC_END(coop_sw_run)

/*
 * coop_sw_guest_call: the guest's switch_to_host(save, load) (passage
 * hdr.switch_to_host).  The guest calls it like a C function; its
 * arguments are not needed, sw is found through the GDTR.  The call becomes
 * an exit like any other: its state is saved as an iretq frame that
 * resumes at the return address, so every way back into the guest is
 * the same iretq in coop_sw_run.
 */
SYM_CODE_START(coop_sw_guest_call)
	ENDBR
	/*
	 * Flags before cli: the guest resumes with IF = 1.  An interrupt
	 * before cli is forwarded like any other and the guest resumes at
	 * cli; after it, nothing can reuse sw->guest under us.
	 */
	pushfq
	cli
	pushq	%rax
	SW_FROM_GDTR rax
	leaq	SW_GUEST(%rax), %rax
	/* Every register, so that the resume path can be the common one. */
	movq	%rbx, R_RBX(%rax)
	movq	%rcx, R_RCX(%rax)
	movq	%rdx, R_RDX(%rax)
	movq	%rsi, R_RSI(%rax)
	movq	%rdi, R_RDI(%rax)
	movq	%rbp, R_RBP(%rax)
	movq	%r8, R_R8(%rax)
	movq	%r9, R_R9(%rax)
	movq	%r10, R_R10(%rax)
	movq	%r11, R_R11(%rax)
	movq	%r12, R_R12(%rax)
	movq	%r13, R_R13(%rax)
	movq	%r14, R_R14(%rax)
	movq	%r15, R_R15(%rax)
	popq	R_RAX(%rax)
	popq	R_RFLAGS(%rax)
	/* The return address becomes rip, the stack above it rsp: a ret. */
	popq	R_RIP(%rax)
	movq	%rsp, R_RSP(%rax)
	movq	$__KERNEL_CS, R_CS(%rax)
	movq	$__KERNEL_DS, R_SS(%rax)
	movq	$COOP_KMOD_VEC_CALL, R_VECTOR(%rax)
	movq	$0, R_ERROR(%rax)
	leaq	-SW_GUEST(%rax), %rdi
	jmp	.Lexit
SYM_CODE_END(coop_sw_guest_call)

/* The return address of the guest's entry function: returning is a crash. */
SYM_CODE_START(coop_sw_return_trap)
	ud2
SYM_CODE_END(coop_sw_return_trap)

/*
 * Exits on a stack of their own (NMI, #DF, #MC): copy the hardware frame
 * into sw->guest, then save the rest as the stubs do.  \may_error: the
 * exception pushes an error code (#DF), so `int $\vector` is told from it
 * by the stack pointer (see the top of this file); NMI and #MC push none.
 */
.macro OWN_STACK_EXIT vector, may_error
	.if \may_error
	/* 5 quadwords from a 16-byte aligned top: rsp = 8 (mod 16), no error code. */
	testq	$8, %rsp
	jnz	.Lno_error_\@
	/* The CPU pushed one: the vector goes under it, marked so for run.c. */
	pushq	$(\vector | COOP_SW_VEC_ERROR)
	jmp	.Lframe_\@
.Lno_error_\@:
	.endif
	pushq	$0		/* the same frame shape as with an error code */
	pushq	$\vector	/* unmarked: no error code from the CPU */
.Lframe_\@:
	/* Two scratch registers, kept on this stack until they are saved. */
	pushq	%rax
	pushq	%rdx
	SW_FROM_GDTR rdx
	leaq	SW_GUEST(%rdx), %rdx
	/*
	 * Pop everything this stack holds straight into sw->guest: a pop to
	 * memory addresses through rdx, which the pops do not move.  The
	 * stack is empty again afterwards, ready for the next time.
	 */
	popq	R_RDX(%rdx)
	popq	R_RAX(%rdx)
	popq	R_VECTOR(%rdx)
	popq	R_ERROR(%rdx)
	popq	R_RIP(%rdx)
	popq	R_CS(%rdx)
	popq	R_RFLAGS(%rdx)
	popq	R_RSP(%rdx)
	popq	R_SS(%rdx)
	movq	%rbx, R_RBX(%rdx)
	movq	%rcx, R_RCX(%rdx)
	movq	%rsi, R_RSI(%rdx)
	movq	%rdi, R_RDI(%rdx)
	movq	%rbp, R_RBP(%rdx)
	movq	%r8, R_R8(%rdx)
	movq	%r9, R_R9(%rdx)
	movq	%r10, R_R10(%rdx)
	movq	%r11, R_R11(%rdx)
	movq	%r12, R_R12(%rdx)
	movq	%r13, R_R13(%rdx)
	movq	%r14, R_R14(%rdx)
	movq	%r15, R_R15(%rdx)
	leaq	-SW_GUEST(%rdx), %rdi
	jmp	.Lexit
.endm

/*
 * NMI, on its own stack (COOP_IST_GUEST_NMI).  It may interrupt the guest
 * (forward it like an interrupt) or this very file, between E3 and X2
 * (note it and return: the switch in progress gets the host there, which
 * replays it).  NMIs stay blocked from here to the next iretq - ours, or
 * the host handler's when it is replayed - so this never nests.
 */
SYM_CODE_START(coop_sw_nmi)
	pushq	%rax
	pushq	%rdx
	/*
	 * Interrupted rip - switcher start, compared unsigned: one test for
	 * "inside the switcher".  Only rax and rdx are ours, saved above.
	 */
	movq	16(%rsp), %rax
	leaq	__coop_switcher_start(%rip), %rdx
	subq	%rdx, %rax
	cmpq	$__coop_switcher_end - __coop_switcher_start, %rax
	jae	.Lnmi_guest
	/* The GDTR is the guest's whenever this IDT is loaded. */
	SW_FROM_GDTR rdx
	movb	$1, SW_NMI_PENDING(%rdx)
	popq	%rdx
	popq	%rax
	/* Back into the switch, which brings the host to replay it. */
	iretq
.Lnmi_guest:
	popq	%rdx
	popq	%rax
	OWN_STACK_EXIT X86_TRAP_NMI, 0
SYM_CODE_END(coop_sw_nmi)

/*
 * Double fault, on its own stack: the guest is beyond help; the host says
 * why.  Its error code is always 0, but pushed: `int $8` pushes none.
 */
SYM_CODE_START(coop_sw_df)
	OWN_STACK_EXIT X86_TRAP_DF, 1
SYM_CODE_END(coop_sw_df)

/* Machine check, on its own stack: the host ends the guest and warns. */
SYM_CODE_START(coop_sw_mc)
	OWN_STACK_EXIT X86_TRAP_MC, 0
SYM_CODE_END(coop_sw_mc)

/*
 * Every other vector, on COOP_IST_REGS = the end of sw->guest: the CPU has
 * pushed ss .. rip (and an error code, for some exceptions) into place.
 * Stub v is at coop_sw_stubs + v * COOP_STUB_SIZE (segments.c builds the
 * IDT so).  Every stub is the same two instructions: whether an error
 * code is there is found at run time (.Lstub_common), not by vector.
 */
	.balign	COOP_STUB_SIZE
SYM_CODE_START_NOALIGN(coop_sw_stubs)
	vector = 0
	.rept	256
	pushq	$vector		/* below the frame, or below its error code */
	jmp	.Lstub_common	/* which of the two is found there */
	/* The next stub's slot (and an error if this one outgrew its own). */
	.org	coop_sw_stubs + (vector + 1) * COOP_STUB_SIZE, 0xcc
	vector = vector + 1
	.endr
SYM_CODE_END(coop_sw_stubs)

.Lstub_common:
	/*
	 * The CPU aligned rsp to 16 bytes (the end of sw->guest, which is
	 * aligned anyway), pushed 5 quadwords and maybe an error code; the
	 * stub pushed the vector.  6 quadwords below an aligned top leave
	 * rsp = 0 (mod 16): no error code; 7 leave 8: the CPU pushed one.
	 * The flags are free to use: the CPU saved the guest's in the frame.
	 */
	testq	$8, %rsp
	jnz	.Lstub_error
	/*
	 * No error code (an interrupt, most exceptions, any `int $N`): the
	 * vector sits in the error code's slot.  Copy it one slot down (a
	 * push from (%rsp) reads before it moves rsp) and put 0 in its place.
	 */
	pushq	(%rsp)
	movq	$0, 8(%rsp)
	jmp	.Lstub_save
.Lstub_error:
	/* The CPU pushed an error code: tell run.c, which checks the vector has one. */
	orq	$COOP_SW_VEC_ERROR, (%rsp)
.Lstub_save:
	/*
	 * rsp = &sw->guest.vector.  No register is free yet, but the stack
	 * is sw->guest itself: pushing in reverse pt_regs order saves each
	 * register in its own slot, rdi first, r15 last.
	 */
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	/* rsp = &sw->guest, SW_GUEST bytes into sw. */
	leaq	-SW_GUEST(%rsp), %rdi
	jmp	.Lexit

	.balign	PAGE_SIZE, 0xcc
SYM_INNER_LABEL(__coop_switcher_end, SYM_L_GLOBAL)
