/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coop_trace.h - the module's tracepoints, system "coop": the world switch
 * (switch_in, switch_out), interrupt forwarding (irq_forward) and vIRQ
 * delivery (virq_deliver), with the names and fields of the user
 * backend's LTTng events (trace/coop-tp.h).  Read them with ftrace:
 *   echo 1 > /sys/kernel/tracing/events/coop/enable; cat /sys/kernel/tracing/trace
 * or with LTTng's kernel tracer (lttng enable-event -k 'coop:*').
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM coop

#if !defined(COOP_KMOD_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define COOP_KMOD_TRACE_H

#include <linux/tracepoint.h>

#include <coop/abi.h>
#include <coop/trace_values.h>

/*
 * Values by the words of their tables (abi.h, coop/trace_values.h), as
 * the user backend's LTTng events name them.  __print_symbolic appends
 * its own end after a comma: each list ends with a value no table uses.
 */
#define COOP_KT_SYM3_(name, n, word) { n, word },
#define coop_show_reason(r) \
	__print_symbolic(r, COOP_OPS(COOP_KT_SYM3_) COOP_TRACE_REASONS(COOP_KT_SYM3_) { 255, "?" })
#define coop_show_irq_source(s) \
	__print_symbolic(s, COOP_TRACE_IRQ_SOURCES(COOP_KT_SYM3_) { 255, "?" })
#define coop_show_virq_mode(m) \
	__print_symbolic(m, COOP_TRACE_VIRQ_MODES(COOP_KT_SYM3_) { 255, "?" })

/* The guest has switched out to the host; guest_cycles since switch_in. */
TRACE_EVENT(switch_out,
	TP_PROTO(u32 reason, u64 op_seq, u64 tsc, u64 guest_cycles),
	TP_ARGS(reason, op_seq, tsc, guest_cycles),
	TP_STRUCT__entry(
		__field(u8, direction)
		__field(u8, reason)
		__field(u64, op_seq)
		__field(u64, tsc)
		__field(u64, guest_cycles)
	),
	TP_fast_assign(
		__entry->direction = COOP_TRACE_TO_HOST;
		__entry->reason = reason;
		__entry->op_seq = op_seq;
		__entry->tsc = tsc;
		__entry->guest_cycles = guest_cycles;
	),
	TP_printk("direction=TO_HOST reason=%s op_seq=%llu tsc=%llu guest_cycles=%llu",
		  coop_show_reason(__entry->reason), __entry->op_seq, __entry->tsc,
		  __entry->guest_cycles)
);

/* The host switches (back) into the guest; host_cycles since switch_out. */
TRACE_EVENT(switch_in,
	TP_PROTO(u64 tsc, u64 host_cycles, u32 vif, u32 pending),
	TP_ARGS(tsc, host_cycles, vif, pending),
	TP_STRUCT__entry(
		__field(u8, direction)
		__field(u64, tsc)
		__field(u64, host_cycles)
		__field(u8, vif)
		__field(u16, pending)
	),
	TP_fast_assign(
		__entry->direction = COOP_TRACE_TO_GUEST;
		__entry->tsc = tsc;
		__entry->host_cycles = host_cycles;
		__entry->vif = vif;
		__entry->pending = pending;
	),
	TP_printk("direction=TO_GUEST tsc=%llu host_cycles=%llu vif=%u pending=%u",
		  __entry->tsc, __entry->host_cycles, __entry->vif, __entry->pending)
);

/*
 * A host interrupt hit the guest and was replayed into the host's handler.
 * host_signal carries the host's vector (the user backend's field carries
 * the signal); latency_cycles: guest exit -> the host handler has run.
 */
TRACE_EVENT(irq_forward,
	TP_PROTO(int host_signal, u32 source, u32 guest_vector, u32 overrun, u64 latency_cycles,
		 u32 delivered),
	TP_ARGS(host_signal, source, guest_vector, overrun, latency_cycles, delivered),
	TP_STRUCT__entry(
		__field(int, host_signal)
		__field(u8, source)
		__field(u16, guest_vector)
		__field(u32, overrun)
		__field(u64, latency_cycles)
		__field(u16, delivered)
	),
	TP_fast_assign(
		__entry->host_signal = host_signal;
		__entry->source = source;
		__entry->guest_vector = guest_vector;
		__entry->overrun = overrun;
		__entry->latency_cycles = latency_cycles;
		__entry->delivered = delivered;
	),
	TP_printk("host_signal=%d source=%s guest_vector=%u overrun=%u latency_cycles=%llu delivered=%u",
		  __entry->host_signal,
		  coop_show_irq_source(__entry->source),
		  __entry->guest_vector, __entry->overrun, __entry->latency_cycles,
		  __entry->delivered)
);

/* Virtual interrupts handed to the guest: vector is the highest of count. */
TRACE_EVENT(virq_deliver,
	TP_PROTO(u32 vector, u32 count, u32 mode),
	TP_ARGS(vector, count, mode),
	TP_STRUCT__entry(
		__field(u16, vector)
		__field(u16, count)
		__field(u8, mode)
	),
	TP_fast_assign(
		__entry->vector = vector;
		__entry->count = count;
		__entry->mode = mode;
	),
	TP_printk("vector=%u count=%u mode=%s", __entry->vector, __entry->count,
		  coop_show_virq_mode(__entry->mode))
);

#endif /* COOP_KMOD_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE coop_trace
#include <trace/define_trace.h>
