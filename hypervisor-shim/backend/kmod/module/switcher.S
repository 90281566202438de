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
 *  - while the host's IDT is loaded, TR is the host's TSS or the module's,
 *    whose stacks at the host's IST indices are real (coop.h), and GS
 *    base is the host's (its NMI entry trusts a kernel-looking GS base);
 *  - while the module's IDT is loaded, TR is the module's TSS or a Linux
 *    guest's, and both have the module's stacks at COOP_IST_GUEST_NMI and
 *    COOP_IST_REGS, the only two its gates use;
 *  - the NMI stub finds struct coop_sw from its own stack pointer (its
 *    stack is in sw), never from a register or a descriptor table; the
 *    other stubs' frames land in sw->guest itself;
 *  - the NMI stub, finding that it interrupted this code, only notes the
 *    NMI (sw->nmi_pending) and returns; the host replays it through its
 *    own handler once it is back (run.c);
 *  - CR4.PGE is off whenever the guest's CR3 is loaded: no global host
 *    translation survives into the guest's address space (the CR4 write
 *    that clears PGE flushes them all; the one that sets it again
 *    flushes whatever the guest left).
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
 *   coop_sw_calls[slot]                      what the guest calls (hdr.switch_to_host)
 *   coop_sw_stubs[256], coop_sw_nmi          the module IDT's targets (a Linux
 *                                            guest's at vectors 2 and 18)
 */
#include <linux/linkage.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>
#include <asm/page_types.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
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

/* wrmsr \msr from the 8 bytes at \mem (rcx, rax, rdx clobbered). */
.macro WRMSR_FROM msr, mem
	movl	$\msr, %ecx
	movl	\mem, %eax
	movl	4+\mem, %edx
	wrmsr
.endm

/* rdmsr \msr into the 8 bytes at \mem (rcx, rax, rdx clobbered). */
.macro RDMSR_TO msr, mem
	movl	$\msr, %ecx
	rdmsr
	movl	%eax, \mem
	movl	%edx, 4+\mem
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
	 * E1: the transition GDT (the host's, but for the module's TSS) and
	 * the module's TSS.  CS and SS we run with stay valid, and a host NMI
	 * here (host IDT) runs on the stack our TSS has at its NMI index.
	 * ltr faults on a busy descriptor, and the last ltr left ours busy:
	 * make it available first.
	 */
	lgdt	SW_TGDTR(%rdi)
	andb	$~0x02, SW_GDT + GDT_ENTRY_TSS * 8 + 5(%rdi)
	movw	$GDT_ENTRY_TSS * 8, %ax
	ltr	%ax
	/*
	 * E2: the module's IDT.  From here on an NMI reaches coop_sw_nmi, on
	 * its own stack, which sees that it interrupted the switcher and
	 * only notes it.
	 */
	lidt	SW_MIDTR(%rdi)
	/*
	 * E3: the guest's CR4, PGE off: every global host translation goes
	 * (run.c cleared PGE and kept what the guest may not change), then
	 * the guest's address space.  This code and sw are mapped at the
	 * same addresses there; the host stack is not, so no push or call
	 * until rsp points into sw.
	 */
	movq	SW_GUEST_CR4(%rdi), %rax
	movq	%rax, %cr4
	movq	SW_GUEST_CR3(%rdi), %rax
	movq	%rax, %cr3
	cmpb	$0, SW_OWN_STATE(%rdi)
	je	.Lentry_done
	/*
	 * E4: a guest that owns its state gets its TSS (from a copy of its
	 * descriptor, available, in a transition GDT: its own GDT may be
	 * read-only, as Linux's is, and has it busy), then its own GDT.
	 */
	lgdt	SW_GGDTR(%rdi)
	movw	SW_GUEST_TR(%rdi), %ax
	ltr	%ax
	lgdt	SW_GUEST_GDTR(%rdi)
	/* E5: its selectors, then its bases (a selector load may clear one). */
	movw	SW_GUEST_SEL + 0(%rdi), %ds
	movw	SW_GUEST_SEL + 2(%rdi), %es
	movw	SW_GUEST_SEL + 4(%rdi), %fs
	movw	SW_GUEST_SEL + 6(%rdi), %gs
	WRMSR_FROM MSR_FS_BASE, SW_GUEST_FS_BASE(%rdi)
	WRMSR_FROM MSR_GS_BASE, SW_GUEST_GS_BASE(%rdi)
	WRMSR_FROM MSR_KERNEL_GS_BASE, SW_GUEST_KERNEL_GS_BASE(%rdi)
	/* E6: its IDT, whose NMI and #MC gates are ours (abi.h, boot.kmod). */
	lidt	SW_GUEST_IDTR(%rdi)
.Lentry_done:
	/*
	 * An NMI noted during E2..E6 would otherwise wait for the guest's
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
	/*
	 * Leave as if the NMI had hit the guest before its first
	 * instruction: one NMI, so the note goes (run.c replays a noted NMI
	 * and one that hit the guest each, and this is not two).
	 */
	movb	$0, SW_NMI_PENDING(%rdi)
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
	cmpb	$0, SW_OWN_STATE(%rdi)
	je	.Lexit_tables
	/* X0: the module's IDT (the guest's, saved first), whose NMI gate notes and returns. */
	sidt	SW_GUEST_IDTR(%rdi)
	lidt	SW_MIDTR(%rdi)
	/*
	 * X1: everything else of the guest's the next entry loads again:
	 * GDT, TR and its descriptor (read through the guest's own GDT,
	 * which its CR3 maps), CR3, CR4, selectors, bases.
	 */
	sgdt	SW_GUEST_GDTR(%rdi)
	str	SW_GUEST_TR(%rdi)
	movzwl	SW_GUEST_TR(%rdi), %eax
	andl	$~7, %eax
	addq	SW_GUEST_GDTR + 2(%rdi), %rax
	movq	(%rax), %rdx
	movq	%rdx, SW_EXIT_TSSD(%rdi)
	movq	8(%rax), %rdx
	movq	%rdx, SW_EXIT_TSSD + 8(%rdi)
	movq	%cr3, %rax
	movq	%rax, SW_GUEST_CR3(%rdi)
	movq	%cr4, %rax
	movq	%rax, SW_GUEST_CR4(%rdi)
	movw	%ds, SW_GUEST_SEL + 0(%rdi)
	movw	%es, SW_GUEST_SEL + 2(%rdi)
	movw	%fs, SW_GUEST_SEL + 4(%rdi)
	movw	%gs, SW_GUEST_SEL + 6(%rdi)
	RDMSR_TO MSR_FS_BASE, SW_GUEST_FS_BASE(%rdi)
	RDMSR_TO MSR_GS_BASE, SW_GUEST_GS_BASE(%rdi)
	RDMSR_TO MSR_KERNEL_GS_BASE, SW_GUEST_KERNEL_GS_BASE(%rdi)
	/* X2: the transition GDT and the module's TSS, as at E1. */
	lgdt	SW_TGDTR(%rdi)
	andb	$~0x02, SW_GDT + GDT_ENTRY_TSS * 8 + 5(%rdi)
	movw	$GDT_ENTRY_TSS * 8, %ax
	ltr	%ax
.Lexit_tables:
	/*
	 * X3: the host's CR4 (PGE on again: whatever the guest left in the
	 * TLB goes), then its address space (with PCID: no flush asked).
	 * TR is the module's TSS, whose stacks are in sw, which the host
	 * maps too.
	 */
	movq	SW_HOST_CR4(%rdi), %rax
	movq	%rax, %cr4
	movq	SW_HOST_CR3(%rdi), %rax
	movq	%rax, %cr3
	/*
	 * X4: the host's selectors and GS base, before its IDT: from the
	 * lidt on, an NMI, #DB or #MC runs the host's handler, whose entry
	 * takes a kernel-looking GS base for the host's per-CPU base.  FS
	 * and the inactive GS base only matter to user space: run.c.
	 */
	movw	SW_HOST_SEL + 0(%rdi), %ds
	movw	SW_HOST_SEL + 2(%rdi), %es
	movw	SW_HOST_SEL + 4(%rdi), %fs
	movw	SW_HOST_SEL + 6(%rdi), %gs
	WRMSR_FROM MSR_GS_BASE, SW_HOST_GS_BASE(%rdi)
	/*
	 * The host's IDT.  Until TR is back, a host NMI runs on
	 * sw->nmi_stack, at the host's NMI index in the module's TSS.
	 */
	lidt	SW_HOST_IDTR(%rdi)
	/*
	 * The host's TR.  Its descriptor is busy in the host's read-only
	 * GDT, and ltr wants an available one it can mark busy: the
	 * transition GDT has a writable, available copy (coop_segments_host).
	 * Only base and limit go into TR; which table they came from does
	 * not matter afterwards.
	 */
	lgdt	SW_XGDTR(%rdi)
	movw	$GDT_ENTRY_TSS * 8, %ax
	ltr	%ax
	/* The host's GDT, the read-only one it had: the switch is done. */
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
 * coop_sw_calls: slot i's switch_to_host(save, load) (passage
 * hdr.switch_to_host), at coop_sw_calls + i * COOP_CALL_SIZE.  The guest
 * calls it like a C function; its arguments are not needed: each entry
 * knows its slot's struct coop_sw (nothing the guest loaded - GDT, GS
 * base - can be trusted to find it).  The call becomes an exit like any
 * other: its state is saved as an iretq frame that resumes at the return
 * address, so every way back into the guest is the same iretq in
 * coop_sw_run.
 *
 * Flags before cli: the guest resumes with the IF it had.  An interrupt
 * before cli reaches the guest's IDT as any other; after it, nothing can
 * reuse sw->guest under us.
 */
	.balign	COOP_CALL_SIZE
SYM_CODE_START_NOALIGN(coop_sw_calls)
	slot = 0
	.rept	COOP_MAX_VMS
	ENDBR
	pushfq
	cli
	pushq	%rax
	movabs	$coop_sw_pool + slot * SW_SIZE, %rax
	jmp	.Lguest_call
	.org	coop_sw_calls + (slot + 1) * COOP_CALL_SIZE, 0xcc
	slot = slot + 1
	.endr
SYM_CODE_END(coop_sw_calls)

/* rax = sw; on the guest's stack: its rax, then its flags. */
.Lguest_call:
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
	/* The guest's own CS and SS (a Linux guest's GDT may differ). */
	movq	$0, R_CS(%rax)
	movw	%cs, R_CS(%rax)
	movq	$0, R_SS(%rax)
	movw	%ss, R_SS(%rax)
	movq	$COOP_KMOD_VEC_CALL, R_VECTOR(%rax)
	movq	$0, R_ERROR(%rax)
	leaq	-SW_GUEST(%rax), %rdi
	jmp	.Lexit

/* The return address of the guest's entry function: returning is a crash. */
SYM_CODE_START(coop_sw_return_trap)
	ud2
SYM_CODE_END(coop_sw_return_trap)

/*
 * The NMI's exit, on the stub's own stack: copy the hardware frame into
 * sw->guest, then save the rest as the stubs do.  The CPU put the frame
 * at the top of COOP_IST_GUEST_NMI, sw->guest_nmi_stack's end: sw is a
 * fixed distance above the stack pointer.
 */
.macro NMI_EXIT
	pushq	$0		/* the same frame shape as with an error code */
	pushq	$X86_TRAP_NMI	/* unmarked: no error code from the CPU */
	/* Two scratch registers, kept on this stack until they are saved. */
	pushq	%rax
	pushq	%rdx
	/* rdx, rax, vector, error and the 5-quadword frame below the top. */
	leaq	9 * 8 - SW_GUEST_NMI_TOP + SW_GUEST(%rsp), %rdx
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
 * (forward it like an interrupt) or this very file, between E2 and X4
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
	/* The frame (5 quadwords) and our two pushes below sw's stack top. */
	leaq	7 * 8 - SW_GUEST_NMI_TOP(%rsp), %rdx
	movb	$1, SW_NMI_PENDING(%rdx)
	popq	%rdx
	popq	%rax
	/* Back into the switch, which brings the host to replay it. */
	iretq
.Lnmi_guest:
	popq	%rdx
	popq	%rax
	NMI_EXIT
SYM_CODE_END(coop_sw_nmi)

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
