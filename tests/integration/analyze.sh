#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze.sh - `coop analyze` on a real trace (`coop run --trace`, block
# scrub + spin): its statistics equal babeltrace2's own counts, every cobd
# request is paired with its reply, each plot is a valid non-empty PNG (and
# SVG with --format svg), perfetto.json has one slice per world-switch
# interval, index.html references only files that exist.  Also the command
# line: usage errors and missing Python packages are one line, exit 2.
# Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"
CHECK=(/usr/bin/python3 "$(dirname "$0")/analyze_check.py")
for m in bt2 numpy matplotlib; do
	/usr/bin/python3 -c "import $m" 2>/dev/null || skip "python3 module $m missing"
done

# The command line.
expect_usage_error "the following arguments are required: TRACE_DIR, -o/--output" analyze
expect_usage_error "the following arguments are required: -o/--output" analyze "$TMP"
expect_usage_error "unrecognized arguments: --bogus" analyze "$TMP" -o "$TMP/o" --bogus
expect_usage_error "argument --pid: invalid int value: 'x'" analyze "$TMP" -o "$TMP/o" --pid x
run analyze --help
expect_status 0
expect_in out "usage: coop analyze"
expect_in out "--pid PID"
expect_usage_error "not a directory" analyze "$TMP/nonexistent" -o "$TMP/o"
mkdir -p "$TMP/empty"
expect_usage_error "no CTF trace here" analyze "$TMP/empty" -o "$TMP/o"
# A missing Debian package is named (a module that fails to import stands in).
mkdir -p "$TMP/fake"
for pair in bt2:python3-bt2 matplotlib:python3-matplotlib numpy:python3-numpy; do
	echo 'raise ImportError("hidden by the test")' >"$TMP/fake/${pair%%:*}.py"
	PYTHONPATH="$TMP/fake" expect_usage_error "install the Debian package ${pair#*:}" \
		analyze "$TMP/empty" -o "$TMP/o"
	rm "$TMP/fake/${pair%%:*}.py"
done

# A real trace, analysed; compared with babeltrace2's view of it.
truncate -s 2M "$TMP/d.img"
run run --disk "cobd0=$TMP/d.img" --exec 'blk scrub 0 0 2048; blk verify 0 0 256 1; spin 200' \
	--report "$TMP/r.json" --trace "$TMP/tr"
expect_status 0
expect_no_sessiond
babeltrace2 "$TMP/tr" >"$TMP/events.txt" 2>"$TMP/bt.err" ||
	fail "babeltrace2 cannot read the trace: $(head -3 "$TMP/bt.err")"

run analyze "$TMP/tr" -o "$TMP/rep" --json "$TMP/s.json" --report "$TMP/r.json"
expect_status 0
expect_in out "open $TMP/rep/index.html"
check "the analysis does not match the trace" \
	"${CHECK[@]}" outputs "$TMP/rep" "$TMP/events.txt" "$TMP/r.json" "$TMP/s.json"

# --json -: the summary alone on stdout.
run analyze "$TMP/tr" -o "$TMP/rep2" --json - --no-perfetto
expect_status 0
check "--json - is not the summary" \
	/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["switches"]["total"] > 0' \
	<"$TMP/out"
[ ! -e "$TMP/rep2/perfetto.json" ] || fail "--no-perfetto wrote perfetto.json"

# SVG plots.
run analyze "$TMP/tr" -o "$TMP/svg" --format svg -q
expect_status 0
check "SVG plots" "${CHECK[@]}" svg "$TMP/svg"

# With a fault plan: the fault report counts what the run report counts
# (outcomes never travel in the trace) and draws faults.png.
plan=$TMP/p.plan
printf 'seed 7\ncorrupt bits=1 device=cobd dir=to_guest every=3\ndelay 1ms device=cobd type=reply every=2\n' >"$plan"
truncate -s 4M "$TMP/f.img"
run run --faults "$plan" --disk "cobd0=$TMP/f.img" --exec 'blk scrub 0 0 8192' \
	--report "$TMP/rf.json" --trace "$TMP/trf"
expect_status 0
run analyze "$TMP/trf" -o "$TMP/repf" --report "$TMP/rf.json" --json "$TMP/sf.json"
expect_status 0
check "the fault report" /usr/bin/python3 - "$TMP/sf.json" "$TMP/rf.json" "$TMP/repf" <<'PY'
import json, os, sys
s, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = sum(v["injected"] for v in r["faults"].values() if isinstance(v, dict) and "injected" in v)
f = s["faults"]
assert want > 0, "the plan injected nothing"
assert f["present"] and f["injected_total"] == want, (f["injected_total"], want)
assert f["in_trace"] == want, ("coop:fault_injected events", f["in_trace"], want)
assert f["escaped_total"] == r["faults"]["escaped_total"]
assert "faults.png" in s["outputs"]["plots"] and os.path.getsize(os.path.join(sys.argv[3], "faults.png")) > 0
print(f"faults: {want} injected, as the run report says and as many in the trace; faults.png drawn")
PY

done_ok
