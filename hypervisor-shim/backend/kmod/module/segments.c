// SPDX-License-Identifier: GPL-2.0
/*
 * segments.c - the guest's descriptor tables, and the host's, captured
 * before every switch.
 *
 * The module's transition tables, on which the small guest runs and
 * through which every switch passes (coop.h, struct coop_sw).  GDT: a
 * copy of the current CPU's (so CS, SS and every data selector the CPU
 * holds mean the same in both worlds), with the TSS descriptor pointing
 * at the module's TSS and no LDT; refreshed before every entry.  IDT:
 * every vector goes to a stub in switcher.S; exceptions end up in the
 * host as guest faults, external interrupts and NMIs are forwarded to the
 * host's own handlers.  TSS: only its interrupt stacks matter, since the
 * guest never changes privilege level through it; they serve the host's
 * handlers too in the moment the host's IDT is back before its TR
 * (coop.h, COOP_IST_*).  A guest that owns its state has its own tables
 * besides (coop_segments_own_state).
 */
#include <linux/string.h>
#include <asm/desc.h>
#include <asm/segment.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "coop.h"

static void set_gate(gate_desc *g, unsigned long handler, unsigned int ist)
{
	memset(g, 0, sizeof(*g));
	g->offset_low = (u16)handler;
	g->offset_middle = (u16)(handler >> 16);
	g->offset_high = (u32)(handler >> 32);
	g->segment = __KERNEL_CS;
	g->bits.ist = ist;
	g->bits.type = GATE_INTERRUPT; /* IF = 0 in the stub: nothing nests there */
	g->bits.dpl = 0;
	g->bits.p = 1;
}

static void idt_init(struct coop_sw *sw)
{
	unsigned long stubs = (unsigned long)coop_sw_stubs;
	unsigned int v;

	/*
	 * Every gate switches to an interrupt stack (IST), so that no
	 * guest stack is trusted: #DF and #MC included, whose frames land in
	 * sw->guest like the rest; the guest ends on either.  The NMI, which
	 * may also hit the switcher itself, has a stack of its own.  Only
	 * these two indices: a Linux guest's TSS has them too.
	 */
	for (v = 0; v < 256; v++)
		set_gate(&sw->idt[v], stubs + v * COOP_STUB_SIZE, COOP_IST_REGS);
	set_gate(&sw->idt[X86_TRAP_NMI], (unsigned long)coop_sw_nmi, COOP_IST_GUEST_NMI);
	sw->midtr.base = (u64)sw->idt;
	sw->midtr.limit = sizeof(sw->idt) - 1;
	sw->guest_idtr = sw->midtr;
}

static void tss_init(struct coop_sw *sw)
{
	struct x86_hw_tss *t = &sw->tss;

	t->ist[COOP_IST_DF - 1] = (u64)(sw->df_stack + COOP_SW_STACK);
	t->ist[COOP_IST_NMI - 1] = (u64)(sw->nmi_stack + COOP_SW_STACK);
	t->ist[COOP_IST_DB - 1] = (u64)(sw->db_stack + COOP_SW_STACK);
	t->ist[COOP_IST_MC - 1] = (u64)(sw->mc_stack + COOP_SW_STACK);
	t->ist[COOP_IST_VC - 1] = (u64)(sw->vc_stack + COOP_SW_STACK);
	t->ist[COOP_IST_GUEST_NMI - 1] = (u64)(sw->guest_nmi_stack + PAGE_SIZE);
	t->ist[COOP_IST_REGS - 1] = (u64)(&sw->guest + 1);
	/* Unused (no ring change), but never a host stack. */
	t->sp0 = t->ist[COOP_IST_REGS - 1];
	t->io_bitmap_base = sizeof(*t); /* no I/O bitmap: ring 0 needs none */
}

static void gdt_init(struct coop_sw *sw)
{
	sw->tgdtr.base = (u64)sw->gdt;
	sw->tgdtr.limit = sizeof(sw->gdt) - 1;
	sw->xgdtr.base = (u64)sw->xgdt;
	sw->xgdtr.limit = sizeof(sw->xgdt) - 1;
	sw->ggdtr.base = (u64)sw->ggdt;
	sw->ggdtr.limit = sizeof(sw->ggdt) - 1;
	sw->guest_gdtr = sw->tgdtr;
	sw->guest_tr = COOP_TSS_SEL;
}

/*
 * Both of our GDTs are the current CPU's host GDT but for TR and LDTR:
 * the CPU-number descriptor differs per CPU (GDT_ENTRY_CPUNODE; host entry
 * code reads it with lsl to find its per-CPU base when it has no RDPID,
 * and it may run while ours is loaded), so they are refreshed before every
 * entry, on the CPU that makes it.
 */
static void gdt_copy(struct coop_sw *sw, const struct desc_struct *host)
{
	tss_desc *tss;

	memcpy(sw->gdt, host, sizeof(sw->gdt));
	memset(&sw->gdt[GDT_ENTRY_LDT], 0, sizeof(ldt_desc));
	memcpy(sw->xgdt, sw->gdt, sizeof(sw->xgdt));
	/* The transition TR: the module's TSS, available (ltr sets it busy). */
	set_tssldt_descriptor(&sw->gdt[GDT_ENTRY_TSS], (unsigned long)&sw->tss, DESC_TSS,
			      sizeof(sw->tss) - 1);
	/* The host's TR on the way back: its TSS, available for ltr as well. */
	tss = (tss_desc *)&sw->xgdt[GDT_ENTRY_TSS];
	tss->type = DESC_TSS;
}

void coop_segments_init(struct coop_sw *sw)
{
	BUILD_BUG_ON(sizeof(sw->idt) != PAGE_SIZE);
	/* The host's IST indices must not collide with the one we keep for ourselves. */
	BUILD_BUG_ON(COOP_IST_VC >= COOP_IST_GUEST_NMI || COOP_IST_GUEST_NMI >= COOP_IST_REGS ||
		     COOP_IST_REGS > 7);
	BUILD_BUG_ON(sizeof(struct coop_dtr) != 16);
	gdt_init(sw);
	tss_init(sw);
	idt_init(sw);
	/* Until a guest that owns its state loads its own: the module's TSS. */
	set_tssldt_descriptor(sw->guest_tssd, (unsigned long)&sw->tss, DESC_TSS, sizeof(sw->tss) - 1);
	memcpy(sw->exit_tssd, sw->guest_tssd, sizeof(sw->exit_tssd));
}

/*
 * Before an entry of a guest that owns its state: a transition GDT with
 * its TSS descriptor, available for its ltr.  The descriptor is what its
 * GDT held at TR at its last exit, if that is a present TSS; else the
 * last one that was (the CPU keeps TR's base and limit when the GDT
 * changes under it, as Linux's early boot does, loading a GDT whose TSS
 * entry is still empty).  A TR selector outside the table (or none) gets
 * the module's TSS: the guest's TSS is then lost, and with it the guest,
 * not the host.
 */
void coop_segments_own_state(struct coop_sw *sw)
{
	const tss_desc *e = (const tss_desc *)sw->exit_tssd;
	unsigned int i = sw->guest_tr >> 3;
	tss_desc *d;

	if (e->p && (e->type & ~2) == DESC_TSS) /* available or busy */
		memcpy(sw->guest_tssd, sw->exit_tssd, sizeof(sw->guest_tssd));
	memcpy(sw->ggdt, sw->gdt, sizeof(sw->ggdt));
	if (!i || i + 1 >= COOP_GDT_ENTRIES || sw->guest_tr & 4) {
		sw->guest_tr = COOP_TSS_SEL;
		return;
	}
	memcpy(&sw->ggdt[i], sw->guest_tssd, sizeof(sw->guest_tssd));
	d = (tss_desc *)&sw->ggdt[i];
	d->type = DESC_TSS;
}

/*
 * The host side of the next switch, on this CPU (interrupts off, so the
 * CPU cannot change under us): its CR3, descriptor tables and a TSS
 * descriptor to reload TR with.  The host's TSS is per CPU, so this is
 * redone before every entry.
 */
void coop_segments_host(struct coop_sw *sw)
{
	struct desc_ptr gdt, idt;
	u64 cr3 = __read_cr3();
	u16 sel;

	/*
	 * With PCIDs the host's TLB entries are tagged and survive the
	 * guest (which runs as PCID 0, flushed at each entry): come back
	 * without flushing them.
	 */
	if (cr4_read_shadow() & X86_CR4_PCIDE)
		cr3 |= X86_CR3_PCID_NOFLUSH;
	sw->host_cr3 = cr3;
	native_store_gdt(&gdt);
	store_idt(&idt);
	sw->host_gdtr.base = gdt.address;
	sw->host_gdtr.limit = gdt.size;
	sw->host_idtr.base = idt.address;
	sw->host_idtr.limit = idt.size;
	savesegment(ss, sel);
	sw->host_ss = sel;
	savesegment(ds, sw->host_sel[0]);
	savesegment(es, sw->host_sel[1]);
	savesegment(fs, sw->host_sel[2]);
	savesegment(gs, sw->host_sel[3]);
	sw->host_cr4 = cr4_read_shadow();
	gdt_copy(sw, (const struct desc_struct *)gdt.address);
}
