/* SPDX-License-Identifier: MIT */
/*
 * blk.c - the `blk` shell command over the block driver: info, read,
 * write/verify of a pattern that differs per sector and seed, scrub (the
 * "nothing lost" check of fault experiments) and sum (SHA-256, to compare
 * with dd | sha256sum on the host).  Sectors are 512 bytes.  (Timed I/O for
 * `coop bench` is `bench blk`, apps/bench.c.)
 * Try: coop run --disk cobd0=IMG --exec 'blk info; blk scrub 0; blk sum 0 0 8'
 */
#include "defs.h"

#define SECTOR COOP_COBD_SECTOR
#define BLK_BUF (1u << 20)              /* bytes per I/O: one full request */
#define BLK_BUF_SECTORS (BLK_BUF / SECTOR)
#define BLK_PROGRESS (16ull << 20)      /* scrub reports every this many bytes */
#define BLK_REPORT_MAX 8                /* bad sectors / errors described, then counted */
#define BLK_WORDS (SECTOR / 8)          /* 64-bit words in a sector */

/* A range of sectors of one unit, as the command line gave it. */
struct blk_range {
	struct cobd_unit_info u; /* the unit */
	uint64_t start;          /* first sector */
	uint64_t count;          /* sectors */
	uint64_t seed;           /* pattern seed (write, verify, scrub) */
};

/* What verifying a range found. */
struct blk_tally {
	uint64_t ok;        /* sectors that hold the pattern */
	uint64_t bad;       /* sectors that do not, or could not be read */
	uint64_t io_errors; /* requests that failed */
	uint64_t silent;    /* bad sectors whose reads reported no error */
	unsigned int shown; /* bad sectors and errors described so far */
};

/* ---- the pattern ---------------------------------------------------------- */

/* splitmix64's finalizer: every input bit affects every output bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Sector @sector of the pattern of @seed: its number and the seed in
 * words 0 and 1 (so that a misplaced sector says where it belongs), then
 * xorshift64 from a state that depends on both.
 */
static void pattern_sector(uint64_t *w, uint64_t sector, uint64_t seed)
{
	uint64_t x = mix64(seed ^ mix64(sector + 0x9e3779b97f4a7c15ull)) | 1;
	unsigned int i;

	w[0] = sector;
	w[1] = seed;
	for (i = 2; i < BLK_WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

/* @count sectors of the pattern, the first being @sector, into @buf. */
void blk_pattern_fill(uint8_t *buf, uint64_t sector, uint64_t count, uint64_t seed)
{
	uint64_t w[BLK_WORDS];

	for (; count; count--, sector++, buf += SECTOR) {
		pattern_sector(w, sector, seed);
		memcpy(buf, w, SECTOR);
	}
}

/* -1 if @buf holds sector @sector of the pattern, else the first byte that differs. */
int blk_pattern_check(const uint8_t *buf, uint64_t sector, uint64_t seed)
{
	uint64_t w[BLK_WORDS];
	const uint8_t *e = (const uint8_t *)w;
	int i;

	pattern_sector(w, sector, seed);
	if (!memcmp(buf, w, SECTOR))
		return -1;
	for (i = 0; i < SECTOR && buf[i] == e[i]; i++)
		;
	return i;
}

/* ---- parsing and messages -------------------------------------------------- */

static int blk_usage(void)
{
	kprintf("usage: blk info [UNIT]\n"
		"       blk read UNIT START COUNT\n"
		"       blk write|verify UNIT START COUNT SEED\n"
		"       blk scrub UNIT [START COUNT [SEED]]\n"
		"       blk sum UNIT START COUNT\n"
		"UNIT is N or cobdN; START and COUNT are 512-byte sectors\n");
	return 2;
}

/* "0" or "cobd0" -> the unit; 2 (usage status) with a message if not. */
static int blk_unit(const char *s, struct cobd_unit_info *u)
{
	uint64_t n;

	if (!strncmp(s, "cobd", 4))
		s += 4;
	if (kstrtou64(s, 10, &n) || n > 0xffff) {
		kprintf("blk: bad unit '%s' (expected N or cobdN)\n", s);
		return 2;
	}
	if (cobd_info((unsigned int)n, u)) {
		kprintf("blk: no unit cobd%llu\n", (unsigned long long)n);
		return 2;
	}
	return 0;
}

static int blk_number(const char *what, const char *s, unsigned int base, uint64_t *v)
{
	if (kstrtou64(s, base, v)) {
		kprintf("blk: bad %s '%s'\n", what, s);
		return 2;
	}
	return 0;
}

/* UNIT START COUNT [SEED] from argv[2..]: 0, or 2 with a message. */
static int blk_parse(int argc, char **argv, bool seed, struct blk_range *r)
{
	int err;

	if (argc != (seed ? 6 : 5))
		return blk_usage();
	if ((err = blk_unit(argv[2], &r->u)) || (err = blk_number("START", argv[3], 10, &r->start)) ||
	    (err = blk_number("COUNT", argv[4], 10, &r->count)) ||
	    (seed && (err = blk_number("SEED", argv[5], 0, &r->seed))))
		return err;
	return 0; /* a range past the end is not a usage error: the driver answers it */
}

/* "blk write cobd0 0+8: error EROFS (read-only)" */
static void blk_err(const char *op, unsigned int unit, uint64_t start, uint64_t count, int err)
{
	kprintf("blk %s cobd%u %llu+%llu: error %s (%s)\n", op, unit, (unsigned long long)start,
		(unsigned long long)count, errno_name(err), errno_text(err));
}

/* A buffer for up to @sectors sectors, at most BLK_BUF bytes; NULL with a message. */
static uint8_t *blk_buf(uint64_t sectors, size_t *size)
{
	uint8_t *buf;

	*size = sectors < BLK_BUF_SECTORS ? (size_t)(sectors ? sectors : 1) * SECTOR : BLK_BUF;
	buf = kalloc(*size);
	if (!buf)
		kprintf("blk: no memory for a %zu-byte buffer\n", *size);
	return buf;
}

/* Sectors in the next piece of a range: up to a buffer's worth. */
static uint64_t blk_piece(uint64_t left)
{
	return left < BLK_BUF_SECTORS ? left : BLK_BUF_SECTORS;
}

/* ---- info, read, write ------------------------------------------------------ */

static void blk_info_line(const struct cobd_unit_info *u)
{
	char size[24];

	fmt_bytes(size, sizeof(size), u->size);
	kprintf("cobd%u: %llu sectors (%s), %s\n", u->unit,
		(unsigned long long)(u->size / SECTOR), size, u->ro ? "ro" : "rw");
}

static int blk_info(int argc, char **argv)
{
	struct cobd_unit_info u;
	uint16_t units[COBD_MAX_UNITS];
	unsigned int i, n;
	int err;

	if (argc > 3)
		return blk_usage();
	if (argc == 3) {
		if ((err = blk_unit(argv[2], &u)))
			return err;
		blk_info_line(&u);
		return 0;
	}
	n = cobd_list(units, COBD_MAX_UNITS);
	if (!n)
		kprintf("blk: no block devices (coop run --disk cobd0=IMG)\n");
	for (i = 0; i < n && i < COBD_MAX_UNITS; i++)
		if (!cobd_info(units[i], &u))
			blk_info_line(&u);
	return 0;
}

/* The first 64 bytes, 16 to a line, with their offset. */
static void blk_hexdump(const uint8_t *buf, size_t len)
{
	char line[80];
	size_t i, j, n;

	for (i = 0; i < len && i < 64; i += 16) {
		n = (size_t)ksnprintf(line, sizeof(line), "  %04zx:", i);
		for (j = i; j < i + 16 && j < len; j++)
			n += (size_t)ksnprintf(line + n, sizeof(line) - n, " %02x", buf[j]);
		kprintf("%s\n", line);
	}
}

static int blk_read(int argc, char **argv)
{
	struct blk_range r;
	uint64_t done, n;
	uint32_t crc = 0;
	uint8_t first[64];
	size_t size;
	uint8_t *buf;
	int err = 0;

	if ((err = blk_parse(argc, argv, false, &r)))
		return err;
	if (!(buf = blk_buf(r.count, &size)))
		return 1;
	for (done = 0; !err && done < r.count; done += n) {
		n = blk_piece(r.count - done);
		err = cobd_read(r.u.unit, (r.start + done) * SECTOR, buf, n * SECTOR);
		if (!err && !done)
			memcpy(first, buf, n * SECTOR < 64 ? n * SECTOR : 64);
		if (!err)
			crc = crc32c(crc, buf, n * SECTOR);
	}
	kfree(buf);
	if (err) {
		blk_err("read", r.u.unit, r.start, r.count, err);
		return 1;
	}
	kprintf("read cobd%u %llu+%llu: ok crc32c %08x\n", r.u.unit, (unsigned long long)r.start,
		(unsigned long long)r.count, crc);
	blk_hexdump(first, r.count * SECTOR < 64 ? r.count * SECTOR : 64);
	return 0;
}

/* Write the pattern over @n sectors, @done sectors into the range: 0 or -errno. */
static int blk_write_piece(const struct blk_range *r, uint8_t *buf, uint64_t done, uint64_t n)
{
	blk_pattern_fill(buf, r->start + done, n, r->seed);
	return cobd_write(r->u.unit, (r->start + done) * SECTOR, buf, n * SECTOR);
}

/* Write the pattern over the range; 0 or the first error (printed as @op). */
static int blk_write_range(const struct blk_range *r, uint8_t *buf, const char *op)
{
	uint64_t done, n;
	int err;

	for (done = 0; done < r->count; done += n) {
		n = blk_piece(r->count - done);
		err = blk_write_piece(r, buf, done, n);
		if (err) {
			blk_err(op, r->u.unit, r->start + done, n, err);
			return err;
		}
	}
	return 0;
}

static int blk_write(int argc, char **argv)
{
	struct blk_range r;
	size_t size;
	uint8_t *buf;
	int err;

	if ((err = blk_parse(argc, argv, true, &r)))
		return err;
	if (!(buf = blk_buf(r.count, &size)))
		return 1;
	err = blk_write_range(&r, buf, "write");
	kfree(buf);
	if (err)
		return 1;
	kprintf("write cobd%u %llu+%llu: ok seed %llu\n", r.u.unit, (unsigned long long)r.start,
		(unsigned long long)r.count, (unsigned long long)r.seed);
	return 0;
}

/* ---- verify, scrub ------------------------------------------------------------ */

/* Say what a bad sector holds: another sector's pattern, zeros, or other bytes. */
static void blk_describe(const struct blk_range *r, const uint8_t *s, uint64_t sector, int at)
{
	uint64_t w0, w1;
	size_t i;

	memcpy(&w0, s, 8);
	memcpy(&w1, s + 8, 8);
	for (i = 0; i < SECTOR && !s[i]; i++)
		;
	if (i == SECTOR)
		kprintf("  cobd%u sector %llu: zeros\n", r->u.unit, (unsigned long long)sector);
	else if (blk_pattern_check(s, w0, w1) < 0) /* misdirected, or stale from another seed */
		kprintf("  cobd%u sector %llu: holds sector %llu's data of seed %llu\n", r->u.unit,
			(unsigned long long)sector, (unsigned long long)w0, (unsigned long long)w1);
	else
		kprintf("  cobd%u sector %llu: differs from byte %d on\n", r->u.unit,
			(unsigned long long)sector, at);
}

/* Tell the host which sector read back wrong: the fault layer names the fault. */
static void blk_report_bad(const struct blk_range *r, uint64_t sector)
{
	struct coop_mon_bad b = { .sector = sector, .device = COOP_DEV_COBD,
				  .unit = (uint16_t)r->u.unit };

	msg_send(COOP_DEV_MONITOR, 0, COOP_MON_BAD, &b, sizeof(b));
}

/* Check @n sectors of the pattern in @buf, the first being @sector. */
static void blk_check(const struct blk_range *r, const uint8_t *buf, uint64_t sector, uint64_t n,
		      struct blk_tally *t)
{
	uint64_t i;
	int at;

	for (i = 0; i < n; i++, buf += SECTOR) {
		at = blk_pattern_check(buf, sector + i, r->seed);
		if (at < 0) {
			t->ok++;
			continue;
		}
		t->bad++;
		t->silent++;
		blk_report_bad(r, sector + i);
		if (t->shown++ < BLK_REPORT_MAX)
			blk_describe(r, buf, sector + i, at);
	}
}

/*
 * Tell the host what an end-to-end check found: sectors that read back
 * wrong although their reads succeeded are damage nothing else noticed
 * (the fault layer's "escaped").
 */
static void blk_report_check(const struct blk_range *r, const struct blk_tally *t)
{
	struct coop_mon_check c = {
		.checked = r->count,
		.bad = t->silent,
		.device = COOP_DEV_COBD,
		.unit = (uint16_t)r->u.unit,
	};

	if (msg_send(COOP_DEV_MONITOR, 0, COOP_MON_CHECK, &c, sizeof(c)) == 0)
		msg_flush();
}

/* Read the range back and check it; @progress: say so every BLK_PROGRESS bytes. */
static void blk_verify_range(const struct blk_range *r, uint8_t *buf, struct blk_tally *t,
			     bool progress)
{
	uint64_t done, n, sector;
	int err;

	for (done = 0; done < r->count; done += n) {
		n = blk_piece(r->count - done);
		sector = r->start + done;
		err = cobd_read(r->u.unit, sector * SECTOR, buf, n * SECTOR);
		if (err) {
			t->bad += n;
			t->io_errors++;
			if (t->shown++ < BLK_REPORT_MAX)
				blk_err("read", r->u.unit, sector, n, err);
		} else {
			blk_check(r, buf, sector, n, t);
		}
		if (progress && ((done + n) * SECTOR) % BLK_PROGRESS == 0)
			kprintf("scrub cobd%u: verified %llu MiB of %llu MiB\n", r->u.unit,
				(unsigned long long)((done + n) * SECTOR >> 20),
				(unsigned long long)(r->count * SECTOR >> 20));
	}
	blk_report_check(r, t);
}

static int blk_verify(int argc, char **argv)
{
	struct blk_tally t = { 0 };
	struct blk_range r;
	size_t size;
	uint8_t *buf;
	int err;

	if ((err = blk_parse(argc, argv, true, &r)))
		return err;
	if (!(buf = blk_buf(r.count, &size)))
		return 1;
	blk_verify_range(&r, buf, &t, false);
	kfree(buf);
	kprintf("verify cobd%u %llu+%llu: %llu sectors ok, %llu bad\n", r.u.unit,
		(unsigned long long)r.start, (unsigned long long)r.count,
		(unsigned long long)t.ok, (unsigned long long)t.bad);
	return t.bad || t.io_errors ? 1 : 0;
}

/* UNIT [START COUNT [SEED]] of scrub: the whole unit and seed 1 by default. */
static int blk_scrub_parse(int argc, char **argv, struct blk_range *r)
{
	int err;

	if (argc != 3 && argc != 5 && argc != 6)
		return blk_usage();
	if ((err = blk_unit(argv[2], &r->u)))
		return err;
	r->start = 0;
	r->count = r->u.size / SECTOR;
	r->seed = 1;
	if (argc >= 5 && ((err = blk_number("START", argv[3], 10, &r->start)) ||
			  (err = blk_number("COUNT", argv[4], 10, &r->count))))
		return err;
	if (argc == 6 && (err = blk_number("SEED", argv[5], 0, &r->seed)))
		return err;
	return 0;
}

/*
 * Write the pattern over the range with progress, past failed requests
 * (counted in t->io_errors: their sectors will not verify).  false if
 * an error means that every other request would fail the same way.
 */
static bool blk_scrub_write(const struct blk_range *r, uint8_t *buf, struct blk_tally *t)
{
	uint64_t done, n;
	int err;

	for (done = 0; done < r->count; done += n) {
		n = blk_piece(r->count - done);
		err = blk_write_piece(r, buf, done, n);
		if (err) {
			t->io_errors++;
			if (t->shown++ < BLK_REPORT_MAX)
				blk_err("write", r->u.unit, r->start + done, n, err);
		}
		if (err == -EROFS || err == -ENODEV || err == -EINVAL || err == -ENOMEM)
			return false;
		if (((done + n) * SECTOR) % BLK_PROGRESS == 0)
			kprintf("scrub cobd%u: written %llu MiB of %llu MiB\n", r->u.unit,
				(unsigned long long)((done + n) * SECTOR >> 20),
				(unsigned long long)(r->count * SECTOR >> 20));
	}
	return true;
}

/*
 * Write the pattern, flush, read everything back, verify.  Reading only
 * after all writes catches writes that landed on the wrong sector.
 * Errors: sectors that did not verify (unreadable ones included); a write
 * error that makes the rest pointless (EROFS, ...) counts the whole range.
 */
static int blk_scrub(int argc, char **argv)
{
	struct blk_tally t = { 0 };
	struct blk_range r;
	size_t size;
	uint8_t *buf;
	uint64_t t0;
	int err;

	if ((err = blk_scrub_parse(argc, argv, &r)))
		return err;
	if (!(buf = blk_buf(r.count, &size)))
		return 1;
	t0 = clock_ns();
	if (!blk_scrub_write(&r, buf, &t)) {
		t.bad = r.count; /* gave up: nothing was verified */
	} else {
		if ((err = cobd_flush(r.u.unit))) {
			blk_err("flush", r.u.unit, r.start, r.count, err);
			t.io_errors++;
		}
		blk_verify_range(&r, buf, &t, true);
	}
	kfree(buf);
	kprintf("scrub cobd%u: %llu MiB in %llu ms\n", r.u.unit,
		(unsigned long long)(r.count * SECTOR >> 20),
		(unsigned long long)((clock_ns() - t0) / 1000000));
	kprintf("scrub cobd%u: %llu sectors written and verified, %llu errors", r.u.unit,
		(unsigned long long)r.count, (unsigned long long)t.bad);
	if (t.io_errors) /* a write that failed may leave an earlier scrub's equal pattern */
		kprintf(", %llu failed requests", (unsigned long long)t.io_errors);
	kprintf("\n");
	return t.bad || t.io_errors ? 1 : 0;
}

/* ---- sum ------------------------------------------------------------------------- */

static int blk_sum(int argc, char **argv)
{
	uint8_t digest[SHA256_DIGEST];
	char hex[2 * SHA256_DIGEST + 1];
	struct sha256_ctx c;
	struct blk_range r;
	uint64_t done, n;
	size_t size;
	uint8_t *buf;
	int err = 0;

	if ((err = blk_parse(argc, argv, false, &r)))
		return err;
	if (!(buf = blk_buf(r.count, &size)))
		return 1;
	sha256_init(&c);
	for (done = 0; !err && done < r.count; done += n) {
		n = blk_piece(r.count - done);
		err = cobd_read(r.u.unit, (r.start + done) * SECTOR, buf, n * SECTOR);
		if (!err)
			sha256_update(&c, buf, n * SECTOR);
	}
	kfree(buf);
	sha256_final(&c, digest);
	if (err) {
		blk_err("sum", r.u.unit, r.start, r.count, err);
		return 1;
	}
	sha256_hex(digest, hex);
	kprintf("%s  cobd%u:%llu+%llu\n", hex, r.u.unit, (unsigned long long)r.start,
		(unsigned long long)r.count);
	return 0;
}

/* ---- the command ------------------------------------------------------------------ */

/* A subcommand of blk. */
struct blk_cmd {
	const char *name;                 /* blk NAME ... */
	int (*fn)(int argc, char **argv); /* gets blk's whole argv */
};

static const struct blk_cmd blk_cmds[] = {
	{ "info", blk_info },   { "read", blk_read },   { "write", blk_write },
	{ "verify", blk_verify }, { "scrub", blk_scrub }, { "sum", blk_sum },
};

int cmd_blk(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return blk_usage();
	for (i = 0; i < ARRAY_SIZE(blk_cmds); i++)
		if (!strcmp(argv[1], blk_cmds[i].name))
			return blk_cmds[i].fn(argc, argv);
	return blk_usage();
}

/* The driver's counters, one line for `stats` (none if there is no unit). */
void blk_print_stats(void)
{
	struct cobd_stats s;
	uint16_t units[1];

	if (!cobd_list(units, 1))
		return;
	cobd_get_stats(&s);
	kprintf("%-12s %llu requests, %llu retries, %llu timeouts, %llu crc errors, "
		"%llu duplicates, %llu errors%s\n", "cobd", (unsigned long long)s.requests,
		(unsigned long long)s.retries, (unsigned long long)s.timeouts,
		(unsigned long long)s.crc_errors, (unsigned long long)s.duplicates,
		(unsigned long long)s.errors, cobd_nocrc() ? " (nocrc)" : "");
}
