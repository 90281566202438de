/* SPDX-License-Identifier: MIT */
/*
 * fault_sites.c - where the fault layer acts, each at the place a real
 * error would come from:
 *   to_host   a guest message as the host takes it from the window
 *   to_guest  a host message after its CRC was computed, before the queue
 *   io        an image read or write of the block backend (cobd.c)
 *   irq       a device vIRQ as the router raises it
 * Faults on block requests are tracked by request id (faults.c) to learn
 * whether the guest noticed (it retries with the same id) and recovered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/shim.h"

#define MAX_FIRED 8

static bool has_ids(uint16_t device)
{
	return device == COOP_DEV_COBD; /* requests and replies carry the request id */
}

static struct shim_msg *copy_msg(const struct coop_msg_hdr *h, const uint8_t *payload)
{
	struct shim_msg *m = malloc(sizeof(*m) + h->length);

	if (m) {
		m->next = NULL;
		m->hdr = *h;
		m->sent = *h;
		m->io = (struct shim_msg_io){ 0 };
		m->to_guest = false;
		m->damaged = -1;
		memcpy(m->payload, payload, h->length);
	}
	return m;
}

/*
 * Rules after the one that consumed the message (dropped or held it) fired
 * too, but had nothing left to act on: nobody had to notice them.
 */
static void unapplied(struct shim_vm *vm, const struct fault_fired *f, unsigned int from,
		      unsigned int n)
{
	for (unsigned int i = from; i < n; i++)
		fault_out(shim_faults_engine(vm), f[i].device, f[i].kind)->harmless++;
}

/* The rules that fire for ev, traced and counted. */
static unsigned int match(struct shim_vm *vm, const struct fault_event *ev, struct fault_fired *f)
{
	unsigned int n = fault_engine_match(shim_faults_engine(vm), ev, shim_now_ns(), f, MAX_FIRED);

	shim_faults_injected(vm, ev, f, n);
	return n;
}

static unsigned int fire(struct shim_vm *vm, int dir, const struct coop_msg_hdr *h,
			 struct fault_fired *f)
{
	struct fault_event ev = { .cls = FAULT_CLASS_MSG, .device = h->device, .unit = h->unit,
				  .dir = dir, .type = h->type, .op = -1, .vector = -1,
				  .seq = h->seq };

	return match(vm, &ev, f);
}

/* A fault hit this message: track it by request id where there is one. */
static void opened(struct shim_vm *vm, const struct coop_msg_hdr *h, enum fault_kind kind)
{
	if (has_ids(h->device))
		shim_faults_opened(vm, h->device, h->unit, h->seq, kind, false);
	else
		fault_out(shim_faults_engine(vm), h->device, kind)->harmless++;
}

/*
 * Damage a copy: flip bits anywhere in header and payload, or cut the
 * payload short (the CRC stays as it was, so either is detectable).  The
 * length field is kept: it frames the message in the window and in the
 * host's own buffers, and a transport that lost its framing would lose
 * the message outright - that is what `drop` is for.  So are the flags:
 * COOP_MSG_F_NOCRC says whether the receiver checks the CRC at all, and a
 * flip there would switch an experiment's protection off behind its back.
 */
static void damage(struct shim_vm *vm, struct shim_msg *m, const struct fault_fired *f)
{
	uint32_t len = m->hdr.length;
	uint16_t flags = m->hdr.flags;

	if (f->kind == FAULT_TRUNCATE) {
		m->hdr.length = f->keep < len ? f->keep : len;
		return;
	}
	fault_engine_flip(f, (uint8_t *)&m->hdr, sizeof(m->hdr) + len);
	m->hdr.length = len;
	m->hdr.flags = flags;
}

/*
 * The host takes guest message h from the window.  Returns true when the
 * caller should hand the original to its device as usual; first, the
 * router dispatches what the layer put in out (copies, damaged or not).
 */
bool shim_faults_to_host(struct shim_vm *vm, const struct coop_msg_hdr *h, const uint8_t *payload,
			struct shim_msg_list *out)
{
	struct fault_fired f[MAX_FIRED];
	unsigned int n;
	struct shim_msg *m;

	if (has_ids(h->device)) { /* a request sent again: the guest noticed */
		shim_faults_retry(vm, h->device, h->unit, h->seq);
		shim_faults_cancel_stale(vm, h);
	}
	n = fire(vm, 0, h, f);
	for (unsigned int i = 0; i < n; i++) {
		switch (f[i].kind) {
		case FAULT_DROP:
			opened(vm, h, FAULT_DROP);
			unapplied(vm, f, i + 1, n);
			return false;
		case FAULT_CORRUPT:
		case FAULT_TRUNCATE:
			if (!(m = copy_msg(h, payload)))
				return true;
			unapplied(vm, f, i + 1, n);
			damage(vm, m, &f[i]);
			if (!memcmp(&m->hdr, h, sizeof(*h)) && !memcmp(m->payload, payload, h->length)) {
				/*
				 * The flips all fell in what damage() keeps (length,
				 * flags), or the cut was past the end: nothing changed,
				 * so nobody had to notice.  The original goes on.
				 */
				fault_out(shim_faults_engine(vm), h->device, f[i].kind)->harmless++;
				free(m);
				return true;
			}
			/*
			 * Protected, it fails the host's CRC check (detected when
			 * refused: shim_faults_refused); else it goes through.
			 */
			if (h->flags & COOP_MSG_F_NOCRC)
				opened(vm, h, f[i].kind);
			m->damaged = f[i].kind;
			shim_msg_list_add(out, m);
			return false;
		case FAULT_DUPLICATE:
			opened(vm, h, FAULT_DUPLICATE);
			if ((m = copy_msg(h, payload)))
				shim_msg_list_add(out, m);
			break;
		case FAULT_DELAY:
		case FAULT_REORDER:
			if (!(m = copy_msg(h, payload)))
				return true;
			opened(vm, h, f[i].kind);
			unapplied(vm, f, i + 1, n);
			shim_faults_hold(vm, m, f[i].delay_ns, f[i].gap, out);
			return false;
		default:
			break;
		}
	}
	return true;
}

/*
 * The host queues m for the guest; dev may damage the data m describes.
 * What to queue, in order, goes into out.
 */
void shim_faults_to_guest(struct shim_vm *vm, struct shim_msg *m, const struct shim_device *dev,
			 struct shim_msg_list *out)
{
	struct fault_fired f[MAX_FIRED];
	unsigned int n = fire(vm, 1, &m->hdr, f);
	struct shim_msg *c;

	m->to_guest = true;
	for (unsigned int i = 0; i < n; i++) {
		switch (f[i].kind) {
		case FAULT_DROP:
			opened(vm, &m->sent, FAULT_DROP);
			unapplied(vm, f, i + 1, n);
			free(m);
			return;
		case FAULT_CORRUPT:
			opened(vm, &m->sent, FAULT_CORRUPT);
			/* Damage the data the reply describes if there is any, else the message. */
			if (!dev || !dev->corrupt_data ||
			    !dev->corrupt_data(vm, &m->sent, &f[i]))
				damage(vm, m, &f[i]);
			break;
		case FAULT_TRUNCATE:
			opened(vm, &m->sent, FAULT_TRUNCATE);
			damage(vm, m, &f[i]);
			break;
		case FAULT_DUPLICATE:
			opened(vm, &m->sent, FAULT_DUPLICATE);
			if ((c = copy_msg(&m->hdr, m->payload))) {
				c->sent = m->sent;
				c->io = m->io; /* the copy answers the same request */
				c->to_guest = true;
				shim_msg_list_add(out, c);
			}
			break;
		case FAULT_DELAY:
		case FAULT_REORDER:
			opened(vm, &m->sent, f[i].kind);
			unapplied(vm, f, i + 1, n);
			shim_faults_hold(vm, m, f[i].delay_ns, f[i].gap, out);
			return;
		default:
			break;
		}
	}
	shim_msg_list_add(out, m);
}

/*
 * An image read or write of cobd unit @unit for request @seq: 0 to go on,
 * or the error the fault layer makes it fail with (*half: transfer only
 * half, then fail: a short transfer).
 */
int shim_faults_io(struct shim_vm *vm, unsigned int unit, int op, uint64_t seq, bool *half)
{
	struct fault_event ev = { .cls = FAULT_CLASS_IO, .device = COOP_DEV_COBD, .unit = (int)unit,
				  .dir = -1, .type = -1, .op = op, .vector = -1, .seq = seq };
	struct fault_fired f[MAX_FIRED];
	unsigned int n;

	*half = false;
	if (!vm->faults)
		return 0;
	n = match(vm, &ev, f);
	for (unsigned int i = 0; i < n; i++) {
		int rc = f[i].kind == FAULT_IO_EIO    ? -EIO :
			 f[i].kind == FAULT_IO_ENOSPC ? (op == COOP_COBD_WRITE ? -ENOSPC : 0) :
			 f[i].kind == FAULT_IO_SHORT  ? -EIO : 0;

		if (!rc)
			continue;
		/* An error reply: the guest is told, so it is detected at once. */
		shim_faults_opened(vm, COOP_DEV_COBD, (uint16_t)unit, seq, f[i].kind, true);
		unapplied(vm, f, i + 1, n);
		*half = f[i].kind == FAULT_IO_SHORT;
		return rc;
	}
	return 0;
}

/* Raise vector v in delay_ns (a later delay of the same vector replaces it). */
static void delay_irq(struct shim_vm *vm, unsigned int v, uint64_t delay_ns)
{
	if (!vm->irq_due_ns[v])
		vm->irq_due_count++;
	vm->irq_due_ns[v] = shim_now_ns() + delay_ns;
}

/*
 * Should vector be raised now?  Not if the plan drops or delays it (a
 * delayed one is raised by shim_faults_raise_due); a spurious rule raises
 * its own vector besides.
 */
static bool judge_raise(struct shim_vm *vm, unsigned int vector)
{
	struct fault_event ev = { .cls = FAULT_CLASS_IRQ, .device = coop_vector_dev(vector),
				  .unit = -1, .dir = -1, .type = -1, .op = -1, .vector = (int)vector };
	struct fault_fired f[MAX_FIRED];
	unsigned int n = vm->faults ? match(vm, &ev, f) : 0;
	bool raise = true;

	for (unsigned int i = 0; i < n; i++) {
		const struct fault_rule *r = &shim_faults_engine(vm)->plan.rules[f[i].rule];

		/* The guest drains windows after every hypercall: a lost vIRQ costs latency. */
		fault_out(shim_faults_engine(vm), f[i].device, f[i].kind)->harmless++;
		if (f[i].kind == FAULT_IRQ_DROP)
			raise = false;
		else if (f[i].kind == FAULT_IRQ_DELAY)
			raise = false, delay_irq(vm, vector % COOP_VEC_COUNT, f[i].delay_ns);
		else if (f[i].kind == FAULT_IRQ_SPURIOUS)
			shim_virq_raise(vm, r->vector >= 0 ? (unsigned int)r->vector : vector);
	}
	return raise;
}

/* Raise a device vIRQ, unless the plan drops or delays it; maybe add a spurious one. */
void shim_faults_raise(struct shim_vm *vm, unsigned int vector)
{
	if (judge_raise(vm, vector))
		shim_virq_raise(vm, vector);
}

/*
 * The timer's vIRQ is raised in the tick's signal handler, where the fault
 * engine cannot run; the host judges each new tick here, in host context,
 * before the guest runs again, and takes the pending bit back if the plan
 * drops or delays it.  (A tick the guest took with vIRQs enabled before
 * the host saw it is past judging: it is judged late, as raised.)  The
 * tick count itself is untouched: guest time stays right.
 */
void shim_faults_ticks(struct shim_vm *vm)
{
	uint64_t ticks = __atomic_load_n(&vm->passage->virq.ticks, __ATOMIC_RELAXED);
	uint64_t *word = &vm->passage->virq.pending[COOP_VEC_TIMER / 64];

	if (ticks == vm->fault_ticks)
		return;
	vm->fault_ticks = ticks;
	if (!judge_raise(vm, COOP_VEC_TIMER))
		__atomic_fetch_and(word, ~(1ull << (COOP_VEC_TIMER % 64)), __ATOMIC_SEQ_CST);
}

/* Raise the delayed vIRQs that are due; ns until the next one (0: none). */
uint64_t shim_faults_raise_due(struct shim_vm *vm)
{
	uint64_t now, next = 0;

	if (!vm->irq_due_count) /* the usual case: nothing to look at, not even the clock */
		return 0;
	now = shim_now_ns();
	for (unsigned int v = 0; v < COOP_VEC_COUNT; v++) {
		if (!vm->irq_due_ns[v])
			continue;
		if (vm->irq_due_ns[v] <= now) {
			vm->irq_due_ns[v] = 0;
			vm->irq_due_count--;
			shim_virq_raise(vm, v);
		} else if (!next || vm->irq_due_ns[v] - now < next) {
			next = vm->irq_due_ns[v] - now;
		}
	}
	return next;
}
