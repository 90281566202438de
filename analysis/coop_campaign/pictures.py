# SPDX-License-Identifier: MIT
# pictures.py - a campaign's plots and index.html, drawn with coop_analyze's
# plotting (matplotlib, Agg) and page code: detection and escape rates
# against the plans' fault probability with Wilson 95% intervals, and
# distributions across runs (durations, faults per run).
import html

import numpy as np
from coop_analyze import plots, report

plt = plots.plt
_PLAIN = plots.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
SERIES = ("cmdline", "workload", "disk", "backend")


def _label(a, camp):
    parts = [f"{s}={a[s]}" for s in SERIES if s in a and len(camp["axes"][s]) > 1]
    return ", ".join(parts) or "all runs"


def _rates(agg, camp, out, fmt, files):
    """Detection and escape rate per plan, against its fault probability when every plan has one."""
    byprob = all(a["plan_prob"] for a in agg)
    plans_order = list(dict.fromkeys(a["plan"] for a in agg))
    series = {}
    for a in agg:
        series.setdefault(_label(a, camp), []).append(a)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for (name, rate), ax in zip((("detection", "detection rate (detected / injected)"),
                                 ("escape", "escape rate (escaped / injected)")), axes):
        for i, (lab, pts) in enumerate(series.items()):
            pts = [p for p in pts if p[f"{name}_rate"] is not None]
            if byprob:
                pts.sort(key=lambda p: p["plan_prob"])
                x = np.array([100 * p["plan_prob"] for p in pts])
            else:
                x = np.array([plans_order.index(p["plan"]) + 0.08 * i for p in pts])
            y = np.array([p[f"{name}_rate"] for p in pts])
            lo = y - np.array([p[f"{name}_lo"] for p in pts])
            hi = np.array([p[f"{name}_hi"] for p in pts]) - y
            ax.errorbar(x, y, yerr=[lo, hi], marker="o", ms=4, capsize=3, label=lab,
                        color=plots.COLORS[i % len(plots.COLORS)])
        if byprob:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(_PLAIN)
            ax.xaxis.set_minor_formatter(plots.matplotlib.ticker.NullFormatter())
            ax.set_xticks(sorted({100 * a["plan_prob"] for a in agg}))
            ax.set_xlabel("fault probability per event (%)")
        else:
            ax.set_xticks(range(len(plans_order)), plans_order, rotation=20, fontsize=8)
            ax.set_xlabel("plan")
        ax.set_ylabel(rate)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{name.capitalize()} rate with Wilson 95% intervals")
        ax.legend(fontsize=7)
    fig.tight_layout()
    plots._save(fig, out, "rates", fmt, files)


def _distributions(rows, agg, camp, out, fmt, files):
    """Run durations (histogram, CDF) and faults per run, per plan x cell."""
    done = [r for r in rows if r["state"] == "done"]
    if not done:
        return
    keys = [tuple(a[k] for k in a["group_by"].split("/")) for a in agg]
    gb = agg[0]["group_by"].split("/")
    by = {k: [r for r in done if tuple(r[g] for g in gb) == k] for k in keys}
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.2))
    dur = {" ".join(map(str, k)): np.array([r["duration_s"] for r in rs])
           for k, rs in by.items() if rs}
    if len(dur) > 10:  # the legend would hide the picture: all runs as one
        dur = {"all runs": np.concatenate(list(dur.values()))}
    plots._hist_cdf(a, b, dur, "Run duration")
    for ax in (a, b):
        ax.set_xlabel("run duration (s)")
        ax.xaxis.set_major_locator(plots.matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(_PLAIN)
        ax.xaxis.set_minor_formatter(plots.matplotlib.ticker.NullFormatter())
    names = [" ".join(map(str, k)) for k in keys]
    c.boxplot([[r["total.injected"] for r in by[k]] or [0] for k in keys],
              vert=False, labels=names)
    c.set_xlabel("faults injected per run")
    c.tick_params(axis="y", labelsize=6)
    c.set_title("Faults injected per run")
    fig.tight_layout()
    plots._save(fig, out, "distributions", fmt, files)


def draw(rows, agg, camp, out, fmt):
    from pathlib import Path
    files = []
    if agg:
        _rates(agg, camp, Path(out), fmt, files)
        _distributions(rows, agg, camp, Path(out), fmt, files)
    return files


def _pct(p, lo, hi):
    if p is None:
        return "–"
    return f"{100 * p:.2f} % [{100 * lo:.2f}, {100 * hi:.2f}]"


def index(summary, aggs, files, path):
    t, s = summary["totals"], summary["states"]
    parts = [f"<h1>coop campaign</h1><p>Campaign <code>{html.escape(summary['campaign'])}"
             f"</code>, directory <code>{html.escape(summary['dir'])}</code></p>",
             "<h2>Summary</h2>" + report.table(("", "value"), [
                 ("runs", summary["runs"]), ("done", s["done"]), ("failed", s["failed"]),
                 ("not run", s["pending"] + s["running"]),
                 ("faults injected", t["injected"]), ("detected", t["detected"]),
                 ("recovered", t["recovered"]), ("harmless", t["harmless"]),
                 ("escaped", t["escaped"]),
                 ("every row: injected = detected + harmless + escaped",
                  "yes" if summary["accounted"] else "NO")])]
    for name, agg in aggs.items():
        gb = name.split("/")
        head = gb + ["runs", "done", "failed", "injected", "detection (95% CI)",
                     "recovery (95% CI)", "escape (95% CI)", "runs with escapes",
                     "median duration (s)"]
        rows = [[a[g] for g in gb] + [a["runs"], a["done"], a["failed"], a["injected"],
                                      _pct(a["detection_rate"], a["detection_lo"],
                                           a["detection_hi"]),
                                      _pct(a["recovery_rate"], a["recovery_lo"], a["recovery_hi"]),
                                      _pct(a["escape_rate"], a["escape_lo"], a["escape_hi"]),
                                      a["runs_with_escapes"], a["duration_median_s"]]
                for a in agg]
        parts.append(f"<h2>By {html.escape(' × '.join(gb))}</h2>" + report.table(head, rows))
        kinds = [k for k in summary["kinds"]]
        if kinds:
            parts.append("<p>Injected by kind:</p>" + report.table(
                gb + kinds, [[a[g] for g in gb] + [a[f"injected.{k}"] for k in kinds]
                             for a in agg]))
    for f in files:
        parts.append(f'<h2>{html.escape(f.rsplit(".", 1)[0])}</h2><img src="{html.escape(f)}">')
    links = " · ".join(f'<a href="{x}">{x}</a>' for x in ("runs.csv", "runs.json",
                                                           "aggregate.csv", "summary.json"))
    parts.append(f"<h2>Files</h2><p>{links}</p>")
    report.page(path, "coop campaign", parts)
