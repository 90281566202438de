# SPDX-License-Identifier: MIT
# report.py - index.html: the run's summary numbers, latency and message
# tables, the fault report and every plot, linking only files written.
import html

LAT_FAMILIES = (("world_switch", "by_reason", "World switch (out → in), by reason"),
                ("irq_forward", "by_source",
                 "Interrupt forwarding (host handler → guest vIRQ handler), by source"),
                ("irq_serve", "by_source",
                 "Interrupt forwarding, the host's part (handler → back in it), by source"),
                ("virq_wait", "by_mode", "Virtual IRQ wait (pending at a switch in → delivered), "
                 "by mode"))
PLOTS = (("timeline", "Timeline: the whole run"),
         ("timeline_zoom", "Timeline: the first switches"),
         ("latency_world_switch", "World switch latency"),
         ("latency_irq_forward", "Interrupt forwarding latency"),
         ("latency_irq_serve", "Interrupt forwarding: the host's part"),
         ("latency_virq", "Virtual IRQ wait"),
         ("latency_message_rtt", "Message round trips"),
         ("flows", "Message flows per device"),
         ("block_io", "Block I/O: where requests went, round trips by op and size"),
         ("faults", "Faults"))


def _n(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.1f}{unit}"
    return f"{v:,}{unit}"


def table(head, rows):
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in head)
    b = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>"
                for r in rows)
    return f"<table><tr>{h}</tr>{b}</table>"


def _lat_rows(label, d):
    if not d.get("count"):
        return [(label, 0, "–", "–", "–", "–", "–")]
    return [(label, _n(d["count"]), _n(d["min"]), _n(d["median"]), _n(d["p90"]),
             _n(d["p99"]), _n(d["max"]))]


def write(st, files, path, extra_links):
    t, s, g, irq = st["trace"], st["switches"], st["guest"], st["irqs"]
    parts = [f"<h1>coop trace report</h1><p>Trace <code>{html.escape(t['path'])}</code></p>"]
    share = s["guest_share"]
    summary = [
        ("events", _n(t["events"])), ("discarded by the tracer", _n(t["discarded_events"])),
        ("duration", _n(t["duration_ns"] / 1e6, " ms")),
        ("guest end", f"{g['end']} (exit status {g.get('exit_status')})"),
        ("world switches (switch_out)", _n(s["total"])),
        ("guest share of the CPU", "–" if share is None else f"{100 * share:.2f} %"),
        ("interrupts forwarded", _n(irq["forwarded"])),
        ("vIRQs delivered", _n(irq["delivered"])),
        ("back-pressure waits", _n(st["messages"]["backpressure_waits"])),
        ("faults injected", _n(st["faults"]["injected_total"])),
        ("TSC rate (fitted)", "–" if not t["tsc_ghz"] else f"{t['tsc_ghz']:.4f} GHz"),
    ]
    parts.append("<h2>Summary</h2>" + table(("", "value"), summary))
    parts.append("<h2>Events</h2>" + table(("event", "count"),
                                            [(f"coop:{k}", _n(v)) for k, v in t["by_event"].items()]))
    parts.append("<h2>World switches by reason</h2>" +
                 table(("reason", "count"), [(k, _n(v)) for k, v in s["by_reason"].items()]))
    rows = []
    for fam, key, title in LAT_FAMILIES:
        lat = st["latency"][fam]
        rows += _lat_rows(title + ": all", lat["all"])
        for k, d in lat[key].items():
            rows += _lat_rows(f"  {k}", d)
    for dev, d in st["latency"]["message_rtt"].items():
        rows += _lat_rows(f"Message round trip: {dev}", d)
    if st["block_io"]["present"]:
        rows += _lat_rows("Block I/O round trip, by op: all", st["latency"]["block_io"]["all"])
        for k, d in st["latency"]["block_io"]["by_op"].items():
            rows += _lat_rows(f"  {k}", d)
    parts.append("<h2>Latency (ns)</h2>" +
                 table(("what", "count", "min", "median", "p90", "p99", "max"), rows))
    mrows = []
    for dev, d in st["messages"].items():
        if not isinstance(d, dict):
            continue
        rt = d.get("round_trip", {})
        mrows.append((dev, _n(d["to_host"]["count"]), _n(d["to_host"]["bytes"]),
                      _n(d["to_guest"]["count"]), _n(d["to_guest"]["bytes"]), _n(d["crc_bad"]),
                      _n(d["backpressure_waits"]),
                      f"{rt['matched']}/{rt['requests']}" if rt else "–"))
    parts.append("<h2>Messages</h2>" + table(
        ("device", "to host", "bytes", "to guest", "bytes", "bad CRC", "back-pressure",
         "requests answered"), mrows))
    b = st["block_io"]
    if b["present"]:
        brows = [(op, _n(d["count"]), _n(d["bytes"]), _n(d["answered"]),
                  _n(d["latency"].get("median")), _n(d["latency"].get("p99")))
                 for op, d in b["by_op"].items()]
        parts.append("<h2>Block I/O (cobd)</h2>" + table(
            ("op", "requests", "bytes asked for", "answered", "median round trip (ns)",
             "p99 (ns)"), brows) +
            f"<p>Replies naming another transfer than their request: "
            f"{_n(b['replies_differing'])}.</p>")
    f = st["faults"]
    if f["present"]:
        frows = [(k, v["injected"], v["detected"], v["recovered"], v.get("harmless", "–"),
                  v["escaped"]) for k, v in sorted(f["by_kind"].items())]
        src = ", ".join(f"{k}: {v}" for k, v in f["source"].items())
        parts.append("<h2>Faults</h2>" + table(("kind", "injected", "detected", "recovered",
                                                  "harmless", "escaped"), frows) +
                     f"<p>Counted from: {html.escape(src)}.</p>")
    else:
        parts.append("<h2>Faults</h2><p>No faults: this trace has no coop:fault_injected "
                     "events" + ("" if f["source"] else " and no run report (--report) counts "
                     "any") + " - the run had no fault plan, or its plan never fired.</p>")
    for name, title in PLOTS:
        fn = next((x for x in files if x.rsplit(".", 1)[0] == name), None)
        if fn:
            parts.append(f'<h2>{html.escape(title)}</h2><img src="{html.escape(fn)}" '
                         f'alt="{html.escape(title)}">')
    links = " · ".join(f'<a href="{html.escape(x)}">{html.escape(x)}</a>' for x in extra_links)
    parts.append(f"<h2>Files</h2><p>{links}</p><p>Open <code>perfetto.json</code> at "
                 "<a href=\"https://ui.perfetto.dev\">ui.perfetto.dev</a> (Open trace file) or in "
                 "chrome://tracing; open the trace directory itself in Trace Compass.</p>")
    page(path, "coop trace report", parts)


# The pages' look, shared with `coop campaign collect`'s index.html.
CSS = ("body{font-family:sans-serif;margin:2em;max-width:1250px;color:#222}"
       "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #bbb;"
       "padding:2px 8px;text-align:right;white-space:pre}th{background:#e8eef7}"
       "td:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}"
       "h2{border-bottom:2px solid #4a78c2;color:#234}")


def page(path, title, parts):
    """An HTML page of these parts (HTML text), in the reports' style."""
    with open(path, "w") as fh:
        fh.write(f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
                 f"{html.escape(title)}</title><style>{CSS}</style></head><body>\n" +
                 "\n".join(parts) + "\n</body></html>\n")
