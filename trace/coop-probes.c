/* SPDX-License-Identifier: MIT */
/*
 * coop-probes.c - the probes of the LTTng-UST provider `coop`: built into
 * libcoop-trace.so (beside the coop program), which `coop run --trace` and
 * `coop bench` load when they record.  The events are in coop-tp.h.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "trace/coop-tp.h"
