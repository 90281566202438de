/* SPDX-License-Identifier: MIT */
/*
 * stats.c - from raw TSC samples to a distribution: the timer's own cost
 * subtracted, sorted, percentiles (nearest rank), cycles and ns.
 */
#include <stdlib.h>

#include "bench/bench.h"
#include "core/shim.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What two back-to-back fenced rdtsc reads cost: the median of many. */
uint64_t bench_tsc_overhead(void)
{
	enum { N = 4001 };
	static uint64_t d[N];

	for (int i = 0; i < N; i++) {
		uint64_t t0 = shim_rdtsc();

		d[i] = shim_rdtsc() - t0;
	}
	qsort(d, N, sizeof(d[0]), cmp_u64);
	return d[N / 2];
}

void bench_summarize(struct bench_result *r, uint64_t *cycles, size_t n, uint64_t overhead,
		     uint64_t tsc_khz)
{
	static const double q[6] = { 0, 0.5, 0.9, 0.99, 0.999, 1 };

	for (size_t i = 0; i < n; i++)
		cycles[i] = cycles[i] > overhead ? cycles[i] - overhead : 0;
	qsort(cycles, n, sizeof(cycles[0]), cmp_u64);
	r->iterations = n;
	r->unit = "ns";
	for (int k = 0; k < 6; k++) {
		size_t at = n ? (size_t)(q[k] * (double)(n - 1) + 0.5) : 0;

		r->cycles[k] = n ? cycles[at] : 0;
		r->ns[k] = (double)r->cycles[k] * 1e6 / (double)tsc_khz;
	}
}
