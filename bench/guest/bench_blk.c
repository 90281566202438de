/* SPDX-License-Identifier: MIT */
/*
 * bench_blk.c - guest half of `coop bench`'s block benchmarks, linked into
 * coop-bench-guest.elf only (the default guest plus this file; the link
 * wraps the shell's `bench` command, see bench/CMakeLists.txt).  Adds
 *   bench blk UNIT COUNT KIB seq|rand read|write
 * COUNT requests of KIB KiB each, sequential from offset 0 (wrapping) or at
 * random KIB-aligned offsets; one `BLKBENCH <cycles>` line per request,
 * timed around the driver call.  Everything else goes to the stock command.
 * Try: coop run --kernel build/bin/coop-bench-guest.elf --disk cobd0=IMG
 *      --exec 'bench blk 0 10 4 rand write'
 */
#include "defs.h"

#define BB_MAX 1000000 /* requests at most */

int __real_cmd_bench(int argc, char **argv);
int __wrap_cmd_bench(int argc, char **argv);

/* What one `bench blk` run does. */
struct bb_run {
	struct cobd_unit_info u; /* the unit */
	uint64_t count;          /* requests */
	uint64_t len;            /* bytes per request */
	bool rand;               /* random offsets, else sequential */
	bool write;              /* cobd_write, else cobd_read */
};

static int bb_usage(void)
{
	kprintf("usage: bench blk UNIT COUNT KIB seq|rand read|write "
	        "(COUNT 1..%u, KIB 1..%u)\n",
	        BB_MAX, COOP_COBD_MAX_IO / 1024);
	return 2;
}

static int bb_parse(int argc, char **argv, struct bb_run *b)
{
	uint64_t unit, kib;

	if (argc != 7 || kstrtou64(argv[2], 10, &unit) || unit > 0xffff ||
	    kstrtou64(argv[3], 10, &b->count) || kstrtou64(argv[4], 10, &kib))
		return bb_usage();
	b->rand = !strcmp(argv[5], "rand");
	b->write = !strcmp(argv[6], "write");
	if ((!b->rand && strcmp(argv[5], "seq")) || (!b->write && strcmp(argv[6], "read")) ||
	    !b->count || b->count > BB_MAX || !kib || kib > COOP_COBD_MAX_IO / 1024)
		return bb_usage();
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

/* xorshift64: the offsets of a random run, the same every run. */
static uint64_t bb_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The requests, each timed with lfence; rdtsc around the driver call: one
 * request's round trip as a guest thread sees it.  The offsets are chosen
 * before the clock starts.
 */
static int bb_loop(const struct bb_run *b, uint8_t *buf, uint64_t *cycles)
{
	uint64_t slots = b->u.size / b->len, x = 0x9e3779b97f4a7c15ull, off = 0, t0, i;
	int err;

	for (i = 0; i < b->count; i++) {
		if (b->rand)
			off = (bb_next(&x) % slots) * b->len;
		else if (off + b->len > b->u.size)
			off = 0;
		t0 = rdtsc_ordered();
		err = b->write ? cobd_write(b->u.unit, off, buf, b->len)
		               : cobd_read(b->u.unit, off, buf, b->len);
		cycles[i] = rdtsc_ordered() - t0;
		if (err) {
			kprintf("bench blk: cobd%u %s at %llu: error %d\n", b->u.unit,
			        b->write ? "write" : "read", (unsigned long long)off, err);
			return err;
		}
		if (!b->rand)
			off += b->len;
	}
	return 0;
}

static int bench_blk(int argc, char **argv)
{
	struct bb_run b;
	uint64_t *cycles, x = 1, i;
	uint8_t *buf;
	int err = bb_parse(argc, argv, &b);

	if (err)
		return err;
	buf = kalloc(b.len);
	cycles = kalloc(b.count * sizeof(*cycles));
	if (!buf || !cycles) {
		kfree(buf);
		kfree(cycles);
		kprintf("bench blk: no memory\n");
		return 1;
	}
	for (i = 0; i < b.len / 8; i++) /* what writes write: not all zeroes */
		((uint64_t *)buf)[i] = bb_next(&x);
	err = bb_loop(&b, buf, cycles);
	/* Printed afterwards: printing is a hypercall (a message) of its own. */
	for (i = 0; !err && i < b.count; i++)
		kprintf("BLKBENCH %llu\n", (unsigned long long)cycles[i]);
	kfree(buf);
	kfree(cycles);
	return err ? 1 : 0;
}

/* The shell's `bench`, as the link wraps it: ours first, then the stock one. */
int __wrap_cmd_bench(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "blk"))
		return bench_blk(argc, argv);
	return __real_cmd_bench(argc, argv);
}
