# SPDX-License-Identifier: MIT
# spec.py - the campaign file (docs/campaign.md): one directive per line,
# `#` starts a comment.  Axes (plan, seeds, workload, cmdline, disk,
# backend) are lists of values whose product, times `repeat`, is the runs;
# settings (repeat, timeout, trace) are said at most once.  A mistake is a
# CampaignError naming FILE:LINE:COL, which the caller prints as one line.
import hashlib
import os
import re
import shlex
import subprocess

AXES = ("plan", "seed", "workload", "cmdline", "disk", "backend")
SETTINGS = ("repeat", "timeout", "trace")
NAME = re.compile(r"[A-Za-z0-9_.%+-]+$")
SIZE = re.compile(r"([0-9]+)([KMGT]?)(i?B)?$")
TIME = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$")
DISK_UNIT = re.compile(r"cobd([0-7])$")
MAX_RUNS = 1000000


class CampaignError(Exception):
    """A mistake in a campaign file: str() is 'FILE:LINE:COL: message'."""

    def __init__(self, path, line, col, msg):
        super().__init__(f"{path}:{line}:{col}: {msg}" if line else f"{path}: {msg}")


class Line:
    """One directive: its words and the column (1-based) where each starts."""

    def __init__(self, path, no, text):
        self.path, self.no, self.text = path, no, text
        self.words = [(m.group(), m.start() + 1) for m in re.finditer(r"\S+", text)]

    def err(self, col, msg):
        return CampaignError(self.path, self.no, col, msg)

    def rest(self, i):
        """The text from word i to the end of the line (its column too)."""
        if i >= len(self.words):
            return "", len(self.text) + 1
        col = self.words[i][1]
        return self.text[col - 1:].rstrip(), col


def _strip_comment(text):
    """The line without its comment: `#` outside quotes starts one."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#":
            return text[:i]
    return text


def parse_size(s):
    m = SIZE.match(s)
    if not m:
        return None
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]


def parse_time(s):
    m = TIME.match(s)
    if not m:
        return None
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _seeds(line):
    out = []
    for w, col in line.words[1:]:
        m = re.match(r"([0-9]+)(?:-([0-9]+))?$", w)
        if not m:
            raise line.err(col, f"'{w}': expected a seed N or a range A-B")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if b < a or b - a >= MAX_RUNS or b >= 2 ** 64:
            raise line.err(col, f"'{w}': a range A-B needs A <= B < 2^64 (at most "
                           f"{MAX_RUNS} seeds)")
        out += [(str(s), s, col) for s in range(a, b + 1)]
    if not out:
        raise line.err(len(line.text) + 1, "seeds: expected seeds, e.g. 'seeds 1-20'")
    return out


def _named(line, what):
    """`AXIS NAME VALUE...`: (name, value text, value column)."""
    if len(line.words) < 2:
        raise line.err(len(line.text) + 1, f"{what}: expected a NAME, then the value")
    name, col = line.words[1]
    if not NAME.match(name):
        raise line.err(col, f"'{name}': a name is letters, digits and _ . % + -")
    value, vcol = line.rest(2)
    return name, value, vcol


class Campaign:
    """A parsed campaign: axes[axis] = [(name, value, ...)] and the settings."""

    def __init__(self, path):
        self.path = path
        self.base = os.path.dirname(os.path.abspath(path))
        self.axes = {a: [] for a in AXES}
        self.repeat, self.timeout, self.trace = 1, 600.0, False
        self.said = {}

    def resolve(self, p):
        return p if os.path.isabs(p) else os.path.join(self.base, p)


def _plan(c, line, coop):
    name, value, vcol = _named(line, "plan")
    words = value.split()
    if not words:
        raise line.err(vcol, f"plan {name}: expected 'none', 'file PATH' or 'rules RULE; RULE...'")
    if words == ["none"]:
        return (name, None, None)
    kind = words[0]
    _, rcol = line.rest(3)
    if kind == "file":
        if len(words) != 2:
            raise line.err(rcol if len(words) > 2 else vcol,
                           "plan file: expected one PATH (no blanks)")
        path = c.resolve(words[1])
        try:
            text = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError) as e:
            raise line.err(rcol, f"plan {name}: cannot read {words[1]}: "
                           f"{getattr(e, 'strerror', None) or e}")
        _check_plan(line, rcol, text, coop, words[1], None)
        return (name, text, words[1])
    if kind == "rules":
        rules_text, col = line.rest(3)
        parts, starts, pos = [], [], 0
        for piece in rules_text.split(";"):
            lead = len(piece) - len(piece.lstrip())
            parts.append(piece.strip())
            starts.append(col + pos + lead)
            pos += len(piece) + 1
        if not any(parts):
            raise line.err(col, f"plan {name}: 'rules' needs at least one rule")
        text = "".join(p + "\n" for p in parts)
        _check_plan(line, col, text, coop, None, starts)
        return (name, text, None)
    raise line.err(vcol, f"plan {name}: '{kind}': expected 'none', 'file PATH' or 'rules RULE; "
                   "RULE...'")


def _check_plan(line, col, text, coop, shown, starts):
    """`coop faults check` on the plan's text; its error mapped back to the campaign line."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".plan", delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([coop, "faults", "check", f.name], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    finally:
        os.unlink(f.name)
    if r.returncode == 0:
        return
    msg = (r.stderr.strip().splitlines() or ["coop faults check failed"])[0]
    m = re.match(re.escape(f.name) + r":([0-9]+):([0-9]+): (.*)$", msg)
    if not m:
        raise line.err(col, f"plan: {msg}")
    pl, pc, what = int(m.group(1)), int(m.group(2)), m.group(3)
    if starts:  # inline: rule pl starts at column starts[pl-1] of the campaign line
        raise line.err(starts[pl - 1] + pc - 1 if pl <= len(starts) else col, what)
    raise line.err(col, f"{shown}:{pl}:{pc}: {what}")


def _disk(c, line):
    name, value, vcol = _named(line, "disk")
    if value.split() == ["none"]:
        return (name, [])
    specs = []
    for w, col in line.words[2:]:
        unit, eq, src = w.partition("=")
        if not eq or not DISK_UNIT.match(unit):
            raise line.err(col, f"'{w}': expected cobdN=size:SIZE or cobdN=image:PATH[,ro]")
        kind, _, arg = src.partition(":")
        if kind == "size":
            n = parse_size(arg)
            if not n or n % 512:
                raise line.err(col + len(unit) + 6, f"'{arg}': expected a size, a multiple of "
                               "512 bytes (e.g. 16M)")
            specs.append({"unit": unit, "size": n})
        elif kind == "image":
            path, ro = arg, False
            if path.endswith(",ro"):
                path, ro = path[:-3], True
            full = c.resolve(path)
            if not path or not os.access(full, os.R_OK) or not os.path.isfile(full):
                raise line.err(col + len(unit) + 7, f"disk image '{path}': not a readable file")
            specs.append({"unit": unit, "image": full, "ro": ro})
        else:
            raise line.err(col + len(unit) + 1, f"'{src}': expected size:SIZE or image:PATH")
        if sum(1 for s in specs if s["unit"] == unit) > 1:
            raise line.err(col, f"{unit} twice in one disk variant")
    if not specs:
        raise line.err(vcol, f"disk {name}: expected cobdN=size:SIZE or cobdN=image:PATH, or none")
    return (name, specs)


def _setting(c, line):
    key = line.words[0][0]
    if key in c.said:
        raise line.err(1, f"'{key}' said twice (first on line {c.said[key]})")
    c.said[key] = line.no
    if len(line.words) != 2:
        raise line.err(line.words[2][1] if len(line.words) > 2 else len(line.text) + 1,
                       f"{key}: expected one value")
    w, col = line.words[1]
    if key == "repeat":
        if not re.match(r"[0-9]+$", w) or not 1 <= int(w) <= MAX_RUNS:
            raise line.err(col, f"repeat '{w}': expected a count 1..{MAX_RUNS}")
        c.repeat = int(w)
    elif key == "timeout":
        t = parse_time(w)
        if not t or t <= 0:
            raise line.err(col, f"timeout '{w}': expected a time with a unit (ms, s, m, h), "
                           "e.g. 60s")
        c.timeout = t
    elif key == "trace":
        if w not in ("on", "off"):
            raise line.err(col, f"trace '{w}': expected on or off")
        c.trace = w == "on"


def parse(path, coop):
    """Parse and check a campaign file (plans with `coop faults check` of this coop)."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as e:
        raise CampaignError(path, None, None, f"cannot read: {getattr(e, 'strerror', None) or e}")
    c = Campaign(path)
    for no, raw in enumerate(text.split("\n"), 1):
        line = Line(path, no, _strip_comment(raw))
        if not line.words:
            continue
        key, col = line.words[0]
        if key in SETTINGS:
            _setting(c, line)
            continue
        if key == "seeds":
            vals = _seeds(line)
            axis = "seed"
        elif key == "plan":
            vals = [_plan(c, line, coop)]
            axis = "plan"
        elif key in ("workload", "cmdline"):
            name, value, vcol = _named(line, key)
            if key == "workload" and not value:
                raise line.err(vcol, f"workload {name}: expected guest shell commands")
            try:
                shlex.split(value)
            except ValueError as e:
                raise line.err(vcol, f"{key} {name}: {e}")
            vals, axis = [(name, value)], key
        elif key == "disk":
            vals, axis = [_disk(c, line)], "disk"
        elif key == "backend":
            if len(line.words) < 2:
                raise line.err(len(line.text) + 1, "backend: expected user or kmod")
            vals = []
            for w, wc in line.words[1:]:
                if w not in ("user", "kmod"):
                    raise line.err(wc, f"backend '{w}': expected user or kmod")
                vals.append((w, w))
            axis = "backend"
        else:
            raise line.err(col, f"unknown axis or setting '{key}' (axes: plan, seeds, workload, "
                           "cmdline, disk, backend; settings: repeat, timeout, trace)")
        seen = {v[0] for v in c.axes[axis]}
        for v in vals:
            vcol = v[2] if axis == "seed" else (line.words[1][1] if len(line.words) > 1 else col)
            if v[0] in seen:
                raise line.err(vcol, f"{axis} '{v[0]}' given twice")
            seen.add(v[0])
            c.axes[axis].append(v[:2] if axis == "seed" else v)
    if not c.axes["workload"]:
        raise CampaignError(path, max(1, len(text.rstrip("\n").split("\n"))), 1,
                            "no workload: say at least one, e.g. 'workload scrub blk scrub 0'")
    n = c.repeat
    for a in AXES:
        n *= max(1, len(c.axes[a]))
    if n > MAX_RUNS:
        raise CampaignError(path, 1, 1, f"{n} runs: at most {MAX_RUNS}")
    return c


def plan_prob(text):
    """The fault probability of a plan, when all its rules say the same prob=; else None."""
    if not text:
        return None
    probs = set()
    for ln in text.splitlines():
        ln = ln.split("#")[0].strip()
        if not ln or ln.startswith("seed"):
            continue
        m = re.search(r"\bprob=([0-9.]+)(%?)", ln)
        if not m:
            return None
        probs.add(float(m.group(1)) / (100 if m.group(2) else 1))
    return probs.pop() if len(probs) == 1 else None


def _fill(text, fill):
    """{seed} and {rep} in a workload or command line: the run's seed (0 without
    one) and repetition (0, 1, ...)."""
    for k, v in fill.items():
        text = text.replace(k, v)
    return text


def expand(c):
    """The runs, in a fixed order: a list of dicts (id, axes' names, what to run)."""
    def values(axis, default):
        return c.axes[axis] or [default]
    runs = []
    for plan in values("plan", ("none", None, None)):
        for cmdline in values("cmdline", ("none", "")):
            for workload in c.axes["workload"]:
                for disk in values("disk", ("none", [])):
                    for backend in values("backend", ("user", "user")):
                        for seed in values("seed", ("plan", None)):
                            for rep in range(c.repeat):
                                fill = {"{seed}": "0" if seed[1] is None else str(seed[1]),
                                        "{rep}": str(rep)}
                                runs.append({
                                    "id": f"{len(runs):06d}",
                                    "axes": {"plan": plan[0], "cmdline": cmdline[0],
                                             "workload": workload[0], "disk": disk[0],
                                             "backend": backend[0], "seed": seed[0],
                                             "rep": rep},
                                    "plan_prob": plan_prob(plan[1]),
                                    "seed": seed[1], "cmdline": _fill(cmdline[1], fill),
                                    "exec": _fill(workload[1], fill), "disks": disk[1],
                                    "backend": backend[1]})
    return runs


def plans(c):
    """{name: plan text} of the plans that have one (written to DIR/plans/NAME.plan)."""
    return {p[0]: p[1] for p in c.axes["plan"] if p[1] is not None}


def digest(obj_text):
    return hashlib.sha256(obj_text.encode()).hexdigest()
