#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""layers.py - the host side's rooms and arrows, checked on what was built.

  1. No circle among the monitor's files: in libcoop_shim.a (core/,
     devices/, backend/, arch/), file A "uses" file B when A's object needs
     a symbol B's object defines; the files must form no cycle (Tarjan's
     strongly connected components, of size 1 each).
  2. Arrows point down: nothing under hypervisor-shim/ includes a header
     of bench/ (which is above it), only what runs a guest (cli/cmd_run.c)
     includes the run loop's header core/monitor.h, and core/ holds no
     command-line code (no main(), no getopt: that is cli/'s).

Usage: layers.py LIBCOOP_SHIM_A SOURCE_DIR   (ctest passes both)
"""
import os
import re
import subprocess
import sys


def symbols(archive):
    """{member: (defined, undefined)} from nm -A."""
    out = subprocess.run(["nm", "-A", archive], check=True, capture_output=True,
                         text=True).stdout
    files = {}
    for line in out.splitlines():
        m = re.match(r"^[^:]+:([^:]+):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        member, kind, sym = m.groups()
        d, u = files.setdefault(member, (set(), set()))
        (u if kind == "U" else d if kind in "TDBRW" else set()).add(sym)
    return files


def cycles(edges):
    """Strongly connected components with more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    archive, src = sys.argv[1], sys.argv[2]
    failed = 0
    files = symbols(archive)
    owner = {s: f for f, (d, _) in files.items() for s in d}
    edges = {f: sorted({owner[s] for s in u if s in owner and owner[s] != f})
             for f, (_, u) in files.items()}
    found = cycles(edges)
    for c in found:
        print(f"FAIL: these files of libcoop_shim.a use each other in a circle: {' '.join(c)}")
        for f in c:
            print(f"      {f} -> {' '.join(e for e in edges[f] if e in c)}")
    failed += len(found)
    if not found:
        print(f"ok   {len(files)} files of the monitor, {sum(map(len, edges.values()))} arrows, "
              "no circle")

    shim = os.path.join(src, "hypervisor-shim")
    for root, _, names in os.walk(shim):
        for n in names:
            if not n.endswith((".c", ".h", ".S")):
                continue
            path = os.path.join(root, n)
            rel = os.path.relpath(path, src)
            text = open(path, encoding="utf-8", errors="replace").read()
            if re.search(r'#\s*include\s+"bench/', text):
                print(f"FAIL: {rel} includes a bench/ header (bench is above the monitor)")
                failed += 1
            if re.search(r'#\s*include\s+"core/monitor.h"', text) and rel not in (
                    "hypervisor-shim/core/monitor.c", "hypervisor-shim/cli/cmd_run.c"):
                print(f"FAIL: {rel} includes the run loop's header (core/monitor.h): only "
                      "what runs a guest may")
                failed += 1
            if rel.startswith("hypervisor-shim/core/") and re.search(
                    r"\bint\s+main\s*\(|\bgetopt(_long)?\s*\(", text):
                print(f"FAIL: {rel} holds command-line code (main or getopt): it belongs in cli/")
                failed += 1
    if not failed:
        print("ok   nothing under hypervisor-shim/ includes bench/; only cmd_run.c the run "
              "loop's header; core/ has no command-line code")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
