/* SPDX-License-Identifier: MIT */
/*
 * fake_vmlinux.ld.S - the fake vmlinux's linker script (see fake_vmlinux.S),
 * after arch/x86/kernel/vmlinux.lds.S: LOAD_OFFSET 0xffffffff80000000, so
 * virtual 0xffffffff81000000 is physical 0x1000000; .data..percpu linked at
 * 0 (PERCPU_VADDR).  With -DFAKE_NO_LOAD: the note in a PT_NOTE segment,
 * nothing else.
 */
#define LOAD_OFFSET 0xffffffff80000000

OUTPUT_FORMAT("elf64-x86-64")

#ifdef FAKE_NO_LOAD
PHDRS { note PT_NOTE; }
SECTIONS {
	. = 0xffffffff81000000;
	.notes : AT(ADDR(.notes) - LOAD_OFFSET) { KEEP(*(.note.coop)) } :note
	/DISCARD/ : { *(.note.gnu.property) *(.comment) *(.eh_frame) }
}
#else
ENTRY(coop_startup_64)
PHDRS {
	text PT_LOAD FLAGS(5);	/* R E */
	data PT_LOAD FLAGS(6);	/* RW */
	percpu PT_LOAD FLAGS(6);
	init PT_LOAD FLAGS(7);	/* RWE, as Linux's */
	note PT_NOTE FLAGS(0);
}
SECTIONS {
	. = 0xffffffff81000000;
	.text : AT(ADDR(.text) - LOAD_OFFSET) { _text = .; *(.text) } :text
	.notes : AT(ADDR(.notes) - LOAD_OFFSET) { KEEP(*(.note.coop)) } :text :note
	. = ALIGN(0x200000);
	.data : AT(ADDR(.data) - LOAD_OFFSET) { *(.data) } :data
	. = ALIGN(0x1000);
	__per_cpu_load = .;
	.data..percpu 0 : AT(__per_cpu_load - LOAD_OFFSET) { *(.data..percpu) } :percpu
	. = __per_cpu_load + SIZEOF(.data..percpu);
	. = ALIGN(0x1000);
	.init.text : AT(ADDR(.init.text) - LOAD_OFFSET) { *(.init.text) } :init
	.bss : AT(ADDR(.bss) - LOAD_OFFSET) { *(.bss) } :init
	_end = .;
	/DISCARD/ : { *(.note.gnu.property) *(.comment) *(.eh_frame) }
}
#endif
