/* SPDX-License-Identifier: MIT */
/*
 * bench.c - guest halves of `coop bench` measurements, timed in TSC cycles
 * and printed one line a sample for the host (bench/) to parse:
 *   bench switch N [BATCH]  null hypercalls (COOP_OP_NOP), `SWBENCH <cycles>`
 *   bench blk UNIT COUNT KIB seq|rand read|write   cobd requests, `BLKBENCH <cycles>`
 * Try: coop run --disk cobd0=IMG --exec 'bench switch 5; bench blk 0 10 4 rand write'
 */
#include "defs.h"

#define BENCH_SWITCH_MAX 10000000 /* samples: 80 MB of cycles at most */
#define BENCH_BATCH_MAX 1000      /* round trips per sample */
#define BENCH_BLK_MAX 1000000     /* requests at most */

static int bench_usage(void)
{
	kprintf("usage: bench switch N [BATCH] (N 1..%u, BATCH 1..%u)\n"
		"       bench blk UNIT COUNT KIB seq|rand read|write (COUNT 1..%u, KIB 1..%u)\n",
		BENCH_SWITCH_MAX, BENCH_BATCH_MAX, BENCH_BLK_MAX, COOP_COBD_MAX_IO / 1024);
	return 2;
}

/* ---- bench switch ---------------------------------------------------------- */

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
	    (argc == 4 && (kstrtou64(argv[3], 10, &batch) || !batch || batch > BENCH_BATCH_MAX)))
		return bench_usage();
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

/* ---- bench blk --------------------------------------------------------------- */

/* What one `bench blk` run does. */
struct bench_blk {
	struct cobd_unit_info u; /* the unit */
	uint64_t count;          /* requests */
	uint64_t len;            /* bytes per request */
	bool rand;               /* random KIB-aligned offsets, else sequential from 0 */
	bool write;              /* cobd_write, else cobd_read */
};

/* UNIT COUNT KIB seq|rand read|write from argv[2..]: 0, or 2 with a message. */
static int bench_blk_parse(int argc, char **argv, struct bench_blk *b)
{
	uint64_t unit, kib;

	if (argc != 7 || kstrtou64(argv[2], 10, &unit) || unit > 0xffff ||
	    kstrtou64(argv[3], 10, &b->count) || kstrtou64(argv[4], 10, &kib))
		return bench_usage();
	b->rand = !strcmp(argv[5], "rand");
	b->write = !strcmp(argv[6], "write");
	if ((!b->rand && strcmp(argv[5], "seq")) || (!b->write && strcmp(argv[6], "read")) ||
	    !b->count || b->count > BENCH_BLK_MAX || !kib || kib > COOP_COBD_MAX_IO / 1024)
		return bench_usage();
	if (cobd_info((unsigned int)unit, &b->u)) {
		kprintf("bench blk: no unit cobd%llu\n", (unsigned long long)unit);
		return 2;
	}
	b->len = kib * 1024;
	if (b->len > b->u.size || (b->write && b->u.ro)) {
		kprintf("bench blk: cobd%u is %s\n", b->u.unit,
			b->u.ro ? "read-only" : "smaller than one request");
		return 2;
	}
	return 0;
}

/* xorshift64: the offsets of a random run (the same every run) and the data written. */
static uint64_t bench_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The requests, sequential from offset 0 (wrapping at the end) or at
 * random aligned offsets, each timed (lfence; rdtsc) around the driver
 * call: one request's round trip as a guest thread sees it.  The offset
 * is chosen before the clock starts.
 */
static int bench_blk_loop(const struct bench_blk *b, uint8_t *buf, uint64_t *cycles)
{
	uint64_t slots = b->u.size / b->len, x = 0x9e3779b97f4a7c15ull, off = 0, t0, i;
	int err;

	for (i = 0; i < b->count; i++) {
		if (b->rand)
			off = (bench_rand(&x) % slots) * b->len;
		else if (off + b->len > b->u.size)
			off = 0;
		t0 = rdtsc_ordered();
		err = b->write ? cobd_write(b->u.unit, off, buf, b->len)
			       : cobd_read(b->u.unit, off, buf, b->len);
		cycles[i] = rdtsc_ordered() - t0;
		if (err) {
			kprintf("bench blk: cobd%u %s at %llu: error %s (%s)\n", b->u.unit,
				b->write ? "write" : "read", (unsigned long long)off,
				errno_name(err), errno_text(err));
			return err;
		}
		if (!b->rand)
			off += b->len;
	}
	return 0;
}

/* COUNT requests of KIB KiB; the samples are printed afterwards, as in bench switch. */
static int bench_blk(int argc, char **argv)
{
	struct bench_blk b;
	uint64_t *cycles, x = 1, i;
	uint8_t *buf;
	int err = bench_blk_parse(argc, argv, &b);

	if (err)
		return err;
	buf = kalloc(b.len);
	cycles = kalloc(b.count * sizeof(*cycles));
	if (!buf || !cycles) {
		kfree(buf);
		kfree(cycles);
		kprintf("bench blk: no memory for %llu samples\n", (unsigned long long)b.count);
		return 1;
	}
	for (i = 0; i < b.len / 8; i++) /* what writes write: not all zeroes */
		((uint64_t *)buf)[i] = bench_rand(&x);
	err = bench_blk_loop(&b, buf, cycles);
	for (i = 0; !err && i < b.count; i++)
		kprintf("BLKBENCH %llu\n", (unsigned long long)cycles[i]);
	kfree(buf);
	kfree(cycles);
	return err ? 1 : 0;
}

/* ---- the command --------------------------------------------------------------- */

int cmd_bench(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "switch"))
		return bench_switch(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "blk"))
		return bench_blk(argc, argv);
	return bench_usage();
}
