/* SPDX-License-Identifier: MIT */
/*
 * blk.c - the block device against the host's own I/O on the same image
 * file, page cache warm for both.  The guest's side is the guest shell's
 * `bench blk` (guest/apps/bench.c): requests timed in the guest from
 * request to reply.  The host's is pread/pwrite timed around the call.
 *  - cobd_read_4k_rtt vs pread_4k: one 4 KiB read, sequential offsets;
 *  - cobd_seq_read / cobd_seq_write vs pread_seq / pwrite_seq: 1 MiB
 *    requests in order, as MB/s;
 *  - cobd_rand_read_4k / cobd_rand_write_4k vs pread_rand_4k /
 *    pwrite_rand_4k: 4 KiB at random aligned offsets, as IOPS;
 *  - *_nocrc: the reads again with the guest's `nocrc`, which turns the
 *    data and message CRCs off: how much of the gap the CRCs are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

#define MIB (1u << 20)

/* One kind of I/O, on either side. */
struct blk_io {
	size_t len; /* bytes per request */
	bool rand;  /* random aligned offsets, else sequential from 0 */
	bool write; /* pwrite / cobd write, else read */
	bool nocrc; /* guest: `nocrc` on its command line (no data or message CRCs) */
};

static char image[64];

/*
 * The image both sides use: pseudo-random bytes, written now, so in the
 * page cache.  64 MiB even for --quick: a smaller image stays partly in the
 * CPU's last-level cache, and the page-cache copy of pread_seq then runs at
 * whatever share of it survived -- the baseline drifted by 17% between runs.
 */
static int bench_image(uint64_t *size)
{
	static uint64_t made;
	uint64_t want = 64ull * MIB, x = 0x9e3779b97f4a7c15ull;
	uint64_t *buf;
	int fd, rc = 0;

	*size = made ? made : want;
	if (made)
		return 0;
	snprintf(image, sizeof(image), "/tmp/coop-bench-XXXXXX");
	fd = mkstemp(image);
	if (fd < 0)
		return -errno;
	buf = malloc(MIB);
	for (uint64_t off = 0; buf && !rc && off < want; off += MIB) {
		for (size_t i = 0; i < MIB / 8; i++)
			buf[i] = (x ^= x << 13, x ^= x >> 7, x ^= x << 17);
		if (pwrite(fd, buf, MIB, (off_t)off) != MIB)
			rc = -EIO;
	}
	rc = buf ? rc : -ENOMEM;
	free(buf);
	close(fd);
	if (!rc)
		made = want;
	return rc;
}

void bench_blk_cleanup(void)
{
	if (image[0])
		unlink(image);
	image[0] = '\0';
}

/* The offsets of a random run: xorshift64, the same sequence every run. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* n host requests of io (after a tenth as many to warm up); *out gets cycles each. */
static int host_io(const struct bench_opts *o, const struct blk_io *io, size_t n, uint64_t **out)
{
	uint64_t size, off = 0, x = 0x9e3779b97f4a7c15ull, *v;
	void *buf = NULL;
	int fd, rc = bench_image(&size);

	*out = NULL;
	if (rc)
		return rc;
	fd = open(image, (io->write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	v = calloc(n, sizeof(*v));
	if (fd < 0 || !v || posix_memalign(&buf, 4096, io->len)) {
		rc = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	memset(buf, 0xa5, io->len);
	for (size_t i = 0; !rc && i < n + n / 10; i++) {
		uint64_t t0;
		ssize_t done;

		if (io->rand)
			off = next_rand(&x) % (size / io->len) * io->len;
		t0 = bench_tsc_begin();
		done = io->write ? pwrite(fd, buf, io->len, (off_t)off)
		                 : pread(fd, buf, io->len, (off_t)off);
		t0 = bench_tsc_end() - t0;
		rc = done == (ssize_t)io->len ? 0 : -EIO;
		if (i >= n / 10)
			v[i - n / 10] = t0;
		if (!io->rand)
			off = (off + io->len) % size;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	*out = v;
	return rc;
}

/* The guest's `bench blk 0 N KIB seq|rand read|write`: cycles per request. */
static int guest_io(const struct bench_opts *o, const struct blk_io *io, size_t n, uint64_t **out,
                    size_t *got)
{
	char disk[96], exec[96], *text = NULL;
	const char *disks[1] = { disk };
	struct shim_config cfg = { .ndisks = 1, .cmdline = io->nocrc ? "nocrc" : "" };
	uint64_t size;
	int rc = bench_image(&size);

	*got = 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	snprintf(disk, sizeof(disk), "cobd0=%s", image);
	memcpy(cfg.disks, disks, sizeof(disks));
	snprintf(exec, sizeof(exec), "bench blk 0 %zu %zu %s %s; poweroff 0", n, io->len / 1024,
	         io->rand ? "rand" : "seq", io->write ? "write" : "read");
	if (!rc)
		rc = bench_guest_run(o, &cfg, exec, &text, NULL);
	*got = text ? bench_guest_samples(text, "BLKBENCH", *out, n) : 0;
	if (!rc && !*got)
		rc = bench_guest_lacks(text, "bench blk") ? -ENOTSUP : -EIO;
	free(text);
	return rc;
}

/* Run io on the host (!guest) or the guest, as latency or as throughput. */
static int blk_bench(const struct bench_opts *o, struct bench_result *r, const struct blk_io *io,
                     bool guest, bool latency, size_t quick, size_t full)
{
	size_t n = bench_n(o, quick, full), got = n;
	uint64_t *v = NULL;
	int rc = guest ? guest_io(o, io, n, &v, &got) : host_io(o, io, n, &v);

	if (rc == -ENOTSUP)
		rc = bench_skip(r, "the guest kernel %s has no `bench blk` (coop-guest.elf has)",
		                o->kernel);
	else if (!rc && latency)
		rc = bench_latency(
		    r, v, got, guest ? bench_guest_timer_overhead() : bench_timer_overhead(), 1);
	else if (!rc)
		rc = bench_rate(r, v, got, (double)io->len);
	free(v);
	return rc;
}

/* len, rand, write, nocrc */
static const struct blk_io seq_4k = { 4096, false, false, false },
			   seq_read = { MIB, false, false, false },
			   seq_write = { MIB, false, true, false },
			   rand_read = { 4096, true, false, false },
			   rand_write = { 4096, true, true, false },
			   seq_4k_nocrc = { 4096, false, false, true },
			   seq_read_nocrc = { MIB, false, false, true };

int bench_pread_4k(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "pread_4k";
	r->note = "host pread of 4 KiB from the same image, sequential, page cache warm";
	return blk_bench(o, r, &seq_4k, false, true, 5000, 50000);
}

int bench_cobd_read_4k(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_read_4k_rtt";
	r->note =
	    "guest 4 KiB cobd read: request -> host pread into guest RAM -> reply, sequential";
	r->baseline = "pread_4k+world_switch_rtt";
	return blk_bench(o, r, &seq_4k, true, true, 5000, 50000);
}

int bench_cobd_read_4k_nocrc(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_read_4k_nocrc_rtt";
	r->note = "cobd_read_4k_rtt with `nocrc` on the guest command line: no CRCs (diagnostic)";
	r->baseline = "pread_4k+world_switch_rtt";
	return blk_bench(o, r, &seq_4k_nocrc, true, true, 5000, 50000);
}

int bench_pread_seq(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "pread_seq";
	r->note = "host sequential pread of 1 MiB, page cache warm";
	return blk_bench(o, r, &seq_read, false, false, 64, 512);
}

int bench_cobd_seq_read(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_seq_read";
	r->note = "guest sequential cobd reads of 1 MiB";
	r->baseline = "pread_seq";
	return blk_bench(o, r, &seq_read, true, false, 64, 512);
}

int bench_cobd_seq_read_nocrc(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_seq_read_nocrc";
	r->note = "cobd_seq_read with `nocrc` on the guest command line: no CRCs (diagnostic)";
	r->baseline = "pread_seq";
	return blk_bench(o, r, &seq_read_nocrc, true, false, 64, 512);
}

int bench_pwrite_seq(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "pwrite_seq";
	r->note = "host sequential pwrite of 1 MiB into the page cache (no sync)";
	return blk_bench(o, r, &seq_write, false, false, 64, 512);
}

int bench_cobd_seq_write(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_seq_write";
	r->note = "guest sequential cobd writes of 1 MiB (no flush)";
	r->baseline = "pwrite_seq";
	return blk_bench(o, r, &seq_write, true, false, 64, 512);
}

int bench_pread_rand(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "pread_rand_4k";
	r->note = "host pread of 4 KiB at random aligned offsets, page cache warm";
	return blk_bench(o, r, &rand_read, false, false, 5000, 50000);
}

int bench_cobd_rand_read(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_rand_read_4k";
	r->note = "guest cobd reads of 4 KiB at random aligned offsets, one at a time";
	r->baseline = "pread_rand_4k";
	return blk_bench(o, r, &rand_read, true, false, 5000, 50000);
}

int bench_pwrite_rand(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "pwrite_rand_4k";
	r->note = "host pwrite of 4 KiB at random aligned offsets into the page cache";
	return blk_bench(o, r, &rand_write, false, false, 5000, 50000);
}

int bench_cobd_rand_write(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "cobd_rand_write_4k";
	r->note = "guest cobd writes of 4 KiB at random aligned offsets, one at a time (no flush)";
	r->baseline = "pwrite_rand_4k";
	return blk_bench(o, r, &rand_write, true, false, 5000, 50000);
}
