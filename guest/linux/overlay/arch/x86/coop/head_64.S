/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coop_startup_64: where coop's kmod module enters this kernel (its
 * LOAD_LINUX), and the .note.coop notes that tell the monitor so.
 *
 * Entry state: 64-bit ring 0, IF = 0, %rsi = physical address of struct
 * boot_params, %rsp unusable.  CR3 holds the module's tables: this image
 * at its link address, all guest RAM at the direct map's base, and the
 * switcher window.  GDT, IDT and TSS are the module's, with Linux's
 * selector layout, so a fault before our own IDT is coop's crash report.
 * Unlike startup_64 there is no identity map and nothing here touches
 * CR0, CR4, EFER or the page tables: coop_start_kernel() does the rest.
 */
#include <linux/linkage.h>
#include <linux/init.h>
#include <linux/elfnote.h>
#include <asm/msr-index.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>
#include <coop/abi.h>

	__INIT
	.code64
SYM_CODE_START_NOALIGN(coop_startup_64)
	UNWIND_HINT_EMPTY
	/*
	 * The boot stack, as secondary_startup_64 takes it: the top of
	 * init_thread_union less the FRAME_SIZE gap the unwinder expects.
	 * We run at the link address, so initial_stack needs no fix-up.
	 */
	movq	initial_stack(%rip), %rsp

	/*
	 * Our own GDT, as secondary_startup_64 loads it (early_gdt_descr:
	 * gdt_page, with the module's selector layout): trap_init() writes
	 * our TSS descriptor into gdt_page and loads TR from the GDT loaded
	 * then.  The data segments are reloaded from it (a null selector, as
	 * secondary_startup_64 has, except SS), CS by the far return below;
	 * TR keeps the module's TSS until trap_init().  Before the GS base:
	 * loading %gs clears it.
	 */
	lgdt	early_gdt_descr(%rip)
	xorl	%eax, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	$__KERNEL_DS, %eax
	movl	%eax, %ss
	pushq	$__KERNEL_CS
	leaq	.Lcoop_new_cs(%rip), %rax
	pushq	%rax
	lretq
.Lcoop_new_cs:
	UNWIND_HINT_EMPTY

	/*
	 * GS base: fixed_percpu_data (the stack protector canary at
	 * %gs:40), as secondary_startup_64 sets it from initial_gs.
	 */
	movl	$MSR_GS_BASE, %ecx
	movl	initial_gs(%rip), %eax
	movl	initial_gs+4(%rip), %edx
	wrmsr

	/* Flags as startup code wants them: DF and AC clear, IF stays 0. */
	pushq	$0
	popfq

	/*
	 * coop_start_kernel(boot_params physical address) never returns
	 * (objtool knows, patch 0004): start_kernel() does not, and it ends
	 * in ud2 itself, never in hlt.
	 */
	movq	%rsi, %rdi
	xorl	%ebp, %ebp
	call	coop_start_kernel
SYM_CODE_END(coop_startup_64)

/*
 * The notes the monitor reads (PT_NOTE; the linker puts every .note.*
 * section into vmlinux's .notes): the coop ABI this kernel speaks, and its
 * entry, whose presence makes the monitor boot it with Linux's protocol.
 */
	ELFNOTE(coop, COOP_NOTE_TYPE_ABI, .long COOP_ABI_MAJOR; .long COOP_ABI_MINOR)
	ELFNOTE(coop, COOP_NOTE_TYPE_LINUX_ENTRY, .quad coop_startup_64)
