/* SPDX-License-Identifier: MIT */
/*
 * irq.c - interrupt forwarding, measured on a real guest: the guest spins
 * with virtual interrupts on while the host tick (1 kHz) interrupts it;
 * each sample is one host interrupt from the host handler's first
 * instruction to the guest vIRQ handler's first instruction (forward to
 * the host world, serve, switch back, push the frame, sigreturn, guest
 * entry, dispatch).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "core/shim.h"

int bench_irq_forward(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = o->iterations ? o->iterations : o->quick ? 1000 : 5000;
	char exec[64], err[SHIM_ERR_MAX];
	struct shim_samples s = { .cap = n };
	struct shim_config cfg = {
		.kernel = o->kernel,
		.mem_size = 64ull << 20,
		.cmdline = "hz=1000",
		.exec = exec,
		.quiet = true,
	};
	struct shim_vm vm;
	int rc;

	/* One sample per tick; spin a little longer than n ticks. */
	snprintf(exec, sizeof(exec), "spin %zu; poweroff 0", n + n / 10 + 50);
	s.v = calloc(n, sizeof(*s.v));
	if (!s.v)
		return -ENOMEM;
	rc = shim_vm_create(&vm, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "coop bench: irq_forward: %s\n", err);
		free(s.v);
		return rc;
	}
	vm.fwd_samples = &s;
	rc = shim_monitor_run(&vm);
	if (rc || vm.state != SHIM_VM_POWERED_OFF || !s.n) {
		fprintf(stderr, "coop bench: irq_forward: the guest ended with %d (%s), %zu samples\n",
			rc, vm.reason[0] ? vm.reason : "no reason", s.n);
		rc = -EIO;
	}
	shim_vm_destroy(&vm);
	r->name = "irq_forward";
	r->note = "host interrupt handler -> host world -> guest vIRQ handler";
	r->baseline = "signal_rtt";
	if (!rc)
		bench_summarize(r, s.v, s.n, bench_tsc_overhead(), shim_tsc_khz());
	free(s.v);
	return rc;
}
