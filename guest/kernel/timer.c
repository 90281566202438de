/* SPDX-License-Identifier: MIT */
/*
 * timer.c - time: a monotonic clock from the TSC (boot.tsc_khz, which the
 * host calibrates), zero at boot, and the periodic tick (COOP_OP_TIMER,
 * COOP_VEC_TIMER) at `hz=N` from the command line.  The host counts
 * expirations in virq.ticks: those are our jiffies.  Try: coop run --cmdline hz=100 --exec ticks
 */
#include "defs.h"

/* Used when the host gives no TSC frequency (ABI 1.0): a guess, logged as such. */
#define TSC_KHZ_GUESS 2000000

static struct {
	uint64_t tsc0;      /* TSC at timer_init(): clock_ns() == 0 there */
	uint64_t tsc_khz;   /* TSC ticks per millisecond */
	uint32_t hz;        /* tick frequency asked for */
	uint64_t period_ns; /* its period */
	bool running;       /* the host accepted COOP_OP_TIMER */
	uint64_t handled;   /* tick handlers run (not ticks: see jiffies()) */
} timer;

/*
 * Parse a tick frequency: decimal, TIMER_HZ_MIN..TIMER_HZ_MAX.  0 or
 * -EINVAL (and *hz untouched).
 */
int timer_parse_hz(const char *s, uint32_t *hz)
{
	uint64_t v;

	if (!s || kstrtou64(s, 10, &v) || v < TIMER_HZ_MIN || v > TIMER_HZ_MAX)
		return -EINVAL;
	*hz = (uint32_t)v;
	return 0;
}

/* @tsc ticks at @khz ticks per millisecond, in ns, without overflowing for ~580 years. */
uint64_t tsc_to_ns(uint64_t tsc, uint64_t khz)
{
	uint64_t q, r;

	if (!khz)
		return 0;
	q = tsc / khz;
	r = tsc % khz;
	return q * 1000000 + r * 1000000 / khz;
}

/* Nanoseconds since boot (timer_init()). */
uint64_t clock_ns(void)
{
	return tsc_to_ns(rdtsc_ordered() - timer.tsc0, timer.tsc_khz);
}

/* COOP_VEC_TIMER: wake the sleepers that are due, end the time slice. */
static void timer_tick(unsigned int vector)
{
	(void)vector;
	timer.handled++;
	proc_tick(clock_ns());
}

/* The tick frequency from `hz=`, or the default with a warning. */
static uint32_t timer_cmdline_hz(void)
{
	const char *s = cmdline_get("hz");
	uint32_t hz = TIMER_HZ_DEFAULT;

	if (s && timer_parse_hz(s, &hz))
		printk("timer: hz=%s is not %u..%u, using %u", s, TIMER_HZ_MIN, TIMER_HZ_MAX,
		       TIMER_HZ_DEFAULT);
	return hz;
}

/*
 * Start the clock and the tick.  A host without tsc_khz is an ABI 1.0
 * host: it knows no COOP_OP_TIMER either, so we do not ask for it.
 */
void timer_init(void)
{
	const struct coop_passage *p = passage();
	struct coop_op_timer t;
	int err;

	timer.tsc0 = rdtsc_ordered();
	timer.tsc_khz = p->boot.tsc_khz;
	timer.hz = timer_cmdline_hz();
	timer.period_ns = 1000000000ULL / timer.hz;
	if (!timer.tsc_khz || p->hdr.host_minor < 1) {
		timer.tsc_khz = TSC_KHZ_GUESS;
		printk("timer: the host (ABI %u.%u) gives no TSC frequency: no tick, clock "
		       "guessed at %u MHz", p->hdr.host_major, p->hdr.host_minor,
		       TSC_KHZ_GUESS / 1000);
		return;
	}
	virq_register(COOP_VEC_TIMER, timer_tick);
	t = (struct coop_op_timer){ .period_ns = timer.period_ns };
	err = hypercall(COOP_OP_TIMER, &t, sizeof(t));
	if (err) {
		printk("timer: the host refused a %llu ns tick (%d): no tick",
		       (unsigned long long)timer.period_ns, err);
		return;
	}
	timer.running = true;
}

uint32_t timer_hz(void)
{
	return timer.hz;
}

bool timer_running(void)
{
	return timer.running;
}

uint64_t timer_period_ns(void)
{
	return timer.period_ns;
}

uint64_t timer_handled(void)
{
	return READ_ONCE(timer.handled);
}

/* Tick periods since the timer started, overruns included (the host counts). */
uint64_t jiffies(void)
{
	return READ_ONCE(passage()->virq.ticks);
}
