/* SPDX-License-Identifier: MIT */
/*
 * events.h - the numbers the `coop` tracepoints carry besides the ABI's
 * own (COOP_OP_*, COOP_DEV_*): switch reasons that are not operations,
 * directions, interrupt sources, vIRQ delivery modes and guest ends.  The
 * provider (coop-tp.h) names every value, so that traces read as words.
 */
#ifndef COOP_TRACE_EVENTS_H
#define COOP_TRACE_EVENTS_H

/* coop:switch_out reasons: COOP_OP_* for an operation the guest left, or: */
#define COOP_TRACE_REASON_FORWARD 64 /* a host interrupt hit guest code */
#define COOP_TRACE_REASON_FAULT 65   /* guest fault or watchdog: the guest ends */

/* Which way: coop:switch_*, coop:message. */
#define COOP_TRACE_TO_HOST 0  /* guest -> host */
#define COOP_TRACE_TO_GUEST 1 /* host -> guest */

/* coop:irq_forward sources (the host "hardware interrupt"). */
#define COOP_TRACE_IRQ_TICK 0     /* the guest's tick timer */
#define COOP_TRACE_IRQ_IO 1       /* a device fd became readable */
#define COOP_TRACE_IRQ_WATCHDOG 2 /* the host's 100 ms look at the guest */
#define COOP_TRACE_IRQ_STOP 3     /* SIGINT/SIGTERM/SIGHUP: coop is asked to stop */

/* coop:virq_deliver modes (abi.h, struct coop_virq_state). */
#define COOP_TRACE_VIRQ_ASYNC 0 /* pushed onto interrupted guest code */
#define COOP_TRACE_VIRQ_SYNC 1  /* taken by the guest after IRQ_ENABLE */

/* coop:guest_crash kinds: every way a guest ends but powering off. */
#define COOP_TRACE_END_FAULT 0        /* SIGSEGV, SIGBUS, SIGILL, SIGFPE */
#define COOP_TRACE_END_HANG 1         /* the watchdog */
#define COOP_TRACE_END_PANIC 2        /* the guest called panic() */
#define COOP_TRACE_END_MISBEHAVIOUR 3 /* the host refused something it did */
#define COOP_TRACE_END_REFUSED 4      /* ABI mismatch at the handshake */
#define COOP_TRACE_END_INTERRUPTED 5  /* coop got SIGINT/SIGTERM/SIGHUP */

#endif /* COOP_TRACE_EVENTS_H */
