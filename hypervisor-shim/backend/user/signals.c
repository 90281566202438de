/* SPDX-License-Identifier: MIT */
/*
 * signals.c - host interrupts for the user backend, as in User-mode
 * Linux: they are signals to the thread that runs the guest.
 *
 *  - the tick: a POSIX timer (timer_create, SIGEV_THREAD_ID) the guest
 *    programs with COOP_OP_TIMER;
 *  - device file descriptors: O_ASYNC with F_SETSIG and F_SETOWN_EX;
 *  - the watchdog: a 100 ms timer, so that a guest that never gives the
 *    CPU back is caught where it spins, and ended with a backtrace;
 *  - guest faults: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS in guest code;
 *  - with stop_on_signals (--trace): SIGINT, SIGTERM, SIGHUP end the guest,
 *    so that coop still closes its trace.
 *
 * A host interrupt that arrives while guest code runs is forwarded: the
 * handler switches to the host world (saving itself as the guest's side),
 * the host serves the event and switches back, and the handler - now the
 * guest's side again - delivers pending virtual interrupts by pushing a
 * struct coop_irq_frame onto the guest stack before returning into it.
 * While the handler is switched away, its sa_mask keeps the interrupt
 * signals blocked, so nothing reuses the alternate stack under it; they
 * wait, and hit the guest again once it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "core/shim.h"
#include "util/util.h"
#include "trace/trace.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define ALTSTACK_SIZE (256 * 1024) /* libunwind runs on it after a crash */
#define WATCHDOG_PERIOD_NS 100000000ull

/* The guest this process runs: signal handlers have no other way to it. */
static struct shim_vm *irq_vm;

static int sig_tick(void)
{
	return SIGRTMIN;
}

static int sig_io(void)
{
	return SIGRTMIN + 1;
}

static int sig_watchdog(void)
{
	return SIGRTMIN + 2;
}

/* Signals that ask coop to stop, when vm->irq.stop_on_signals. */
static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static bool is_stop(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

/* Was the interrupted code the guest kernel's? */
static bool interrupted_guest(const struct shim_vm *vm, const ucontext_t *uc)
{
	return vm->state == SHIM_VM_RUNNING &&
	       shim_guest_text(vm, (uint64_t)uc->uc_mcontext.gregs[REG_RIP]);
}

/* Leave the guest world from a handler; returns when the host switches back. */
static void switch_to_host(struct shim_vm *vm)
{
	vm->forwarded = true;
	vm->switch_fn(&vm->passage->guest, &vm->host_ctx);
}

/*
 * Deliver pending virtual interrupts into the interrupted guest code:
 * push its registers as a struct coop_irq_frame right below its rsp and
 * make sigreturn resume at the guest's entry with %rdi = %rsp = frame.
 */
static void inject(struct shim_vm *vm, ucontext_t *uc)
{
	struct coop_virq_state *v = &vm->passage->virq;
	greg_t *g = uc->uc_mcontext.gregs;
	struct coop_irq_frame *f;
	uint64_t at = (uint64_t)g[REG_RSP] - sizeof(*f);
	unsigned int n = shim_virq_deliverable(v);

	if (!v->vif || !v->entry || !n)
		return;
	if (!shim_guest_text(vm, v->entry) || !shim_guest_writable(vm, at, sizeof(*f))) {
		shim_kill_guest(vm, "cannot deliver a vIRQ: entry %#llx, frame at %#llx (rsp %#llx) %s",
				(unsigned long long)v->entry, (unsigned long long)at,
				(unsigned long long)g[REG_RSP],
				shim_guest_text(vm, v->entry) ? "is not writable guest memory (stack overflow?)"
							      : "is not guest code");
		switch_to_host(vm); /* never comes back: the guest is over */
		return;
	}
	f = (struct coop_irq_frame *)(uintptr_t)at;
	*f = (struct coop_irq_frame){
		.r15 = g[REG_R15], .r14 = g[REG_R14], .r13 = g[REG_R13], .r12 = g[REG_R12],
		.r11 = g[REG_R11], .r10 = g[REG_R10], .r9 = g[REG_R9],   .r8 = g[REG_R8],
		.rbp = g[REG_RBP], .rdi = g[REG_RDI], .rsi = g[REG_RSI], .rdx = g[REG_RDX],
		.rcx = g[REG_RCX], .rbx = g[REG_RBX], .rax = g[REG_RAX],
		.rflags = g[REG_EFL], .rip = g[REG_RIP],
	};
	v->vif = 0; /* the guest enters its handler with interrupts off, as on x86 */
	g[REG_RSP] = (greg_t)at;
	g[REG_RDI] = (greg_t)at;
	g[REG_RIP] = (greg_t)v->entry;
	vm->stats.irqs_delivered += n;
	vm->progress_tsc = shim_rdtsc();
	vm->irq.fwd.injected = true;
	coop_trace(virq_deliver, shim_virq_highest(v), n, COOP_TRACE_VIRQ_ASYNC);
}

/* Record a host interrupt; the host serves it before the guest runs on. */
static void note_event(struct shim_vm *vm, int sig, const siginfo_t *si)
{
	if (sig == sig_tick()) {
		vm->irq.oneshot_armed = false;
		vm->passage->virq.ticks += 1 + (uint64_t)(si->si_overrun > 0 ? si->si_overrun : 0);
		shim_virq_raise(vm, COOP_VEC_TIMER);
	} else if (sig == sig_io()) {
		__atomic_fetch_or(&vm->irq.events, SHIM_EV_IO, __ATOMIC_SEQ_CST);
	} else if (is_stop(sig)) {
		vm->irq.stop_sig = sig;
		__atomic_fetch_or(&vm->irq.events, SHIM_EV_STOP, __ATOMIC_SEQ_CST);
	} else {
		__atomic_fetch_or(&vm->irq.events, SHIM_EV_WATCHDOG, __ATOMIC_SEQ_CST);
	}
	__atomic_fetch_or(&vm->irq.events, SHIM_EV_ANY, __ATOMIC_SEQ_CST);
}

/*
 * The guest's unwind table is the guest's: libunwind follows it, and a
 * malformed one sends it to addresses that fault -- inside this handler.
 * The fault handlers run with SA_NODEFER, so such a fault comes back to
 * on_fault, which jumps here: the backtrace stops where it went astray,
 * and the guest still ends with its report instead of taking coop along.
 */
static sigjmp_buf unwind_escape;
static volatile sig_atomic_t unwinding;

/*
 * Capture a guest that must end - its registers and a backtrace from the
 * interrupted guest frame through the switch's bottom frame into the host
 * (libunwind; guest frames are named later from the guest's symbols) -
 * then end it from the host world.  sig 0 means the watchdog.
 */
static void capture_and_end(struct shim_vm *vm, int sig, const siginfo_t *si, ucontext_t *uc)
{
	struct shim_crash *c = &vm->crash;
	unw_cursor_t cur;

	c->sig = sig;
	c->code = si ? si->si_code : 0;
	c->addr = si ? (uint64_t)(uintptr_t)si->si_addr : 0;
	c->syscall = si && sig == SIGSYS ? si->si_syscall : 0;
	memcpy(c->gregs, uc->uc_mcontext.gregs, sizeof(c->gregs));
	c->nframes = 0;
	/*
	 * No caching: libunwind's global cache takes its lock with every
	 * signal blocked, and a fault with SIGSEGV blocked is the end of coop.
	 */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
	unwinding = 1;
	if (sigsetjmp(unwind_escape, 0)) {
		c->unwind_lost = true; /* a fault while unwinding: what we have so far */
	} else if (unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) == 0) {
		do {
			struct shim_frame *fr = &c->frames[c->nframes++];
			unw_word_t ip, off;

			unw_get_reg(&cur, UNW_REG_IP, &ip);
			fr->ip = ip;
			fr->guest = shim_guest_text(vm, ip);
			fr->name[0] = '\0';
			if (!fr->guest && unw_get_proc_name(&cur, fr->name, sizeof(fr->name), &off) == 0)
				fr->off = off;
		} while (c->nframes < SHIM_MAX_FRAMES && unw_step(&cur) > 0);
	}
	unwinding = 0;
	vm->crashed = true;
	switch_to_host(vm);
	abort(); /* the host never resumes a guest it ended */
}


/*
 * Guest faults: what guest code can raise by mistake.  SIGTRAP: int3, TF,
 * icebp; SIGSYS: a system call that a filter refused.
 */
static const int guest_faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	struct shim_vm *vm = irq_vm;
	ucontext_t *uc = ucv;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t rsp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];

	if (unwinding) { /* capture_and_end's unwind went astray */
		unwinding = 0;
		siglongjmp(unwind_escape, 1);
	}
	if (!vm || vm->state != SHIM_VM_RUNNING ||
	    !(shim_guest_text(vm, rip) || shim_guest_range(vm, rsp, 8))) {
		/* The host itself faulted: that is a bug in coop, die loudly -- with the
		 * terminal back as it was. */
		coop_tty_restore();
		signal(sig, SIG_DFL);
		if (sig == SIGTRAP || sig == SIGSYS)
			raise(sig); /* returning would not fault again */
		return;
	}
	capture_and_end(vm, sig, si, uc);
}

static uint32_t irq_source(int sig)
{
	return sig == sig_tick() ? COOP_TRACE_IRQ_TICK :
	       sig == sig_io()   ? COOP_TRACE_IRQ_IO :
	       is_stop(sig)      ? COOP_TRACE_IRQ_STOP : COOP_TRACE_IRQ_WATCHDOG;
}

/* coop:irq_forward, once the host served the interrupt and switched back. */
static void trace_forward(struct shim_vm *vm, int sig, const siginfo_t *si, uint64_t tsc)
{
	uint32_t src = irq_source(sig);

	coop_trace_do(irq_forward, sig, src, src == COOP_TRACE_IRQ_TICK ? COOP_VEC_TIMER : 0,
		      src == COOP_TRACE_IRQ_TICK && si->si_overrun > 0 ? (uint32_t)si->si_overrun : 0,
		      shim_rdtsc() - tsc, vm->irq.fwd.injected ? shim_virq_deliverable(&vm->passage->virq) : 0);
}

static void on_interrupt(int sig, siginfo_t *si, void *ucv)
{
	struct shim_vm *vm = irq_vm;
	ucontext_t *uc = ucv;
	uint64_t tsc = shim_rdtsc();
	int saved_errno = errno;
	uint64_t one = 1;

	if (!vm)
		return;
	note_event(vm, sig, si);
	if (sig == sig_watchdog() && interrupted_guest(vm, uc) && shim_guest_hung(vm))
		capture_and_end(vm, 0, NULL, uc);
	if (!interrupted_guest(vm, uc)) {
		/* The host was running (maybe blocked in ppoll): wake it. */
		if (write(vm->irq.event_fd, &one, sizeof(one)) < 0) {
			/* the counter is full: the host is awake anyway */
		}
		errno = saved_errno;
		return;
	}
	shim_irq_forward_close(vm); /* the previous forward's sample, if still open */
	vm->irq.fwd.tsc = tsc;
	vm->irq.fwd.source = irq_source(sig);
	vm->passage->virq.forward_tsc = tsc;
	vm->stats.irqs_forwarded++;
	switch_to_host(vm);
	if (vm->state == SHIM_VM_RUNNING)
		inject(vm, uc);
	if (coop_trace_enabled(irq_forward))
		trace_forward(vm, sig, si, tsc);
	errno = saved_errno;
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *), char *err, size_t errlen)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | SA_ONSTACK };

	if (fn == on_fault)
		sa.sa_flags |= SA_NODEFER; /* a fault while capturing one: see unwind_escape */

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig_tick());
	sigaddset(&sa.sa_mask, sig_io());
	sigaddset(&sa.sa_mask, sig_watchdog());
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		sigaddset(&sa.sa_mask, stop_sigs[i]); /* they share the altstack too */
	if (sigaction(sig, &sa, NULL)) {
		snprintf(err, errlen, "sigaction(%d): %s", sig, strerror(errno));
		return -errno;
	}
	return 0;
}

static int make_timer(int sig, timer_t *t, char *err, size_t errlen)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = sig };

	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, t)) {
		snprintf(err, errlen, "timer_create: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Expire first_ns from now, then every period_ns (0: once); both 0: disarm. */
static int arm(timer_t t, uint64_t first_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_interval = { (time_t)(period_ns / 1000000000u), (long)(period_ns % 1000000000u) },
		.it_value = { (time_t)(first_ns / 1000000000u), (long)(first_ns % 1000000000u) },
	};

	return timer_settime(t, 0, &its, NULL) ? -errno : 0;
}

int host_irq_init(struct shim_vm *vm, char *err, size_t errlen)
{
	stack_t ss = { .ss_size = ALTSTACK_SIZE };
	int rc;

	irq_vm = vm;
	vm->irq.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	if (vm->irq.event_fd < 0 || !ss.ss_sp || sigaltstack(&ss, NULL)) {
		snprintf(err, errlen, "cannot set up host interrupts: %s", strerror(errno));
		free(ss.ss_sp);
		return -ENOMEM;
	}
	vm->irq.altstack = ss.ss_sp;
	rc = install(sig_tick(), on_interrupt, err, errlen);
	rc = rc ? rc : install(sig_io(), on_interrupt, err, errlen);
	rc = rc ? rc : install(sig_watchdog(), on_interrupt, err, errlen);
	for (size_t i = 0; !rc && i < sizeof(guest_faults) / sizeof(guest_faults[0]); i++)
		rc = install(guest_faults[i], on_fault, err, errlen);
	for (size_t i = 0; !rc && vm->irq.stop_on_signals && i < sizeof(stop_sigs) / sizeof(stop_sigs[0]);
	     i++)
		rc = install(stop_sigs[i], on_interrupt, err, errlen);
	rc = rc ? rc : make_timer(sig_tick(), &vm->irq.tick_timer, err, errlen);
	if (!rc)
		vm->irq.timers |= 1;
	rc = rc ? rc : make_timer(sig_watchdog(), &vm->irq.watchdog_timer, err, errlen);
	if (!rc)
		vm->irq.timers |= 2;
	if (!rc && vm->irq.watchdog_ns)
		rc = arm(vm->irq.watchdog_timer, WATCHDOG_PERIOD_NS, WATCHDOG_PERIOD_NS);
	return rc;
}

void host_irq_fini(struct shim_vm *vm)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	/* A fault after the guest is gone is coop's own: default action. */
	for (size_t i = 0; i < sizeof(guest_faults) / sizeof(guest_faults[0]); i++)
		signal(guest_faults[i], SIG_DFL);
	signal(sig_tick(), SIG_IGN);
	signal(sig_io(), SIG_IGN);
	signal(sig_watchdog(), SIG_IGN);
	for (size_t i = 0; vm->irq.stop_on_signals && i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		signal(stop_sigs[i], SIG_IGN); /* until coop has closed its trace and exits */
	irq_vm = NULL;
	if (vm->irq.timers & 1)
		timer_delete(vm->irq.tick_timer);
	if (vm->irq.timers & 2)
		timer_delete(vm->irq.watchdog_timer);
	vm->irq.timers = 0;
	if (vm->irq.event_fd >= 0)
		close(vm->irq.event_fd);
	vm->irq.event_fd = -1;
	if (vm->irq.altstack && sigaltstack(&ss, NULL) == 0)
		free(vm->irq.altstack);
	vm->irq.altstack = NULL;
}

/* The guest's COOP_OP_TIMER: a periodic tick, or none (0). */
/* The tick every period_ns, or one expiry oneshot_ns from now; both 0: none. */
int host_timer_set(struct shim_vm *vm, uint64_t period_ns, uint64_t oneshot_ns)
{
	int rc;

	vm->irq.oneshot_armed = oneshot_ns != 0; /* before the expiry can clear it */
	rc = arm(vm->irq.tick_timer, period_ns ? period_ns : oneshot_ns, period_ns);
	if (rc) {
		vm->irq.oneshot_armed = false;
		return rc;
	}
	vm->irq.tick_ns = period_ns;
	if (!oneshot_ns)
		vm->passage->virq.ticks = 0; /* a one-shot's expiries count on */
	return 0;
}

/* Signal the guest thread when fd becomes readable. */
int host_irq_watch_fd(int fd, bool on)
{
	struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = gettid() };
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (on && (fcntl(fd, F_SETOWN_EX, &owner) || fcntl(fd, F_SETSIG, sig_io())))
		return -errno;
	if (fcntl(fd, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC))
		return -errno;
	return 0;
}
