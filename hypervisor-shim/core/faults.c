/* SPDX-License-Identifier: MIT */
/*
 * faults.c - the fault layer in the monitor: load the plan (--faults,
 * --seed, --fault-log), apply what the engine (faults/inject.c) fires at
 * the sites where real errors come from - the message path in both
 * directions (router.c), the block backend's image I/O (cobd.c), device
 * vIRQs (router.c) - and account for every injected fault: detected (the
 * host's CRC check, or the guest retried the request), recovered (a later
 * attempt with the same request id succeeded), harmless (nothing had to
 * notice), and escaped (damage found by a guest end-to-end check).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "core/shim.h"
#include "trace/trace.h"

#define OPEN_BUCKETS 4096
#define REORDER_MAX_NS 1000000ull /* 1 ms */

/* A fault that hit a request id, waiting to see whether the guest notices. */
struct open_fault {
	struct open_fault *next; /* bucket chain */
	uint16_t device, unit;   /* the request's device and unit */
	uint64_t seq;            /* its id */
	enum fault_kind kind;    /* what was done to it */
	bool detected;           /* a retry or an error showed it */
	bool escaped;            /* a check found a sector it damaged bad */
	uint64_t lo, hi;         /* corrupt: sectors [lo, hi) of the data it damaged */
};

/* A message held back by delay or reorder. */
struct held {
	struct held *next;  /* list order */
	uint64_t due_ns;    /* delay: release time */
	uint32_t gap;       /* reorder: messages still to overtake it (0: a delay) */
	struct shim_msg *m; /* the message (header, payload) */
};

/* An I/O fault site: raw return addresses, symbolised when the run ends. */
struct raw_site {
	uint64_t hash;                       /* of kind and addresses; 0: free */
	enum fault_kind kind;
	uint64_t count;
	int depth;
	void *ip[SHIM_SITE_DEPTH];
};

struct shim_faults {
	struct fault_engine e;               /* plan, generators, outcomes */
	struct raw_site sites[SHIM_SITES_MAX]; /* where I/O faults struck, in order seen */
	uint64_t sites_lost;                 /* faults at sites beyond the table */
	FILE *log;                           /* --fault-log, or NULL */
	struct open_fault *open[OPEN_BUCKETS]; /* faults on request ids, by id */
	struct held *held;                   /* delayed and reordered messages */
	uint64_t host_detected;              /* corrupt/truncate caught by the host's CRC check */
	bool dispatching, refused;           /* a device has a message the layer handed it ... */
};

int shim_faults_open(struct shim_vm *vm, const struct shim_config *cfg, char *err,
		     size_t errlen)
{
	struct fault_plan *plan;
	struct shim_faults *f;
	int rc;

	if (!cfg->faults)
		return 0;
	plan = malloc(sizeof(*plan));
	f = calloc(1, sizeof(*f));
	if (!plan || !f) {
		free(plan), free(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = fault_plan_load(cfg->faults, plan, err, errlen);
	if (!rc && cfg->fault_log && !(f->log = fopen(cfg->fault_log, "w"))) {
		snprintf(err, errlen, "--fault-log %s: %s", cfg->fault_log, strerror(errno));
		rc = -errno;
	}
	if (rc) {
		free(plan), free(f);
		return rc;
	}
	fault_engine_init(&f->e, plan, cfg->has_seed, cfg->seed, shim_now_ns(), f->log);
	free(plan);
	vm->faults = f;
	return 0;
}

static unsigned int bucket(uint16_t device, uint16_t unit, uint64_t seq)
{
	return (unsigned int)((seq * 0x9e3779b97f4a7c15ull ^ (uint64_t)device << 8 ^ unit) >> 52) %
	       OPEN_BUCKETS;
}

/* A fault hit request (device, unit, seq): wait for the guest to show it noticed. */
void shim_faults_opened(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq,
			enum fault_kind kind, bool detected)
{
	struct shim_faults *f = vm->faults;
	struct open_fault *o = malloc(sizeof(*o));
	unsigned int b = bucket(device, unit, seq);

	if (!o) { /* cannot track it: call it harmless rather than lose the count */
		fault_out(&f->e, device, kind)->harmless++;
		return;
	}
	*o = (struct open_fault){ .next = f->open[b], .device = device, .unit = unit, .seq = seq,
				  .kind = kind, .detected = detected };
	if (detected)
		fault_out(&f->e, device, kind)->detected++;
	f->open[b] = o;
}

/* The guest sent request (device, unit, seq) again: it noticed every fault on it. */
void shim_faults_retry(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq)
{
	struct shim_faults *f = vm->faults;

	for (struct open_fault *o = f->open[bucket(device, unit, seq)]; o; o = o->next)
		if (o->seq == seq && o->device == device && o->unit == unit && !o->detected) {
			o->detected = true;
			fault_out(&f->e, o->device, o->kind)->detected++;
		}
}

/* The data of request (device, unit, seq) was damaged in sectors [lo, hi) of the unit. */
void shim_faults_damaged(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq,
			 uint64_t lo, uint64_t hi)
{
	for (struct open_fault *o = vm->faults->open[bucket(device, unit, seq)]; o; o = o->next)
		if (o->seq == seq && o->device == device && o->unit == unit &&
		    o->kind == FAULT_CORRUPT && o->lo == o->hi) {
			o->lo = lo, o->hi = hi;
			return;
		}
}

/*
 * A check found sector of (device, unit) bad although its read succeeded:
 * the unnoticed corruption(s) that damaged it escaped.  Rare (experiments
 * with protection off), so a walk over every open fault is fine.
 */
void shim_faults_bad_sector(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t sector)
{
	struct shim_faults *f = vm->faults;

	for (unsigned int b = 0; b < OPEN_BUCKETS; b++)
		for (struct open_fault *o = f->open[b]; o; o = o->next)
			if (o->device == device && o->unit == unit && !o->detected &&
			    sector >= o->lo && sector < o->hi)
				o->escaped = true;
}

/* The guest gave up on request (device, unit, seq): its faults were noticed, not recovered. */
void shim_faults_failed(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq)
{
	shim_faults_retry(vm, device, unit, seq); /* marks them detected */
}

/* Request (device, unit, seq) was served: with status 0, its faults were recovered from. */
void shim_faults_served(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq,
			int status)
{
	struct shim_faults *f = vm->faults;
	struct open_fault **pp = &f->open[bucket(device, unit, seq)];

	while (*pp) {
		struct open_fault *o = *pp;

		if (o->seq != seq || o->device != device || o->unit != unit || !o->detected ||
		    status) {
			pp = &o->next;
			continue;
		}
		fault_out(&f->e, o->device, o->kind)->recovered++;
		*pp = o->next;
		free(o);
	}
}

/*
 * Hold m (to be dispatched to the host side, or queued for the guest:
 * m->to_guest) for later.  Out of memory, it goes into now instead:
 * passed on at once rather than lost.
 */
void shim_faults_hold(struct shim_vm *vm, struct shim_msg *m, uint64_t delay_ns, uint32_t gap,
		      struct shim_msg_list *now)
{
	struct held *h = malloc(sizeof(*h)), **pp = &vm->faults->held;

	if (!h) {
		shim_msg_list_add(now, m);
		return;
	}
	/*
	 * A reordered message waits for gap later ones to pass it, but at most
	 * REORDER_MAX_NS: in a workload with one request in flight nothing ever
	 * passes, and a reorder must not turn into a loss.
	 */
	*h = (struct held){ .gap = delay_ns ? 0 : (gap ? gap : 1), .m = m,
			    .due_ns = shim_now_ns() + (delay_ns ? delay_ns : REORDER_MAX_NS) };
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
}

/* A later message went past: held ones with a reorder gap count it. */
void shim_faults_overtaken(struct shim_vm *vm, int dir)
{
	for (struct held *h = vm->faults ? vm->faults->held : NULL; h; h = h->next)
		if (h->m->to_guest == dir && h->gap > 1)
			h->gap--;
		else if (h->m->to_guest == dir && h->gap == 1)
			h->gap = 0, h->due_ns = 1; /* due now */
}

/* The guest sent request seq again: a held copy of it is stale, drop it. */
void shim_faults_cancel_stale(struct shim_vm *vm, const struct coop_msg_hdr *hdr)
{
	struct held **pp = &vm->faults->held;

	while (*pp) {
		struct held *h = *pp;

		if (!h->m->to_guest && h->m->sent.device == hdr->device && h->m->hdr.unit == hdr->unit &&
		    h->m->sent.seq == hdr->seq) {
			*pp = h->next;
			free(h->m);
			free(h);
			continue;
		}
		pp = &h->next;
	}
}

/*
 * Release what is due into due, in the order it was held (the router
 * passes it on); returns ns until the next release (0: none held).
 */
uint64_t shim_faults_release(struct shim_vm *vm, struct shim_msg_list *due)
{
	struct held **pp;
	uint64_t now, next = 0;

	if (!vm->faults || !vm->faults->held) /* nothing held: not even the clock */
		return 0;
	now = shim_now_ns();
	for (pp = &vm->faults->held; *pp;) {
		struct held *h = *pp;

		if (h->due_ns > now) { /* overtaken enough times, due_ns is 1 */
			if (!next || h->due_ns - now < next)
				next = h->due_ns - now;
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		shim_msg_list_add(due, h->m);
		free(h);
	}
	return next ? next : 0;
}

/* A guest end-to-end check: bad units were damaged and nobody noticed. */
void shim_faults_check(struct shim_vm *vm, uint64_t checked, uint64_t bad)
{
	vm->stats.checked += checked;
	vm->stats.check_bad += bad;
	if (vm->faults) {
		vm->faults->e.checked += checked;
		vm->faults->e.bad += bad;
	}
}

/*
 * The run is over: what no one noticed was harmless; the log is written
 * (log_preamble, "# ..." lines, under its first line: where the run came
 * from; or NULL); free everything.
 */
void shim_faults_close(struct shim_vm *vm, const char *log_preamble)
{
	struct shim_faults *f = vm->faults;

	if (!f)
		return;
	for (int b = 0; b < OPEN_BUCKETS; b++)
		while (f->open[b]) {
			struct open_fault *o = f->open[b];

			if (o->escaped && !o->detected)
				fault_out(&f->e, o->device, o->kind)->escaped++;
			else if (!o->detected)
				fault_out(&f->e, o->device, o->kind)->harmless++;
			f->open[b] = o->next;
			free(o);
		}
	while (f->held) {
		struct held *h = f->held;

		f->held = h->next;
		free(h->m);
		free(h);
	}
	f->e.log_preamble = log_preamble;
	fault_engine_finish(&f->e);
	if (f->log)
		fclose(f->log);
	vm->fault_outcome = malloc(sizeof(*vm->fault_outcome));
	if (vm->fault_outcome) {
		memcpy(vm->fault_outcome->out, f->e.out, sizeof(f->e.out));
		vm->fault_outcome->seed = f->e.seed;
		vm->fault_outcome->host_detected = f->host_detected;
		vm->fault_outcome->nsites = 0;
		vm->fault_outcome->sites_lost = f->sites_lost;
		for (unsigned int i = 0; i < SHIM_SITES_MAX && f->sites[i].hash; i++) {
			struct shim_faults_site *o = &vm->fault_outcome->sites[i];

			o->kind = f->sites[i].kind;
			o->count = f->sites[i].count;
			o->depth = (unsigned int)f->sites[i].depth;
			for (unsigned int k = 0; k < o->depth; k++)
				shim_host_symbol((uintptr_t)f->sites[i].ip[k], o->frame[k],
						 sizeof(o->frame[k]));
			vm->fault_outcome->nsites++;
		}
	}
	free(f);
	vm->faults = NULL;
}

/*
 * Count an I/O fault's site by its backtrace: unw_backtrace() only collects
 * return addresses (~100 ns); naming them waits for the end of the run.
 */
static void note_site(struct shim_faults *f, enum fault_kind kind, void **ip, int depth)
{
	uint64_t h = 0xcbf29ce484222325ull ^ kind;

	for (int i = 0; i < depth; i++)
		h = (h ^ (uintptr_t)ip[i]) * 0x100000001b3ull;
	h |= 1;
	for (unsigned int i = 0; i < SHIM_SITES_MAX; i++) {
		struct raw_site *s = &f->sites[i];

		if (s->hash == h) {
			s->count++;
			return;
		}
		if (!s->hash) {
			*s = (struct raw_site){ .hash = h, .kind = kind, .count = 1, .depth = depth };
			memcpy(s->ip, ip, (size_t)depth * sizeof(*ip));
			return;
		}
	}
	f->sites_lost++;
}

/*
 * The engine fired f[0..n) for ev at a site: trace each (coop:fault_injected,
 * with the host backtrace when the event is enabled), and remember where
 * I/O faults struck for the report.
 */
void shim_faults_injected(struct shim_vm *vm, const struct fault_event *ev,
			  const struct fault_fired *f, unsigned int n)
{
	void *ip[SHIM_SITE_DEPTH + 1];
	uint64_t bt[SHIM_SITE_DEPTH];
	int depth = 0;

	if (!n)
		return;
	if (ev->cls == FAULT_CLASS_IO || coop_trace_enabled(fault_injected)) {
		depth = unw_backtrace(ip, SHIM_SITE_DEPTH + 1) - 1; /* not this function */
		depth = depth < 0 ? 0 : depth;
		for (int i = 0; i < depth; i++)
			bt[i] = (uintptr_t)ip[i + 1];
	}
	for (unsigned int i = 0; i < n; i++) {
		if (ev->cls == FAULT_CLASS_IO)
			note_site(vm->faults, f[i].kind, ip + 1, depth);
		coop_trace(fault_injected, f[i].rule + 1, fault_kind_name(f[i].kind),
			   (uint32_t)ev->device, (uint32_t)ev->unit, ev->dir, ev->vector, ev->seq,
			   f[i].delay_ns, bt, (uint32_t)depth);
	}
}

/*
 * The layer hands a device a message it held, copied or damaged (on): a
 * refusal that would end the guest is the layer's doing, not the guest's,
 * so shim_faults_absorb_kill() turns it into a dropped message.  Off: was
 * the message refused?
 */
bool shim_faults_dispatching(struct shim_vm *vm, bool on)
{
	struct shim_faults *f = vm->faults;
	bool refused = f->refused;

	f->dispatching = on;
	f->refused = false;
	return refused;
}

bool shim_faults_absorb_kill(struct shim_vm *vm)
{
	struct shim_faults *f = vm->faults;

	if (!f || !f->dispatching || vm->crashed)
		return false;
	f->refused = true;
	return true;
}

static void host_detected(struct shim_vm *vm, int device, enum fault_kind kind)
{
	fault_out(&vm->faults->e, device, kind)->detected++;
	vm->faults->host_detected++;
}

/*
 * The router could not hand m, which the layer made, to its device: it
 * failed the host's checks or the device refused it, and was dropped.  A
 * copy the layer damaged under a CRC was caught by the host (detected);
 * without one the fault is tracked by its request id like any other.
 */
void shim_faults_refused(struct shim_vm *vm, const struct shim_msg *m)
{
	if (vm->faults && m->damaged >= 0 && !(m->hdr.flags & COOP_MSG_F_NOCRC))
		host_detected(vm, m->sent.device, (enum fault_kind)m->damaged);
}

struct fault_engine *shim_faults_engine(struct shim_vm *vm)
{
	return vm->faults ? &vm->faults->e : NULL;
}

/* Kind k's outcomes summed over devices. */
struct fault_outcome shim_faults_total(const struct shim_faults_outcome *o, enum fault_kind k)
{
	struct fault_outcome t = { 0 };

	for (int d = 0; d < FAULT_DEVS; d++) {
		t.injected += o->out[d][k].injected;
		t.detected += o->out[d][k].detected;
		t.recovered += o->out[d][k].recovered;
		t.harmless += o->out[d][k].harmless;
		t.escaped += o->out[d][k].escaped;
	}
	return t;
}

/* The summary at exit, on stderr. */
void shim_faults_summary(const struct shim_vm *vm, FILE *out)
{
	const struct shim_faults_outcome *o = vm->fault_outcome;
	uint64_t inj = 0, det = 0, rec = 0, harm = 0, esc = 0;

	if (!o)
		return;
	fprintf(out, "coop: faults (seed %llu):", (unsigned long long)o->seed);
	for (int k = 0; k < FAULT_KIND_COUNT; k++) {
		struct fault_outcome t = shim_faults_total(o, (enum fault_kind)k);

		if (!t.injected)
			continue;
		fprintf(out, " %s %llu", fault_kind_name((enum fault_kind)k),
			(unsigned long long)t.injected);
		inj += t.injected;
		det += t.detected;
		rec += t.recovered;
		harm += t.harmless;
		esc += t.escaped;
	}
	fprintf(out, "%s\ncoop: faults: %llu injected, %llu detected, %llu recovered, %llu harmless, "
		     "%llu escaped (%llu of %llu checked sectors bad)\n",
		inj ? "" : " none", (unsigned long long)inj, (unsigned long long)det,
		(unsigned long long)rec, (unsigned long long)harm, (unsigned long long)esc,
		(unsigned long long)vm->stats.check_bad, (unsigned long long)vm->stats.checked);
	for (unsigned int i = 0; i < o->nsites; i++) {
		const struct shim_faults_site *site = &o->sites[i];

		fprintf(out, "coop: faults: %s x%llu at", fault_kind_name(site->kind),
			(unsigned long long)site->count);
		for (unsigned int k = 0; k < site->depth && k < 6; k++)
			fprintf(out, "%s%s", k ? " <- " : " ", site->frame[k]);
		fprintf(out, "%s\n", site->depth > 6 ? " <- ..." : "");
	}
}
