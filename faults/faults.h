/* SPDX-License-Identifier: MIT */
/*
 * faults.h - the fault-injection layer: a fault plan (plan.c parses the
 * netem-like language, docs/faults.md) and the engine that applies
 * it where real errors come from (inject.c): the message path (router),
 * the block backend's I/O, and virtual interrupts.  The same plan and seed
 * give the same faults on the same workload.
 */
#ifndef COOP_FAULTS_H
#define COOP_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FAULT_MAX_RULES 64

/* What a rule does.  The X-macro keeps names and kinds in one table. */
#define FAULT_KINDS(X)                                                  \
	X(CORRUPT, "corrupt")     /* flip bits of a message or its data */ \
	X(TRUNCATE, "truncate")   /* cut a message's payload short */      \
	X(DROP, "drop")           /* lose a message */                     \
	X(DUPLICATE, "duplicate") /* deliver a message twice */            \
	X(DELAY, "delay")         /* deliver a message later */            \
	X(REORDER, "reorder")     /* deliver a message after later ones */ \
	X(IO_EIO, "io eio")       /* the image read/write fails with EIO */ \
	X(IO_SHORT, "io short")   /* the image transfer stops half way */  \
	X(IO_ENOSPC, "io enospc") /* the image write fails with ENOSPC */  \
	X(IRQ_DROP, "irq drop")   /* a raised vIRQ is lost */              \
	X(IRQ_DELAY, "irq delay") /* a raised vIRQ arrives later */        \
	X(IRQ_SPURIOUS, "irq spurious") /* a vIRQ nobody raised */

enum fault_kind {
#define FAULT_ENUM(name, text) FAULT_##name,
	FAULT_KINDS(FAULT_ENUM)
#undef FAULT_ENUM
	FAULT_KIND_COUNT
};

enum fault_dist {
	FAULT_DIST_FIXED,   /* delay a */
	FAULT_DIST_UNIFORM, /* delay uniform in [a, b] */
	FAULT_DIST_NORMAL,  /* delay normal, mean a, deviation b, in [0, max] */
};

/* One line of a plan: what to select, when to fire, what to do. */
struct fault_rule {
	unsigned int line;       /* its line in the plan file */
	enum fault_kind kind;    /* what it does */
	/* selectors; -1 means any */
	int device;              /* COOP_DEV_* */
	int unit;                /* device unit */
	int dir;                 /* 0 guest->host (to_host), 1 host->guest (to_guest) */
	int type;                /* message type */
	int op;                  /* io faults: COOP_COBD_READ / COOP_COBD_WRITE */
	int vector;              /* irq faults: the vector */
	uint64_t seq_lo, seq_hi; /* sequence number / request id range, inclusive */
	/* trigger: every matching event, with probability prob, or every Nth */
	double prob;             /* 0 < prob <= 1, or 0: not probabilistic */
	uint64_t every;          /* N, or 0: not every-Nth */
	/* window: only matching events number win_lo..win_hi (1-based) ... */
	uint64_t win_lo, win_hi;
	/* ... and only between these times since the guest booted */
	uint64_t win_ns_lo, win_ns_hi;
	/* parameters */
	uint32_t bits;           /* corrupt: bits to flip (default 1) */
	uint32_t keep;           /* truncate: payload bytes kept */
	enum fault_dist dist;    /* delay, irq delay */
	uint64_t a_ns, b_ns;     /* delay: fixed a; uniform a..b; normal mean a, sd b */
	uint64_t max_ns;         /* delay normal: upper bound */
	uint32_t gap;            /* reorder: later messages that overtake it (default 1) */
};

struct fault_plan {
	char path[256];          /* where it came from, for messages */
	uint64_t seed;           /* the plan's `seed` (default 1) */
	bool has_seed;           /* the plan said `seed N` */
	unsigned int nrules;     /* valid entries in rules */
	struct fault_rule rules[FAULT_MAX_RULES];
};

/* plan.c */
/*
 * Parse a plan.  Returns 0, or -EINVAL with err = "PATH:LINE:COL: what is
 * wrong, what was expected" (one line).  Nothing is applied until a whole
 * plan parsed.
 */
__attribute__((warn_unused_result)) int fault_plan_parse(const char *text, size_t len,
							 const char *path,
							 struct fault_plan *plan, char *err,
							 size_t errlen);
/* Read and parse a file; errors as above, or "PATH: cannot read: ...". */
__attribute__((warn_unused_result)) int fault_plan_load(const char *path,
							struct fault_plan *plan, char *err,
							size_t errlen);
/* `coop faults check`: one line per rule saying what it selects and does. */
void fault_plan_describe(const struct fault_plan *plan, FILE *out);
const char *fault_kind_name(enum fault_kind kind);

/* ---- The engine (inject.c) ---------------------------------------------- */

/* What happened, for rules to select on. */
enum fault_class { FAULT_CLASS_MSG, FAULT_CLASS_IO, FAULT_CLASS_IRQ };

struct fault_event {
	enum fault_class cls; /* which rules may match */
	int device, unit;     /* COOP_DEV_*, unit */
	int dir;              /* messages: 0 to_host, 1 to_guest */
	int type;             /* messages: type */
	int op;               /* io: COOP_COBD_READ / WRITE */
	int vector;           /* irq: vector */
	uint64_t seq;         /* sequence number / request id */
};

/* A rule that fired, with its parameters drawn. */
struct fault_fired {
	unsigned int rule;     /* index in plan.rules */
	enum fault_kind kind;  /* its action */
	int device;            /* the event's device (COOP_DEV_*), -1: none */
	uint32_t attempt;      /* times this rule already fired on this message */
	uint64_t draw;         /* generator state for this fault's parameters */
	uint64_t delay_ns;     /* delay, irq delay: drawn from the distribution */
	uint32_t bits, keep, gap; /* corrupt, truncate, reorder */
};

/* Per kind: how the injected faults turned out (the run report). */
struct fault_outcome {
	uint64_t injected;  /* the plan fired */
	uint64_t detected;  /* someone noticed (CRC, timeout -> retry, error reply) */
	uint64_t recovered; /* ... and the request then succeeded */
	uint64_t harmless;  /* nothing had to notice (absorbed delay, suppressed duplicate) */
	uint64_t escaped;   /* nobody noticed, and an end-to-end check found its damage */
};

/* One injected fault, as the fault log lists it. */
struct fault_record {
	struct fault_event ev; /* what it hit */
	struct fault_fired f;  /* what it did */
};

/* Rule r fired on the event whose identity hashes to key this many times. */
struct fault_tally {
	uint64_t key;   /* 0: empty slot */
	uint32_t fired;
};

/* Outcomes are kept per device (COOP_DEV_*) and kind; FAULT_NODEV: no device (the timer). */
#define FAULT_DEVS 8
#define FAULT_NODEV (FAULT_DEVS - 1)

struct fault_engine {
	struct fault_plan plan;              /* the rules */
	uint64_t seed;                       /* the plan's, or --seed */
	uint64_t matched[FAULT_MAX_RULES];   /* events each rule selected */
	uint64_t start_ns;                   /* time windows count from here */
	struct fault_tally *tally;           /* open addressing, tally_cap slots */
	size_t tally_cap, tally_used;
	FILE *log;                           /* the fault log, or NULL */
	const char *log_preamble;            /* "# ..." lines under its first, or NULL */
	struct fault_record *records;        /* the log's lines, written sorted at the end */
	size_t nrecords, records_cap;
	uint64_t records_lost;               /* out of memory: not in the log */
	struct fault_outcome out[FAULT_DEVS][FAULT_KIND_COUNT]; /* per device, kind */
	uint64_t checked, bad;               /* end-to-end checks the guest reported */
};

/* The outcome counters of a device (COOP_DEV_*, or anything else: FAULT_NODEV) and kind. */
static inline struct fault_outcome *fault_out(struct fault_engine *e, int device,
					      enum fault_kind kind)
{
	return &e->out[device >= 0 && device < FAULT_NODEV ? device : FAULT_NODEV][kind];
}

/* What the event hit, for the fault log: "device=cobd unit=0 dir=to_guest ...". */
void fault_event_format(const struct fault_event *ev, char *buf, size_t len);

/* Set up from a loaded plan; seed overrides the plan's unless has_seed is false. */
void fault_engine_init(struct fault_engine *e, const struct fault_plan *plan, bool has_seed,
		       uint64_t seed, uint64_t now_ns, FILE *log);
/*
 * Which rules fire for ev (at most max); each is recorded for the log and
 * counted as injected.  Whether a probabilistic rule fires is a function of
 * the seed, the rule, the message's identity (device, unit, direction,
 * type, sequence number / request id) and how often the rule already fired
 * on it -- not of the order events come in -- so a replay injects the same
 * faults even where timing reorders the workload's messages.
 */
unsigned int fault_engine_match(struct fault_engine *e, const struct fault_event *ev,
				uint64_t now_ns, struct fault_fired *out, unsigned int max);
/* Flip f->bits bits of buf, chosen by the fault's own draw. */
void fault_engine_flip(const struct fault_fired *f, uint8_t *buf, size_t len);
/* Write the fault log (sorted by what was hit, so replays compare equal) and free. */
void fault_engine_finish(struct fault_engine *e);

#endif /* COOP_FAULTS_H */
