# SPDX-License-Identifier: MIT
# trace_cobd_check.py - the block transfer coop:message names (blk_op,
# blk_sector, blk_bytes), checked on a trace as babeltrace2's text output
# shows it (read by the babeltrace2 CLI, not by coop).  Usage:
#   trace_cobd_check.py exact EVENTS.txt EXPECTED   the requests are exactly EXPECTED
#   trace_cobd_check.py faults EVENTS.txt EXPECTED  the same transfers, under a fault plan
#   trace_cobd_check.py damaged EVENTS.txt          requests damaged on the way (nocrc)
# EXPECTED: one request a line, "OP SECTOR BYTES", in the order the guest sends them.
# Prints what it found; exits 1 with the reason when a check fails.
import sys
from collections import Counter

from bt_text import events  # beside this script

OPS = ("NONE", "READ", "WRITE", "FLUSH", "INFO")


def need(cond, what):
    if not cond:
        print("trace cobd check failed:", what)
        sys.exit(1)


def io(f):
    return (f["blk_op"], f["blk_sector"], f["blk_bytes"])


def messages(path):
    """(cobd requests, cobd replies, other messages), each in trace order."""
    ev = events(path)
    need(ev and ev[-1][0] == "guest_terminate", "the trace does not end with guest_terminate "
         "(the monitor did not survive?)")
    msgs = [f for n, f in ev if n == "message"]
    need(msgs, "no coop:message events")
    need(all(k in msgs[0] for k in ("blk_op", "blk_sector", "blk_bytes")),
         f"coop:message has no blk_op/blk_sector/blk_bytes fields: {sorted(msgs[0])}")
    cobd = [f for f in msgs if f["device"] == "cobd"]
    reqs = [f for f in cobd if f["direction"] == "TO_HOST"]
    reps = [f for f in cobd if f["direction"] == "TO_GUEST"]
    need(reqs, "no cobd requests")
    need(all(f["type"] == 1 for f in reqs) and all(f["type"] == 2 for f in reps),
         "a cobd message of another type than request (to host) / reply (to guest)")
    need(all(f["blk_op"] in OPS for f in cobd), "a blk_op without its name: "
         f"{sorted({f['blk_op'] for f in cobd} - set(OPS))}")
    return reqs, reps, [f for f in msgs if f["device"] != "cobd"]


def expected(path):
    out = []
    for line in open(path):
        if line.strip():
            op, sector, nbytes = line.split()
            out.append((op, int(sector), int(nbytes)))
    return out


def others_are_none(others):
    bad = [f for f in others if io(f) != ("NONE", 0, 0)]
    need(not bad, f"{len(bad)} messages of other devices carry a block transfer: {bad[:3]}")


def requests_by_id(reqs):
    """{(unit, seq): its transfer}; a request sent again names the same one."""
    by = {}
    for f in reqs:
        k = (f["unit"], f["seq"])
        need(by.setdefault(k, io(f)) == io(f),
             f"request {k} sent again naming another transfer: {by[k]} then {io(f)}")
    return by


def replies_match(reps, by):
    for f in reps:
        k = (f["unit"], f["seq"])
        need(k in by, f"a reply to request {k}, which the guest never sent")
        need(io(f) == by[k], f"the reply to request {k} names {io(f)}, its request {by[k]}")


def exact(path, exp_path):
    """No faults: the requests are the expected ones in order, each answered
    once with exactly its transfer."""
    reqs, reps, others = messages(path)
    want = expected(exp_path)
    got = [io(f) for f in reqs]
    need(len(got) == len(want), f"{len(got)} cobd requests, the guest asked for {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        need(g == w, f"request {i} (seq {reqs[i]['seq']}) names {g}, the guest asked for {w}")
    by = requests_by_id(reqs)
    need(len(by) == len(reqs), "a request id sent twice in a run without faults")
    replies_match(reps, by)
    n = Counter((f["unit"], f["seq"]) for f in reps)
    need(set(n) == set(by) and set(n.values()) == {1},
         f"{len(reps)} replies for {len(by)} requests: not one each")
    others_are_none(others)
    ops = Counter(f["blk_op"] for f in reqs)
    print(f"{len(reqs)} cobd requests as the guest asked ({dict(ops)}), each answered once "
          f"with its own transfer; {len(others)} other messages NONE/0/0")
    return reqs


def faults(path, exp_path):
    """Under a fault plan (CRC on): requests dropped, damaged (the host's
    CRC check refuses them), duplicated, replies dropped and duplicated.
    Every transfer the guest asked for is a request (sent again after a
    loss), and every reply - copies too - names its request's."""
    reqs, reps, others = messages(path)
    by = requests_by_id(reqs)
    want = Counter(expected(exp_path))
    got = Counter(by.values())
    need(got == want, f"the requests name {dict(got)}, the guest asked for {dict(want)}")
    replies_match(reps, by)
    n = Counter((f["unit"], f["seq"]) for f in reps)
    need(set(n) == set(by), f"requests without a reply: {sorted(set(by) - set(n))[:5]}")
    others_are_none(others)
    print(f"{len(by)} requests ({len(reqs)} sent, retries included) as the guest asked; "
          f"{len(reps)} replies ({sum(v - 1 for v in n.values())} copies) each naming its "
          "request's transfer")


def damaged(path):
    """Requests without CRCs (nocrc) damaged on the way: the device serves
    what reaches it, and its reply names that - another transfer, or none
    (NONE/0/0) when what reached it was no well-formed request.  The
    monitor survives; what the guest sent is traced as sent."""
    reqs, reps, others = messages(path)
    by = requests_by_id(reqs)
    for f in reqs:
        need(f["blk_op"] in ("READ", "WRITE", "FLUSH"), f"a guest request named {io(f)}")
    for f in reps:
        need(f["blk_op"] != "NONE" or io(f) == ("NONE", 0, 0),
             f"a reply with blk_op NONE names sectors: {io(f)}")
        need(f["blk_op"] not in ("FLUSH", "INFO") or io(f)[1:] == (0, 0),
             f"a {f['blk_op']} reply names sectors: {io(f)}")
        need(f["blk_bytes"] % 512 == 0, f"a reply names a misaligned transfer: {io(f)}")
    differ = [f for f in reps if (f["unit"], f["seq"]) in by and io(f) != by[(f["unit"], f["seq"])]]
    strays = [f for f in reps if (f["unit"], f["seq"]) not in by]
    others_are_none(others)
    print(f"{len(reqs)} requests, {len(reps)} replies: {len(differ)} name another transfer "
          f"than their request, {len(strays)} answer an id the guest never sent "
          f"({sum(1 for f in reps if f['blk_op'] == 'NONE')} NONE)")


def main():
    check = sys.argv[1]
    if check == "exact":
        exact(sys.argv[2], sys.argv[3])
    elif check == "faults":
        faults(sys.argv[2], sys.argv[3])
    elif check == "damaged":
        damaged(sys.argv[2])
    else:
        need(False, f"unknown check {check}")


main()
