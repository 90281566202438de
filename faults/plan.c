/* SPDX-License-Identifier: MIT */
/*
 * plan.c - the fault-plan language (docs/faults.md): one rule per line,
 * an action and key=value selectors, parsed strictly into struct fault_plan.
 * Every mistake is one "PATH:LINE:COL: what, expected what" line.  Try it:
 * `build/bin/coop faults check faults/examples/mixed.plan`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coop/abi.h"
#include "faults/faults.h"

#define PLAN_LINE_MAX 1024          /* characters per line, without the newline */
#define PLAN_FILE_MAX (1u << 20)    /* a plan is small: a bigger file is a mistake */
#define DELAY_MAX_NS 60000000000ull /* 60 s: longer only hangs a run */
#define GAP_MAX 1000
#define QUOTE_MAX 40                /* characters of a word quoted in a message */

#define BIT(kind) (1u << FAULT_##kind)
#define K_MSG (BIT(CORRUPT) | BIT(TRUNCATE) | BIT(DROP) | BIT(DUPLICATE) | BIT(DELAY) | BIT(REORDER))
#define K_IO (BIT(IO_EIO) | BIT(IO_SHORT) | BIT(IO_ENOSPC))
#define K_IRQ (BIT(IRQ_DROP) | BIT(IRQ_DELAY) | BIT(IRQ_SPURIOUS))
#define K_ALL (K_MSG | K_IO | K_IRQ)

static const char *const kind_names[] = {
#define FAULT_NAME(name, text) [FAULT_##name] = text,
	FAULT_KINDS(FAULT_NAME)
#undef FAULT_NAME
};

const char *fault_kind_name(enum fault_kind kind)
{
	if ((unsigned int)kind >= FAULT_KIND_COUNT)
		return "?";
	return kind_names[kind];
}

/* A word of the current line: never NUL-terminated, so always (s, n). */
struct tok {
	const char *s;
	size_t n;
	unsigned int col; /* 1-based */
};

/* The parser's position: the current line, comment already cut off. */
struct pctx {
	const char *path;
	unsigned int line;
	const char *lp;   /* the line */
	size_t llen;      /* its length up to a '#' */
	size_t pos;       /* next unread byte in it */
	char *err;
	size_t errlen;
};

/* What a rule line needs to remember until all its keys are read. */
struct rule_state {
	struct fault_rule *r;
	unsigned int seen;        /* keys given so far, a bit per keys[] entry */
	unsigned int keycol[16];  /* where each given key stood */
	unsigned int key_col;     /* the column of the key being parsed */
	struct tok type;          /* type=, checked once device= is known */
	bool has_type, type_named;
	unsigned int sd_col;      /* delay normal: SD, where a bad default max points */
	unsigned int max_col;     /* max=, where "max below MEAN" points */
	bool has_max;
};

static bool tok_is(const struct tok *t, const char *word)
{
	return t->n == strlen(word) && !memcmp(t->s, word, t->n);
}

/* A word made safe for a one-line message: printable, at most QUOTE_MAX. */
static const char *quote(const char *s, size_t n, char buf[QUOTE_MAX + 4])
{
	size_t i, k = n > QUOTE_MAX ? QUOTE_MAX : n;

	for (i = 0; i < k; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	strcpy(buf + k, n > k ? "..." : "");
	return buf;
}

__attribute__((format(printf, 3, 4))) static int perr(struct pctx *c, unsigned int col,
						       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->path, c->line, col);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The next blank-separated word of the line, or false at its end. */
static bool next_tok(struct pctx *c, struct tok *t)
{
	while (c->pos < c->llen && (c->lp[c->pos] == ' ' || c->lp[c->pos] == '\t'))
		c->pos++;
	if (c->pos >= c->llen)
		return false;
	t->s = c->lp + c->pos;
	t->col = (unsigned int)c->pos + 1;
	while (c->pos < c->llen && c->lp[c->pos] != ' ' && c->lp[c->pos] != '\t')
		c->pos++;
	t->n = (size_t)(c->lp + c->pos - t->s);
	return true;
}

/* Where a missing word should have been: just past the line's last word. */
static unsigned int end_col(const struct pctx *c)
{
	size_t n = c->llen;

	while (n && (c->lp[n - 1] == ' ' || c->lp[n - 1] == '\t'))
		n--;
	return (unsigned int)n + 1;
}

/* ---- values ---------------------------------------------------------- */

/* A decimal integer: digits only (no sign, no 0x), overflow is an error. */
static bool scan_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int num(struct pctx *c, const struct tok *t, const char *what, uint64_t lo, uint64_t hi,
	       uint64_t *out)
{
	char q[QUOTE_MAX + 4];

	if (!scan_u64(t->s, t->n, out))
		return perr(c, t->col, "bad number '%s' for %s, expected a decimal integer",
			    quote(t->s, t->n, q), what);
	if (*out < lo || *out > hi)
		return perr(c, t->col, "%s %llu out of range, expected %llu to %llu", what,
			    (unsigned long long)*out, (unsigned long long)lo,
			    (unsigned long long)hi);
	return 0;
}

static const struct {
	const char *unit;
	uint64_t ns;
} time_units[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 } };

/* TIME: digits and a unit; a bare number is an error (ms? s?). */
static bool scan_time(const char *s, size_t n, uint64_t *ns, bool *no_unit)
{
	size_t d = 0;
	uint64_t v;

	while (d < n && s[d] >= '0' && s[d] <= '9')
		d++;
	*no_unit = d == n;
	if (!d || !scan_u64(s, d, &v))
		return false;
	for (size_t i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
		if (n - d != strlen(time_units[i].unit) || memcmp(s + d, time_units[i].unit, n - d))
			continue;
		if (v > UINT64_MAX / time_units[i].ns)
			return false;
		*ns = v * time_units[i].ns;
		return true;
	}
	return false;
}

static int time_val(struct pctx *c, const struct tok *t, const char *what, uint64_t max,
		    uint64_t *ns)
{
	char q[QUOTE_MAX + 4];
	bool no_unit;

	if (!scan_time(t->s, t->n, ns, &no_unit))
		return perr(c, t->col, "%s '%s' %s, expected a time such as 500us, 2ms or 1s", what,
			    quote(t->s, t->n, q), no_unit ? "has no unit" : "is not a time");
	if (*ns > max)
		return perr(c, t->col, "%s '%s' is too long, expected at most %llus", what,
			    quote(t->s, t->n, q), (unsigned long long)(max / 1000000000ull));
	return 0;
}

/* ---- the action: first word(s) and the delay's positional times ------- */

/* The word that should be a time: none, or a key=value, is "missing". */
static int want_time(struct pctx *c, struct tok *t, const char *what, const char *expected)
{
	if (!next_tok(c, t))
		return perr(c, end_col(c), "%s needs a time, expected %s", what, expected);
	if (memchr(t->s, '=', t->n))
		return perr(c, t->col, "%s needs a time, expected %s", what, expected);
	return 0;
}

/* delay TIME | delay uniform MIN MAX | delay normal MEAN SD (also irq delay) */
static int delay_times(struct pctx *c, struct rule_state *st)
{
	static const char forms[] = "TIME, uniform MIN MAX or normal MEAN SD";
	static const char *const what[2][2] = { { "MIN", "MAX" }, { "MEAN", "SD" } };
	struct fault_rule *r = st->r;
	const char *form;
	struct tok t, x[2];
	int rc;

	rc = want_time(c, &t, fault_kind_name(r->kind), forms);
	if (rc)
		return rc;
	if (!tok_is(&t, "uniform") && !tok_is(&t, "normal")) {
		r->dist = FAULT_DIST_FIXED;
		rc = time_val(c, &t, "delay", DELAY_MAX_NS, &r->a_ns);
		if (!rc && !r->a_ns)
			rc = perr(c, t.col, "delay 0 does nothing, expected a time above 0");
		return rc;
	}
	r->dist = tok_is(&t, "uniform") ? FAULT_DIST_UNIFORM : FAULT_DIST_NORMAL;
	form = r->dist == FAULT_DIST_UNIFORM ? "uniform MIN MAX" : "normal MEAN SD";
	for (int i = 0; i < 2; i++) {
		rc = want_time(c, &x[i], form, "two times");
		if (!rc)
			rc = time_val(c, &x[i], what[r->dist == FAULT_DIST_NORMAL][i], DELAY_MAX_NS,
				      i ? &r->b_ns : &r->a_ns);
		if (rc)
			return rc;
	}
	if (r->dist == FAULT_DIST_UNIFORM && r->a_ns > r->b_ns)
		return perr(c, x[0].col, "uniform MIN above MAX, expected MIN <= MAX");
	if (r->dist == FAULT_DIST_UNIFORM && !r->b_ns)
		return perr(c, x[1].col, "uniform MAX 0 does nothing, expected a time above 0");
	st->sd_col = x[1].col;
	return 0;
}

static int parse_action(struct pctx *c, struct rule_state *st, const struct tok *first)
{
	static const char actions[] = "corrupt, truncate, drop, duplicate, delay, reorder, io, irq "
				      "or seed";
	char q[QUOTE_MAX + 4], name[24]; /* "irq spurious" and room */
	bool two = tok_is(first, "io") || tok_is(first, "irq");
	struct tok sub = *first;

	if (two && !next_tok(c, &sub)) {
		sub.col = end_col(c);
		sub.n = 0;
	}
	if (two && (!sub.n || memchr(sub.s, '=', sub.n)))
		return perr(c, sub.col, "%.*s needs a fault, %s",
			    (int)first->n, first->s,
			    tok_is(first, "io") ? "expected eio, short or enospc"
						: "expected drop, delay or spurious");
	if ((two ? first->n + 1 + sub.n : first->n) < sizeof(name)) {
		snprintf(name, sizeof(name), "%.*s%s%.*s", (int)first->n, first->s, two ? " " : "",
			 two ? (int)sub.n : 0, sub.s);
		for (int k = 0; k < FAULT_KIND_COUNT; k++) {
			if (!strcmp(name, kind_names[k])) {
				st->r->kind = (enum fault_kind)k;
				if (k == FAULT_DELAY || k == FAULT_IRQ_DELAY)
					return delay_times(c, st);
				return 0;
			}
		}
	}
	if (two)
		return perr(c, sub.col, "unknown %.*s fault '%s', %s", (int)first->n, first->s,
			    quote(sub.s, sub.n, q),
			    tok_is(first, "io") ? "expected eio, short or enospc"
						: "expected drop, delay or spurious");
	return perr(c, first->col, "unknown action '%s', expected %s", quote(first->s, first->n, q),
		    actions);
}

/* ---- keys: one table; each entry says which actions it applies to ----- */

/* Devices by number (abi.h's table); a plan names every one but the monitor. */
#define PLAN_DEV_(name, n, word, vec) [n] = n == COOP_DEV_MONITOR ? NULL : word,
static const char *const dev_names[COOP_DEV_COUNT] = { COOP_DEVICES(PLAN_DEV_) };
#undef PLAN_DEV_

/* Message types by device, as abi.h numbers them (plural for describe). */
static const struct {
	int device, type;
	const char *name, *plural;
} type_names[] = {
	{ COOP_DEV_COCON, COOP_COCON_WRITE, "write", "write messages" },
	{ COOP_DEV_COCON, COOP_COCON_LOG, "log", "log messages" },
	{ COOP_DEV_COCON, COOP_COCON_INPUT, "input", "input messages" },
	{ COOP_DEV_COCON, COOP_COCON_EOF, "eof", "eof messages" },
	{ COOP_DEV_COBD, COOP_COBD_REQUEST, "request", "requests" },
	{ COOP_DEV_COBD, COOP_COBD_REPLY, "reply", "replies" },
	{ COOP_DEV_CONET, COOP_CONET_FRAME, "frame", "frames" },
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

/* vIRQ vectors by number: the timer's, and each device's by its name. */
#define PLAN_VEC_(name, n, word, vec) [vec] = vec ? word : NULL,
static const char *const vec_names[] = { [COOP_VEC_TIMER] = "timer", COOP_DEVICES(PLAN_VEC_) };
#undef PLAN_VEC_
#define NVECNAMES (sizeof(vec_names) / sizeof(vec_names[0]))

/* Look a word up in a table of names indexed by value; -1 if absent. */
static int lookup(const struct tok *t, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (names[i] && tok_is(t, names[i]))
			return (int)i;
	return -1;
}

static int key_device(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	char q[QUOTE_MAX + 4];
	int d = lookup(v, dev_names, COOP_DEV_COUNT);

	if (d < 0)
		return perr(c, v->col, "unknown device '%s', expected cocon, cobd or conet",
			    quote(v->s, v->n, q));
	if ((K_IO & (1u << st->r->kind)) && d != COOP_DEV_COBD)
		return perr(c, v->col, "io faults act on disk images, expected device=cobd");
	st->r->device = d;
	return 0;
}

static int key_unit(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	uint64_t u;
	int rc = num(c, v, "unit", 0, COOP_BOOT_MAX_DEVS - 1, &u);

	st->r->unit = (int)u;
	return rc;
}

static int key_dir(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	static const char *const dirs[] = { "to_host", "to_guest" };
	char q[QUOTE_MAX + 4];

	st->r->dir = tok_is(v, "both") ? -1 : lookup(v, dirs, 2);
	if (st->r->dir < 0 && !tok_is(v, "both"))
		return perr(c, v->col, "unknown direction '%s', expected to_host, to_guest or both",
			    quote(v->s, v->n, q));
	return 0;
}

/* type=N now; type=NAME once the whole line (and so device=) is read. */
static int key_type(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	uint64_t t;
	int rc = 0;

	st->type = *v;
	st->has_type = true;
	st->type_named = v->s[0] < '0' || v->s[0] > '9';
	if (!st->type_named) {
		rc = num(c, v, "type", 0, UINT16_MAX, &t);
		st->r->type = (int)t;
	}
	return rc;
}

/* N or A-B: split at the one '-'; B may be empty when open_end says so. */
static int range(struct pctx *c, const struct tok *v, const char *what, bool open_end,
		 struct tok *a, struct tok *b)
{
	const char *dash = memchr(v->s, '-', v->n);

	*a = *v;
	*b = (struct tok){ v->s + v->n, 0, v->col + (unsigned int)v->n };
	if (!dash)
		return 0;
	a->n = (size_t)(dash - v->s);
	b->s = dash + 1;
	b->n = v->n - a->n - 1;
	b->col = v->col + (unsigned int)a->n + 1;
	if (!a->n || (!b->n && !open_end) || memchr(b->s, '-', b->n))
		return perr(c, v->col, "bad %s range, expected N or A-B%s", what,
			    open_end ? " (B may be empty)" : "");
	return 0;
}

static int key_seq(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	struct tok a, b;
	int rc = range(c, v, "seq", false, &a, &b);

	if (!rc)
		rc = num(c, &a, "seq", 0, UINT64_MAX, &st->r->seq_lo);
	st->r->seq_hi = st->r->seq_lo;
	if (!rc && b.n)
		rc = num(c, &b, "seq", 0, UINT64_MAX, &st->r->seq_hi);
	if (!rc && st->r->seq_lo > st->r->seq_hi)
		rc = perr(c, v->col, "bad seq range (A above B), expected A <= B");
	return rc;
}

/* The block operations a plan names (op=...) and the fault log prints: cobd's I/O ones. */
static const char *const io_ops[] = {
	[COOP_COBD_READ] = "read", [COOP_COBD_WRITE] = "write", [COOP_COBD_FLUSH] = "flush"
};

static int key_op(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	char q[QUOTE_MAX + 4];
	int op = lookup(v, io_ops, sizeof(io_ops) / sizeof(io_ops[0]));

	if (op < 0)
		return perr(c, v->col, "unknown op '%s', expected read, write or flush",
			    quote(v->s, v->n, q));
	/* ENOSPC is what a write into a full file system gets; a read never does. */
	if (st->r->kind == FAULT_IO_ENOSPC && op != COOP_COBD_WRITE)
		return perr(c, v->col, "io enospc with op=%s, expected op=write (only writes "
				       "run out of space)", io_ops[op]);
	/* A flush moves no bytes, so it cannot stop half way. */
	if (st->r->kind == FAULT_IO_SHORT && op == COOP_COBD_FLUSH)
		return perr(c, v->col, "io short with op=flush, expected op=read or op=write");
	st->r->op = op;
	return 0;
}

static int key_vector(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	uint64_t n;
	int rc;

	st->r->vector = lookup(v, vec_names, NVECNAMES);
	if (st->r->vector >= 0)
		return 0;
	if (v->s[0] < '0' || v->s[0] > '9') {
		char q[QUOTE_MAX + 4];

		return perr(c, v->col, "unknown vector '%s', expected 32..255, timer, cocon, cobd "
				       "or conet", quote(v->s, v->n, q));
	}
	/* 0..31 are the guest's exceptions: the host never raises them. */
	rc = num(c, v, "vector", 32, COOP_VEC_COUNT - 1, &n);
	st->r->vector = (int)n;
	return rc;
}

/* P% (0 < P <= 100, decimals allowed) or a fraction 0 < P <= 1. */
static bool scan_prob(const char *s, size_t n, double *p)
{
	bool pct = n && s[n - 1] == '%';
	size_t i = 0, len = n - pct;
	double v = 0, scale = 1;

	while (i < len && s[i] >= '0' && s[i] <= '9' && i < 12)
		v = v * 10 + (s[i++] - '0');
	if (!i)
		return false;
	if (i < len && s[i] == '.') {
		size_t f = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9' && i - f < 12) {
			scale /= 10;
			v += (s[i++] - '0') * scale;
		}
		if (i == f)
			return false;
	}
	if (i != len)
		return false;
	*p = pct ? v / 100 : v;
	return *p > 0 && *p <= 1;
}

static int key_prob(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	char q[QUOTE_MAX + 4];

	if (st->r->every)
		return perr(c, st->key_col, "both prob and every, expected one of them");
	if (!scan_prob(v->s, v->n, &st->r->prob))
		return perr(c, v->col, "bad probability '%s', expected 0 < P <= 100%% (e.g. 1%%, "
				       "0.5%%) or a fraction 0 < P <= 1", quote(v->s, v->n, q));
	return 0;
}

static int key_every(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	if (st->r->prob > 0)
		return perr(c, st->key_col, "both prob and every, expected one of them");
	return num(c, v, "every", 1, UINT64_MAX, &st->r->every);
}

/* window=A-B counts matching events (1-based); window=T1-T2 is in time. */
static int key_window(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	struct fault_rule *r = st->r;
	struct tok a, b;
	bool timed;
	int rc = range(c, v, "window", true, &a, &b);

	if (!rc && a.n == v->n)
		rc = perr(c, v->col, "bad window, expected A-B or T1-T2 (e.g. 100-200, 1s-5s)");
	if (rc)
		return rc;
	timed = a.s[a.n - 1] > '9' || (b.n && b.s[b.n - 1] > '9');
	if (timed) {
		rc = time_val(c, &a, "window start", UINT64_MAX, &r->win_ns_lo);
		if (!rc && b.n)
			rc = time_val(c, &b, "window end", UINT64_MAX, &r->win_ns_hi);
		if (!rc && r->win_ns_lo > r->win_ns_hi)
			rc = perr(c, v->col, "bad window (start after end), expected T1 <= T2");
		return rc;
	}
	rc = num(c, &a, "window start", 1, UINT64_MAX, &r->win_lo);
	if (!rc && b.n)
		rc = num(c, &b, "window end", 1, UINT64_MAX, &r->win_hi);
	if (!rc && r->win_lo > r->win_hi)
		rc = perr(c, v->col, "bad window (start after end), expected A <= B");
	return rc;
}

static int key_bits(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	uint64_t n;
	int rc = num(c, v, "bits", 1, 64, &n);

	st->r->bits = (uint32_t)n;
	return rc;
}

static int key_keep(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	uint64_t n;
	/* keeping the largest payload whole would never cut anything */
	int rc = num(c, v, "keep", 0, COOP_MSG_MAX_PAYLOAD - 1, &n);

	st->r->keep = (uint32_t)n;
	return rc;
}

static int key_gap(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	uint64_t n;
	int rc = num(c, v, "gap", 1, GAP_MAX, &n);

	st->r->gap = (uint32_t)n;
	return rc;
}

static int key_max(struct pctx *c, struct rule_state *st, const struct tok *v)
{
	if (st->r->dist != FAULT_DIST_NORMAL)
		return perr(c, st->key_col, "max= on a %s delay, expected it only with normal MEAN SD",
			    st->r->dist == FAULT_DIST_FIXED ? "fixed" : "uniform");
	st->has_max = true;
	st->max_col = v->col;
	return time_val(c, v, "max", DELAY_MAX_NS, &st->r->max_ns);
}

static const struct key_def {
	const char *name;
	unsigned int kinds; /* actions it applies to: BIT(kind)s */
	int (*parse)(struct pctx *c, struct rule_state *st, const struct tok *v);
} keys[] = {
	{ "device", K_MSG | K_IO, key_device },
	{ "unit", K_MSG | K_IO, key_unit },
	{ "dir", K_MSG, key_dir },
	{ "type", K_MSG, key_type },
	{ "seq", K_MSG | K_IO, key_seq },
	{ "op", K_IO, key_op },
	{ "vector", K_IRQ, key_vector },
	{ "prob", K_ALL, key_prob },
	{ "every", K_ALL, key_every },
	{ "window", K_ALL, key_window },
	{ "bits", BIT(CORRUPT), key_bits },
	{ "keep", BIT(TRUNCATE), key_keep },
	{ "gap", BIT(REORDER), key_gap },
	{ "max", BIT(DELAY) | BIT(IRQ_DELAY), key_max },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= sizeof(((struct rule_state *)0)->keycol) / sizeof(unsigned int),
	       "rule_state.keycol has a slot per key");

/* "device, unit, dir" - the keys an action takes, for "expected ..." */
static const char *keys_for(enum fault_kind kind, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].kinds & (1u << kind))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s=", n ? ", " : "",
					      keys[i].name);
	return buf;
}

static int parse_key(struct pctx *c, struct rule_state *st, const struct tok *t)
{
	const char *eq = memchr(t->s, '=', t->n);
	struct tok k = { t->s, eq ? (size_t)(eq - t->s) : t->n, t->col }, v;
	enum fault_kind kind = st->r->kind;
	char q[QUOTE_MAX + 4], list[256];
	size_t i;

	for (i = 0; i < NKEYS && !tok_is(&k, keys[i].name); i++)
		;
	if (!eq && i < NKEYS)
		return perr(c, t->col, "key '%s' without a value, expected %s=VALUE", keys[i].name,
			    keys[i].name);
	if (!eq)
		return perr(c, t->col, "unexpected '%s' after %s, expected key=value selectors",
			    quote(t->s, t->n, q), fault_kind_name(kind));
	if (i == NKEYS)
		return perr(c, t->col, "unknown key '%s', expected one of %s",
			    quote(k.s, k.n, q), keys_for(kind, list, sizeof(list)));
	if (!(keys[i].kinds & (1u << kind)))
		return perr(c, t->col, "key '%s' does not apply to %s rules, expected one of %s",
			    keys[i].name, fault_kind_name(kind), keys_for(kind, list, sizeof(list)));
	if (st->seen & (1u << i))
		return perr(c, t->col, "duplicate key '%s' (first at column %u), expected each key "
				       "at most once", keys[i].name, st->keycol[i]);
	st->seen |= 1u << i;
	st->keycol[i] = st->key_col = k.col;
	v = (struct tok){ eq + 1, t->n - k.n - 1, t->col + (unsigned int)k.n + 1 };
	if (!v.n)
		return perr(c, v.col, "key '%s' with an empty value, expected %s=VALUE",
			    keys[i].name, keys[i].name);
	return keys[i].parse(c, st, &v);
}

/* ---- a whole rule ------------------------------------------------------ */

static void rule_defaults(struct fault_rule *r, unsigned int line)
{
	*r = (struct fault_rule){
		.line = line, .device = -1, .unit = -1, .dir = -1, .type = -1, .op = -1,
		.vector = -1, .seq_lo = 0, .seq_hi = UINT64_MAX, .win_lo = 1,
		.win_hi = UINT64_MAX, .win_ns_lo = 0, .win_ns_hi = UINT64_MAX, .bits = 1,
		.gap = 1,
	};
}

/* type= against device=: a name needs the device, a number must be one of its. */
static int check_type(struct pctx *c, struct rule_state *st)
{
	struct fault_rule *r = st->r;
	char q[QUOTE_MAX + 4], list[64] = "";
	size_t n = 0;

	if (!st->has_type)
		return 0;
	if (r->device < 0 && st->type_named)
		return perr(c, st->type.col, "type '%s' needs a device, expected device= with it "
					     "(or a type number)", quote(st->type.s, st->type.n, q));
	if (r->device < 0)
		return 0; /* a number, on any device */
	for (size_t i = 0; i < NTYPES; i++) {
		if (type_names[i].device != r->device)
			continue;
		if (st->type_named ? tok_is(&st->type, type_names[i].name)
				   : r->type == type_names[i].type) {
			r->type = type_names[i].type;
			return 0;
		}
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
				      n ? ", " : "", type_names[i].name);
	}
	return perr(c, st->type.col, "type '%s' is not a %s message type, expected %s",
		    quote(st->type.s, st->type.n, q), dev_names[r->device], list);
}

/* What only the whole line can tell: type vs device, defaults, delay bounds. */
static int finish_rule(struct pctx *c, struct rule_state *st)
{
	struct fault_rule *r = st->r;
	int rc = check_type(c, st);

	if (rc)
		return rc;
	/* io faults happen in the cobd backend; ENOSPC only on its writes. */
	if (K_IO & (1u << r->kind))
		r->device = COOP_DEV_COBD;
	if (r->kind == FAULT_IO_ENOSPC)
		r->op = COOP_COBD_WRITE;
	if (r->dist == FAULT_DIST_NORMAL && !st->has_max) {
		/* 4 SD covers all but 0.003% of a normal distribution */
		if (r->b_ns > (DELAY_MAX_NS - r->a_ns) / 4)
			return perr(c, st->sd_col, "MEAN+4*SD above 60s, expected a smaller SD or "
						   "max=TIME");
		r->max_ns = r->a_ns + 4 * r->b_ns;
	}
	if (r->dist == FAULT_DIST_NORMAL && r->max_ns < r->a_ns)
		return perr(c, st->max_col, "max below MEAN, expected max >= MEAN");
	return 0;
}

static int parse_rule(struct pctx *c, struct fault_plan *plan, const struct tok *first)
{
	struct fault_rule r;
	struct rule_state st = { .r = &r };
	struct tok t;
	int rc;

	if (plan->nrules == FAULT_MAX_RULES)
		return perr(c, first->col, "too many rules, expected at most %d", FAULT_MAX_RULES);
	rule_defaults(&r, c->line);
	rc = parse_action(c, &st, first);
	while (!rc && next_tok(c, &t))
		rc = parse_key(c, &st, &t);
	if (!rc)
		rc = finish_rule(c, &st);
	if (!rc)
		plan->rules[plan->nrules++] = r;
	return rc;
}

static int parse_seed(struct pctx *c, struct fault_plan *plan, const struct tok *first,
		      unsigned int *seed_line)
{
	char q[QUOTE_MAX + 4];
	struct tok t;

	if (plan->has_seed)
		return perr(c, first->col, "seed given twice (first on line %u), expected at most "
					   "one seed", *seed_line);
	if (!next_tok(c, &t))
		return perr(c, end_col(c), "seed without a number, expected seed N");
	if (!scan_u64(t.s, t.n, &plan->seed))
		return perr(c, t.col, "bad seed '%s', expected a decimal integer",
			    quote(t.s, t.n, q));
	if (next_tok(c, &t))
		return perr(c, t.col, "unexpected '%s' after seed, expected seed N alone",
			    quote(t.s, t.n, q));
	plan->has_seed = true;
	*seed_line = c->line;
	return 0;
}

/* One line: cut the comment, refuse control bytes, then seed or a rule. */
static int parse_line(struct pctx *c, struct fault_plan *plan, unsigned int *seed_line)
{
	const char *hash = memchr(c->lp, '#', c->llen);
	struct tok first;

	if (c->llen > PLAN_LINE_MAX)
		return perr(c, PLAN_LINE_MAX + 1, "line longer than %d characters, expected a "
						  "shorter line", PLAN_LINE_MAX);
	if (hash)
		c->llen = (size_t)(hash - c->lp);
	for (size_t i = 0; i < c->llen; i++) {
		unsigned char ch = (unsigned char)c->lp[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return perr(c, (unsigned int)i + 1, "control character 0x%02x, expected "
							    "text", ch);
	}
	c->pos = 0;
	if (!next_tok(c, &first))
		return 0;
	if (tok_is(&first, "seed"))
		return parse_seed(c, plan, &first, seed_line);
	return parse_rule(c, plan, &first);
}

int fault_plan_parse(const char *text, size_t len, const char *path, struct fault_plan *plan,
		     char *err, size_t errlen)
{
	struct fault_plan *tmp = calloc(1, sizeof(*tmp)); /* nothing visible until it all parsed */
	struct pctx c = { .path = path ? path : "<plan>", .err = err, .errlen = errlen };
	unsigned int seed_line = 0;
	size_t off = 0;
	int rc = 0;

	if (!tmp) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", c.path);
		return -ENOMEM;
	}
	tmp->seed = 1;
	snprintf(tmp->path, sizeof(tmp->path), "%s", c.path);
	for (c.line = 1; !rc && off < len; c.line++) {
		const char *nl = memchr(text + off, '\n', len - off);

		c.lp = text + off;
		c.llen = nl ? (size_t)(nl - c.lp) : len - off;
		off += c.llen + (nl != NULL);
		if (c.llen && c.lp[c.llen - 1] == '\r') /* a plan written on Windows */
			c.llen--;
		rc = parse_line(&c, tmp, &seed_line);
	}
	if (!rc && !tmp->nrules) {
		c.line = 1;
		rc = perr(&c, 1, "no rules, expected at least one rule (e.g. drop prob=1%%)");
	}
	if (!rc)
		*plan = *tmp;
	free(tmp);
	return rc;
}

int fault_plan_load(const char *path, struct fault_plan *plan, char *err, size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb))
		rc = -errno;
	else if (S_ISDIR(sb.st_mode))
		rc = -EISDIR;
	else if (sb.st_size > PLAN_FILE_MAX)
		rc = -EFBIG;
	else if (!(buf = malloc(PLAN_FILE_MAX + 1)))
		rc = -ENOMEM;
	/* read to EOF (not st_size): a pipe or /proc file says 0 */
	while (!rc && (size_t)got <= PLAN_FILE_MAX) {
		ssize_t n = read(fd, buf + got, PLAN_FILE_MAX + 1 - (size_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		got += n;
	}
	if (!rc && (size_t)got > PLAN_FILE_MAX)
		rc = -EFBIG;
	if (fd >= 0)
		close(fd);
	if (rc && err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s%s", path, strerror(-rc),
			 rc == -EFBIG ? " (a plan is at most 1 MiB)" : "");
	if (!rc)
		rc = fault_plan_parse(buf, (size_t)got, path, plan, err, errlen);
	free(buf);
	return rc;
}

/* ---- the fault log's view of an event --------------------------------- */

static const char *name_or(const char *const *names, size_t count, int v, char *buf, size_t len)
{
	if (v >= 0 && (size_t)v < count && names[v])
		return names[v];
	snprintf(buf, len, "%d", v);
	return buf;
}

/* "device=cobd unit=0 dir=to_guest type=reply seq=5" and the like. */
void fault_event_format(const struct fault_event *ev, char *buf, size_t len)
{
	static const char *const dirs[] = { "to_host", "to_guest" };
	char b1[16], b2[16];
	const char *type = NULL;

	switch (ev->cls) {
	case FAULT_CLASS_MSG:
		for (size_t i = 0; i < NTYPES; i++)
			if (type_names[i].device == ev->device && type_names[i].type == ev->type)
				type = type_names[i].name;
		if (!type)
			snprintf(b2, sizeof(b2), "%d", ev->type), type = b2;
		snprintf(buf, len, "device=%s unit=%d dir=%s type=%s seq=%llu",
			 name_or(dev_names, COOP_DEV_COUNT, ev->device, b1, sizeof(b1)), ev->unit,
			 ev->dir ? dirs[1] : dirs[0], type, (unsigned long long)ev->seq);
		break;
	case FAULT_CLASS_IO:
		snprintf(buf, len, "device=%s unit=%d op=%s seq=%llu",
			 name_or(dev_names, COOP_DEV_COUNT, ev->device, b1, sizeof(b1)), ev->unit,
			 name_or(io_ops, sizeof(io_ops) / sizeof(io_ops[0]), ev->op, b2, sizeof(b2)),
			 (unsigned long long)ev->seq);
		break;
	default:
		snprintf(buf, len, "vector=%s n=%llu",
			 name_or(vec_names, NVECNAMES, ev->vector, b1, sizeof(b1)),
			 (unsigned long long)ev->seq);
		break;
	}
}

/* ---- describe: what `coop faults check` prints ------------------------- */

/* A time in the largest unit that keeps it exact: 2ms, 1500us, 0s. */
static const char *fmt_time(uint64_t ns, char buf[32])
{
	size_t i = sizeof(time_units) / sizeof(time_units[0]);

	while (--i && (ns % time_units[i].ns))
		;
	snprintf(buf, 32, "%llu%s", (unsigned long long)(ns / time_units[i].ns),
		 time_units[i].unit);
	return buf;
}

static const char *ordinal(uint64_t n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void describe_delay(const struct fault_rule *r, FILE *out)
{
	char a[32], b[32], m[32];

	fmt_time(r->a_ns, a);
	fmt_time(r->b_ns, b);
	if (r->dist == FAULT_DIST_FIXED)
		fprintf(out, "%s", a);
	else if (r->dist == FAULT_DIST_UNIFORM)
		fprintf(out, "uniformly %s..%s", a, b);
	else
		fprintf(out, "normally (mean %s, sd %s, at most %s)", a, b, fmt_time(r->max_ns, m));
}

static void describe_seq(const struct fault_rule *r, FILE *out)
{
	const char *what = r->device == COOP_DEV_COBD ? "request id" : "seq";

	if (r->seq_lo == 0 && r->seq_hi == UINT64_MAX)
		return;
	if (r->seq_lo == r->seq_hi)
		fprintf(out, " with %s %llu", what, (unsigned long long)r->seq_lo);
	else if (r->seq_hi == UINT64_MAX)
		fprintf(out, " with %s %llu and above", what, (unsigned long long)r->seq_lo);
	else
		fprintf(out, " with %s %llu..%llu", what, (unsigned long long)r->seq_lo,
			(unsigned long long)r->seq_hi);
}

/* "cobd unit 1 replies to_guest with request id 5..9" */
static void describe_messages(const struct fault_rule *r, FILE *out)
{
	const char *noun = NULL;

	for (size_t i = 0; i < NTYPES; i++)
		if (type_names[i].device == r->device && type_names[i].type == r->type)
			noun = type_names[i].plural;
	if (r->device >= 0)
		fprintf(out, "%s ", dev_names[r->device]);
	else if (r->type < 0)
		fputs("cobd and conet ", out); /* cocon only when named: see selects() */
	if (r->device >= 0 && r->unit >= 0)
		fprintf(out, "unit %d ", r->unit);
	if (noun)
		fputs(noun, out);
	else if (r->type >= 0)
		fprintf(out, "type %d messages", r->type);
	else
		fputs("messages", out);
	if (r->device < 0 && r->unit >= 0)
		fprintf(out, " of unit %d", r->unit);
	if (r->dir >= 0)
		fputs(r->dir ? " to_guest" : " to_host", out);
	describe_seq(r, out);
}

/* "cobd unit 0 image writes" */
static void describe_io(const struct fault_rule *r, FILE *out)
{
	static const char *const ops[] = {
		[COOP_COBD_READ] = "reads", [COOP_COBD_WRITE] = "writes",
		[COOP_COBD_FLUSH] = "flushes"
	};

	fputs("cobd ", out);
	if (r->unit >= 0)
		fprintf(out, "unit %d ", r->unit);
	if (r->op > 0 && r->op <= COOP_COBD_FLUSH)
		fprintf(out, "image %s", ops[r->op]);
	else /* a flush moves no bytes: short applies to reads and writes only */
		fputs(r->kind == FAULT_IO_SHORT ? "image reads and writes" : "image I/O", out);
	describe_seq(r, out);
}

static void describe_vector(const struct fault_rule *r, FILE *out)
{
	if (r->vector < 0)
		fputs("vIRQs on any vector", out);
	else if ((size_t)r->vector < NVECNAMES && vec_names[r->vector])
		fprintf(out, "vIRQs on vector %d (%s)", r->vector, vec_names[r->vector]);
	else
		fprintf(out, "vIRQs on vector %d", r->vector);
}

/* The action in words, around what it selects. */
static void describe_action(const struct fault_rule *r, FILE *out)
{
	switch (r->kind) {
	case FAULT_CORRUPT:
		fprintf(out, "corrupt %u bit%s of ", r->bits, plural(r->bits));
		describe_messages(r, out);
		break;
	case FAULT_TRUNCATE:
		fputs("truncate ", out);
		describe_messages(r, out);
		fprintf(out, " to %u payload byte%s", r->keep, plural(r->keep));
		break;
	case FAULT_DROP:
	case FAULT_DUPLICATE:
		fprintf(out, "%s ", fault_kind_name(r->kind));
		describe_messages(r, out);
		break;
	case FAULT_DELAY:
		fputs("delay ", out);
		describe_delay(r, out);
		fputs(" of ", out);
		describe_messages(r, out);
		break;
	case FAULT_REORDER:
		fputs("reorder ", out);
		describe_messages(r, out);
		fprintf(out, " behind %u later message%s", r->gap, plural(r->gap));
		break;
	case FAULT_IO_EIO:
	case FAULT_IO_ENOSPC:
		fputs("fail ", out);
		describe_io(r, out);
		fputs(r->kind == FAULT_IO_EIO ? " with EIO" : " with ENOSPC", out);
		break;
	case FAULT_IO_SHORT:
		fputs("cut short ", out);
		describe_io(r, out);
		break;
	case FAULT_IRQ_DROP:
		fputs("drop ", out);
		describe_vector(r, out);
		break;
	case FAULT_IRQ_DELAY:
		fputs("delay ", out);
		describe_delay(r, out);
		fputs(" of ", out);
		describe_vector(r, out);
		break;
	case FAULT_IRQ_SPURIOUS:
		fputs("raise spurious ", out);
		describe_vector(r, out);
		break;
	case FAULT_KIND_COUNT:
		break;
	}
}

/* ", with probability 1%, only matching events 100..200" */
static void describe_when(const struct fault_rule *r, FILE *out)
{
	char a[32], b[32];

	if (r->prob > 0)
		fprintf(out, ", with probability %g%%", r->prob * 100);
	else if (r->every > 1)
		fprintf(out, ", every %llu%s", (unsigned long long)r->every, ordinal(r->every));
	else
		fputs(", every time", out);
	if (r->win_hi != UINT64_MAX)
		fprintf(out, ", only matching events %llu..%llu", (unsigned long long)r->win_lo,
			(unsigned long long)r->win_hi);
	else if (r->win_lo != 1)
		fprintf(out, ", only from the %llu%s matching event on",
			(unsigned long long)r->win_lo, ordinal(r->win_lo));
	if (r->win_ns_hi != UINT64_MAX)
		fprintf(out, ", only between %s and %s after boot", fmt_time(r->win_ns_lo, a),
			fmt_time(r->win_ns_hi, b));
	else if (r->win_ns_lo)
		fprintf(out, ", only from %s after boot on", fmt_time(r->win_ns_lo, a));
}

void fault_plan_describe(const struct fault_plan *plan, FILE *out)
{
	fprintf(out, "plan %s: seed %llu%s, %u rule%s\n", plan->path,
		(unsigned long long)plan->seed, plan->has_seed ? "" : " (default)", plan->nrules,
		plural(plan->nrules));
	for (unsigned int i = 0; i < plan->nrules && i < FAULT_MAX_RULES; i++) {
		const struct fault_rule *r = &plan->rules[i];

		fprintf(out, "rule %u (line %u): ", i + 1, r->line);
		describe_action(r, out);
		describe_when(r, out);
		fputc('\n', out);
	}
}
