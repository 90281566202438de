/* SPDX-License-Identifier: MIT */
/*
 * vm.c - create a guest: map its RAM, load its kernel, lay out its memory
 * (passage, kernel, heap, guard page, boot stack) and fill the passage so
 * that the first world switch enters the kernel's entry point.
 *
 *   COOP_GUEST_BASE  passage (64 KiB) | ... | kernel | heap ... | guard | boot stack
 */
#include <errno.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/shim.h"

#define MIN_HEAP (256u << 10) /* a kernel that leaves less is refused */

static uint64_t page_up(uint64_t x)
{
	return (x + COOP_PAGE_SIZE - 1) & ~(uint64_t)(COOP_PAGE_SIZE - 1);
}

static uint64_t page_down(uint64_t x)
{
	return x & ~(uint64_t)(COOP_PAGE_SIZE - 1);
}

/* W^X for the guest's segments, and a guard page under the boot stack. */
static int protect(struct shim_vm *vm, uint64_t guard, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->image.nsegs; i++) {
		const struct shim_elf_seg *s = &vm->image.segs[i];
		uint64_t lo = page_down(s->vaddr), hi = page_up(s->vaddr + s->memsz);
		int prot = (s->flags & PF_R ? PROT_READ : 0) | (s->flags & PF_W ? PROT_WRITE : 0) |
			   (s->flags & PF_X ? PROT_EXEC : 0);

		if (mprotect((void *)(uintptr_t)lo, hi - lo, prot)) {
			snprintf(err, errlen, "cannot protect guest segment %u: %s", i,
				 strerror(errno));
			return -errno;
		}
	}
	if (mprotect((void *)(uintptr_t)guard, COOP_STACK_GUARD_SIZE, PROT_NONE)) {
		snprintf(err, errlen, "cannot make the stack guard page: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* What every guest's passage says: versions, RAM, console, TSC, command line. */
static void passage_init(struct shim_vm *vm, const struct shim_config *cfg)
{
	struct coop_passage *p = vm->passage;
	struct coop_boot_params *b = &p->boot;

	p->hdr.magic = COOP_PASSAGE_MAGIC;
	p->hdr.host_major = COOP_ABI_MAJOR;
	p->hdr.host_minor = COOP_ABI_MINOR;
	p->hdr.size = sizeof(*p);
	p->hdr.switch_mode = vm->switch_mode;
	p->hdr.switch_to_host = (uint64_t)(uintptr_t)host_guest_switch_fn(vm->switch_mode);

	b->mem_base = COOP_GUEST_BASE;
	b->mem_size = vm->mem_size;
	b->console_flags = (shim_cocon_interactive(vm) ? COOP_CON_INTERACTIVE : 0) |
			   (cfg->exec ? COOP_CON_EXEC : 0);
	b->tsc_khz = shim_tsc_khz();
	snprintf(b->cmdline, sizeof(b->cmdline), "%s", cfg->cmdline ? cfg->cmdline : "");
}

/* coop's own guest: its layout, and its first registers for the user backend's switch. */
static void passage_small(struct shim_vm *vm, uint64_t heap_start, uint64_t guard)
{
	struct coop_passage *p = vm->passage;
	struct coop_boot_params *b = &p->boot;
	uint64_t top = COOP_GUEST_BASE + vm->mem_size;

	b->kernel_start = vm->image.start;
	b->kernel_end = vm->image.end;
	b->heap_start = heap_start;
	b->heap_end = guard;
	b->stack_base = top - COOP_BOOT_STACK_SIZE;
	b->stack_top = top;

	host_context_init_host(&vm->host_ctx, vm->switch_mode);
	host_context_bind(&vm->host_ctx);
	host_context_init_entry(&p->guest, vm->switch_mode, top, vm->image.entry, &vm->host_ctx);
}

/* Read --kernel and tell what it is; the reason names the file. */
static int read_kernel(const struct shim_config *cfg, void **file, size_t *len,
		       struct shim_elf_kind *kind, char *err, size_t errlen)
{
	char why[SHIM_ERR_MAX];
	int rc;

	*file = NULL;
	rc = shim_read_file(cfg->kernel, SHIM_ELF_MAX_FILE, file, len, why, sizeof(why));
	if (!rc)
		rc = shim_elf_probe(*file, *len, kind, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "--kernel %s: %s", cfg->kernel, why);
		free(*file);
		*file = NULL;
	}
	return rc;
}

static int load_kernel(struct shim_vm *vm, const struct shim_config *cfg, const void *file,
		       size_t len, uint64_t load_max, char *err, size_t errlen)
{
	char why[SHIM_ERR_MAX];
	int rc;

	rc = shim_elf_check(file, len, COOP_GUEST_BASE + COOP_PASSAGE_SIZE, load_max, &vm->image,
			    why, sizeof(why));
	if (!rc && page_up(vm->image.end) + MIN_HEAP > load_max) {
		snprintf(why, sizeof(why), "--mem is too small for this kernel (it ends at +%llu KiB)",
			 (unsigned long long)((vm->image.end - COOP_GUEST_BASE) >> 10));
		rc = -E2BIG;
	}
	if (!rc)
		rc = shim_elf_load(file, len, &vm->image, vm->ram, COOP_GUEST_BASE, vm->mem_size,
				   why, sizeof(why));
	if (!rc) { /* for crash reports: names and unwind tables */
		shim_symbols_load(&vm->syms, file, len);
		shim_symbols_register_unwind(vm, file, len);
	}
	if (rc)
		snprintf(err, errlen, "--kernel %s: %s", cfg->kernel, why);
	return rc;
}

/*
 * coop's own guest: RAM is this process's anonymous memory (pinned by the
 * module on the kmod backend), the kernel at its link address, W^X.
 */
static int small_create(struct shim_vm *vm, const struct shim_config *cfg, const void *file,
			size_t len, char *err, size_t errlen)
{
	int rc;

	vm->mem_size = cfg->mem_size ? cfg->mem_size : SHIM_DEFAULT_MEM;
	vm->guard = COOP_GUEST_BASE + vm->mem_size - COOP_BOOT_STACK_SIZE - COOP_STACK_GUARD_SIZE;
	vm->ram = host_ram_map(vm->mem_size, err, errlen);
	if (!vm->ram)
		return -ENOMEM;
	vm->passage = vm->ram;
	/* kmod: the module pins this very RAM and gives the guest its own page tables. */
	if (cfg->backend == SHIM_BACKEND_KMOD) {
		rc = host_kmod_create(vm, err, errlen);
		if (rc)
			return rc;
	}
	rc = load_kernel(vm, cfg, file, len, vm->guard, err, errlen);
	if (!rc)
		rc = protect(vm, vm->guard, err, errlen);
	return rc;
}

/* Open every device backend in turn (shim_devices); the first error stops. */
static int devices_open(struct shim_vm *vm, const struct shim_config *cfg, char *err,
			size_t errlen)
{
	for (unsigned int i = 0; i < shim_ndevices; i++) {
		const struct shim_device *d = shim_devices[i];
		int rc;

		vm->devices[d->id] = d;
		rc = d->open(vm, cfg, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* Close them in reverse; each close also undoes a partial open. */
static void devices_close(struct shim_vm *vm)
{
	for (unsigned int i = shim_ndevices; i-- > 0;)
		if (vm->devices[shim_devices[i]->id])
			shim_devices[i]->close(vm);
}

int shim_vm_create(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	struct shim_elf_kind kind;
	void *file;
	size_t len;
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->queue_tail = &vm->queue_head;
	vm->irq.event_fd = -1;
	vm->irq.watchdog_ns = cfg->watchdog_ns;
	vm->irq.stop_on_signals = cfg->stop_on_signals;
	for (int i = 0; i < SHIM_MAX_WATCH; i++)
		vm->watches[i].fd = -1;
	vm->switch_mode = cfg->switch_mode;
	vm->switch_fn = host_switch_fn(cfg->switch_mode);
	/* The kmod backend always makes a full ring-0 switch (host_kmod_load). */
	rc = cfg->backend == SHIM_BACKEND_KMOD ? 0 :
	     host_switch_mode_check(cfg->switch_mode, err, errlen);
	if (rc)
		return rc;
	rc = read_kernel(cfg, &file, &len, &kind, err, errlen);
	if (rc)
		return rc;
	if (cfg->initrd && !kind.is_linux) {
		free(file);
		snprintf(err, errlen, "--initrd %s: only a Linux guest takes an initramfs (--kernel %s "
			 "is coop's own)", cfg->initrd, cfg->kernel);
		return -EINVAL;
	}
	rc = kind.is_linux ? shim_linux_create(vm, cfg, file, len, &kind, err, errlen) :
			     small_create(vm, cfg, file, len, err, errlen);
	free(file);
	if (rc)
		goto err_unmap;
	/* Host interrupts before the console: it asks for signals. */
	rc = host_irq_init(vm, err, errlen);
	if (rc)
		goto err_irq;
	rc = shim_faults_open(vm, cfg, err, errlen);
	if (!rc)
		rc = devices_open(vm, cfg, err, errlen);
	if (rc)
		goto err_devices;
	passage_init(vm, cfg);
	if (kind.is_linux) {
		rc = shim_linux_start(vm, err, errlen);
		if (rc)
			goto err_devices;
		return 0;
	}
	passage_small(vm, page_up(vm->image.end), vm->guard);
	if (!vm->kmod && cfg->trap_guest_syscalls) {
		rc = host_trap_guest_syscalls(err, errlen);
		if (rc)
			goto err_devices;
	}
	if (vm->kmod) {
		rc = host_kmod_load(vm, COOP_GUEST_BASE + vm->mem_size, vm->guard, err, errlen);
		if (rc)
			goto err_devices;
	}
	return 0;

err_devices:
	shim_faults_close(vm, NULL);
	devices_close(vm);
	shim_router_free(vm);
err_irq:
	host_irq_fini(vm);
err_unmap:
	host_kmod_destroy(vm);
	shim_symbols_unregister_unwind(vm);
	shim_symbols_free(&vm->syms);
	host_ram_unmap(vm->ram, vm->mem_size);
	vm->ram = NULL;
	return rc;
}

void shim_vm_destroy(struct shim_vm *vm)
{
	host_irq_fini(vm);
	devices_close(vm);
	shim_router_free(vm);
	shim_faults_close(vm, NULL);
	free(vm->fault_outcome);
	vm->fault_outcome = NULL;
	shim_symbols_unregister_unwind(vm);
	shim_symbols_free(&vm->syms);
	free(vm->report);
	vm->report = NULL;
	host_kmod_destroy(vm); /* before the RAM it pins goes */
	host_ram_unmap(vm->ram, vm->mem_size);
	vm->ram = NULL;
}
