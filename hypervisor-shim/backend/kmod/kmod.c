/* SPDX-License-Identifier: MIT */
/*
 * kmod.c - the kmod backend's user-space half: drive /dev/coop (coop.ko,
 * backend/kmod/module/) for the monitor.  `coop run --backend kmod`.
 *
 * The monitor stays as it is: it calls vm->switch_fn to run the guest,
 * and here that is one RUN ioctl.  RUN comes back when the guest left an
 * operation (the monitor serves it), when a signal waits for this thread
 * or the module's time slice ended (a forwarded interrupt: the monitor
 * serves its events and the module delivers the vIRQs they raised on the
 * next RUN), or when the guest took a CPU exception or executed a
 * software interrupt (a crash report from its registers, as the user
 * backend makes one from a signal).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <coop/kmod.h>

#include "core/shim.h"
#include "trace/trace.h"

struct shim_kmod {
	int fd;                        /* /dev/coop, one guest */
	struct coop_kmod_create create; /* where the switcher is */
};

/* The loader's segment flags go to the module as they are. */
_Static_assert(PF_R == COOP_KMOD_SEG_R && PF_W == COOP_KMOD_SEG_W && PF_X == COOP_KMOD_SEG_X,
	       "COOP_KMOD_SEG_* are the ELF p_flags bits");

/* The guest RUN enters: switch_fn has no room for it (user.h's signature). */
static struct shim_vm *kmod_vm;

/*
 * Open /dev/coop into a new struct shim_kmod and check the module's API
 * (at least minor, for what the caller needs); v gets its VERSION.  NULL
 * with the reason in err (the module is missing, refuses or is too old).
 */
static struct shim_kmod *kmod_open(struct coop_kmod_version *v, unsigned int minor,
				   const char *need, char *err, size_t errlen)
{
	struct shim_kmod *k = calloc(1, sizeof(*k));

	if (!k) {
		snprintf(err, errlen, "--backend kmod: out of memory");
		return NULL;
	}
	k->fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "--backend kmod: %s: %s%s", COOP_KMOD_DEVICE, strerror(e),
			 e == ENOENT ? " (load the module: insmod coop.ko)" :
			 e == EACCES ? " (the kmod backend needs root)" :
			 e == EPERM ? " (the kmod backend needs CAP_SYS_RAWIO)" : "");
		goto err_free;
	}
	memset(v, 0, sizeof(*v));
	if (ioctl(k->fd, COOP_KMOD_VERSION, v)) {
		snprintf(err, errlen, "--backend kmod: %s does not answer VERSION (%s): not coop.ko?",
			 COOP_KMOD_DEVICE, strerror(errno));
		goto err_close;
	}
	if (v->api_major != COOP_KMOD_API_MAJOR || v->api_minor < minor) {
		snprintf(err, errlen, "--backend kmod: %s speaks API %u.%u, coop %u.%u%s%s: rebuild "
			 "the module", COOP_KMOD_DEVICE, v->api_major, v->api_minor,
			 COOP_KMOD_API_MAJOR, COOP_KMOD_API_MINOR, need ? " and " : "", need ? need : "");
		goto err_close;
	}
	return k;

err_close:
	close(k->fd);
err_free:
	free(k);
	return NULL;
}

/* Ready to RUN once loaded: the switch finds the guest here. */
static void kmod_attach(struct shim_vm *vm, struct shim_kmod *k)
{
	vm->kmod = k;
	kmod_vm = vm;
}

int host_kmod_create(struct shim_vm *vm, char *err, size_t errlen)
{
	struct coop_kmod_version v;
	struct shim_kmod *k = kmod_open(&v, 0, NULL, err, errlen);

	if (!k)
		return -ENODEV;
	k->create = (struct coop_kmod_create){ .ram_addr = (uint64_t)(uintptr_t)vm->ram,
					       .ram_size = vm->mem_size };
	if (ioctl(k->fd, COOP_KMOD_CREATE, &k->create)) {
		int e = errno;

		snprintf(err, errlen, "--backend kmod: cannot create the guest: %s%s", strerror(e),
			 e == EINVAL ? " (guest RAM must be anonymous private memory, "
				       "not a file or shared memory)" : "");
		close(k->fd);
		free(k);
		return -ENODEV;
	}
	kmod_attach(vm, k);
	return 0;
}

/* How much of the region l a Linux guest gets: --mem, or all of it. */
static int linux_mem(const struct coop_kmod_layout *l, uint64_t want, uint64_t *size, char *err,
		     size_t errlen)
{
	uint64_t all = l->phys_size & ~(uint64_t)(COOP_PAGE_SIZE - 1);

	if (!l->phys_size) {
		snprintf(err, errlen, "--backend kmod: the module has no physical memory for Linux "
			 "guests: boot the host with memmap=SIZE$ADDR (e.g. memmap=256M$0x20000000) "
			 "and load the module with insmod coop.ko phys_ram=SIZE@ADDR");
		return -ENOSPC;
	}
	if (l->busy) {
		snprintf(err, errlen, "--backend kmod: the module's physical memory for Linux guests "
			 "(%llu MiB at %#llx) is in use by another guest",
			 (unsigned long long)(l->phys_size >> 20), (unsigned long long)l->phys_start);
		return -EBUSY;
	}
	if (want > all) {
		snprintf(err, errlen, "--mem: %llu MiB is more than the module's physical memory for "
			 "Linux guests (%llu MiB at %#llx)", (unsigned long long)(want >> 20),
			 (unsigned long long)(all >> 20), (unsigned long long)l->phys_start);
		return -E2BIG;
	}
	*size = want ? want : all < COOP_MEM_MAX ? all : COOP_MEM_MAX;
	return 0;
}

/* CREATE_LINUX, then the claimed RAM at COOP_GUEST_BASE (MAP_SHARED: the module's pages). */
static int linux_claim(struct shim_vm *vm, struct shim_kmod *k, uint64_t size, char *err,
		       size_t errlen)
{
	void *want = (void *)(uintptr_t)COOP_GUEST_BASE, *ram;

	k->create = (struct coop_kmod_create){ .ram_size = size, .flags = COOP_KMOD_CREATE_LINUX };
	if (ioctl(k->fd, COOP_KMOD_CREATE, &k->create)) {
		snprintf(err, errlen, "--backend kmod: cannot create the Linux guest (%llu MiB): %s",
			 (unsigned long long)(size >> 20), strerror(errno));
		return -ENODEV;
	}
	ram = mmap(want, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, k->fd, 0);
	if (ram != want) {
		snprintf(err, errlen, "--backend kmod: cannot map the Linux guest's RAM at %p: %s",
			 want, ram == MAP_FAILED ? strerror(errno) : "the address is in use");
		if (ram != MAP_FAILED)
			munmap(ram, size);
		return -ENOMEM;
	}
	vm->ram = ram;
	vm->passage = ram;
	vm->mem_size = size;
	return 0;
}

int host_kmod_create_linux(struct shim_vm *vm, uint64_t mem_size, char *err, size_t errlen)
{
	struct coop_kmod_layout l = { 0 };
	struct coop_kmod_version v;
	struct shim_kmod *k = kmod_open(&v, 2, "a Linux guest needs 1.2", err, errlen);
	uint64_t size = 0;
	int rc;

	if (!k)
		return -ENODEV;
	if (ioctl(k->fd, COOP_KMOD_GET_LAYOUT, &l)) {
		int e = errno;

		snprintf(err, errlen, "--backend kmod: GET_LAYOUT: %s%s", strerror(e),
			 e == ENOTTY ? " (the module predates Linux guests: rebuild and reload it)" : "");
		rc = -ENODEV;
		goto err_close;
	}
	rc = linux_mem(&l, mem_size, &size, err, errlen);
	if (!rc)
		rc = linux_claim(vm, k, size, err, errlen);
	if (rc)
		goto err_close;
	vm->lx.phys_base = l.phys_start;
	vm->lx.paging_levels = v.paging_levels;
	kmod_attach(vm, k);
	return 0;

err_close:
	close(k->fd);
	free(k);
	return rc;
}

/* One question to the module, on a file of its own (no guest). */
static int kmod_ask(unsigned long request, void *arg)
{
	int fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, request, arg))
		rc = -errno;
	close(fd);
	return rc;
}

int host_kmod_version(struct coop_kmod_version *v)
{
	return kmod_ask(COOP_KMOD_VERSION, v);
}

int host_kmod_layout(struct coop_kmod_layout *l)
{
	return kmod_ask(COOP_KMOD_GET_LAYOUT, l);
}

/* The crash the user backend would see as a signal (crash.c words it). */
static void exception_signal(struct shim_crash *c, const struct coop_kmod_run *r, uint64_t rip)
{
	c->addr = 0;
	c->code = 0;
	switch (r->vector) {
	case 0: /* #DE */
		c->sig = SIGFPE, c->code = FPE_INTDIV;
		break;
	case 16: /* #MF */
	case 19: /* #XM */
		c->sig = SIGFPE;
		break;
	case 6: /* #UD */
		c->sig = SIGILL, c->code = ILL_ILLOPN, c->addr = rip;
		break;
	case 14: /* #PF: present bit set means a permission fault */
		c->sig = SIGSEGV, c->addr = r->cr2;
		c->code = r->error & 1 ? SEGV_ACCERR : SEGV_MAPERR;
		break;
	case 17: /* #AC */
	case 18: /* #MC */
		c->sig = SIGBUS;
		break;
	case 1: /* #DB */
	case 3: /* #BP */
		c->sig = SIGTRAP;
		break;
	default: /* #GP, #SS, #NP, #TS, #DF, ... */
		c->sig = SIGSEGV;
	}
}

/*
 * The guest's backtrace, as the user backend takes it: guest RAM is this
 * process's memory at the guest's own addresses and the guest's unwind
 * tables are registered with libunwind (core/symbols.c), so a signal-frame
 * context made of the guest's registers unwinds it with its CFI.  The walk
 * ends at the entry's return address, the switcher's trap, which has none.
 */
static void backtrace_guest(const struct shim_vm *vm, struct shim_crash *c, ucontext_t *uc)
{
	unw_cursor_t cur;

	c->nframes = 0;
	if (unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME))
		return;
	do {
		unw_word_t ip;

		unw_get_reg(&cur, UNW_REG_IP, &ip);
		if (!shim_guest_text(vm, ip))
			break;
		c->frames[c->nframes++] = (struct shim_frame){ .ip = ip, .guest = true };
	} while (c->nframes < SHIM_MAX_FRAMES && unw_step(&cur) > 0);
}

/* Fill vm->crash from the guest's registers, as a signal handler would. */
static void capture(struct shim_vm *vm, const struct coop_kmod_run *r, int sig)
{
	struct shim_crash *c = &vm->crash;
	struct coop_kmod_state s;
	ucontext_t uc;

	memset(c, 0, sizeof(*c));
	if (ioctl(vm->kmod->fd, COOP_KMOD_GET_STATE, &s))
		memset(&s, 0, sizeof(s));
	if (r)
		exception_signal(c, r, s.regs.rip);
	else
		c->sig = sig;
	c->gregs[REG_R8] = (long long)s.regs.r8, c->gregs[REG_R9] = (long long)s.regs.r9;
	c->gregs[REG_R10] = (long long)s.regs.r10, c->gregs[REG_R11] = (long long)s.regs.r11;
	c->gregs[REG_R12] = (long long)s.regs.r12, c->gregs[REG_R13] = (long long)s.regs.r13;
	c->gregs[REG_R14] = (long long)s.regs.r14, c->gregs[REG_R15] = (long long)s.regs.r15;
	c->gregs[REG_RDI] = (long long)s.regs.rdi, c->gregs[REG_RSI] = (long long)s.regs.rsi;
	c->gregs[REG_RBP] = (long long)s.regs.rbp, c->gregs[REG_RBX] = (long long)s.regs.rbx;
	c->gregs[REG_RDX] = (long long)s.regs.rdx, c->gregs[REG_RAX] = (long long)s.regs.rax;
	c->gregs[REG_RCX] = (long long)s.regs.rcx, c->gregs[REG_RSP] = (long long)s.regs.rsp;
	c->gregs[REG_RIP] = (long long)s.regs.rip, c->gregs[REG_EFL] = (long long)s.regs.rflags;
	c->gregs[REG_ERR] = (long long)s.regs.error;
	c->gregs[REG_TRAPNO] = (long long)s.regs.vector;
	/*
	 * A Linux guest's addresses are not this process's: no unwinding
	 * (the report names vmlinux for addr2line instead).
	 */
	if (!vm->lx.phys_base) {
		getcontext(&uc); /* a valid context; its registers are then the guest's */
		memcpy(uc.uc_mcontext.gregs, c->gregs, sizeof(c->gregs));
		backtrace_guest(vm, c, &uc);
	}
	if (!c->nframes) { /* no unwind info at rip: at least the frame itself */
		c->frames[0] = (struct shim_frame){ .ip = s.regs.rip,
						    .guest = shim_guest_text(vm, s.regs.rip) };
		c->nframes = 1;
	}
	vm->crashed = true;
}

/*
 * A reason the monitor's report cannot word from a signal, in its words
 * ("guest crashed: WHAT in FUNCTION+OFF").  Said before the monitor ends
 * the guest, so it is the one that sticks (core/kill.c); the registers
 * and the backtrace follow as for any crash (shim_crash_end).
 */
static void crash_reason(struct shim_vm *vm, const char *what)
{
	uint64_t rip = (uint64_t)vm->crash.gregs[REG_RIP], off = 0;
	const char *fn = shim_guest_text(vm, rip) ? shim_symbol(&vm->syms, rip, &off) : NULL;

	if (fn)
		shim_kill_guest(vm, "guest crashed: %s in %s+%#llx", what, fn, (unsigned long long)off);
	else
		shim_kill_guest(vm, "guest crashed: %s in ?", what);
}

/* The guest ended in an exception or an `int $N` (r->exit says which). */
static void crashed(struct shim_vm *vm, const struct coop_kmod_run *r)
{
	char what[64];

	if (r->exit == COOP_KMOD_EXIT_SOFT_INT) {
		/* What a process gets for `int $N` through a gate it may not use (#GP). */
		capture(vm, NULL, SIGSEGV);
		snprintf(what, sizeof(what), "software interrupt %u (int $%#x)", r->vector, r->vector);
		crash_reason(vm, what);
		return;
	}
	capture(vm, r, 0);
	if (r->vector == 3) /* #BP: int3, or int $3 */
		crash_reason(vm, "SIGTRAP (breakpoint)");
	else if (r->vector == 1)
		crash_reason(vm, "SIGTRAP (debug exception)");
}

/* After RUN: the monitor's counters, and whether the guest made progress. */
static void account(struct shim_vm *vm, const struct coop_kmod_run *r)
{
	vm->stats.irqs_forwarded += r->stats.irqs_forwarded;
	/* A Linux guest's FORWARD operations: served in the module, counted here. */
	vm->stats.by_op[COOP_OP_FORWARD] += r->stats.forward_ops;
	vm->stats.irqs_delivered += r->stats.virqs_delivered;
	if (r->stats.virqs_delivered)
		vm->progress_tsc = shim_rdtsc();
	/*
	 * switches.total counts round trips; one RUN may hold many (each
	 * forwarded interrupt is one).  The monitor adds 1 when we return,
	 * so add the rest; a RUN that never entered is none.
	 */
	if (r->stats.entries)
		vm->stats.switches += r->stats.entries - 1;
	else
		vm->not_entered = true;
}

/* With --trace, RUN's log (API 1.3): every entry of one RUN. */
static struct coop_kmod_trip kmod_log[COOP_KMOD_LOG_MAX];

/*
 * The trace of a RUN, from its log: the monitor traces the first entry's
 * coop:switch_in and the last exit's coop:switch_out; here go the ones
 * between - the round trips the module served itself - with the
 * interrupts it replayed and the vIRQs it delivered, at the TSC the
 * module took.  So the trace has a coop:switch_out per switches.total
 * and a coop:irq_forward per irqs.forwarded under this backend too.
 */
static void trace_log(struct shim_vm *vm, const struct coop_kmod_run *r)
{
	uint32_t n = r->log_count <= COOP_KMOD_LOG_MAX ? r->log_count : COOP_KMOD_LOG_MAX;

	if (n != r->stats.entries)
		fprintf(stderr, "coop: warning: --trace: the module logged %u of %llu entries into the guest\n",
			n, (unsigned long long)r->stats.entries);
	for (uint32_t i = 0; i < n; i++) {
		const struct coop_kmod_trip *t = &kmod_log[i];

		if (t->virqs)
			coop_trace_do(virq_deliver, t->virq_vector, t->virqs, COOP_TRACE_VIRQ_ASYNC);
		if (i > 0)
			coop_trace_do(switch_in, t->tsc_in, t->tsc_in - kmod_log[i - 1].tsc_out, t->vif,
				      t->pending);
		if (i + 1 < n)
			coop_trace_do(switch_out, t->reason, t->op_seq, t->tsc_out,
				      t->tsc_out - t->tsc_in);
		for (uint32_t k = 0; k < t->replays && k < 2; k++) {
			bool nmi = k == 0 && t->nmi_in_switch;

			coop_trace_do(irq_forward, 0, nmi ? COOP_TRACE_IRQ_NMI_SWITCH : t->source,
				      nmi ? 2 : t->vector, 0, t->tsc_served - t->tsc_out, 0);
		}
		/* The last exit is the monitor's switch_out: guest cycles since, and why. */
		vm->trace_tsc = t->tsc_in;
		vm->trace_reason = t->reason;
	}
}

/*
 * For `coop bench` (irq_forward): a host interrupt pulled the guest out at
 * tsc_out of a RUN that came back for a signal; the monitor served it and
 * raised the vIRQ, the next RUN delivered it and the guest's handler
 * stamped handler_tsc.  A sample is that interval; RUNs that delivered
 * nothing (a slice's end, an interrupt that raised no vIRQ) give none.
 */
static void sample_forward(struct shim_vm *vm, const struct coop_kmod_run *r)
{
	struct shim_samples *s = vm->irq.fwd.samples;
	uint64_t h = vm->passage->virq.handler_tsc;

	if (vm->irq.fwd.tsc && r->stats.virqs_delivered && h > vm->irq.fwd.tsc && s->n < s->cap)
		s->v[s->n++] = h - vm->irq.fwd.tsc;
	vm->irq.fwd.tsc = r->exit == COOP_KMOD_EXIT_INTERRUPTED && r->stats.irqs_forwarded ? r->tsc_out
										     : 0;
}

/* vm->switch_fn: run the guest until it needs the monitor. */
static void kmod_switch(struct coop_cpu_context *save, struct coop_cpu_context *load)
{
	struct shim_vm *vm = kmod_vm;
	struct coop_kmod_run r;

	(void)save, (void)load; /* the module keeps both sides' state */
	memset(&r, 0, sizeof(r));
	if (coop_trace_enabled(switch_out)) {
		r.log = (uint64_t)(uintptr_t)kmod_log;
		r.log_cap = COOP_KMOD_LOG_MAX;
	}
	if (ioctl(vm->kmod->fd, COOP_KMOD_RUN, &r)) {
		/* A signal before RUN got going is just an early return. */
		r.exit = errno == EINTR ? COOP_KMOD_EXIT_INTERRUPTED : 0;
		if (!r.exit)
			shim_kill_guest(vm, "--backend kmod: RUN: %s", strerror(errno));
	}
	account(vm, &r);
	if (r.log_cap)
		trace_log(vm, &r);
	if (vm->irq.fwd.samples)
		sample_forward(vm, &r);
	vm->forwarded = r.exit != COOP_KMOD_EXIT_OPERATION;
	switch (r.exit) {
	case COOP_KMOD_EXIT_INTERRUPTED:
		if (shim_guest_hung(vm))
			capture(vm, NULL, 0);
		break;
	case COOP_KMOD_EXIT_EXCEPTION:
	case COOP_KMOD_EXIT_SOFT_INT:
		crashed(vm, &r);
		break;
	case COOP_KMOD_EXIT_BAD_VIRQ:
		shim_kill_guest(vm, "cannot deliver a vIRQ: its frame at %#llx is not writable guest memory "
				    "(stack overflow?) or the entry is not guest code",
				(unsigned long long)r.cr2);
		break;
	default:
		break;
	}
}

/* After a LOAD: the passage's way out, and RUN as the way in. */
static void kmod_loaded(struct shim_vm *vm)
{
	vm->passage->hdr.switch_to_host = vm->kmod->create.switch_to_host;
	vm->passage->hdr.switch_mode = COOP_SWITCH_FULL; /* a ring-0 switch exchanges it all */
	vm->switch_mode = COOP_SWITCH_FULL;
	vm->switch_fn = kmod_switch;
}

int host_kmod_load(struct shim_vm *vm, uint64_t stack_top, uint64_t guard, char *err,
		   size_t errlen)
{
	struct shim_kmod *k = vm->kmod;
	uint64_t *top = (uint64_t *)(uintptr_t)(stack_top & ~(uint64_t)15);
	struct coop_kmod_load l = { .rip = vm->image.entry, .guard = guard };
	const uint64_t page = COOP_PAGE_SIZE;

	for (unsigned int i = 0; i < vm->image.nsegs; i++) {
		const struct shim_elf_seg *s = &vm->image.segs[i];

		l.segs[l.nsegs++] = (struct coop_kmod_seg){
			.start = s->vaddr & ~(page - 1),
			.end = (s->vaddr + s->memsz + page - 1) & ~(page - 1),
			.flags = s->flags & (COOP_KMOD_SEG_R | COOP_KMOD_SEG_W | COOP_KMOD_SEG_X),
		};
	}
	/*
	 * The boot frame: the entry point is entered as if called, its
	 * return address a trap in the switcher (returning ends the guest).
	 */
	top[-1] = 0;
	top[-2] = 0;
	top[-3] = k->create.return_trap;
	l.rsp = (uint64_t)(uintptr_t)&top[-3];
	if (ioctl(k->fd, COOP_KMOD_LOAD, &l)) {
		snprintf(err, errlen, "--backend kmod: the module refused the guest's layout: %s",
			 strerror(errno));
		return -ENODEV;
	}
	kmod_loaded(vm);
	return 0;
}

int host_kmod_load_linux(struct shim_vm *vm, uint64_t page_offset, char *err, size_t errlen)
{
	struct coop_kmod_load_linux l = {
		.entry = vm->lx.entry, .boot_params = vm->lx.boot_params,
		.kernel_phys = vm->lx.kernel_phys, .kernel_size = vm->lx.kernel_size,
		.kernel_va = vm->lx.kernel_va, .page_offset = page_offset,
	};

	if (ioctl(vm->kmod->fd, COOP_KMOD_LOAD_LINUX, &l)) {
		snprintf(err, errlen, "--backend kmod: the module refused the Linux guest (LOAD_LINUX: "
			 "entry %#llx, image %#llx+%#llx at %#llx): %s", (unsigned long long)l.entry,
			 (unsigned long long)l.kernel_phys, (unsigned long long)l.kernel_size,
			 (unsigned long long)l.kernel_va, strerror(errno));
		return -ENODEV;
	}
	kmod_loaded(vm);
	return 0;
}

void host_kmod_destroy(struct shim_vm *vm)
{
	struct shim_kmod *k = vm->kmod;

	if (!k)
		return;
	close(k->fd);
	free(k);
	vm->kmod = NULL;
	if (kmod_vm == vm)
		kmod_vm = NULL;
}
