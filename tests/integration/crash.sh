#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# crash.sh - a guest that faults, overflows its stack or hangs ends the
# guest, not the host: coop exits 3 (not killed by a signal) with the
# reason, the guest's registers and a backtrace that names the guest
# function and continues into the host's run loop.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

crash() { # CASE REASON FUNCTION [coop options...]
	local case=$1 reason=$2 fn=$3
	shift 3
	run run "$@" --exec "crash $case"
	expect_status 3
	expect_in err "coop: guest"
	expect_in err "$reason"
	expect_in err "guest registers:"
	expect_in err "rip"
	expect_in err "backtrace:"
	expect_in err "$fn+"
	expect_in err "[guest]"
	expect_in err "shim_monitor_run+"
	check "crash $case printed on stdout" [ "$(head -c 5 "$TMP/out" | wc -c)" -eq 0 ]
}

crash segv "SIGSEGV (page not mapped at address 0x10)" crash_segv
crash ud "SIGILL" crash_ud
crash div "SIGFPE (integer divide by zero)" crash_div
crash stack "stack overflow" crash_stack
crash hang "hung (watchdog" crash_hang --watchdog 1
# The same in the full-state switch mode.
crash segv "SIGSEGV" crash_segv --switch-mode full

# An unknown crash kind is a usage error in the guest shell, not a crash.
run run --exec 'crash frobnicate'
expect_status 2

# crash int N executes int $N.  For this process the kernel's gates are
# off limits (a #GP): SIGSEGV, as any fault; int $3 is the breakpoint:
# SIGTRAP, a guest crash too.  The kmod backend's answers are in
# tests/kmod/tests.sh.
run run --exec 'crash int 14'
expect_status 3
expect_in err "coop: guest crashed: SIGSEGV"
expect_in err "crash_int+"
run run --exec 'crash int 3'
expect_status 3
expect_in err "coop: guest crashed: SIGTRAP (breakpoint at "
expect_in err "crash_int+"
# int $0x80 is the 32-bit system call here, and guest code makes none: SIGSYS.
run run --exec 'crash int 128'
expect_status 3
expect_in err "coop: guest crashed: SIGSYS (system call -1 from guest code at "
expect_in err "crash_int+"
# A vector it has no int for, or no number: usage errors.
run run --exec 'crash int 7'
expect_status 2
run run --exec 'crash int'
expect_status 2

done_ok
