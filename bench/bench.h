/* SPDX-License-Identifier: MIT */
/*
 * bench.h - `coop bench`: latency distributions and throughputs of coop's
 * mechanisms next to the baselines a researcher compares them with,
 * measured in the same run and process (docs/bench.md has the method).
 */
#ifndef COOP_BENCH_H
#define COOP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_BATCH                                                                                \
	16 /* round trips per sample for sub-µs figures (a TSC step is 26 cycles here) */

/* One measurement, as printed and as written to JSON/CSV. */
struct bench_result {
	const char *name;     /* e.g. "irq_forward" (CLI.md names) */
	const char *unit;     /* "ns", or for throughput "MB/s", "IOPS", "pkt/s" */
	size_t iterations;    /* samples */
	unsigned int batch;   /* operations a sample averages (1: single) */
	double val[6];        /* min, median, p90, p99, p99.9, max, in unit */
	uint64_t cycles[6];   /* the same in TSC cycles (per operation), lowest first */
	const char *baseline; /* result(s) to compare with, "a" or "a+b", or NULL */
	double ratio;         /* median / the baseline's median (or sum of medians) */
	const char *note;     /* what one sample is, one line */
	double mbps, iops;    /* throughput: median MB/s and requests/s (0: n/a) */
	double *samples;      /* every sample in unit, ascending (malloc'ed), for plots */
	uint64_t *sample_cycles; /* the same in cycles per operation, ascending (malloc'ed) */
	size_t nsamples;      /* entries in samples and sample_cycles */
	char skipped[200];    /* why it did not run ("" if it did) */
	struct bench_runs *runs; /* --repeat: the suite runs pooled here (malloc'ed), or NULL */
};

/*
 * --repeat N: each run's median, and what they say together.  The figure
 * is the median of the run medians; mean and ci95 (the half-width of the
 * Student-t 95% interval of the mean of the run medians) say how far a
 * run's figure moves; cv = sd / mean.
 */
struct bench_runs {
	size_t n;
	double median, mean, ci95, cv;
	double medians[]; /* in unit, in run order */
};

/*
 * Which of val[] stand for single operations and may be printed.  A row of
 * batch means (batch > 1) shows only its median: the tail of means of 16 is
 * not the tail of the operations.  p99.9 needs BENCH_P999_MIN samples.
 */
#define BENCH_P999_MIN 10000
static inline bool bench_shown(const struct bench_result *r, int k)
{
	if (r->batch > 1)
		return k == 1;
	return k != 4 || r->iterations >= BENCH_P999_MIN;
}

/* The figure ratios and targets use: the median, or with --repeat the median of run medians. */
static inline double bench_figure(const struct bench_result *r)
{
	return r->runs ? r->runs->median : r->val[1];
}

/* The run's settings. */
struct bench_opts {
	bool quick;         /* a run under 10 s */
	size_t iterations;  /* per benchmark (0: its default) */
	int cpu;            /* pinned to this CPU */
	const char *kernel; /* guest kernel for guest benchmarks */
	const char *linux_kernel; /* the Linux guest's (linux_*; NULL: none found) */
	unsigned int backend; /* guests run on SHIM_BACKEND_USER or _KMOD (--backend) */
};

/* A run function returns 0, -errno (failed, said why) or this (r->skipped says why). */
#define BENCH_SKIPPED 1
__attribute__((format(printf, 2, 3))) int bench_skip(struct bench_result *r, const char *fmt, ...);

/* Iterations: --iterations, else the quick or the full default. */
static inline size_t bench_n(const struct bench_opts *o, size_t quick, size_t full)
{
	return o->iterations ? o->iterations : o->quick ? quick : full;
}

/* Fenced TSC reads (BENCH.md): lfence; rdtsc to start, rdtscp; lfence to stop. */
static inline uint64_t bench_tsc_begin(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* A CPU without rdtscp (QEMU's qemu64): lfence; rdtsc; lfence instead (cmd.c sets it). */
extern bool bench_no_rdtscp;

static inline uint64_t bench_tsc_end(void)
{
	uint32_t lo, hi, aux;

	if (__builtin_expect(bench_no_rdtscp, 0)) {
		__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
		return ((uint64_t)hi << 32) | lo;
	}
	__asm__ volatile("rdtscp; lfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * Samples of `batch` operations (OP, a statement) each, after a tenth as
 * many for warm-up, timed with the fenced pair; the pair's cost is
 * subtracted.  Evaluates to 0 or -errno, with r filled.
 */
#define BENCH_MEASURE(o, r, quick, full, batch, OP)                                                \
	({                                                                                         \
		size_t n_ = bench_n(o, quick, full), w_ = n_ / 10;                                 \
		uint64_t *v_ = calloc(n_, sizeof(*v_));                                            \
		int rc_ = -ENOMEM;                                                                 \
		if (v_) {                                                                          \
			for (size_t i_ = 0; i_ < w_ + n_; i_++) {                                  \
				uint64_t t0_ = bench_tsc_begin();                                  \
				for (unsigned int j_ = 0; j_ < (batch); j_++)                      \
					OP;                                                        \
				t0_ = bench_tsc_end() - t0_;                                       \
				if (i_ >= w_)                                                      \
					v_[i_ - w_] = t0_;                                         \
			}                                                                          \
			rc_ = bench_latency(r, v_, n_, bench_timer_overhead(), (batch));           \
			free(v_);                                                                  \
		}                                                                                  \
		rc_;                                                                               \
	})

/* stats.c */
uint64_t bench_timer_overhead(void);
uint64_t bench_guest_timer_overhead(void);
int bench_latency(struct bench_result *r, uint64_t *cycles, size_t n, uint64_t overhead,
                  unsigned int batch);
int bench_rate(struct bench_result *r, uint64_t *cycles, size_t n, double bytes);
int bench_rate_values(struct bench_result *r, const uint64_t *per_s, size_t n, const char *unit);
void bench_result_free(struct bench_result *r);
double bench_t95(size_t df);
int bench_pool(struct bench_result *out, const struct bench_result *const *runs, size_t n);

/* guest.c: run a real guest for a benchmark */
struct shim_config;
struct shim_samples;
struct shim_vm;
int bench_guest_run(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
                    char **out, struct shim_samples *fwd);
int bench_guest_run_loop(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
                         char **out, struct shim_samples *fwd, int (*loop)(struct shim_vm *vm));
size_t bench_guest_samples(const char *text, const char *tag, uint64_t *v, size_t cap);
bool bench_guest_lacks(const char *text, const char *cmd);
/* A guest driven through its console: peer(fd, arg) talks to the shell, then coop powers it off. */
int bench_guest_console(const struct bench_opts *o, struct shim_config *cfg,
                        int (*peer)(int fd, void *arg), void *arg);
int bench_read_line(int fd, char *buf, size_t len, int timeout_ms);
void bench_block_signals(void);

/* host_switch.c + floor.S: switches between two coroutines of this thread */
int bench_coroutine_switch(const struct bench_opts *o, struct bench_result *r);
int bench_xsave_floor(const struct bench_opts *o, struct bench_result *r);
int bench_swapcontext(const struct bench_opts *o, struct bench_result *r);
int bench_switch_asm(const struct bench_opts *o, struct bench_result *r);
int bench_switch_asm_full(const struct bench_opts *o, struct bench_result *r);

/* baselines.c: what the host's own kernel costs */
int bench_syscall(const struct bench_opts *o, struct bench_result *r);
int bench_cpuid(const struct bench_opts *o, struct bench_result *r);
int bench_signal_rtt(const struct bench_opts *o, struct bench_result *r);
int bench_signal_deliver(const struct bench_opts *o, struct bench_result *r);
int bench_signal_return(const struct bench_opts *o, struct bench_result *r);
int bench_futex_pingpong(const struct bench_opts *o, struct bench_result *r);
int bench_pipe_pingpong(const struct bench_opts *o, struct bench_result *r);

/* kvm.c */
int bench_kvm_exit(const struct bench_opts *o, struct bench_result *r);
const char *bench_kvm_label(void);

/* switch.c: the world switch */
int bench_world_switch_notrace(const struct bench_opts *o, struct bench_result *r);
int bench_world_switch(const struct bench_opts *o, struct bench_result *r);
int bench_world_switch_full(const struct bench_opts *o, struct bench_result *r);
int bench_world_switch_traced(const struct bench_opts *o, struct bench_result *r);
int bench_world_switch_faults(const struct bench_opts *o, struct bench_result *r);

/* irq.c */
int bench_irq_forward(const struct bench_opts *o, struct bench_result *r);
/* linux.c: the Linux guest's (--backend kmod) */
int bench_linux_world_switch(const struct bench_opts *o, struct bench_result *r);
int bench_linux_irq_forward(const struct bench_opts *o, struct bench_result *r);
int bench_virq_deliver(const struct bench_opts *o, struct bench_result *r);

/* blk.c */
int bench_pread_4k(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_read_4k(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_read_4k_nocrc(const struct bench_opts *o, struct bench_result *r);
int bench_pread_seq(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_seq_read(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_seq_read_nocrc(const struct bench_opts *o, struct bench_result *r);
int bench_pwrite_seq(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_seq_write(const struct bench_opts *o, struct bench_result *r);
int bench_pread_rand(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_rand_read(const struct bench_opts *o, struct bench_result *r);
int bench_pwrite_rand(const struct bench_opts *o, struct bench_result *r);
int bench_cobd_rand_write(const struct bench_opts *o, struct bench_result *r);
void bench_blk_cleanup(void);

/* net.c */
int bench_conet_raw_rtt(const struct bench_opts *o, struct bench_result *r);
int bench_conet_rtt(const struct bench_opts *o, struct bench_result *r);
int bench_conet_raw_pps(const struct bench_opts *o, struct bench_result *r);
int bench_conet_pps(const struct bench_opts *o, struct bench_result *r);

/* con.c */
int bench_cocon_raw_rtt(const struct bench_opts *o, struct bench_result *r);
int bench_cocon_line_rtt(const struct bench_opts *o, struct bench_result *r);

/* machine.c: what the figures were measured on */
struct cli_provenance;

struct bench_machine {
	char cpu[128];               /* model name */
	long cpus;                   /* online */
	double tsc_mhz;              /* calibrated against CLOCK_MONOTONIC_RAW */
	char kernel[200];            /* uname -s -r */
	char virt[160];              /* bare metal or the hypervisor below us */
	const char *kvm;             /* what /dev/kvm is */
	uint64_t timer_cycles;       /* host timer pair overhead, subtracted */
	uint64_t guest_timer_cycles; /* guest's (lfence; rdtsc twice), subtracted */
	int cpu_pinned;              /* --cpu */
	char coop[64];               /* coop and ABI versions */
	const char *backend;         /* "user" or "kmod": how guests switch (--backend) */
	bool emulated;               /* figures from an emulator (QEMU TCG), not hardware */
	char figures[200];           /* what kind of figures these are, one line */
	struct cli_provenance *prov; /* where the figures came from (cli/cli.h), or NULL */
	unsigned int repeat;         /* suite runs (--repeat) */
};
void bench_machine_describe(struct bench_machine *m, const struct bench_opts *o);

/* output.c */
struct bench_target {
	const char *what;    /* the target in words */
	const char *subject; /* result names */
	const char *base;    /* "a" or "a+b" */
	double bound;        /* ratio bound, or ns bound when ns_diff */
	bool at_least;       /* ratio >= bound, else <= */
	bool ns_diff;        /* subject - base in ns <= bound */
};
extern const struct bench_target bench_targets[];
extern const size_t bench_ntargets;
double bench_base_median(const struct bench_result *r, size_t n, const char *base);
void bench_print_machine(FILE *out, const struct bench_machine *m);
void bench_print_table(FILE *out, const struct bench_result *r, size_t n);
void bench_print_targets(FILE *out, const struct bench_result *r, size_t n);
int bench_write_json(const char *path, const struct bench_machine *m, bool quick,
                     const struct bench_result *r, size_t n);
int bench_write_csv(const char *path, const struct bench_machine *m, const struct bench_result *r,
		    size_t n);
int bench_write_plots(const char *dir, const struct bench_machine *m, bool quick,
                      const struct bench_result *r, size_t n);

/* cmd.c: coop_cmd_bench, the `coop bench` command (cli/cli.h) */

#endif /* COOP_BENCH_H */
