// SPDX-License-Identifier: GPL-2.0
/*
 * offsets.c - every offset switcher.S uses, generated from the structs
 * (Kbuild compiles this to offsets.s and turns its markers into
 * coop-offsets.h, as Linux does for its own asm-offsets): none is typed
 * by hand.
 */
#include <linux/kbuild.h>
#include <linux/stddef.h>

#include "coop.h"

void coop_offsets(void);
void coop_offsets(void)
{
	OFFSET(R_R15, coop_kmod_regs, r15);
	OFFSET(R_R14, coop_kmod_regs, r14);
	OFFSET(R_R13, coop_kmod_regs, r13);
	OFFSET(R_R12, coop_kmod_regs, r12);
	OFFSET(R_RBP, coop_kmod_regs, rbp);
	OFFSET(R_RBX, coop_kmod_regs, rbx);
	OFFSET(R_R11, coop_kmod_regs, r11);
	OFFSET(R_R10, coop_kmod_regs, r10);
	OFFSET(R_R9, coop_kmod_regs, r9);
	OFFSET(R_R8, coop_kmod_regs, r8);
	OFFSET(R_RAX, coop_kmod_regs, rax);
	OFFSET(R_RCX, coop_kmod_regs, rcx);
	OFFSET(R_RDX, coop_kmod_regs, rdx);
	OFFSET(R_RSI, coop_kmod_regs, rsi);
	OFFSET(R_RDI, coop_kmod_regs, rdi);
	OFFSET(R_VECTOR, coop_kmod_regs, vector);
	OFFSET(R_ERROR, coop_kmod_regs, error);
	OFFSET(R_RIP, coop_kmod_regs, rip);
	OFFSET(R_CS, coop_kmod_regs, cs);
	OFFSET(R_RFLAGS, coop_kmod_regs, rflags);
	OFFSET(R_RSP, coop_kmod_regs, rsp);
	OFFSET(R_SS, coop_kmod_regs, ss);
	DEFINE(R_SIZE, sizeof(struct coop_kmod_regs));
	BLANK();
	OFFSET(SW_GUEST, coop_sw, guest);
	OFFSET(SW_HOST_RSP, coop_sw, host_rsp);
	OFFSET(SW_HOST_CR3, coop_sw, host_cr3);
	OFFSET(SW_HOST_CR4, coop_sw, host_cr4);
	OFFSET(SW_HOST_GS_BASE, coop_sw, host_gs_base);
	OFFSET(SW_GUEST_CR3, coop_sw, guest_cr3);
	OFFSET(SW_GUEST_CR4, coop_sw, guest_cr4);
	OFFSET(SW_CR2, coop_sw, cr2);
	OFFSET(SW_HOST_SS, coop_sw, host_ss);
	OFFSET(SW_HOST_SEL, coop_sw, host_sel);
	OFFSET(SW_GUEST_SEL, coop_sw, guest_sel);
	OFFSET(SW_GUEST_TR, coop_sw, guest_tr);
	OFFSET(SW_OWN_STATE, coop_sw, own_state);
	OFFSET(SW_NMI_PENDING, coop_sw, nmi_pending);
	OFFSET(SW_GUEST_FS_BASE, coop_sw, guest_fs_base);
	OFFSET(SW_GUEST_GS_BASE, coop_sw, guest_gs_base);
	OFFSET(SW_GUEST_KERNEL_GS_BASE, coop_sw, guest_kernel_gs_base);
	OFFSET(SW_EXIT_TSSD, coop_sw, exit_tssd);
	/* lgdt/lidt/sgdt/sidt take the 10-byte image that starts at the limit. */
	OFFSET(SW_HOST_GDTR, coop_sw, host_gdtr.limit);
	OFFSET(SW_HOST_IDTR, coop_sw, host_idtr.limit);
	OFFSET(SW_TGDTR, coop_sw, tgdtr.limit);
	OFFSET(SW_MIDTR, coop_sw, midtr.limit);
	OFFSET(SW_XGDTR, coop_sw, xgdtr.limit);
	OFFSET(SW_GGDTR, coop_sw, ggdtr.limit);
	OFFSET(SW_GUEST_GDTR, coop_sw, guest_gdtr.limit);
	OFFSET(SW_GUEST_IDTR, coop_sw, guest_idtr.limit);
	OFFSET(SW_GDT, coop_sw, gdt);
	/* The NMI stub's stack top, from which it finds sw. */
	DEFINE(SW_GUEST_NMI_TOP, offsetof(struct coop_sw, guest_nmi_stack) + PAGE_SIZE);
	DEFINE(SW_SIZE, sizeof(struct coop_sw));
	DEFINE(COOP_CALL_SIZE, COOP_CALL_SIZE);
	DEFINE(COOP_MAX_VMS, COOP_MAX_VMS);
	DEFINE(COOP_STUB_SIZE, COOP_STUB_SIZE);
	DEFINE(COOP_SW_VEC_ERROR, COOP_SW_VEC_ERROR);
}
