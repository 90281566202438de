/* SPDX-License-Identifier: MIT */
/*
 * user.c - the user backend's host services: guest RAM as a fixed mapping
 * in the coop process, the choice of switch mode, and the initial CPU
 * contexts the switch (arch/x86_64/switch.S) loads.
 */
#include <cpuid.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "backend/user/user.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

#define MXCSR_DEFAULT 0x1f80  /* all SSE exceptions masked, round to nearest */
#define FPU_CW_DEFAULT 0x037f /* all x87 exceptions masked, 64-bit precision */
#define RFLAGS_DEFAULT 0x202  /* IF (ignored by popfq in user mode) + reserved bit 1 */
#define XSAVE_MXCSR_OFF 24    /* MXCSR in the xsave legacy region */

int host_switch_mode_parse(const char *name, uint32_t *mode)
{
	if (!strcmp(name, "default"))
		*mode = COOP_SWITCH_DEFAULT;
	else if (!strcmp(name, "full"))
		*mode = COOP_SWITCH_FULL;
	else
		return -EINVAL;
	return 0;
}

const char *host_switch_mode_name(uint32_t mode)
{
	return mode == COOP_SWITCH_FULL ? "full" : "default";
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

int host_switch_mode_check(uint32_t mode, char *err, size_t errlen)
{
	unsigned int a, b, c, d;

	if (mode == COOP_SWITCH_DEFAULT)
		return 0;
	if (mode != COOP_SWITCH_FULL) {
		snprintf(err, errlen, "unknown switch mode %u", mode);
		return -EINVAL;
	}
	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
		snprintf(err, errlen, "full switch mode needs FSGSBASE, which this kernel does not enable for user space");
		return -ENOTSUP;
	}
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) {
		snprintf(err, errlen, "full switch mode needs XSAVE enabled by the OS");
		return -ENOTSUP;
	}
	__cpuid_count(0xd, 1, a, b, c, d);
	if (!(a & 1)) {
		snprintf(err, errlen, "full switch mode needs XSAVEOPT");
		return -ENOTSUP;
	}
	/* EBX of leaf 0xd/0: xsave area size for the features enabled in XCR0. */
	__cpuid_count(0xd, 0, a, b, c, d);
	if (b > COOP_XSAVE_AREA_SIZE) {
		snprintf(err, errlen, "full switch mode: this CPU's xsave area (%u bytes) exceeds the ABI's %u",
			 b, COOP_XSAVE_AREA_SIZE);
		return -ENOTSUP;
	}
	return 0;
}

coop_switch_fn host_switch_fn(uint32_t mode)
{
	return mode == COOP_SWITCH_FULL ? coop_switch_full : coop_switch_default;
}

/* The full mode restores the host's whole rflags anyway. */
coop_switch_fn host_guest_switch_fn(uint32_t mode)
{
	return mode == COOP_SWITCH_FULL ? coop_switch_full_to_host : coop_switch_to_host;
}

/*
 * The guest is code in coop's own process: nothing stops it from making
 * system calls as coop, with coop's rights (it is trusted, see the threat
 * model: this catches mistakes, not malice).  A seccomp filter on the
 * instruction pointer sends every system call made from guest memory --
 * syscall, int $0x80 or sysenter, whatever the number -- to SIGSYS, which
 * the monitor reports as a guest crash.  Calls from host code pass at the
 * cost of a four-instruction filter.  Guest memory is the ABI's window,
 * [COOP_GUEST_BASE, + COOP_MEM_MAX): the high halves of its addresses.
 */
int host_trap_guest_syscalls(char *err, size_t errlen)
{
	enum {
		IP_HI = offsetof(struct seccomp_data, instruction_pointer) + 4,
		LO = (uint32_t)(COOP_GUEST_BASE >> 32),
		HI = (uint32_t)((COOP_GUEST_BASE + COOP_MEM_MAX) >> 32),
	};
	_Static_assert((COOP_GUEST_BASE & 0xffffffffull) == 0 &&
		       ((COOP_GUEST_BASE + COOP_MEM_MAX) & 0xffffffffull) == 0,
		       "the guest window is whole 4 GiB blocks");
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_HI),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, HI, 1, 0),   /* above guest memory: allow */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, LO, 1, 0),   /* inside: trap */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	static struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	static bool done;

	if (done) /* filters stack and stay: once per process is enough */
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		snprintf(err, errlen, "cannot keep guest code from system calls (seccomp): %s",
			 strerror(errno));
		return -errno;
	}
	done = true;
	return 0;
}

void host_context_bind(struct coop_cpu_context *host)
{
	coop_host_context = host;
}

static void context_init(struct coop_cpu_context *ctx, uint32_t mode)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->mxcsr = MXCSR_DEFAULT;
	ctx->fpu_cw = FPU_CW_DEFAULT;
	ctx->rflags = RFLAGS_DEFAULT;
	if (mode != COOP_SWITCH_FULL)
		return;
	/*
	 * An all-zero xsave header means "every component in its init
	 * state" to xrstor - except MXCSR, which xrstor loads from the legacy
	 * region whenever SSE or AVX is requested: give it a sane value.
	 */
	ctx->xsave_mask = xgetbv0();
	memcpy(ctx->xsave + XSAVE_MXCSR_OFF, &(uint32_t){ MXCSR_DEFAULT }, sizeof(uint32_t));
	/*
	 * The guest keeps the host's FS base: host signal handlers that
	 * interrupt it run glibc code, which finds its TLS through FS.
	 */
	__asm__ volatile("rdfsbase %0" : "=r"(ctx->fs_base));
}

void host_context_init_host(struct coop_cpu_context *host, uint32_t mode)
{
	context_init(host, mode);
}

void host_context_init_entry(struct coop_cpu_context *ctx, uint32_t mode, uint64_t stack_top,
			     uint64_t entry, struct coop_cpu_context *host)
{
	uint64_t *top = (uint64_t *)(stack_top & ~(uint64_t)15);

	context_init(ctx, mode);
	/* The layout coop_guest_bottom's CFI expects (see switch.S). */
	top[-1] = 0;
	top[-2] = (uint64_t)(uintptr_t)host;
	top[-3] = (uint64_t)(uintptr_t)coop_guest_return;
	top[-4] = entry;
	ctx->rsp = (uint64_t)(uintptr_t)&top[-4];
}

void *host_ram_map(uint64_t size, char *err, size_t errlen)
{
	void *want = (void *)(uintptr_t)COOP_GUEST_BASE;
	void *ram = mmap(want, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (ram == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu bytes of guest RAM at %p: %s",
			 (unsigned long long)size, want, strerror(errno));
		return NULL;
	}
	if (ram != want) { /* a kernel older than 4.17 ignores the flag */
		munmap(ram, size);
		snprintf(err, errlen, "cannot map guest RAM at %p: the address is in use", want);
		return NULL;
	}
	return ram;
}

void host_ram_unmap(void *ram, uint64_t size)
{
	if (ram)
		munmap(ram, size);
}
