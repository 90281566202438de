/* SPDX-License-Identifier: MIT */
/*
 * test_timer.c - the guest's time keeping (guest/kernel/timer.c) against a
 * pretend host: hz= parsing and its range, TSC-to-ns conversion without
 * overflow, and what timer_init() asks a 1.1 host (COOP_OP_TIMER with the
 * period) and a 1.0 host (nothing).  Run: ctest --test-dir build -R test_timer
 */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

/* The pretend host and kernel around timer.c. */
static struct coop_passage *pass;
static const char *hz_arg;            /* what cmdline_get("hz") returns */
static unsigned int printks;          /* warnings logged */
static unsigned int timer_ops;        /* COOP_OP_TIMER hypercalls */
static uint64_t timer_period;         /* their period_ns */
static int timer_result;              /* what the host answers */
static virq_handler_fn *tick_handler; /* what timer.c registered */
static unsigned int proc_ticks;       /* proc_tick() calls */

struct coop_passage *passage(void)
{
	return pass;
}

int hypercall(uint32_t code, const void *params, size_t len)
{
	struct coop_op_timer t;

	ck_assert_uint_eq(code, COOP_OP_TIMER);
	ck_assert_uint_eq(len, sizeof(t));
	memcpy(&t, params, sizeof(t));
	timer_ops++;
	timer_period = t.period_ns;
	return timer_result;
}

void virq_register(unsigned int vector, virq_handler_fn *fn)
{
	ck_assert_uint_eq(vector, COOP_VEC_TIMER);
	tick_handler = fn;
}

void proc_tick(uint64_t now_ns)
{
	(void)now_ns;
	proc_ticks++;
}

const char *cmdline_get(const char *key)
{
	return strcmp(key, "hz") ? NULL : hz_arg;
}

void printk(const char *fmt, ...)
{
	(void)fmt;
	printks++;
}

/* string.c's parser, as the guest's: decimal digits only, no sign, no overflow. */
int kstrtou64(const char *s, unsigned int base, uint64_t *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, (int)base);
	return *end || errno ? -EINVAL : 0;
}

static void setup(void)
{
	pass = calloc(1, sizeof(*pass));
	ck_assert_ptr_nonnull(pass);
	pass->hdr.host_major = 1;
	pass->hdr.host_minor = 1;
	pass->boot.tsc_khz = 3000000;
	hz_arg = NULL;
	printks = timer_ops = proc_ticks = 0;
	timer_result = 0;
	tick_handler = NULL;
}

static void teardown(void)
{
	free(pass);
}

START_TEST(test_parse_hz)
{
	uint32_t hz = 7;

	ck_assert_int_eq(timer_parse_hz("100", &hz), 0);
	ck_assert_uint_eq(hz, 100);
	ck_assert_int_eq(timer_parse_hz("10", &hz), 0);
	ck_assert_int_eq(timer_parse_hz("10000", &hz), 0);
	ck_assert_uint_eq(hz, 10000);
	hz = 7;
	ck_assert_int_eq(timer_parse_hz("9", &hz), -EINVAL);
	ck_assert_int_eq(timer_parse_hz("10001", &hz), -EINVAL);
	ck_assert_int_eq(timer_parse_hz("", &hz), -EINVAL);
	ck_assert_int_eq(timer_parse_hz("abc", &hz), -EINVAL);
	ck_assert_int_eq(timer_parse_hz("100x", &hz), -EINVAL);
	ck_assert_int_eq(timer_parse_hz("-100", &hz), -EINVAL);
	ck_assert_int_eq(timer_parse_hz(NULL, &hz), -EINVAL);
	ck_assert_uint_eq(hz, 7); /* untouched on error */
}
END_TEST

START_TEST(test_tsc_to_ns)
{
	ck_assert_uint_eq(tsc_to_ns(0, 3000000), 0);
	ck_assert_uint_eq(tsc_to_ns(3000000, 3000000), 1000000);       /* 1 ms */
	ck_assert_uint_eq(tsc_to_ns(3000000000ULL, 3000000), 1000000000ULL);
	ck_assert_uint_eq(tsc_to_ns(1, 1000000), 1);                   /* 1 GHz */
	ck_assert_uint_eq(tsc_to_ns(2999, 3000000), 999);              /* rounds down */
	/* A year at 3 GHz: tsc * 1e6 would overflow 64 bits long before. */
	ck_assert_uint_eq(tsc_to_ns(3000000ULL * 1000 * 86400 * 365, 3000000),
			  1000000000ULL * 86400 * 365);
	ck_assert_uint_eq(tsc_to_ns(12345, 0), 0); /* no frequency: no time */
}
END_TEST

START_TEST(test_init_default)
{
	timer_init();
	ck_assert_uint_eq(timer_hz(), TIMER_HZ_DEFAULT);
	ck_assert_uint_eq(timer_ops, 1);
	ck_assert_uint_eq(timer_period, 1000000000ULL / TIMER_HZ_DEFAULT);
	ck_assert(timer_running());
	ck_assert_uint_eq(printks, 0);
	ck_assert_ptr_nonnull(tick_handler);
	tick_handler(COOP_VEC_TIMER);
	ck_assert_uint_eq(timer_handled(), 1);
	ck_assert_uint_eq(proc_ticks, 1);
	pass->virq.ticks = 42; /* jiffies are the host's count, not the handler's */
	ck_assert_uint_eq(jiffies(), 42);
}
END_TEST

START_TEST(test_init_hz_arg)
{
	hz_arg = "100";
	timer_init();
	ck_assert_uint_eq(timer_hz(), 100);
	ck_assert_uint_eq(timer_period, 10000000);
	hz_arg = "5";
	timer_init();
	ck_assert_uint_eq(timer_hz(), TIMER_HZ_DEFAULT);
	ck_assert_uint_eq(timer_period, 4000000);
	ck_assert_uint_eq(printks, 1); /* the warning */
}
END_TEST

START_TEST(test_init_old_host)
{
	pass->boot.tsc_khz = 0;
	timer_init();
	ck_assert_uint_eq(timer_ops, 0); /* a 1.0 host kills a guest for an unknown op */
	ck_assert(!timer_running());
	ck_assert_uint_eq(printks, 1);
}
END_TEST

START_TEST(test_init_refused)
{
	timer_result = -EINVAL;
	timer_init();
	ck_assert_uint_eq(timer_ops, 1);
	ck_assert(!timer_running());
	ck_assert_uint_eq(printks, 1);
}
END_TEST

START_TEST(test_clock_monotonic)
{
	uint64_t a, b;

	timer_init();
	a = clock_ns();
	b = clock_ns();
	ck_assert_uint_le(a, b);
	ck_assert_uint_lt(a, 10ULL * 1000000000); /* zero at timer_init() */
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest timer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_hz);
	tcase_add_test(tc, test_tsc_to_ns);
	tcase_add_test(tc, test_init_default);
	tcase_add_test(tc, test_init_hz_arg);
	tcase_add_test(tc, test_init_old_host);
	tcase_add_test(tc, test_init_refused);
	tcase_add_test(tc, test_clock_monotonic);
	suite_add_tcase(s, tc);
	return s;
}
