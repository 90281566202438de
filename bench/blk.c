/* SPDX-License-Identifier: MIT */
/*
 * blk.c - the block device against the host's own I/O on the same file,
 * page cache warm for both: a 4 KiB read round trip (guest `blk bench`,
 * timed in the guest from request to reply) next to a host pread of 4 KiB,
 * and sequential 1 MiB reads as throughput next to host pread of 1 MiB.
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

static char image[64];

/* The image both sides read: pseudo-random bytes, read once to warm the cache. */
static int bench_image(const struct bench_opts *o, uint64_t *size)
{
	static uint64_t made;
	uint64_t want = (o->quick ? 16ull : 64ull) * MIB, x = 0x9e3779b97f4a7c15ull;
	uint64_t *buf;
	int fd;

	*size = want;
	if (made)
		return 0;
	snprintf(image, sizeof(image), "/tmp/coop-bench-XXXXXX");
	fd = mkstemp(image);
	buf = malloc(MIB);
	if (fd < 0 || !buf) {
		free(buf);
		return -errno;
	}
	for (uint64_t off = 0; off < want; off += MIB) {
		for (size_t i = 0; i < MIB / 8; i++)
			buf[i] = (x ^= x << 13, x ^= x >> 7, x ^= x << 17);
		if (pwrite(fd, buf, MIB, (off_t)off) != MIB) {
			close(fd);
			free(buf);
			return -EIO;
		}
	}
	free(buf);
	close(fd);
	made = want;
	return 0;
}

void bench_blk_cleanup(void)
{
	if (image[0])
		unlink(image);
	image[0] = '\0';
}

/* Samples of `size` bytes each, as MB/s; *_cycles hold cycles per sample. */
static void throughput(struct bench_result *r, uint64_t *cycles, size_t n, size_t size)
{
	double *mbs = calloc(n, sizeof(*mbs));
	uint64_t khz = shim_tsc_khz();

	bench_summarize(r, cycles, n, 0, khz); /* sorts cycles, fills cycles[] */
	r->unit = "MB/s";
	for (size_t i = 0; mbs && i < n; i++) /* ascending MB/s = descending cycles */
		mbs[i] = (double)size / ((double)cycles[n - 1 - i] / (double)khz * 1e3);
	for (int k = 0; mbs && k < 6; k++) {
		static const double q[6] = { 0, 0.5, 0.9, 0.99, 0.999, 1 };

		r->ns[k] = mbs[(size_t)(q[k] * (double)(n - 1) + 0.5)];
	}
	free(mbs);
}

/* Host preads of `chunk` bytes, sequential over the image. */
static int host_reads(const struct bench_opts *o, size_t n, size_t chunk, uint64_t **out)
{
	uint64_t size, off = 0, *v;
	void *buf;
	int fd, rc = bench_image(o, &size);

	if (rc)
		return rc;
	fd = open(image, O_RDONLY | O_CLOEXEC);
	v = calloc(n, sizeof(*v));
	buf = aligned_alloc(4096, chunk);
	if (fd < 0 || !v || !buf) {
		free(v), free(buf);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n + n / 10; i++) { /* the first tenth warms up */
		uint64_t t0 = shim_rdtsc();

		if (pread(fd, buf, chunk, (off_t)off) != (ssize_t)chunk)
			rc = -EIO;
		if (i >= n / 10)
			v[i - n / 10] = shim_rdtsc() - t0;
		off = (off + chunk) % size;
	}
	close(fd);
	free(buf);
	*out = v;
	return rc;
}

/* The guest's `blk bench 0 N KIB`: one BLKBENCH line of cycles per request. */
static int guest_reads(const struct bench_opts *o, size_t n, unsigned int kib, uint64_t **out,
		       size_t *got)
{
	char disk[96], exec[64], *text = NULL, *line, *save = NULL;
	const char *disks[1] = { disk };
	struct shim_config cfg = { .ndisks = 1 };
	uint64_t size, *v = calloc(n, sizeof(*v));
	int rc = bench_image(o, &size);

	if (!v)
		return -ENOMEM;
	snprintf(disk, sizeof(disk), "cobd0=%s,ro", image);
	memcpy(cfg.disks, disks, sizeof(disks));
	snprintf(exec, sizeof(exec), "blk bench 0 %zu %u; poweroff 0", n, kib);
	if (!rc)
		rc = bench_guest_run(o, &cfg, exec, &text, NULL);
	*got = 0;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && *got < n;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "BLKBENCH %llu", (unsigned long long *)&v[*got]) == 1)
			(*got)++;
	free(text);
	if (!rc && !*got) {
		fprintf(stderr, "coop bench: the guest's blk bench printed no samples\n");
		rc = -EIO;
	}
	*out = v;
	return rc;
}

int bench_pread_4k(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = o->iterations ? o->iterations : o->quick ? 5000 : 50000;
	uint64_t *v = NULL;
	int rc = host_reads(o, n, 4096, &v);

	r->name = "pread_4k";
	r->note = "host pread of 4 KiB from the same image, page cache warm";
	if (!rc)
		bench_summarize(r, v, n, bench_tsc_overhead(), shim_tsc_khz());
	free(v);
	return rc;
}

int bench_cobd_read_4k(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = o->iterations ? o->iterations : o->quick ? 5000 : 50000, got;
	uint64_t *v = NULL;
	int rc = guest_reads(o, n, 4, &v, &got);

	r->name = "cobd_read_4k_rtt";
	r->note = "guest 4 KiB cobd read: request -> host pread into guest RAM -> reply";
	r->baseline = "pread_4k";
	if (!rc)
		bench_summarize(r, v, got, bench_tsc_overhead(), shim_tsc_khz());
	free(v);
	return rc;
}

int bench_pread_seq(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = o->iterations ? o->iterations : o->quick ? 64 : 512;
	uint64_t *v = NULL;
	int rc = host_reads(o, n, MIB, &v);

	r->name = "pread_seq";
	r->note = "host sequential pread of 1 MiB, page cache warm";
	if (!rc)
		throughput(r, v, n, MIB);
	free(v);
	return rc;
}

int bench_cobd_seq_read(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = o->iterations ? o->iterations : o->quick ? 64 : 512, got;
	uint64_t *v = NULL;
	int rc = guest_reads(o, n, 1024, &v, &got);

	r->name = "cobd_seq_read";
	r->note = "guest sequential cobd reads of 1 MiB";
	r->baseline = "pread_seq";
	if (!rc)
		throughput(r, v, got, MIB);
	free(v);
	return rc;
}
