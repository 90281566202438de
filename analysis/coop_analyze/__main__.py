# SPDX-License-Identifier: MIT
# coop analyze - plots, timeline, Perfetto JSON and an HTML report from a
# `coop run --trace DIR` trace.  `coop analyze TRACE_DIR -o OUT` runs this
# with /usr/bin/python3 -m coop_analyze (Debian's python, for python3-bt2);
# so does `PYTHONPATH=analysis /usr/bin/python3 -m coop_analyze TRACE_DIR -o OUT`.
import argparse
import json
import os
import sys
import time

NEEDS = (("bt2", "python3-bt2"), ("numpy", "python3-numpy"),
         ("matplotlib", "python3-matplotlib"))


def die(msg, status=2):
    print(f"coop analyze: {msg}", file=sys.stderr)
    sys.exit(status)


def parse(argv):
    p = argparse.ArgumentParser(prog="coop analyze", description=(
        "Analyse a coop trace: latency histograms and CDFs, a timeline, message flows, "
        "the fault report, a Perfetto JSON export and index.html, all in OUT_DIR."),
        epilog="Needs Debian's /usr/bin/python3 with python3-bt2, python3-numpy and "
        "python3-matplotlib (scripts/install-deps installs them). Exit status: 0 done; 2 bad "
        "option, unreadable trace or missing package. docs/analysis.md says what each file "
        "and metric is.")
    p.add_argument("trace", metavar="TRACE_DIR", help="the directory of `coop run --trace`")
    p.add_argument("-o", "--output", metavar="OUT_DIR", required=True,
                   help="where the report goes (created)")
    p.add_argument("--json", metavar="FILE", help="also write the summary statistics here "
                   "('-' for stdout); OUT_DIR/summary.json always has them")
    p.add_argument("--report", metavar="FILE", help="the run's --report JSON: fault outcomes "
                   "(detected/recovered/escaped) the trace does not carry")
    p.add_argument("--pid", type=int, metavar="PID", help="analyse only this coop process's "
                   "events (a trace that holds several coop processes needs it)")
    p.add_argument("--format", choices=("png", "svg"), default="png", help="plot format")
    p.add_argument("--no-perfetto", action="store_true", help="skip the Perfetto JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on stdout")

    def error(message):  # one line, exit 2, as every coop command
        die(message)
    p.error = error
    return p.parse_args(argv)


def main(argv):
    args = parse(argv)
    for mod, pkg in NEEDS:
        try:
            __import__(mod)
        except ImportError as e:
            die(f"cannot import the Python module {mod} ({e}): install the Debian package {pkg}")
    from . import perfetto, plots, report, stats, tracefile
    from pathlib import Path

    tdir = Path(args.trace)
    if not tdir.is_dir():
        die(f"{args.trace}: not a directory")
    if not any(tdir.rglob("metadata")):
        die(f"{args.trace}: no CTF trace here (no metadata file under it)")
    run_report = None
    if args.report:
        try:
            run_report = json.load(open(args.report))
        except (OSError, ValueError) as e:
            die(f"{args.report}: {e}")
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        die(f"{args.output}: {e}")
    t0, t_wall = time.monotonic(), time.time()
    try:
        tr = tracefile.load(tdir, args.pid)
    except Exception as e:  # bt2 errors carry babeltrace2's cause chain
        die(f"{args.trace}: babeltrace2 cannot read it: {str(e).splitlines()[0] if str(e) else e}")
    if tr.total == 0:
        die(f"{args.trace}: the trace has no events"
            + (f" of process {args.pid}" if args.pid is not None else ""))
    runs = sorted(set(tr.boot_vpids))
    if len(runs) > 1:
        die(f"{args.trace}: holds {len(runs)} coop processes (vpids {', '.join(map(str, runs))}): "
            "pick one with --pid")
    if len(tr.boot_vpids) > 1:
        die(f"{args.trace}: holds {len(tr.boot_vpids)} guest boots of one process: "
            "analyze one run's trace (coop run --trace DIR records one run)")
    if run_report is None and (tdir / "report.json").is_file():
        try:  # coop run --trace writes its run report beside the trace
            run_report = json.load(open(tdir / "report.json"))
        except (OSError, ValueError) as e:
            die(f"{tdir / 'report.json'}: {e}")
    t_read = time.monotonic()
    st, aux = stats.compute(tr, run_report)
    t_stats = time.monotonic()
    files = plots.all_plots(tr, st, aux, out, args.format)
    t_plots = time.monotonic()
    links = []
    if not args.no_perfetto:
        n = perfetto.write(tr, aux, out / "perfetto.json")
        st["perfetto"] = {"file": "perfetto.json", "records": n}
        links.append("perfetto.json")
    t_done = time.monotonic()
    st["outputs"] = {"plots": files, "html": "index.html", "summary": "summary.json"}
    # Where this came from: the run's provenance (its report) and this analysis's own.
    st["provenance"] = {
        "run": (run_report or {}).get("provenance"),
        "analysis": {"coop": os.environ.get("COOP_VERSION", "unknown"),
                     "commit": os.environ.get("COOP_COMMIT", "unknown"),
                     "command": ["coop", "analyze"] + list(argv),
                     "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_wall)),
                     "pid": args.pid}}
    st["analysis_seconds"] = {"read": round(t_read - t0, 3), "stats": round(t_stats - t_read, 3),
                              "plots": round(t_plots - t_stats, 3),
                              "perfetto": round(t_done - t_plots, 3),
                              "total": round(t_done - t0, 3)}
    text = json.dumps(st, indent=1, sort_keys=False) + "\n"
    (out / "summary.json").write_text(text)
    links.insert(0, "summary.json")
    report.write(st, files, out / "index.html", links)
    if args.json == "-":
        sys.stdout.write(text)
    elif args.json:
        try:
            open(args.json, "w").write(text)
        except OSError as e:
            die(f"{args.json}: {e}", 1)
    if not args.quiet and args.json != "-":
        s = st["switches"]
        print(f"{tr.total} events ({tr.discarded} discarded) in "
              f"{st['trace']['duration_ns'] / 1e6:.1f} ms; {s['total']} world switches, "
              f"{st['irqs']['forwarded']} interrupts forwarded, "
              f"{st['faults']['injected_total']} faults injected")
        print(f"analysed in {t_done - t0:.1f} s (read {t_read - t0:.1f} s); "
              f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
