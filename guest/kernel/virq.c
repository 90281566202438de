/* SPDX-License-Identifier: MIT */
/*
 * virq.c - virtual interrupts (ABI 1.1): the virtual interrupt flag
 * (passage virq.vif), a handler per vector, and dispatch, reached two
 * ways: asynchronously through trap.S (virq_entry) when the host
 * interrupted us with vif = 1, and synchronously (COOP_OP_IRQ_ENABLE)
 * when we set vif again and find vectors waiting.  See abi.h.
 */
#include "defs.h"

static struct {
	virq_handler_fn *handlers[COOP_VEC_COUNT]; /* by vector; NULL: none */
	struct virq_stats stats;                   /* for `stats` */
} virq;

static struct coop_virq_state *vs(void)
{
	return &passage()->virq;
}

/*
 * vif is a plain store: the host reads it only while we are switched out
 * (a hypercall, or a forwarded host interrupt), which on one CPU happens
 * between two of our instructions, in program order.  The compiler
 * barriers keep memory accesses from moving across the flag change.
 */
static void vif_set(uint32_t on)
{
	barrier();
	WRITE_ONCE(vs()->vif, on);
	barrier();
}

bool irq_enabled(void)
{
	return READ_ONCE(vs()->vif) != 0;
}

void irq_disable(void)
{
	vif_set(0);
}

uint32_t irq_save(void)
{
	uint32_t old = READ_ONCE(vs()->vif);

	vif_set(0);
	return old;
}

/* Vectors the host raised that we may take now (ignores vif). */
bool virq_deliverable(void)
{
	const struct coop_virq_state *v = vs();
	unsigned int w;

	for (w = 0; w < 4; w++)
		if (READ_ONCE(v->pending[w]) & ~READ_ONCE(v->masked[w]))
			return true;
	return false;
}

/*
 * Take the highest deliverable vector: clear its pending bit with one
 * locked instruction (the host may set other bits of the same word
 * between any two of our instructions).  -1 if none.
 */
static int virq_take(struct coop_virq_state *v)
{
	uint64_t pending[4], masked[4];
	unsigned int w;
	bool was_set;
	int vec;

	for (;;) {
		for (w = 0; w < 4; w++) {
			pending[w] = READ_ONCE(v->pending[w]);
			masked[w] = READ_ONCE(v->masked[w]);
		}
		vec = virq_pick(pending, masked);
		if (vec < 0)
			return -1;
		__asm__ volatile("lock btrq %2, %0"
				 : "+m"(v->pending[vec / 64]), "=@ccc"(was_set)
				 : "r"((uint64_t)(vec % 64))
				 : "memory");
		if (was_set)
			return vec;
	}
}

/* Run the handler of @vec, bracketed by in_service (the host may look). */
static void virq_run(struct coop_virq_state *v, unsigned int vec)
{
	uint64_t bit = 1ULL << (vec % 64);
	virq_handler_fn *fn = virq.handlers[vec];

	__atomic_fetch_or(&v->in_service[vec / 64], bit, __ATOMIC_RELAXED);
	WRITE_ONCE(v->handler_tsc, rdtsc_ordered());
	if (fn)
		fn(vec);
	else
		virq.stats.spurious++;
	__atomic_fetch_and(&v->in_service[vec / 64], ~bit, __ATOMIC_RELAXED); /* EOI */
	WRITE_ONCE(v->delivered, v->delivered + 1);
	virq.stats.handled++;
}

/* Run everything deliverable, highest vector first; vif must be 0. */
static void virq_dispatch(void)
{
	struct coop_virq_state *v = vs();
	int vec;

	while ((vec = virq_take(v)) >= 0)
		virq_run(v, (unsigned int)vec);
}

/*
 * The synchronous way in (vif = 0): tell the host, which sees every
 * delivery, then run the handlers here.  The hypercall itself drains
 * to_guest; whatever it raised meanwhile is dispatched too.
 */
static void virq_sync(void)
{
	if (!virq_deliverable())
		return; /* an async delivery took them between check and here */
	virq.stats.sync++;
	hypercall(COOP_OP_IRQ_ENABLE, NULL, 0);
	virq_dispatch();
}

/*
 * Set vif again.  Vectors raised while it was 0 are delivered here
 * (synchronously, with vif = 0 again), and a reschedule a handler asked
 * for happens here, until nothing is left with vif = 1.  Checking after
 * the store is race-free: a vector raised after the check finds vif = 1
 * and is delivered asynchronously.
 */
void irq_enable(void)
{
	for (;;) {
		vif_set(1);
		if (virq_deliverable()) {
			vif_set(0);
			virq_sync();
		} else if (proc_need_resched()) {
			vif_set(0);
			schedule();
		} else {
			return;
		}
	}
}

void irq_restore(uint32_t flags)
{
	if (flags)
		irq_enable();
	else
		vif_set(0);
}

/* From trap.S, vif = 0: the host interrupted code that ran with vif = 1. */
void virq_async(struct coop_irq_frame *frame)
{
	(void)frame;
	virq.stats.async++;
	virq_dispatch();
	if (proc_need_resched())
		schedule(); /* preempt: we come back here when this thread runs again */
}

/* From trap.S's return path: vectors came while the handlers ran. */
void virq_again(struct coop_irq_frame *frame)
{
	(void)frame;
	virq_sync();
	if (proc_need_resched())
		schedule();
}

void virq_register(unsigned int vector, virq_handler_fn *fn)
{
	if (vector < 32 || vector >= COOP_VEC_COUNT)
		panic("virq_register: vector %u is not 32..%u", vector, COOP_VEC_COUNT - 1);
	virq.handlers[vector] = fn;
}

/* Tell the host where to enter us with interrupts; vif stays 0 until kmain says. */
void virq_init(void)
{
	struct coop_virq_state *v = vs();

	vif_set(0);
	memset(v->masked, 0, sizeof(v->masked));
	WRITE_ONCE(v->entry, (uint64_t)(uintptr_t)virq_entry);
}

void virq_get_stats(struct virq_stats *st)
{
	*st = virq.stats;
}
