// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - a guest's life: pin its RAM (the caller's mapping at
 * COOP_GUEST_BASE), build its address space and descriptor tables
 * (CREATE), apply its segments' permissions and set its first registers
 * (LOAD), report its state (GET_STATE), and free it all (DESTROY, close).
 * A Linux guest's RAM is instead the physical region the host set aside
 * (phys_ram=, below), mapped into the caller by mmap, and LOAD_LINUX
 * builds the tables its boot protocol starts from.
 */
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/mm.h>
#include <linux/timekeeping.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <asm/io.h>
#include <asm/mem_encrypt.h>
#include <asm/segment.h>
#include <asm/fpu/xcr.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "coop.h"

/*
 * The switch states, in the module's own memory: the switcher's code and
 * a guest's slot can then share one window that a Linux guest keeps
 * mapped (struct coop_sw).  A slot is taken at CREATE, freed at DESTROY.
 */
struct coop_sw coop_sw_pool[COOP_MAX_VMS] __aligned(PAGE_SIZE);
static DECLARE_BITMAP(coop_sw_used, COOP_MAX_VMS);
static DEFINE_MUTEX(coop_sw_lock);

static int sw_get(struct coop_vm *vm)
{
	unsigned int i;

	mutex_lock(&coop_sw_lock);
	i = find_first_zero_bit(coop_sw_used, COOP_MAX_VMS);
	if (i < COOP_MAX_VMS)
		__set_bit(i, coop_sw_used);
	mutex_unlock(&coop_sw_lock);
	if (i >= COOP_MAX_VMS)
		return -EBUSY;
	vm->slot = i;
	vm->sw = &coop_sw_pool[i];
	memset(vm->sw, 0, sizeof(*vm->sw));
	return 0;
}

static void sw_put(struct coop_vm *vm)
{
	if (!vm->sw)
		return;
	mutex_lock(&coop_sw_lock);
	__clear_bit(vm->slot, coop_sw_used);
	mutex_unlock(&coop_sw_lock);
	vm->sw = NULL;
}

/*
 * The physical region for Linux guests: insmod coop.ko phys_ram=SIZE@ADDR,
 * RAM the host's own kernel does not use (memmap=SIZE$ADDR on its command
 * line), claimed at load as "coop guest RAM" in /proc/iomem.  One Linux
 * guest at a time holds it.
 */
static char *phys_ram;
module_param(phys_ram, charp, 0444);
MODULE_PARM_DESC(phys_ram, "SIZE@ADDR: physical memory set aside (memmap=) for Linux guests");

static struct {
	u64 start, size;
	struct resource *res;
	bool busy; /* under coop_sw_lock */
} coop_phys;

int coop_phys_init(void)
{
	char *at, *end;
	u64 size, start;

	if (!phys_ram || !*phys_ram)
		return 0;
	size = memparse(phys_ram, &at);
	if (*at != '@')
		goto bad;
	start = memparse(at + 1, &end);
	if (*end && *end != '\n')
		goto bad;
	if (!size || !IS_ALIGNED(start | size, PMD_SIZE) || start + size < start ||
	    size < COOP_MEM_MIN || size > COOP_MEM_MAX) {
		pr_err("coop: phys_ram=%s: start and size must be 2 MiB aligned, %llu MiB..%llu GiB\n",
		       phys_ram, COOP_MEM_MIN >> 20, COOP_MEM_MAX >> 30);
		return -EINVAL;
	}
	if (sme_me_mask) {
		pr_err("coop: phys_ram=: memory encryption (SME) is on; Linux guests cannot run\n");
		return -EINVAL;
	}
	if (region_intersects(start, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT) {
		pr_err("coop: phys_ram=%s is the host's own RAM: set it aside with memmap=%llx$%llx\n",
		       phys_ram, size, start);
		return -EINVAL;
	}
	coop_phys.res = request_mem_region(start, size, "coop guest RAM");
	if (!coop_phys.res) {
		pr_err("coop: phys_ram=%s is in use (/proc/iomem)\n", phys_ram);
		return -EBUSY;
	}
	coop_phys.start = start;
	coop_phys.size = size;
	pr_info("coop: %llu MiB at %#llx for Linux guests\n", size >> 20, start);
	return 0;
bad:
	pr_err("coop: phys_ram=%s: expected SIZE@ADDR, e.g. 256M@0x20000000\n", phys_ram);
	return -EINVAL;
}

void coop_phys_exit(void)
{
	if (coop_phys.res)
		release_mem_region(coop_phys.start, coop_phys.size);
}

void coop_phys_layout(struct coop_kmod_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->phys_start = coop_phys.start;
	l->phys_size = coop_phys.size;
	mutex_lock(&coop_sw_lock);
	l->busy = coop_phys.busy;
	mutex_unlock(&coop_sw_lock);
}

static bool is_linux(const struct coop_vm *vm)
{
	return vm->flags & COOP_KMOD_CREATE_LINUX;
}

static int phys_claim(struct coop_vm *vm)
{
	int rc = 0;

	if (!coop_phys.size)
		return -ENODEV;
	if (vm->ram_size > coop_phys.size)
		return -E2BIG;
	mutex_lock(&coop_sw_lock);
	if (coop_phys.busy)
		rc = -EBUSY;
	coop_phys.busy = true;
	mutex_unlock(&coop_sw_lock);
	if (rc)
		return rc;
	vm->phys_va = memremap(coop_phys.start, vm->ram_size, MEMREMAP_WB);
	if (!vm->phys_va) {
		mutex_lock(&coop_sw_lock);
		coop_phys.busy = false;
		mutex_unlock(&coop_sw_lock);
		return -ENOMEM;
	}
	return 0;
}

static void phys_release(struct coop_vm *vm)
{
	if (!vm->phys_va)
		return;
	memunmap(vm->phys_va);
	vm->phys_va = NULL;
	mutex_lock(&coop_sw_lock);
	coop_phys.busy = false;
	mutex_unlock(&coop_sw_lock);
}

/* Guest RAM into the caller (a Linux guest's: the claimed region, shared). */
int coop_vm_mmap(struct coop_vm *vm, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;

	if (!vm->sw || !is_linux(vm))
		return -ENODEV;
	if (vma->vm_pgoff || len > vm->ram_size || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return remap_pfn_range(vma, vma->vm_start, coop_phys.start >> PAGE_SHIFT, len,
			       vma->vm_page_prot);
}

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
 * The switcher's code and this guest's switch state, at their host
 * addresses (module memory is vmalloc()ed: each page has its own frame).
 */
static int map_switcher(struct coop_vm *vm)
{
	const u8 *p;
	unsigned long i;
	int rc = 0;

	for (p = __coop_switcher_start; !rc && p < __coop_switcher_end; p += PAGE_SIZE)
		rc = coop_pt_map(vm, (u64)p, page_to_phys(vmalloc_to_page(p)), false, true);
	for (i = 0; !rc && i < sizeof(struct coop_sw); i += PAGE_SIZE)
		rc = coop_pt_map(vm, (u64)vm->sw + i, page_to_phys(vmalloc_to_page((u8 *)vm->sw + i)),
				 true, false);
	return rc;
}

/*
 * The guest's address space: RAM read-write and never executable until
 * LOAD says otherwise, the switcher's code and the switch state at their
 * host addresses (see struct coop_sw).
 */
static int map_guest(struct coop_vm *vm)
{
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
	return rc ? rc : map_switcher(vm);
}

int coop_vm_create(struct coop_vm *vm, struct coop_kmod_create *c)
{
	struct page *passage[COOP_PASSAGE_SIZE / PAGE_SIZE];
	int rc;

	if ((!(c->flags & COOP_KMOD_CREATE_LINUX) && c->ram_addr != COOP_GUEST_BASE) ||
	    c->flags & ~(COOP_KMOD_CREATE_NOP_IN_KERNEL | COOP_KMOD_CREATE_LINUX) ||
	    c->reserved0 || c->ram_size < COOP_MEM_MIN || c->ram_size > COOP_MEM_MAX ||
	    !PAGE_ALIGNED(c->ram_size) || !PAGE_ALIGNED((unsigned long)__coop_switcher_start))
		return -EINVAL;
	vm->ram_size = c->ram_size;
	vm->flags = c->flags;
	coop_window_init(vm);
	vm->npages = c->ram_size >> PAGE_SHIFT;
	rc = sw_get(vm);
	if (rc)
		goto err;
	if (is_linux(vm)) {
		/* Its RAM is mapped in 2 MiB pages (LOAD_LINUX). */
		rc = IS_ALIGNED(vm->ram_size, PMD_SIZE) ? phys_claim(vm) : -EINVAL;
		if (rc)
			goto err;
		vm->passage = vm->phys_va;
		rc = coop_fpu_init(vm);
		if (!rc)
			rc = coop_pt_init(vm);
	} else {
		rc = pin_ram(vm, c->ram_addr);
		if (rc)
			goto err;
		memcpy(passage, vm->pages, sizeof(passage));
		vm->passage = vmap(passage, ARRAY_SIZE(passage), VM_MAP, PAGE_KERNEL);
		rc = vm->passage ? coop_fpu_init(vm) : -ENOMEM;
		if (!rc)
			rc = map_guest(vm);
	}
	if (rc)
		goto err;
	coop_segments_init(vm->sw);
	vm->sw->guest_cr3 = coop_pt_cr3(vm);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	c->switch_to_host = (u64)coop_sw_calls + vm->slot * COOP_CALL_SIZE;
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
	int rc = is_linux(vm) ? -EINVAL : load_check(vm, l);

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

/*
 * LOAD_LINUX: the tables a Linux guest's boot starts from (abi.h,
 * struct coop_boot_kmod; kmod.h, struct coop_kmod_load_linux): the image
 * at its link address and all of guest RAM in the direct map (physical
 * address P at page_offset + P), in
 * 2 MiB pages, and the switcher window in 4 KiB ones; the window's PMD
 * entries and the module's stubs in the passage, for the guest to keep
 * in every address space it makes; its first registers.
 */
int coop_vm_load_linux(struct coop_vm *vm, const struct coop_kmod_load_linux *l)
{
	struct coop_boot_kmod *k = &vm->passage->boot.kmod;
	struct coop_kmod_regs *g = &vm->sw->guest;
	u64 start = coop_phys.start, end = start + vm->ram_size;
	u64 ksize = ALIGN(l->kernel_size, PMD_SIZE), lo, hi, off;
	unsigned int i, n;
	int rc = 0;

	if (!is_linux(vm) || memchr_inv(l->reserved, 0, sizeof(l->reserved)) ||
	    !IS_ALIGNED(l->kernel_phys | l->kernel_va | l->page_offset, PMD_SIZE) ||
	    l->kernel_phys < start || !l->kernel_size || ksize > end - l->kernel_phys ||
	    l->boot_params < start || l->boot_params > end - PAGE_SIZE ||
	    l->kernel_va < __START_KERNEL_map || ksize > -l->kernel_va ||
	    l->entry < l->kernel_va || l->entry - l->kernel_va >= l->kernel_size ||
	    l->page_offset < (1ULL << 63) || l->page_offset + end < l->page_offset)
		return -EINVAL;
	/* The window: the switcher's code and this guest's slot, in whole PMDs. */
	lo = min((u64)__coop_switcher_start, (u64)vm->sw) & PMD_MASK;
	hi = ALIGN(max((u64)__coop_switcher_end, (u64)(vm->sw + 1)), PMD_SIZE);
	n = (hi - lo) / PMD_SIZE;
	if (n > COOP_LINUX_MAX_PMDS || (lo < l->kernel_va + ksize && hi > l->kernel_va))
		return -EADDRINUSE;
	for (off = 0; !rc && off < vm->ram_size; off += PMD_SIZE)
		rc = coop_pt_map_2m(vm, l->page_offset + start + off, start + off, true, false);
	for (off = 0; !rc && off < ksize; off += PMD_SIZE)
		rc = coop_pt_map_2m(vm, l->kernel_va + off, l->kernel_phys + off, true, true);
	if (!rc)
		rc = map_switcher(vm);
	if (rc)
		return rc;
	memset(k, 0, sizeof(*k));
	k->phys_base = start;
	k->wallclock_ns = ktime_get_real_ns();
	k->switcher_va = lo;
	k->switcher_pmds = n;
	for (i = 0; i < n; i++)
		k->switcher_pmd[i] = coop_pt_pmd(vm, lo + i * PMD_SIZE);
	k->nmi_stub = (u64)coop_sw_nmi;
	k->mc_stub = (u64)coop_sw_stubs + X86_TRAP_MC * COOP_STUB_SIZE;
	k->ist_nmi_top = (u64)vm->sw->guest_nmi_stack + PAGE_SIZE;
	k->ist_mc_top = (u64)(&vm->sw->guest + 1);
	k->image_phys = l->kernel_phys;
	vm->passage->boot.flags |= COOP_BOOT_F_LINUX;
	/* Its first registers: Linux's boot protocol, interrupts off. */
	memset(g, 0, sizeof(*g));
	g->rip = l->entry;
	g->rsi = l->boot_params;
	g->rflags = X86_EFLAGS_FIXED;
	g->cs = __KERNEL_CS;
	g->ss = __KERNEL_DS;
	/* It owns its state from here: CR3, CR4, tables, selectors, bases. */
	vm->sw->own_state = 1;
	vm->sw->guest_cr4 = cr4_read_shadow();
	vm->guest_cr0 = read_cr0();
	vm->host_xcr0 = boot_cpu_has(X86_FEATURE_XSAVE) ? xgetbv(XCR_XFEATURE_ENABLED_MASK) : 0;
	vm->guest_xcr0 = vm->host_xcr0;
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
	coop_window_sync(vm);
	vm->guest_lstar = 0;
	vm->guest_cstar = 0;
	coop_pt_free(vm);
	coop_fpu_free(vm);
	sw_put(vm);
	if (vm->passage && !vm->phys_va)
		vunmap(vm->passage);
	vm->passage = NULL;
	phys_release(vm);
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
