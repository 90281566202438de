/* SPDX-License-Identifier: MIT */
/*
 * note.c - the ELF note that names the ABI this kernel speaks.  The host's
 * loader refuses a kernel without it.  See it with: readelf -n coop-guest.elf
 */
#include "defs.h"

#define STR_(x) #x
#define STR(x) STR_(x)

_Static_assert(sizeof(COOP_NOTE_NAME) == 5, "namesz below is 5");
_Static_assert(sizeof(struct coop_note_abi) == 8, "descsz below is 8");

/*
 * Written in assembly so that the section is SHT_NOTE: namesz, descsz,
 * type, the name padded to 4 bytes, then struct coop_note_abi.
 */
__asm__(".pushsection .note.coop, \"a\", @note\n"
	"\t.balign 4\n"
	"\t.long 5\n"
	"\t.long 8\n"
	"\t.long " STR(COOP_NOTE_TYPE_ABI) "\n"
	"\t.asciz \"" COOP_NOTE_NAME "\"\n"
	"\t.balign 4\n"
	"\t.long " STR(COOP_ABI_MAJOR) "\n"
	"\t.long " STR(COOP_ABI_MINOR) "\n"
	"\t.popsection\n");
