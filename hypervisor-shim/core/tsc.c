/* SPDX-License-Identifier: MIT */
/*
 * tsc.c - the host's clock for measurements: fenced rdtsc, and the TSC
 * frequency calibrated against CLOCK_MONOTONIC_RAW (BENCH.md's method).
 * The guest gets the frequency in its boot parameters (tsc_khz).
 */
#include <time.h>

#include "core/shim.h"

uint64_t shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * TSC ticks per millisecond, measured once over ~10 ms.  Each end reads
 * the clock on both sides of rdtsc and keeps the tightest pair, so that a
 * preemption between the two reads cannot skew the result much.
 */
uint64_t shim_tsc_khz(void)
{
	static uint64_t khz;
	uint64_t t0, n0, t1, n1;

	if (khz)
		return khz;
	n0 = raw_ns();
	t0 = shim_rdtsc();
	do
		n1 = raw_ns();
	while (n1 - n0 < 10 * 1000 * 1000);
	t1 = shim_rdtsc();
	khz = (t1 - t0) * 1000000u / (n1 - n0);
	return khz ? khz : 1;
}
