#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench.sh - `coop bench` runs and writes complete, well-formed results:
# every benchmark of --list present in the JSON and the CSV (or skipped
# with a reason), numbers positive and ordered min <= median <= p90 <= p99
# <= p99.9 <= max in the unit and in cycles (only the median of batch means;
# p99.9 only from 10,000 samples), ratios where a baseline is named, the
# targets block, provenance on every CSV row, --repeat's runs and intervals,
# plots when matplotlib is there; --kernel is the guest the benchmarks boot.  It asserts the shape of the output, never a
# timing.
set -e
. "$(dirname "$0")/lib.sh"

"$COOP" bench --list >"$TMP/list"
[ "$(wc -l <"$TMP/list")" -ge 30 ] || fail "bench --list lists too few benchmarks"

# check_suite ARGS...: a run of the suite with ARGS, its table, JSON and CSV.
check_suite() {
	run bench "$@" --json "$TMP/b.json" --csv "$TMP/b.csv"
	expect_status 0
	expect_in out "machine:"
	expect_in out "kvm:"
	expect_in out "method:"
	expect_in out "coop's targets"
	# Not a terminal and no --progress: no progress line on stderr (a
	# warning may be there: the tracer can discard events on a busy machine).
	! grep -q '\[[0-9]*/' "$TMP/err" || fail "a progress line on stderr without --progress"
	while read -r name _; do
		check "$name is not in the table" grep -qE "^($name +|skipped: $name:)" "$TMP/out"
	done <"$TMP/list"
	check "the bench output is incomplete or malformed" \
		/usr/bin/python3 - "$TMP/list" "$TMP/b.json" "$TMP/b.csv" <<'PY'
import csv, json, sys
listed = {l.split()[0]: (l.split() + [""] * 2)[2] for l in open(sys.argv[1]) if l.strip()}
doc = json.load(open(sys.argv[2]))
res = {r["name"]: r for r in doc["results"]}
skipped = {s["name"]: s["reason"] for s in doc["skipped"]}
assert set(listed) == set(res) | set(skipped), \
    f"missing: {set(listed) - set(res) - set(skipped)}, extra: {set(res) | set(skipped) - set(listed)}"
assert all(skipped.values()), "a skip without a reason"
must = {"coroutine_switch_rtt", "world_switch_rtt", "world_switch_notrace_rtt",
        "world_switch_faults_rtt", "swapcontext_rtt", "syscall_rtt", "signal_rtt",
        "signal_deliver", "signal_return",
        "futex_pingpong_rtt", "pipe_pingpong_rtt", "irq_forward", "virq_deliver", "pread_4k",
        "cobd_read_4k_rtt", "pread_seq", "cobd_seq_read", "cobd_seq_write", "cobd_rand_read_4k",
        "cobd_rand_write_4k", "conet_raw_rtt", "conet_rtt", "conet_raw_pps", "conet_pps",
        "cocon_raw_rtt", "cocon_line_rtt"}
assert must <= set(res), f"did not run: {must - set(res)} ({skipped})"
keys = ["min", "median", "p90", "p99", "p999", "max"]


def shown(r, k):
    """Batch means show only their median; p99.9 needs 10,000 samples."""
    if r["batch"] > 1:
        return k == "median"
    return k != "p999" or r["iterations"] >= 10000


for r in res.values():
    for unit in ("", "_cycles"):
        assert all((r[k + unit] is not None) == shown(r, k) for k in keys), (r["name"], r)
        v = [r[k + unit] for k in keys if shown(r, k)]
        assert v[0] > 0 and v == sorted(v), f"{r['name']}{unit}: {v}"
    assert r["iterations"] > 0 and r["batch"] >= 1, r
    assert r["unit"] in ("ns", "MB/s", "IOPS", "pkt/s"), r
    assert r["note"], r["name"]
    # its baseline runs with it: --list names it among what it needs
    needs = set(filter(None, listed[r["name"]].split("+")))
    assert set(filter(None, (r.get("baseline") or "").split("+"))) <= needs, (r["name"], needs)
    assert bool(r.get("baseline")) == bool(needs), r["name"]
    if r.get("baseline") and all(p in res for p in r["baseline"].split("+")):
        assert r["ratio"] > 0, r["name"]
for name in ("cobd_seq_read", "cobd_seq_write"):
    assert res[name]["unit"] == "MB/s" and res[name]["mb_s"] > 0 and res[name]["iops"] > 0
for name in ("cobd_rand_read_4k", "cobd_rand_write_4k"):
    assert res[name]["unit"] == "IOPS" and res[name]["mb_s"] > 0
assert res["conet_pps"]["unit"] == "pkt/s"
p = doc["provenance"]  # where the figures came from
assert p["command"][:2] == ["coop", "bench"] and p["commit"] and p["end"] == "completed", p
assert len(p["kernel_sha256"]) == 64 and p["wall_s"] > 0 and p["started_utc"].endswith("Z"), p
m = doc["machine"]
assert m["tsc_mhz"] > 0 and m["cpus"] >= 1 and m["kvm"] and m["cpu"], m
assert m["backend"] == "user" and m["figures"] and m["emulated"] in (True, False), m
assert all(r["figures"] == ("TCG emulation, not hardware" if m["emulated"] else "hardware")
           for r in doc["results"]), "a result without its figures label"
assert len(doc["targets"]) == 6 and all(t["holds"] in (True, False) for t in doc["targets"]
                                        if t["subject"] in res), doc["targets"]
rows = list(csv.DictReader(open(sys.argv[3])))
assert {r["name"] for r in rows} == set(res), "CSV and JSON disagree"
for row in rows:
    r = res[row["name"]]
    assert all((row[k] != "") == shown(r, k) for k in keys), row
    v = [float(row[k]) for k in keys if row[k]]
    assert v == sorted(v) and v[0] > 0, row
    assert abs(float(row["median"]) - r["median"]) < 0.11, row["name"]
    assert row["commit"] == p["commit"] and row["kernel_sha256"] == p["kernel_sha256"], row
    assert row["command"].startswith("coop bench") and row["started_utc"] == p["started_utc"], row
# each interrupt figure is compared with the host doing the same interval
assert res["irq_forward"]["baseline"] == "signal_return", res["irq_forward"]
assert res["virq_deliver"]["baseline"] == "signal_deliver", res["virq_deliver"]
print("bench output: %d results, %d skipped, well-formed" % (len(res), len(skipped)))
PY
}

# The quick run, then the full suite (under a minute here): both complete.
check_suite --quick --iterations 200
check_suite

# No figure is called a verdict of anything but coop's own targets.
check "the output speaks of tracker items" bash -c "! grep -qi 'issue' '$TMP/out'"

# --repeat N: the suite N times; each figure the median of the run medians,
# with their mean, its 95% confidence interval and their spread.
run bench --quick --iterations 100 --repeat 3 --only syscall_rtt,signal_deliver,virq_deliver \
	--json "$TMP/rep.json" --csv "$TMP/rep.csv"
expect_status 0
expect_in out "ci95"
expect_in out "3 suite runs, pooled"
check "--repeat 3: the runs and their confidence interval" \
	/usr/bin/python3 - "$TMP/rep.json" "$TMP/rep.csv" <<'PY'
import csv, json, statistics, sys
doc = json.load(open(sys.argv[1]))
assert doc["machine"]["repeat"] == 3, doc["machine"]
t2 = 4.303  # Student's t, 2 degrees of freedom, two-sided 95%
res = {r["name"]: r for r in doc["results"]}
assert set(res) == {"syscall_rtt", "signal_deliver", "virq_deliver"}, set(res)
for r in res.values():
    s = r["runs"]
    assert s["n"] == 3 and len(s["medians"]) == 3 and all(m > 0 for m in s["medians"]), r
    assert abs(s["median"] - statistics.median(s["medians"])) < 0.01, r
    assert abs(s["mean"] - statistics.mean(s["medians"])) < 0.01, r
    ci = t2 * statistics.stdev(s["medians"]) / 3 ** 0.5
    assert abs(s["ci95"] - ci) <= 0.01 + 1e-6 * ci, (r["name"], s, ci)
    assert r["iterations"] == 300, r  # the samples of all three runs, pooled
ratio = res["virq_deliver"]["runs"]["median"] / res["signal_deliver"]["runs"]["median"]
assert abs(res["virq_deliver"]["ratio"] - ratio) < 0.002, (res["virq_deliver"]["ratio"], ratio)
rows = {r["name"]: r for r in csv.DictReader(open(sys.argv[2]))}
assert all(rows[n]["runs"] == "3" and float(rows[n]["runs_ci95"]) >= 0 for n in res), rows
PY
for bad in 0 1001 x -2; do
	expect_usage_error "--repeat: expected 1..1000" bench --repeat "$bad"
done

# --only takes groups and names and brings in what they compare with.
run bench --quick --iterations 50 --only cobd_read_4k_rtt,con --progress --json "$TMP/o.json"
expect_status 0
expect_in err "[1/"
check "--only did not bring in what it should" /usr/bin/python3 - "$TMP/o.json" <<'PY'
import json, sys
names = {r["name"] for r in json.load(open(sys.argv[1]))["results"]}
want = {"cobd_read_4k_rtt", "pread_4k", "world_switch_rtt", "coroutine_switch_rtt",
        "world_switch_notrace_rtt", "cocon_raw_rtt", "cocon_line_rtt"}
assert names == want, names ^ want
PY

# --backend: kmod needs the module (tests/kmod/ runs it in QEMU); nothing else is one.
if [ ! -e /dev/coop ]; then
	run bench --quick --backend kmod --only syscall_rtt
	expect_status 1
	expect_in err "insmod coop.ko"
fi
run bench --backend ring0
expect_status 2
expect_in err "expected user or kmod"

# --kernel replaces the default guest: one the host refuses at the handshake
# fails the benchmarks that boot it, saying why (a broken guest is not a skip),
# and leaves the host's baseline alone.
: "${COOP_GUEST_BADHELLO:?ctest sets COOP_GUEST_BADHELLO}"
run bench --quick --iterations 50 --only cobd_rand_read_4k --kernel "$COOP_GUEST_BADHELLO" \
	--json "$TMP/k.json"
expect_status 1
expect_in err "ABI 9."
expect_in err "coop bench: cobd_rand_read_4k failed:"
check "a refused --kernel: expected the result of pread_rand_4k alone" /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert [r["name"] for r in d["results"]] == ["pread_rand_4k"] and not d["skipped"], d' \
	"$TMP/k.json"

# Plots: a histogram + CDF per benchmark, through analysis/ (needs Debian's matplotlib).
if /usr/bin/python3 -c 'import matplotlib, numpy' 2>/dev/null; then
	run bench --quick --iterations 50 --only signal_rtt,irq_forward --plots "$TMP/plots"
	expect_status 0
	for f in signal_rtt.png irq_forward.png ratios.png index.html bench.json; do
		check "--plots did not write $f" [ -s "$TMP/plots/$f" ]
	done
else
	echo "note: no matplotlib for /usr/bin/python3: --plots not checked"
fi

# Bad options are usage errors.
expect_usage_error "no such benchmark" bench --only nosuchbench
run bench --iterations 0
expect_status 2
expect_usage_error "/nonexistent/kernel.elf" bench --kernel /nonexistent/kernel.elf

done_ok
