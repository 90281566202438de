#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_crash.sh - a guest that crashes under `coop run --trace DIR` leaves a
# complete trace that babeltrace2 reads, ending with coop:guest_crash (the
# fault's signal and address); the same for a guest panic.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"

run run --exec 'echo before; crash segv' --report "$TMP/r.json" --trace "$TMP/tr"
expect_status 3
expect_in err "guest crashed: SIGSEGV"
check_trace "$TMP/tr" "$TMP/r.json" crash
expect_no_sessiond

run run --exec 'panic oh no' --report "$TMP/p.json" --trace "$TMP/trp"
expect_status 3
check_trace "$TMP/trp" "$TMP/p.json" panic
expect_no_sessiond

done_ok
