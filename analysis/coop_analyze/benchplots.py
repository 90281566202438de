# SPDX-License-Identifier: MIT
# benchplots.py - the pictures of a `coop bench` run: for every benchmark a
# histogram and a CDF of its samples, drawn over its baseline's, and one
# overview of each subject's median ratio to its baseline.  `coop bench
# --plots DIR` writes DIR/bench.json (every sample) and runs
#   /usr/bin/python3 -m coop_analyze.benchplots DIR/bench.json DIR
# which writes DIR/<name>.png, DIR/ratios.png and DIR/index.html.
import html
import json
import os
import sys

AXIS = {"ns": "latency (ns)", "MB/s": "throughput per request (MB/s)",
        "IOPS": "requests per second (one at a time)", "pkt/s": "packets per second (per 50 ms)"}


def die(msg):
    print(f"coop bench --plots: {msg}", file=sys.stderr)
    sys.exit(2)


def body(samples):
    """The samples up to their p99.9: a few preemptions would squash the picture."""
    s = sorted(samples)
    return s[:max(1, int(len(s) * 0.999))]


def compared(res, by_name):
    """The results r is drawn with: itself, then each part of its baseline."""
    out = {r_name_label(res): body(res["samples"])}
    for part in (res.get("baseline") or "").split("+"):
        b = by_name.get(part)
        if b and b["unit"] == res["unit"] and b.get("samples"):
            out[r_name_label(b) + " (baseline)"] = body(b["samples"])
    return out


def r_name_label(r):
    return f"{r['name']}: median {r['median']:g} {r['unit']}"


def one(plt, plots, res, by_name, out):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    plots._hist_cdf(a, b, compared(res, by_name), res["name"])
    for ax in (a, b):
        ax.set_xlabel(AXIS.get(res["unit"], res["unit"]))
    fig.text(0.01, 0.01, res.get("note", "") + " (drawn up to p99.9; the table has the max)",
             fontsize=7, alpha=0.7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path = os.path.join(out, f"{res['name']}.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return os.path.basename(path)


def ratios(plt, results, targets, out):
    """Median / baseline median per subject, log scale, 1x marked."""
    subj = [r for r in results if r.get("baseline") and r.get("ratio")]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(subj) + 1.2))
    names = [f"{r['name']} / {r['baseline']}" for r in subj]
    # Bars grow from 1x: right is slower (latency) or faster (throughput) than the baseline.
    ax.barh(range(len(subj)), [r["ratio"] - 1 for r in subj], left=1, color="tab:blue")
    ax.set_yticks(range(len(subj)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xlabel("median ratio to the baseline (throughput: higher is better)")
    held = sum(1 for t in targets if t.get("holds"))
    measured = sum(1 for t in targets if t.get("holds") is not None)
    ax.set_title(f"coop bench: subjects vs baselines ({held} of {measured} measured "
                 "targets hold)")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ratios.png"), dpi=100)
    plt.close(fig)
    return "ratios.png"


def index(doc, files, out):
    m = doc.get("machine", {})
    rows = "".join(f"<li>{html.escape(t['what'])}: {t['value'] if t['value'] is not None else '-'}"
                   f" &rarr; {'holds' if t['holds'] else 'MISSED' if t['holds'] is False else '-'}"
                   "</li>" for t in doc.get("targets", []))
    imgs = "".join(f'<h3>{html.escape(f[:-4])}</h3><img src="{html.escape(f)}">' for f in files)
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write(f"<!doctype html><meta charset=utf-8><title>coop bench</title>"
                f"<h1>coop bench</h1><p>{html.escape(m.get('cpu', ''))}, {m.get('cpus')} CPUs, "
                f"TSC {m.get('tsc_mhz')} MHz, {html.escape(m.get('kernel', ''))}, "
                f"{html.escape(m.get('virtualization', ''))}</p><ul>{rows}</ul>{imgs}")


def main(argv):
    if len(argv) != 2:
        die("usage: python3 -m coop_analyze.benchplots BENCH_JSON OUT_DIR")
    try:
        import numpy  # noqa: F401
        from . import plots
        import matplotlib.pyplot as plt
    except ImportError as e:
        die(f"cannot import {e.name}: install python3-numpy and python3-matplotlib")
    try:
        with open(argv[0]) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die(f"{argv[0]}: {e}")
    results = [r for r in doc.get("results", []) if r.get("samples")]
    by_name = {r["name"]: r for r in results}
    os.makedirs(argv[1], exist_ok=True)
    files = [ratios(plt, results, doc.get("targets", []), argv[1])]
    files += [one(plt, plots, r, by_name, argv[1]) for r in results]
    index(doc, files, argv[1])
    print(f"coop bench: {len(files)} plots and index.html in {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
