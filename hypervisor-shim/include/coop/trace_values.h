/* SPDX-License-Identifier: MIT */
/*
 * trace_values.h - the numbers coop's tracepoints carry besides the ABI's
 * own operations, devices and cobd operations (abi.h: COOP_OPS,
 * COOP_DEVICES, COOP_COBD_OPS), one table
 * each, shared by the user-space provider (trace/coop-tp.h, LTTng-UST)
 * and the kernel module's events (backend/kmod/module/coop_trace.h,
 * ftrace), so that both name every value with the same word.
 *
 * Each table is X(NAME, number, word); COOP_TRACE_<TABLE>_NAME is the number.
 */
#ifndef COOP_TRACE_VALUES_H
#define COOP_TRACE_VALUES_H

/* coop:switch_out reasons: an operation's number (COOP_OPS), or one of these. */
#define COOP_TRACE_REASONS(X)                                                    \
	X(FORWARD, 64, "FORWARD_INTERRUPT") /* a host interrupt hit guest code */   \
	X(FAULT, 65, "GUEST_FAULT")         /* guest fault or watchdog: it ends */

/* Which way: coop:switch_*, coop:message. */
#define COOP_TRACE_DIRECTIONS(X)                        \
	X(TO_HOST, 0, "TO_HOST")   /* guest -> host */     \
	X(TO_GUEST, 1, "TO_GUEST") /* host -> guest */

/*
 * coop:message blk_op: a cobd operation's number (abi.h: COOP_COBD_OPS), or
 * this for every message that is not a well-formed cobd request or its reply.
 */
#define COOP_TRACE_BLK_OPS(X) \
	X(NONE, 0, "NONE") /* not block I/O: blk_sector and blk_bytes are 0 */

/* coop:irq_forward sources: the host's "hardware interrupt". */
#define COOP_TRACE_IRQ_SOURCES(X)                                                     \
	X(TICK, 0, "TICK")         /* user backend: the guest's tick timer */              \
	X(IO, 1, "IO")             /* user backend: a device fd became readable */         \
	X(WATCHDOG, 2, "WATCHDOG") /* user backend: the host's 100 ms look at the guest */ \
	X(STOP, 3, "STOP")         /* user backend: SIGINT/SIGTERM/SIGHUP */               \
	X(HOST, 4, "HOST")         /* kmod: a host hardware interrupt, replayed */         \
	X(NMI, 5, "NMI")           /* kmod: an NMI that hit the guest, replayed */         \
	X(NMI_SWITCH, 6, "NMI_IN_SWITCH") /* kmod: an NMI that hit the switch, replayed after it */

/* coop:virq_deliver modes (abi.h, struct coop_virq_state). */
#define COOP_TRACE_VIRQ_MODES(X)                                        \
	X(ASYNC, 0, "ASYNC") /* pushed onto interrupted guest code */       \
	X(SYNC, 1, "SYNC")   /* taken by the guest after IRQ_ENABLE */

/* coop:guest_crash kinds: every way a guest ends but powering off. */
#define COOP_TRACE_ENDS(X)                                                        \
	X(FAULT, 0, "FAULT")               /* SIGSEGV, SIGBUS, SIGILL, SIGFPE */     \
	X(HANG, 1, "HANG")                 /* the watchdog */                        \
	X(PANIC, 2, "PANIC")               /* the guest called panic() */            \
	X(MISBEHAVIOUR, 3, "MISBEHAVIOUR") /* the host refused something it did */   \
	X(REFUSED, 4, "REFUSED")           /* ABI mismatch at the handshake */       \
	X(INTERRUPTED, 5, "INTERRUPTED")   /* coop got SIGINT/SIGTERM/SIGHUP */

#if !defined(__ASSEMBLER__)
#define COOP_TRACE_ENUM_(table, name, n, word) COOP_TRACE_##table##_##name = n,
#define COOP_TRACE_REASON_(name, n, word) COOP_TRACE_ENUM_(REASON, name, n, word)
#define COOP_TRACE_DIR_(name, n, word) COOP_TRACE_##name = n,
#define COOP_TRACE_IRQ_(name, n, word) COOP_TRACE_ENUM_(IRQ, name, n, word)
#define COOP_TRACE_VIRQ_(name, n, word) COOP_TRACE_ENUM_(VIRQ, name, n, word)
#define COOP_TRACE_END_(name, n, word) COOP_TRACE_ENUM_(END, name, n, word)
#define COOP_TRACE_BLK_(name, n, word) COOP_TRACE_ENUM_(BLK, name, n, word)
enum {
	COOP_TRACE_REASONS(COOP_TRACE_REASON_)
	COOP_TRACE_DIRECTIONS(COOP_TRACE_DIR_)
	COOP_TRACE_IRQ_SOURCES(COOP_TRACE_IRQ_)
	COOP_TRACE_VIRQ_MODES(COOP_TRACE_VIRQ_)
	COOP_TRACE_ENDS(COOP_TRACE_END_)
	COOP_TRACE_BLK_OPS(COOP_TRACE_BLK_)
};
#undef COOP_TRACE_ENUM_
#undef COOP_TRACE_REASON_
#undef COOP_TRACE_DIR_
#undef COOP_TRACE_IRQ_
#undef COOP_TRACE_VIRQ_
#undef COOP_TRACE_END_
#undef COOP_TRACE_BLK_
#endif

#endif /* COOP_TRACE_VALUES_H */
