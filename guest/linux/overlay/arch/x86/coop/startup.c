// SPDX-License-Identifier: GPL-2.0
/*
 * coop_start_kernel(): what __startup_64 (arch/x86/kernel/head64.c) does,
 * minus the identity map, for a kernel that coop's kmod module entered at
 * coop_startup_64 with its own page tables.  Then the switcher window goes
 * into our tables and the unmodified x86_64_start_kernel() follows.
 *
 * Runs before clear_bss(): everything it keeps is in .data.  The image is
 * mapped at its link address, so no pointer needs fixup_pointer().
 */

/* pgtable_l5_enabled() from __pgtable_l5_enabled: no CPU features yet */
#define USE_EARLY_PGTABLE_L5

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/linkage.h>
#include <linux/pgtable.h>
#include <linux/string.h>
#include <asm/bootparam.h>
#include <asm/coop.h>
#include <asm/e820/types.h>
#include <asm/fixmap.h>
#include <asm/msr.h>
#include <asm/pgtable.h>
#include <asm/sections.h>
#include <asm/setup.h>
#include <asm/special_insns.h>

#include "coop.h"

struct coop_passage *coop_passage __section(".data");
u64 coop_passage_phys __section(".data");
struct coop_boot_kmod coop_kmod __section(".data");
bool coop_la57 __section(".data");
/* Written through the image's mapping, looked for through the direct map. */
static u64 coop_image_mark __section(".data");

bool coop_guest(void)
{
	return coop_passage != NULL;
}

/*
 * Nothing to report to yet (no passage, or not one we can speak to): a
 * #UD on the module's IDT, which coop shows as a crash with registers.
 * Never hlt: with IF = 0 it would stop the host CPU.
 */
static void __init __noreturn coop_die_unreported(void)
{
	for (;;)
		asm volatile("ud2");
}

/*
 * An error before start_kernel(): the PANIC operation, once HELLO is done.
 * No printk here (nothing is set up).
 */
static __printf(2, 3) void __init __noreturn coop_early_panic_at(unsigned int line,
								  const char *fmt, ...)
{
	static char msg[sizeof_field(struct coop_op_panic, message)] __initdata;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	coop_panic_op(__FILE__, line, msg);
}
#define coop_early_panic(...) coop_early_panic_at(__LINE__, __VA_ARGS__)

/* 5-level paging, as check_la57_support() in head64.c: CR4.LA57 decides. */
static void __init coop_setup_la57(void)
{
#ifdef CONFIG_X86_5LEVEL
	__pgtable_l5_enabled = 1;
	pgdir_shift = 48;
	ptrs_per_p4d = 512;
	page_offset_base = __PAGE_OFFSET_BASE_L5;
	vmalloc_base = __VMALLOC_BASE_L5;
	vmemmap_base = __VMEMMAP_BASE_L5;
	coop_la57 = true;
#else
	coop_die_unreported(); /* COOP_GUEST depends on X86_5LEVEL */
#endif
}

/*
 * The passage, from our setup_data entry (COOP_LINUX_SETUP_TYPE), through
 * the direct map the module built.  Checked before the first operation:
 * without a passage we cannot even say what is wrong.
 */
static struct coop_passage * __init coop_find_passage(struct boot_params *bp)
{
	u64 pa = bp->hdr.setup_data;
	struct coop_passage *p;
	int n;

	if (bp->hdr.hardware_subarch != X86_SUBARCH_COOP)
		coop_die_unreported();
	for (n = 0; pa && n < 64; n++) {
		struct setup_data *sd = __va(pa);
		struct coop_linux_setup *cs = (void *)sd->data;

		if (sd->type == SETUP_COOP && sd->len >= sizeof(*cs)) {
			p = __va(cs->passage);
			if (p->hdr.magic != COOP_PASSAGE_MAGIC)
				coop_die_unreported();
			coop_passage_phys = cs->passage;
			return p;
		}
		pa = sd->next;
	}
	coop_die_unreported();
}

/*
 * The physical address of _text, as the module loaded it (boot.kmod),
 * checked: 2 MiB aligned, inside an e820 RAM range, and what the image's
 * own mapping shows there (a fresh mark, read back through the direct map).
 */
static unsigned long __init coop_image_phys(struct boot_params *bp)
{
	unsigned long off = (unsigned long)&coop_image_mark - (unsigned long)_text;
	unsigned long size = (unsigned long)_end - (unsigned long)_text;
	u64 mark = rdtsc() ^ 0x676d6920706f6f63ULL; /* "coop img" */
	u64 pa = coop_kmod.image_phys;
	unsigned int i;

	for (i = 0; i < bp->e820_entries && i < ARRAY_SIZE(bp->e820_table); i++) {
		struct boot_e820_entry *e = &bp->e820_table[i];

		if (e->type == E820_TYPE_RAM && pa >= e->addr && pa + size <= e->addr + e->size)
			break;
	}
	if (pa & ~PMD_MASK || i == bp->e820_entries || i == ARRAY_SIZE(bp->e820_table))
		coop_early_panic("coop: the module says the image is at 0x%llx: not 2 MiB aligned in e820 RAM",
				 pa);
	WRITE_ONCE(coop_image_mark, mark);
	if (READ_ONCE(*(u64 *)__va(pa + off)) != mark)
		coop_early_panic("coop: the image is not at 0x%llx, where the module says it is", pa);
	return pa;
}

/*
 * __startup_64's page-table fix-ups for a kernel loaded load_delta bytes
 * above CONFIG_PHYSICAL_START, and phys_base.  Our kernel mappings carry
 * no global bit: the guest runs with CR4.PGE clear and must not create
 * global entries (they could outlive a world switch on a PGE host).
 */
static void __init coop_fixup_tables(unsigned long load_delta)
{
	pgdval_t *pgd = (pgdval_t *)early_top_pgt;
	pmdval_t *pmd;
	int i;

	if (coop_la57) {
		pgd[pgd_index(__START_KERNEL_map)] = (pgdval_t)level4_kernel_pgt +
			_PAGE_TABLE_NOENC - __START_KERNEL_map + load_delta;
		((p4dval_t *)level4_kernel_pgt)[511] += load_delta;
	} else {
		pgd[pgd_index(__START_KERNEL_map)] = (pgdval_t)level3_kernel_pgt +
			_PAGE_TABLE_NOENC - __START_KERNEL_map + load_delta;
	}
	((pudval_t *)level3_kernel_pgt)[510] += load_delta;
	((pudval_t *)level3_kernel_pgt)[511] += load_delta;

	pmd = (pmdval_t *)level2_fixmap_pgt;
	for (i = FIXMAP_PMD_TOP; i > FIXMAP_PMD_TOP - FIXMAP_PMD_NUM; i--)
		pmd[i] += load_delta;

	/* The image's 2 MiB pages; nothing before or after it. */
	pmd = (pmdval_t *)level2_kernel_pgt;
	for (i = 0; i < pmd_index((unsigned long)_text); i++)
		pmd[i] &= ~_PAGE_PRESENT;
	for (; i <= pmd_index((unsigned long)_end); i++)
		if (pmd[i] & _PAGE_PRESENT)
			pmd[i] = (pmd[i] + load_delta) & ~_PAGE_GLOBAL;
	for (; i < PTRS_PER_PMD; i++)
		pmd[i] &= ~_PAGE_PRESENT;

	phys_base += load_delta;
}

/*
 * The switcher window: the module's PMD entries, at the same VAs as in
 * the host, under level3_kernel_pgt[511] (level2_fixmap_pgt) for VAs from
 * 0xffffffffc0000000, or [510] (level2_kernel_pgt) below.  Every later page
 * table copies the kernel half of swapper_pg_dir, so the window is in all
 * of them.  Refused: a window over the image's KERNEL_IMAGE_SIZE (which
 * cleanup_highmap() clears outside the image) or over the fixmap and
 * above, or onto a slot already in use.
 */
static void __init coop_install_window(void)
{
	const unsigned long lo = __START_KERNEL_map + KERNEL_IMAGE_SIZE;
	const unsigned long hi = 0xffffffffc0000000UL +
		(FIXMAP_PMD_TOP - FIXMAP_PMD_NUM + 1) * PMD_SIZE;
	unsigned long va = coop_kmod.switcher_va;
	unsigned int i, n = coop_kmod.switcher_pmds;

	if (n < 1 || n > COOP_LINUX_MAX_PMDS || (va & ~PMD_MASK))
		coop_early_panic("coop: switcher window 0x%lx, %u PMDs: not 2 MiB aligned or not 1..%d PMDs",
				 va, n, COOP_LINUX_MAX_PMDS);
	if (va < lo || va > hi || n * PMD_SIZE > hi - va)
		coop_early_panic("coop: switcher window 0x%lx-0x%lx overlaps the kernel image area (below 0x%lx) or the fixmap (from 0x%lx)",
				 va, va + n * PMD_SIZE - 1, lo, hi);
	for (i = 0; i < n; i++, va += PMD_SIZE) {
		pmdval_t *pmd = (pmdval_t *)(pud_index(va) == 511 ? level2_fixmap_pgt
								     : level2_kernel_pgt);

		if (pmd[pmd_index(va)] & _PAGE_PRESENT)
			coop_early_panic("coop: switcher window PMD at 0x%lx is already in use", va);
		pmd[pmd_index(va)] = coop_kmod.switcher_pmd[i];
	}
}

asmlinkage __visible void __init __noreturn coop_start_kernel(unsigned long bp_phys)
{
	struct boot_params *bp;
	unsigned long text_phys, load_delta;

	BUILD_BUG_ON(X86_SUBARCH_COOP != COOP_LINUX_SUBARCH);
	BUILD_BUG_ON(SETUP_COOP != COOP_LINUX_SETUP_TYPE);

	/* Before any __va(): the direct map moves with 5-level paging. */
	if (native_read_cr4() & X86_CR4_LA57)
		coop_setup_la57();
	bp = __va(bp_phys);
	coop_passage = coop_find_passage(bp);

	/* The first operation must be HELLO: the monitor kills a guest otherwise. */
	if (coop_hello())
		coop_die_unreported(); /* the host refused us and said why */
	if (coop_passage->hdr.host_major != COOP_ABI_MAJOR ||
	    !(coop_passage->boot.flags & COOP_BOOT_F_LINUX))
		coop_early_panic("coop: host ABI %u.%u, boot flags 0x%x: not a Linux guest's host",
				 coop_passage->hdr.host_major, coop_passage->hdr.host_minor,
				 coop_passage->boot.flags);
	coop_kmod = coop_passage->boot.kmod;
	/* Without them our IDT would send an NMI or #MC into the void. */
	if (!coop_kmod.nmi_stub || !coop_kmod.mc_stub || !coop_kmod.ist_nmi_top ||
	    !coop_kmod.ist_mc_top)
		coop_early_panic("coop: the module named no NMI or #MC stub or stack (boot.kmod)");

	text_phys = coop_image_phys(bp);
	load_delta = text_phys - ((unsigned long)_text - __START_KERNEL_map);
	if (load_delta & ~PMD_MASK)
		coop_early_panic("coop: kernel loaded at 0x%lx, not 2 MiB aligned", text_phys);
	coop_fixup_tables(load_delta);
	coop_install_window();

	/* What secondary_startup_64 adds to the early page flags: NX if EFER has it. */
	if (native_read_msr(MSR_EFER) & EFER_NX)
		early_pmd_flags |= _PAGE_NX;

	x86_64_start_kernel((char *)bp_phys);
	coop_die_unreported();
}
