/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The coop platform's hooks in the rest of arch/x86 (arch/x86/coop/).
 * Each one does nothing unless this kernel was entered at coop_startup_64
 * by coop's kmod module, so a COOP_GUEST kernel keeps its native paths.
 */
#ifndef _ASM_X86_COOP_H
#define _ASM_X86_COOP_H

#include <linux/types.h>
#include <asm/desc_defs.h>

struct pt_regs;
struct tss_struct;

#ifdef CONFIG_COOP_GUEST
/* True once coop_start_kernel() found the passage: we run under coop. */
bool coop_guest(void);
/* platform-quirks.c: install the platform (boot_params.hdr.hardware_subarch). */
void coop_early_setup(void);
/* idt.c: NMI and #MC gates point at the module's stubs, never at guest code. */
void coop_idt_gate(unsigned int vector, gate_desc *gate);
/* cpu/common.c: the TSS's IST slots of the module's NMI and #MC stubs. */
void coop_setup_ist(struct tss_struct *tss);
/* mm/extable.c: an early exception nothing can fix ends in a PANIC op, not in hlt. */
void coop_early_halt(struct pt_regs *regs, int trapnr);
#else
static inline bool coop_guest(void) { return false; }
static inline void coop_early_setup(void) { }
static inline void coop_idt_gate(unsigned int vector, gate_desc *gate) { }
static inline void coop_setup_ist(struct tss_struct *tss) { }
static inline void coop_early_halt(struct pt_regs *regs, int trapnr) { }
#endif

#endif /* _ASM_X86_COOP_H */
