/* SPDX-License-Identifier: MIT */
/*
 * guests.h - the layout the assembly guests of guests.S share with
 * kmod_ioctl.c: offsets into their data page (a struct on the C side,
 * checked against these), and where each guest keeps what.
 */
#ifndef COOP_TESTS_KMOD_GUESTS_H
#define COOP_TESTS_KMOD_GUESTS_H

/* Both guests: their data page is one page above their first byte. */
#define PROBE_DATA 0x1000

/* struct cpu_probe (kmod_ioctl.c): in from the host ... */
#define P_SWITCH 0    /* the switch's address (hdr.switch_to_host) */
#define P_PASSAGE 8   /* the passage's address in the guest (own-state guest) */
/* ... out from the guest, as it found things on its first entry ... */
#define P_CS 16
#define P_SS 24
#define P_CR0 32
#define P_CR3 40
#define P_CR4 48
#define P_GDTR 56     /* sgdt: 2 bytes of limit, then the base */
#define P_IDTR 72     /* sidt */
#define P_TR 88
#define P_RFLAGS 96
#define P_EFER 104
#define P_GS_BASE 112
/* ... and on its next entries (own-state guest) */
#define P_CR3_2 120
#define P_CR4_2 128
#define P_GDTR_2 136
#define P_IDTR_2 152
#define P_TR_2 168
#define P_FS_BASE_2 176
#define P_GS_BASE_2 184
#define P_KGS_BASE_2 192
#define P_FORWARD 200  /* FORWARD's result */
#define P_INT3 208     /* breakpoints its own IDT took */
#define P_DEADLINE 216 /* the machine-check guest: TSC cycles to spin, interrupts off */
#define P_MSR_GUEST 224 /* the tripwire guest: the value it wrote, ... */
#define P_MSR_AFTER 232 /* ... and what it read on its next entry */
#define P_SIZE 240

/* The own-state guest: its tables, after its data page; its stack top. */
#define OWN_IDT 0x2000
#define OWN_GDT 0x3000
#define OWN_TSS 0x3800
#define OWN_STACK 0x8000
/* The bases it sets: FS, GS, and the inactive GS base. */
#define OWN_FS_BASE 0x1111000
#define OWN_GS_BASE 0x2222000
#define OWN_KGS_BASE 0x3333000

#endif
