// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - RUN: the loop "deliver pending vIRQs -> switch into the guest ->
 * forward what brought it back", until the guest leaves an operation for
 * user space, takes a CPU exception, a signal waits for the caller, or the
 * time slice (COOP_KMOD_SLICE_MS) is over.  Between two switches the host
 * is an ordinary kernel again: interrupts on, preemptible, rescheduling.
 *
 * Around each switch, with interrupts off: the host's descriptor tables
 * and CR3 (segments.c), the MSRs the guest could change, and the FPU
 * (the guest's own xsave area inside kernel_fpu_begin/end).  A host
 * interrupt that hit the guest is replayed into the host's handler for
 * its vector while interrupts are still off, as if it had arrived here.
 *
 * Only a real one: the guest is in ring 0 and may execute `int $N` for
 * any N, which reaches the same stub as the hardware's vector N.  A
 * vector from 32 up is the host's only if the local APIC has it in
 * service; any other is a software interrupt and ends the guest, as its
 * exceptions do.  Replaying it would run a host handler for an interrupt
 * that never came: an EOI that ends another, real one still in service,
 * or the int $0x80 syscall gate on a kernel stack.
 */
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/hw_breakpoint.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/idtentry.h>
#include <asm/irq_vectors.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/traps.h>

#include "coop.h"
#include "coop_trace.h"

#define MXCSR_DEFAULT 0x1f80  /* all SIMD exceptions masked */
#define FCW_DEFAULT 0x037f    /* all x87 exceptions masked, 64-bit precision */

static bool use_xsave(void)
{
	return boot_cpu_has(X86_FEATURE_XSAVE);
}

/*
 * The components the guest's xsave area holds: the user ones XCR0 enables,
 * but PKRU (the host's protection keys for its user pages stay in force
 * for the host's code) and AMX tiles (they need the XFD handling of
 * Linux's own FPU code, and the guest has no use for them).
 */
static u64 xsave_mask(void)
{
	return xgetbv(XCR_XFEATURE_ENABLED_MASK) & ~(XFEATURE_MASK_PKRU | XFEATURE_MASK_XTILE);
}

/* The guest's FPU state starts in the init state, control words at their defaults. */
int coop_fpu_init(struct coop_vm *vm)
{
	size_t size = use_xsave() ? cpuid_ebx(0xd) : 512;

	vm->fpu_order = get_order(size);
	vm->fpu = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, vm->fpu_order);
	if (!vm->fpu)
		return -ENOMEM;
	*(u16 *)vm->fpu = FCW_DEFAULT;
	*(u32 *)(vm->fpu + 24) = MXCSR_DEFAULT;
	return 0;
}

void coop_fpu_free(struct coop_vm *vm)
{
	if (vm->fpu)
		free_pages((unsigned long)vm->fpu, vm->fpu_order);
	vm->fpu = NULL;
}

static void fpu_load(struct coop_vm *vm)
{
	u64 m;

	if (!use_xsave()) {
		asm volatile("fxrstor64 (%0)" : : "r"(vm->fpu) : "memory");
		return;
	}
	m = xsave_mask();
	asm volatile("xrstor64 (%0)" : : "r"(vm->fpu), "a"((u32)m), "d"((u32)(m >> 32)) : "memory");
}

static void fpu_save(struct coop_vm *vm)
{
	u64 m;

	if (!use_xsave()) {
		asm volatile("fxsave64 (%0)" : : "r"(vm->fpu) : "memory");
		return;
	}
	m = xsave_mask();
	asm volatile("xsave64 (%0)" : : "r"(vm->fpu), "a"((u32)m), "d"((u32)(m >> 32)) : "memory");
}

/*
 * MSRs the switch does not load but a ring-0 guest could change: the
 * segment bases (GS is the host's per-CPU base: the switcher puts it back
 * before the host's IDT, sw->host_gs_base) and, with kernel IBT, S_CET,
 * which the guest gets without ENDBR checks (it is not built with them).
 */
struct host_msrs {
	u64 fs, gs, kernel_gs, s_cet;
};

static void msrs_save(struct host_msrs *m)
{
	rdmsrl(MSR_FS_BASE, m->fs);
	rdmsrl(MSR_GS_BASE, m->gs);
	rdmsrl(MSR_KERNEL_GS_BASE, m->kernel_gs);
	if (cpu_feature_enabled(X86_FEATURE_IBT)) {
		rdmsrl(MSR_IA32_S_CET, m->s_cet);
		wrmsrl(MSR_IA32_S_CET, m->s_cet & ~CET_ENDBR_EN);
	}
}

static void msr_restore(u32 msr, u64 want)
{
	u64 now;

	rdmsrl(msr, now);
	if (now != want)
		wrmsrl(msr, want);
}

static void msrs_restore(const struct host_msrs *m)
{
	msr_restore(MSR_FS_BASE, m->fs);
	msr_restore(MSR_KERNEL_GS_BASE, m->kernel_gs);
	if (cpu_feature_enabled(X86_FEATURE_IBT))
		wrmsrl(MSR_IA32_S_CET, m->s_cet);
}

/*
 * Vectors the guest may take now: pending and not masked; *highest is the
 * one it takes first (coop_virq_pick, the ABI's rule), 0 if none.
 */
static unsigned int virq_deliverable(const struct coop_virq_state *v, unsigned int *highest)
{
	u64 pending[4], masked[4];
	unsigned int n = 0, w;
	int pick;

	for (w = 0; w < 4; w++) {
		pending[w] = READ_ONCE(v->pending[w]);
		masked[w] = READ_ONCE(v->masked[w]);
		n += hweight64(pending[w] & ~masked[w]);
	}
	pick = coop_virq_pick(pending, masked);
	*highest = pick < 0 ? 0 : pick;
	return n;
}

/*
 * Deliver pending virtual interrupts into the interrupted guest, as the
 * user backend does from its signal handler (abi.h, struct
 * coop_virq_state): push a struct coop_irq_frame right below its rsp and
 * resume it at the guest's entry with rdi = rsp = the frame, vif = 0.
 * Returns false, with run.exit set, if the frame cannot go there.
 */
static bool deliver_virqs(struct coop_vm *vm, struct coop_kmod_run *r)
{
	struct coop_virq_state *v = &vm->passage->virq;
	struct coop_kmod_regs *g = &vm->sw->guest;
	struct coop_irq_frame f;
	unsigned int n, highest;
	u64 entry = READ_ONCE(v->entry);
	u64 at = g->rsp - sizeof(f);

	if (!READ_ONCE(v->vif) || !entry)
		return true;
	n = virq_deliverable(v, &highest);
	if (!n)
		return true;
	if (!coop_guest_text(vm, entry) || !coop_guest_writable(vm, at, sizeof(f))) {
		r->exit = COOP_KMOD_EXIT_BAD_VIRQ;
		r->cr2 = at;
		return false;
	}
	f = (struct coop_irq_frame){
		.r15 = g->r15, .r14 = g->r14, .r13 = g->r13, .r12 = g->r12,
		.r11 = g->r11, .r10 = g->r10, .r9 = g->r9,   .r8 = g->r8,
		.rbp = g->rbp, .rdi = g->rdi, .rsi = g->rsi, .rdx = g->rdx,
		.rcx = g->rcx, .rbx = g->rbx, .rax = g->rax,
		.rflags = g->rflags, .rip = g->rip,
	};
	coop_guest_write(vm, at, &f, sizeof(f));
	WRITE_ONCE(v->vif, 0); /* the guest enters its handler with interrupts off */
	g->rsp = at;
	g->rdi = at;
	g->rip = entry;
	r->stats.virqs_delivered += n;
	if (vm->log_cap)
		vm->trip.virqs = n, vm->trip.virq_vector = highest;
	trace_virq_deliver(highest, n, 0 /* ASYNC */);
	return true;
}

/* What made the guest leave (classify). */
enum coop_exit {
	COOP_EXIT_CALL,      /* it called switch_to_host */
	COOP_EXIT_EXCEPTION, /* a CPU exception of its own: it ends */
	COOP_EXIT_SOFT_INT,  /* `int $N` that is not its exception: it ends */
	COOP_EXIT_HOST,      /* a host interrupt or NMI: replayed, it runs on */
	COOP_EXIT_SPURIOUS,  /* the APIC's spurious vector: nothing to do, it runs on */
	COOP_EXIT_MCE,       /* a machine check: the host's handler has it, it runs on */
	COOP_EXIT_FORWARD,   /* FORWARD: served here, it runs on */
};

/* Why the guest left, in coop:switch_out's words. */
static u32 exit_reason(const struct coop_vm *vm, enum coop_exit kind)
{
	if (kind == COOP_EXIT_CALL || kind == COOP_EXIT_FORWARD)
		return READ_ONCE(vm->passage->op.code);
	if (kind == COOP_EXIT_EXCEPTION || kind == COOP_EXIT_SOFT_INT)
		return COOP_TRACE_REASON_FAULT;
	return COOP_TRACE_REASON_FORWARD;
}

/* The local APIC has @vector in service: the CPU took it from the APIC. */
static bool apic_in_service(u64 vector)
{
	return apic_read(APIC_ISR + (vector / 32) * 0x10) & BIT(vector % 32);
}

/*
 * The exceptions that push an error code (30 is AMD's #SX).  A software
 * `int $N` never pushes one, so a frame without it for one of these is
 * the guest's own interrupt, not the CPU's exception.
 */
static bool pushes_error(u64 vector)
{
	switch (vector) {
	case X86_TRAP_DF:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
	case X86_TRAP_PF:
	case X86_TRAP_AC:
	case X86_TRAP_CP:
	case X86_TRAP_VC:
	case 30:
		return true;
	}
	return false;
}

/*
 * Sort the exit (interrupts off: the APIC's in-service bits are still
 * those of the moment the guest left).  @error: the CPU pushed an error
 * code (COOP_SW_VEC_ERROR, from the switcher).
 *
 * A machine check is the CPU's only while MCG_STATUS.MCIP says one is in
 * progress (the host's handler clears it): `int $18` is the guest's own.
 *
 * What cannot be told apart: `int $N` for an exception that pushes no
 * error code (int $6 looks like #UD, int $3 is #BP) - reported as that
 * exception, which is just as fatal to the guest and harmless to the
 * host; `int $2`, which reaches the NMI stub and is replayed as an NMI
 * (the host's handler logs an NMI of unknown reason).
 */
static enum coop_exit classify(u64 vector, bool error)
{
	u64 mcg = 0;

	if (vector == COOP_KMOD_VEC_CALL)
		return COOP_EXIT_CALL;
	if (vector == X86_TRAP_NMI)
		return COOP_EXIT_HOST;
	if (vector == X86_TRAP_MC)
		return boot_cpu_has(X86_FEATURE_MCA) && !rdmsrl_safe(MSR_IA32_MCG_STATUS, &mcg) &&
		       mcg & MCG_STATUS_MCIP ? COOP_EXIT_MCE : COOP_EXIT_SOFT_INT;
	if (vector < FIRST_EXTERNAL_VECTOR)
		return pushes_error(vector) && !error ? COOP_EXIT_SOFT_INT : COOP_EXIT_EXCEPTION;
	/*
	 * The CPU accepts a spurious interrupt without putting it in
	 * service, and it needs no EOI and no handler: drop it (so a
	 * software int $0xff is a no-op, never replayed either).
	 */
	if (vector == SPURIOUS_APIC_VECTOR)
		return COOP_EXIT_SPURIOUS;
	/*
	 * A hardware interrupt from the local APIC is in service from the
	 * moment the CPU takes it until the host's handler sends its EOI.
	 * Nothing else is in service here: RUN runs in process context and
	 * every handler of this CPU has sent its EOI before it returned.
	 * 0x80 is the int $0x80 gate, never a hardware vector.
	 */
	if (vector < NR_VECTORS && vector != IA32_SYSCALL_VECTOR && apic_in_service(vector))
		return COOP_EXIT_HOST;
	return COOP_EXIT_SOFT_INT;
}

#ifdef COOP_DEBUG
/*
 * Debug builds (COOP_DEBUG=1) check that a replayed interrupt was
 * acknowledged: the local APIC no longer has it in service after the
 * host's handler (its EOI).  A vector left in service blocks every
 * vector of its priority class and below on this CPU, timer included:
 * the kind of lost interrupt that would hang the host.
 */
static void check_after_replay(u64 vector)
{
	WARN_ONCE(apic_in_service(vector),
		  "coop: vector %llu still in service after the host's handler\n", vector);
}
#else
static void check_after_replay(u64 vector) { }
#endif

/*
 * The entry's record for RUN's log (vm->trip), kept only while RUN has a
 * log: a replayed interrupt.  An NMI that hit the switch is always the
 * first (forward()).
 */
static void trip_replay(struct coop_vm *vm, u32 vector, u32 source)
{
	struct coop_kmod_trip *t = &vm->trip;

	if (!vm->log_cap)
		return;
	if (source == COOP_TRACE_IRQ_NMI_SWITCH)
		t->nmi_in_switch = 1;
	else
		t->vector = vector, t->source = source;
	t->replays++;
}

/* Run the host's handler for external @vector, as if it had arrived here. */
static void replay_vector(struct coop_vm *vm, u64 vector, struct coop_kmod_run *r)
{
	const gate_desc *gate = (const gate_desc *)vm->sw->host_idtr.base + vector;

	coop_sw_replay(gate_offset(gate));
	check_after_replay(vector);
	r->stats.irqs_forwarded++;
	trip_replay(vm, vector, COOP_TRACE_IRQ_HOST);
	trace_irq_forward(vector, COOP_TRACE_IRQ_HOST, 0, 0, rdtsc() - vm->tsc_out, 0);
}

static void replay_nmi(struct coop_vm *vm, u32 src, struct coop_kmod_run *r)
{
	coop_sw_replay((unsigned long)asm_exc_nmi_noist);
	r->stats.nmis_forwarded++;
	r->stats.irqs_forwarded++;
	trip_replay(vm, X86_TRAP_NMI, src);
	trace_irq_forward(X86_TRAP_NMI, src, 0, 0, rdtsc() - vm->tsc_out, 0);
}

/*
 * A machine check hit the guest: the host's handler takes it, as KVM's
 * kvm_machine_check() does after a VM exit, with registers that say user
 * mode - the guest is the coop process's business - so that the host
 * logs it, clears MCIP and, for an error it cannot recover from in that
 * process, kills the process (SIGBUS), never the host.
 */
static void replay_mce(struct coop_vm *vm, struct coop_kmod_run *r)
{
	struct pt_regs regs = {
		.cs = 3, /* user mode, whatever the guest ran at */
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
	r->stats.irqs_forwarded++;
	trip_replay(vm, X86_TRAP_MC, COOP_TRACE_IRQ_HOST);
	trace_irq_forward(X86_TRAP_MC, COOP_TRACE_IRQ_HOST, 0, 0, rdtsc() - vm->tsc_out, 0);
}

/*
 * A host interrupt, NMI or machine check hit the guest (or, for an NMI,
 * the switch): run the host's handler for it now, interrupts still off.
 * An NMI goes to the entry made for this (asm_exc_nmi_noist: on this
 * stack, NMIs possibly still blocked since the module's NMI stub did not
 * iretq).  @kind: only COOP_EXIT_HOST replays @vector; an NMI that hit
 * the switch is replayed whatever ended the guest - and one that hit the
 * switch and another that hit the guest before it left are two NMIs,
 * replayed twice (the CPU would have delivered both: the second was
 * latched while the first one's handler ran).
 */
static void forward(struct coop_vm *vm, u64 vector, enum coop_exit kind,
		    struct coop_kmod_run *r)
{
	struct coop_sw *sw = vm->sw;

	if (sw->nmi_pending) {
		r->stats.nmis_in_switch++;
		sw->nmi_pending = 0;
		replay_nmi(vm, COOP_TRACE_IRQ_NMI_SWITCH, r);
	}
	if (kind == COOP_EXIT_HOST && vector == X86_TRAP_NMI)
		replay_nmi(vm, COOP_TRACE_IRQ_NMI, r);
	if (kind == COOP_EXIT_HOST && vector >= FIRST_EXTERNAL_VECTOR)
		replay_vector(vm, vector, r);
	if (kind == COOP_EXIT_MCE)
		replay_mce(vm, r);
}

/*
 * FORWARD: a host interrupt reached the guest's own IDT, and the guest
 * asks for it to be served (abi.h).  Only a vector the local APIC has in
 * service is the host's: any other is refused (-EINVAL), never replayed -
 * a host handler for an interrupt that never came would EOI a real one.
 */
static void serve_forward(struct coop_vm *vm, struct coop_kmod_run *r)
{
	struct coop_op *op = &vm->passage->op;
	u32 vector = READ_ONCE(op->params.forward.vector);

	if (vector < FIRST_EXTERNAL_VECTOR || vector >= NR_VECTORS ||
	    vector == IA32_SYSCALL_VECTOR || vector == SPURIOUS_APIC_VECTOR ||
	    !apic_in_service(vector)) {
		WRITE_ONCE(op->result, -EINVAL);
		return;
	}
	replay_vector(vm, vector, r);
	WRITE_ONCE(op->result, 0);
}

/* The entry's record for RUN's log: how it ended, once RUN is done with it. */
static void trip_exit(struct coop_vm *vm, enum coop_exit kind)
{
	struct coop_kmod_trip *t = &vm->trip;

	t->tsc_in = vm->tsc_in;
	t->tsc_out = vm->tsc_out;
	t->tsc_served = rdtsc();
	t->reason = exit_reason(vm, kind);
	t->op_seq = READ_ONCE(vm->passage->op.seq);
}

static void trace_in(struct coop_vm *vm)
{
	const struct coop_virq_state *v = &vm->passage->virq;
	unsigned int highest;
	u64 now = rdtsc();

	trace_switch_in(now, vm->tsc_out ? now - vm->tsc_out : 0, READ_ONCE(v->vif),
			virq_deliverable(v, &highest));
}

#ifdef COOP_DEBUG
/*
 * The MSR tripwire (debug builds, guests that own their state): MSRs a
 * ring-0 guest must leave alone, which the switch does not swap.  Each is
 * read before the entry and after the exit, interrupts off throughout,
 * so a difference is the guest's doing: a warning names it, and the
 * host's value is put back.
 */
static const u32 tripwire_msrs[] = {
	MSR_EFER, MSR_IA32_CR_PAT, MSR_STAR, MSR_SYSCALL_MASK, MSR_TSC_AUX, MSR_IA32_XSS,
	MSR_IA32_SPEC_CTRL, MSR_IA32_APICBASE, MSR_IA32_MISC_ENABLE, MSR_IA32_TSC_ADJUST,
	MSR_IA32_TSC_DEADLINE,
};
static bool tripwire_readable[ARRAY_SIZE(tripwire_msrs)];

/* Which of them this CPU has (module load). */
void coop_tripwire_init(void)
{
	unsigned int i;
	u64 v;

	for (i = 0; i < ARRAY_SIZE(tripwire_msrs); i++)
		tripwire_readable[i] = !rdmsrl_safe(tripwire_msrs[i], &v);
}

struct tripwire {
	u64 v[ARRAY_SIZE(tripwire_msrs)];
};

static void tripwire_arm(struct tripwire *t)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tripwire_msrs); i++)
		if (tripwire_readable[i])
			rdmsrl(tripwire_msrs[i], t->v[i]);
}

static void tripwire_check(const struct tripwire *t)
{
	unsigned int i;
	u64 now;

	for (i = 0; i < ARRAY_SIZE(tripwire_msrs); i++) {
		if (!tripwire_readable[i])
			continue;
		rdmsrl(tripwire_msrs[i], now);
		/* The host's TSC deadline may have passed and fired meanwhile (0). */
		if (now == t->v[i] || (tripwire_msrs[i] == MSR_IA32_TSC_DEADLINE && !now))
			continue;
		WARN_ONCE(1, "coop: tripwire: the guest changed MSR %#x (%#llx -> %#llx)\n",
			  tripwire_msrs[i], t->v[i], now);
		wrmsrl(tripwire_msrs[i], t->v[i]);
	}
}
#else
void coop_tripwire_init(void) { }
struct tripwire { };
static void tripwire_arm(struct tripwire *t) { }
static void tripwire_check(const struct tripwire *t) { }
#endif

/*
 * The guest's CR4, as the switcher loads it: PGE off, so that no global
 * host translation is visible in the guest's address space; paging mode,
 * PCID enable and machine-check enable the host's (the first cannot
 * change in long mode, the second is not the guest's to change under the
 * host's CR3, and without the third a machine check would shut the CPU
 * down).  The small guest gets the host's CR4 but for PGE.
 */
static void guest_cr4(struct coop_sw *sw)
{
	const u64 host_only = X86_CR4_PGE | X86_CR4_LA57 | X86_CR4_PAE | X86_CR4_PCIDE |
			      X86_CR4_MCE;
	u64 cr4 = sw->own_state ? sw->guest_cr4 : sw->host_cr4;

	sw->guest_cr4 = (cr4 & ~host_only) | (sw->host_cr4 & host_only & ~X86_CR4_PGE);
}

/*
 * What a guest that owns its state may set and the switcher does not
 * swap: CR0, XCR0, DR7 and LSTAR, swapped here when they differ from the host's
 * (interrupts off: no host code in between uses them; the host's DR7 is
 * 0 here, local_db_save()).
 */
/* The host's values own_state_in() replaced, for own_state_out(). */
struct host_own {
	u64 cr0, lstar, cstar, sysenter_cs;
};

static void own_state_in(struct coop_vm *vm, struct host_own *h)
{
	h->cr0 = read_cr0();
	if (vm->guest_cr0 != h->cr0)
		write_cr0(vm->guest_cr0);
	/*
	 * Its syscall entries (SET_SYSCALL), and no SYSENTER (CS 0: #GP):
	 * no host user code runs until they are back.
	 */
	if (vm->guest_lstar) {
		rdmsrl(MSR_LSTAR, h->lstar);
		wrmsrl(MSR_LSTAR, vm->guest_lstar);
		rdmsrl(MSR_CSTAR, h->cstar);
		wrmsrl(MSR_CSTAR, vm->guest_cstar);
		rdmsrl(MSR_IA32_SYSENTER_CS, h->sysenter_cs);
		if (h->sysenter_cs)
			wrmsrl(MSR_IA32_SYSENTER_CS, 0);
	}
	if (vm->guest_dr7)
		set_debugreg(vm->guest_dr7, 7);
	if (use_xsave() && vm->guest_xcr0 != vm->host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vm->guest_xcr0);
}

static void own_state_out(struct coop_vm *vm, const struct host_own *h)
{
	if (vm->guest_lstar) {
		wrmsrl(MSR_LSTAR, h->lstar);
		wrmsrl(MSR_CSTAR, h->cstar);
		if (h->sysenter_cs)
			wrmsrl(MSR_IA32_SYSENTER_CS, h->sysenter_cs);
	}
	/*
	 * No guest breakpoint may fire on a host address, and the host's own
	 * (a debugger's) need their addresses back in DR0..3, as after a KVM
	 * guest that used them.
	 */
	get_debugreg(vm->guest_dr7, 7);
	if (vm->guest_dr7) {
		set_debugreg(0, 7);
		hw_breakpoint_restore();
	}
	vm->guest_cr0 = read_cr0();
	if (vm->guest_cr0 != h->cr0)
		write_cr0(h->cr0);
	if (use_xsave()) {
		vm->guest_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		if (vm->guest_xcr0 != vm->host_xcr0)
			xsetbv(XCR_XFEATURE_ENABLED_MASK, vm->host_xcr0);
	}
}

/*
 * The interrupt window of a guest that owns its IDT (Linux): it takes
 * virtual IRQs only on its way out of a host interrupt it forwarded
 * (FORWARD), so one raised while nothing interrupts it needs an interrupt
 * of the host's that will.  At each entry with vIRQs deliverable, a host
 * irq_work is queued, interrupts off: its self-IPI reaches the guest's
 * IDT at its first instruction with IF = 1, the guest forwards it, the
 * host's handler runs this (nothing to do), and the guest, back from
 * FORWARD, dispatches what is pending.  If the guest leaves before it
 * takes interrupts, the host takes the IPI, and the next entry queues
 * it again.
 */
static void window_open(struct irq_work *w)
{
}

void coop_window_init(struct coop_vm *vm)
{
	init_irq_work(&vm->window, window_open);
}

void coop_window_sync(struct coop_vm *vm)
{
	irq_work_sync(&vm->window);
}

/* One round trip through the guest; returns what ended it, its vector in *vector. */
static enum coop_exit switch_once(struct coop_vm *vm, struct coop_kmod_run *r, u64 *vector)
{
	struct coop_sw *sw = vm->sw;
	struct host_msrs m;
	struct tripwire t;
	unsigned long dr7;
	enum coop_exit kind;
	struct host_own own;

	/* The guest's FPU registers may be loaded: the user's are saved now. */
	kernel_fpu_begin();
	/* From here to the replay of what the guest got, this CPU is ours. */
	local_irq_disable();
	coop_segments_host(sw);
	guest_cr4(sw);
	msrs_save(&m);
	sw->host_gs_base = m.gs;
	/* Host breakpoints (a debugger's) must not fire on guest addresses. */
	dr7 = local_db_save();
	fpu_load(vm);
	if (sw->own_state) {
		unsigned int highest;

		if (virq_deliverable(&vm->passage->virq, &highest))
			irq_work_queue(&vm->window);
		coop_segments_own_state(sw);
		tripwire_arm(&t);
		own_state_in(vm, &own);
	}
	if (trace_switch_in_enabled())
		trace_in(vm);
	if (vm->log_cap) {
		unsigned int highest;

		vm->trip.vif = READ_ONCE(vm->passage->virq.vif);
		vm->trip.pending = virq_deliverable(&vm->passage->virq, &highest);
	}
	vm->tsc_in = rdtsc();
	coop_sw_run(sw);
	msrs_restore(&m); /* GS, and with it `current`, is back already (switcher.S) */
	vm->tsc_out = rdtsc();
	if (sw->own_state) {
		own_state_out(vm, &own);
		tripwire_check(&t);
	}
	fpu_save(vm);
	local_db_restore(dr7);
	/* The switcher's note on the frame, off the vector before anyone reads it. */
	*vector = sw->guest.vector & ~(u64)COOP_SW_VEC_ERROR;
	kind = classify(*vector, sw->guest.vector & COOP_SW_VEC_ERROR);
	sw->guest.vector = *vector;
	r->stats.entries++;
	if (kind == COOP_EXIT_CALL && READ_ONCE(vm->passage->op.code) == COOP_OP_FORWARD)
		kind = COOP_EXIT_FORWARD;
	if (trace_switch_out_enabled())
		trace_switch_out(exit_reason(vm, kind), READ_ONCE(vm->passage->op.seq),
				 vm->tsc_out, vm->tsc_out - vm->tsc_in);
	if (kind == COOP_EXIT_FORWARD)
		serve_forward(vm, r);
	forward(vm, *vector, kind, r);
	if (vm->log_cap)
		trip_exit(vm, kind);
	local_irq_enable();
	kernel_fpu_end();
	return kind;
}

static void stats_add(struct coop_kmod_stats *to, const struct coop_kmod_stats *s)
{
	to->entries += s->entries;
	to->exits_call += s->exits_call;
	to->irqs_forwarded += s->irqs_forwarded;
	to->nmis_forwarded += s->nmis_forwarded;
	to->virqs_delivered += s->virqs_delivered;
	to->exceptions += s->exceptions;
	to->slices += s->slices;
	to->nmis_in_switch += s->nmis_in_switch;
	to->nops_in_kernel += s->nops_in_kernel;
	to->forward_ops += s->forward_ops;
}

/* NOP_IN_KERNEL: answer a null hypercall here, as the monitor would. */
static bool nop_in_kernel(struct coop_vm *vm)
{
	struct coop_op *op = &vm->passage->op;

	if (!(vm->flags & COOP_KMOD_CREATE_NOP_IN_KERNEL) || READ_ONCE(op->code) != COOP_OP_NOP)
		return false;
	WRITE_ONCE(op->result, 0);
	return true;
}

/*
 * SET_SYSCALL, answered here: the LSTAR of a guest that owns its state,
 * an address in its kernel image's range (0: none), and (ABI 1.8) its
 * CSTAR, else LSTAR's value: SYSCALL from 32-bit code then enters its
 * 64-bit entry, the guest's business, never the host's.  switch_once()
 * loads them around each entry; the host's are back before anything of
 * the host runs.
 */
static bool set_syscall_in_kernel(struct coop_vm *vm)
{
	struct coop_op *op = &vm->passage->op;
	u64 lstar, cstar = 0;

	if (READ_ONCE(op->code) != COOP_OP_SET_SYSCALL)
		return false;
	lstar = READ_ONCE(op->params.set_syscall.lstar);
	/* A field a guest before 1.8 never wrote: whatever was there. */
	if (READ_ONCE(vm->passage->hdr.guest_minor) >= 8)
		cstar = READ_ONCE(op->params.set_syscall.cstar);
	if (!vm->sw->own_state || (lstar && lstar < __START_KERNEL_map) ||
	    (cstar && cstar < __START_KERNEL_map)) {
		WRITE_ONCE(op->result, -EINVAL);
		return true;
	}
	vm->guest_lstar = lstar;
	vm->guest_cstar = cstar ? cstar : lstar;
	WRITE_ONCE(op->result, 0);
	return true;
}

int coop_vm_run(struct coop_vm *vm, struct coop_kmod_run *r)
{
	const struct coop_kmod_regs *g = &vm->sw->guest;
	unsigned long end = jiffies + msecs_to_jiffies(COOP_KMOD_SLICE_MS);
	enum coop_exit kind;
	u64 vector;

	for (;;) {
		/* A full log: the caller must see it before the next entry. */
		if (vm->log_cap && vm->log_count == vm->log_cap) {
			r->exit = COOP_KMOD_EXIT_INTERRUPTED;
			break;
		}
		/* The caller's signals are its host interrupts: let it serve them. */
		if (signal_pending(current)) {
			r->exit = COOP_KMOD_EXIT_INTERRUPTED;
			break;
		}
		if (time_after_eq(jiffies, end)) {
			r->exit = COOP_KMOD_EXIT_INTERRUPTED;
			r->stats.slices++;
			break;
		}
		cond_resched();
		if (vm->log_cap)
			memset(&vm->trip, 0, sizeof(vm->trip));
		if (!deliver_virqs(vm, r))
			break;
		kind = switch_once(vm, r, &vector);
		if (vm->log_cap)
			vm->log[vm->log_count++] = vm->trip;
		if (kind == COOP_EXIT_FORWARD) {
			r->stats.exits_call++;
			r->stats.forward_ops++;
			continue;
		}
		if (kind == COOP_EXIT_CALL) {
			r->stats.exits_call++;
			if (nop_in_kernel(vm)) {
				r->stats.nops_in_kernel++;
				continue;
			}
			if (set_syscall_in_kernel(vm))
				continue;
			r->exit = COOP_KMOD_EXIT_OPERATION;
			break;
		}
		if (kind == COOP_EXIT_SOFT_INT) {
			r->exit = COOP_KMOD_EXIT_SOFT_INT;
			r->vector = (u32)vector;
			r->stats.exceptions++; /* the guest ends by a trap of its own */
			break;
		}
		if (kind == COOP_EXIT_EXCEPTION) {
			r->exit = COOP_KMOD_EXIT_EXCEPTION;
			r->vector = (u32)vector;
			r->error = g->error;
			r->cr2 = vector == X86_TRAP_PF ? vm->sw->cr2 : 0;
			r->stats.exceptions++;
			break;
		}
		/* A forwarded interrupt, machine check or a spurious one: the guest runs on. */
	}
	r->tsc_in = vm->tsc_in;
	r->tsc_out = vm->tsc_out;
	stats_add(&vm->stats, &r->stats);
	/* Back to user space as it came: interrupts on, preemptible. */
	if (IS_ENABLED(COOP_DEBUG))
		WARN_ONCE(irqs_disabled() || preempt_count(),
			  "coop: RUN returns with interrupts off or preemption disabled\n");
	return 0;
}
