/* SPDX-License-Identifier: MIT */
/*
 * kmod.h - the kmod backend as the monitor sees it: guest RAM is still the
 * coop process's mapping at COOP_GUEST_BASE (so devices and the loader
 * work unchanged), but the module (/dev/coop, module/) pins it, gives the
 * guest its own page tables, GDT, IDT and TSS, and runs it in ring 0.
 * Host interrupts are still signals to this thread: RUN returns when one
 * is pending, the handler runs, and the monitor serves it as a forward.
 */
#ifndef SHIM_BACKEND_KMOD_H
#define SHIM_BACKEND_KMOD_H

#include <stddef.h>
#include <stdint.h>

#include <coop/abi.h>

/* shim_config.backend */
#define SHIM_BACKEND_USER 0 /* a coroutine switch in this process */
#define SHIM_BACKEND_KMOD 1 /* a ring-0 switch by coop.ko */

struct shim_vm;
struct shim_kmod; /* kmod.c: the open /dev/coop and what RUN reported */

/*
 * Open /dev/coop, check its API, and have the module pin the guest RAM
 * that is already mapped (vm->ram) and build the guest's ring-0 world.
 * -ENODEV with the reason in err if the module is not there or refuses.
 */
__attribute__((warn_unused_result)) int host_kmod_create(struct shim_vm *vm, char *err,
							 size_t errlen);

/*
 * Once the kernel is loaded and the passage filled: give the module the
 * segments, the guard page and the first registers (the entry point on
 * the boot stack at stack_top), point the passage's switch at the
 * switcher, and make vm->switch_fn enter the guest through RUN.
 */
__attribute__((warn_unused_result)) int host_kmod_load(struct shim_vm *vm, uint64_t stack_top,
						       uint64_t guard, char *err, size_t errlen);

/*
 * A Linux guest (API 1.2; core/linux.c): open /dev/coop, find the
 * module's physical region (GET_LAYOUT), claim mem_size bytes of it (0:
 * all of it, at most COOP_MEM_MAX) with CREATE_LINUX and map them at
 * COOP_GUEST_BASE; sets vm->ram, mem_size, passage, lx.phys_base and
 * lx.paging_levels.  -ENODEV (module missing, too old, refusing), -ENOMEM
 * (no mapping), or -ENOSPC, -EBUSY, -E2BIG (no region, in use, smaller
 * than mem_size: the user's to fix), with the reason in err.
 */
__attribute__((warn_unused_result)) int host_kmod_create_linux(struct shim_vm *vm,
							       uint64_t mem_size, char *err,
							       size_t errlen);

/*
 * Once the image, boot_params and passage are in place: LOAD_LINUX with
 * vm->lx and the guest's direct-map base, then RUN as for any kmod guest.
 */
__attribute__((warn_unused_result)) int host_kmod_load_linux(struct shim_vm *vm,
							     uint64_t page_offset, char *err,
							     size_t errlen);

/* What the loaded module answers to VERSION (coop bench labels its figures); -errno. */
struct coop_kmod_version;
int host_kmod_version(struct coop_kmod_version *v);
/* ... and to GET_LAYOUT: its physical region for Linux guests (API 1.2); -errno. */
struct coop_kmod_layout;
int host_kmod_layout(struct coop_kmod_layout *l);

/* Close /dev/coop: the module frees the guest and unpins its RAM. */
void host_kmod_destroy(struct shim_vm *vm);

#endif /* SHIM_BACKEND_KMOD_H */
