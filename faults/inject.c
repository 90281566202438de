/* SPDX-License-Identifier: MIT */
/*
 * inject.c - the fault engine: which rules of a plan fire for an event
 * (a message, an image I/O, a vIRQ), with what parameters, and the fault
 * log.  A probabilistic rule's choice is a hash of the seed, the rule and
 * the event's identity (for messages and I/O: device, unit, direction,
 * type, op, request id / sequence number; for vIRQs: the vector and how
 * many the rule has seen) and of how often the rule already fired on that
 * identity, so a retried request gets a fresh chance.  It does not depend on
 * the order events arrive in, which timing (delays, timeouts, reordering)
 * changes from run to run: the same plan, seed and workload give the same
 * faults.  The log is kept in memory and written sorted by identity at the
 * end, so two replays give byte-identical logs.  Applying a fault is the
 * caller's job, at the site where a real error would come from
 * (hypervisor-shim/core/fault_sites.c, devices/cobd.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <coop/abi.h>

#include "faults/faults.h"

_Static_assert(COOP_DEV_COUNT <= FAULT_NODEV, "FAULT_DEVS too small for the ABI's devices");

/* splitmix64's finaliser: the hash everything here is drawn from. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* xorshift64*: a fault's parameters (delay, bits to flip) from its draw. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* [0, 1) from the top 53 bits of a hash. */
static double unit_interval(uint64_t x)
{
	return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

void fault_engine_init(struct fault_engine *e, const struct fault_plan *plan, bool has_seed,
		       uint64_t seed, uint64_t now_ns, FILE *log)
{
	memset(e, 0, sizeof(*e));
	e->plan = *plan;
	e->seed = has_seed ? seed : plan->seed;
	e->start_ns = now_ns;
	e->log = log;
}

/* Who the event is, whatever order it came in; vIRQs have only their count. */
static uint64_t identity(const struct fault_event *ev, uint64_t nth)
{
	uint64_t h = mix(((uint64_t)ev->cls << 48) ^ ((uint64_t)(uint16_t)ev->device << 32) ^
			 ((uint64_t)(uint16_t)ev->unit << 16) ^ (uint16_t)ev->dir);
	h = mix(h ^ ((uint64_t)(uint16_t)ev->type << 32) ^ ((uint64_t)(uint16_t)ev->op << 16) ^
		(uint16_t)ev->vector);
	return mix(h ^ (ev->cls == FAULT_CLASS_IRQ ? nth : ev->seq));
}

/* The tally slot of key; the table grows at half full, cleared if it cannot. */
static struct fault_tally *tally(struct fault_engine *e, uint64_t key)
{
	size_t i;

	if (2 * (e->tally_used + 1) > e->tally_cap) {
		size_t cap = e->tally_cap ? 2 * e->tally_cap : 4096;
		struct fault_tally *t = calloc(cap, sizeof(*t)), *old = e->tally;

		if (t) {
			for (i = 0; i < e->tally_cap; i++)
				if (old[i].key) {
					size_t k = old[i].key & (cap - 1);

					while (t[k].key)
						k = (k + 1) & (cap - 1);
					t[k] = old[i];
				}
			e->tally = t, e->tally_cap = cap;
			free(old);
		} else if (e->tally) { /* forget: a retried message starts over */
			memset(e->tally, 0, e->tally_cap * sizeof(*e->tally));
			e->tally_used = 0;
		} else {
			return NULL;
		}
	}
	for (i = key & (e->tally_cap - 1); e->tally[i].key && e->tally[i].key != key;
	     i = (i + 1) & (e->tally_cap - 1))
		;
	return &e->tally[i];
}

static bool selects(const struct fault_rule *r, const struct fault_event *ev)
{
	bool irq = r->kind >= FAULT_IRQ_DROP, io = r->kind >= FAULT_IO_EIO && !irq;
	enum fault_class want = irq ? FAULT_CLASS_IRQ : io ? FAULT_CLASS_IO : FAULT_CLASS_MSG;

	if (r->kind == FAULT_IO_ENOSPC && ev->op != COOP_COBD_WRITE)
		return false; /* only a write can find the disk full */
	/*
	 * The console carries the experiment's own commands and results: a
	 * lost --exec line would leave the guest waiting for input forever.
	 * Only a rule that names it (device=cocon) touches its messages.
	 */
	if (r->device < 0 && ev->cls == FAULT_CLASS_MSG && ev->device == COOP_DEV_COCON)
		return false;
	return ev->cls == want && (r->device < 0 || r->device == ev->device) &&
	       (r->unit < 0 || r->unit == ev->unit) && (r->dir < 0 || r->dir == ev->dir) &&
	       (r->type < 0 || r->type == ev->type) && (r->op < 0 || r->op == ev->op) &&
	       /* a spurious rule's vector is what it raises, on any vIRQ event */
	       (r->vector < 0 || r->vector == ev->vector || r->kind == FAULT_IRQ_SPURIOUS) &&
	       ev->seq >= r->seq_lo &&
	       ev->seq <= r->seq_hi;
}

/*
 * Does rule i fire for the event that is its nth match?  Counted windows and
 * every-Nth go by n; probabilities by the event's identity (see the top).
 */
static bool fires(struct fault_engine *e, unsigned int i, const struct fault_event *ev, uint64_t n,
		  uint64_t now_ns, struct fault_fired *f)
{
	const struct fault_rule *r = &e->plan.rules[i];
	uint64_t t = now_ns - e->start_ns, key = mix(identity(ev, n) ^ mix(e->seed ^ mix(i + 1))) | 1;
	struct fault_tally *seen;

	if (n < r->win_lo || n > r->win_hi || t < r->win_ns_lo || t > r->win_ns_hi)
		return false;
	if (r->every && (n - r->win_lo + 1) % r->every)
		return false;
	seen = tally(e, key);
	f->attempt = seen && seen->key ? seen->fired : 0;
	f->draw = mix(key + f->attempt) | 1;
	if (!r->every && r->prob > 0 && unit_interval(f->draw) >= r->prob)
		return false;
	if (seen) {
		if (!seen->key)
			seen->key = key, e->tally_used++;
		seen->fired++;
	}
	next(&f->draw); /* the parameters draw on from here */
	return true;
}

static uint64_t draw_delay(const struct fault_rule *r, uint64_t *s)
{
	double u1, u2, z;

	switch (r->dist) {
	case FAULT_DIST_UNIFORM:
		return r->a_ns + (uint64_t)(unit_interval(next(s)) * (double)(r->b_ns - r->a_ns));
	case FAULT_DIST_NORMAL: /* Box-Muller, clamped to [0, max] */
		u1 = unit_interval(next(s)) + 1e-12;
		u2 = unit_interval(next(s));
		z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
		z = (double)r->a_ns + z * (double)r->b_ns;
		return z < 0 ? 0 : z > (double)r->max_ns ? r->max_ns : (uint64_t)z;
	default:
		return r->a_ns;
	}
}

/* Keep f for the log; the log is written at the end, in order of identity. */
static void record(struct fault_engine *e, const struct fault_fired *f, const struct fault_event *ev,
		   uint64_t n)
{
	struct fault_record *rec;

	if (!e->log)
		return;
	if (e->nrecords == e->records_cap) {
		size_t cap = e->records_cap ? 2 * e->records_cap : 1024;

		rec = realloc(e->records, cap * sizeof(*rec));
		if (!rec) {
			e->records_lost++;
			return;
		}
		e->records = rec, e->records_cap = cap;
	}
	rec = &e->records[e->nrecords++];
	rec->ev = *ev;
	if (ev->cls == FAULT_CLASS_IRQ)
		rec->ev.seq = n; /* a vIRQ is known by its count */
	rec->f = *f;
}

unsigned int fault_engine_match(struct fault_engine *e, const struct fault_event *ev,
				uint64_t now_ns, struct fault_fired *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < e->plan.nrules; i++) {
		const struct fault_rule *r = &e->plan.rules[i];
		struct fault_fired f = { .rule = i, .kind = r->kind, .device = ev->device,
					 .bits = r->bits, .keep = r->keep, .gap = r->gap };

		if (!selects(r, ev))
			continue;
		e->matched[i]++;
		if (n == max || !fires(e, i, ev, e->matched[i], now_ns, &f))
			continue;
		if (r->kind == FAULT_DELAY || r->kind == FAULT_IRQ_DELAY)
			f.delay_ns = draw_delay(r, &f.draw);
		fault_out(e, ev->device, r->kind)->injected++;
		record(e, &f, ev, e->matched[i]);
		out[n++] = f;
	}
	return n;
}

void fault_engine_flip(const struct fault_fired *f, uint8_t *buf, size_t len)
{
	uint32_t bits = f->bits ? f->bits : 1;
	uint64_t s = f->draw;

	for (uint32_t k = 0; len && k < bits; k++) {
		uint64_t bit = next(&s) % (len * 8);

		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* What was hit first (class, device, unit, id), then direction, attempt, rule. */
static int by_identity(const void *pa, const void *pb)
{
	const struct fault_record *a = pa, *b = pb;
	int c;

	if ((c = cmp_u64(a->ev.cls, b->ev.cls)) || (c = cmp_u64((uint64_t)(a->ev.device + 1),
							       (uint64_t)(b->ev.device + 1))) ||
	    (c = cmp_u64((uint64_t)(a->ev.unit + 1), (uint64_t)(b->ev.unit + 1))) ||
	    (c = cmp_u64((uint64_t)(a->ev.vector + 1), (uint64_t)(b->ev.vector + 1))) ||
	    (c = cmp_u64(a->ev.seq, b->ev.seq)) ||
	    (c = cmp_u64((uint64_t)(a->ev.dir + 1), (uint64_t)(b->ev.dir + 1))) ||
	    (c = cmp_u64((uint64_t)(a->ev.type + 1), (uint64_t)(b->ev.type + 1))) ||
	    (c = cmp_u64((uint64_t)(a->ev.op + 1), (uint64_t)(b->ev.op + 1))) ||
	    (c = cmp_u64(a->f.attempt, b->f.attempt)))
		return c;
	return cmp_u64(a->f.rule, b->f.rule);
}

void fault_engine_finish(struct fault_engine *e)
{
	if (e->log) {
		if (e->nrecords) /* none: records is NULL, which qsort() must not get */
			qsort(e->records, e->nrecords, sizeof(*e->records), by_identity);
		fprintf(e->log, "# coop fault log: plan %s, seed %llu, %zu faults%s\n", e->plan.path,
			(unsigned long long)e->seed, e->nrecords,
			e->records_lost ? " (some lost: out of memory)" : "");
		if (e->log_preamble)
			fputs(e->log_preamble, e->log);
		for (size_t i = 0; i < e->nrecords; i++) {
			const struct fault_record *r = &e->records[i];
			char what[128], kind[32];

			fault_event_format(&r->ev, what, sizeof(what));
			snprintf(kind, sizeof(kind), "%s", fault_kind_name(r->f.kind));
			for (char *c = kind; *c; c++)
				*c = *c == ' ' ? '_' : *c;
			fprintf(e->log, "rule=%u line=%u kind=%s %s attempt=%u", r->f.rule + 1,
				e->plan.rules[r->f.rule].line, kind, what, r->f.attempt);
			if (r->f.kind == FAULT_DELAY || r->f.kind == FAULT_IRQ_DELAY)
				fprintf(e->log, " delay_ns=%llu", (unsigned long long)r->f.delay_ns);
			fputc('\n', e->log);
		}
	}
	free(e->records);
	free(e->tally);
	e->records = NULL, e->tally = NULL;
	e->nrecords = e->records_cap = e->tally_cap = e->tally_used = 0;
}
