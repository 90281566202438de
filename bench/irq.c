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
	struct shim_samples s = { .cap = n };
	struct shim_config cfg = { .cmdline = "hz=1000" };
	char exec[64], *out = NULL;
	int rc;

	/* One sample per tick; spin a little longer than n ticks. */
	snprintf(exec, sizeof(exec), "spin %zu; poweroff 0", n + n / 10 + 50);
	s.v = calloc(n, sizeof(*s.v));
	if (!s.v)
		return -ENOMEM;
	rc = bench_guest_run(o, &cfg, exec, &out, &s);
	free(out);
	if (!rc && !s.n) {
		fprintf(stderr, "coop bench: irq_forward: no interrupt was forwarded\n");
		rc = -EIO;
	}
	r->name = "irq_forward";
	r->note = "host interrupt handler -> host world -> guest vIRQ handler";
	r->baseline = "signal_rtt";
	if (!rc)
		bench_summarize(r, s.v, s.n, bench_tsc_overhead(), shim_tsc_khz());
	free(s.v);
	return rc;
}
