/* SPDX-License-Identifier: MIT */
/*
 * bench.c - guest halves of `coop bench` measurements that need no device.
 * `bench switch N [BATCH]` times N samples of BATCH (default 1) null
 * hypercalls (COOP_OP_NOP): world-switch round trips as guest code sees them,
 * printed as `SWBENCH <cycles>` per sample (bench/switch.c on the host parses
 * them).  Try: coop run --exec 'bench switch 5'
 */
#include "defs.h"

#define BENCH_SWITCH_MAX 10000000 /* samples: 80 MB of cycles at most */
#define BENCH_BATCH_MAX 1000      /* round trips per sample */

/*
 * N samples of BATCH null hypercalls, each sample timed in TSC cycles
 * (lfence; rdtsc) around the batch: a batch averages away a TSC that ticks
 * coarsely (in steps of 26 cycles on some VMs).  The samples are printed
 * only afterwards: printing is a hypercall (and a message) of its own and
 * must not land inside a measurement.
 */
static int bench_switch(int argc, char **argv)
{
	uint64_t n, batch = 1, i, j, t0, *cycles;

	if (argc < 3 || argc > 4 || kstrtou64(argv[2], 10, &n) || !n || n > BENCH_SWITCH_MAX ||
	    (argc == 4 && (kstrtou64(argv[3], 10, &batch) || !batch || batch > BENCH_BATCH_MAX))) {
		kprintf("usage: bench switch N [BATCH] (N 1..%u, BATCH 1..%u)\n", BENCH_SWITCH_MAX,
			BENCH_BATCH_MAX);
		return 2;
	}
	cycles = kalloc(n * sizeof(*cycles));
	if (!cycles) {
		kprintf("bench switch: no memory for %llu samples\n", (unsigned long long)n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		t0 = rdtsc_ordered();
		for (j = 0; j < batch; j++)
			platform_nop();
		cycles[i] = rdtsc_ordered() - t0;
	}
	for (i = 0; i < n; i++)
		kprintf("SWBENCH %llu\n", (unsigned long long)cycles[i]);
	kfree(cycles);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "switch"))
		return bench_switch(argc, argv);
	kprintf("usage: bench switch N [BATCH]\n");
	return 2;
}
