/* SPDX-License-Identifier: MIT */
/*
 * virq.c - the virtual interrupt controller's host half: raise vectors
 * in the passage's pending bitmap and tell whether the guest would take
 * one now, and which (abi.h's rule).  The guest half
 * (taking, EOI, priorities) is guest/kernel/virq.c; abi.h has the rules.
 */
#include "core/shim.h"
#include "trace/trace.h"

void shim_virq_raise(struct shim_vm *vm, unsigned int vector)
{
	uint64_t *word = &vm->passage->virq.pending[(vector % COOP_VEC_COUNT) / 64];

	/* The guest clears bits with lock btr: set them atomically too. */
	__atomic_fetch_or(word, 1ull << (vector % 64), __ATOMIC_SEQ_CST);
}

/* How many vectors the guest would take now (vif aside). */
unsigned int shim_virq_deliverable(const struct coop_virq_state *v)
{
	unsigned int n = 0;

	for (int i = 0; i < 4; i++)
		n += (unsigned int)__builtin_popcountll(v->pending[i] & ~v->masked[i]);
	return n;
}

/* The deliverable vector the guest takes first (coop_virq_pick), or 0: none. */
unsigned int shim_virq_highest(const struct coop_virq_state *v)
{
	int vec = coop_virq_pick(v->pending, v->masked);

	return vec < 0 ? 0 : (unsigned int)vec;
}

/*
 * Close the open irq_forward sample (struct shim_forward): the guest has
 * left since the forward that delivered a vIRQ, so it entered that
 * handler first thing and stamped it.  Called at every exit: the next
 * forward, or an operation.
 */
void shim_irq_forward_close(struct shim_vm *vm)
{
	struct shim_forward *f = &vm->irq.fwd;
	struct shim_samples *s = f->samples;
	uint64_t h = __atomic_load_n(&vm->passage->virq.handler_tsc, __ATOMIC_RELAXED);

	if (!f->injected)
		return;
	f->injected = false;
	if (h <= f->tsc)
		return;
	if (s && s->n < s->cap)
		s->v[s->n++] = h - f->tsc;
	coop_trace(irq_taken, f->source, h - f->tsc);
}
