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
struct coop_msg_hdr;

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
/* irq.c, apic.c: a host interrupt hit our IDT: FORWARD it, then our vIRQs. */
void coop_host_irq(unsigned int vector);
/* cpu/common.c: syscall_init() of a coop guest (SET_SYSCALL), no wrmsr. */
void coop_syscall_init(void);
/* process.c: arch_cpu_idle() calls this instead of hlt. */
void coop_set_idle(void (*idle)(void));

/*
 * For the coop drivers (arch/x86/coop/irq.c, hypercall.c): the passage
 * (its boot.devs[] name the devices), the Linux irq of a vIRQ
 * (COOP_VEC_*), the next queued message from the host for a device
 * (-EAGAIN: none), and messages to the host (sent by the flush; _id: with
 * the header's seq given, a request's id its reply carries).
 */
struct coop_passage;
extern struct coop_passage *coop_passage;
unsigned int coop_virq_irq(unsigned int vector);
int coop_msg_recv(u16 device, struct coop_msg_hdr *h, void *buf, u32 len);
bool coop_msg_waiting(u16 device);
void coop_msg_send(u16 device, u16 unit, u16 type, const void *payload, u32 len);
void coop_msg_send_id(u16 device, u16 unit, u16 type, u64 seq, u16 flags, const void *payload,
		      u32 len);
void coop_msg_flush(void);
#else
static inline bool coop_guest(void) { return false; }
static inline void coop_early_setup(void) { }
static inline void coop_idt_gate(unsigned int vector, gate_desc *gate) { }
static inline void coop_setup_ist(struct tss_struct *tss) { }
static inline void coop_early_halt(struct pt_regs *regs, int trapnr) { }
static inline void coop_host_irq(unsigned int vector) { }
static inline void coop_syscall_init(void) { }
#endif

#endif /* _ASM_X86_COOP_H */
