// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - a guest's life: pin its RAM (the caller's mapping at
 * COOP_GUEST_BASE), build its address space and descriptor tables
 * (CREATE), apply its segments' permissions and set its first registers
 * (LOAD), report its state (GET_STATE), and free it all (DESTROY, close).
 */
#include <linux/highmem.h>
#include <linux/overflow.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <asm/io.h>
#include <asm/segment.h>

#include "coop.h"

/* Pages pinned, mapped or unpinned between two chances to reschedule. */
#define COOP_BATCH 1024

/*
 * Guest RAM must be the caller's anonymous private memory, all of it: its
 * pages then belong to this process alone and stay where they are
 * (pinned; fork copies them for the child).  A file's pages (page cache:
 * writeback, truncation), shared memory (other processes would write
 * into a ring-0 guest's memory behind its back) or a device's are
 * refused.  -EFAULT for a hole, -EINVAL for the wrong kind of memory.
 * mmap_lock held, so the answer holds while the pages are pinned.
 */
static int check_ram(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long at = start;

	while (at < end) {
		struct vm_area_struct *vma = find_vma(mm, at);

		if (!vma || vma->vm_start > at)
			return -EFAULT;
		if (!vma_is_anonymous(vma) || vma->vm_flags & (VM_SHARED | VM_MAYSHARE | VM_IO | VM_PFNMAP))
			return -EINVAL;
		at = vma->vm_end;
	}
	return 0;
}

static long pin_locked(unsigned long start, unsigned long n, struct page **pages)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return pin_user_pages(start, n, FOLL_WRITE | FOLL_LONGTERM, pages, NULL);
#else
	return pin_user_pages(start, n, FOLL_WRITE | FOLL_LONGTERM, pages);
#endif
}

static void unpin_pages(struct page **pages, unsigned long n, bool dirty)
{
	while (n) {
		unsigned long k = min_t(unsigned long, n, COOP_BATCH);

		unpin_user_pages_dirty_lock(pages, k, dirty);
		pages += k;
		n -= k;
		cond_resched();
	}
}

/*
 * Pin every page of [addr, addr + ram_size) of the caller, writable, for
 * good, after check_ram, under one hold of mmap_lock: nothing can be
 * mapped there in between.
 */
static int pin_ram(struct coop_vm *vm, u64 addr)
{
	struct mm_struct *mm = current->mm;
	unsigned long done = 0;
	int rc;

	vm->pages = kvcalloc(vm->npages, sizeof(*vm->pages), GFP_KERNEL);
	if (!vm->pages)
		return -ENOMEM;
	if (mmap_read_lock_killable(mm)) {
		rc = -EINTR;
		goto err;
	}
	rc = check_ram(mm, addr, addr + vm->ram_size);
	while (!rc && done < vm->npages) {
		long n = pin_locked(addr + done * PAGE_SIZE,
				    min_t(unsigned long, vm->npages - done, COOP_BATCH),
				    vm->pages + done);

		if (n <= 0)
			rc = n ? (int)n : -EFAULT;
		else
			done += n;
		/* Gigabytes take a while: let the CPU go, and a kill through. */
		if (fatal_signal_pending(current))
			rc = -EINTR;
		cond_resched();
	}
	mmap_read_unlock(mm);
	if (!rc)
		return 0;
	unpin_pages(vm->pages, done, false);
err:
	kvfree(vm->pages);
	vm->pages = NULL;
	return rc;
}

static void unpin_ram(struct coop_vm *vm)
{
	if (!vm->pages)
		return;
	/* The guest may have written any page through its own mapping. */
	unpin_pages(vm->pages, vm->npages, true);
	kvfree(vm->pages);
	vm->pages = NULL;
}

/*
 * The guest's address space: RAM read-write and never executable until
 * LOAD says otherwise, the switcher's code and the switch state at their
 * host addresses (see struct coop_sw).
 */
static int map_guest(struct coop_vm *vm)
{
	const u8 *p;
	unsigned long i;
	int rc = coop_pt_init(vm);

	for (i = 0; !rc && i < vm->npages; i++) {
		rc = coop_pt_map(vm, COOP_GUEST_BASE + i * PAGE_SIZE, page_to_phys(vm->pages[i]),
				 true, false);
		if (i % COOP_BATCH == COOP_BATCH - 1) {
			if (fatal_signal_pending(current))
				rc = -EINTR;
			cond_resched();
		}
	}
	/* Module text is vmalloc()ed: each page has its own frame. */
	for (p = __coop_switcher_start; !rc && p < __coop_switcher_end; p += PAGE_SIZE)
		rc = coop_pt_map(vm, (u64)p, page_to_phys(vmalloc_to_page(p)), false, true);
	for (i = 0; !rc && i < sizeof(struct coop_sw); i += PAGE_SIZE)
		rc = coop_pt_map(vm, (u64)vm->sw + i, virt_to_phys((u8 *)vm->sw + i), true, false);
	return rc;
}

int coop_vm_create(struct coop_vm *vm, struct coop_kmod_create *c)
{
	struct page *passage[COOP_PASSAGE_SIZE / PAGE_SIZE];
	int rc;

	if (c->ram_addr != COOP_GUEST_BASE || c->flags & ~COOP_KMOD_CREATE_NOP_IN_KERNEL ||
	    c->reserved0 || c->ram_size < COOP_MEM_MIN || c->ram_size > COOP_MEM_MAX ||
	    !PAGE_ALIGNED(c->ram_size) || !PAGE_ALIGNED((unsigned long)__coop_switcher_start))
		return -EINVAL;
	vm->ram_size = c->ram_size;
	vm->flags = c->flags;
	vm->npages = c->ram_size >> PAGE_SHIFT;
	rc = pin_ram(vm, c->ram_addr);
	if (rc)
		goto err;
	memcpy(passage, vm->pages, sizeof(passage));
	vm->passage = vmap(passage, ARRAY_SIZE(passage), VM_MAP, PAGE_KERNEL);
	vm->sw = alloc_pages_exact(sizeof(*vm->sw), GFP_KERNEL | __GFP_ZERO);
	rc = vm->passage && vm->sw ? coop_fpu_init(vm) : -ENOMEM;
	if (!rc)
		rc = map_guest(vm);
	if (rc)
		goto err;
	coop_segments_init(vm->sw);
	vm->sw->guest_cr3 = coop_pt_cr3(vm);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	c->switch_to_host = (u64)coop_sw_guest_call;
	c->return_trap = (u64)coop_sw_return_trap;
	return 0;
err:
	coop_vm_destroy(vm);
	return rc;
}

/* Within guest RAM, without overflow. */
bool coop_guest_range(const struct coop_vm *vm, u64 addr, u64 len)
{
	u64 end;

	return !check_add_overflow(addr, len, &end) && addr >= COOP_GUEST_BASE &&
	       end <= COOP_GUEST_BASE + vm->ram_size;
}

/* In a loaded executable segment. */
bool coop_guest_text(const struct coop_vm *vm, u64 addr)
{
	u32 i;

	for (i = 0; i < vm->nsegs; i++)
		if (vm->segs[i].flags & COOP_KMOD_SEG_X && addr >= vm->segs[i].start &&
		    addr < vm->segs[i].end)
			return true;
	return false;
}

/* Guest RAM the guest itself may write: not a read-only segment, not the guard. */
bool coop_guest_writable(const struct coop_vm *vm, u64 addr, u64 len)
{
	u32 i;

	if (!coop_guest_range(vm, addr, len))
		return false;
	if (vm->guard && addr < vm->guard + PAGE_SIZE && addr + len > vm->guard)
		return false;
	for (i = 0; i < vm->nsegs; i++)
		if (!(vm->segs[i].flags & COOP_KMOD_SEG_W) && addr < vm->segs[i].end &&
		    addr + len > vm->segs[i].start)
			return false;
	return true;
}

/* Copy into guest RAM (checked by the caller) through the pinned pages. */
void coop_guest_write(struct coop_vm *vm, u64 addr, const void *buf, size_t len)
{
	u64 off = addr - COOP_GUEST_BASE;

	while (len) {
		size_t in_page = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		u8 *page = page_address(vm->pages[off >> PAGE_SHIFT]);

		memcpy(page + offset_in_page(off), buf, in_page);
		buf += in_page;
		off += in_page;
		len -= in_page;
	}
}

static int load_check(const struct coop_vm *vm, const struct coop_kmod_load *l)
{
	u32 i;

	if (l->nsegs > COOP_KMOD_MAX_SEGS || l->reserved0)
		return -EINVAL;
	for (i = 0; i < l->nsegs; i++) {
		const struct coop_kmod_seg *s = &l->segs[i];

		if (!PAGE_ALIGNED(s->start) || !PAGE_ALIGNED(s->end) || s->end <= s->start ||
		    !coop_guest_range(vm, s->start, s->end - s->start) ||
		    s->start < COOP_GUEST_BASE + COOP_PASSAGE_SIZE || s->reserved ||
		    s->flags & ~(COOP_KMOD_SEG_R | COOP_KMOD_SEG_W | COOP_KMOD_SEG_X) ||
		    (s->flags & COOP_KMOD_SEG_W && s->flags & COOP_KMOD_SEG_X))
			return -EINVAL;
	}
	if (l->guard && (!PAGE_ALIGNED(l->guard) || !coop_guest_range(vm, l->guard, PAGE_SIZE) ||
			 l->guard < COOP_GUEST_BASE + COOP_PASSAGE_SIZE))
		return -EINVAL;
	/* The entry must be code and the stack writable RAM below the top. */
	for (i = 0; i < l->nsegs; i++)
		if (l->segs[i].flags & COOP_KMOD_SEG_X && l->rip >= l->segs[i].start &&
		    l->rip < l->segs[i].end)
			break;
	if (i == l->nsegs || !coop_guest_range(vm, l->rsp - 8, 8))
		return -EINVAL;
	return 0;
}

int coop_vm_load(struct coop_vm *vm, const struct coop_kmod_load *l)
{
	struct coop_kmod_regs *g = &vm->sw->guest;
	u32 i;
	u64 va;
	int rc = load_check(vm, l);

	for (i = 0; !rc && i < l->nsegs; i++)
		for (va = l->segs[i].start; !rc && va < l->segs[i].end; va += PAGE_SIZE) {
			rc = coop_pt_protect(vm, va, l->segs[i].flags & COOP_KMOD_SEG_W,
					     l->segs[i].flags & COOP_KMOD_SEG_X);
			/* A segment may span all of RAM (gigabytes). */
			if (!(va / PAGE_SIZE % COOP_BATCH))
				cond_resched();
		}
	if (!rc && l->guard)
		rc = coop_pt_unmap(vm, l->guard);
	if (rc)
		return rc;
	memcpy(vm->segs, l->segs, sizeof(vm->segs));
	vm->nsegs = l->nsegs;
	vm->guard = l->guard;
	memset(g, 0, sizeof(*g));
	g->rip = l->rip;
	g->rsp = l->rsp;
	g->rflags = X86_EFLAGS_IF | X86_EFLAGS_FIXED; /* host interrupts reach the guest's IDT */
	g->cs = __KERNEL_CS; /* the guest's GDT has the host's layout */
	g->ss = __KERNEL_DS;
	vm->loaded = true;
	return 0;
}

void coop_vm_state(struct coop_vm *vm, struct coop_kmod_state *s)
{
	memset(s, 0, sizeof(*s));
	s->regs = vm->sw->guest;
	s->stats = vm->stats;
	/* No kernel address: the host's are nothing user space needs. */
	s->loaded = vm->loaded;
	s->table_pages = vm->pt_count;
}

/* Undo whatever of CREATE happened; the file stays open for another. */
void coop_vm_destroy(struct coop_vm *vm)
{
	coop_pt_free(vm);
	coop_fpu_free(vm);
	if (vm->sw)
		free_pages_exact(vm->sw, sizeof(*vm->sw));
	vm->sw = NULL;
	if (vm->passage)
		vunmap(vm->passage);
	vm->passage = NULL;
	unpin_ram(vm);
	if (vm->mm)
		mmdrop(vm->mm);
	vm->mm = NULL;
	vm->loaded = false;
	vm->flags = 0;
	vm->nsegs = 0;
	vm->guard = 0;
	memset(&vm->stats, 0, sizeof(vm->stats));
}
