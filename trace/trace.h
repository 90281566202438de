/* SPDX-License-Identifier: MIT */
/*
 * trace.h - what host code uses of tracing: the tracepoint macros (events
 * are in coop-tp.h) and the LTTng session that `coop run --trace DIR` and
 * `coop bench` record with (session.c).
 *
 * Call sites: coop_trace(name, args...) for cheap arguments; for costly
 * ones (rdtsc, strings, loops) test coop_trace_enabled(name) and then call
 * coop_trace_do(name, args...).  Disabled, either is one load and a
 * not-taken branch.  -DCOOP_NO_TRACE compiles every call site out (bench:
 * world_switch_notrace_rtt measures the difference).
 */
#ifndef COOP_TRACE_TRACE_H
#define COOP_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <coop/trace_values.h>

#ifdef COOP_NO_TRACE
/* Swallows the arguments of a compiled-out tracepoint (no unused warnings). */
static inline void coop_trace_discard(int unused, ...)
{
}
#define coop_trace_enabled(name) 0
#define coop_trace_do(name, ...) coop_trace_discard(0, __VA_ARGS__)
#define coop_trace(name, ...)                                      \
	do {                                                       \
		if (0)                                             \
			coop_trace_discard(0, __VA_ARGS__);        \
	} while (0)
#else
#include "trace/coop-tp.h"
#define coop_trace_enabled(name) lttng_ust_tracepoint_enabled(coop, name)
#define coop_trace_do(name, ...) lttng_ust_do_tracepoint(coop, name, __VA_ARGS__)
#define coop_trace(name, ...) lttng_ust_tracepoint(coop, name, __VA_ARGS__)
#endif

/* The run report `coop run --trace DIR` writes beside the trace (coop analyze reads it). */
#define COOP_TRACE_REPORT "report.json"

/* Exit status for "the LTTng tools are missing" (as for a bad option). */
#define COOP_TRACE_EXIT_MISSING 2

/* A recording session of coop:* events (session.c). */
struct coop_trace_session {
	char name[64];         /* "coop-<pid>" */
	char dir[4096];        /* absolute output directory */
	bool active;           /* created: must be stopped and destroyed */
	pid_t sessiond;        /* the session daemon we started, or 0 */
};

/* What the tracer says about a finished session. */
struct coop_trace_stats {
	uint64_t discarded_events; /* events the ring buffers had no room for */
	uint64_t lost_packets;     /* sub-buffers lost (overwrite mode: 0 here) */
};

/*
 * Start recording coop:* into dir: find or start a session daemon, create
 * the session, enable the events and contexts, start, and load the probes
 * (libcoop-trace.so beside coop).  Returns once this process's events are
 * recorded.  0, -ENOENT when the LTTng tools are missing (err names the
 * Debian package), or another -errno; err says what failed, in one line.
 */
__attribute__((warn_unused_result)) int coop_trace_start(struct coop_trace_session *s,
							 const char *dir, char *err,
							 size_t errlen);
/*
 * Stop and destroy the session (flushing every event), read the discarded
 * count, and stop the session daemon if we started it.  Safe to call on a
 * session that is not active.  0 or -errno (err says what failed).
 */
int coop_trace_stop(struct coop_trace_session *s, struct coop_trace_stats *st, char *err,
		    size_t errlen);

#endif /* COOP_TRACE_TRACE_H */
