/* SPDX-License-Identifier: MIT */
/*
 * guest.ld.S - linker script of the guest kernel, preprocessed with abi.h.
 * Text R-X, rodata R (with .eh_frame and the ABI note), data+bss RW: three
 * page-aligned PT_LOAD segments at COOP_KERNEL_BASE, plus PT_NOTE.
 */
#include <coop/abi.h>

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

PHDRS
{
	text PT_LOAD FLAGS(5);          /* R-X */
	rodata PT_LOAD FLAGS(4);        /* R-- */
	data PT_LOAD FLAGS(6);          /* RW- */
	note PT_NOTE FLAGS(4);          /* the coop ABI note, for the host's loader */
	ehframe PT_GNU_EH_FRAME FLAGS(4); /* .eh_frame_hdr, for host unwinders */
}

SECTIONS
{
	. = COOP_KERNEL_BASE;
	__kernel_start = .;

	.text : {
		*(.text.entry)
		*(.text.unlikely .text.unlikely.*)
		*(.text.hot .text.hot.*)
		*(.text .text.*)
	} :text

	. = ALIGN(COOP_PAGE_SIZE);
	.rodata : { *(.rodata .rodata.*) } :rodata
	/* Constant tables with pointers: nothing relocates them at run time. */
	.data.rel.ro : { *(.data.rel.ro .data.rel.ro.*) } :rodata
	.note.coop : { KEEP(*(.note.coop)) } :rodata :note
	.eh_frame_hdr : { *(.eh_frame_hdr) } :rodata :ehframe
	.eh_frame : { KEEP(*(.eh_frame)) } :rodata

	. = ALIGN(COOP_PAGE_SIZE);
	.data : {
		*(.data .data.*)
		*(.got .got.plt)
	} :data
	.bss : {
		__bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		__bss_end = .;
	} :data

	. = ALIGN(COOP_PAGE_SIZE);
	__kernel_end = .;

	/DISCARD/ : {
		*(.comment)
		*(.note.GNU-stack)
		*(.note.gnu.*)
	}
}
