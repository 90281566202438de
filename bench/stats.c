/* SPDX-License-Identifier: MIT */
/*
 * stats.c - from raw TSC samples to a distribution: the timer's own cost
 * subtracted, a batch's mean per operation, sorted, percentiles (nearest
 * rank) in cycles and in the result's unit; every sample kept for plots;
 * and for --repeat, the runs of one benchmark pooled, with the spread of
 * their medians.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/shim.h"

static const double quantile[6] = { 0, 0.5, 0.9, 0.99, 0.999, 1 };

int bench_skip(struct bench_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->skipped, sizeof(r->skipped), fmt, ap);
	va_end(ap);
	return BENCH_SKIPPED;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t rank(size_t n, int k)
{
	return (size_t)(quantile[k] * (double)(n - 1) + 0.5);
}

bool bench_no_rdtscp; /* bench.h; set by cmd.c from cpuid */

/* The median of many back-to-back reads of a timer pair. */
#define OVERHEAD(begin, end)                                                                       \
	({                                                                                         \
		enum { N = 4001 };                                                                 \
		static uint64_t d[N];                                                              \
		for (int i = 0; i < N; i++) {                                                      \
			uint64_t t0 = begin();                                                     \
			d[i] = end() - t0;                                                         \
		}                                                                                  \
		qsort(d, N, sizeof(d[0]), cmp_u64);                                                \
		d[N / 2];                                                                          \
	})

/* What the host's pair (bench_tsc_begin ... bench_tsc_end) costs. */
uint64_t bench_timer_overhead(void)
{
	static uint64_t v;

	return v ? v : (v = OVERHEAD(bench_tsc_begin, bench_tsc_end));
}

/* What the guest's pair (lfence; rdtsc twice, its rdtsc_ordered) costs. */
uint64_t bench_guest_timer_overhead(void)
{
	static uint64_t v;

	return v ? v : (v = OVERHEAD(shim_rdtsc, shim_rdtsc));
}

static double cycles_ns(uint64_t c)
{
	return (double)c * 1e6 / (double)shim_tsc_khz();
}

/*
 * Latency samples of `batch` operations each: overhead (cycles, once per
 * sample) subtracted, divided by batch (rounded), sorted.  Fills r->val in
 * ns, r->cycles, and r->samples.  0 or -ENOMEM / -EIO (no samples).
 */
int bench_latency(struct bench_result *r, uint64_t *cycles, size_t n, uint64_t overhead,
                  unsigned int batch)
{
	if (!n)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		cycles[i] = ((cycles[i] > overhead ? cycles[i] - overhead : 0) + batch / 2) / batch;
	qsort(cycles, n, sizeof(cycles[0]), cmp_u64);
	r->iterations = n;
	r->batch = batch;
	r->unit = "ns";
	for (int k = 0; k < 6; k++) {
		r->cycles[k] = cycles[rank(n, k)];
		r->val[k] = cycles_ns(r->cycles[k]);
	}
	free(r->samples);
	free(r->sample_cycles);
	r->samples = malloc(n * sizeof(*r->samples));
	r->sample_cycles = malloc(n * sizeof(*r->sample_cycles));
	if (!r->samples || !r->sample_cycles)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		r->samples[i] = cycles_ns(cycles[i]);
	memcpy(r->sample_cycles, cycles, n * sizeof(*cycles));
	r->nsamples = n;
	return 0;
}

/*
 * Throughput from per-request cycles of `bytes` each: the rates of the
 * single requests as a distribution, lowest first; unit MB/s for requests
 * of 64 KiB and more, else IOPS.  r->cycles stays cycles per request.
 */
int bench_rate(struct bench_result *r, uint64_t *cycles, size_t n, double bytes)
{
	bool mb = bytes >= 65536;
	int rc = bench_latency(r, cycles, n, 0, 1);

	if (rc)
		return rc;
	r->unit = mb ? "MB/s" : "IOPS";
	for (size_t i = 0; i < n; i++) /* ascending rate = descending time */
		r->samples[i] = 1e9 / cycles_ns(cycles[n - 1 - i] ? cycles[n - 1 - i] : 1);
	for (int k = 0; k < 6; k++)
		r->val[k] = r->samples[rank(n, k)] * (mb ? bytes / 1e6 : 1);
	r->iops = r->samples[rank(n, 1)];
	r->mbps = r->iops * bytes / 1e6;
	if (mb)
		for (size_t i = 0; i < n; i++)
			r->samples[i] *= bytes / 1e6;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Rates measured as counts per second (pkt/s per time slice). */
int bench_rate_values(struct bench_result *r, const uint64_t *per_s, size_t n, const char *unit)
{
	uint64_t *c = calloc(n ? n : 1, sizeof(*c));
	uint64_t khz = shim_tsc_khz();
	int rc;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) /* cycles per operation */
		c[i] = per_s[i] ? khz * 1000 / per_s[i] : 0;
	rc = bench_latency(r, c, n, 0, 1);
	free(c);
	if (rc)
		return rc;
	r->unit = unit;
	for (size_t i = 0; i < n; i++)
		r->samples[i] = (double)per_s[i];
	qsort(r->samples, n, sizeof(r->samples[0]), cmp_double);
	for (int k = 0; k < 6; k++)
		r->val[k] = r->samples[rank(n, k)];
	r->iops = r->val[1];
	return 0;
}

void bench_result_free(struct bench_result *r)
{
	free(r->samples);
	free(r->sample_cycles);
	free(r->runs);
	r->samples = NULL;
	r->sample_cycles = NULL;
	r->runs = NULL;
	r->nsamples = 0;
}

/*
 * Student's t, two-sided 95% (the 0.975 quantile), for df degrees of
 * freedom: the table to 30, then 1.96 + 2.37/df + 2.8/df^2 (within 0.001 of
 * the exact value from 31 on).
 */
double bench_t95(size_t df)
{
	static const double t[31] = { NAN,   12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
				      2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
				      2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
				      2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042 };
	double d = (double)df;

	return df <= 30 ? t[df] : 1.96 + 2.37 / d + 2.8 / (d * d);
}

static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * One benchmark's n suite runs (same name, unit and batch) into out: every
 * sample pooled (percentiles of all of them, iterations the sum), and
 * out->runs with each run's median and their spread.  The throughput
 * figures are the median of the runs'.  0 or -ENOMEM / -EINVAL.
 */
int bench_pool(struct bench_result *out, const struct bench_result *const *runs, size_t n)
{
	size_t total = 0;
	double *tmp, sum = 0, ss = 0;
	struct bench_runs *rs;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		total += runs[i]->nsamples;
	if (!total)
		return -EINVAL;
	*out = *runs[0];
	out->samples = malloc(total * sizeof(*out->samples));
	out->sample_cycles = malloc(total * sizeof(*out->sample_cycles));
	out->runs = rs = malloc(sizeof(*rs) + n * sizeof(rs->medians[0]));
	tmp = malloc(n * sizeof(*tmp));
	if (!out->samples || !out->sample_cycles || !rs || !tmp) {
		free(tmp);
		bench_result_free(out);
		return -ENOMEM;
	}
	out->nsamples = out->iterations = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(out->samples + out->nsamples, runs[i]->samples,
		       runs[i]->nsamples * sizeof(*out->samples));
		memcpy(out->sample_cycles + out->nsamples, runs[i]->sample_cycles,
		       runs[i]->nsamples * sizeof(*out->sample_cycles));
		out->nsamples += runs[i]->nsamples;
		out->iterations += runs[i]->iterations;
		rs->medians[i] = runs[i]->val[1];
		sum += rs->medians[i];
	}
	qsort(out->samples, total, sizeof(*out->samples), cmp_double);
	qsort(out->sample_cycles, total, sizeof(*out->sample_cycles), cmp_u64);
	for (int k = 0; k < 6; k++) {
		out->val[k] = out->samples[rank(total, k)];
		out->cycles[k] = out->sample_cycles[rank(total, k)];
	}
	rs->n = n;
	rs->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (rs->medians[i] - rs->mean) * (rs->medians[i] - rs->mean);
	rs->ci95 = n > 1 ? bench_t95(n - 1) * sqrt(ss / (double)(n - 1)) / sqrt((double)n) : NAN;
	rs->cv = n > 1 && rs->mean ? sqrt(ss / (double)(n - 1)) / rs->mean : NAN;
	memcpy(tmp, rs->medians, n * sizeof(*tmp));
	rs->median = median_of(tmp, n);
	for (size_t i = 0; i < n; i++)
		tmp[i] = runs[i]->mbps;
	out->mbps = median_of(tmp, n);
	for (size_t i = 0; i < n; i++)
		tmp[i] = runs[i]->iops;
	out->iops = median_of(tmp, n);
	free(tmp);
	return 0;
}
