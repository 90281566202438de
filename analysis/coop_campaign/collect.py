# SPDX-License-Identifier: MIT
# collect.py - `coop campaign collect DIR`: a row per run (axes, provenance,
# exit status, every counter of its report, duration) as CSV and JSON; an
# aggregate per plan x axis (detection, recovery and escape rates with
# Wilson 95% intervals, injected faults by kind, durations); the fault
# accounting checked in every row; plots and index.html with coop_analyze's
# plotting and page code.
import csv
import json
import os
import statistics
import sys
import time

from . import runs
from coop_analyze import stats

AXES = ("plan", "cmdline", "workload", "disk", "backend", "seed", "rep")
CELL = ("plan", "cmdline", "workload", "disk", "backend")  # what seeds and repetitions repeat
OUTCOMES = ("injected", "detected", "recovered", "harmless", "escaped")


def flatten(obj, prefix, out):
    """Numeric and string leaves of nested dicts as 'a.b.c' keys (lists skipped)."""
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            flatten(v, key + ".", out)
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out[key] = v
    return out


def fault_kinds(report):
    f = (report or {}).get("faults", {})
    return [k for k, v in f.items() if isinstance(v, dict) and "injected" in v]


def row_of(camp, run):
    st, marker = runs.state(camp, run["id"])
    row = {"run": run["id"], "state": st}
    row.update(run["axes"])
    row["plan_prob"] = run["plan_prob"]
    marker = marker or {}
    row.update({"exit_status": marker.get("exit_status"), "reason": marker.get("reason", ""),
                "duration_s": marker.get("duration_s"), "ran_on": marker.get("host"),
                "end": None})
    report = None
    if st in ("done", "failed"):
        try:
            with open(os.path.join(runs.run_dir(camp, run["id"]), "report.json")) as f:
                report = json.load(f)
        except (OSError, ValueError):
            report = None
    if report:
        row["end"] = report.get("guest", {}).get("end")
        prov = report.get("provenance", {})
        for k, v in prov.items():
            row[f"provenance.{k}"] = " ".join(v) if isinstance(v, list) else v
        flatten({k: v for k, v in report.items() if k != "provenance"}, "", row)
    kinds = fault_kinds(report)
    bad = []
    for o in OUTCOMES:
        row[f"total.{o}"] = sum(report["faults"][k][o] for k in kinds) if report else 0
    for k in kinds:
        v = report["faults"][k]
        if v["injected"] != v["detected"] + v["harmless"] + v["escaped"] or \
                v["recovered"] > v["detected"]:
            bad.append(k)
    row["accounted"] = not bad
    return row, bad


def _rate(k, n):
    p, lo, hi = stats.wilson(k, n)
    r = lambda x: None if x is None else round(x, 6)  # noqa: E731
    return r(p), r(lo), r(hi)


def aggregate(rows, group_by, kinds):
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[a] for a in group_by), []).append(r)
    out = []
    for key, rs in groups.items():
        done = [r for r in rs if r["state"] == "done"]
        a = {"group_by": "/".join(group_by)}
        a.update(zip(group_by, key))
        probs = {r["plan_prob"] for r in rs}
        a["plan_prob"] = probs.pop() if len(probs) == 1 else None
        a.update({"runs": len(rs), "done": len(done),
                  "failed": sum(r["state"] == "failed" for r in rs),
                  "not_run": sum(r["state"] in ("pending", "running") for r in rs)})
        tot = {o: sum(r[f"total.{o}"] for r in done) for o in OUTCOMES}
        a.update(tot)
        for name, k, n in (("detection", "detected", "injected"),
                           ("recovery", "recovered", "detected"),
                           ("escape", "escaped", "injected")):
            a[f"{name}_rate"], a[f"{name}_lo"], a[f"{name}_hi"] = _rate(tot[k], tot[n])
        esc_runs = sum(r["total.escaped"] > 0 for r in done)
        a["runs_with_escapes"] = esc_runs
        a["runs_with_escapes_rate"], a["runs_with_escapes_lo"], a["runs_with_escapes_hi"] = \
            _rate(esc_runs, len(done))
        a["bad_sectors"] = sum(r.get("faults.escaped_total") or 0 for r in done)
        a["checked_sectors"] = sum(r.get("faults.checked") or 0 for r in done)
        for k in kinds:
            a[f"injected.{k}"] = sum(r.get(f"faults.{k}.injected") or 0 for r in done)
        d = [r["duration_s"] for r in done if r["duration_s"] is not None]
        a.update({"duration_mean_s": round(statistics.fmean(d), 3) if d else None,
                  "duration_median_s": round(statistics.median(d), 3) if d else None,
                  "duration_min_s": min(d) if d else None, "duration_max_s": max(d) if d else None})
        out.append(a)
    return out


def groupings(camp):
    """plan x the cell (every axis but seed and repetition), and plan x each varying axis."""
    varying = [a for a in CELL[1:] if len(camp["axes"][a]) > 1]
    out = [("plan",) + tuple(varying)]
    out += [("plan", a) for a in varying if ("plan", a) not in out]
    return out


def write_csv(path, rows):
    cols = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    os.replace(path + ".tmp", path)


def write_json(path, obj):
    runs.write_atomic(path, json.dumps(obj, indent=1) + "\n")


def collect(dirpath, out, fmt, quiet):
    camp = runs.load(dirpath)
    t0, wall = time.monotonic(), time.time()
    rows, violations = [], []
    for run in camp["runs"]:
        row, bad = row_of(camp, run)
        rows.append(row)
        violations += [(row["run"], k) for k in bad]
    kinds = sorted({k[len("faults."):-len(".injected")] for r in rows for k in r
                    if k.startswith("faults.") and k.endswith(".injected") and
                    k.count(".") == 2 and r[k]})
    aggs = {"/".join(g): aggregate(rows, g, kinds) for g in groupings(camp)}
    totals = {o: sum(r[f"total.{o}"] for r in rows if r["state"] == "done") for o in OUTCOMES}
    counts = {s: sum(r["state"] == s for r in rows) for s in ("done", "failed", "running",
                                                               "pending")}
    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "runs.csv"), rows)
    main_group = next(iter(aggs))
    write_csv(os.path.join(out, "aggregate.csv"), aggs[main_group])
    summary = {"campaign": camp["source"], "dir": camp["dir"], "runs": len(rows),
               "states": counts, "totals": totals,
               "accounted": not violations and totals["injected"] == totals["detected"] +
               totals["harmless"] + totals["escaped"],
               "violations": [{"run": r, "kind": k} for r, k in violations],
               "kinds": kinds, "aggregate": aggs,
               "provenance": {"coop": os.environ.get("COOP_VERSION", "unknown"),
                              "commit": os.environ.get("COOP_COMMIT", "unknown"),
                              "command": ["coop", "campaign", "collect", dirpath],
                              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                           time.gmtime(wall))}}
    write_json(os.path.join(out, "runs.json"), rows)
    from . import pictures
    files = pictures.draw(rows, aggs[main_group], camp, out, fmt)
    summary["plots"] = files
    summary["collect_seconds"] = round(time.monotonic() - t0, 3)
    write_json(os.path.join(out, "summary.json"), summary)
    pictures.index(summary, aggs, files, os.path.join(out, "index.html"))
    if not quiet:
        print(f"{len(rows)} runs: {counts['done']} done, {counts['failed']} failed, "
              f"{counts['pending'] + counts['running']} not run; faults: {totals['injected']} "
              f"injected = {totals['detected']} detected + {totals['harmless']} harmless + "
              f"{totals['escaped']} escaped ({totals['recovered']} recovered)")
        print(f"wrote runs.csv, runs.json, aggregate.csv, summary.json, {len(files)} plots, "
              f"index.html to {out}")
    if violations:
        r, k = violations[0]
        print(f"coop campaign collect: {len(violations)} unaccounted fault counts, first run "
              f"{r} kind {k}: injected != detected + harmless + escaped", file=sys.stderr)
        return 1
    return 0
