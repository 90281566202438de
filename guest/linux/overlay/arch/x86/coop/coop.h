/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arch/x86/coop/: what its files share.  The ABI itself is <coop/abi.h>,
 * coop's one contract between host and guest, included from the coop tree
 * (COOP_INCLUDE).
 */
#ifndef _ARCH_X86_COOP_H
#define _ARCH_X86_COOP_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <coop/abi.h>

/*
 * Set by coop_start_kernel() before clear_bss(), so these live in .data:
 * the passage (through the direct map), its physical address, and a copy
 * of what the module wrote in boot.kmod (read before our IDT exists).
 */
extern struct coop_passage *coop_passage;
extern u64 coop_passage_phys;
extern struct coop_boot_kmod coop_kmod;
extern bool coop_la57;

/* hypercall.c: operations, and messages in the to_host window. */
int coop_hypercall(u32 code, const void *params, size_t len);
int coop_hello(void);
void __noreturn coop_panic_op(const char *file, unsigned int line, const char *msg);
void __noreturn coop_terminate(int status);
void coop_msg_send(u16 device, u16 unit, u16 type, const void *payload, u32 len);
void coop_msg_send_id(u16 device, u16 unit, u16 type, u64 seq, u16 flags, const void *payload,
		      u32 len);
void coop_msg_flush(void);
u32 coop_msg_crc(const struct coop_msg_hdr *h, const void *payload);

/* console.c: the printk console that sends the kernel log as COCON_LOG. */
void coop_console_init(void);

/* irq.c: virtual IRQs and the messages that come with them. */
void coop_init_IRQ(void);

/* time.c: the clockevent on COOP_VEC_TIMER, and idle. */
void coop_timer_init(void);
void coop_idle_init(void);
extern unsigned long coop_idles;

/* bench.c: coop bench's forward samples (0: not sampling). */
u64 coop_bench_forward_begin(void);
void coop_bench_forward_end(u64 t0);

#endif /* _ARCH_X86_COOP_H */
