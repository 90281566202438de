// SPDX-License-Identifier: GPL-2.0
/*
 * Time and idle on coop.  The clocksource is the TSC (the host measured
 * it: boot.tsc_khz); the clockevent "coop-timer" is the monitor's timer
 * (COOP_OP_TIMER), a host POSIX timer (an hrtimer of the host's kernel)
 * that raises COOP_VEC_TIMER: one-shot (a deadline per event: high
 * resolution timers, and no tick while idle) where the host speaks ABI
 * 1.8, else periodic.  Idle is the IDLE operation: the monitor waits for
 * the next event, never hlt (with IF = 0 it would stop the host CPU).
 */
#include <linux/clockchips.h>
#include <linux/cpuidle.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/irqflags.h>
#include <linux/kernel.h>
#include <linux/time.h>
#include <asm/coop.h>
#include <asm/irq_vectors.h>

#include "coop.h"

/* virq.ticks when the clockevent last ran: the expirations it has seen. */
static u64 coop_ticks_seen;
/* IDLE operations so far (the stop at init reports them). */
unsigned long coop_idles;

/* TIMER: a tick every period_ns, or one expiry oneshot_ns from now; both 0: none. */
static int coop_timer_program(u64 period_ns, u64 oneshot_ns)
{
	struct coop_op_timer t = { .period_ns = period_ns, .oneshot_ns = oneshot_ns };
	int err;

	coop_ticks_seen = READ_ONCE(coop_passage->virq.ticks);
	err = coop_hypercall(COOP_OP_TIMER, &t, sizeof(t));
	if (err)
		pr_err("coop: TIMER %llu/%llu ns refused: %d\n", period_ns, oneshot_ns, err);
	return err;
}

static int coop_timer_periodic(struct clock_event_device *ce)
{
	return coop_timer_program(NSEC_PER_SEC / HZ, 0);
}

static int coop_timer_shutdown(struct clock_event_device *ce)
{
	return coop_timer_program(0, 0);
}

/* One-shot: nothing armed until the first deadline. */
static int coop_timer_oneshot(struct clock_event_device *ce)
{
	return coop_timer_program(0, 0);
}

/* The next event, delta ns from now (clockevents keeps it in the limits below). */
static int coop_timer_next(unsigned long delta, struct clock_event_device *ce)
{
	return coop_timer_program(0, delta);
}

static struct clock_event_device coop_clockevent = {
	.name = "coop-timer",
	.features = CLOCK_EVT_FEAT_PERIODIC,
	.rating = 400,
	.set_state_periodic = coop_timer_periodic,
	.set_state_shutdown = coop_timer_shutdown,
};

/*
 * COOP_VEC_TIMER.  Ticks that expired while the guest could not take them
 * (one pending bit stands for all) are made up here, at most a second's
 * worth, so jiffies keeps up with the TSC.
 */
static irqreturn_t coop_timer_interrupt(int irq, void *dev_id)
{
	struct clock_event_device *ce = dev_id;
	u64 ticks = READ_ONCE(coop_passage->virq.ticks);
	u64 n = ticks - coop_ticks_seen;

	coop_ticks_seen = ticks;
	if (!n || n > HZ || clockevent_state_oneshot(ce))
		n = 1; /* a one-shot expiry is one event, however late */
	while (n--)
		if (ce->event_handler)
			ce->event_handler(ce);
	return IRQ_HANDLED;
}

/* x86_init.timers.timer_init: the clockevent on its vIRQ. */
void __init coop_timer_init(void)
{
	unsigned int irq = coop_virq_irq(COOP_VEC_TIMER);

	if (!irq || request_irq(irq, coop_timer_interrupt, IRQF_TIMER | IRQF_NOBALANCING,
				"coop-timer", &coop_clockevent))
		panic("coop: no irq for the timer vIRQ %d", COOP_VEC_TIMER);
	coop_clockevent.irq = irq;
	coop_clockevent.cpumask = cpumask_of(0);
	if (coop_passage->hdr.host_minor >= 8) {
		/* Deltas in ns (a 1 GHz device), within what the host takes. */
		coop_clockevent.features |= CLOCK_EVT_FEAT_ONESHOT;
		coop_clockevent.set_state_oneshot = coop_timer_oneshot;
		coop_clockevent.set_next_event = coop_timer_next;
		clockevents_config_and_register(&coop_clockevent, NSEC_PER_SEC,
						COOP_TIMER_ONESHOT_MIN, COOP_TIMER_ONESHOT_MAX);
	} else {
		clockevents_register_device(&coop_clockevent);
	}
	pr_info("coop: clockevent coop-timer on vIRQ %d (irq %u), %s, HZ=%d\n", COOP_VEC_TIMER,
		irq, coop_passage->hdr.host_minor >= 8 ? "periodic and one-shot" : "periodic", HZ);
}

/*
 * arch_cpu_idle(), interrupts off: the IDLE operation until the next event
 * (the monitor returns at once while a vIRQ is pending), then interrupts
 * on, where the host interrupt that brings it arrives: the module's
 * interrupt window, queued at its entry since a vIRQ is pending.
 */
static void __cpuidle coop_idle(void)
{
	struct coop_op_idle i = { .timeout_ns = 0 };

	coop_idles++;
	coop_hypercall(COOP_OP_IDLE, &i, sizeof(i));
	raw_local_irq_enable();
}

void __init coop_idle_init(void)
{
	coop_set_idle(coop_idle);
}
