/* SPDX-License-Identifier: MIT */
/*
 * irq.c - interrupts, measured on a real guest, host TSC to guest TSC:
 *  - irq_forward: the guest spins with virtual interrupts on while the
 *    host tick (1 kHz) interrupts it; a sample runs from the host signal
 *    handler's first instruction to the guest vIRQ handler's first
 *    (forward to the host world, serve, switch back, push the frame,
 *    sigreturn, guest entry, dispatch).  The monitor records it.  With
 *    --backend kmod the sample starts earlier, when the host interrupt
 *    takes the guest out of ring 0 (RUN's tsc_out; backend/kmod/kmod.c).
 *  - virq_deliver: the synchronous way in.  While the guest runs `bench
 *    switch`, the host raises a vector as it returns from each null
 *    hypercall; a sample runs from the raise to the guest handler's first
 *    instruction (switch in, the hypercall's way out, vif back on, the
 *    COOP_OP_IRQ_ENABLE round trip that shows the host every delivery,
 *    dispatch).  The bench wraps the host's switch routine to see the
 *    returns; the guest stamps handler_tsc in the passage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "core/monitor.h"
#include "core/shim.h"

/* A vector nobody registers: the guest counts it as spurious, after stamping handler_tsc. */
#define VIRQ_BENCH_VECTOR 255

/* The samples being taken (both benchmarks). */
static struct shim_samples samples;

/*
 * Run exec on loop while samples fills (the monitor's irq_forward samples
 * when fwd, else virq_switch's): warm-up samples first, then n kept.
 */
static int sampled(const struct bench_opts *o, struct bench_result *r, const char *cmdline,
		   const char *exec, int (*loop)(struct shim_vm *), bool fwd, size_t n)
{
	struct shim_config cfg = { .cmdline = cmdline };
	size_t warm = n / 10;
	char *out = NULL;
	int rc;

	samples = (struct shim_samples){ .cap = warm + n, .v = calloc(warm + n, sizeof(uint64_t)) };
	if (!samples.v)
		return -ENOMEM;
	rc = bench_guest_run_loop(o, &cfg, exec, &out, fwd ? &samples : NULL, loop);
	free(out);
	if (!rc && samples.n <= warm) {
		fprintf(stderr, "coop bench: %s: no sample reached the guest's vIRQ handler\n", r->name);
		rc = -EIO;
	}
	if (!rc)
		rc = bench_latency(r, samples.v + warm, samples.n - warm, bench_guest_timer_overhead(),
				   1);
	free(samples.v);
	samples = (struct shim_samples){ 0 };
	return rc;
}

int bench_irq_forward(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = bench_n(o, 1000, 5000);
	char exec[64];

	r->name = "irq_forward";
	r->note = o->backend == SHIM_BACKEND_KMOD
			  ? "host interrupt takes the guest out of ring 0 (coop.ko) -> signal -> "
			    "host world -> RUN -> guest vIRQ handler"
			  : "host interrupt handler -> host world -> guest vIRQ handler";
	r->baseline = "signal_return"; /* the same interval on the host */
	/* One sample per tick (1 kHz); spin a little longer than the ticks wanted. */
	snprintf(exec, sizeof(exec), "spin %zu; poweroff 0", n + n / 5 + 50);
	return sampled(o, r, "hz=1000", exec, shim_monitor_run, true, n);
}

/* The virq_deliver run: one guest at a time. */
static struct {
	struct shim_vm *vm;     /* the guest */
	coop_switch_fn real;    /* the host's switch routine we wrap */
	uint64_t raised;        /* TSC of the outstanding raise, 0: none */
	bool forwarded;         /* a host interrupt left the guest: its return is no hypercall's */
} vd;

/*
 * The host's switches pass here (the guest's hypercalls use the real
 * routine directly; host interrupt handlers leave through here too).  Into
 * the guest: collect the previous raise's sample once the guest stamped a
 * handler after it; then, on the way back from a null hypercall, raise
 * again, last thing before the switch.
 */
static void virq_switch(struct coop_cpu_context *save, struct coop_cpu_context *load)
{
	struct coop_passage *p = vd.vm->passage;
	uint64_t h = __atomic_load_n(&p->virq.handler_tsc, __ATOMIC_RELAXED);
	bool forwarded = vd.forwarded;

	if (load != &p->guest) { /* a handler's way out */
		vd.forwarded = true;
		vd.real(save, load);
		return;
	}
	vd.forwarded = false;
	if (vd.raised && h > vd.raised) {
		if (samples.n < samples.cap)
			samples.v[samples.n++] = h - vd.raised;
		vd.raised = 0;
	}
	if (!vd.raised && !forwarded && p->op.code == COOP_OP_NOP) {
		shim_virq_raise(vd.vm, VIRQ_BENCH_VECTOR);
		vd.raised = shim_rdtsc();
	}
	vd.real(save, load);
}

static int virq_loop(struct shim_vm *vm)
{
	vd.vm = vm;
	vd.real = vm->switch_fn; /* the guest keeps the real one (passage header) */
	vd.raised = 0;
	vd.forwarded = false;
	vm->switch_fn = virq_switch;
	return shim_monitor_run(vm);
}

int bench_virq_deliver(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = bench_n(o, 5000, 50000);
	char exec[64];

	r->name = "virq_deliver";
	r->note = "host raises a vIRQ as a hypercall returns -> guest vIRQ handler (synchronous "
		  "delivery)";
	r->baseline = "signal_deliver"; /* the same interval on the host */
	snprintf(exec, sizeof(exec), "bench switch %zu 1; poweroff 0", n + n / 10 + 10);
	return sampled(o, r, "", exec, virq_loop, false, n);
}
