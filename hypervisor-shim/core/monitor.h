/* SPDX-License-Identifier: MIT */
/*
 * monitor.h - the run loop (monitor.c), for what runs a guest: the coop run
 * command and the bench.  The parts the loop calls (router, devices, fault
 * layer, crash handling, backends) do not include this: they only change
 * vm->state (kill.c), which the loop watches.
 */
#ifndef SHIM_MONITOR_H
#define SHIM_MONITOR_H

#include "core/shim.h"

/* Run the guest until it powers off, crashes or is ended; its exit status. */
int shim_monitor_run(struct shim_vm *vm);
/* The same loop with its tracepoints compiled out (bench baseline). */
int shim_monitor_run_notrace(struct shim_vm *vm);

#endif /* SHIM_MONITOR_H */
