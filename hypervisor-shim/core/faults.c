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

#include "core/shim.h"

#define OPEN_BUCKETS 4096
#define REORDER_MAX_NS 1000000ull /* 1 ms */

/* A fault that hit a request id, waiting to see whether the guest notices. */
struct open_fault {
	struct open_fault *next; /* bucket chain */
	uint16_t device, unit;   /* the request's device and unit */
	uint64_t seq;            /* its id */
	enum fault_kind kind;    /* what was done to it */
	bool detected;           /* a retry or an error showed it */
};

/* A message held back by delay or reorder. */
struct held {
	struct held *next;  /* list order */
	int dir;            /* 0: guest->host (dispatch later), 1: host->guest (queue later) */
	uint64_t due_ns;    /* delay: release time */
	uint32_t gap;       /* reorder: messages still to overtake it (0: a delay) */
	struct shim_msg *m; /* the message (header, payload) */
};

struct shim_faults {
	struct fault_engine e;               /* plan, generators, outcomes */
	FILE *log;                           /* --fault-log, or NULL */
	struct open_fault *open[OPEN_BUCKETS]; /* faults on request ids, by id */
	struct held *held;                   /* delayed and reordered messages */
	uint64_t host_detected;              /* corrupt/truncate caught by the host's CRC check */
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
		f->e.out[kind].harmless++;
		return;
	}
	*o = (struct open_fault){ f->open[b], device, unit, seq, kind, detected };
	if (detected)
		f->e.out[kind].detected++;
	f->open[b] = o;
}

/* The guest sent request (device, unit, seq) again: it noticed every fault on it. */
void shim_faults_retry(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq)
{
	struct shim_faults *f = vm->faults;

	for (struct open_fault *o = f->open[bucket(device, unit, seq)]; o; o = o->next)
		if (o->seq == seq && o->device == device && o->unit == unit && !o->detected) {
			o->detected = true;
			f->e.out[o->kind].detected++;
		}
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
		f->e.out[o->kind].recovered++;
		*pp = o->next;
		free(o);
	}
}

/* Hold m (to be dispatched to the host side, or queued for the guest) for later. */
void shim_faults_hold(struct shim_vm *vm, int dir, struct shim_msg *m, uint64_t delay_ns,
		      uint32_t gap)
{
	struct held *h = malloc(sizeof(*h)), **pp = &vm->faults->held;

	if (!h) { /* out of memory: deliver now rather than lose it */
		if (dir)
			shim_router_enqueue(vm, m);
		else
			shim_router_dispatch(vm, m), free(m);
		return;
	}
	/*
	 * A reordered message waits for gap later ones to pass it, but at most
	 * REORDER_MAX_NS: in a workload with one request in flight nothing ever
	 * passes, and a reorder must not turn into a loss.
	 */
	*h = (struct held){ .dir = dir, .gap = delay_ns ? 0 : (gap ? gap : 1), .m = m,
			    .due_ns = shim_now_ns() + (delay_ns ? delay_ns : REORDER_MAX_NS) };
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
}

/* A later message went past: held ones with a reorder gap count it. */
void shim_faults_overtaken(struct shim_vm *vm, int dir)
{
	for (struct held *h = vm->faults ? vm->faults->held : NULL; h; h = h->next)
		if (h->dir == dir && h->gap > 1)
			h->gap--;
		else if (h->dir == dir && h->gap == 1)
			h->gap = 0, h->due_ns = 1; /* due now */
}

/* The guest sent request seq again: a held copy of it is stale, drop it. */
void shim_faults_cancel_stale(struct shim_vm *vm, const struct coop_msg_hdr *hdr)
{
	struct held **pp = &vm->faults->held;

	while (*pp) {
		struct held *h = *pp;

		if (h->dir == 0 && h->m->sent.device == hdr->device && h->m->hdr.unit == hdr->unit &&
		    h->m->sent.seq == hdr->seq) {
			*pp = h->next;
			free(h->m);
			free(h);
			continue;
		}
		pp = &h->next;
	}
}

/* Release what is due; returns ns until the next release (0: none held). */
uint64_t shim_faults_release(struct shim_vm *vm)
{
	struct held **pp;
	uint64_t now = shim_now_ns(), next = 0;

	if (!vm->faults)
		return 0;
	for (pp = &vm->faults->held; *pp;) {
		struct held *h = *pp;

		if (h->due_ns > now) { /* overtaken enough times, due_ns is 1 */
			if (!next || h->due_ns - now < next)
				next = h->due_ns - now;
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		if (h->dir) {
			shim_router_enqueue(vm, h->m);
		} else {
			shim_router_dispatch(vm, h->m);
			free(h->m);
		}
		free(h);
		if (vm->state != SHIM_VM_RUNNING)
			break;
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

/* The run is over: what no one noticed was harmless; free everything. */
void shim_faults_close(struct shim_vm *vm)
{
	struct shim_faults *f = vm->faults;

	if (!f)
		return;
	for (int b = 0; b < OPEN_BUCKETS; b++)
		while (f->open[b]) {
			struct open_fault *o = f->open[b];

			if (!o->detected)
				f->e.out[o->kind].harmless++;
			f->open[b] = o->next;
			free(o);
		}
	while (f->held) {
		struct held *h = f->held;

		f->held = h->next;
		free(h->m);
		free(h);
	}
	fault_engine_finish(&f->e);
	if (f->log)
		fclose(f->log);
	vm->fault_outcome = malloc(sizeof(*vm->fault_outcome));
	if (vm->fault_outcome) {
		memcpy(vm->fault_outcome->out, f->e.out, sizeof(f->e.out));
		vm->fault_outcome->seed = f->e.seed;
		vm->fault_outcome->host_detected = f->host_detected;
	}
	free(f);
	vm->faults = NULL;
}

void shim_faults_host_detected(struct shim_vm *vm, enum fault_kind kind)
{
	vm->faults->e.out[kind].detected++;
	vm->faults->host_detected++;
}

struct fault_engine *shim_faults_engine(struct shim_vm *vm)
{
	return vm->faults ? &vm->faults->e : NULL;
}

/* The summary at exit, on stderr. */
void shim_faults_summary(const struct shim_vm *vm, FILE *out)
{
	const struct shim_fault_outcome *o = vm->fault_outcome;
	uint64_t inj = 0, det = 0, rec = 0, harm = 0;

	if (!o)
		return;
	fprintf(out, "coop: faults (seed %llu):", (unsigned long long)o->seed);
	for (int k = 0; k < FAULT_KIND_COUNT; k++) {
		if (!o->out[k].injected)
			continue;
		fprintf(out, " %s %llu", fault_kind_name((enum fault_kind)k),
			(unsigned long long)o->out[k].injected);
		inj += o->out[k].injected;
		det += o->out[k].detected;
		rec += o->out[k].recovered;
		harm += o->out[k].harmless;
	}
	fprintf(out, "%s\ncoop: faults: %llu injected, %llu detected, %llu recovered, %llu harmless, "
		     "%llu escaped (%llu of %llu checked sectors bad)\n",
		inj ? "" : " none", (unsigned long long)inj, (unsigned long long)det,
		(unsigned long long)rec, (unsigned long long)harm,
		(unsigned long long)vm->stats.check_bad, (unsigned long long)vm->stats.check_bad,
		(unsigned long long)vm->stats.checked);
}
