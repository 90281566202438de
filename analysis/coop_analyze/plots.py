# SPDX-License-Identifier: MIT
# plots.py - the pictures of a run (matplotlib, Agg): latency histograms and
# CDFs, the timeline (who held the CPU, switches by reason, interrupts,
# messages and faults as marks), message flows per device, block I/O (where
# requests went, round trips by op and size), the fault report.
# Big traces are binned or thinned before drawing (never per-event artists).
import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from . import stats  # noqa: E402

MAX_MARKS = 20000      # marks per timeline row before thinning
MAX_BARS = 4000        # world intervals drawn one by one before binning
COLORS = plt.get_cmap("tab10").colors
OP_COLORS = plt.get_cmap("Set1").colors  # cobd ops (blk_op): not the devices' colours


def _save(fig, out, name, fmt, files):
    path = out / f"{name}.{fmt}"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    files.append(path.name)


def _us(ns):
    return np.asarray(ns, dtype=np.float64) / 1e3


def _hist_cdf(ax_h, ax_c, samples, title):
    """Histogram (log-spaced bins) and CDF of several labelled samples in ns."""
    drawn = False
    allv = np.concatenate([s for s in samples.values() if len(s)] or [np.zeros(0)])
    allv = allv[allv > 0]
    if allv.size:
        lo, hi = allv.min(), allv.max()
        bins = np.logspace(np.log10(lo), np.log10(hi * 1.001 + 1), 60)
    for i, (label, s) in enumerate(samples.items()):
        s = np.sort(np.asarray(s, dtype=np.float64))
        s = s[s > 0]
        if not s.size:
            continue
        c = COLORS[i % len(COLORS)]
        h, _ = np.histogram(s, bins=bins)
        ax_h.stairs(h, bins, label=f"{label} (n={s.size})", color=c)
        # The CDF from at most 2000 quantiles: same curve, bounded cost.
        q = np.linspace(0, 1, min(s.size, 2000))
        ax_c.plot(np.quantile(s, q), q, color=c, label=label)
        drawn = True
    for ax in (ax_h, ax_c):
        ax.set_xscale("log")
        ax.set_xlabel("latency (ns)")
        ax.grid(True, alpha=0.3)
    ax_h.set_ylabel("count")
    ax_h.set_title(f"{title}: histogram")
    ax_c.set_ylabel("fraction ≤ x")
    ax_c.set_title(f"{title}: CDF")
    if drawn:
        ax_h.legend(fontsize=7)
    else:
        ax_h.text(0.5, 0.5, "no samples in this trace", ha="center", transform=ax_h.transAxes)
    return drawn


def latency_plots(tr, st, aux, out, fmt, files):
    """One figure per latency family: histogram + CDF side by side."""
    ws = stats.switch_samples(tr, aux["intervals"])[1]
    irq = stats.irq_samples(tr, aux["tsc_per_ns"])[1]
    serve = stats.irq_serve_samples(tr, aux["tsc_per_ns"])[1]
    virq = stats.virq_samples(tr)[1]
    rtt = {dev: p["rtt"] for dev, p in aux["pairs"].items()}
    for name, title, samples in (("latency_world_switch", "World switch by reason", ws),
                                 ("latency_irq_forward", "Interrupt forwarding by source", irq),
                                 ("latency_irq_serve", "Interrupt forwarding, the host's part",
                                  serve),
                                 ("latency_virq", "Virtual IRQ wait by mode", virq),
                                 ("latency_message_rtt", "Message round trip by device", rtt)):
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
        _hist_cdf(a, b, samples, title)
        fig.tight_layout()
        _save(fig, out, name, fmt, files)


def _marks(ax, t_us, y, color, h=0.35, label=None):
    """Vertical ticks at times t_us on row y, thinned to MAX_MARKS."""
    t = np.asarray(t_us)
    step = max(1, int(np.ceil(t.size / MAX_MARKS)))
    t = t[::step]
    segs = np.stack([np.column_stack([t, np.full(t.size, y - h)]),
                     np.column_stack([t, np.full(t.size, y + h)])], axis=1)
    lc = LineCollection(segs, colors=[color], linewidths=0.6, label=label)
    lc.set_rasterized(True)
    ax.add_collection(lc)
    return step


def timeline(tr, st, aux, out, fmt, files, name="timeline", window=None):
    """Rows: guest/host (bars, or guest share per bin), switch_out marks by
    reason, forwarded interrupts, vIRQs, messages per device, faults."""
    t0 = tr.first_ns
    start, end, world, reason = aux["intervals"]
    lo, hi = (tr.first_ns, tr.last_ns) if window is None else window
    sel = (end >= lo) & (start <= hi)
    s, e, w, r = start[sel], end[sel], world[sel], reason[sel]
    rows = []
    fig, ax = plt.subplots(figsize=(12, 5.2))
    y = 0
    if s.size <= MAX_BARS:
        for wv, color, lab in ((1, "#2ca02c", "guest"), (0, "#d62728", "host")):
            k = w == wv
            ax.broken_barh(list(zip(_us(s[k] - t0), _us(e[k] - s[k]))), (y - 0.4, 0.8),
                           facecolors=color, label=f"{lab} holds the CPU")
        rows.append("CPU (guest/host)")
    else:
        # Too many intervals to draw: guest share of each of 1000 bins.
        edges = np.linspace(lo, hi, 1001)
        g = np.zeros(1000)
        k = w == 1
        for a, b in ((s[k], e[k]),):
            ia = np.clip(np.searchsorted(edges, a, "right") - 1, 0, 999)
            ib = np.clip(np.searchsorted(edges, b, "right") - 1, 0, 999)
            same = ia == ib
            np.add.at(g, ia[same], (b - a)[same])
            np.add.at(g, ia[~same], edges[ia[~same] + 1] - a[~same])
            np.add.at(g, ib[~same], b[~same] - edges[ib[~same]])
            # Whole bins in between (rare with many intervals) count fully.
            for x, z in zip(ia[~same], ib[~same]):
                g[x + 1:z] += edges[1] - edges[0]
        share = g / (edges[1] - edges[0])
        ax.fill_between(_us(edges[:-1] - t0), y - 0.4, y - 0.4 + 0.8 * np.clip(share, 0, 1),
                        step="post", color="#2ca02c", label="guest share of the CPU (binned)")
        rows.append("CPU: guest share")
    y += 1
    so = tr.ev("switch_out")
    k = (so.ts >= lo) & (so.ts <= hi)
    for i, v in enumerate(np.unique(so.f("reason")[k])):
        kk = k & (so.f("reason") == v)
        _marks(ax, _us(so.ts[kk] - t0), y, COLORS[i % len(COLORS)],
               label=f"switch out: {so.label('reason', v)}")
    rows.append("switches (by reason)")
    y += 1
    for evname, lab in (("irq_forward", "interrupts forwarded"), ("virq_deliver", "vIRQs delivered"),
                        ("backpressure", "back-pressure waits"), ("fault_injected", "faults injected")):
        ev = tr.ev(evname)
        k = (ev.ts >= lo) & (ev.ts <= hi)
        if evname in ("backpressure", "fault_injected") and not k.any():
            continue
        _marks(ax, _us(ev.ts[k] - t0), y, "black" if evname != "fault_injected" else "red")
        rows.append(lab)
        y += 1
    m = tr.ev("message")
    for code, dev in sorted(m.labels.get("device", {}).items()):
        k = (m.f("device") == code) & (m.ts >= lo) & (m.ts <= hi)
        if not k.any():
            continue
        for dcode, c in ((0, "#1f77b4"), (1, "#ff7f0e")):
            kk = k & (m.f("direction") == dcode)
            _marks(ax, _us(m.ts[kk] - t0), y, c)
        rows.append(f"{dev} messages (blue to host, orange to guest)")
        y += 1
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(_us(lo - t0), _us(hi - t0))
    ax.set_xlabel("time since the first event (µs)")
    ax.set_title("Timeline" + ("" if window is None else " (zoom)") + f": {tr.path}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    _save(fig, out, name, fmt, files)


def zoom_window(tr, aux, n=60):
    """The first n world intervals after the handshake: individual switches visible."""
    start, end, _, _ = aux["intervals"]
    if start.size == 0:
        return None
    a = int(start[0])
    b = int(end[min(n, end.size) - 1])
    return (a, max(b, a + 1))


def _blk_requests(tr):
    """Indexes of the cobd requests that are block I/O (blk_op not NONE), in trace order."""
    m = tr.ev("message")
    code = [k for k, v in m.labels.get("device", {}).items() if v == "cobd"]
    if not code or "blk_op" not in m.fields:
        return np.zeros(0, dtype=np.int64)
    req = (m.f("device") == code[0]) & (m.f("direction") == 0) & (m.f("type") == 1)
    return np.nonzero(req & (m.f("blk_op") != stats.BLK_NONE))[0]


def flows(tr, st, out, fmt, files, nbins=200):
    """Per device over time: messages/s and bytes/s each way, the block
    transfer the cobd requests ask for by op, back-pressure waits."""
    m, bp = tr.ev("message"), tr.ev("backpressure")
    lo, hi = tr.first_ns, max(tr.last_ns, tr.first_ns + 1)
    edges = np.linspace(lo, hi, nbins + 1)
    width_s = (edges[1] - edges[0]) / 1e9
    x = _us(edges[:-1] - lo) / 1e3
    fig, axs = plt.subplots(4, 1, figsize=(11, 9.5), sharex=True)
    i = 0
    for code, dev in sorted(m.labels.get("device", {}).items()):
        for dcode, dname, ls in ((0, "to host", "-"), (1, "to guest", "--")):
            k = (m.f("device") == code) & (m.f("direction") == dcode)
            if not k.any():
                continue
            cnt, _ = np.histogram(m.ts[k], bins=edges)
            byt, _ = np.histogram(m.ts[k], bins=edges, weights=m.f("length")[k])
            c = COLORS[code % len(COLORS)]
            axs[0].step(x, cnt / width_s, where="post", ls=ls, color=c, label=f"{dev} {dname}")
            axs[1].step(x, byt / width_s, where="post", ls=ls, color=c, label=f"{dev} {dname}")
            i += 1
    blk = _blk_requests(tr)
    ops = m.f("blk_op")[blk]
    for v in np.unique(ops):
        k = blk[ops == v]
        byt, _ = np.histogram(m.ts[k], bins=edges, weights=m.f("blk_bytes")[k])
        cnt, _ = np.histogram(m.ts[k], bins=edges)
        word = m.label("blk_op", v)
        c = OP_COLORS[int(v) % len(OP_COLORS)]
        if byt.any():
            axs[2].step(x, byt / width_s, where="post", color=c,
                        label=f"cobd {word}: bytes asked for")
        else:  # no extent (FLUSH, INFO): how many
            axs[2].step(x, cnt / width_s, where="post", ls=":", color=c,
                        label=f"cobd {word}: requests/s")
    if not blk.size:
        axs[2].text(0.5, 0.5, "no block I/O in this trace", ha="center",
                    transform=axs[2].transAxes)
    for code, dev in sorted(bp.labels.get("device", {}).items()):
        k = bp.f("device") == code
        if k.any():
            cnt, _ = np.histogram(bp.ts[k], bins=edges)
            axs[3].step(x, cnt, where="post", color=COLORS[code % len(COLORS)], label=dev)
    if not len(bp):
        axs[3].text(0.5, 0.5, "no back-pressure waits in this trace", ha="center",
                    transform=axs[3].transAxes)
    if not i:
        axs[0].text(0.5, 0.5, "no device messages in this trace", ha="center",
                    transform=axs[0].transAxes)
    axs[0].set_ylabel("messages/s")
    axs[1].set_ylabel("payload bytes/s")
    axs[2].set_ylabel("block I/O bytes/s\n(cobd requests, by op)")
    axs[3].set_ylabel(f"waits per bin\n({width_s * 1e3:.3g} ms)")
    axs[3].set_xlabel("time since the first event (ms)")
    axs[0].set_title("Message flows per device")
    for a in axs:
        a.grid(True, alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    _save(fig, out, "flows", fmt, files)


def _size_word(nbytes):
    return f"{nbytes // 1024} KiB" if nbytes % 1024 == 0 else f"{nbytes} B"


def block_io(tr, st, aux, out, fmt, files, max_boxes=24):
    """Only when the run did block I/O: left, where each cobd request went
    (its extent, sectors [blk_sector, + blk_bytes / 512), at its time,
    coloured by op; FLUSH and INFO, with no extent, as marks at the bottom);
    right, the round trip by op and request size (box: quartiles, whiskers:
    1st and 99th percentile)."""
    if not st["block_io"]["present"]:
        return
    m = tr.ev("message")
    blk = _blk_requests(tr)
    ops = m.f("blk_op")[blk]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    t0 = tr.first_ns
    for v in np.unique(ops):
        k = blk[ops == v]
        word, c = m.label("blk_op", v), OP_COLORS[int(v) % len(OP_COLORS)]
        t = _us(m.ts[k] - t0) / 1e3
        lo = m.f("blk_sector")[k].astype(np.float64)
        n = m.f("blk_bytes")[k] / 512.0
        step = max(1, int(np.ceil(t.size / MAX_MARKS)))
        t, lo, n = t[::step], lo[::step], n[::step]
        if n.any():
            segs = np.stack([np.column_stack([t, lo]), np.column_stack([t, lo + n])], axis=1)
            lc = LineCollection(segs, colors=[c], linewidths=2.0, label=f"{word} (n={k.size})")
            lc.set_rasterized(True)
            a.add_collection(lc)
        else:
            a.plot(t, lo, "|", color=c, markersize=8, label=f"{word} (n={k.size})")
    secs = m.f("blk_sector")[blk] + m.f("blk_bytes")[blk] // 512
    a.set_xlim(0, max(_us(tr.last_ns - t0) / 1e3, 1e-3))
    a.set_ylim(-0.5, max(float(secs.max()), 1.0) * 1.02)
    a.set_xlabel("time since the first event (ms)")
    a.set_ylabel("sector (512 bytes)")
    a.set_title("Block requests: sectors over time, by op")
    a.grid(True, alpha=0.3)
    a.legend(fontsize=7, loc="upper left")
    # Groups (op, bytes) of the answered requests; the commonest max_boxes, in order.
    p = aux["pairs"]["cobd"]
    keep = p["op"] != stats.BLK_NONE
    rtt = p["rtt"][keep]
    keys, inv, cnt = np.unique(p["op"][keep] * (1 << 32) + p["bytes"][keep],
                               return_inverse=True, return_counts=True)
    top = np.sort(np.argsort(-cnt, kind="stable")[:max_boxes])
    if top.size:
        data = [rtt[inv == g] / 1e3 for g in top]
        ops, sizes = keys[top] >> 32, keys[top] & 0xffffffff
        labels = [m.label("blk_op", v) + (f"\n{_size_word(int(nb))}" if nb else "")
                  for v, nb in zip(ops, sizes)]
        boxes = b.boxplot(data, whis=(1, 99), showfliers=False, patch_artist=True)
        b.set_xticks(range(1, top.size + 1))
        b.set_xticklabels(labels, fontsize=7)
        for patch, v in zip(boxes["boxes"], ops):
            patch.set_facecolor(OP_COLORS[int(v) % len(OP_COLORS)])
            patch.set_alpha(0.6)
        b.set_yscale("log")
    else:
        b.text(0.5, 0.5, "no request answered", ha="center", transform=b.transAxes)
    b.set_ylabel("round trip (µs)")
    b.set_title("Round trip by op and size" + (f" (the {max_boxes} commonest)"
                                              if keys.size > max_boxes else ""))
    b.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, out, "block_io", fmt, files)


def faults(tr, st, out, fmt, files):
    """Outcomes per kind, and where the injected faults landed in time."""
    f = st["faults"]
    if not f["present"]:
        return
    fi = tr.ev("fault_injected")
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 3.8))
    kinds = sorted(f["by_kind"])
    x = np.arange(len(kinds))
    outcomes = ("injected", "detected", "recovered", "harmless", "escaped")
    for i, o in enumerate(outcomes):
        a.bar(x + (i - 2) * 0.16, [f["by_kind"][k].get(o, 0) for k in kinds], 0.16, label=o,
              color=("#1f77b4", "#ff7f0e", "#2ca02c", "#9e9e9e", "#d62728")[i])
    a.set_xticks(x)
    a.set_xticklabels(kinds, rotation=20, fontsize=8)
    a.set_title("Faults by kind")
    a.legend(fontsize=7)
    kl = fi.fields.get("kind", [])
    if not kl:
        b.text(0.5, 0.5, "no coop:fault_injected events in the trace:\n"
               "counts from the run report, times unknown", ha="center", va="center",
               transform=b.transAxes)
    for i, k in enumerate(sorted(set(kl))):
        sel = np.array([v == k for v in kl], bool)
        _marks(b, _us(fi.ts[sel] - tr.first_ns), i, COLORS[i % len(COLORS)])
    b.set_yticks(range(len(set(kl))))
    b.set_yticklabels(sorted(set(kl)), fontsize=8)
    b.set_xlim(0, _us(tr.last_ns - tr.first_ns) or 1)
    b.set_ylim(-0.5, max(len(set(kl)), 1) - 0.5)
    b.set_xlabel("time since the first event (µs)")
    b.set_title("Where injected faults landed")
    fig.tight_layout()
    _save(fig, out, "faults", fmt, files)


def all_plots(tr, st, aux, out, fmt):
    files = []
    latency_plots(tr, st, aux, out, fmt, files)
    timeline(tr, st, aux, out, fmt, files)
    w = zoom_window(tr, aux)
    if w:
        timeline(tr, st, aux, out, fmt, files, name="timeline_zoom", window=w)
    flows(tr, st, out, fmt, files)
    block_io(tr, st, aux, out, fmt, files)
    faults(tr, st, out, fmt, files)
    return files
