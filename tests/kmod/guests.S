/* SPDX-License-Identifier: MIT */
/*
 * guests.S - ring-0 test guests for kmod_ioctl.c, position independent:
 * the test copies each to its guest's first code byte and finds its data
 * page one page above (guests.h).  They call the switch as a C function
 * through the address the test left at P_SWITCH.
 *
 *   cpu_state_guest   (LOAD) records the CPU state it runs with, leaves
 *   mce_guest         (LOAD) says it spins (P_INT3 = 1), spins P_DEADLINE
 *                     TSC cycles with interrupts off (only an NMI or a
 *                     machine check gets in), leaves
 *   tripwire_guest    (LOAD_LINUX) changes an MSR it must leave alone
 *                     (SYSCALL_MASK: CF, harmless), leaves, reads it again
 *   switch_loop_guest (LOAD_LINUX) with GS and FS bases that are no
 *                     kernel's, P_DEADLINE null round trips (NOP), leaves
 *   own_state_guest   (LOAD_LINUX) loads its own GDT, TSS and IDT, sets
 *                     its segment bases, and checks after each switch that
 *                     they are still its own; FORWARD; a breakpoint its
 *                     own IDT takes
 */
#include "guests.h"

#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Passage offsets (coop/abi.h, checked by kmod_ioctl.c). */
#define OP_CODE 0x440
#define OP_RESULT 0x444
#define OP_VECTOR 0x448
#define OP_SEQ (0x440 + 520)

.macro RDMSR_TO msr, off
	movl	$\msr, %ecx
	rdmsr
	movl	%eax, \off(%rbx)
	movl	%edx, \off + 4(%rbx)
.endm

/* The operation @code from the passage at r12 (its params set already). */
.macro OP code
	movl	$\code, OP_CODE(%r12)
	incq	OP_SEQ(%r12)
	call	*P_SWITCH(%rbx)
.endm

/* The tables and control registers that must survive switches, to these fields. */
.macro TABLES cr3, cr4, gdtr, idtr, tr
	movq	%cr3, %rax
	movq	%rax, \cr3(%rbx)
	movq	%cr4, %rax
	movq	%rax, \cr4(%rbx)
	sgdt	\gdtr(%rbx)
	sidt	\idtr(%rbx)
	str	%eax
	movq	%rax, \tr(%rbx)
.endm

.macro WRMSR_IMM msr, value
	movl	$\msr, %ecx
	movl	$\value, %eax
	xorl	%edx, %edx
	wrmsr
.endm

/* What both record on their first entry; rbx = the data page. */
.macro PROBE
	movl	%cs, %eax
	movq	%rax, P_CS(%rbx)
	movl	%ss, %eax
	movq	%rax, P_SS(%rbx)
	movq	%cr0, %rax
	movq	%rax, P_CR0(%rbx)
	TABLES P_CR3, P_CR4, P_GDTR, P_IDTR, P_TR
	pushfq
	popq	P_RFLAGS(%rbx)
	RDMSR_TO MSR_EFER, P_EFER
	RDMSR_TO MSR_GS_BASE, P_GS_BASE
.endm

	.section .rodata.guests, "a"

	.globl	cpu_state_guest, cpu_state_guest_end
cpu_state_guest:
	leaq	cpu_state_guest + PROBE_DATA(%rip), %rbx
	PROBE
	/* A GS base of its own: the host must get its own back. */
	WRMSR_IMM MSR_GS_BASE, OWN_GS_BASE
	call	*P_SWITCH(%rbx)
1:	jmp	1b
cpu_state_guest_end:

	.globl	mce_guest, mce_guest_end
mce_guest:
	leaq	mce_guest + PROBE_DATA(%rip), %rbx
	cli
	/* Say so (P_INT3 serves as the flag): the test asks for the check only then. */
	movq	$1, P_INT3(%rbx)
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, %rsi
	addq	P_DEADLINE(%rbx), %rsi
1:	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	cmpq	%rsi, %rax
	jb	1b
	sti
	call	*P_SWITCH(%rbx)
2:	jmp	2b
mce_guest_end:

	.globl	tripwire_guest, tripwire_guest_end
tripwire_guest:
	leaq	tripwire_guest + PROBE_DATA(%rip), %rbx
	leaq	tripwire_guest + OWN_STACK(%rip), %rsp
	movl	$0xc0000084, %ecx
	rdmsr
	xorl	$1, %eax
	wrmsr
	movl	%eax, P_MSR_GUEST(%rbx)
	movl	%edx, P_MSR_GUEST + 4(%rbx)
	movq	P_PASSAGE(%rbx), %r12
	OP 8
	RDMSR_TO 0xc0000084, P_MSR_AFTER
	OP 4
1:	jmp	1b
tripwire_guest_end:

	.globl	switch_loop_guest, switch_loop_guest_end
switch_loop_guest:
	leaq	switch_loop_guest + PROBE_DATA(%rip), %rbx
	leaq	switch_loop_guest + OWN_STACK(%rip), %rsp
	/* A user-looking GS base: a host NMI entry must never see it. */
	WRMSR_IMM MSR_GS_BASE, OWN_GS_BASE
	WRMSR_IMM MSR_FS_BASE, OWN_FS_BASE
	WRMSR_IMM MSR_KERNEL_GS_BASE, OWN_KGS_BASE
	movq	P_PASSAGE(%rbx), %r12
	movq	P_DEADLINE(%rbx), %r13
1:	OP 8
	decq	%r13
	jnz	1b
	RDMSR_TO MSR_GS_BASE, P_GS_BASE_2
	OP 4
2:	jmp	2b
switch_loop_guest_end:

	.globl	own_state_guest, own_state_guest_end
own_state_guest:
	leaq	own_state_guest + PROBE_DATA(%rip), %rbx
	leaq	own_state_guest + OWN_STACK(%rip), %rsp
	PROBE
	/* Its own tables (the test wrote them): GDT, TSS, IDT. */
	leaq	own_state_guest + OWN_GDT(%rip), %rax
	subq	$16, %rsp
	movw	$16 * 8 - 1, (%rsp)
	movq	%rax, 2(%rsp)
	lgdt	(%rsp)
	leaq	own_state_guest + OWN_IDT(%rip), %rax
	movw	$256 * 16 - 1, (%rsp)
	movq	%rax, 2(%rsp)
	lidt	(%rsp)
	addq	$16, %rsp
	movw	$0x40, %ax
	ltr	%ax
	/* Its own segment bases. */
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	WRMSR_IMM MSR_FS_BASE, OWN_FS_BASE
	WRMSR_IMM MSR_GS_BASE, OWN_GS_BASE
	WRMSR_IMM MSR_KERNEL_GS_BASE, OWN_KGS_BASE
	/* A switch (NOP: served in user space), then what survived it. */
	movq	P_PASSAGE(%rbx), %r12
	OP 8
	TABLES P_CR3_2, P_CR4_2, P_GDTR_2, P_IDTR_2, P_TR_2
	RDMSR_TO MSR_FS_BASE, P_FS_BASE_2
	RDMSR_TO MSR_GS_BASE, P_GS_BASE_2
	RDMSR_TO MSR_KERNEL_GS_BASE, P_KGS_BASE_2
	/* FORWARD of a vector the host never raised: refused, nothing replayed. */
	movl	$0x31, OP_VECTOR(%r12)
	OP 9
	movslq	OP_RESULT(%r12), %rax
	movq	%rax, P_FORWARD(%rbx)
	/* A breakpoint: its own IDT's handler counts it. */
	int3
	int3
	/* Done: TERMINATE, which the test serves by not running it again. */
	OP 4
2:	jmp	2b

	.globl	own_state_int3
own_state_int3:
	pushq	%rax
	leaq	own_state_guest + PROBE_DATA(%rip), %rax
	incq	P_INT3(%rax)
	popq	%rax
	iretq
own_state_guest_end:

	.section .note.GNU-stack, "", @progbits
