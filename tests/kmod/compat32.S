/* SPDX-License-Identifier: MIT */
/*
 * compat32.S - a user program for the Linux guest's tests: it enters
 * 32-bit mode (the GDT's __USER32_CS) and executes SYSCALL (`compat32
 * syscall`) or SYSENTER (`compat32 sysenter`) there.  Under coop these
 * must be the guest's business: SYSCALL enters the guest's CSTAR entry
 * (Linux without IA32_EMULATION: ignore_sysret, -ENOSYS), and the program
 * exits 0 when that came back (`compat32 jump`: to 32-bit mode and back
 * only, exit 0); SYSENTER faults in the guest (SYSENTER_CS
 * is 0: #GP, SIGSEGV; #UD, SIGILL, where the CPU has no SYSENTER in long
 * mode).  Never may either enter the host's kernel.  Exit 1: SYSCALL came
 * back with something else; 2: usage.  Static, not PIE: its code lies
 * below 4 GiB, where 32-bit code can run it.
 * Build: gcc -nostdlib -static -no-pie -o compat32 compat32.S
 */
#define USER32_CS 0x23 /* GDT_ENTRY_DEFAULT_USER32_CS * 8 + 3 */
#define USER_CS 0x33   /* GDT_ENTRY_DEFAULT_USER_CS * 8 + 3 */
#define ENOSYS 38

	.text
	.globl _start
_start:
	cmpq $2, (%rsp)            /* argc */
	jne usage
	movq 16(%rsp), %rsi        /* argv[1]: "syscall", "sysenter" or "jump" */
	movzbl 3(%rsi), %ebx       /* 'c', 'e' or 'p' */
	cmpb $'c', %bl
	je 1f
	cmpb $'e', %bl
	je 1f
	cmpb $'p', %bl
	jne usage
	/*
	 * A far jump through memory, not lretq: QEMU 7.2's TCG pops lretq's
	 * frame as a supervisor access, which SMAP faults in the kernel.
	 */
1:	ljmpl *to_compat(%rip)

	.code32
compat:
	movl $-ENOSYS, %eax
	cmpb $'p', %bl
	je 3f
	cmpb $'e', %bl
	je 2f
	movl $-1, %eax
	syscall                    /* back here by sysretl, eax = the result */
	ljmp $USER_CS, $long_again
2:	sysenter                   /* faults: the program ends by a signal */
3:	ljmp $USER_CS, $long_again

	.code64
long_again:
	movl $1, %edi
	cmpl $-ENOSYS, %eax
	jne exit
	xorl %edi, %edi
exit:
	movl $60, %eax             /* exit(edi) */
	syscall
usage:
	movl $2, %edi
	jmp exit

	.section .rodata
to_compat:
	.long compat               /* m16:32: offset, then selector */
	.word USER32_CS

	.section .note.GNU-stack, "", @progbits
