# SPDX-License-Identifier: MIT
# runs.py - a campaign directory (docs/campaign.md, "The directory"):
# DIR/campaign.json (the expanded runs), DIR/plans/, and one DIR/runs/ID/
# per run, which `exec` fills: the command line, the report, the fault log,
# stdout and stderr, and last, atomically (written aside, then renamed),
# its marker: done.json when coop ended by itself with a report, failed.json
# when it did not.  A run without a marker has not run, or was interrupted:
# it runs again, as does a failed one.
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

DONE, FAILED, RUNNING = "done.json", "failed.json", "running"


def write_atomic(path, text):
    """Write text to path so that readers see all of it or nothing."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(dirpath):
    """The campaign of a directory (its campaign.json), or raise OSError/ValueError."""
    with open(os.path.join(dirpath, "campaign.json")) as f:
        return json.load(f)


def run_dir(camp, rid):
    return os.path.join(camp["dir"], "runs", rid)


def state(camp, rid):
    """'done', 'failed', 'running' (started, no marker yet) or 'pending', and the marker."""
    d = run_dir(camp, rid)
    for name, st in ((DONE, "done"), (FAILED, "failed")):
        try:
            with open(os.path.join(d, name)) as f:
                return st, json.load(f)
        except (OSError, ValueError):
            pass
    return ("running" if _alive(os.path.join(d, RUNNING)) else "pending"), None


def _alive(path):
    """Whether the exec that wrote this running marker may still run (one on this
    host that is gone was killed: its run is pending)."""
    try:
        host, pid = open(path).read().split()
    except (OSError, ValueError):
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def counts(camp):
    out = {"done": 0, "failed": 0, "running": 0, "pending": 0}
    for r in camp["runs"]:
        out[state(camp, r["id"])[0]] += 1
    return out


def command(camp, run, d):
    """The coop run command of a run whose directory is d."""
    cmd = [camp["coop"], "run", "--backend", run["backend"]]
    for disk in run["disks"]:
        img = os.path.join(d, f"{disk['unit']}.img")
        cmd += ["--disk", f"{disk['unit']}={img}" + (",ro" if disk.get("ro") else "")]
    if run["cmdline"]:
        cmd += ["--cmdline", run["cmdline"]]
    if run["axes"]["plan"] in camp["plans"]:
        cmd += ["--faults", os.path.join(camp["dir"], "plans", run["axes"]["plan"] + ".plan"),
                "--fault-log", os.path.join(d, "fault.log")]
        if run["seed"] is not None:
            cmd += ["--seed", str(run["seed"])]
    if camp["trace"]:
        cmd += ["--trace", os.path.join(d, "trace")]
    return cmd + ["--report", os.path.join(d, "report.json"), "--exec", run["exec"]]


def _make_disks(run, d):
    for disk in run["disks"]:
        img = os.path.join(d, f"{disk['unit']}.img")
        if "size" in disk:
            with open(img, "wb") as f:
                f.truncate(disk["size"])
        else:
            shutil.copyfile(disk["image"], img)


def _remove_disks(run, d):
    for disk in run["disks"]:
        try:
            os.unlink(os.path.join(d, f"{disk['unit']}.img"))
        except FileNotFoundError:
            pass


class Interrupted(Exception):
    pass


def _on_signal(sig, frame):
    raise Interrupted(sig)


def _last_line(path):
    try:
        lines = [x for x in open(path, errors="replace").read().splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def _wait(p, timeout):
    """coop's exit status, or None when it outlived the time limit (then it is killed)."""
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return None


def _outcome(status, d, timeout):
    """(marker name, reason) of a run that ended with this status."""
    if status is None:
        return FAILED, f"timed out after {timeout:g} s (killed)"
    if status < 0:
        return FAILED, f"killed by signal {-status}"
    try:
        with open(os.path.join(d, "report.json")) as f:
            json.load(f)
    except (OSError, ValueError):
        return FAILED, f"exit status {status}, no report: {_last_line(os.path.join(d, 'stderr'))}"
    if status == 2:
        return FAILED, f"exit status 2 (refused): {_last_line(os.path.join(d, 'stderr'))}"
    return DONE, ""


def exec_one(camp, run):
    """Run one run unless it is done; its state afterwards ('done' or 'failed')."""
    st, _ = state(camp, run["id"])
    if st == "done":
        return "done", "already done"
    if st == "running":  # another exec has it (another host, or still here): leave it
        return "skipped", "running elsewhere: " + open(
            os.path.join(run_dir(camp, run["id"]), RUNNING)).read().strip()
    d = run_dir(camp, run["id"])
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = command(camp, run, d)
    with open(os.path.join(d, "cmd"), "w") as f:
        f.write(shlex.join(cmd) + "\n")
    with open(os.path.join(d, "axes.json"), "w") as f:
        json.dump(run["axes"], f)
    start_wall, t0 = time.time(), time.monotonic()
    write_atomic(os.path.join(d, RUNNING), f"{socket.gethostname()} {os.getpid()}\n")
    p = None
    try:
        _make_disks(run, d)
        with open(os.path.join(d, "stdout"), "wb") as out, \
                open(os.path.join(d, "stderr"), "wb") as err:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=d)
            status = _wait(p, camp["timeout"])
    except Interrupted:
        os.unlink(os.path.join(d, RUNNING))
        if p and p.poll() is None:
            p.terminate()
            p.wait()
        raise
    finally:
        _remove_disks(run, d)
    if status is not None and -status in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Stopped from outside (Ctrl-C, scancel): no result, the run stays to do.
        os.unlink(os.path.join(d, RUNNING))
        raise Interrupted(-status)
    marker, reason = _outcome(status, d, camp["timeout"])
    rec = {"id": run["id"], "state": "done" if marker == DONE else "failed",
           "exit_status": status if status is not None and status >= 0 else None,
           "reason": reason, "duration_s": round(time.monotonic() - t0, 3),
           "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_wall)),
           "host": socket.gethostname()}
    write_atomic(os.path.join(d, marker), json.dumps(rec) + "\n")
    os.unlink(os.path.join(d, RUNNING))
    return rec["state"], reason


def running_pids(camp):
    """The execs of this campaign still running on this host (their running markers)."""
    out = []
    for r in camp["runs"]:
        path = os.path.join(run_dir(camp, r["id"]), RUNNING)
        if os.path.exists(path) and _alive(path):
            try:
                pid = int(open(path).read().split()[1])
                if b"coop_campaign" in open(f"/proc/{pid}/cmdline", "rb").read():
                    out.append(pid)
            except (OSError, ValueError, IndexError):
                pass
    return out


def exec_main(dirpath, ids):
    """`coop campaign exec DIR ID...`: what each GNU parallel job and Slurm task runs.
    Under the local runner ($COOP_CAMPAIGN_LOCK) it holds that lock shared while it
    runs, and runs nothing once the runner is stopping (DIR/stopping exists)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    lock = os.environ.get("COOP_CAMPAIGN_LOCK")
    if lock:
        import fcntl
        fd = os.open(lock, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_SH)
        if os.path.exists(os.path.join(dirpath, "stopping")):
            return 130
    camp = load(dirpath)
    by_id = {r["id"]: r for r in camp["runs"]}
    bad = [i for i in ids if i not in by_id]
    if bad:
        print(f"coop campaign exec: {dirpath}: no run {bad[0]}", file=sys.stderr)
        return 2
    failed = 0
    try:
        for i in ids:
            st, reason = exec_one(camp, by_id[i])
            failed += st == "failed"
            print(f"{i} {st}{' ' + reason if reason else ''}", flush=True)
    except Interrupted as e:
        return 128 + e.args[0]
    return 1 if failed else 0
