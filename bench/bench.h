/* SPDX-License-Identifier: MIT */
/*
 * bench.h - `coop bench`: latency distributions of coop's mechanisms next
 * to the baselines a researcher compares them with, measured in the same
 * run and process (../shared/BENCH.md has the method).
 */
#ifndef COOP_BENCH_H
#define COOP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One measurement, as printed and as written to JSON/CSV. */
struct bench_result {
	const char *name;     /* e.g. "irq_forward" (CLI.md names) */
	const char *unit;     /* "ns" */
	size_t iterations;    /* samples */
	double ns[6];         /* min, median, p90, p99, p99.9, max */
	uint64_t cycles[6];   /* the same in TSC cycles */
	const char *baseline; /* name of the result to compare with, or NULL */
	double ratio;         /* median / baseline's median (0: none) */
	const char *note;     /* what it measures, one line */
};

/* The run's settings. */
struct bench_opts {
	bool quick;        /* a run under 10 s */
	size_t iterations; /* per benchmark (0: its default) */
	int cpu;           /* pin to this CPU */
	const char *kernel; /* guest kernel for guest benchmarks */
};

/* stats.c */
void bench_summarize(struct bench_result *r, uint64_t *cycles, size_t n, uint64_t overhead,
		     uint64_t tsc_khz);
uint64_t bench_tsc_overhead(void);

/* baselines.c */
int bench_signal_rtt(const struct bench_opts *o, struct bench_result *r);

/* guest.c */
struct shim_config;
struct shim_samples;
struct shim_vm;
int bench_guest_run(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
		    char **out, struct shim_samples *fwd);
int bench_guest_run_loop(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
			 char **out, struct shim_samples *fwd, int (*loop)(struct shim_vm *vm));

/* blk.c */
int bench_pread_4k(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_read_4k(const struct bench_opts *o, struct bench_result *r);
int bench_pread_seq(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_seq_read(const struct bench_opts *o, struct bench_result *r);
void bench_blk_cleanup(void);

/* net.c */
int bench_conet_raw_pps(const struct bench_opts *o, struct bench_result *r);
int bench_conet_pps(const struct bench_opts *o, struct bench_result *r);

/* irq.c */
int bench_irq_forward(const struct bench_opts *o, struct bench_result *r);

/* switch.c: > 0 from a run function means "skipped" (it said why) */
#define BENCH_SKIPPED 1
int bench_world_switch_notrace(const struct bench_opts *o, struct bench_result *r);
int bench_world_switch(const struct bench_opts *o, struct bench_result *r);
int bench_world_switch_traced(const struct bench_opts *o, struct bench_result *r);

/* cmd.c */
int bench_cmd(int argc, char **argv);

#endif /* COOP_BENCH_H */
