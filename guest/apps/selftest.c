/* SPDX-License-Identifier: MIT */
/*
 * selftest.c - in-guest self-tests, a table of {name, fn} as xv6's and the
 * KVM selftests': each check that fails reports "selftest NAME: FAIL at
 * FILE:LINE: EXPR"; a missing requirement (no tick from the host) is a
 * SKIP, not a pass.  Try: coop run --exec 'selftest all'
 */
#include "defs.h"

/* How a test ended. */
enum { ST_PASS, ST_FAIL, ST_SKIP };

/* The test being run. */
static struct {
	const char *name; /* its name, for the report */
	int result;       /* ST_* so far */
} st;

/* A check: on failure, report FILE:LINE and the expression, end the test. */
#define CHECK(expr)                                              \
	do {                                                     \
		if (!(expr)) {                                   \
			st_fail(__FILE__, __LINE__, #expr);      \
			return;                                  \
		}                                                \
	} while (0)

/* A missing requirement: the test is skipped. */
#define REQUIRE(cond, why)                  \
	do {                                \
		if (!(cond)) {              \
			st_skip(why);       \
			return;             \
		}                           \
	} while (0)

static void st_fail(const char *file, int line, const char *expr)
{
	kprintf("selftest %s: FAIL at %s:%d: %s\n", st.name, file, line, expr);
	st.result = ST_FAIL;
}

static void st_skip(const char *why)
{
	kprintf("selftest %s: SKIP: %s\n", st.name, why);
	st.result = ST_SKIP;
}

/* Busy-wait @ns of clock time with vif as it is. */
static void spin_ns(uint64_t ns)
{
	uint64_t end = clock_ns() + ns;

	while (clock_ns() < end)
		cpu_relax();
}

/* ---- preempt: two threads that never yield both make progress ---------- */

/* Shared by the shell thread and the two spinners. */
static struct {
	volatile uint64_t count[2]; /* each spinner's progress */
	volatile bool stop;         /* set by the test: spinners return */
} spin;

static void spinner(void *arg)
{
	volatile uint64_t *c = arg;

	while (!spin.stop)
		(*c)++;
}

static void test_preempt(void)
{
	uint64_t mid[2], end[2];
	int tid[2], i, join[2];

	REQUIRE(timer_running(), "no timer tick from the host");
	spin.stop = false;
	spin.count[0] = spin.count[1] = 0;
	tid[0] = thread_create(spinner, (void *)&spin.count[0], "spin0");
	tid[1] = thread_create(spinner, (void *)&spin.count[1], "spin1");
	if (tid[0] > 0 && tid[1] > 0) {
		sleep_ms(150);
		mid[0] = spin.count[0], mid[1] = spin.count[1];
		sleep_ms(150);
		end[0] = spin.count[0], end[1] = spin.count[1];
	}
	spin.stop = true;
	for (i = 0; i < 2; i++)
		join[i] = tid[i] > 0 ? thread_join(tid[i]) : 0;
	CHECK(tid[0] > 0 && tid[1] > 0);
	CHECK(join[0] == 0 && join[1] == 0);
	CHECK(mid[0] > 0 && mid[1] > 0);
	CHECK(end[0] > mid[0] && end[1] > mid[1]);
}

/* ---- vif: with vif = 0 nothing is delivered; irq_enable delivers ------- */

/*
 * Spin until @n ticks past @t0 have come, or 2 s: a liveness check, not a
 * timing one - an emulated CPU (QEMU TCG) on a busy host can be slow to
 * deliver the host's tick, never forever.
 */
static void spin_ticks(uint64_t t0, uint64_t n)
{
	uint64_t deadline = clock_ns() + 2000 * 1000000ULL;

	while (jiffies() < t0 + n && clock_ns() < deadline)
		spin_ns(timer_period_ns());
}

static void test_vif(void)
{
	struct coop_virq_state *v = &passage()->virq;
	uint64_t h0, d0, t0, h1, t1, h2, d2, bit = 1ULL << (COOP_VEC_TIMER % 64);
	bool pending, left = false;
	unsigned int w;

	REQUIRE(timer_running(), "no timer tick from the host");
	irq_disable();
	h0 = timer_handled();
	d0 = READ_ONCE(v->delivered);
	t0 = jiffies();
	spin_ticks(t0, 3);
	h1 = timer_handled();
	t1 = jiffies();
	pending = READ_ONCE(v->pending[COOP_VEC_TIMER / 64]) & bit;
	irq_enable();
	for (w = 0; w < 4; w++)
		left |= (READ_ONCE(v->pending[w]) & ~READ_ONCE(v->masked[w])) != 0;
	h2 = timer_handled();
	d2 = READ_ONCE(v->delivered);
	CHECK(t1 >= t0 + 3);
	CHECK(h1 == h0);
	CHECK(pending);
	CHECK(!left);
	CHECK(h2 > h1);
	CHECK(d2 > d0);
}

/* ---- sleep, ticks ------------------------------------------------------ */

static void test_sleep(void)
{
	uint64_t t0 = clock_ns(), t1;

	sleep_ms(50);
	t1 = clock_ns();
	CHECK(t1 - t0 >= 50 * 1000000ULL);
	CHECK(t1 - t0 < 5000 * 1000000ULL);
}

static void test_ticks(void)
{
	uint64_t t0;

	REQUIRE(timer_running(), "no timer tick from the host");
	t0 = jiffies();
	spin_ticks(t0, 3);
	CHECK(jiffies() >= t0 + 3);
}

/* ---- alloc: kalloc/kfree sanity ---------------------------------------- */

static void test_alloc(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 4096, 65536 };
	struct kalloc_stats before, after;
	void *p[ARRAY_SIZE(sizes)];
	size_t i;

	kalloc_stats(&before);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = kalloc(sizes[i]);
		CHECK(p[i] != NULL);
		CHECK((uintptr_t)p[i] % 16 == 0);
		memset(p[i], (int)i, sizes[i]);
	}
	for (i = 1; i < ARRAY_SIZE(sizes); i++)
		CHECK(p[i] != p[i - 1]);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		CHECK(sizes[i] == 0 || ((uint8_t *)p[i])[sizes[i] - 1] == (uint8_t)i);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		kfree(p[i]);
	kalloc_stats(&after);
	CHECK(after.free == before.free);
	CHECK(after.allocated == before.allocated);
	CHECK(kalloc(before.total + 1) == NULL);
}

/* ---- threads: create, run, exit, join ---------------------------------- */

#define ST_THREADS 4

static void adder(void *arg)
{
	volatile uint64_t *slot = arg;
	int i;

	for (i = 0; i < 3; i++) {
		(*slot)++;
		yield();
	}
	sleep_ms(1);
	(*slot) += 10;
}

static void test_threads(void)
{
	volatile uint64_t slots[ST_THREADS] = { 0 };
	struct thread_info before[16], after[16];
	int tid[ST_THREADS], i, nb, na, joined = 0;

	nb = proc_threads(before, (int)ARRAY_SIZE(before));
	for (i = 0; i < ST_THREADS; i++)
		tid[i] = thread_create(adder, (void *)&slots[i], "adder");
	for (i = 0; i < ST_THREADS; i++)
		if (tid[i] > 0 && thread_join(tid[i]) == 0)
			joined++;
	na = proc_threads(after, (int)ARRAY_SIZE(after));
	for (i = 0; i < ST_THREADS; i++)
		CHECK(tid[i] > 0);
	CHECK(joined == ST_THREADS);
	for (i = 0; i < ST_THREADS; i++)
		CHECK(slots[i] == 13);
	CHECK(na == nb);
	CHECK(thread_join(tid[0]) == -EINVAL);
}

/* ---- cobd: write, read back, verify on a writable unit (and restore) --- */

#define ST_COBD_BYTES (COOP_COBD_MAX_IO + 8 * COOP_COBD_SECTOR) /* two requests */

/* The first writable unit, or false. */
static bool st_cobd_unit(struct cobd_unit_info *u, bool ro)
{
	uint16_t units[COBD_MAX_UNITS];
	unsigned int i, n = cobd_list(units, COBD_MAX_UNITS);

	for (i = 0; i < n && i < COBD_MAX_UNITS; i++)
		if (!cobd_info(units[i], u) && u->ro == ro)
			return true;
	return false;
}

/* The driver's and the host's refusals: misaligned, past the end, read-only. */
static void st_cobd_refusals(const struct cobd_unit_info *u, uint8_t *buf)
{
	struct cobd_unit_info ro;

	CHECK(cobd_read(u->unit, 1, buf, COOP_COBD_SECTOR) == -EINVAL);
	CHECK(cobd_read(u->unit, 0, buf, 100) == -EINVAL);
	CHECK(cobd_read(u->unit, u->size, buf, COOP_COBD_SECTOR) == -EINVAL);
	CHECK(cobd_read(999, 0, buf, COOP_COBD_SECTOR) == -ENODEV);
	/* past the end as a raw request: the host must refuse it, and live on */
	CHECK(cobd_request(u->unit, COOP_COBD_READ, u->size, buf, COOP_COBD_SECTOR) < 0);
	CHECK(cobd_request(u->unit, COOP_COBD_READ, u->size - COOP_COBD_SECTOR, buf,
			   2 * COOP_COBD_SECTOR) < 0);
	CHECK(cobd_read(u->unit, 0, buf, COOP_COBD_SECTOR) == 0);
	if (!st_cobd_unit(&ro, true))
		return;
	/* writing back what is there: harmless even if the host let it through */
	CHECK(cobd_read(ro.unit, 0, buf, COOP_COBD_SECTOR) == 0);
	CHECK(cobd_write(ro.unit, 0, buf, COOP_COBD_SECTOR) == -EROFS);
	CHECK(cobd_request(ro.unit, COOP_COBD_WRITE, 0, buf, COOP_COBD_SECTOR) == -EROFS);
}

/* Pattern out, read back, check; @len bytes at the end of the unit, split if big. */
static void st_cobd_rw(const struct cobd_unit_info *u, uint8_t *pat, uint8_t *back, size_t len)
{
	uint64_t off = u->size - len, sector = off / COOP_COBD_SECTOR, i;

	blk_pattern_fill(pat, sector, len / COOP_COBD_SECTOR, 0x5e1f7e57);
	CHECK(cobd_write(u->unit, off, pat, len) == 0);
	CHECK(cobd_flush(u->unit) == 0);
	memset(back, 0, len);
	CHECK(cobd_read(u->unit, off, back, len) == 0);
	for (i = 0; i < len / COOP_COBD_SECTOR; i++)
		CHECK(blk_pattern_check(back + i * COOP_COBD_SECTOR, sector + i, 0x5e1f7e57) < 0);
}

static void st_cobd_run(const struct cobd_unit_info *u, uint8_t *orig, uint8_t *pat,
			uint8_t *back, size_t len)
{
	struct cobd_stats before, after;
	uint64_t off = u->size - len;

	cobd_get_stats(&before);
	CHECK(cobd_read(u->unit, off, orig, len) == 0); /* the image is someone's: restore it */
	st_cobd_rw(u, pat, back, len);
	CHECK(cobd_write(u->unit, off, orig, len) == 0);
	CHECK(cobd_read(u->unit, off, back, len) == 0);
	CHECK(memcmp(orig, back, len) == 0);
	st_cobd_refusals(u, back);
	cobd_get_stats(&after);
	CHECK(after.requests > before.requests);
	CHECK(after.bytes_written - before.bytes_written >= 2 * len);
}

static void test_cobd(void)
{
	struct cobd_unit_info u;
	uint8_t *orig, *pat, *back;
	size_t len = ST_COBD_BYTES;

	REQUIRE(st_cobd_unit(&u, false), "no writable unit (coop run --disk cobd0=IMG)");
	if (u.size < 2 * len)
		len = 8 * COOP_COBD_SECTOR < u.size ? 8 * COOP_COBD_SECTOR : u.size;
	orig = kalloc(len);
	pat = kalloc(len);
	back = kalloc(len);
	if (orig && pat && back)
		st_cobd_run(&u, orig, pat, back, len);
	kfree(orig);
	kfree(pat);
	kfree(back);
	CHECK(orig && pat && back);
}

/* ---- the table --------------------------------------------------------- */

/* One self-test. */
struct selftest {
	const char *name; /* what `selftest NAME` runs */
	void (*fn)(void); /* the test; CHECK() ends it on failure */
};

static const struct selftest selftests[] = {
	{ "alloc", test_alloc },     { "threads", test_threads }, { "sleep", test_sleep },
	{ "ticks", test_ticks },     { "vif", test_vif },         { "preempt", test_preempt },
	{ "cobd", test_cobd },
};

/* Run one test and report it; ST_*. */
static int selftest_run(const struct selftest *t)
{
	st.name = t->name;
	st.result = ST_PASS;
	t->fn();
	if (st.result == ST_PASS)
		kprintf("selftest %s: PASS\n", t->name);
	if (!irq_enabled()) {
		kprintf("selftest %s: FAIL: left vif = 0\n", t->name);
		irq_enable();
		st.result = ST_FAIL;
	}
	return st.result;
}

/* `selftest` lists, `selftest NAME` runs one, `selftest all` all: 1 if any failed, 2 if unknown. */
int cmd_selftest(int argc, char **argv)
{
	bool all = argc == 2 && !strcmp(argv[1], "all"), found = false;
	int status = 0;
	size_t i;

	if (argc > 2) {
		kprintf("usage: selftest [NAME|all]\n");
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(selftests); i++) {
		if (argc == 1) {
			kprintf("%s\n", selftests[i].name);
			continue;
		}
		if (!all && strcmp(argv[1], selftests[i].name))
			continue;
		found = true;
		if (selftest_run(&selftests[i]) == ST_FAIL)
			status = 1;
	}
	if (argc == 2 && !found) {
		kprintf("selftest: no test '%s' (selftest lists them)\n", argv[1]);
		return 2;
	}
	return status;
}
