# SPDX-License-Identifier: MIT
# stats.py - the numbers of a run from its trace: event counts, world-switch
# intervals, latency distributions (world switch per reason, interrupt
# forwarding and its host part, vIRQ waits, message round trips paired by
# request id; docs/analysis.md defines each),
# message flows and the fault report.  Everything here is numpy on the
# columns tracefile.load made; the result is plain JSON-able data.
import numpy as np

# Devices whose TO_HOST messages are requests answered by a TO_GUEST reply
# with the same (unit, seq): (request type, reply type).  docs/tracing.md, "coop:message".
REQUEST_REPLY = {"cobd": (1, 2)}
# coop:message's block transfer (docs/tracing.md): op (0: NONE), first sector, bytes.
BLK_FIELDS = ("blk_op", "blk_sector", "blk_bytes")
BLK_NONE = 0
FAULT_OUTCOMES = ("injected", "detected", "recovered", "escaped")


def dist(ns):
    """Summary of a latency sample in ns (count 0: no other keys)."""
    a = np.asarray(ns, dtype=np.float64)
    if a.size == 0:
        return {"count": 0}
    q = np.percentile(a, [50, 90, 99, 99.9])
    return {"count": int(a.size), "min": float(a.min()), "mean": float(a.mean()),
            "median": float(q[0]), "p90": float(q[1]), "p99": float(q[2]),
            "p999": float(q[3]), "max": float(a.max()), "unit": "ns"}


def wilson(k, n, z=1.959964):
    """A rate k/n and its Wilson score interval (95% by default): (p, lo, hi),
    all None when n is 0.  Sound at 0 and n successes, unlike p +- z*se."""
    if not n:
        return None, None, None
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / den
    # At k = 0 and k = n the bound is 0 or 1 exactly (rounding may miss it).
    return p, 0.0 if k == 0 else max(0.0, mid - half), 1.0 if k == n else min(1.0, mid + half)


def tsc_per_ns(tr):
    """TSC cycles per ns, fitted on the switch events' (timestamp, tsc) pairs."""
    ts = np.concatenate([tr.ev("switch_out").ts, tr.ev("switch_in").ts])
    tsc = np.concatenate([tr.ev("switch_out").f("tsc"), tr.ev("switch_in").f("tsc")])
    if ts.size < 2 or ts.max() == ts.min():
        return None
    o = np.argsort(ts)
    ts, tsc = ts[o].astype(np.float64), tsc[o].astype(np.float64)
    slope = (tsc[-1] - tsc[0]) / (ts[-1] - ts[0])
    return float(slope) if slope > 0 else None


def switch_times(tr, cyc_per_ns):
    """The switch events' times (switch_out's, then switch_in's), in ns on the
    trace's clock: from their `tsc` fields at the fitted rate, anchored at the
    median offset between the two clocks, where every switch event has one;
    else their timestamps.  The TSC is when the switch happened; the
    timestamp is when coop wrote the event, which under the kmod backend is
    after the RUN for the round trips the module served itself (docs/kmod.md)."""
    so, si = tr.ev("switch_out"), tr.ev("switch_in")
    ts = np.concatenate([so.ts, si.ts]).astype(np.float64)
    tsc = np.concatenate([so.f("tsc"), si.f("tsc")]).astype(np.float64)
    if not cyc_per_ns or not ts.size or tsc.size != ts.size:
        return ts
    t = tsc / cyc_per_ns
    return t + float(np.median(ts - t))


def world_intervals(tr, cyc_per_ns=None):
    """Who held the CPU: arrays (start, end, world, reason) in trace order.

    world 1 = guest (switch_in -> next switch_out), 0 = host (switch_out ->
    next switch_in); an interval without an end runs to the last event.
    One interval per switch event, timed by switch_times().  reason: the
    switch_out's (host), -1 (guest).
    """
    so, si = tr.ev("switch_out"), tr.ev("switch_in")
    pos = np.concatenate([so.pos, si.pos])
    ts = switch_times(tr, cyc_per_ns)
    world = np.concatenate([np.zeros(len(so), np.int8), np.ones(len(si), np.int8)])
    reason = np.concatenate([so.f("reason") if len(so) else np.zeros(0, np.int64),
                             np.full(len(si), -1, np.int64)])
    o = np.argsort(pos, kind="stable")
    ts, world, reason = ts[o], world[o], reason[o]
    end = np.empty_like(ts)
    if ts.size:
        end[:-1] = ts[1:]
        end[-1] = max(tr.last_ns, ts[-1])
    return ts, end, world, reason


def switch_samples(tr, iv):
    """Host time per switch out, by the switch_out's reason: out -> next in.
    Returns (all samples, {reason: samples})."""
    start, end, world, reason = iv
    so = tr.ev("switch_out")
    host = world == 0
    # Only host intervals that a switch_in closes are round trips.
    closed = np.zeros(world.size, bool)
    closed[:-1] = host[:-1] & (world[1:] == 1)
    d = (end - start)[closed]
    r = reason[closed]
    return d, {so.label("reason", v): d[r == v] for v in np.unique(r)}


def _by_source(ev, field, cyc_per_ns):
    lat = ev.f(field).astype(np.float64)
    if cyc_per_ns:
        lat = lat / cyc_per_ns
    src = ev.f("source")
    return lat, {ev.label("source", v): lat[src == v] for v in np.unique(src)}


def irq_samples(tr, cyc_per_ns):
    """irq_forward, the one definition coop bench shares (docs/analysis.md): the host
    handler's first instruction -> the guest vIRQ handler's first, from coop:irq_taken
    (ns at the fitted TSC rate, else cycles), by source."""
    return _by_source(tr.ev("irq_taken"), "latency_cycles", cyc_per_ns)


def irq_serve_samples(tr, cyc_per_ns):
    """irq_serve: the host's part of a forward, from coop:irq_forward: the host handler's
    first instruction -> back in the handler (switch out, serve, switch in), by source."""
    return _by_source(tr.ev("irq_forward"), "latency_cycles", cyc_per_ns)


def virq_samples(tr):
    """virq_wait: virq_deliver - the first switch_in since the previous delivery that
    found vIRQs pending (the guest resumed with one waiting).  A SYNC
    delivery (after IRQ_ENABLE) is taken by the guest at the switch_in right
    after it, which still shows the vIRQs pending: that switch_in belongs to
    it, so the next delivery's wait starts after it.
    Returns (all samples, {mode: samples}, deliveries without such a switch_in)."""
    vd, si = tr.ev("virq_deliver"), tr.ev("switch_in")
    if not len(vd):
        return np.zeros(0), {}, 0
    cand = si.pos[si.f("pending") > 0]
    cand_ts = si.ts[si.f("pending") > 0]
    modes = vd.f("mode")
    sync = np.isin(modes, [m for m in np.unique(modes) if vd.label("mode", m) == "SYNC"])
    ends = vd.pos.copy()  # where each delivery's part of the trace ends
    if si.pos.size:  # a SYNC one's: at the switch_in right after it, if any
        nxt = si.pos[np.minimum(np.searchsorted(si.pos, vd.pos, side="right"), si.pos.size - 1)]
        took = sync & (nxt > vd.pos)
        ends[took] = nxt[took]
    prev = np.concatenate([[-1], ends[:-1]])
    j = np.searchsorted(cand, prev, side="right")
    ok = j < cand.size
    ok[ok] &= cand[j[ok]] < vd.pos[ok]
    lat = (vd.ts[ok] - cand_ts[j[ok]]).astype(np.float64)
    mode = vd.f("mode")[ok]
    return lat, {vd.label("mode", v): lat[mode == v] for v in np.unique(mode)}, int((~ok).sum())


def _switch_latency(tr, iv):
    d, by = switch_samples(tr, iv)
    return {"all": dist(d), "by_reason": {k: dist(v) for k, v in by.items()},
            "what": "switch_out -> the next switch_in (guest->host->guest round trip, "
                    "host time included), by the switch_out's reason"}


def _by_source_latency(samples, what, cyc_per_ns):
    lat, by = samples
    return {"all": dist(lat), "by_source": {k: dist(v) for k, v in by.items()},
            "what": what + (", converted at the fitted TSC rate" if cyc_per_ns
                            else ", in TSC cycles (no rate)")}


def _irq_latency(tr, cyc_per_ns):
    return _by_source_latency(
        irq_samples(tr, cyc_per_ns), "coop:irq_taken.latency_cycles: the host handler's first "
        "instruction -> the guest vIRQ handler's first (as coop bench's irq_forward)", cyc_per_ns)


def _irq_serve_latency(tr, cyc_per_ns):
    return _by_source_latency(
        irq_serve_samples(tr, cyc_per_ns), "coop:irq_forward.latency_cycles: the host handler's "
        "first instruction -> back in the handler (switch out, serve, switch in)", cyc_per_ns)


def _virq_latency(tr):
    lat, by, unmatched = virq_samples(tr)
    return {"all": dist(lat), "by_mode": {k: dist(v) for k, v in by.items()},
            "unmatched": unmatched,
            "what": "virq_wait: virq_deliver - the first switch_in with pending vIRQs since the previous "
                    "delivery and, after a SYNC one, the switch_in that took it (ASYNC: onto "
                    "interrupted code; SYNC: after IRQ_ENABLE)"}


def pair_messages(tr):
    """Requests and replies per request/reply device, paired by (unit, seq).

    Returns {dev: dict(req, rep: message indexes of each pair, rtt, the
    pairs' block transfer as the request names it (op, sector, bytes),
    replies_differing: pairs whose reply names another transfer, and the
    matched/unmatched counts)}.  A trace without the blk_* fields (older
    coop) has op 0 (NONE) and zeros.
    """
    m = tr.ev("message")
    out = {}
    if not len(m):
        return out
    dev, dirn, typ = m.f("device"), m.f("direction"), m.f("type")
    unit, seq = m.f("unit"), m.f("seq")
    zero = np.zeros(len(m), dtype=np.int64)
    io = [m.f(k) if k in m.fields else zero for k in BLK_FIELDS]
    for name, (rq, rp) in REQUEST_REPLY.items():
        code = [k for k, v in m.labels.get("device", {}).items() if v == name]
        if not code:
            continue
        d = dev == code[0]
        req = np.nonzero(d & (dirn == 0) & (typ == rq))[0]
        rep = np.nonzero(d & (dirn == 1) & (typ == rp))[0]
        # Key (unit, seq); ids are unique per unit for the run, so a dict pass
        # over the (few) requests is cheap next to reading the trace.
        reply_at = {}
        for i in rep:
            reply_at.setdefault((int(unit[i]), int(seq[i])), i)
        pairs, unmatched = [], []
        for i in req:
            k = (int(unit[i]), int(seq[i]))
            j = reply_at.pop(k, None)
            if j is None or m.pos[j] < m.pos[i]:
                unmatched.append(i)
            else:
                pairs.append((i, j))
        pi = np.array([p[0] for p in pairs], dtype=np.int64)
        pj = np.array([p[1] for p in pairs], dtype=np.int64)
        differ = np.zeros(pi.size, bool)
        for col in io:
            differ |= col[pi] != col[pj]
        out[name] = {"req": pi, "rep": pj, "rtt": (m.ts[pj] - m.ts[pi]).astype(np.float64)
                     if pairs else np.zeros(0), "requests": int(req.size),
                     "replies": int(rep.size), "matched": len(pairs),
                     "unmatched_requests": len(unmatched),
                     "unmatched_replies": len(reply_at),
                     "op": io[0][pi], "sector": io[1][pi], "bytes": io[2][pi],
                     "replies_differing": int(differ.sum())}
    return out


def block_io(tr, pairs):
    """Block I/O per cobd operation, from the requests' blk_* fields: every
    TO_HOST request (a guest's retry is one more), the bytes they ask for,
    and the round trips of the paired ones by the request's op.  Requests
    that are not block I/O (blk_op NONE) are left out.
    Returns (summary dict, {op word: rtt samples in ns})."""
    m = tr.ev("message")
    p = pairs.get("cobd")
    res = {"present": False, "by_op": {}, "replies_differing": 0,
           "what": "cobd requests (TO_HOST, retries included) by blk_op: count, blk_bytes "
                   "asked for, answered (paired with the reply of the same (unit, seq)) and "
                   "the round trip of those; replies_differing: replies naming another "
                   "transfer than their request (a request damaged on its way to the device)"}
    if p is None or "blk_op" not in m.fields:
        return res, {}
    code = [k for k, v in m.labels.get("device", {}).items() if v == "cobd"][0]
    req = ((m.f("device") == code) & (m.f("direction") == 0) &
           (m.f("type") == REQUEST_REPLY["cobd"][0]))
    ops, nbytes = m.f("blk_op"), m.f("blk_bytes")
    samples = {}
    for v in np.unique(ops[req]):
        if v == BLK_NONE:
            continue
        word = m.label("blk_op", v)
        k = req & (ops == v)
        rtt = p["rtt"][p["op"] == v]
        samples[word] = rtt
        res["by_op"][word] = {"count": int(k.sum()), "bytes": int(nbytes[k].sum()),
                              "answered": int(rtt.size), "latency": dist(rtt)}
    res["present"] = bool(res["by_op"])
    res["replies_differing"] = p["replies_differing"]
    return res, samples


def _messages(tr, pairs):
    m, bp = tr.ev("message"), tr.ev("backpressure")
    res = {}
    dev_labels = dict(m.labels.get("device", {}))
    dev_labels.update(bp.labels.get("device", {}))
    for code, name in sorted(dev_labels.items()):
        d = m.f("device") == code
        entry = {}
        for dcode, dname in ((0, "to_host"), (1, "to_guest")):
            s = d & (m.f("direction") == dcode)
            entry[dname] = {"count": int(s.sum()), "bytes": int(m.f("length")[s].sum())}
        entry["crc_bad"] = int((d & (m.f("crc_ok") == 0)).sum())
        entry["backpressure_waits"] = int((bp.f("device") == code).sum())
        if name in pairs:
            p = pairs[name]
            entry["round_trip"] = {k: p[k] for k in ("requests", "replies", "matched",
                                                     "unmatched_requests", "unmatched_replies")}
        if any(entry[k]["count"] for k in ("to_host", "to_guest")) or entry["backpressure_waits"]:
            res[name] = entry
    res["backpressure_waits"] = len(bp)
    return res


def _faults(tr, run_report):
    """Injected faults from coop:fault_injected (where and when); outcomes
    from coop:fault_<outcome> events when the trace has them, else from the
    run report (--report), which also stands in for injected counts when the
    trace carries no coop:fault_injected at all."""
    fi = tr.ev("fault_injected")
    by = {}

    def row(kind):
        return by.setdefault(kind.replace(" ", "_"), dict.fromkeys(FAULT_OUTCOMES, 0))

    for k in fi.fields.get("kind", []):
        row(k)["injected"] += 1
    source = {"injected": "trace"} if len(fi) else {}
    for outcome in FAULT_OUTCOMES[1:]:
        e = tr.events.get("fault_" + outcome)
        if e is not None and "kind" in e.fields:
            source[outcome] = "trace"
            for k in e.fields["kind"]:
                row(k)[outcome] += 1
    rep = (run_report or {}).get("faults", {})
    for kind, v in rep.items():
        if not isinstance(v, dict) or not any(isinstance(x, int) and x for x in v.values()):
            continue
        r = row(kind)
        for outcome in FAULT_OUTCOMES + ("harmless",):
            if outcome in v and source.get(outcome) != "trace":
                r[outcome] = int(v[outcome])
                source[outcome] = "run report"
    m = tr.ev("message")
    crc_bad = int((m.f("crc_ok") == 0).sum()) if len(m) else 0
    totals = {o: sum(r.get(o, 0) for r in by.values()) for o in FAULT_OUTCOMES}
    return {"present": any(totals.values()), "in_trace": len(fi),
            "injected_total": totals["injected"], "totals": totals, "by_kind": by,
            "source": source, "messages_crc_bad": crc_bad,
            "escaped_total": int(rep.get("escaped_total", totals["escaped"]))}


def _guest(tr):
    g = {"end": "unknown", "exit_status": None}
    t, c = tr.ev("guest_terminate"), tr.ev("guest_crash")
    if len(c):
        g.update(end="crashed", kind=c.label("kind", c.f("kind")[-1]),
                 exit_status=int(c.f("exit_status")[-1]), reason=c.fields["reason"][-1])
    elif len(t):
        g.update(end="powered_off", exit_status=int(t.f("status")[-1]))
    b = tr.ev("guest_boot")
    if len(b):
        g["mem_size"] = int(b.f("mem_size")[0])
        g["cmdline"] = b.fields["cmdline"][0]
        g["switch_mode"] = b.label("switch_mode", b.f("switch_mode")[0])
    return g


def compute(tr, run_report=None):
    cyc = tsc_per_ns(tr)
    iv = world_intervals(tr, cyc)
    start, end, world, _ = iv
    so = tr.ev("switch_out")
    by_reason = {}
    for v in np.unique(so.f("reason")):
        by_reason[so.label("reason", v)] = int((so.f("reason") == v).sum())
    guest_ns = int((end - start)[world == 1].sum())
    host_ns = int((end - start)[world == 0].sum())
    pairs = pair_messages(tr)
    blk, blk_rtt = block_io(tr, pairs)
    fw, vd = tr.ev("irq_forward"), tr.ev("virq_deliver")
    dur = tr.last_ns - tr.first_ns
    st = {
        "trace": {"path": str(tr.path), "events": tr.total,
                  "by_event": {k: len(v) for k, v in sorted(tr.events.items()) if len(v)},
                  "discarded_events": tr.discarded, "first_ns": tr.first_ns,
                  "last_ns": tr.last_ns, "duration_ns": dur,
                  "tsc_ghz": cyc},
        "guest": _guest(tr),
        "switches": {"total": len(so), "switch_in": len(tr.ev("switch_in")),
                     "by_reason": by_reason, "intervals": int(start.size),
                     "guest_ns": guest_ns, "host_ns": host_ns,
                     "guest_share": guest_ns / (guest_ns + host_ns) if guest_ns + host_ns else None},
        "irqs": {"forwarded": len(fw), "taken": len(tr.ev("irq_taken")),
                 "by_source": {fw.label("source", v): int((fw.f("source") == v).sum())
                               for v in np.unique(fw.f("source"))},
                 "overruns": int(fw.f("overrun").sum()),
                 "virq_deliver_events": len(vd), "delivered": int(vd.f("count").sum()),
                 "by_vector": {str(int(v)): int(vd.f("count")[vd.f("vector") == v].sum())
                               for v in np.unique(vd.f("vector"))}},
        "messages": _messages(tr, pairs),
        "latency": {"world_switch": _switch_latency(tr, iv),
                    "irq_forward": _irq_latency(tr, cyc),
                    "irq_serve": _irq_serve_latency(tr, cyc),
                    "virq_wait": _virq_latency(tr),
                    "message_rtt": {d: dict(dist(p["rtt"]), what="request TO_HOST -> reply "
                                            "TO_GUEST with the same (unit, seq)")
                                    for d, p in pairs.items()},
                    "block_io": {"all": dist(np.concatenate(list(blk_rtt.values()) or
                                                            [np.zeros(0)])),
                                 "by_op": {k: dist(v) for k, v in blk_rtt.items()},
                                 "what": "cobd request TO_HOST -> its reply, by the request's "
                                         "blk_op"}},
        "block_io": blk,
        "faults": _faults(tr, run_report),
    }
    return st, {"intervals": iv, "pairs": pairs, "tsc_per_ns": cyc}
