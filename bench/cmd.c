/* SPDX-License-Identifier: MIT */
/*
 * cmd.c - `coop bench`: run the benchmarks pinned to one CPU, print the
 * machine, a table with each subject's ratio to its baseline and coop's own
 * targets, and write JSON/CSV/plots.  Benchmarks are listed in one table,
 * each baseline before the subjects that compare with it; choosing a
 * subject brings in what it is compared with.
 * Try: build/bin/coop bench --quick --only switch
 */
#include <cpuid.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coop/kmod.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/shim.h"
#include "util/util.h"

static const struct bench_entry {
	const char *name;  /* as in the results */
	const char *group; /* --only GROUP */
	const char *needs; /* baselines and whatever its target needs: "a" or "a+b" */
	int (*run)(const struct bench_opts *o, struct bench_result *r);
} benches[] = {
	/* the world switch, its floors and its relatives */
	{ "coroutine_switch_rtt", "switch", NULL, bench_coroutine_switch },
	{ "xsave_floor_rtt", "switch", NULL, bench_xsave_floor },
	{ "swapcontext_rtt", "switch", NULL, bench_swapcontext },
	{ "switch_asm_rtt", "switch", "coroutine_switch_rtt", bench_switch_asm },
	{ "switch_asm_full_rtt", "switch", "xsave_floor_rtt", bench_switch_asm_full },
	{ "world_switch_notrace_rtt", "switch", "coroutine_switch_rtt", bench_world_switch_notrace },
	{ "world_switch_rtt", "switch", "world_switch_notrace_rtt+coroutine_switch_rtt",
	  bench_world_switch },
	{ "world_switch_full_rtt", "switch", "xsave_floor_rtt", bench_world_switch_full },
	{ "world_switch_traced_rtt", "switch", "world_switch_rtt", bench_world_switch_traced },
	{ "world_switch_faults_rtt", "switch", "world_switch_rtt", bench_world_switch_faults },
	{ "linux_world_switch_rtt", "switch", "world_switch_rtt", bench_linux_world_switch },
	{ "cpuid_exit_rtt", "switch", NULL, bench_cpuid },
	{ "kvm_exit_rtt", "switch", NULL, bench_kvm_exit },
	/* interrupts, and the host kernel's own ways to pass an event */
	{ "syscall_rtt", "irq", NULL, bench_syscall },
	{ "signal_rtt", "irq", NULL, bench_signal_rtt },
	{ "signal_deliver", "irq", NULL, bench_signal_deliver },
	{ "signal_return", "irq", NULL, bench_signal_return },
	{ "futex_pingpong_rtt", "irq", NULL, bench_futex_pingpong },
	{ "pipe_pingpong_rtt", "irq", NULL, bench_pipe_pingpong },
	{ "irq_forward", "irq", "signal_return", bench_irq_forward },
	{ "virq_deliver", "irq", "signal_deliver", bench_virq_deliver },
	{ "linux_irq_forward", "irq", "linux_world_switch_rtt", bench_linux_irq_forward },
	/* the block device */
	{ "pread_4k", "blk", NULL, bench_pread_4k },
	{ "cobd_read_4k_rtt", "blk", "pread_4k+world_switch_rtt", bench_cobd_read_4k },
	{ "cobd_read_4k_nocrc_rtt", "blk", "pread_4k+world_switch_rtt", bench_cobd_read_4k_nocrc },
	{ "pread_seq", "blk", NULL, bench_pread_seq },
	{ "cobd_seq_read", "blk", "pread_seq", bench_cobd_seq_read },
	{ "cobd_seq_read_nocrc", "blk", "pread_seq", bench_cobd_seq_read_nocrc },
	{ "pwrite_seq", "blk", NULL, bench_pwrite_seq },
	{ "cobd_seq_write", "blk", "pwrite_seq", bench_cobd_seq_write },
	{ "pread_rand_4k", "blk", NULL, bench_pread_rand },
	{ "cobd_rand_read_4k", "blk", "pread_rand_4k", bench_cobd_rand_read },
	{ "pwrite_rand_4k", "blk", NULL, bench_pwrite_rand },
	{ "cobd_rand_write_4k", "blk", "pwrite_rand_4k", bench_cobd_rand_write },
	/* the network and the console */
	{ "conet_raw_rtt", "net", NULL, bench_conet_raw_rtt },
	{ "conet_rtt", "net", "conet_raw_rtt", bench_conet_rtt },
	{ "conet_raw_pps", "net", NULL, bench_conet_raw_pps },
	{ "conet_pps", "net", "conet_raw_pps", bench_conet_pps },
	{ "cocon_raw_rtt", "con", NULL, bench_cocon_raw_rtt },
	{ "cocon_line_rtt", "con", "cocon_raw_rtt", bench_cocon_line_rtt },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

/*
 * With --backend kmod the guests run in ring 0 through coop.ko; host-only
 * benchmarks (the baselines) run as they are.  These do not run, and why.
 */
static const struct {
	const char *name, *why;
} no_kmod[] = {
	{ "world_switch_full_rtt",
	  "the kmod backend always switches the full state: world_switch_rtt is that switch" },
	{ "virq_deliver",
	  "it wraps the user backend's switch routine; with kmod, coop.ko delivers vIRQs "
	  "inside RUN" },
};

static const char *kmod_skip(const struct bench_opts *o, const char *name)
{
	for (size_t i = 0; i < sizeof(no_kmod) / sizeof(no_kmod[0]); i++)
		if (o->backend == SHIM_BACKEND_KMOD && !strcmp(no_kmod[i].name, name))
			return no_kmod[i].why;
	return NULL;
}

static const char usage[] =
	"usage: coop bench [options]\n"
	"\n"
	"Measure coop's mechanisms as latency distributions and throughputs, next\n"
	"to baselines measured in the same run, every thread pinned to one CPU.\n"
	"Prints the machine, a table with each subject's ratio to its baseline,\n"
	"and whether coop's own targets hold.\n"
	"\n"
	"options:\n"
	"  --quick           fewer iterations: the whole suite in under 10 s\n"
	"  --iterations N    samples per benchmark (default: each its own)\n"
	"  --repeat N        run the suite N times (1..1000): each figure is the median\n"
	"                    of the runs' medians, with their mean, its 95% confidence\n"
	"                    interval and their coefficient of variation\n"
	"  --only A,B        run only these benchmarks or groups (switch, irq, blk,\n"
	"                    net, con), with what they are compared with (see --list)\n"
	"  --list            list the benchmarks: name, group, what it needs\n"
	"  --cpu N           pin to CPU N (default 0)\n"
	"  --kernel PATH     guest kernel (default: coop-guest.elf beside coop)\n"
	"  --linux PATH      the Linux guest of linux_* under --backend kmod (default:\n"
	"                    ../linux/vmlinux beside coop, as the build puts it)\n"
	"  --backend user|kmod  the guests' world switch: user (default) or kmod, ring 0\n"
	"                    through coop.ko (root; host-only baselines run as they are,\n"
	"                    subjects kmod cannot run are skipped with the reason); under\n"
	"                    an emulator (QEMU TCG) every figure is labelled as such\n"
	"  --json FILE       write the results as JSON\n"
	"  --csv FILE        write the results as CSV\n"
	"  --plots DIR       histogram + CDF per benchmark into DIR (Debian's python3\n"
	"                    with matplotlib; DIR/bench.json keeps every sample)\n"
	"  --progress        a progress line on stderr even when it is not a terminal\n"
	"  -h, --help        this text\n";

static int bench_usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "coop bench: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	return SHIM_EXIT_USAGE;
}

/* Is name in the list "a,b" (or "a+b")? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",+");

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (p[len] != '\0');
	}
	return false;
}

static bool selected(const char *only, const struct bench_entry *b)
{
	return !only || listed(only, b->name) || listed(only, b->group);
}

/*
 * Selected, or needed by a wanted benchmark, transitively: a ratio is
 * always against a baseline measured in the same run.
 */
static bool wanted(const char *only, const struct bench_entry *b)
{
	for (size_t i = 0; i < NBENCH; i++)
		if (listed(benches[i].needs, b->name) && wanted(only, &benches[i]))
			return true;
	return selected(only, b);
}

/* The progress line: on a terminal it is redrawn in place, else (--progress) one per line. */
struct progress {
	bool on, tty;          /* shown at all; redrawn in place */
	uint64_t t0;           /* start of the run, ns */
	size_t total;          /* benchmarks to run */
	unsigned int run, runs; /* this suite run (1..), of --repeat's */
};

static void progress(const struct progress *p, size_t i, const char *name)
{
	double s = (double)(shim_now_ns() - p->t0) / 1e9;

	if (!p->on)
		return;
	if (!name) {
		if (p->run == p->runs)
			fprintf(stderr, p->tty ? "\r\033[K" : "coop bench: done in %.1f s\n", s);
		return;
	}
	fprintf(stderr, p->tty ? "\r\033[Kcoop bench: " : "coop bench: ");
	if (p->runs > 1)
		fprintf(stderr, "run %u/%u ", p->run, p->runs);
	fprintf(stderr, p->tty ? "[%zu/%zu] %s (%.1f s)" : "[%zu/%zu] %s (%.1f s)\n", i, p->total,
		name, s);
}

static void ratios(struct bench_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double b = bench_base_median(r, n, r[i].baseline);

		r[i].ratio = r[i].baseline && b > 0 ? bench_figure(&r[i]) / b : 0;
	}
}

/* Run what was asked for into res; the number of failures. */
static int run_benches(const struct bench_opts *o, const char *only, struct progress *p,
                       struct bench_result *res, size_t *n)
{
	int failed = 0;

	p->total = 0;
	for (size_t i = 0; i < NBENCH; i++)
		p->total += wanted(only, &benches[i]);
	for (size_t i = 0, k = 0; i < NBENCH; i++) {
		struct bench_result *r = &res[*n];
		int rc;

		if (!wanted(only, &benches[i]))
			continue;
		progress(p, ++k, benches[i].name);
		memset(r, 0, sizeof(*r));
		r->name = benches[i].name;
		if (kmod_skip(o, r->name))
			rc = bench_skip(r, "--backend kmod: %s", kmod_skip(o, r->name));
		else
			rc = benches[i].run(o, r);
		if (rc == BENCH_SKIPPED || (!rc && r->skipped[0])) {
			r->unit = r->unit ? r->unit : "ns";
			(*n)++;
		} else if (rc) {
			fprintf(stderr, "%scoop bench: %s failed: %s\n",
			        p->on && p->tty ? "\r\033[K" : "", benches[i].name, strerror(-rc));
			bench_result_free(r);
			failed++;
		} else {
			(*n)++;
		}
	}
	progress(p, 0, NULL);
	return failed;
}

#define MAX_REPEAT 1000

/*
 * --repeat: each benchmark's runs pooled into one result (runs[k] holds
 * suite run k's n[k] results).  A skipped one keeps its reason; one that
 * failed in some runs pools the others (its runs say how many).
 */
static int pool_runs(struct bench_result *runs[], size_t nruns, const size_t n[],
		     struct bench_result *out, size_t *nout)
{
	static const struct bench_result *same[MAX_REPEAT];

	*nout = 0;
	for (size_t i = 0; i < n[0]; i++) {
		const struct bench_result *r = &runs[0][i];
		size_t k = 0;
		int rc;

		if (r->skipped[0]) {
			out[(*nout)++] = *r;
			continue;
		}
		for (size_t run = 0; run < nruns; run++)
			for (size_t j = 0; j < n[run]; j++)
				if (!strcmp(runs[run][j].name, r->name) && !runs[run][j].skipped[0])
					same[k++] = &runs[run][j];
		if ((rc = bench_pool(&out[*nout], same, k)))
			return rc;
		(*nout)++;
	}
	return 0;
}

static int run_all(const struct bench_opts *o, const char *only, unsigned int repeat,
		   const char *json, const char *csv, const char *plots, struct progress *p,
		   struct cli_provenance *prov)
{
	static struct bench_result *runs[MAX_REPEAT], res[NBENCH];
	static size_t nrun[MAX_REPEAT];
	size_t n = 0, ran = 0;
	struct bench_machine m;
	int failed = 0, rc = 0;

	bench_machine_describe(&m, o);
	m.prov = prov;
	m.repeat = repeat;
	p->runs = repeat;
	p->t0 = shim_now_ns();
	for (unsigned int k = 0; k < repeat; k++) {
		runs[k] = calloc(NBENCH, sizeof(*runs[k]));
		nrun[k] = 0;
		if (!runs[k])
			rc = -ENOMEM;
		p->run = k + 1;
		if (!rc)
			failed += run_benches(o, only, p, runs[k], &nrun[k]);
	}
	bench_blk_cleanup();
	if (!rc && repeat > 1)
		rc = pool_runs(runs, repeat, nrun, res, &n);
	else if (!rc)
		memcpy(res, runs[0], (n = nrun[0]) * sizeof(res[0]));
	for (unsigned int k = 0; k < repeat; k++) {
		for (size_t i = 0; runs[k] && repeat > 1 && i < nrun[k]; i++)
			bench_result_free(&runs[k][i]);
		free(runs[k]);
	}
	if (rc) {
		fprintf(stderr, "coop bench: %s\n", strerror(-rc));
		return SHIM_EXIT_FAILURE;
	}
	ratios(res, n);
	bench_print_machine(stdout, &m);
	{
		struct bench_result shown[NBENCH];

		for (size_t i = 0; i < n; i++)
			if (!res[i].skipped[0])
				shown[ran++] = res[i];
		bench_print_table(stdout, shown, ran);
		if (m.emulated && ran)
			printf("(backend %s: these are TCG emulation figures, not hardware ones)\n",
			       m.backend);
		bench_print_targets(stdout, shown, ran);
		if (m.emulated)
			printf("(TCG emulation: these figures decide none of the targets above)\n");
	}
	for (size_t i = 0; i < n; i++)
		if (res[i].skipped[0])
			printf("skipped: %s: %s\n", res[i].name, res[i].skipped);
	fflush(stdout);
	if (json && bench_write_json(json, &m, o->quick, res, n))
		rc = bench_usage_error("--json: cannot write", json);
	if (!rc && csv && bench_write_csv(csv, &m, res, n))
		rc = bench_usage_error("--csv: cannot write", csv);
	if (!rc && plots && bench_write_plots(plots, &m, o->quick, res, n))
		rc = bench_usage_error("--plots: could not draw into", plots);
	for (size_t i = 0; i < n; i++)
		bench_result_free(&res[i]);
	return rc ? rc : failed ? SHIM_EXIT_FAILURE : 0;
}

static void list(void)
{
	for (size_t i = 0; i < NBENCH; i++)
		printf("%-26s %-7s %s\n", benches[i].name, benches[i].group,
		       benches[i].needs ? benches[i].needs : "");
}

/* --only names benchmarks or groups that exist; 0 or the usage status. */
static int check_only(const char *only)
{
	char copy[1024], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", only);
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		bool any = false;

		for (size_t i = 0; i < NBENCH; i++)
			any |= !strcmp(w, benches[i].name) || !strcmp(w, benches[i].group);
		if (!any)
			return bench_usage_error("--only: no such benchmark or group:", w);
	}
	return 0;
}

/* cpuid 0x80000001, EDX bit 27 (QEMU's qemu64 has no rdtscp). */
static bool cpu_has_rdtscp(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27));
}

int coop_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },      { "iterations", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },  { "list", no_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' },   { "kernel", required_argument, NULL, 'k' },
		{ "linux", required_argument, NULL, 'L' },
		{ "json", required_argument, NULL, 'j' },  { "csv", required_argument, NULL, 'v' },
		{ "plots", required_argument, NULL, 'p' }, { "progress", no_argument, NULL, 'P' },
		{ "backend", required_argument, NULL, 'b' }, { "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
	};
	static char linux_path[PATH_MAX];
	struct bench_opts o = { .cpu = 0 };
	struct progress prog = { .tty = isatty(STDERR_FILENO) };
	struct cli_provenance prov;
	const char *only = NULL, *json = NULL, *csv = NULL, *plots = NULL;
	unsigned long repeat = 1;
	cpu_set_t set;
	uint64_t num;
	int opt;

	cli_provenance_begin(&prov, argc, argv);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o.quick = true;
			break;
		case 'n':
			if (coop_parse_u64(optarg, 10000000, &num) || !num)
				return bench_usage_error("--iterations: expected 1..10000000, not",
				                         optarg);
			o.iterations = (size_t)num;
			break;
		case 'r':
			if (coop_parse_u64(optarg, MAX_REPEAT, &num) || !num)
				return bench_usage_error("--repeat: expected 1..1000, not", optarg);
			repeat = (unsigned long)num;
			break;
		case 'o':
			only = optarg;
			break;
		case 'l':
			list();
			return 0;
		case 'c':
			if (coop_parse_u64(optarg, CPU_SETSIZE - 1, &num))
				return bench_usage_error("--cpu: not a CPU number:", optarg);
			o.cpu = (int)num;
			break;
		case 'k':
			o.kernel = optarg;
			break;
		case 'L':
			if (access(optarg, R_OK))
				return bench_usage_error("--linux: cannot read", optarg);
			o.linux_kernel = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'v':
			csv = optarg;
			break;
		case 'p':
			plots = optarg;
			break;
		case 'P':
			prog.on = true;
			break;
		case 'b':
			if (!strcmp(optarg, "kmod"))
				o.backend = SHIM_BACKEND_KMOD;
			else if (!strcmp(optarg, "user"))
				o.backend = SHIM_BACKEND_USER;
			else
				return bench_usage_error("--backend: expected user or kmod, not",
							 optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			return bench_usage_error("option needs a value:", argv[optind - 1]);
		default:
			return bench_usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bench_usage_error("unexpected argument", argv[optind]);
	if (only && check_only(only))
		return SHIM_EXIT_USAGE;
	prog.on |= prog.tty;
	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return bench_usage_error("--cpu: cannot run on CPU", strerror(errno));
	if (!o.kernel)
		o.kernel = cli_default_kernel();
	if (access(o.kernel, R_OK))
		return bench_usage_error("--kernel: cannot read", o.kernel);
	if (!o.linux_kernel && !coop_beside_exe("../linux/vmlinux", linux_path, sizeof(linux_path)))
		o.linux_kernel = linux_path;
	if (o.backend == SHIM_BACKEND_KMOD) {
		struct coop_kmod_version v;
		int rc = host_kmod_version(&v);

		if (rc) {
			fprintf(stderr, "coop bench: --backend kmod: %s: %s%s\n", COOP_KMOD_DEVICE,
				strerror(-rc),
				rc == -ENOENT   ? " (load the module: insmod coop.ko)"
				: rc == -EACCES ? " (the kmod backend needs root)"
						: "");
			return SHIM_EXIT_FAILURE;
		}
	}
	bench_no_rdtscp = !cpu_has_rdtscp();
	cli_provenance_inputs(&prov, o.kernel, NULL);
	return run_all(&o, only, (unsigned int)repeat, json, csv, plots, &prog, &prov);
}
