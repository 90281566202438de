/* SPDX-License-Identifier: MIT */
/*
 * user.h - the user backend: guest RAM is a mapping in the coop process
 * and a world switch is a coroutine switch (arch/x86_64/switch.S).
 */
#ifndef SHIM_BACKEND_USER_H
#define SHIM_BACKEND_USER_H

#include <stddef.h>
#include <stdint.h>

#include <coop/abi.h>

/* A world switch: save the current side into @save, load @load. */
typedef void (*coop_switch_fn)(struct coop_cpu_context *save, struct coop_cpu_context *load);

/* switch.S */
void coop_switch_default(struct coop_cpu_context *save, struct coop_cpu_context *load);
void coop_switch_full(struct coop_cpu_context *save, struct coop_cpu_context *load);
/*
 * The guest's ways back into the host (switch.S): they load
 * coop_host_context, whatever `load` says; the default one clears DF and AC.
 */
void coop_switch_to_host(struct coop_cpu_context *save, struct coop_cpu_context *load);
void coop_switch_full_to_host(struct coop_cpu_context *save, struct coop_cpu_context *load);
/* The host's context while a guest runs: outside guest RAM (host_context_bind). */
extern struct coop_cpu_context *coop_host_context;
void coop_guest_bottom(void);
void coop_guest_return(void); /* the bottom frame's return address */

/* "default" / "full" -> COOP_SWITCH_*; -EINVAL for anything else. */
int host_switch_mode_parse(const char *name, uint32_t *mode);
const char *host_switch_mode_name(uint32_t mode);

/*
 * Can this CPU and kernel run @mode?  Full mode needs FSGSBASE enabled for
 * user space, XSAVEOPT, and an xsave area that fits COOP_XSAVE_AREA_SIZE.
 * Returns 0, or -ENOTSUP with the reason in err.
 */
__attribute__((warn_unused_result)) int
host_switch_mode_check(uint32_t mode, char *err, size_t errlen);

/* The switch routine for a (checked) mode. */
coop_switch_fn host_switch_fn(uint32_t mode);
/* The routine the guest calls to switch to the host (passage hdr.switch_to_host). */
coop_switch_fn host_guest_switch_fn(uint32_t mode);
/*
 * From now on, a system call made from guest memory is a SIGSYS (a guest
 * crash) instead of the host kernel's service: a seccomp filter on the
 * instruction pointer, for this process and for good.  0 or -errno.
 */
int host_trap_guest_syscalls(char *err, size_t errlen);

/* Where the host's context lives while a guest (or a test's other side) runs. */
void host_context_bind(struct coop_cpu_context *host);

/*
 * Prepare @host to be saved into by the first switch: the state a switch
 * loads must be valid even for components nobody has saved yet.
 */
void host_context_init_host(struct coop_cpu_context *host, uint32_t mode);

/*
 * Prepare a context that starts running entry() on a new stack whose
 * highest byte is stack_top - 1, as if entry had been called from the
 * host code that switches to it (see coop_guest_bottom in switch.S).
 */
void host_context_init_entry(struct coop_cpu_context *ctx, uint32_t mode, uint64_t stack_top,
			     uint64_t entry, struct coop_cpu_context *host);

/*
 * Map guest RAM at COOP_GUEST_BASE (never over an existing mapping).
 * Returns the mapping or NULL with the reason in err.
 */
void *host_ram_map(uint64_t size, char *err, size_t errlen);
void host_ram_unmap(void *ram, uint64_t size);

#endif /* SHIM_BACKEND_USER_H */
