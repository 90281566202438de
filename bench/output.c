/* SPDX-License-Identifier: MIT */
/*
 * output.c - what `coop bench` writes: the machine, the table with each
 * subject's ratio to its baseline, coop's own targets with the figures that
 * decide them, the JSON and CSV of CLI.md, and the samples for --plots
 * (drawn by analysis/coop_analyze/benchplots.py: python3 -m coop_analyze.benchplots).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/shim.h"

#define PLOT_PYTHON "/usr/bin/python3"

static const char *const key[6] = { "min", "median", "p90", "p99", "p999", "max" };

/* coop's own targets, on medians measured in the same run. */
const struct bench_target bench_targets[] = {
	{ "world switch <= 1.5x the minimal coroutine switch", "world_switch_rtt",
	  "coroutine_switch_rtt", 1.5, false, false },
	{ "full-state world switch <= 1.15x the register+xsave floor", "world_switch_full_rtt",
	  "xsave_floor_rtt", 1.15, false, false },
	{ "interrupt forwarding <= 1.3x a signal's return to interrupted code", "irq_forward",
	  "signal_return", 1.3, false, false },
	{ "cobd 4 KiB read <= 1.5x (host pread 4 KiB + one world switch)", "cobd_read_4k_rtt",
	  "pread_4k+world_switch_rtt", 1.5, false, false },
	{ "cobd sequential read >= 0.8x host pread throughput", "cobd_seq_read", "pread_seq", 0.8,
	  true, false },
	{ "tracepoints compiled in, not recording: <= 2 ns per world switch", "world_switch_rtt",
	  "world_switch_notrace_rtt", 2.0, false, true },
};
const size_t bench_ntargets = sizeof(bench_targets) / sizeof(bench_targets[0]);

/* Figures derived from two medians: what one thing adds, per unit of it. */
static const struct derived {
	const char *what;  /* printed before the figure */
	const char *a, *b; /* (a - b) / per */
	double per;
	const char *unit;  /* printed after it */
} derived[] = {
	{ "LTTng recording coop:* (2 events per round trip)", "world_switch_traced_rtt",
	  "world_switch_rtt", 2, "ns per event" },
	{ "a loaded fault plan that injects nothing", "world_switch_faults_rtt", "world_switch_rtt",
	  1, "ns per round trip" },
	{ "the run loop and the hypercall around the switch routine", "world_switch_rtt",
	  "switch_asm_rtt", 1, "ns per round trip" },
	{ "full-state mode over default", "world_switch_full_rtt", "world_switch_rtt", 1,
	  "ns per round trip" },
	{ "data and message CRCs", "cobd_read_4k_rtt", "cobd_read_4k_nocrc_rtt", 1,
	  "ns per 4 KiB cobd read" },
};

static const struct bench_result *find(const struct bench_result *r, size_t n, const char *name,
                                       size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(r[i].name) == len && !strncmp(r[i].name, name, len))
			return &r[i];
	return NULL;
}

/* The median of base, or the sum of the medians of "a+b"; NAN if one is missing. */
double bench_base_median(const struct bench_result *r, size_t n, const char *base)
{
	double sum = 0;

	for (const char *p = base; p && *p;) {
		size_t len = strcspn(p, "+");
		const struct bench_result *b = find(r, n, p, len);

		if (!b)
			return NAN;
		sum += bench_figure(b);
		p += len + (p[len] == '+');
	}
	return base ? sum : NAN;
}

void bench_print_machine(FILE *out, const struct bench_machine *m)
{
	fprintf(out,
	        "machine: %s, %ld CPUs, TSC %.1f MHz (calibrated against "
	        "CLOCK_MONOTONIC_RAW), %s, %s\n",
	        m->cpu, m->cpus, m->tsc_mhz, m->kernel, m->virt);
	fprintf(out, "kvm: %s\n", m->kvm);
	fprintf(out, "backend: %s; figures: %s\n", m->backend, m->figures);
	if (m->emulated)
		fprintf(out,
			"note: every figure below is a TCG (emulated) figure, not a hardware one: "
			"for hardware figures run this on a machine whose CPU has vmx or svm (on "
			"the host itself: insmod coop.ko, coop bench --backend kmod; or "
			"tests/kmod/qemu-run.sh, which uses KVM there)\n");
	fprintf(out,
	        "method: %s; fenced rdtsc (lfence; rdtsc .. %s), timer overhead "
	        "subtracted (%llu cycles host, %llu guest), warm-up, medians of samples; "
	        "sub-µs figures are means of %d round trips per sample (the TSC steps by 26 "
	        "cycles); every thread pinned to CPU %d: no figure crosses cores; %u suite "
	        "run%s\n",
	        m->coop, bench_no_rdtscp ? "lfence; rdtsc; lfence: no rdtscp" : "rdtscp; lfence",
	        (unsigned long long)m->timer_cycles,
	        (unsigned long long)m->guest_timer_cycles, BENCH_BATCH, m->cpu_pinned, m->repeat,
	        m->repeat == 1 ? "" : "s, pooled");
}

static void print_val(FILE *out, const struct bench_result *r, int k)
{
	if (!bench_shown(r, k))
		fprintf(out, " %9s", "-");
	else
		fprintf(out, r->val[k] < 100 ? " %9.1f" : " %9.0f", r->val[k]);
}

static void print_ratio(FILE *out, const struct bench_result *r)
{
	if (r->baseline && r->ratio > 0)
		fprintf(out, "  %6.2fx %s", r->ratio, r->baseline);
	fprintf(out, "\n");
}

/* One suite run: each benchmark's distribution. */
static void print_single(FILE *out, const struct bench_result *r, size_t n)
{
	fprintf(out, "%-26s %5s %7s %5s %9s %9s %9s %9s %9s %9s  %s\n", "name", "unit", "iters",
		"batch", "min", "median", "p90", "p99", "p99.9", "max", "median vs baseline");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-26s %5s %7zu %5u", r[i].name, r[i].unit, r[i].iterations,
			r[i].batch);
		for (int k = 0; k < 6; k++)
			print_val(out, &r[i], k);
		print_ratio(out, &r[i]);
	}
	fprintf(out, "(ns for latencies, lowest first; for throughput the rate's percentiles, "
		     "lowest first; cycles in --json/--csv.  batch %d: a sample is the mean of %d "
		     "operations, so only its median is shown; p99.9 needs %d samples)\n",
		BENCH_BATCH, BENCH_BATCH, BENCH_P999_MIN);
}

/* --repeat: each benchmark's median across the suite runs and how much it moved. */
static void print_repeated(FILE *out, const struct bench_result *r, size_t n)
{
	fprintf(out, "%-26s %5s %4s %8s %5s %9s %9s %9s %6s  %s\n", "name", "unit", "runs",
		"iters", "batch", "median", "mean", "ci95", "cv", "median vs baseline");
	for (size_t i = 0; i < n; i++) {
		const struct bench_runs *s = r[i].runs;

		fprintf(out, "%-26s %5s %4zu %8zu %5u", r[i].name, r[i].unit, s->n, r[i].iterations,
			r[i].batch);
		fprintf(out, s->median < 100 ? " %9.1f %9.1f %9.2f" : " %9.0f %9.0f %9.1f", s->median,
			s->mean, s->ci95);
		fprintf(out, " %5.1f%%", 100 * s->cv);
		print_ratio(out, &r[i]);
	}
	fprintf(out, "(median: of the %zu runs' medians; mean +/- ci95: their mean and the "
		     "half-width of its Student-t 95%% confidence interval; cv: their standard "
		     "deviation / mean; iters: samples of all runs; --json has every run's median "
		     "and the pooled percentiles)\n",
		n ? r[0].runs->n : 0);
}

void bench_print_table(FILE *out, const struct bench_result *r, size_t n)
{
	if (n && r[0].runs)
		print_repeated(out, r, n);
	else
		print_single(out, r, n);
}

static void print_derived(FILE *out, const struct bench_result *r, size_t n)
{
	fprintf(out, "derived (differences of medians):\n");
	for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
		const struct derived *d = &derived[i];
		const struct bench_result *a = find(r, n, d->a, strlen(d->a));
		const struct bench_result *b = find(r, n, d->b, strlen(d->b));

		if (a && b)
			fprintf(out, "  %-66s %+.1f %s\n", d->what,
				(bench_figure(a) - bench_figure(b)) / d->per, d->unit);
	}
}

void bench_print_targets(FILE *out, const struct bench_result *r, size_t n)
{
	print_derived(out, r, n);
	fprintf(out, "coop's targets (%s):\n",
		n && r[0].runs ? "medians of the runs' medians" : "medians of this run");
	for (size_t i = 0; i < bench_ntargets; i++) {
		const struct bench_target *t = &bench_targets[i];
		const struct bench_result *s = find(r, n, t->subject, strlen(t->subject));
		double b = bench_base_median(r, n, t->base), v, x;
		bool holds;

		if (!s || isnan(b) || b <= 0) {
			fprintf(out, "  %-66s not measured in this run\n", t->what);
			continue;
		}
		v = bench_figure(s);
		x = t->ns_diff ? v - b : v / b;
		holds = t->at_least ? x >= t->bound : x <= t->bound;
		if (t->ns_diff)
			fprintf(out, "  %-66s %+.1f ns (%.1f vs %.1f)  %s\n", t->what, x, v, b,
			        holds ? "holds" : "MISSED");
		else
			fprintf(out, "  %-66s %.2fx (%.1f / %.1f %s)  %s\n", t->what, x, v, b,
			        s->unit, holds ? "holds" : "MISSED");
	}
}

static void json_machine(FILE *f, const struct bench_machine *m, bool quick)
{
	fprintf(f, "  \"tsc_khz\": %llu,\n  \"quick\": %s,\n  \"machine\": {\"cpu\": ",
	        (unsigned long long)shim_tsc_khz(), quick ? "true" : "false");
	cli_json_str(f, m->cpu);
	fprintf(f, ", \"cpus\": %ld, \"tsc_mhz\": %.1f, \"kernel\": ", m->cpus, m->tsc_mhz);
	cli_json_str(f, m->kernel);
	fprintf(f, ", \"virtualization\": ");
	cli_json_str(f, m->virt);
	fprintf(f, ", \"kvm\": ");
	cli_json_str(f, m->kvm);
	fprintf(f, ", \"coop\": ");
	cli_json_str(f, m->coop);
	fprintf(f, ", \"backend\": ");
	cli_json_str(f, m->backend);
	fprintf(f, ", \"emulated\": %s, \"figures\": ", m->emulated ? "true" : "false");
	cli_json_str(f, m->figures);
	fprintf(f,
	        ", \"pinned_cpu\": %d, \"cross_core\": false, \"timer_overhead_cycles\": %llu, "
	        "\"guest_timer_overhead_cycles\": %llu, \"batch\": %d, \"repeat\": %u, "
	        "\"p999_min_samples\": %d},\n",
	        m->cpu_pinned, (unsigned long long)m->timer_cycles,
	        (unsigned long long)m->guest_timer_cycles, BENCH_BATCH, m->repeat, BENCH_P999_MIN);
}

static void json_result(FILE *f, const struct bench_machine *m, const struct bench_result *r,
                        bool samples)
{
	fprintf(f, "    {\"name\": ");
	cli_json_str(f, r->name);
	fprintf(f, ", \"unit\": ");
	cli_json_str(f, r->unit);
	fprintf(f, ", \"iterations\": %zu, \"batch\": %u", r->iterations, r->batch);
	for (int k = 0; k < 6; k++)
		if (bench_shown(r, k))
			fprintf(f, ", \"%s\": %.1f, \"%s_cycles\": %llu", key[k], r->val[k], key[k],
				(unsigned long long)r->cycles[k]);
		else
			fprintf(f, ", \"%s\": null, \"%s_cycles\": null", key[k], key[k]);
	if (r->runs) {
		fprintf(f, ", \"runs\": {\"n\": %zu, \"median\": %.3f, \"mean\": %.3f, "
			   "\"ci95\": %.3f, \"cv\": %.4f, \"medians\": [",
			r->runs->n, r->runs->median, r->runs->mean, r->runs->ci95, r->runs->cv);
		for (size_t i = 0; i < r->runs->n; i++)
			fprintf(f, "%s%.3f", i ? ", " : "", r->runs->medians[i]);
		fprintf(f, "]}");
	}
	if (r->baseline) {
		fprintf(f, ", \"baseline\": ");
		cli_json_str(f, r->baseline);
		fprintf(f, ", \"ratio\": %.3f", r->ratio);
	}
	if (r->mbps > 0 || r->iops > 0)
		fprintf(f, ", \"mb_s\": %.1f, \"iops\": %.0f", r->mbps, r->iops);
	fprintf(f, ", \"note\": ");
	cli_json_str(f, r->note);
	fprintf(f, ", \"figures\": ");
	cli_json_str(f, m->emulated ? "TCG emulation, not hardware" : "hardware");
	if (samples) {
		fprintf(f, ", \"samples\": [");
		for (size_t i = 0; i < r->nsamples; i++)
			fprintf(f, "%s%.6g", i ? "," : "", r->samples[i]);
		fprintf(f, "]");
	}
	fprintf(f, "}");
}

static void json_targets(FILE *f, const struct bench_result *r, size_t n)
{
	fprintf(f, "  \"targets\": [\n");
	for (size_t i = 0; i < bench_ntargets; i++) {
		const struct bench_target *t = &bench_targets[i];
		const struct bench_result *s = find(r, n, t->subject, strlen(t->subject));
		double b = bench_base_median(r, n, t->base);
		double x = !s || isnan(b) || b <= 0 ? NAN
		           : t->ns_diff             ? bench_figure(s) - b
		                                    : bench_figure(s) / b;

		fprintf(f, "    {\"what\": ");
		cli_json_str(f, t->what);
		fprintf(f,
		        ", \"subject\": \"%s\", \"baseline\": \"%s\", \"bound\": %.2f, "
		        "\"kind\": \"%s\", ",
		        t->subject, t->base, t->bound,
		        t->ns_diff    ? "ns_added_max"
		        : t->at_least ? "ratio_min"
		                      : "ratio_max");
		if (isnan(x))
			fprintf(f, "\"value\": null, \"holds\": null}");
		else
			fprintf(f, "\"value\": %.3f, \"holds\": %s}", x,
			        (t->at_least ? x >= t->bound : x <= t->bound) ? "true" : "false");
		fprintf(f, "%s\n", i + 1 < bench_ntargets ? "," : "");
	}
	fprintf(f, "  ],\n");
}

/* Results with data, then the skipped ones with their reasons. */
static int write_json(const char *path, const struct bench_machine *m, bool quick,
                      const struct bench_result *r, size_t n, bool samples)
{
	FILE *f = fopen(path, "w");
	size_t done = 0, skipped = 0;

	if (!f)
		return -errno;
	fprintf(f, "{\n");
	if (m->prov)
		cli_provenance_json(f, m->prov, "completed", NULL);
	json_machine(f, m, quick);
	json_targets(f, r, n);
	fprintf(f, "  \"results\": [\n");
	for (size_t i = 0; i < n; i++) {
		if (r[i].skipped[0])
			continue;
		fprintf(f, "%s", done++ ? ",\n" : "");
		json_result(f, m, &r[i], samples);
	}
	fprintf(f, "\n  ],\n  \"skipped\": [");
	for (size_t i = 0; i < n; i++) {
		if (!r[i].skipped[0])
			continue;
		fprintf(f, "%s\n    {\"name\": \"%s\", \"reason\": ", skipped++ ? "," : "",
		        r[i].name);
		cli_json_str(f, r[i].skipped);
		fprintf(f, "}");
	}
	fprintf(f, "%s]\n}\n", skipped ? "\n  " : "");
	return fclose(f) ? -errno : 0;
}

int bench_write_json(const char *path, const struct bench_machine *m, bool quick,
                     const struct bench_result *r, size_t n)
{
	return write_json(path, m, quick, r, n, false);
}

/* A CSV field: quoted, with its quotes doubled. */
static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++)
		fprintf(f, *s == '"' ? "\"\"" : "%c", *s);
	fputc('"', f);
}

int bench_write_csv(const char *path, const struct bench_machine *m, const struct bench_result *r,
		    size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "name,unit,iterations,min,median,p90,p99,p999,max,"
	           "min_cycles,median_cycles,p90_cycles,p99_cycles,p999_cycles,max_cycles,"
	           "baseline,ratio,batch,mb_s,iops,runs,runs_median,runs_mean,runs_ci95,runs_cv,"
	           "note%s%s\n", m->prov ? "," : "", m->prov ? cli_provenance_csv_header : "");
	for (size_t i = 0; i < n; i++) {
		if (r[i].skipped[0])
			continue;
		fprintf(f, "%s,%s,%zu", r[i].name, r[i].unit, r[i].iterations);
		for (int k = 0; k < 6; k++)
			if (bench_shown(&r[i], k))
				fprintf(f, ",%.1f", r[i].val[k]);
			else
				fputc(',', f);
		for (int k = 0; k < 6; k++)
			if (bench_shown(&r[i], k))
				fprintf(f, ",%llu", (unsigned long long)r[i].cycles[k]);
			else
				fputc(',', f);
		fprintf(f, ",%s,%.3f,%u,%.1f,%.0f,", r[i].baseline ? r[i].baseline : "",
		        r[i].baseline ? r[i].ratio : 0.0, r[i].batch, r[i].mbps, r[i].iops);
		if (r[i].runs)
			fprintf(f, "%zu,%.3f,%.3f,%.3f,%.4f,", r[i].runs->n, r[i].runs->median,
				r[i].runs->mean, r[i].runs->ci95, r[i].runs->cv);
		else
			fprintf(f, "1,,,,,");
		csv_str(f, r[i].note);
		if (m->prov) { /* where the figures came from, on every row */
			fputc(',', f);
			cli_provenance_csv(f, m->prov);
		}
		fprintf(f, "\n");
	}
	return fclose(f) ? -errno : 0;
}

/* DIR/bench.json with every sample, then benchplots.py draws DIR/<name>.png. */
int bench_write_plots(const char *dir, const struct bench_machine *m, bool quick,
                      const struct bench_result *r, size_t n)
{
	static char python[] = PLOT_PYTHON, dash_m[] = "-m", module[] = "coop_analyze.benchplots";
	char json[PATH_MAX], pkg[PATH_MAX];
	char *argv[] = { python, dash_m, module, json, (char *)dir, NULL };
	extern char **environ;
	int status, rc;
	pid_t pid;

	if (mkdir(dir, 0777) && errno != EEXIST)
		return -errno;
	snprintf(json, sizeof(json), "%s/bench.json", dir);
	if ((rc = write_json(json, m, quick, r, n, true)))
		return rc;
	if (cli_analysis_setup(pkg, sizeof(pkg))) {
		fprintf(stderr, "coop bench: --plots: the analysis package is not at %s; set "
		                "COOP_ANALYZE_DIR to analysis/coop_analyze\n", pkg);
		return -ENOENT;
	}
	fflush(NULL);
	rc = posix_spawn(&pid, PLOT_PYTHON, NULL, NULL, argv, environ);
	if (rc) {
		fprintf(stderr, "coop bench: --plots: cannot run %s: %s\n", PLOT_PYTHON,
		        strerror(rc));
		return -rc;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}
