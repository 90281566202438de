# SPDX-License-Identifier: MIT
# coop campaign - run many coop runs from a campaign file and merge them.
# `coop campaign run FILE -o DIR`, `status DIR`, `collect DIR` (and `exec`,
# what each job runs) execs /usr/bin/python3 -m coop_campaign with
# COOP_PROGRAM naming that coop; docs/campaign.md is the manual.
import argparse
import json
import os
import sys

from . import runs, spec


def die(msg, status=2):
    print(f"coop campaign: {msg}", file=sys.stderr)
    sys.exit(status)


def parser():
    p = argparse.ArgumentParser(prog="coop campaign", description=(
        "Many coop runs from one campaign file - the product of its axes (plans, seeds, "
        "workloads, guest command lines, disks, backends) times its repetitions - on GNU "
        "parallel on this machine or a Slurm job array, each in its own directory, merged "
        "by `collect` into one table with rates and Wilson 95% intervals, plots and "
        "index.html."), epilog="Exit status: 0 done; 1 some runs failed (run), "
        "unaccounted faults (collect); 2 bad campaign file, option or directory (one line "
        "naming FILE:LINE:COL; nothing runs); 130 interrupted (the same command resumes). "
        "docs/campaign.md is the manual.")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    r = sub.add_parser("run", help="expand FILE into runs in DIR and run those not done",
                       description="Expand the campaign FILE into runs, each in DIR/runs/ID, "
                       "and run every run not done yet (a rerun skips done runs and redoes "
                       "failed ones; Ctrl-C leaves no half-written result).")
    r.add_argument("file", metavar="FILE", help="the campaign file")
    r.add_argument("-o", "--output", metavar="DIR", required=True,
                   help="the campaign's directory (created; a rerun resumes in it)")
    r.add_argument("-j", "--jobs", type=int, default=os.cpu_count(), metavar="N",
                   help="runs at a time on this machine (default: the CPU count, %(default)s)")
    r.add_argument("--runner", choices=("local", "slurm"), default="local",
                   help="local: GNU parallel here (default); slurm: an sbatch job array")
    r.add_argument("--chunk", type=int, default=0, metavar="N",
                   help="slurm: runs per array task (default 1, or more to stay within 1000 "
                   "tasks)")
    r.add_argument("--partition", metavar="NAME", help="slurm: the partition to submit to")
    r.add_argument("--sbatch", action="append", default=[], metavar="OPTION",
                   help="slurm: one more #SBATCH line, e.g. --sbatch=--mem=1G (repeatable)")
    r.add_argument("--dry-run", action="store_true",
                   help="slurm: write the sbatch script, do not submit it")
    s = sub.add_parser("status", help="how many runs of DIR are done, failed, running, pending",
                       description="Read a campaign directory back: runs done, failed (with "
                       "their reasons), running and pending, and its Slurm jobs.")
    s.add_argument("dir", metavar="DIR")
    s.add_argument("--json", action="store_true", help="the same as JSON on stdout")
    c = sub.add_parser("collect", help="one table, aggregates with intervals, plots, index.html",
                       description="Merge DIR's runs: runs.csv and runs.json (a row per run), "
                       "aggregate.csv and summary.json (per plan x axis: rates with Wilson 95% "
                       "intervals, faults by kind, durations), plots and index.html.")
    c.add_argument("dir", metavar="DIR")
    c.add_argument("-o", "--output", metavar="OUT_DIR",
                   help="where the results go (default DIR/results)")
    c.add_argument("--format", choices=("png", "svg"), default="png", help="plot format")
    c.add_argument("-q", "--quiet", action="store_true", help="no summary on stdout")
    e = sub.add_parser("exec", help="run these runs of DIR (what each parallel job and Slurm "
                       "task runs)")
    e.add_argument("dir", metavar="DIR")
    e.add_argument("ids", metavar="ID", nargs="+")
    for q in (p, r, s, c, e):
        q.error = die  # one line, exit 2, as every coop command
    return p


def campaign_of(args, coop):
    """Parse the file and lay out DIR (or check that DIR holds this campaign)."""
    try:
        c = spec.parse(args.file, coop)
    except spec.CampaignError as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    d = os.path.abspath(args.output)
    camp = {"source": os.path.abspath(args.file), "dir": d, "coop": coop,
            "timeout": c.timeout, "trace": c.trace, "plans": spec.plans(c),
            "axes": {a: [v[0] for v in c.axes[a]] for a in spec.AXES},
            "runs": spec.expand(c)}
    camp["axes"]["rep"] = list(range(c.repeat))
    path = os.path.join(d, "campaign.json")
    if os.path.exists(path):
        try:
            old = runs.load(d)
        except (OSError, ValueError) as e:
            die(f"{path}: {e}")
        if old.get("runs") != camp["runs"] or old.get("plans") != camp["plans"] or \
                old.get("trace") != camp["trace"]:
            die(f"{args.output}: holds another campaign (from {old.get('source')}): give "
                "another -o DIR")
    elif os.path.isdir(d) and os.listdir(d):
        die(f"{args.output}: not empty and not a campaign directory")
    try:
        os.makedirs(os.path.join(d, "plans"), exist_ok=True)
        os.makedirs(os.path.join(d, "runs"), exist_ok=True)
        for name, text in camp["plans"].items():
            runs.write_atomic(os.path.join(d, "plans", name + ".plan"), text)
        runs.write_atomic(os.path.join(d, "campaign.txt"), open(args.file).read())
        runs.write_atomic(path, json.dumps(camp, indent=1) + "\n")
    except OSError as e:
        die(f"{args.output}: {e.strerror or e}")
    return camp


def status(args):
    try:
        camp = runs.load(args.dir)
    except (OSError, ValueError) as e:
        die(f"{args.dir}: not a campaign directory ({e})")
    from . import runner
    n = runs.counts(camp)
    failed = []
    for r in camp["runs"]:
        st, m = runs.state(camp, r["id"])
        if st == "failed":
            failed.append({"run": r["id"], "axes": r["axes"], "reason": m.get("reason")})
    jobs = runner.slurm_jobs(camp)
    if args.json:
        print(json.dumps({"runs": len(camp["runs"]), **n, "failed_runs": failed,
                          "slurm_jobs": jobs}, indent=1))
        return 0
    print(f"{camp['dir']}: {len(camp['runs'])} runs: {n['done']} done, {n['failed']} failed, "
          f"{n['running']} running, {n['pending']} pending")
    for f in failed[:20]:
        print(f"  failed {f['run']} ({' '.join(f'{k}={v}' for k, v in f['axes'].items())}): "
              f"{f['reason']}")
    if len(failed) > 20:
        print(f"  ... and {len(failed) - 20} more (--json lists them all)")
    for j in jobs:
        q = ", ".join(f"{v} {k.lower()}" for k, v in sorted(j["queue"].items())) or "not queued"
        print(f"  slurm job {j['job']}: {j['tasks']} tasks for {j['runs']} runs: {q}")
    return 0


def main(argv):
    p = parser()
    args = p.parse_args(argv)
    if not args.cmd:
        p.print_usage(sys.stderr)
        return 2
    coop = os.environ.get("COOP_PROGRAM")
    if args.cmd == "run":
        if not coop or not os.access(coop, os.X_OK):
            die("COOP_PROGRAM does not name the coop program (run this as `coop campaign`)")
        if args.jobs < 1 or args.chunk < 0:
            die("-j and --chunk: expected a positive count")
        camp = campaign_of(args, coop)
        from . import runner
        if args.runner == "slurm":
            return runner.slurm(camp, args.chunk, args.partition, args.sbatch, args.dry_run)
        return runner.local(camp, args.jobs)
    if args.cmd == "status":
        return status(args)
    if args.cmd == "exec":
        return runs.exec_main(args.dir, args.ids)
    try:
        runs.load(args.dir)
    except (OSError, ValueError) as e:
        die(f"{args.dir}: not a campaign directory ({e})")
    from . import collect
    return collect.collect(args.dir, args.output or os.path.join(args.dir, "results"),
                           args.format, args.quiet)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
