/* SPDX-License-Identifier: MIT */
/*
 * switch_regs.S - register-level halves of tests/unit/shim/test_switch.c:
 * load known values into every register a switch mode promises to keep,
 * switch, and record what is there when we are resumed.  Written in
 * assembly because C cannot pin values in registers across a call.
 * Inputs and outputs go through globals defined in test_switch.c.
 */
#include <coop/asm-offsets.h>

#define FLAG_FULL 1 /* full mode: caller-saved GPRs, rflags, FS/GS base too */
#define FLAG_AVX 2  /* ymm0-15 (full mode only) */

/* Record every register into the coop_cpu_context that \out points to. */
.macro RECORD out, vec
	pushfq				/* before anything changes the flags */
	movq	%rax, test_scratch(%rip)
	movq	\out(%rip), %rax
	popq	CTX_RFLAGS(%rax)
	movq	%rbx, CTX_RBX(%rax)
	movq	%rbp, CTX_RBP(%rax)
	movq	%r12, CTX_R12(%rax)
	movq	%r13, CTX_R13(%rax)
	movq	%r14, CTX_R14(%rax)
	movq	%r15, CTX_R15(%rax)
	movq	%rcx, CTX_RCX(%rax)
	movq	%rdx, CTX_RDX(%rax)
	movq	%rsi, CTX_RSI(%rax)
	movq	%rdi, CTX_RDI(%rax)
	movq	%r8, CTX_R8(%rax)
	movq	%r9, CTX_R9(%rax)
	movq	%r10, CTX_R10(%rax)
	movq	%r11, CTX_R11(%rax)
	movq	test_scratch(%rip), %rcx
	movq	%rcx, CTX_RAX(%rax)
	stmxcsr	CTX_MXCSR(%rax)
	fnstcw	CTX_FPU_CW(%rax)
	testl	$FLAG_FULL, test_flags(%rip)
	jz	1f
	rdfsbase %rcx
	movq	%rcx, CTX_FS_BASE(%rax)
	rdgsbase %rcx
	movq	%rcx, CTX_GS_BASE(%rax)
1:	testl	$FLAG_AVX, test_flags(%rip)
	jz	2f
	movq	\vec(%rip), %rcx
	vmovdqu	%ymm0, 0*32(%rcx)
	vmovdqu	%ymm1, 1*32(%rcx)
	vmovdqu	%ymm2, 2*32(%rcx)
	vmovdqu	%ymm3, 3*32(%rcx)
	vmovdqu	%ymm4, 4*32(%rcx)
	vmovdqu	%ymm5, 5*32(%rcx)
	vmovdqu	%ymm6, 6*32(%rcx)
	vmovdqu	%ymm7, 7*32(%rcx)
	vmovdqu	%ymm8, 8*32(%rcx)
	vmovdqu	%ymm9, 9*32(%rcx)
	vmovdqu	%ymm10, 10*32(%rcx)
	vmovdqu	%ymm11, 11*32(%rcx)
	vmovdqu	%ymm12, 12*32(%rcx)
	vmovdqu	%ymm13, 13*32(%rcx)
	vmovdqu	%ymm14, 14*32(%rcx)
	vmovdqu	%ymm15, 15*32(%rcx)
2:
.endm

/*
 * Load the pattern that \in points to (vectors from \vec), then call the
 * switch with %rdi = \save and %rsi = \load.  The flags and %rax are
 * loaded last: nothing after them changes either.
 */
.macro LOAD_AND_SWITCH in, vec, save, load
	testl	$FLAG_AVX, test_flags(%rip)
	jz	1f
	movq	\vec(%rip), %rcx
	vmovdqu	0*32(%rcx), %ymm0
	vmovdqu	1*32(%rcx), %ymm1
	vmovdqu	2*32(%rcx), %ymm2
	vmovdqu	3*32(%rcx), %ymm3
	vmovdqu	4*32(%rcx), %ymm4
	vmovdqu	5*32(%rcx), %ymm5
	vmovdqu	6*32(%rcx), %ymm6
	vmovdqu	7*32(%rcx), %ymm7
	vmovdqu	8*32(%rcx), %ymm8
	vmovdqu	9*32(%rcx), %ymm9
	vmovdqu	10*32(%rcx), %ymm10
	vmovdqu	11*32(%rcx), %ymm11
	vmovdqu	12*32(%rcx), %ymm12
	vmovdqu	13*32(%rcx), %ymm13
	vmovdqu	14*32(%rcx), %ymm14
	vmovdqu	15*32(%rcx), %ymm15
1:	movq	\in(%rip), %rax
	movq	CTX_RBX(%rax), %rbx
	movq	CTX_RBP(%rax), %rbp
	movq	CTX_R12(%rax), %r12
	movq	CTX_R13(%rax), %r13
	movq	CTX_R14(%rax), %r14
	movq	CTX_R15(%rax), %r15
	ldmxcsr	CTX_MXCSR(%rax)
	fldcw	CTX_FPU_CW(%rax)
	movq	\save(%rip), %rdi
	movq	\load(%rip), %rsi
	testl	$FLAG_FULL, test_flags(%rip)
	jz	2f
	movq	CTX_FS_BASE(%rax), %rcx
	wrfsbase %rcx
	movq	CTX_GS_BASE(%rax), %rcx
	wrgsbase %rcx
	movq	CTX_RCX(%rax), %rcx
	movq	CTX_RDX(%rax), %rdx
	movq	CTX_R9(%rax), %r9
	movq	CTX_R10(%rax), %r10
	movq	CTX_R11(%rax), %r11
	movq	CTX_R8(%rax), %r8
	pushq	CTX_RFLAGS(%rax)
	popfq
	movq	CTX_RAX(%rax), %rax
2:	call	*test_fn(%rip)
.endm

	.text

/* void test_regs_host(void): one host-side round trip with a pattern. */
	.globl	test_regs_host
	.type	test_regs_host, @function
test_regs_host:
	.cfi_startproc
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	subq	$24, %rsp		/* MXCSR, FCW, GS base; keeps rsp 16-aligned */
	.cfi_adjust_cfa_offset 24
	stmxcsr	0(%rsp)
	fnstcw	4(%rsp)
	LOAD_AND_SWITCH test_in, test_vec_in, test_self, test_other
	RECORD test_out, test_vec_out
	/* Put back what C code relies on: MXCSR, FCW, GS base, no upper ymm state. */
	ldmxcsr	0(%rsp)
	fldcw	4(%rsp)
	testl	$FLAG_FULL, test_flags(%rip)
	jz	1f
	movq	test_host_gs(%rip), %rax
	wrgsbase %rax
1:	testl	$FLAG_AVX, test_flags(%rip)
	jz	2f
	vzeroupper
2:	addq	$24, %rsp
	.cfi_adjust_cfa_offset -24
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	test_regs_host, .-test_regs_host

/*
 * The other side's entry: load its own pattern, switch back to the host;
 * when resumed, record what it finds and switch back once more.
 */
	.globl	test_regs_other
	.type	test_regs_other, @function
test_regs_other:
	.cfi_startproc
	LOAD_AND_SWITCH test_in_other, test_vec_in_other, test_other, test_self
	RECORD test_out_other, test_vec_out_other
	movq	test_other(%rip), %rdi
	movq	test_self(%rip), %rsi
	call	*test_fn(%rip)
	ud2				/* never resumed a third time */
	.cfi_endproc
	.size	test_regs_other, .-test_regs_other

	.section .note.GNU-stack, "", @progbits
