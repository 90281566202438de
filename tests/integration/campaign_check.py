#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""campaign_check.py DIR N - after `coop campaign collect DIR`: the table
accounts for every run and every fault.  N rows, all done; in every row and
in the totals, per fault kind, injected = detected + harmless + escaped and
recovered <= detected; each row's injected total equals its run's report
and the records of its fault log, read here independently; the aggregate
covers every run and fault; no marker or temporary file is half-written.
"""
import glob
import json
import os
import sys

OUT = ("injected", "detected", "recovered", "harmless", "escaped")


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    rows = json.load(open(os.path.join(d, "results", "runs.json")))
    summary = json.load(open(os.path.join(d, "results", "summary.json")))
    if len(rows) != n:
        fail(f"{len(rows)} rows, expected {n}")
    if len({r["run"] for r in rows}) != n:
        fail("run ids repeat")
    not_done = [r["run"] for r in rows if r["state"] != "done"]
    if not_done:
        fail(f"{len(not_done)} runs not done, first {not_done[0]}")
    tot = dict.fromkeys(OUT, 0)
    faulty = 0
    for r in rows:
        kinds = [k.split(".")[1] for k in r if k.startswith("faults.") and
                 k.endswith(".injected") and k.count(".") == 2]
        for k in kinds:
            v = {o: r[f"faults.{k}.{o}"] for o in OUT}
            if v["injected"] != v["detected"] + v["harmless"] + v["escaped"]:
                fail(f"run {r['run']} {k}: {v}")
            if v["recovered"] > v["detected"]:
                fail(f"run {r['run']} {k}: recovered > detected: {v}")
        for o in OUT:
            s = sum(r[f"faults.{k}.{o}"] for k in kinds)
            if s != r[f"total.{o}"]:
                fail(f"run {r['run']}: total.{o} {r[f'total.{o}']} != {s}")
            tot[o] += s
        rd = os.path.join(d, "runs", r["run"])
        rep = json.load(open(os.path.join(rd, "report.json")))
        inj = sum(v["injected"] for v in rep["faults"].values()
                  if isinstance(v, dict) and "injected" in v)
        if inj != r["total.injected"]:
            fail(f"run {r['run']}: report says {inj} injected, the row {r['total.injected']}")
        if os.path.exists(os.path.join(rd, "fault.log")):
            recs = sum(1 for ln in open(os.path.join(rd, "fault.log")) if not ln.startswith("#"))
            if recs != inj:
                fail(f"run {r['run']}: {recs} fault log records, {inj} injected")
        faulty += inj > 0
        if not os.path.exists(os.path.join(rd, "done.json")):
            fail(f"run {r['run']}: no done.json")
    if tot["injected"] != tot["detected"] + tot["harmless"] + tot["escaped"]:
        fail(f"totals: {tot}")
    if tot != {o: summary["totals"][o] for o in OUT}:
        fail(f"summary totals {summary['totals']} != the rows' {tot}")
    if not summary["accounted"] or summary["violations"]:
        fail("collect says the faults are not accounted for")
    agg = next(iter(summary["aggregate"].values()))
    if sum(a["runs"] for a in agg) != n or sum(a["injected"] for a in agg) != tot["injected"]:
        fail("the aggregate does not cover every run and fault")
    left = glob.glob(os.path.join(d, "runs", "*", "*.tmp.*")) + \
        glob.glob(os.path.join(d, "runs", "*", "running"))
    if left:
        fail(f"left behind: {left[0]}")
    if faulty < n // 2:
        fail(f"only {faulty} of {n} runs had faults: the campaign does not test much")
    print(f"ok   {n} runs, {faulty} with faults: {tot['injected']} injected = "
          f"{tot['detected']} detected + {tot['harmless']} harmless + {tot['escaped']} escaped "
          f"({tot['recovered']} recovered), in every row and the totals")


if __name__ == "__main__":
    main()
