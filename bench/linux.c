/* SPDX-License-Identifier: MIT */
/*
 * linux.c - the Linux guest's world switch and interrupt forward, with
 * --backend kmod only (a Linux guest runs on nothing else).  The guest's
 * halves are in its kernel (guest/linux, arch/x86/coop/bench.c), asked
 * for on its command line: it boots to its last initcall, measures,
 * prints one line a sample on its console and powers off.
 *  - linux_world_switch_rtt: `coop_bench=switch:N:BATCH`, null hypercalls
 *    of a guest that owns its CPU state (its CR3, CR4, GDT, IDT, TR,
 *    segment bases, CR0, XCR0, DR7 and LSTAR go in and out with it), next
 *    to the small guest's world_switch_rtt through the same module and
 *    monitor;
 *  - linux_irq_forward: `coop_bench=forward:N`, host interrupts that hit
 *    the guest: from its own IDT's handler (coop_host_irq) through the
 *    FORWARD operation, the host's handler that coop.ko replays, and back;
 *    next to linux_world_switch_rtt, the bare round trip, so the ratio
 *    says what the replay adds.
 * The kernel is build/linux/vmlinux (beside coop: ../linux/vmlinux) or
 * --linux PATH; its RAM the module's phys_ram= region.  Without either
 * these are skipped, saying why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <coop/kmod.h>

#include "backend/kmod/kmod.h"
#include "bench/bench.h"
#include "core/shim.h"

/* Why a Linux guest cannot run here, or NULL. */
static const char *unable(const struct bench_opts *o)
{
	struct coop_kmod_layout l = { 0 };

	if (o->backend != SHIM_BACKEND_KMOD)
		return "a Linux guest runs on --backend kmod only";
	if (!o->linux_kernel || access(o->linux_kernel, R_OK))
		return "no Linux guest kernel (build it: guest/linux; or --linux PATH)";
	if (host_kmod_layout(&l) || !l.phys_size)
		return "coop.ko has no memory for Linux guests (insmod coop.ko phys_ram=SIZE@ADDR)";
	return NULL;
}

/* Boot the Linux guest with coop_bench=@what, keep up to n "TAG <cycles>" samples. */
static int linux_samples(const struct bench_opts *o, const char *what, const char *tag,
			 uint64_t *v, size_t n, size_t *got)
{
	char cmdline[96], *text = NULL;
	struct shim_config cfg = { .kernel = o->linux_kernel, .cmdline = cmdline };
	int rc;

	snprintf(cmdline, sizeof(cmdline), "coop_bench=%s", what);
	/* No console input: an empty script, then the end of input. */
	rc = bench_guest_run(o, &cfg, "", &text, NULL);
	*got = text ? bench_guest_samples(text, tag, v, n) : 0;
	free(text);
	if (!rc && !*got) {
		fprintf(stderr, "coop bench: the Linux guest's %s printed no samples\n", cmdline);
		rc = -EIO;
	}
	return rc;
}

/*
 * One boot: its first tenth of samples is the warm-up (cold caches, the
 * first page faults), the rest is kept.
 */
static int measure(const struct bench_opts *o, struct bench_result *r, const char *kind,
		   const char *tag, size_t n, unsigned int batch)
{
	size_t warm = n / 10, got;
	uint64_t *v = calloc(warm + n, sizeof(*v));
	char what[64];
	int rc;

	if (!v)
		return -ENOMEM;
	if (batch > 1)
		snprintf(what, sizeof(what), "%s:%zu:%u", kind, warm + n, batch);
	else
		snprintf(what, sizeof(what), "%s:%zu", kind, warm + n);
	rc = linux_samples(o, what, tag, v, warm + n, &got);
	if (!rc && got <= warm) {
		fprintf(stderr, "coop bench: %s: %zu samples, all of them warm-up\n", r->name, got);
		rc = -EIO;
	}
	if (!rc)
		rc = bench_latency(r, v + warm, got - warm, bench_guest_timer_overhead(), batch);
	free(v);
	return rc;
}

int bench_linux_world_switch(const struct bench_opts *o, struct bench_result *r)
{
	const char *why = unable(o);

	r->name = "linux_world_switch_rtt";
	r->note = "Linux guest: null hypercall round trip through coop.ko and the monitor, "
		  "its own CR3, GDT, IDT, TR, bases and MSRs swapped";
	r->baseline = "world_switch_rtt"; /* the small guest, same module, same loop */
	if (why)
		return bench_skip(r, "%s", why);
	return measure(o, r, "switch", "SWBENCH", bench_n(o, 500, 5000), BENCH_BATCH);
}

int bench_linux_irq_forward(const struct bench_opts *o, struct bench_result *r)
{
	const char *why = unable(o);

	r->name = "linux_irq_forward";
	r->note = "Linux guest: a host interrupt in its IDT -> FORWARD -> coop.ko replays the "
		  "host's handler -> back in the guest's handler";
	r->baseline = "linux_world_switch_rtt"; /* the ratio: what the replay adds */
	if (why)
		return bench_skip(r, "%s", why);
	return measure(o, r, "forward", "FWDBENCH", bench_n(o, 200, 2000), 1);
}
