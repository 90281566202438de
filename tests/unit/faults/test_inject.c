/* SPDX-License-Identifier: MIT */
/*
 * test_inject.c - faults/inject.c: which events a plan's rules fire on.
 * Replay must not depend on the order events arrive in (timing reorders a
 * workload's messages), a retried message must get a fresh chance (else a
 * dropped request would be dropped forever), counted triggers (every-Nth,
 * windows) go by order, and the fault log is sorted so that two replays
 * compare byte for byte.
 */
#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coop/abi.h"
#include "faults/faults.h"

static struct fault_engine eng;

static void engine(const char *text, uint64_t seed, FILE *log)
{
	struct fault_plan *plan = calloc(1, sizeof(*plan));
	char err[256];

	ck_assert_ptr_nonnull(plan);
	ck_assert_msg(fault_plan_parse(text, strlen(text), "t.plan", plan, err, sizeof(err)) == 0,
		      "%s", err);
	fault_engine_init(&eng, plan, true, seed, 0, log);
	free(plan);
}

/* A cobd reply for request seq. */
static struct fault_event reply(uint64_t seq)
{
	return (struct fault_event){ .cls = FAULT_CLASS_MSG, .device = COOP_DEV_COBD, .unit = 0,
				     .dir = 1, .type = COOP_COBD_REPLY, .op = -1, .vector = -1,
				     .seq = seq };
}

static unsigned int fire(uint64_t seq, struct fault_fired *f)
{
	struct fault_event ev = reply(seq);

	return fault_engine_match(&eng, &ev, 0, f, 8);
}

/* Which of seqs 1..n a rule fires on, fed in order or backwards. */
static void pattern(const char *plan, uint64_t seed, bool backwards, unsigned int n, char *hit)
{
	struct fault_fired f[8];

	engine(plan, seed, NULL);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t seq = backwards ? n - i : i + 1;

		hit[seq - 1] = fire(seq, f) ? 1 : 0;
	}
	fault_engine_finish(&eng);
}

START_TEST(order_does_not_matter)
{
	static char a[5000], b[5000], c[5000];
	unsigned int n = 0;

	pattern("drop device=cobd prob=5%\n", 42, false, 5000, a);
	pattern("drop device=cobd prob=5%\n", 42, true, 5000, b);
	pattern("drop device=cobd prob=5%\n", 43, false, 5000, c);
	ck_assert_mem_eq(a, b, sizeof(a));
	ck_assert_msg(memcmp(a, c, sizeof(a)), "another seed fired on the same messages");
	for (unsigned int i = 0; i < 5000; i++)
		n += (unsigned int)a[i];
	/* A fixed seed: this count is the same every run; 5% of 5000 is 250. */
	ck_assert_msg(n > 180 && n < 320, "prob=5%% fired %u times in 5000", n);
}
END_TEST

START_TEST(retries_get_a_fresh_chance)
{
	struct fault_fired f[8];
	unsigned int tries;

	engine("drop device=cobd prob=50%\n", 7, NULL);
	/* Find a message the rule drops, then send it again until it passes. */
	uint64_t seq = 1;

	while (!fire(seq, f))
		seq++;
	ck_assert_uint_eq(f[0].attempt, 0);
	for (tries = 1; tries < 64 && fire(seq, f); tries++)
		ck_assert_uint_eq(f[0].attempt, tries);
	ck_assert_msg(tries < 64, "request %llu dropped 64 times at 50%%", (unsigned long long)seq);
	/* Once it passed, it keeps passing: the same attempt, the same choice. */
	ck_assert_uint_eq(fire(seq, f), 0);
	ck_assert_uint_eq(fire(seq, f), 0);
	fault_engine_finish(&eng);
}
END_TEST

START_TEST(every_and_window_count_events)
{
	struct fault_fired f[8];
	unsigned int hits[32] = { 0 }, n = 0;

	engine("duplicate device=cobd every=3 window=4-12\n", 1, NULL);
	for (uint64_t s = 1; s <= 20; s++)
		if (fire(s, f))
			hits[n++] = (unsigned int)s;
	/* Events 4..12 count from 1 within the window: its 3rd, 6th, 9th. */
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(hits[0], 6);
	ck_assert_uint_eq(hits[1], 9);
	ck_assert_uint_eq(hits[2], 12);
	ck_assert_uint_eq(eng.out[COOP_DEV_COBD][FAULT_DUPLICATE].injected, 3);
	fault_engine_finish(&eng);
}
END_TEST

START_TEST(selectors_and_enospc)
{
	struct fault_fired f[8];
	struct fault_event rd = { .cls = FAULT_CLASS_IO, .device = COOP_DEV_COBD, .unit = 0,
				  .dir = -1, .type = -1, .op = COOP_COBD_READ, .vector = -1,
				  .seq = 1 };
	struct fault_event wr = rd;

	wr.op = COOP_COBD_WRITE;
	engine("io enospc\ndrop device=conet\n", 1, NULL);
	ck_assert_uint_eq(fault_engine_match(&eng, &rd, 0, f, 8), 0); /* reads never fill a disk */
	ck_assert_uint_eq(fault_engine_match(&eng, &wr, 0, f, 8), 1);
	ck_assert_int_eq(f[0].kind, FAULT_IO_ENOSPC);
	ck_assert_uint_eq(fire(1, f), 0); /* a cobd message: not for the conet rule */
	fault_engine_finish(&eng);

	/* The console only when named: it carries the experiment's commands. */
	struct fault_event con = { .cls = FAULT_CLASS_MSG, .device = COOP_DEV_COCON, .unit = 0,
				   .dir = 1, .type = COOP_COCON_INPUT, .op = -1, .vector = -1,
				   .seq = 1 };

	engine("drop\n", 1, NULL);
	ck_assert_uint_eq(fault_engine_match(&eng, &con, 0, f, 8), 0);
	ck_assert_uint_eq(fire(1, f), 1);
	fault_engine_finish(&eng);
	engine("drop device=cocon\n", 1, NULL);
	ck_assert_uint_eq(fault_engine_match(&eng, &con, 0, f, 8), 1);
	fault_engine_finish(&eng);
}
END_TEST

START_TEST(delays_stay_in_bounds)
{
	struct fault_fired f[8];

	engine("delay uniform 100us 2ms device=cobd\ndelay normal 1ms 5ms max=3ms dir=to_guest\n", 3,
	       NULL);
	for (uint64_t s = 1; s <= 2000; s++) {
		unsigned int n = fire(s, f);

		ck_assert_uint_eq(n, 2);
		ck_assert(f[0].delay_ns >= 100000 && f[0].delay_ns <= 2000000);
		ck_assert(f[1].delay_ns <= 3000000);
	}
	fault_engine_finish(&eng);
}
END_TEST

START_TEST(flips_are_replayable)
{
	struct fault_fired f[8];
	uint8_t a[64] = { 0 }, b[64] = { 0 };
	unsigned int ones = 0;

	engine("corrupt bits=5 device=cobd\n", 9, NULL);
	ck_assert_uint_eq(fire(77, f), 1);
	fault_engine_flip(&f[0], a, sizeof(a));
	fault_engine_finish(&eng);
	engine("corrupt bits=5 device=cobd\n", 9, NULL);
	ck_assert_uint_eq(fire(77, f), 1);
	fault_engine_flip(&f[0], b, sizeof(b));
	fault_engine_finish(&eng);
	ck_assert_mem_eq(a, b, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		ones += (unsigned int)__builtin_popcount(a[i]);
	ck_assert_msg(ones >= 1 && ones <= 5, "%u bits flipped", ones);
}
END_TEST

/* The log of events fed in one order, as text. */
static char *log_of(bool backwards)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&buf, &len);
	struct fault_fired f[8];

	ck_assert_ptr_nonnull(log);
	engine("seed 5\ndrop device=cobd prob=10%\ndelay 1ms device=cobd dir=to_guest prob=10%\n", 5,
	       log);
	for (unsigned int i = 0; i < 1000; i++) {
		uint64_t seq = backwards ? 1000 - i : i + 1;
		struct fault_event req = reply(seq);

		req.dir = 0;
		req.type = COOP_COBD_REQUEST;
		fault_engine_match(&eng, &req, 0, f, 8);
		fire(seq, f);
	}
	fault_engine_finish(&eng);
	fclose(log);
	return buf;
}

START_TEST(log_is_sorted_and_replays)
{
	char *a = log_of(false), *b = log_of(true);

	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "# coop fault log: plan t.plan, seed 5,"));
	ck_assert_ptr_nonnull(strstr(a, "kind=drop device=cobd unit=0 dir=to_host type=request seq="));
	ck_assert_ptr_nonnull(strstr(a, "kind=delay device=cobd unit=0 dir=to_guest type=reply seq="));
	ck_assert_ptr_nonnull(strstr(a, "delay_ns=1000000"));
	free(a);
	free(b);
}
END_TEST

/*
 * A run with a fault log in which no rule fired: the log is its first line
 * alone.  (fuzz_plan found the empty record list handed to qsort(), whose
 * pointer must not be NULL even for no elements: UBSan's nonnull-attribute.)
 */
START_TEST(log_without_faults)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&buf, &len);
	struct fault_fired f[8];

	ck_assert_ptr_nonnull(log);
	engine("drop device=conet\n", 1, log);
	ck_assert_uint_eq(fire(1, f), 0);
	fault_engine_finish(&eng);
	fclose(log);
	ck_assert_str_eq(buf, "# coop fault log: plan t.plan, seed 1, 0 faults\n");
	free(buf);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("inject");
	TCase *t = tcase_create("engine");

	tcase_add_test(t, order_does_not_matter);
	tcase_add_test(t, retries_get_a_fresh_chance);
	tcase_add_test(t, every_and_window_count_events);
	tcase_add_test(t, selectors_and_enospc);
	tcase_add_test(t, delays_stay_in_bounds);
	tcase_add_test(t, flips_are_replayable);
	tcase_add_test(t, log_is_sorted_and_replays);
	tcase_add_test(t, log_without_faults);
	suite_add_tcase(s, t);
	return s;
}
