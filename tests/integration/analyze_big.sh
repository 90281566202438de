#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze_big.sh - `coop analyze` copes with a large trace: a guest spinning
# 28 s with a 10 kHz tick makes about 1.1 million events (4 per tick);
# the analysis must finish and agree with babeltrace2's event count.  No
# time is asserted (docs/analysis.md reports what it takes).  Skipped (77) when
# the machine cannot sustain the tick and the trace stays under a million.
# Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"
/usr/bin/python3 -c 'import bt2, numpy, matplotlib' 2>/dev/null ||
	skip "python3-bt2, python3-numpy or python3-matplotlib missing"

run run --cmdline hz=10000 --exec 'spin 28000' --report "$TMP/r.json" --trace "$TMP/tr"
expect_status 0
expect_no_sessiond
n=$(babeltrace2 "$TMP/tr" | grep -c ' coop:')
[ "$n" -ge 1000000 ] || skip "only $n events (the 10 kHz tick was not sustained)"

start=$(date +%s.%N)
run analyze "$TMP/tr" -o "$TMP/rep" --json "$TMP/s.json"
expect_status 0
end=$(date +%s.%N)
check "the big trace's summary" /usr/bin/python3 - "$TMP/s.json" "$n" "$TMP/r.json" <<'PY'
import json, sys
s, n, r = json.load(open(sys.argv[1])), int(sys.argv[2]), json.load(open(sys.argv[3]))
assert s["trace"]["events"] == n, (s["trace"]["events"], n)
assert s["switches"]["total"] == r["switches"]["total"], "switches.total"
assert s["irqs"]["forwarded"] == r["irqs"]["forwarded"], "irqs.forwarded"
assert s["perfetto"]["records"] >= n, "perfetto.json records"
PY
echo "analysed $n events in $(/usr/bin/python3 -c "print(round($end - $start, 1))") s" \
	"(the tool's own split: $(grep -A6 analysis_seconds "$TMP/s.json" | tr -d ' \n'))"
done_ok
