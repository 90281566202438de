/* SPDX-License-Identifier: MIT */
/*
 * kill.c - ending a guest, with a sticky first reason (lguest's
 * kill_guest).  A leaf: it touches the VM's state and the trace, and asks
 * the fault layer one question, nothing else, so that the router, the
 * devices, the crash handler and the backends refuse a guest without
 * knowing the run loop, which only sees vm->state change.
 *
 * What the fault layer made of a message (a damaged copy, a duplicate, a
 * message it held back) is not the guest's doing: a device refusing it
 * while the layer hands it over drops the message instead of ending the
 * guest (shim_faults_absorb_kill), and the layer counts the fault.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/shim.h"
#include "trace/trace.h"

/* The first way the guest ends sticks; coop:guest_crash is its last event. */
static void end_guest(struct shim_vm *vm, enum shim_vm_state state, uint32_t kind, int status,
		      const char *fmt, va_list ap)
{
	const struct shim_crash *c = &vm->crash;

	if (vm->state != SHIM_VM_RUNNING)
		return; /* the first reason sticks */
	vm->state = state;
	vm->exit_status = status;
	vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
	coop_trace(guest_crash, kind, vm->crashed ? c->sig : 0, vm->crashed ? c->addr : 0,
		   vm->crashed ? (uint64_t)c->gregs[REG_RIP] : 0, status, vm->reason);
}

static void kill_guest(struct shim_vm *vm, uint32_t kind, const char *fmt, va_list ap)
{
	if (shim_faults_absorb_kill(vm))
		return; /* a device refused what the fault layer made of a message */
	end_guest(vm, SHIM_VM_KILLED, kind, SHIM_EXIT_CRASH, fmt, ap);
}

void shim_kill_guest(struct shim_vm *vm, const char *fmt, ...)
{
	uint32_t kind = !vm->crashed ? COOP_TRACE_END_MISBEHAVIOUR :
			vm->crash.sig ? COOP_TRACE_END_FAULT : COOP_TRACE_END_HANG;
	va_list ap;

	va_start(ap, fmt);
	kill_guest(vm, kind, fmt, ap);
	va_end(ap);
}

void shim_panic_guest(struct shim_vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kill_guest(vm, COOP_TRACE_END_PANIC, fmt, ap);
	va_end(ap);
}

void shim_refuse_guest(struct shim_vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_guest(vm, SHIM_VM_REFUSED, COOP_TRACE_END_REFUSED, SHIM_EXIT_USAGE, fmt, ap);
	va_end(ap);
}

/* coop was asked to stop (SIGINT, SIGTERM, SIGHUP): end the guest, 128 + sig as a shell would. */
static void interrupt_guest(struct shim_vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_guest(vm, SHIM_VM_INTERRUPTED, COOP_TRACE_END_INTERRUPTED, status, fmt, ap);
	va_end(ap);
}

void shim_stop_guest(struct shim_vm *vm, int sig)
{
	const char *name = sigabbrev_np(sig);

	interrupt_guest(vm, 128 + sig, "interrupted by SIG%s", name ? name : "?");
}
