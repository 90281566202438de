# SPDX-License-Identifier: MIT
# trace_check.py - checks on a coop trace as babeltrace2's text output shows
# it (the trace is read by the babeltrace2 CLI, not by coop).  Usage:
#   trace_check.py workload|faults|crash|panic|interrupted EVENTS.txt REPORT.json
# Prints what it found; exits 1 with the reason when a check fails.
import json
import sys

from bt_text import events  # beside this script


def need(cond, what):
    if not cond:
        print("trace check failed:", what)
        sys.exit(1)


def common(ev, rep):
    names = [e[0] for e in ev]
    need(ev, "no coop events at all")
    need(names[0] == "guest_boot", f"first event is {names[0]}, not guest_boot")
    outs = names.count("switch_out")
    total = rep["switches"]["total"]
    need(outs == total, f"{outs} coop:switch_out events, report says switches.total = {total}")
    need(rep.get("trace", {}).get("discarded_events") == 0, "the report shows discarded events")
    print(f"{len(ev)} events; {outs} switch_out == switches.total; 0 discarded")
    return names


def workload(ev, rep):
    names = common(ev, rep)
    need(names[-1] == "guest_terminate" and ev[-1][1]["status"] == 0,
         f"last event is {names[-1]}, not guest_terminate status 0")
    msgs = [f for n, f in ev if n == "message"]
    reqs = [f["seq"] for f in msgs if f["device"] == "cobd" and f["direction"] == "TO_HOST"]
    reps = {f["seq"] for f in msgs if f["device"] == "cobd" and f["direction"] == "TO_GUEST"}
    need(reqs, "no cobd requests")
    missing = [s for s in reqs if s not in reps]
    need(not missing, f"cobd requests without a reply: {missing[:10]}")
    need(all(f["crc_ok"] == 1 for f in msgs), "a message with a bad CRC")
    n_to_host = len([f for f in msgs if f["direction"] == "TO_HOST"])
    n_rep = sum(v["to_host"]["count"] for v in rep["messages"].values()
                if isinstance(v, dict) and "to_host" in v)
    need(n_to_host == n_rep, f"{n_to_host} TO_HOST messages, report says {n_rep}")
    fwd = [f for n, f in ev if n == "irq_forward"]
    ticks = [f for f in fwd if f["source"] == "TICK"]
    need(ticks, "no forwarded tick")
    need(all(f["host_signal"] >= 32 and f["guest_vector"] == 32 and f["latency_cycles"] > 0
             for f in ticks), f"odd irq_forward fields: {ticks[0]}")
    need(len(fwd) == rep["irqs"]["forwarded"],
         f"{len(fwd)} irq_forward events, report says {rep['irqs']['forwarded']}")
    virq = [f for n, f in ev if n == "virq_deliver"]
    need(any(f["vector"] == 32 and f["count"] >= 1 for f in virq), "no timer vIRQ delivered")
    need(all(32 <= f["vector"] <= 35 and f["mode"] in ("ASYNC", "SYNC") for f in virq),
         "odd virq_deliver fields")
    print(f"{len(reqs)} cobd requests, each with its reply; {len(fwd)} irq_forward, "
          f"{len(virq)} virq_deliver")


def faults(ev, rep):
    """A run under a fault plan: one coop:fault_injected per injected fault,
    as the report counts them, and I/O faults carry the host backtrace."""
    common(ev, rep)
    fi = [f for n, f in ev if n == "fault_injected"]
    kinds = {k: v for k, v in rep["faults"].items() if isinstance(v, dict) and "injected" in v}
    total = sum(v["injected"] for v in kinds.values())
    need(total > 0, "the run injected no faults")
    need(len(fi) == total, f"{len(fi)} fault_injected events, report says {total} injected")
    for k, v in kinds.items():
        n = len([f for f in fi if f["kind"].replace(" ", "_") == k])
        need(n == v["injected"], f"{n} fault_injected {k}, report says {v['injected']}")
    io = [f for f in fi if f["kind"].startswith("io ")]
    need(io, "no I/O fault in the trace")
    need(all(f["_backtrace_length"] >= 3 and f["device"] == "cobd" for f in io),
         f"an I/O fault without its backtrace: {io[0]}")
    need(all(f["rule"] >= 1 for f in fi), "a fault_injected without its rule")
    print(f"{len(fi)} fault_injected == report's injected; {len(io)} I/O faults with backtraces")


def ending(ev, rep, kind):
    names = common(ev, rep)
    last = ev[-1]
    need(last[0] == "guest_crash", f"last event is {last[0]}, not guest_crash")
    need(last[1]["kind"] == kind, f"guest_crash kind {last[1]['kind']}, expected {kind}")
    need(last[1]["exit_status"] == rep["guest"]["exit_status"], "exit status differs")
    return last[1]


def main():
    check, ev, rep = sys.argv[1], events(sys.argv[2]), json.load(open(sys.argv[3]))
    if check == "workload":
        workload(ev, rep)
    elif check == "faults":
        faults(ev, rep)
    elif check == "crash":
        f = ending(ev, rep, "FAULT")
        need(f["signal"] == 11 and f["addr"] == 0x10 and f["rip"] != 0, f"crash fields: {f}")
        print("ends with guest_crash FAULT, SIGSEGV at 0x10")
    elif check == "panic":
        ending(ev, rep, "PANIC")
        need(ev[-2][0] == "guest_panic" and ev[-2][1]["message"] == "oh no",
             f"the event before the end is {ev[-2]}, not guest_panic 'oh no'")
        print("guest_panic, then guest_crash PANIC at the end")
    elif check == "interrupted":
        ending(ev, rep, "INTERRUPTED")
        print("ends with guest_crash INTERRUPTED")
    else:
        need(False, f"unknown check {check}")


main()
