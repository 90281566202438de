/* SPDX-License-Identifier: MIT */
/*
 * guest_mem.c - what the host may do with a guest address: read it, write
 * it on the guest's behalf, run it, turn it into a host pointer.  Every
 * guest value the host dereferences (a vIRQ frame, a block buffer, a crash
 * report's stack) is checked here first: a host access must never fault.
 */
#include "core/shim.h"

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

/*
 * Guest memory the host may read: guest RAM but the stack guard page and
 * any kernel segment without PF_R (the loader refuses those; checked here
 * too, since a host read that faults kills the host).
 */
bool shim_guest_readable(const struct shim_vm *vm, uint64_t addr, uint64_t len)
{
	if (!shim_guest_range(vm, addr, len) ||
	    (addr < vm->guard + COOP_STACK_GUARD_SIZE && addr + len > vm->guard))
		return false;
	for (unsigned int i = 0; i < vm->image.nsegs; i++) {
		const struct shim_elf_seg *s = &vm->image.segs[i];

		if (!(s->flags & 4 /* PF_R */) && addr < s->vaddr + s->memsz && addr + len > s->vaddr)
			return false;
	}
	return true;
}

/*
 * The guest address (in coop's layout, guest RAM at COOP_GUEST_BASE) of
 * an address a guest put in a message: itself, or for a guest that gives
 * physical ones (COOP_BOOT_F_PHYS_ADDRS: Linux) its place in its RAM,
 * [lx.phys_base, + mem_size).  One outside that is 0, which no check passes.
 */
uint64_t shim_guest_msg_addr(const struct shim_vm *vm, uint64_t addr)
{
	if (!vm->lx.phys_base)
		return addr;
	if (addr < vm->lx.phys_base || addr - vm->lx.phys_base >= vm->mem_size)
		return 0;
	return COOP_GUEST_BASE + (addr - vm->lx.phys_base);
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
