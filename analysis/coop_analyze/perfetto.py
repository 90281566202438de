# SPDX-License-Identifier: MIT
# perfetto.py - the trace in the Chrome/Perfetto trace-event JSON format
# (open it at ui.perfetto.dev or chrome://tracing).  One process; threads:
# "guest world" and "host world" carry one complete slice ("X", category
# "world_switch") per world-switch interval - a host slice is named by the
# switch_out's reason; "interrupts" has one slice per forwarded interrupt
# (its latency) and vIRQ instants; one thread per device has its messages
# as instants and request -> reply round trips as async slices, a cobd one
# named by the transfer its request asked for (op, sector, bytes).
import numpy as np

from .stats import BLK_FIELDS

PID = 1
TID = {"guest": 1, "host": 2, "irq": 3, "lifecycle": 4, "faults": 5}
DEV_TID0 = 10


def _us(ns, t0):
    return (np.asarray(ns, dtype=np.int64) - t0) / 1e3


def write(tr, aux, path):
    t0 = tr.first_ns
    out = []
    add = out.append
    meta = [("process_name", 0, {"name": f"coop {tr.path}"})]
    names = {TID["guest"]: "guest world", TID["host"]: "host world (by reason)",
             TID["irq"]: "interrupts", TID["lifecycle"]: "guest lifecycle",
             TID["faults"]: "faults"}
    m = tr.ev("message")
    devs = dict(m.labels.get("device", {}))
    for code, dev in devs.items():
        names[DEV_TID0 + code] = f"{dev} messages"
    for tid, n in names.items():
        meta.append(("thread_name", tid, {"name": n}))
        meta.append(("thread_sort_index", tid, {"sort_index": tid}))
    for name, tid, args in meta:
        add('{"ph":"M","pid":%d,"tid":%d,"name":"%s","args":{"%s":"%s"}}'
            % (PID, tid, name, next(iter(args)), next(iter(args.values()))))

    start, end, world, reason = aux["intervals"]
    so = tr.ev("switch_out")
    rname = {v: so.label("reason", v) for v in np.unique(reason) if v >= 0}
    ts, dur = _us(start, t0), (end - start) / 1e3
    for s, d, w, r in zip(ts.tolist(), dur.tolist(), world.tolist(), reason.tolist()):
        if w:
            add('{"ph":"X","cat":"world_switch","name":"guest","pid":1,"tid":1,'
                '"ts":%.3f,"dur":%.3f}' % (s, d))
        else:
            add('{"ph":"X","cat":"world_switch","name":"%s","pid":1,"tid":2,'
                '"ts":%.3f,"dur":%.3f}' % (rname[r], s, d))

    # A forward: irq_forward (handler entry -> guest vIRQ handler, from coop:irq_taken)
    # around irq_serve (the host's part, from coop:irq_forward); both start at the
    # host handler's entry, so the one nests in the other on the same track.
    fw = tr.ev("irq_forward")
    lat = fw.f("latency_cycles").astype(np.float64)
    lat = lat / aux["tsc_per_ns"] / 1e3 if aux["tsc_per_ns"] else np.zeros(len(fw))
    src = {v: fw.label("source", v) for v in np.unique(fw.f("source"))}
    entry = _us(fw.ts, t0) - lat
    for t, l, s in zip(entry.tolist(), lat.tolist(), fw.f("source").tolist()):
        add('{"ph":"X","cat":"irq","name":"irq_serve %s","pid":1,"tid":3,"ts":%.3f,"dur":%.3f}'
            % (src[s], t, l))
    tk = tr.ev("irq_taken")
    if len(tk) and len(fw):
        # each closes the last forward before it (docs/tracing.md, coop:irq_taken)
        k = np.searchsorted(fw.pos, tk.pos) - 1
        tl = tk.f("latency_cycles").astype(np.float64)
        tl = tl / aux["tsc_per_ns"] / 1e3 if aux["tsc_per_ns"] else np.zeros(len(tk))
        tsrc = {v: tk.label("source", v) for v in np.unique(tk.f("source"))}
        for i, l, s in zip(k.tolist(), tl.tolist(), tk.f("source").tolist()):
            if i >= 0:
                add('{"ph":"X","cat":"irq","name":"irq_forward %s","pid":1,"tid":3,'
                    '"ts":%.3f,"dur":%.3f}' % (tsrc[s], entry[i], l))
    vd = tr.ev("virq_deliver")
    for t, v, c in zip(_us(vd.ts, t0).tolist(), vd.f("vector").tolist(), vd.f("count").tolist()):
        add('{"ph":"i","s":"t","cat":"virq","name":"vIRQ %d","pid":1,"tid":3,"ts":%.3f,'
            '"args":{"count":%d}}' % (v, t, c))

    dirs = ("to host", "to guest")
    # Block I/O (cobd requests and replies): the op in the name, sector and bytes in args.
    zero = np.zeros(len(m), dtype=np.int64)
    ops, sectors, nbytes = (m.f(k) if k in m.fields else zero for k in BLK_FIELDS)
    opname = {v: m.label("blk_op", v) for v in np.unique(ops)}
    for t, d, dv, u, ty, sq, ln, op, sec, nb in zip(
            _us(m.ts, t0).tolist(), m.f("direction").tolist(), m.f("device").tolist(),
            m.f("unit").tolist(), m.f("type").tolist(), m.f("seq").tolist(),
            m.f("length").tolist(), ops.tolist(), sectors.tolist(), nbytes.tolist()):
        if op:
            add('{"ph":"i","s":"t","cat":"message","name":"%s %s %s","pid":1,"tid":%d,'
                '"ts":%.3f,"args":{"unit":%d,"type":%d,"seq":%d,"length":%d,"op":"%s",'
                '"sector":%d,"bytes":%d}}'
                % (devs.get(dv, dv), dirs[d & 1], opname[op], DEV_TID0 + dv, t, u, ty, sq, ln,
                   opname[op], sec, nb))
        else:
            add('{"ph":"i","s":"t","cat":"message","name":"%s %s","pid":1,"tid":%d,"ts":%.3f,'
                '"args":{"unit":%d,"type":%d,"seq":%d,"length":%d}}'
                % (devs.get(dv, dv), dirs[d & 1], DEV_TID0 + dv, t, u, ty, sq, ln))
    for dev, p in aux["pairs"].items():
        code = [k for k, v in devs.items() if v == dev][0]
        for a, b, u, sq, op, sec, nb in zip(
                _us(m.ts[p["req"]], t0).tolist(), _us(m.ts[p["rep"]], t0).tolist(),
                m.f("unit")[p["req"]].tolist(), m.f("seq")[p["req"]].tolist(),
                p["op"].tolist(), p["sector"].tolist(), p["bytes"].tolist()):
            # "cobd READ sector 2048 +65536 B": what the request asked for, on the slice.
            name = (f"{dev} {opname[op]}" + (f" sector {sec} +{nb} B" if nb else "")
                    if op else f"{dev} request")
            add('{"ph":"b","cat":"rtt","name":"%s","id":%d,"pid":1,"tid":%d,"ts":%.3f,'
                '"args":{"unit":%d,"seq":%d,"op":"%s","sector":%d,"bytes":%d}}'
                % (name, sq, DEV_TID0 + code, a, u, sq, opname.get(op, op), sec, nb))
            add('{"ph":"e","cat":"rtt","name":"%s","id":%d,"pid":1,"tid":%d,"ts":%.3f}'
                % (name, sq, DEV_TID0 + code, b))
    bp = tr.ev("backpressure")
    for t in _us(bp.ts, t0).tolist():
        add('{"ph":"i","s":"t","cat":"backpressure","name":"back-pressure","pid":1,"tid":%d,'
            '"ts":%.3f}' % (DEV_TID0, t))
    fi = tr.ev("fault_injected")
    for t, k in zip(_us(fi.ts, t0).tolist(), fi.fields.get("kind", [])):
        add('{"ph":"i","s":"p","cat":"fault","name":"fault %s","pid":1,"tid":5,"ts":%.3f}'
            % (k.replace('"', "'"), t))
    for ev in ("guest_boot", "guest_hello", "guest_panic", "guest_crash", "guest_terminate"):
        for t in _us(tr.ev(ev).ts, t0).tolist():
            add('{"ph":"i","s":"p","cat":"lifecycle","name":"%s","pid":1,"tid":4,"ts":%.3f}'
                % (ev, t))
    with open(path, "w") as f:
        f.write('{"displayTimeUnit":"ns","otherData":{"source":"coop analyze"},"traceEvents":[\n')
        f.write(",\n".join(out))
        f.write("\n]}\n")
    return len(out)
