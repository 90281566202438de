/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - the run loop: switch to the guest, serve the operation it
 * left in the passage, switch back; until it powers off, panics or is
 * killed.  A misbehaving guest is ended with a sticky first reason
 * (lguest's kill_guest); the host itself never trusts a guest value.
 * Every switch out and in is a coop:switch_* tracepoint; built again with
 * -DCOOP_NO_TRACE as shim_monitor_run_notrace, for the bench's baseline.
 */
#ifdef COOP_NO_TRACE
/* The bench's tracepoint-free copy of this file gets names of its own. */
#define shim_monitor_run shim_monitor_run_notrace
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/monitor.h"
#include "core/shim.h"
#include "trace/trace.h"

/* Copy a guest string: bounded, NUL-terminated, control characters made visible. */
static void guest_string(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

static void serve_hello(struct shim_vm *vm, struct coop_op *op)
{
	struct coop_op_hello h = op->params.hello;

	if (vm->hello_done) {
		shim_kill_guest(vm, "guest repeated the ABI handshake (HELLO)");
		return;
	}
	coop_trace(guest_hello, h.major, h.minor,
		   h.major == COOP_ABI_MAJOR && h.minor <= COOP_ABI_MINOR);
	if (h.major != COOP_ABI_MAJOR || h.minor > COOP_ABI_MINOR) {
		shim_refuse_guest(vm, "guest kernel speaks coop ABI %u.%u; this coop speaks %u.%u", h.major,
				  h.minor, COOP_ABI_MAJOR, COOP_ABI_MINOR);
		op->result = -EPROTO;
		return;
	}
	vm->hello_done = true;
	vm->guest_minor = h.minor;
}

static void serve_terminate(struct shim_vm *vm, struct coop_op *op)
{
	int32_t status = op->params.terminate.status;

	if (status < 0 || status > 255) {
		shim_kill_guest(vm, "guest powered off with status %d (valid: 0..255)", status);
		return;
	}
	vm->state = SHIM_VM_POWERED_OFF;
	vm->exit_status = status;
	coop_trace(guest_terminate, status);
}

static void serve_panic(struct shim_vm *vm, struct coop_op *op)
{
	char file[sizeof(op->params.panic.file)], msg[sizeof(op->params.panic.message)];

	guest_string(file, sizeof(file), op->params.panic.file, sizeof(op->params.panic.file));
	guest_string(msg, sizeof(msg), op->params.panic.message, sizeof(op->params.panic.message));
	coop_trace(guest_panic, file, op->params.panic.line, msg);
	/* A Linux guest's panic() knows no place: its message (and backtrace) say it. */
	if (file[0])
		shim_panic_guest(vm, "guest panic at %s:%u: %s", file, op->params.panic.line, msg);
	else
		shim_panic_guest(vm, "guest panic: %s", msg);
}

/* The guest programs its tick: 100 us .. 10 s, or 0 to stop it. */
static void serve_timer(struct shim_vm *vm, struct coop_op *op)
{
	uint64_t ns = op->params.timer.period_ns;
	/* The field a guest before 1.8 never wrote: whatever was there. */
	uint64_t once = vm->guest_minor >= 8 ? op->params.timer.oneshot_ns : 0;

	if ((ns && (ns < 100000 || ns > 10000000000ull)) || (ns && once) ||
	    (once && (once < COOP_TIMER_ONESHOT_MIN || once > COOP_TIMER_ONESHOT_MAX))) {
		op->result = -EINVAL;
		return;
	}
	op->result = host_timer_set(vm, ns, once);
}

/*
 * The guest has nothing to run: block until an event could change that -
 * console input, a host interrupt (a signal writes event_fd), or the
 * guest's own timeout.  A guest nothing can ever wake is ended.
 */
static void serve_idle(struct shim_vm *vm, struct coop_op *op)
{
	uint64_t ns = op->params.idle.timeout_ns;
	struct timespec ts;
	struct pollfd pfd[1 + SHIM_MAX_WATCH] = { { .fd = vm->irq.event_fd, .events = POLLIN } };
	int n = 1 + shim_watch_pollfds(vm, pfd + 1, SHIM_MAX_WATCH);
	uint64_t drain;

	if (vm->irq.events || vm->queue_head || shim_virq_deliverable(&vm->passage->virq))
		return; /* something is already there for the guest */
	if (vm->fault_wait_ns && (!ns || vm->fault_wait_ns < ns))
		ns = vm->fault_wait_ns; /* a message or vIRQ the fault layer holds comes due */
	ts = (struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	if (!ns && !vm->irq.tick_ns && !vm->irq.oneshot_armed && n == 1) {
		shim_kill_guest(vm, "guest is idle and nothing can wake it (no timer, no input left)");
		return;
	}
	if (ppoll(pfd, (nfds_t)n, ns ? &ts : NULL, NULL) < 0 && errno != EINTR)
		shim_kill_guest(vm, "host: ppoll: %s", strerror(errno));
	if (read(vm->irq.event_fd, &drain, sizeof(drain)) < 0) {
		/* nothing to drain: woken by input or the timeout */
	}
	for (int i = 1; i < n; i++)
		if (pfd[i].revents)
			__atomic_fetch_or(&vm->irq.events, SHIM_EV_IO | SHIM_EV_ANY, __ATOMIC_SEQ_CST);
}

static void serve(struct shim_vm *vm)
{
	struct coop_op *op = &vm->passage->op;
	uint32_t code = op->code;

	vm->stats.by_op[code < COOP_OP_COUNT ? code : COOP_OP_NONE]++;
	/* For the watchdog, which judges in milliseconds: no fence needed (~8 ns a switch). */
	vm->progress_tsc = __builtin_ia32_rdtsc();
	op->result = 0;
	if (!vm->hello_done && code != COOP_OP_HELLO) {
		shim_kill_guest(vm, "guest's first operation is %s (%u), not the ABI handshake HELLO",
				coop_op_word(code) ? coop_op_word(code) : "unknown", code);
		return;
	}
	switch (code) {
	case COOP_OP_HELLO:
		serve_hello(vm, op);
		break;
	case COOP_OP_IDLE:
		serve_idle(vm, op);
		break;
	case COOP_OP_MESSAGE:
		shim_router_serve(vm);
		break;
	case COOP_OP_TERMINATE:
		serve_terminate(vm, op);
		break;
	case COOP_OP_PANIC:
		serve_panic(vm, op);
		break;
	case COOP_OP_TIMER:
		serve_timer(vm, op);
		break;
	case COOP_OP_IRQ_ENABLE:
		/* The guest takes what is pending itself when we return. */
		vm->stats.irqs_delivered += shim_virq_deliverable(&vm->passage->virq);
		if (coop_trace_enabled(virq_deliver))
			coop_trace_do(virq_deliver, shim_virq_highest(&vm->passage->virq),
				      shim_virq_deliverable(&vm->passage->virq), COOP_TRACE_VIRQ_SYNC);
		break;
	case COOP_OP_NOP:
		break; /* a bare round trip (ABI 1.3) */
	default:
		shim_kill_guest(vm, "guest left unknown operation %u", code);
	}
}

/*
 * Serve the host interrupts noted since the last time: readable device fds.
 * (Ticks were counted by the handler; the watchdog judges in its handler,
 * where it can see what the guest was doing.)
 */
static void serve_events(struct shim_vm *vm)
{
	uint32_t ev = __atomic_exchange_n(&vm->irq.events, 0, __ATOMIC_SEQ_CST);

	if (ev & SHIM_EV_IO)
		shim_watch_serve(vm);
	if (ev & SHIM_EV_STOP)
		shim_stop_guest(vm, vm->irq.stop_sig);
}

/* Why the guest is back in the host: the operation it left, or a signal. */
static uint32_t switch_reason(const struct shim_vm *vm)
{
	uint32_t code = vm->passage->op.code;

	if (vm->trace_reason)
		return vm->trace_reason;
	if (vm->crashed)
		return COOP_TRACE_REASON_FAULT;
	if (vm->forwarded)
		return COOP_TRACE_REASON_FORWARD;
	return code < COOP_OP_COUNT ? code : COOP_OP_NONE;
}

/*
 * The two tracepoints of the switch.  Disabled, each is a load and a
 * not-taken branch; the TSC is read only when one records.
 */
static inline void trace_switch_in(struct shim_vm *vm)
{
	if (coop_trace_enabled(switch_in)) {
		uint64_t now = shim_rdtsc();

		coop_trace_do(switch_in, now, vm->trace_tsc ? now - vm->trace_tsc : 0,
			      vm->passage->virq.vif, shim_virq_deliverable(&vm->passage->virq));
		vm->trace_tsc = now;
	}
}

static inline void trace_switch_out(struct shim_vm *vm)
{
	if (coop_trace_enabled(switch_out)) {
		uint64_t now = shim_rdtsc();

		coop_trace_do(switch_out, switch_reason(vm), vm->passage->op.seq, now,
			      vm->trace_tsc ? now - vm->trace_tsc : 0);
		vm->trace_tsc = now;
	}
}

/* What the fault layer delayed and is due now; remember when the next is. */
static void release_held(struct shim_vm *vm)
{
	uint64_t a, b;

	shim_faults_ticks(vm);
	a = shim_router_release(vm), b = shim_faults_raise_due(vm);

	vm->fault_wait_ns = !a ? b : !b ? a : a < b ? a : b;
}

int shim_monitor_run(struct shim_vm *vm)
{
	struct coop_passage *p = vm->passage;

	vm->progress_tsc = shim_rdtsc();
	coop_trace(guest_boot, vm->mem_size, vm->image.entry, vm->switch_mode,
		   p->boot.cmdline);
	while (vm->state == SHIM_VM_RUNNING) {
		serve_events(vm);
		if (vm->faults)
			release_held(vm);
		/*
		 * The window is the guest's while it reads it (with vif = 0): fill
		 * it only when the guest left an operation, or was interrupted with
		 * vif = 1.  And nothing before the guest said who it is.
		 */
		if (vm->hello_done && (!vm->forwarded || p->virq.vif))
			shim_router_deliver(vm);
		if (vm->state != SHIM_VM_RUNNING)
			break;
		vm->forwarded = false; /* a handler that switches sets it */
		vm->not_entered = false;
		vm->trace_reason = 0;
		trace_switch_in(vm);
		vm->switch_fn(&vm->host_ctx, &p->guest);
		/* One coop:switch_out per switches.total, exactly: same place. */
		if (!vm->not_entered) {
			vm->stats.switches++;
			trace_switch_out(vm);
		}
		if (vm->irq.fwd.injected && !vm->forwarded)
			shim_irq_forward_close(vm);
		if (vm->crashed)
			shim_crash_end(vm);
		else if (!vm->forwarded)
			serve(vm);
		/* else: a forwarded interrupt, served by serve_events() */
	}
	return vm->exit_status;
}
