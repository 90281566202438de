# SPDX-License-Identifier: MIT
# runner.py - where a campaign's runs go: GNU parallel on this machine
# (progress on stderr; Ctrl-C stops it, a rerun resumes), or a Slurm job
# array (an sbatch script; each task runs `coop campaign exec DIR ID...`).
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from . import runs

MAX_ARRAY = 1000  # Slurm's default MaxArraySize is 1001: indexes 0..1000


def say(msg):
    print(f"coop campaign: {msg}", file=sys.stderr)


def pending(camp):
    """The runs to do: no marker, or a failed one (a rerun redoes those)."""
    return [r["id"] for r in camp["runs"] if runs.state(camp, r["id"])[0] != "done"]


def _clock(s):
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """done/failed/remaining and an ETA on stderr: one updated line on a
    terminal, else a line every few seconds."""

    def __init__(self, total, done, todo):
        self.total, self.done, self.failed, self.todo = total, done, 0, todo
        self.finished = 0  # in this session, for the rate
        self.t0 = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.printed = None

    def line(self):
        el = time.monotonic() - self.t0
        left = self.todo - self.finished
        eta = _clock(el / self.finished * left) if self.finished else "?"
        return (f"coop campaign: {self.done}/{self.total} done, {self.failed} failed, "
                f"{left} remaining, elapsed {_clock(el)}, ETA {eta}")

    def update(self, st, force=False):
        if st:
            self.finished += 1
            if st == "done":
                self.done += 1
            else:
                self.failed += 1
        now = time.monotonic()
        if self.tty:
            sys.stderr.write("\r" + self.line() + "\033[K" + ("\n" if force else ""))
        elif (force or now - self.last >= 5) and self.line() != self.printed:
            self.printed = self.line()
            sys.stderr.write(self.printed + "\n")
            self.last = now
        sys.stderr.flush()


def _exec_cmd(camp):
    """The command that runs runs of this campaign (arguments: the run ids)."""
    return [camp["coop"], "campaign", "exec", camp["dir"]]


def local(camp, jobs):
    """Run every pending run with GNU parallel; coop's exit status for the whole."""
    todo = pending(camp)
    total = len(camp["runs"])
    c = runs.counts(camp)
    if not todo:
        say(f"all {total} runs done already ({camp['dir']})")
        return 0
    if not shutil.which("parallel"):
        say("GNU parallel not found: install the Debian package parallel")
        return 2
    say(f"{total} runs, {c['done']} done, {len(todo)} to run ({c['failed']} failed before), "
        f"{jobs} at a time")
    todo_file = os.path.join(camp["dir"], "todo")
    runs.write_atomic(todo_file, "".join(i + "\n" for i in todo))
    # Ctrl-C: parallel TERMs each job's process group (the exec and its coop),
    # gives it 2 s to leave no marker half-written, then kills it.
    cmd = ["parallel", "--will-cite", "--line-buffer", "-j", str(jobs), "--termseq",
           "TERM,2000,KILL,25", "--joblog", os.path.join(camp["dir"], "joblog"),
           "-a", todo_file]
    cmd += [shlex.quote(x) for x in _exec_cmd(camp)] + ["{}"]
    prog = Progress(total, c["done"], len(todo))
    interrupted, proc = [], []
    stopping = os.path.join(camp["dir"], "stopping")
    lock = os.path.join(camp["dir"], "lock")
    open(lock, "a").close()
    if os.path.exists(stopping):
        os.unlink(stopping)

    def stop(sig, frame):
        if not interrupted:
            open(stopping, "w").close()  # jobs parallel still starts run nothing
        interrupted.append(sig)
        if proc:
            proc[0].send_signal(signal.SIGINT)  # parallel TERMs its jobs and exits
    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, COOP_CAMPAIGN_LOCK=lock))
    proc.append(p)
    if interrupted:  # before parallel was there to be told
        p.send_signal(signal.SIGINT)
    for ln in p.stdout:
        w = ln.split()
        if len(w) >= 2 and w[1] in ("done", "failed"):
            prog.update(w[1])
        else:
            prog.update(None)
    p.wait()
    if interrupted:
        _sweep(camp, lock)
    for s, h in old.items():
        signal.signal(s, h)
    prog.update(None, force=True)
    c = runs.counts(camp)
    if interrupted:
        say(f"interrupted: {c['done']} of {total} runs done; the same command resumes")
        return 128 + interrupted[0]
    if c["failed"]:
        say(f"{c['failed']} of {total} runs failed (coop campaign status {camp['dir']}); "
            "the same command redoes them")
        return 1
    if c["done"] != total:
        say(f"GNU parallel ended (status {p.returncode}) with {total - c['done']} runs "
            "not done")
        return 1
    say(f"all {total} runs done; coop campaign collect {camp['dir']}")
    return 0


def _sweep(camp, lock):
    """After an interrupted parallel: stop a job it started as it was told to stop,
    and wait until no job holds the lock, so that nothing runs once we have said so."""
    import fcntl
    for pid in runs.running_pids(camp):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    fd = os.open(lock, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held until we exit: a late job then sees DIR/stopping


def sbatch_script(camp, tasks_file, ntasks, chunk, partition, extra):
    sd = os.path.join(camp["dir"], "slurm")
    minutes = math.ceil(chunk * (camp["timeout"] + 30) / 60) + 1
    lines = ["#!/bin/bash",
             "# coop campaign: one array task per line of " + os.path.basename(tasks_file) +
             " (the run ids it runs)",
             "#SBATCH --job-name=coop-campaign",
             f"#SBATCH --array=0-{ntasks - 1}",
             "#SBATCH --ntasks=1",
             "#SBATCH --cpus-per-task=1",
             f"#SBATCH --time={minutes}",
             f"#SBATCH --output={sd}/task-%A_%a.out",
             f"#SBATCH --chdir={camp['dir']}"]
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    lines += [f"#SBATCH {x}" for x in extra]
    lines += ["set -eu",
              f'ids=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {shlex.quote(tasks_file)})',
              "exec " + " ".join(shlex.quote(x) for x in _exec_cmd(camp)) + " $ids", ""]
    return "\n".join(lines)


def slurm(camp, chunk, partition, extra, dry_run):
    """Write an sbatch script with --array for the pending runs and submit it."""
    todo = pending(camp)
    if not todo:
        say(f"all {len(camp['runs'])} runs done already")
        return 0
    if not chunk:
        chunk = max(1, math.ceil(len(todo) / MAX_ARRAY))
    tasks = [todo[i:i + chunk] for i in range(0, len(todo), chunk)]
    if len(tasks) > MAX_ARRAY:
        say(f"{len(tasks)} array tasks: at most {MAX_ARRAY} (Slurm's MaxArraySize); use a "
            "larger --chunk")
        return 2
    sd = os.path.join(camp["dir"], "slurm")
    os.makedirs(sd, exist_ok=True)
    n = len([f for f in os.listdir(sd) if f.endswith(".sbatch")])
    tasks_file = os.path.join(sd, f"tasks-{n}.txt")
    runs.write_atomic(tasks_file, "".join(" ".join(t) + "\n" for t in tasks))
    script = os.path.join(sd, f"campaign-{n}.sbatch")
    runs.write_atomic(script, sbatch_script(camp, tasks_file, len(tasks), chunk, partition,
                                            extra))
    say(f"{len(todo)} runs in {len(tasks)} array tasks of {chunk}: {script}")
    if dry_run:
        say(f"not submitted (--dry-run): sbatch {script}")
        return 0
    if not shutil.which("sbatch"):
        say("sbatch not found (Slurm's client; Debian: slurm-client)")
        return 2
    r = subprocess.run(["sbatch", "--parsable", script], capture_output=True, text=True)
    if r.returncode:
        msg = (r.stderr.strip().splitlines() or ["?"])[-1]
        say(f"sbatch {script}: {msg}")
        return 1
    job = r.stdout.strip().split(";")[0]
    with open(os.path.join(sd, "jobs"), "a") as f:
        f.write(json.dumps({"job": job, "script": script, "tasks": len(tasks),
                            "runs": len(todo)}) + "\n")
    say(f"submitted job {job}; coop campaign status {camp['dir']}")
    return 0


def slurm_jobs(camp):
    """The Slurm jobs submitted for this directory, with squeue's view of their tasks."""
    path = os.path.join(camp["dir"], "slurm", "jobs")
    try:
        jobs = [json.loads(x) for x in open(path) if x.strip()]
    except (OSError, ValueError):
        return []
    for j in jobs:
        j["queue"] = {}
        if shutil.which("squeue"):
            r = subprocess.run(["squeue", "-h", "-r", "-j", j["job"], "-o", "%T"],
                               capture_output=True, text=True)
            for s in r.stdout.split():
                j["queue"][s] = j["queue"].get(s, 0) + 1
    return jobs
