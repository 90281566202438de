/* SPDX-License-Identifier: MIT */
/*
 * cmd.c - `coop bench`: run the benchmarks, pinned to one CPU, print a
 * table with each subject's ratio to its baseline, and write JSON/CSV.
 * Benchmarks are listed in one table; a baseline runs before the subjects
 * that compare with it.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

static const struct bench_entry {
	const char *name;     /* as in the results */
	const char *baseline; /* runs too whenever this one runs */
	int (*run)(const struct bench_opts *o, struct bench_result *r);
} benches[] = {
	{ "signal_rtt", NULL, bench_signal_rtt },
	{ "irq_forward", "signal_rtt", bench_irq_forward },
	{ "world_switch_notrace_rtt", NULL, bench_world_switch_notrace },
	{ "world_switch_rtt", "world_switch_notrace_rtt", bench_world_switch },
	{ "world_switch_traced_rtt", "world_switch_rtt", bench_world_switch_traced },
	{ "pread_4k", NULL, bench_pread_4k },
	{ "cobd_read_4k_rtt", "pread_4k", bench_cobd_read_4k },
	{ "pread_seq", NULL, bench_pread_seq },
	{ "cobd_seq_read", "pread_seq", bench_cobd_seq_read },
	{ "conet_raw_pps", NULL, bench_conet_raw_pps },
	{ "conet_pps", "conet_raw_pps", bench_conet_pps },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

static const char usage[] =
	"usage: coop bench [options]\n"
	"\n"
	"Measure coop's mechanisms as latency distributions, next to baselines\n"
	"measured in the same run, pinned to one CPU (all figures same-core).\n"
	"\n"
	"options:\n"
	"  --quick           fewer iterations (a run of a few seconds)\n"
	"  --iterations N    samples per benchmark\n"
	"  --only A,B        run only these (and their baselines; see --list)\n"
	"  --list            list the benchmarks\n"
	"  --cpu N           pin to CPU N (default 0)\n"
	"  --kernel PATH     guest kernel (default: coop-guest.elf beside coop)\n"
	"  --json FILE       write the results as JSON\n"
	"  --csv FILE        write the results as CSV\n"
	"  -h, --help        this text\n";

static int bench_usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "coop bench: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	return SHIM_EXIT_USAGE;
}

static bool selected(const char *only, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = only; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && !strncmp(p, name, n))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return !only;
}

/*
 * Selected, or the baseline of a wanted benchmark, transitively: a ratio is
 * always against a baseline measured in the same run.
 */
static bool wanted(const char *only, const char *name)
{
	for (size_t i = 0; i < NBENCH; i++)
		if (benches[i].baseline && !strcmp(benches[i].baseline, name) &&
		    wanted(only, benches[i].name))
			return true;
	return selected(only, name);
}

static void machine(FILE *out, const struct bench_opts *o)
{
	char model[128] = "unknown CPU", line[256];
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	fprintf(out, "machine: %s, %ld CPUs, TSC %.1f MHz (calibrated against CLOCK_MONOTONIC_RAW), "
		     "Linux %s\n",
		model, sysconf(_SC_NPROCESSORS_ONLN), (double)shim_tsc_khz() / 1000, u.release);
	fprintf(out, "method: fenced rdtsc, timer overhead subtracted, warm-up, pinned to CPU %d: "
		     "every figure is same-core; user backend\n",
		o->cpu);
}

static void print_table(const struct bench_result *r, size_t n)
{
	printf("%-24s %5s %8s %9s %9s %9s %9s %9s %9s  %s\n", "name", "unit", "iters", "min",
	       "median", "p90", "p99", "p99.9", "max", "vs baseline");
	for (size_t i = 0; i < n; i++) {
		printf("%-24s %5s %8zu", r[i].name, r[i].unit, r[i].iterations);
		for (int k = 0; k < 6; k++)
			printf(" %9.0f", r[i].ns[k]);
		if (r[i].baseline)
			printf("  %.2fx %s", r[i].ratio, r[i].baseline);
		printf("\n");
	}
	printf("(ns, or MB/s for throughput; cycles in --json/--csv)\n");
}

static int write_json(const char *path, const struct bench_result *r, size_t n)
{
	static const char *const key[6] = { "min", "median", "p90", "p99", "p999", "max" };
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\"tsc_khz\": %llu, \"results\": [\n", (unsigned long long)shim_tsc_khz());
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  {\"name\": \"%s\", \"unit\": \"%s\", \"iterations\": %zu", r[i].name,
			r[i].unit, r[i].iterations);
		for (int k = 0; k < 6; k++)
			fprintf(f, ", \"%s\": %.1f, \"%s_cycles\": %llu", key[k], r[i].ns[k], key[k],
				(unsigned long long)r[i].cycles[k]);
		if (r[i].baseline)
			fprintf(f, ", \"baseline\": \"%s\", \"ratio\": %.3f", r[i].baseline, r[i].ratio);
		fprintf(f, "}%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, "]}\n");
	return fclose(f) ? -errno : 0;
}

static int write_csv(const char *path, const struct bench_result *r, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "name,unit,iterations,min,median,p90,p99,p999,max,"
		   "min_cycles,median_cycles,p90_cycles,p99_cycles,p999_cycles,max_cycles,"
		   "baseline,ratio\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s,%s,%zu", r[i].name, r[i].unit, r[i].iterations);
		for (int k = 0; k < 6; k++)
			fprintf(f, ",%.1f", r[i].ns[k]);
		for (int k = 0; k < 6; k++)
			fprintf(f, ",%llu", (unsigned long long)r[i].cycles[k]);
		fprintf(f, ",%s,%.3f\n", r[i].baseline ? r[i].baseline : "",
			r[i].baseline ? r[i].ratio : 0.0);
	}
	return fclose(f) ? -errno : 0;
}

static void ratios(struct bench_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; r[i].baseline && j < n; j++)
			if (!strcmp(r[j].name, r[i].baseline) && r[j].ns[1] > 0)
				r[i].ratio = r[i].ns[1] / r[j].ns[1];
}

static int run_all(const struct bench_opts *o, const char *only, const char *json,
		   const char *csv)
{
	struct bench_result res[NBENCH];
	size_t n = 0;
	int failed = 0, rc;

	machine(stdout, o);
	for (size_t i = 0; i < NBENCH; i++) {
		if (!wanted(only, benches[i].name))
			continue;
		fprintf(stderr, "coop bench: [%zu/%zu] %s ...\n", i + 1, NBENCH, benches[i].name);
		memset(&res[n], 0, sizeof(res[n]));
		rc = benches[i].run(o, &res[n]);
		if (rc == BENCH_SKIPPED) /* it said why */
			continue;
		if (rc) {
			failed++;
			continue;
		}
		n++;
	}
	bench_blk_cleanup();
	ratios(res, n);
	print_table(res, n);
	if (json && write_json(json, res, n))
		return bench_usage_error("cannot write", json);
	if (csv && write_csv(csv, res, n))
		return bench_usage_error("cannot write", csv);
	return failed ? SHIM_EXIT_FAILURE : 0;
}

int bench_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },    { "iterations", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' }, { "list", no_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' }, { "kernel", required_argument, NULL, 'k' },
		{ "json", required_argument, NULL, 'j' }, { "csv", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },      { NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { .cpu = 0 };
	const char *only = NULL, *json = NULL, *csv = NULL;
	cpu_set_t set;
	char *end;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': o.quick = true; break;
		case 'n':
			o.iterations = strtoul(optarg, &end, 10);
			if (*end || !o.iterations || o.iterations > 100000000)
				return bench_usage_error("--iterations: expected 1..100000000, not", optarg);
			break;
		case 'o': only = optarg; break;
		case 'l':
			for (size_t i = 0; i < NBENCH; i++)
				printf("%s\n", benches[i].name);
			return 0;
		case 'c':
			o.cpu = (int)strtol(optarg, &end, 10);
			if (*end || o.cpu < 0 || o.cpu >= CPU_SETSIZE)
				return bench_usage_error("--cpu: not a CPU number:", optarg);
			break;
		case 'k': o.kernel = optarg; break;
		case 'j': json = optarg; break;
		case 'v': csv = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case ':': return bench_usage_error("option needs a value:", argv[optind - 1]);
		default: return bench_usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bench_usage_error("unexpected argument", argv[optind]);
	if (only) {
		bool any = false;

		for (size_t i = 0; i < NBENCH; i++)
			any |= selected(only, benches[i].name);
		if (!any)
			return bench_usage_error("--only: no such benchmark:", only);
	}
	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return bench_usage_error("--cpu: cannot run on CPU", strerror(errno));
	if (!o.kernel)
		o.kernel = shim_default_kernel();
	return run_all(&o, only, json, csv);
}
