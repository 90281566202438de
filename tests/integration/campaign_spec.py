#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""campaign_spec.py - the campaign file parser on seed-generated files.

For each seed: a random valid campaign (axes of random sizes, comments,
blank lines, odd spacing, inline and file plans) parses, and expands to
exactly the product of its axes times its repetitions, each combination
once; then one directive is damaged (an unknown keyword, a bad seed, a
stray word after a setting, a bad inline rule) and the error names that
line and the damaged word's column.  A failure prints its seed.
COOP_PROPERTY_CAMPAIGNS=N checks N seeds (default 100).
"""
import os
import random
import sys
import tempfile

COOP = os.environ["COOP"]
sys.path.insert(0, os.path.join(os.path.dirname(COOP), "coop-analyze"))
from coop_campaign import spec  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "faults",
                        "examples")


def sp(rng):
    return " " * rng.randint(1, 3)


def generate(rng):
    """(lines, expected run count, {axis: count})."""
    lines, n = [], {}
    plans = rng.randint(0, 3)
    for i in range(plans):
        k = rng.choice(("none", "file", "rules"))
        if k == "none":
            lines.append(f"plan{sp(rng)}p{i}{sp(rng)}none")
        elif k == "file":
            lines.append(f"plan p{i} file {os.path.join(EXAMPLES, 'mixed.plan')}")
        else:
            rules = [f"corrupt device=cobd prob={rng.choice(('0.1%', '1%', '0.05'))}",
                     "drop every=7", "delay 1ms device=cobd prob=2%"]
            lines.append(f"plan p{i} rules " + " ; ".join(rng.sample(rules, rng.randint(1, 3))))
    n["plan"] = plans or 1
    seeds, nseeds = [], 0
    for _ in range(rng.randint(0, 2)):
        a = rng.randint(nseeds * 100, nseeds * 100 + 50)
        b = a + rng.randint(0, 5)
        seeds.append(f"{a}-{b}" if b > a or rng.random() < 0.5 else f"{a}")
        nseeds += b - a + 1
    if seeds:
        lines.append("seeds" + sp(rng) + sp(rng).join(seeds))
    n["seed"] = nseeds or 1
    nw = rng.randint(1, 3)
    lines += [f"workload w{i} blk scrub 0; echo {i}" for i in range(nw)]
    n["workload"] = nw
    nc = rng.randint(0, 2)
    lines += [f"cmdline c{i} cobd_max_kib={4 << i}" for i in range(nc)]
    n["cmdline"] = nc or 1
    nd = rng.randint(0, 2)
    lines += [f"disk d{i} cobd0=size:{i + 1}M" + (" cobd1=size:1M" if i else "") for i in range(nd)]
    n["disk"] = nd or 1
    rep = rng.randint(1, 3)
    if rep > 1 or rng.random() < 0.3:
        lines.append(f"repeat {rep}")
    if rng.random() < 0.5:
        lines.append(f"timeout {rng.randint(1, 90)}s")
    if rng.random() < 0.3:
        lines.append(f"trace {rng.choice(('on', 'off'))}")
    rng.shuffle(lines)
    out = []
    for ln in lines:
        if rng.random() < 0.2:
            out.append("# a comment")
        if rng.random() < 0.2:
            out.append("")
        out.append(ln + ("   # why" if rng.random() < 0.2 else ""))
    total = rep
    for v in n.values():
        total *= v
    return out, total, n


def damage(rng, lines):
    """(lines, line number, column) of one damaged directive."""
    idx = [i for i, ln in enumerate(lines) if ln and not ln.startswith("#")]
    i = rng.choice(idx)
    ln = lines[i]
    words = ln.split("#")[0].split()
    kinds = ["keyword"]
    if words[0] in ("repeat", "timeout", "trace"):
        kinds.append("extra")
    if words[0] == "seeds":
        kinds.append("seed")
    if words[0] == "plan" and words[2] == "rules":
        kinds.append("rule")
    k = rng.choice(kinds)
    if k == "keyword":
        new = "x" + ln.lstrip()
        col = 1
    elif k == "extra":
        body = ln.split("#")[0].rstrip()
        new, col = body + " extra", len(body) + 2
    elif k == "seed":
        body = ln.split("#")[0].rstrip()
        new, col = body + " 7-x", len(body) + 2
    else:
        body = ln.split("#")[0].rstrip()
        new, col = body + " ; frob prob=1%", len(body) + 4
    lines = list(lines)
    lines[i] = new
    return lines, i + 1, col


class Fail(Exception):
    """A broken property: its message names the seed."""


def main():
    count = int(os.environ.get("COOP_PROPERTY_CAMPAIGNS", "100"))
    base = int(os.environ.get("COOP_PROPERTY_SEED", "1"))
    with tempfile.TemporaryDirectory(prefix="coop-campaign-spec.") as tmp:
        try:
            check(os.path.join(tmp, "c.campaign"), base, count)
        except Fail as e:
            print(f"FAIL: {e}")
            return 1
    print(f"ok   {count} generated campaigns (seeds {base}..{base + count - 1}): each expands to "
          "the product of its axes, and its damaged copy is refused at the damaged column")
    return 0


def check(path, base, count):
    for seed in range(base, base + count):
        rng = random.Random(seed)
        lines, total, n = generate(rng)
        open(path, "w").write("\n".join(lines) + "\n")
        try:
            c = spec.parse(path, COOP)
        except spec.CampaignError as e:
            raise Fail(f"seed {seed}: a valid campaign refused: {e}\n" + "\n".join(lines))
        runs = spec.expand(c)
        combos = {tuple(sorted(r["axes"].items())) for r in runs}
        if len(runs) != total or len(combos) != total:
            raise Fail(f"seed {seed}: {len(runs)} runs ({len(combos)} distinct), expected "
                       f"{total} = product of {n} x repeat\n" + "\n".join(lines))
        for axis, k in n.items():
            got = {r["axes"][axis] for r in runs}
            if len(got) != k:
                raise Fail(f"seed {seed}: axis {axis} has {len(got)} values, expected {k}")
        bad, lno, col = damage(rng, lines)
        open(path, "w").write("\n".join(bad) + "\n")
        try:
            spec.parse(path, COOP)
        except spec.CampaignError as e:
            want = f"{path}:{lno}:{col}: "
            if not str(e).startswith(want):
                raise Fail(f"seed {seed}: expected an error at {lno}:{col}, got: {e}\n"
                           f"line {lno}: {bad[lno - 1]}")
        else:
            raise Fail(f"seed {seed}: damaged line {lno} accepted: {bad[lno - 1]}")


if __name__ == "__main__":
    sys.exit(main())
