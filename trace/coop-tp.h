/* SPDX-License-Identifier: MIT */
/*
 * coop-tp.h - the LTTng-UST provider `coop`: one event per world switch,
 * interrupt forward, vIRQ delivery, device message, back-pressure wait,
 * guest lifecycle step and injected fault.  docs/tracing.md has the table of
 * events and fields.  Host code calls them through trace/trace.h; the probes
 * live in libcoop-trace.so (coop-probes.c), loaded only by `--trace`.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER coop

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "trace/coop-tp.h"

#include <stdint.h>

#include <coop/abi.h>
#include <coop/trace_values.h>

#if !defined(COOP_TRACE_COOP_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define COOP_TRACE_COOP_TP_H

#include <lttng/tracepoint.h>

/* ---- Enumerations: numbers in the trace, words in babeltrace2 ---------- */

/* Every value by the word of its table (abi.h, coop/trace_values.h). */
#define COOP_TP_VALUE3_(name, n, word) lttng_ust_field_enum_value(word, n)
#define COOP_TP_VALUE4_(name, n, word, vec) lttng_ust_field_enum_value(word, n)

LTTNG_UST_TRACEPOINT_ENUM(coop, reason,
	LTTNG_UST_TP_ENUM_VALUES(COOP_OPS(COOP_TP_VALUE3_) COOP_TRACE_REASONS(COOP_TP_VALUE3_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, device,
	LTTNG_UST_TP_ENUM_VALUES(COOP_DEVICES(COOP_TP_VALUE4_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, direction,
	LTTNG_UST_TP_ENUM_VALUES(COOP_TRACE_DIRECTIONS(COOP_TP_VALUE3_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, irq_source,
	LTTNG_UST_TP_ENUM_VALUES(COOP_TRACE_IRQ_SOURCES(COOP_TP_VALUE3_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, virq_mode,
	LTTNG_UST_TP_ENUM_VALUES(COOP_TRACE_VIRQ_MODES(COOP_TP_VALUE3_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, end,
	LTTNG_UST_TP_ENUM_VALUES(COOP_TRACE_ENDS(COOP_TP_VALUE3_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, blk_op,
	LTTNG_UST_TP_ENUM_VALUES(COOP_TRACE_BLK_OPS(COOP_TP_VALUE3_)
				 COOP_COBD_OPS(COOP_TP_VALUE3_)))

LTTNG_UST_TRACEPOINT_ENUM(coop, switch_mode,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("default", COOP_SWITCH_DEFAULT)
		lttng_ust_field_enum_value("full", COOP_SWITCH_FULL)))

/* ---- World switches ------------------------------------------------------ */

/*
 * The guest has switched out to the host: one per switches.total of the
 * run report, exactly (emitted where that counter counts).  guest_cycles:
 * TSC cycles since the matching switch_in (0 for the first one recorded).
 */
LTTNG_UST_TRACEPOINT_EVENT(coop, switch_out,
	LTTNG_UST_TP_ARGS(uint32_t, reason, uint64_t, op_seq, uint64_t, tsc, uint64_t,
			  guest_cycles),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(coop, direction, uint8_t, direction, COOP_TRACE_TO_HOST)
		lttng_ust_field_enum(coop, reason, uint8_t, reason, reason)
		lttng_ust_field_integer(uint64_t, op_seq, op_seq)
		lttng_ust_field_integer(uint64_t, tsc, tsc)
		lttng_ust_field_integer(uint64_t, guest_cycles, guest_cycles)))

/* The host switches (back) into the guest; host_cycles since switch_out. */
LTTNG_UST_TRACEPOINT_EVENT(coop, switch_in,
	LTTNG_UST_TP_ARGS(uint64_t, tsc, uint64_t, host_cycles, uint32_t, vif, uint32_t,
			  pending),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(coop, direction, uint8_t, direction, COOP_TRACE_TO_GUEST)
		lttng_ust_field_integer(uint64_t, tsc, tsc)
		lttng_ust_field_integer(uint64_t, host_cycles, host_cycles)
		lttng_ust_field_integer(uint8_t, vif, vif)
		lttng_ust_field_integer(uint16_t, pending, pending)))

/* ---- Interrupts ---------------------------------------------------------- */

/*
 * A host interrupt (signal) hit guest code and was forwarded: emitted in
 * the handler once the host served it and switched back.  latency_cycles:
 * handler entry -> back in the handler (switch out, serve, switch in): the
 * host's part of the forward (irq_serve in `coop analyze`).
 */
LTTNG_UST_TRACEPOINT_EVENT(coop, irq_forward,
	LTTNG_UST_TP_ARGS(int, host_signal, uint32_t, source, uint32_t, guest_vector, uint32_t,
			  overrun, uint64_t, latency_cycles, uint32_t, delivered),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, host_signal, host_signal)
		lttng_ust_field_enum(coop, irq_source, uint8_t, source, source)
		lttng_ust_field_integer(uint16_t, guest_vector, guest_vector)
		lttng_ust_field_integer(uint32_t, overrun, overrun)
		lttng_ust_field_integer(uint64_t, latency_cycles, latency_cycles)
		lttng_ust_field_integer(uint16_t, delivered, delivered)))

/*
 * The guest entered its vIRQ handler for a forwarded host interrupt:
 * latency_cycles runs from the host handler's first instruction to the
 * guest handler's first (the guest's stamp) -- irq_forward, as `coop bench`
 * measures it.  Emitted at the guest's next exit, when the host sees the
 * stamp; source is the forward's.
 */
LTTNG_UST_TRACEPOINT_EVENT(coop, irq_taken,
	LTTNG_UST_TP_ARGS(uint32_t, source, uint64_t, latency_cycles),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(coop, irq_source, uint8_t, source, source)
		lttng_ust_field_integer(uint64_t, latency_cycles, latency_cycles)))

/* Virtual interrupts handed to the guest: vector is the highest of count. */
LTTNG_UST_TRACEPOINT_EVENT(coop, virq_deliver,
	LTTNG_UST_TP_ARGS(uint32_t, vector, uint32_t, count, uint32_t, mode),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint16_t, vector, vector)
		lttng_ust_field_integer(uint16_t, count, count)
		lttng_ust_field_enum(coop, virq_mode, uint8_t, mode, mode)))

/* ---- Device messages ------------------------------------------------------ */

/*
 * One message: TO_HOST when the host takes it from the to_host window,
 * TO_GUEST when it reaches the to_guest window.  seq is the request id
 * (a cobd reply carries its request's).  crc_ok: the CRC32C matched (or
 * the sender asked for none); the host ends a guest whose did not.
 * blk_op, blk_sector, blk_bytes: the block transfer of a cobd request, and
 * of its reply (which does not carry them: the device passes them on), as
 * docs/tracing.md describes them; NONE, 0, 0 for every other message.
 */
LTTNG_UST_TRACEPOINT_EVENT(coop, message,
	LTTNG_UST_TP_ARGS(uint32_t, direction, uint32_t, device, uint32_t, unit, uint32_t,
			  type, uint64_t, seq, uint32_t, length, uint32_t, crc_ok, uint32_t,
			  blk_op, uint64_t, blk_sector, uint32_t, blk_bytes),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(coop, direction, uint8_t, direction, direction)
		lttng_ust_field_enum(coop, device, uint16_t, device, device)
		lttng_ust_field_integer(uint16_t, unit, unit)
		lttng_ust_field_integer(uint16_t, type, type)
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(uint32_t, length, length)
		lttng_ust_field_integer(uint8_t, crc_ok, crc_ok)
		lttng_ust_field_enum(coop, blk_op, uint8_t, blk_op, blk_op)
		lttng_ust_field_integer(uint64_t, blk_sector, blk_sector)
		lttng_ust_field_integer(uint32_t, blk_bytes, blk_bytes)))

/* A host message waits: no room in the to_guest window (never dropped). */
LTTNG_UST_TRACEPOINT_EVENT(coop, backpressure,
	LTTNG_UST_TP_ARGS(uint32_t, device, uint32_t, unit, uint32_t, length, uint32_t,
			  window_free),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(coop, device, uint16_t, device, device)
		lttng_ust_field_integer(uint16_t, unit, unit)
		lttng_ust_field_integer(uint32_t, length, length)
		lttng_ust_field_integer(uint32_t, window_free, window_free)))

/* ---- Guest lifecycle ------------------------------------------------------ */

LTTNG_UST_TRACEPOINT_EVENT(coop, guest_boot,
	LTTNG_UST_TP_ARGS(uint64_t, mem_size, uint64_t, entry, uint32_t, switch_mode,
			  const char *, cmdline),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, mem_size, mem_size)
		lttng_ust_field_integer_hex(uint64_t, entry, entry)
		lttng_ust_field_enum(coop, switch_mode, uint8_t, switch_mode, switch_mode)
		lttng_ust_field_string(cmdline, cmdline)))

/* The ABI handshake (COOP_OP_HELLO): what the guest speaks, and the verdict. */
LTTNG_UST_TRACEPOINT_EVENT(coop, guest_hello,
	LTTNG_UST_TP_ARGS(uint32_t, guest_major, uint32_t, guest_minor, uint32_t, accepted),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint16_t, guest_major, guest_major)
		lttng_ust_field_integer(uint16_t, guest_minor, guest_minor)
		lttng_ust_field_integer(uint16_t, host_major, COOP_ABI_MAJOR)
		lttng_ust_field_integer(uint16_t, host_minor, COOP_ABI_MINOR)
		lttng_ust_field_integer(uint8_t, accepted, accepted)))

LTTNG_UST_TRACEPOINT_EVENT(coop, guest_panic,
	LTTNG_UST_TP_ARGS(const char *, file, uint32_t, line, const char *, text),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(file, file)
		lttng_ust_field_string(message, text)))

/*
 * The guest ended other than by powering off: the last event of its run.
 * signal/addr/rip are the fault's (0 for other kinds).
 */
LTTNG_UST_TRACEPOINT_EVENT(coop, guest_crash,
	LTTNG_UST_TP_ARGS(uint32_t, kind, int, signal, uint64_t, addr, uint64_t, rip, int,
			  exit_status, const char *, reason),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(coop, end, uint8_t, kind, kind)
		lttng_ust_field_integer(int, signal, signal)
		lttng_ust_field_integer_hex(uint64_t, addr, addr)
		lttng_ust_field_integer_hex(uint64_t, rip, rip)
		lttng_ust_field_integer(int, exit_status, exit_status)
		lttng_ust_field_string(reason, reason)))

/* The guest powered off with status (coop's exit status): its last event. */
LTTNG_UST_TRACEPOINT_EVENT(coop, guest_terminate,
	LTTNG_UST_TP_ARGS(int, status),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, status, status)))

/* ---- Fault injection (faults/) --------------------------------------------- */

/*
 * A fault plan rule fired (faults/, hypervisor-shim/core/fault_sites.c):
 * the rule (1-based, in plan order), what it does ("drop",
 * "io eio", ...), what it hit -- a message (device, unit, direction 0
 * to_host / 1 to_guest, its seq or request id), an image I/O (dir -1,
 * msg_id the request id) or a vIRQ (vector) -- a drawn delay, and the site's host backtrace (return addresses, innermost first; symbolise
 * with the coop binary, e.g. addr2line -f -e build/bin/coop after
 * subtracting the load address).
 */
LTTNG_UST_TRACEPOINT_EVENT(coop, fault_injected,
	LTTNG_UST_TP_ARGS(uint32_t, rule, const char *, kind, uint32_t, device, uint32_t, unit,
			  int, dir, int, vector, uint64_t, msg_id, uint64_t, delay_ns,
			  const uint64_t *, backtrace, uint32_t, depth),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, rule, rule)
		lttng_ust_field_string(kind, kind)
		lttng_ust_field_enum(coop, device, uint16_t, device, device)
		lttng_ust_field_integer(uint16_t, unit, unit)
		lttng_ust_field_integer(int8_t, dir, dir)
		lttng_ust_field_integer(int16_t, vector, vector)
		lttng_ust_field_integer(uint64_t, msg_id, msg_id)
		lttng_ust_field_integer(uint64_t, delay_ns, delay_ns)
		lttng_ust_field_sequence_hex(uint64_t, backtrace, backtrace, uint32_t, depth)))

#endif /* COOP_TRACE_COOP_TP_H */

#include <lttng/tracepoint-event.h>
