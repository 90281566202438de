/* SPDX-License-Identifier: MIT */
/*
 * switch.c - the world-switch round trip as guest code sees it: the guest's
 * `bench switch N` times N null hypercalls (COOP_OP_NOP: switch out, the
 * monitor's loop, switch back), one SWBENCH line of cycles per batch of
 * BATCH round trips: a sample is the mean of BATCH consecutive round trips,
 * because the TSC of some VMs ticks in steps of 26 cycles (10 ns), too
 * coarse for a 2 ns comparison of single round trips.  Three ways:
 *  - world_switch_notrace_rtt: the run loop built without tracepoints
 *    (core/monitor.c compiled again with -DCOOP_NO_TRACE as
 *    shim_monitor_run_notrace; for a NOP the loop is the only host code
 *    on the path, so this is exactly "coop without tracepoints");
 *  - world_switch_rtt: the real loop, tracepoints compiled in, no session;
 *  - world_switch_traced_rtt: the real loop while a session records coop:*
 *    (two events per round trip: switch_out, switch_in).
 * Same guest, same host process, same CPU, one after the other.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"
#include "trace/trace.h"

#define EVENTS_PER_RTT 2 /* coop:switch_out + coop:switch_in */
#define BATCH 16          /* round trips per sample */

/* Medians (ns) of the runs so far, for the overhead lines. */
static double notrace_ns, plain_ns;

static size_t samples(const struct bench_opts *o)
{
	return o->iterations ? o->iterations : o->quick ? 2000 : 20000;
}

/* Run `bench switch n` on loop; *v gets *got samples (cycles). */
static int guest_switches(const struct bench_opts *o, size_t n, int (*loop)(struct shim_vm *),
			  uint64_t **v, size_t *got)
{
	struct shim_config cfg = { .cmdline = "" };
	char exec[64], *text = NULL, *line, *save = NULL;
	int rc;

	*got = 0;
	*v = calloc(n, sizeof(**v));
	if (!*v)
		return -ENOMEM;
	snprintf(exec, sizeof(exec), "bench switch %zu %d; poweroff 0", n, BATCH);
	rc = bench_guest_run_loop(o, &cfg, exec, &text, NULL, loop);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && *got < n;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "SWBENCH %llu", (unsigned long long *)&(*v)[*got]) == 1)
			(*got)++;
	free(text);
	if (!rc && !*got) {
		fprintf(stderr, "coop bench: the guest's bench switch printed no samples\n");
		rc = -EIO;
	}
	return rc;
}

static int measure(const struct bench_opts *o, struct bench_result *r,
		   int (*loop)(struct shim_vm *))
{
	uint64_t *v = NULL, overhead = bench_tsc_overhead();
	size_t got;
	int rc;

	/* A warm-up guest first: the first boot pays for page faults and cold caches. */
	rc = guest_switches(o, samples(o) / 4 + 1, loop, &v, &got);
	free(v);
	v = NULL;
	if (!rc)
		rc = guest_switches(o, samples(o), loop, &v, &got);

	/* per round trip: the timer's cost once per batch, then the mean (rounded) */
	for (size_t i = 0; !rc && i < got; i++)
		v[i] = ((v[i] > overhead ? v[i] - overhead : 0) + BATCH / 2) / BATCH;
	if (!rc)
		bench_summarize(r, v, got, 0, shim_tsc_khz());
	free(v);
	return rc;
}

int bench_world_switch_notrace(const struct bench_opts *o, struct bench_result *r)
{
	int rc;

	r->name = "world_switch_notrace_rtt";
	r->note = "null hypercall round trip, run loop built without tracepoints";
	rc = measure(o, r, shim_monitor_run_notrace);
	notrace_ns = rc ? 0 : r->ns[1];
	return rc;
}

int bench_world_switch(const struct bench_opts *o, struct bench_result *r)
{
	int rc;

	r->name = "world_switch_rtt";
	r->note = "null hypercall round trip (tracepoints compiled in, not recording)";
	r->baseline = "world_switch_notrace_rtt";
	rc = measure(o, r, shim_monitor_run);
	plain_ns = rc ? 0 : r->ns[1];
	if (!rc && notrace_ns > 0)
		printf("world_switch: tracepoints compiled in, not recording: %+.1f ns per round trip "
		       "(median %.1f vs %.1f ns without them; target within 2 ns)\n",
		       plain_ns - notrace_ns, plain_ns, notrace_ns);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Record coop:* into a scratch directory while measuring; then drop it. */
int bench_world_switch_traced(const struct bench_opts *o, struct bench_result *r)
{
	char dir[] = "/tmp/coop-bench-trace-XXXXXX", err[512];
	struct coop_trace_session ts;
	struct coop_trace_stats st;
	int rc;

	r->name = "world_switch_traced_rtt";
	r->note = "null hypercall round trip while LTTng records coop:*";
	r->baseline = "world_switch_rtt";
	if (!mkdtemp(dir))
		return -errno;
	rc = coop_trace_start(&ts, dir, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "coop bench: world_switch_traced_rtt %s: %s\n",
			rc == -ENOENT ? "skipped" : "failed", err);
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return rc == -ENOENT ? BENCH_SKIPPED : rc;
	}
	rc = measure(o, r, shim_monitor_run);
	if (coop_trace_stop(&ts, &st, err, sizeof(err)))
		fprintf(stderr, "coop bench: world_switch_traced_rtt: %s\n", err);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (!rc && plain_ns > 0)
		printf("world_switch: recording coop:* costs %.1f ns per event (%d events per round "
		       "trip; %llu events discarded by the tracer)\n",
		       (r->ns[1] - plain_ns) / EVENTS_PER_RTT, EVENTS_PER_RTT,
		       (unsigned long long)st.discarded_events);
	return rc;
}
