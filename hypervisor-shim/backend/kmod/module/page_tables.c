// SPDX-License-Identifier: GPL-2.0
/*
 * page_tables.c - the guest's address space: x86-64 page tables with as
 * many levels as the host uses (CR4.LA57 cannot change in long mode, so a
 * 5-level host needs 5-level guest tables), 4 KiB pages (pinned user
 * pages are not physically contiguous) but for a Linux guest's physical
 * RAM and image (2 MiB pages: LOAD_LINUX), every page supervisor-only
 * (the guest runs in ring 0, so SMEP and SMAP never object) and never
 * global.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <asm/io.h>
#include <asm/mem_encrypt.h>
#include <asm/pgtable.h>

#include "coop.h"

#define ENTRIES 512
#define TABLE_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
/* The frame of an entry; physical_mask (in PTE_PFN_MASK) leaves out SME's C-bit. */
#define ADDR_MASK PTE_PFN_MASK

static u64 *table_alloc(struct coop_vm *vm)
{
	u64 *t;

	if (vm->pt_count == vm->pt_cap) {
		unsigned int cap = vm->pt_cap ? vm->pt_cap * 2 : 64;
		void **p = krealloc_array(vm->pt_pages, cap, sizeof(*p), GFP_KERNEL);

		if (!p)
			return NULL;
		vm->pt_pages = p;
		vm->pt_cap = cap;
	}
	t = (u64 *)get_zeroed_page(GFP_KERNEL);
	if (t)
		vm->pt_pages[vm->pt_count++] = t;
	return t;
}

int coop_pt_init(struct coop_vm *vm)
{
	vm->levels = pgtable_l5_enabled() ? 5 : 4;
	vm->pt_root = table_alloc(vm);
	return vm->pt_root ? 0 : -ENOMEM;
}

static unsigned int index_at(u64 va, unsigned int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (ENTRIES - 1);
}

/*
 * The entry for @va at @leaf_level (1: a 4 KiB page's, 2: a PMD entry),
 * making the tables above it on the way if @create; NULL if one is
 * missing (or cannot be made) or a large page is in the way.
 * Intermediate entries allow everything: the leaf alone decides.
 */
static u64 *entry_of(struct coop_vm *vm, u64 va, unsigned int leaf_level, bool create)
{
	u64 *t = vm->pt_root;
	unsigned int level;

	for (level = vm->levels; level > leaf_level; level--) {
		u64 *e = &t[index_at(va, level)];

		if (*e & _PAGE_PSE)
			return NULL;
		if (!(*e & _PAGE_PRESENT)) {
			u64 *n = create ? table_alloc(vm) : NULL;

			if (!n)
				return NULL;
			*e = __sme_set(virt_to_phys(n)) | TABLE_FLAGS;
		}
		t = phys_to_virt(*e & ADDR_MASK);
	}
	return &t[index_at(va, leaf_level)];
}

static u64 *pte_of(struct coop_vm *vm, u64 va, bool create)
{
	return entry_of(vm, va, 1, create);
}

static u64 leaf_flags(bool write, bool exec)
{
	u64 f = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY;

	if (write)
		f |= _PAGE_RW;
	if (!exec)
		f |= _PAGE_NX & __supported_pte_mask; /* only where EFER.NXE is on */
	return f;
}

int coop_pt_map(struct coop_vm *vm, u64 va, u64 phys, bool write, bool exec)
{
	u64 *pte = pte_of(vm, va, true);

	if (!pte)
		return -ENOMEM;
	*pte = __sme_set(phys & PAGE_MASK) | leaf_flags(write, exec);
	return 0;
}

/* A 2 MiB page (a Linux guest's initial tables: LOAD_LINUX). */
int coop_pt_map_2m(struct coop_vm *vm, u64 va, u64 phys, bool write, bool exec)
{
	u64 *pmd = entry_of(vm, va, 2, true);

	if (!pmd || *pmd & _PAGE_PRESENT)
		return pmd ? -EEXIST : -ENOMEM;
	*pmd = __sme_set(phys & PMD_MASK) | leaf_flags(write, exec) | _PAGE_PSE;
	return 0;
}

/* The PMD entry that covers @va (0: none), as a guest copies it into its own tables. */
u64 coop_pt_pmd(struct coop_vm *vm, u64 va)
{
	u64 *pmd = entry_of(vm, va, 2, false);

	return pmd ? *pmd : 0;
}

/* Change the permissions of a mapped page (LOAD; before the first entry). */
int coop_pt_protect(struct coop_vm *vm, u64 va, bool write, bool exec)
{
	u64 *pte = pte_of(vm, va, false);

	if (!pte || !(*pte & _PAGE_PRESENT))
		return -EINVAL;
	*pte = (*pte & (ADDR_MASK | sme_me_mask)) | leaf_flags(write, exec);
	return 0;
}

int coop_pt_unmap(struct coop_vm *vm, u64 va)
{
	u64 *pte = pte_of(vm, va, false);

	if (!pte)
		return -EINVAL;
	*pte = 0;
	return 0;
}

/* The guest's CR3: its root table, PCID 0 (flushed on every load). */
u64 coop_pt_cr3(const struct coop_vm *vm)
{
	return __sme_pa(vm->pt_root);
}

void coop_pt_free(struct coop_vm *vm)
{
	while (vm->pt_count) {
		free_page((unsigned long)vm->pt_pages[--vm->pt_count]);
		/* A 64 GiB guest has some 32768 of them. */
		if (!(vm->pt_count % 1024))
			cond_resched();
	}
	kfree(vm->pt_pages);
	vm->pt_pages = NULL;
	vm->pt_cap = 0;
	vm->pt_root = NULL;
}
