/* SPDX-License-Identifier: MIT */
/*
 * tracepoints.c - the coop:* tracepoint definitions of the coop program.
 * Dynamic linkage: the program holds only the call sites and their state
 * words; the probes come with libcoop-trace.so when --trace dlopen()s it
 * (session.c), so that without --trace no tracer is even loaded.
 */
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "trace/coop-tp.h"
