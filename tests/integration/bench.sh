#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench.sh - `coop bench` runs and writes complete, well-formed results:
# every selected benchmark present, numbers positive and ordered
# min <= median <= p90 <= p99 <= p99.9 <= max, ratios where a baseline is
# named.  It asserts the shape of the output, never a timing.
set -e
. "$(dirname "$0")/lib.sh"

run bench --quick --iterations 300 --json "$TMP/b.json" --csv "$TMP/b.csv"
expect_status 0
expect_in out "machine:"
for name in signal_rtt irq_forward world_switch_notrace_rtt world_switch_rtt pread_4k \
	cobd_read_4k_rtt pread_seq cobd_seq_read conet_raw_pps conet_pps; do
	expect_in out "$name"
done

/usr/bin/python3 - "$TMP/b.json" "$TMP/b.csv" <<'PY'
import csv, json, sys
res = json.load(open(sys.argv[1]))["results"]
names = {r["name"]: r for r in res}
want = {"signal_rtt", "irq_forward", "world_switch_notrace_rtt", "world_switch_rtt",
        "pread_4k", "cobd_read_4k_rtt", "pread_seq", "cobd_seq_read", "conet_raw_pps",
        "conet_pps"}
assert want <= set(names), f"missing: {want - set(names)}"
keys = ["min", "median", "p90", "p99", "p999", "max"]
for r in res:
    for unit in ("", "_cycles"):
        v = [r[k + unit] for k in keys]
        assert v[0] > 0 and v == sorted(v), f"{r['name']}{unit}: {v}"
    assert r["iterations"] > 0 and r["unit"] in ("ns", "MB/s", "pkt/s"), r
for subject, base in (("irq_forward", "signal_rtt"), ("cobd_read_4k_rtt", "pread_4k"),
                      ("cobd_seq_read", "pread_seq"), ("conet_pps", "conet_raw_pps"),
                      ("world_switch_rtt", "world_switch_notrace_rtt")):
    assert names[subject]["baseline"] == base and names[subject]["ratio"] > 0, subject
assert names["cobd_seq_read"]["unit"] == "MB/s" and names["conet_pps"]["unit"] == "pkt/s"
rows = list(csv.DictReader(open(sys.argv[2])))
assert {r["name"] for r in rows} == set(names), "CSV and JSON disagree"
print("bench output: %d results well-formed" % len(res))
PY
checks=$((checks + 1))

# Bad options are usage errors.
run bench --only nosuchbench
expect_status 2
expect_stderr_line "no such benchmark"
run bench --iterations 0
expect_status 2

done_ok
