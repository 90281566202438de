#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace.sh - `coop run --trace DIR` records a known workload (block scrub,
# a spinning guest with its tick) completely, as babeltrace2 reads it: one
# coop:switch_out per switches.total, a reply for every cobd request, sane
# interrupt forwards and vIRQ deliveries, nothing discarded.  Also: Ctrl-C
# (SIGINT) still leaves a complete trace, a fault plan's faults are events, missing tools are exit 2, and the
# bench's world-switch figures come out.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"

truncate -s 2M "$TMP/d.img"
run run --disk "cobd0=$TMP/d.img" --exec 'blk scrub 0 0 2048; spin 300' \
	--report "$TMP/r.json" --trace "$TMP/tr"
expect_status 0
check "the tracer discarded events" [ "$(grep -c discarded "$TMP/err")" -eq 0 ]
check_trace "$TMP/tr" "$TMP/r.json" workload
expect_no_sessiond

# Under a fault plan: every injected fault is an event, I/O faults with the
# host backtrace of their site.
printf 'seed 5\ndrop device=cobd prob=2%%\ncorrupt device=cobd dir=to_guest prob=2%%\nio eio op=read prob=3%%\n' \
	>"$TMP/f.plan"
run run --disk "cobd0=$TMP/d.img" --cmdline 'cobd_max_kib=4 cobd_timeout_ms=5' \
	--faults "$TMP/f.plan" --exec 'blk scrub 0' --report "$TMP/f.json" --trace "$TMP/trf"
expect_status 0
check "the tracer discarded events under the fault plan" [ "$(grep -c discarded "$TMP/err")" -eq 0 ]
check_trace "$TMP/trf" "$TMP/f.json" faults
expect_no_sessiond

# Interrupted: the guest ends, coop closes the trace and exits 128 + 2.
set +e
timeout 60 "$COOP" run --exec 'spin 20000' --report "$TMP/i.json" --trace "$TMP/tri" \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 1.5
kill -INT "$pid"
wait "$pid"
status=$?
set -e
expect_status 130
expect_in err "interrupted by SIGINT"
check_trace "$TMP/tri" "$TMP/i.json" interrupted
expect_no_sessiond

# No lttng-sessiond to start: a clear error naming the package, exit 2.
mkdir -p "$TMP/bin"
ln -s "$(command -v timeout)" "$TMP/bin/timeout"
PATH="$TMP/bin" run run --exec 'echo hi' --trace "$TMP/trx"
expect_status 2
expect_stderr_line "install the Debian package lttng-tools"

# The bench: world-switch round trips without, with and while recording tracepoints.
run bench --only world_switch_traced_rtt,world_switch_rtt,world_switch_notrace_rtt \
	--iterations 500 --json "$TMP/b.json"
expect_status 0
expect_in out "ns per event"
expect_in out "tracepoints compiled in, not recording"
check "the bench's world-switch figures" /usr/bin/python3 - "$TMP/b.json" <<'PY'
import json, sys
names = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"]}
for n in ("world_switch_notrace_rtt", "world_switch_rtt", "world_switch_traced_rtt"):
    assert n in names and names[n]["median"] > 0, n
assert names["world_switch_traced_rtt"]["baseline"] == "world_switch_rtt"
assert names["world_switch_rtt"]["baseline"] == "world_switch_notrace_rtt"
PY
expect_no_sessiond

done_ok
