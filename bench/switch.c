/* SPDX-License-Identifier: MIT */
/*
 * switch.c - the world-switch round trip as guest code sees it: the guest's
 * `bench switch N BATCH` times N samples of BATCH null hypercalls
 * (COOP_OP_NOP: switch out, the monitor's loop, switch back) and prints one
 * SWBENCH line of cycles per sample; a sample is the mean of BATCH round
 * trips, because this TSC ticks in steps of 26 cycles (10 ns).  Variants,
 * same guest, same host process, same CPU, one after the other:
 *  - world_switch_notrace_rtt: the run loop built without tracepoints
 *    (core/monitor.c compiled again with -DCOOP_NO_TRACE; for a NOP the
 *    loop is the only host code on the path);
 *  - world_switch_rtt: the real loop, tracepoints compiled in, no session;
 *  - world_switch_full_rtt: the same in full-state switch mode;
 *  - world_switch_traced_rtt: while a session records coop:* (two events
 *    per round trip: switch_out, switch_in);
 *  - world_switch_faults_rtt: with a fault plan loaded whose rules select
 *    events that never come (checked: the fault log stays empty).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/monitor.h"
#include "core/shim.h"
#include "trace/trace.h"

/*
 * A plan that injects nothing, yet is consulted on the switch path's
 * events: every rule selects something, none ever fires.
 */
static const char idle_plan[] =
	"# coop bench: a plan that injects nothing\n"
	"seed 1\n"
	"# every cocon message is an event of this rule; its window never opens\n"
	"drop device=cocon window=1000000000-\n"
	"# the timer vIRQs (250 Hz) are events too; they would fire from the billionth on\n"
	"irq drop vector=timer window=1000000000-\n"
	"# a device this guest does not have\n"
	"corrupt device=conet\n";

/* Run `bench switch n BATCH` on loop; *v gets *got samples (cycles, as printed). */
static int guest_switches(const struct bench_opts *o, struct shim_config *cfg, size_t n,
                          int (*loop)(struct shim_vm *), uint64_t **v, size_t *got)
{
	char exec[64], *text = NULL;
	int rc;

	*got = 0;
	*v = calloc(n, sizeof(**v));
	if (!*v)
		return -ENOMEM;
	snprintf(exec, sizeof(exec), "bench switch %zu %d; poweroff 0", n, BENCH_BATCH);
	rc = bench_guest_run_loop(o, cfg, exec, &text, NULL, loop);
	*got = text ? bench_guest_samples(text, "SWBENCH", *v, n) : 0;
	free(text);
	if (!rc && !*got) {
		fprintf(stderr, "coop bench: the guest's bench switch printed no samples\n");
		rc = -EIO;
	}
	return rc;
}

/*
 * A warm-up guest (the first boot pays for page faults and cold caches),
 * then the samples from ROUNDS guests, pooled: a few milliseconds of a
 * noisy neighbour then weigh on one round, not on the whole figure.
 */
static int measure(const struct bench_opts *o, struct bench_result *r, struct shim_config *cfg,
                   int (*loop)(struct shim_vm *))
{
	enum { ROUNDS = 4 };
	size_t n = bench_n(o, 5000, 50000), per = (n + ROUNDS - 1) / ROUNDS, got, all = 0;
	uint64_t *pool = calloc(per * ROUNDS, sizeof(*pool)), *v = NULL;
	int rc = pool ? guest_switches(o, cfg, per / 4 + 1, loop, &v, &got) : -ENOMEM;

	for (int round = 0; !rc && round < ROUNDS; round++) {
		free(v);
		v = NULL;
		rc = guest_switches(o, cfg, per, loop, &v, &got);
		memcpy(pool + all, v, got * sizeof(*v));
		all += rc ? 0 : got;
	}
	free(v);
	if (!rc)
		rc = bench_latency(r, pool, all, bench_guest_timer_overhead(), BENCH_BATCH);
	free(pool);
	return rc;
}

int bench_world_switch_notrace(const struct bench_opts *o, struct bench_result *r)
{
	struct shim_config cfg = { .cmdline = "" };

	r->name = "world_switch_notrace_rtt";
	r->note = "null hypercall round trip, run loop built without tracepoints";
	r->baseline = "coroutine_switch_rtt";
	return measure(o, r, &cfg, shim_monitor_run_notrace);
}

int bench_world_switch(const struct bench_opts *o, struct bench_result *r)
{
	struct shim_config cfg = { .cmdline = "" };

	r->name = "world_switch_rtt";
	r->note = "null hypercall round trip guest->host->guest, default switch mode "
	          "(tracepoints compiled in, not recording)";
	r->baseline = "world_switch_notrace_rtt"; /* the ratio: what the tracepoints cost */
	return measure(o, r, &cfg, shim_monitor_run);
}

int bench_world_switch_full(const struct bench_opts *o, struct bench_result *r)
{
	struct shim_config cfg = { .cmdline = "", .switch_mode = COOP_SWITCH_FULL };
	char why[256];

	r->name = "world_switch_full_rtt";
	r->note = "null hypercall round trip in full-state mode (every GPR, rflags, FS/GS base, "
	          "xsave area)";
	r->baseline = "xsave_floor_rtt";
	if (host_switch_mode_check(COOP_SWITCH_FULL, why, sizeof(why)))
		return bench_skip(r, "%s", why);
	return measure(o, r, &cfg, shim_monitor_run);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Record coop:* into a scratch directory while measuring; then drop it. */
int bench_world_switch_traced(const struct bench_opts *o, struct bench_result *r)
{
	char dir[] = "/tmp/coop-bench-trace-XXXXXX", err[512];
	struct shim_config cfg = { .cmdline = "" };
	struct coop_trace_session ts;
	struct coop_trace_stats st;
	int rc;

	r->name = "world_switch_traced_rtt";
	r->note = "null hypercall round trip while LTTng records coop:* (2 events per round trip)";
	r->baseline = "world_switch_rtt";
	if (!mkdtemp(dir))
		return -errno;
	rc = coop_trace_start(&ts, dir, err, sizeof(err));
	if (rc) {
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		if (rc == -ENOENT)
			return bench_skip(r, "%s", err);
		fprintf(stderr, "coop bench: world_switch_traced_rtt: %s\n", err);
		return rc;
	}
	rc = measure(o, r, &cfg, shim_monitor_run);
	if (coop_trace_stop(&ts, &st, err, sizeof(err)))
		fprintf(stderr, "coop bench: world_switch_traced_rtt: %s\n", err);
	else if (st.discarded_events)
		fprintf(stderr,
		        "coop bench: world_switch_traced_rtt: the tracer discarded %llu events\n",
		        (unsigned long long)st.discarded_events);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* Lines of the fault log that are faults (not # comments). */
static long injected(const char *log)
{
	char line[512];
	long n = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += line[0] != '#' && line[0] != '\n';
	fclose(f);
	return n;
}

int bench_world_switch_faults(const struct bench_opts *o, struct bench_result *r)
{
	char dir[] = "/tmp/coop-bench-faults-XXXXXX", plan[64], log[64];
	struct shim_config cfg = { .cmdline = "", .faults = plan, .fault_log = log };
	FILE *f;
	long bad;
	int rc;

	r->name = "world_switch_faults_rtt";
	r->note = "null hypercall round trip with a fault plan loaded that injects nothing";
	r->baseline = "world_switch_rtt";
	if (!mkdtemp(dir))
		return -errno;
	snprintf(plan, sizeof(plan), "%s/idle.plan", dir);
	snprintf(log, sizeof(log), "%s/fault.log", dir);
	f = fopen(plan, "w");
	rc = !f || fputs(idle_plan, f) < 0 ? -EIO : 0;
	if (f && fclose(f))
		rc = -errno;
	if (!rc)
		rc = measure(o, r, &cfg, shim_monitor_run);
	bad = injected(log);
	if (!rc && bad) {
		fprintf(stderr, "coop bench: world_switch_faults_rtt: the plan %s (%ld)\n",
		        bad < 0 ? "left no fault log" : "injected faults", bad);
		rc = -EIO;
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
