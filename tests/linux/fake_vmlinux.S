/* SPDX-License-Identifier: MIT */
/*
 * fake_vmlinux.S - a stand-in for guest/linux's vmlinux, for the tests
 * that run without a module (tests/unit/shim/test_linux.c,
 * tests/integration/linux_refused.sh): Linux's segment layout (text, data,
 * .data..percpu at virtual address 0, an RWX init+bss segment; link
 * addresses 0xffffffff81000000, physical 0x1000000) and the .note.coop
 * LINUX_ENTRY note naming coop_startup_64.  It is never run.  With
 * -DFAKE_NO_LOAD: the note alone (a file without PT_LOAD).
 * Linked with fake_vmlinux.ld.S (tests/CMakeLists.txt).
 */
#include <coop/abi.h>

#ifdef FAKE_NO_LOAD
#define ENTRY_VA 0xffffffff81202000
#else
#define ENTRY_VA coop_startup_64

	.section .text, "ax"
	.globl _start_text
_start_text:
	.fill 0x100, 1, 0xc3		/* recognisable bytes: ret */

	.section .data, "aw"
	.globl fake_data
fake_data:
	.fill 0x80, 1, 0x5a

	.section .data..percpu, "aw"
	.fill 0x40, 1, 0x77

	.section .init.text, "ax"
	.globl coop_startup_64
	.type coop_startup_64, @function	/* a crash report names it */
coop_startup_64:
	ud2				/* never run */
	.size coop_startup_64, . - coop_startup_64

	.section .bss, "aw", @nobits
	.skip 0x10000
#endif

	/* As the Linux guest carries it: name "coop", type LINUX_ENTRY, desc the entry's VA. */
	.section .note.coop, "a", @note
	.balign 4
	.long 2f - 1f			/* n_namesz */
	.long 4f - 3f			/* n_descsz */
	.long COOP_NOTE_TYPE_LINUX_ENTRY
1:	.asciz COOP_NOTE_NAME
2:	.balign 4
3:	.quad ENTRY_VA
4:	.balign 4

	.section .note.GNU-stack, "", @progbits
