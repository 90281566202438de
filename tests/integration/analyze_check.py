# SPDX-License-Identifier: MIT
# analyze_check.py - checks on what `coop analyze` wrote, against what the
# babeltrace2 CLI says about the same trace (its text output, counted here
# independently of coop's reader).  Usage:
#   analyze_check.py outputs OUT_DIR EVENTS.txt REPORT.json [JSON_COPY]
#   analyze_check.py svg OUT_DIR          every plot is a parseable, non-empty SVG
#   analyze_check.py shot FILE.png        a screenshot that is not one colour
# Prints what it found; exits 1 with the reason when a check fails.
import json
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from pathlib import Path

from bt_text import events as bt_events  # beside this script

def need(cond, what):
    if not cond:
        print("analyze check failed:", what)
        sys.exit(1)


def png_pixels(path):
    """Validate a PNG (signature, chunk CRCs, IHDR, IEND) and decode it."""
    data = Path(path).read_bytes()
    need(len(data) > 100 and data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG")
    pos, chunks = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        need(zlib.crc32(kind + body) == crc, f"{path}: bad CRC in chunk {kind}")
        chunks.append((kind, body))
        pos += 12 + n
    need(chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", f"{path}: bad chunk order")
    w, h = struct.unpack(">II", chunks[0][1][:8])
    need(w > 0 and h > 0, f"{path}: empty image")
    import matplotlib.image
    px = matplotlib.image.imread(path)
    need(px.shape[0] == h and px.shape[1] == w, f"{path}: decodes to {px.shape}, IHDR {w}x{h}")
    return px


def not_one_colour(path):
    px = png_pixels(path)
    flat = px.reshape(-1, px.shape[-1])[:, :3]
    colours = len({tuple(c) for c in flat[:: max(1, len(flat) // 200000)].tolist()})
    need(colours > 1, f"{path}: a single colour (blank)")
    frac = (abs(flat - flat[0]).sum(axis=1) > 0.05).mean()
    need(frac > 0.01, f"{path}: {frac:.4f} of the pixels differ from the background")
    print(f"{path}: {px.shape[1]}x{px.shape[0]}, {colours}+ colours, "
          f"{100 * frac:.1f} % non-background")


def outputs(out, events_txt, report_json, json_copy=None):
    out = Path(out)
    ev = bt_events(events_txt)
    rep = json.load(open(report_json))
    st = json.load(open(out / "summary.json"))
    counts = Counter(n for n, _ in ev)
    need(ev, "babeltrace2 printed no coop events")
    # Statistics == babeltrace2's own counts.
    need(st["trace"]["events"] == len(ev), f"{st['trace']['events']} events analysed, "
         f"babeltrace2 shows {len(ev)}")
    need(st["trace"]["by_event"] == dict(counts),
         f"per-event counts differ: {st['trace']['by_event']} vs babeltrace2 {dict(counts)}")
    need(st["switches"]["total"] == counts["switch_out"] == rep["switches"]["total"],
         "switches.total differs from babeltrace2 / the run report")
    so = Counter(f["reason"] for n, f in ev if n == "switch_out")
    need(st["switches"]["by_reason"] == dict(so), f"by_reason {st['switches']['by_reason']} "
         f"vs babeltrace2 {dict(so)}")
    need(st["irqs"]["forwarded"] == counts["irq_forward"], "irqs.forwarded")
    need(st["irqs"]["delivered"] == sum(f["count"] for n, f in ev if n == "virq_deliver"),
         "irqs.delivered differs from the sum of virq_deliver.count")
    msgs = [f for n, f in ev if n == "message"]
    for dev, d in st["messages"].items():
        if not isinstance(d, dict):
            continue
        for dname, dirn in (("to_host", "TO_HOST"), ("to_guest", "TO_GUEST")):
            sel = [f for f in msgs if f["device"] == dev and f["direction"] == dirn]
            need(d[dname]["count"] == len(sel) and d[dname]["bytes"] == sum(f["length"] for f in sel),
                 f"messages.{dev}.{dname} {d[dname]} vs babeltrace2 {len(sel)}")
    # Request/reply pairs all matched.
    reqs = [f for f in msgs if f["device"] == "cobd" and f["direction"] == "TO_HOST"]
    need(reqs, "the workload made no cobd requests")
    rt = st["messages"]["cobd"]["round_trip"]
    need(rt["requests"] == len(reqs) and rt["matched"] == len(reqs) and
         rt["unmatched_requests"] == 0 and rt["unmatched_replies"] == 0,
         f"cobd request/reply pairing: {rt}, babeltrace2 shows {len(reqs)} requests")
    need(st["latency"]["message_rtt"]["cobd"]["count"] == len(reqs), "cobd rtt samples")
    # Block I/O per op == babeltrace2's blk_* fields of the requests, all answered.
    blk = st["block_io"]
    want = {}
    for f in reqs:
        if f["blk_op"] != "NONE":
            w = want.setdefault(f["blk_op"], {"count": 0, "bytes": 0})
            w["count"] += 1
            w["bytes"] += f["blk_bytes"]
    need(blk["present"] and want, f"block_io: {blk}, babeltrace2 shows {want}")
    for op, w in want.items():
        got = blk["by_op"].get(op, {})
        need(got.get("count") == w["count"] and got.get("bytes") == w["bytes"] and
             got.get("answered") == w["count"] and got["latency"]["count"] == w["count"],
             f"block_io.by_op.{op} {got}, babeltrace2 shows {w}, all answered")
    need(set(blk["by_op"]) == set(want), f"block_io ops {set(blk['by_op'])} vs {set(want)}")
    need(blk["replies_differing"] == 0, "replies naming another transfer, without faults")
    need("block_io.png" in st["outputs"]["plots"], "no block_io plot")
    # irq_forward (coop:irq_taken) is a forward that delivered a vIRQ, closed at the guest's
    # next exit; irq_serve (coop:irq_forward) is every forward's host part
    need(st["latency"]["irq_forward"]["all"]["count"] == counts["irq_taken"] > 0, "irq samples")
    need(counts["irq_taken"] <= counts["irq_forward"], "more irq_taken than forwards")
    need(st["latency"]["irq_serve"]["all"]["count"] == counts["irq_forward"], "irq_serve samples")
    need(st["latency"]["irq_forward"]["all"]["median"] > st["latency"]["irq_serve"]["all"]["median"],
         "a forward's whole way is shorter than its host part")
    need(st["provenance"]["run"] and st["provenance"]["run"]["commit"] ==
         st["provenance"]["analysis"]["commit"], f"provenance {st['provenance']}")
    need(st["latency"]["world_switch"]["all"]["count"] ==
         sum(st["latency"]["world_switch"]["by_reason"][r]["count"]
             for r in st["latency"]["world_switch"]["by_reason"]), "world switch samples")
    # Faults: none in this run, and the report says so.
    html = (out / "index.html").read_text()
    need(not st["faults"]["present"] and "No faults" in html, "fault report for a run without faults")
    # Every plot: a valid, non-empty PNG.
    plots = st["outputs"]["plots"]
    need(len(plots) >= 6, f"only {len(plots)} plots: {plots}")
    for p in plots:
        png_pixels(out / p)
    # Perfetto JSON: loads, one slice per world-switch interval.
    pf = json.load(open(out / "perfetto.json"))
    xs = [e for e in pf["traceEvents"] if e.get("ph") == "X" and e.get("cat") == "world_switch"]
    guest = sum(1 for e in xs if e["tid"] == 1)
    need(len(xs) == counts["switch_in"] + counts["switch_out"] and guest == counts["switch_in"],
         f"{len(xs)} world_switch slices ({guest} guest), babeltrace2 shows "
         f"{counts['switch_in']} switch_in + {counts['switch_out']} switch_out")
    need(all(e["dur"] >= 0 for e in xs), "a slice with a negative duration")
    need(Counter(e["name"] for e in xs if e["tid"] == 2) == so, "host slices by reason")
    # cobd round-trip slices name their request's transfer.
    by_seq = {(f["unit"], f["seq"]): f for f in reqs}
    rtt = [e for e in pf["traceEvents"] if e.get("ph") == "b" and e.get("cat") == "rtt"]
    need(len(rtt) == len(reqs), f"{len(rtt)} request slices for {len(reqs)} cobd requests")
    for e in rtt:
        f, a = by_seq[(e["args"]["unit"], e["args"]["seq"])], e["args"]
        need((a["op"], a["sector"], a["bytes"]) == (f["blk_op"], f["blk_sector"], f["blk_bytes"])
             and e["name"].startswith(f"cobd {f['blk_op']}"),
             f"request slice {e} for the request {f}")
    # index.html references only files that exist.
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    local = [r for r in refs if not re.match(r"^[a-z]+:", r)]
    need(len(local) >= len(plots) + 2, f"index.html references only {local}")
    missing = [r for r in local if not (out / r).is_file()]
    need(not missing, f"index.html references missing files: {missing}")
    if json_copy:
        need(json.load(open(json_copy)) == st, "--json FILE differs from summary.json")
    print(f"{len(ev)} events, {counts['switch_out']} switches, {len(reqs)} cobd requests all "
          f"answered, per op {want}; {len(plots)} PNGs valid; {len(xs)} world-switch slices; "
          f"{len(local)} local references in index.html all exist")


def svg(out):
    st = json.load(open(Path(out) / "summary.json"))
    for p in st["outputs"]["plots"]:
        need(p.endswith(".svg"), f"{p}: not an SVG")
        root = ET.parse(Path(out) / p).getroot()
        need(root.tag.endswith("svg") and len(list(root.iter())) > 20, f"{p}: an empty SVG")
    print(f"{len(st['outputs']['plots'])} SVGs parse and have content")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "outputs":
        outputs(*sys.argv[2:])
    elif cmd == "svg":
        svg(sys.argv[2])
    elif cmd == "shot":
        not_one_colour(sys.argv[2])
    else:
        need(False, f"unknown check {cmd}")
