/* SPDX-License-Identifier: MIT */
/*
 * virq.c - the virtual interrupt controller's host half: raise vectors
 * in the passage's pending bitmap, tell whether the guest would take one
 * now, and check the guest memory a vIRQ frame goes into.  The guest half
 * (taking, EOI, priorities) is guest/kernel/virq.c; abi.h has the rules.
 */
#include "core/shim.h"

void shim_virq_raise(struct shim_vm *vm, unsigned int vector)
{
	uint64_t *word = &vm->passage->virq.pending[(vector % COOP_VEC_COUNT) / 64];

	/* The guest clears bits with lock btr: set them atomically too. */
	__atomic_fetch_or(word, 1ull << (vector % 64), __ATOMIC_SEQ_CST);
}

/* How many vectors the guest would take now (vif aside). */
unsigned int shim_virq_deliverable(const struct coop_virq_state *v)
{
	unsigned int n = 0;

	for (int i = 0; i < 4; i++)
		n += (unsigned int)__builtin_popcountll(v->pending[i] & ~v->masked[i]);
	return n;
}

/* The deliverable vector the guest takes first (the highest), or 0: none. */
unsigned int shim_virq_highest(const struct coop_virq_state *v)
{
	for (int i = 3; i >= 0; i--) {
		uint64_t w = v->pending[i] & ~v->masked[i];

		if (w)
			return (unsigned int)(i * 64 + 63 - __builtin_clzll(w));
	}
	return 0;
}

/*
 * Is [addr, addr+len) guest memory the host may write on the guest's
 * behalf: inside guest RAM, above the passage, not the stack guard page
 * and not in a read-only segment of the kernel?  A write the host makes
 * must never fault in the host.
 */
bool shim_guest_writable(const struct shim_vm *vm, uint64_t addr, uint64_t len)
{
	uint64_t lo = COOP_GUEST_BASE + COOP_PASSAGE_SIZE, hi = COOP_GUEST_BASE + vm->mem_size;
	uint64_t end;

	if (__builtin_add_overflow(addr, len, &end) || addr < lo || end > hi)
		return false;
	if (addr < vm->guard + COOP_STACK_GUARD_SIZE && end > vm->guard)
		return false;
	for (unsigned int i = 0; i < vm->image.nsegs; i++) {
		const struct shim_elf_seg *s = &vm->image.segs[i];
		uint64_t slo = s->vaddr & ~(uint64_t)(COOP_PAGE_SIZE - 1);
		uint64_t shi = (s->vaddr + s->memsz + COOP_PAGE_SIZE - 1) &
			       ~(uint64_t)(COOP_PAGE_SIZE - 1);

		if (!(s->flags & 2 /* PF_W */) && addr < shi && end > slo)
			return false;
	}
	return true;
}

/* Is [addr, addr+len) inside guest RAM? */
bool shim_guest_range(const struct shim_vm *vm, uint64_t addr, uint64_t len)
{
	uint64_t end;

	return !__builtin_add_overflow(addr, len, &end) && addr >= COOP_GUEST_BASE &&
	       end <= COOP_GUEST_BASE + vm->mem_size;
}

/* Guest memory the host may read: guest RAM but the stack guard page. */
bool shim_guest_readable(const struct shim_vm *vm, uint64_t addr, uint64_t len)
{
	return shim_guest_range(vm, addr, len) &&
	       !(addr < vm->guard + COOP_STACK_GUARD_SIZE && addr + len > vm->guard);
}

/* The host address of a (checked) guest address. */
void *shim_guest_ptr(const struct shim_vm *vm, uint64_t addr)
{
	return (uint8_t *)vm->ram + (addr - COOP_GUEST_BASE);
}

/* Is addr inside the guest kernel's executable code? */
bool shim_guest_text(const struct shim_vm *vm, uint64_t addr)
{
	for (unsigned int i = 0; i < vm->image.nsegs; i++) {
		const struct shim_elf_seg *s = &vm->image.segs[i];

		if ((s->flags & 1 /* PF_X */) && addr >= s->vaddr && addr - s->vaddr < s->memsz)
			return true;
	}
	return false;
}
