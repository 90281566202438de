# SPDX-License-Identifier: MIT
"""Unit tests of coop_analyze.stats on hand-made event sequences, built in
the very containers the trace reader fills (tracefile.EventColumns).
Run: PYTHONPATH=analysis /usr/bin/python3 analysis/tests/test_stats.py (ctest:
unit/analysis); exit 77 (skipped) without Debian's python3-bt2 and numpy."""
import sys
import unittest

try:
    import bt2  # noqa: F401  (tracefile needs it)
    import numpy as np
except ImportError as e:
    print(f"SKIP: {e.name} is missing (Debian: python3-bt2, python3-numpy)")
    sys.exit(77)

from coop_analyze import stats, tracefile  # noqa: E402

SYNC, ASYNC = 1, 0
MODES = {ASYNC: "ASYNC", SYNC: "SYNC"}
# coop:message's words (docs/tracing.md)
DEVICES = {0: "monitor", 1: "cocon", 2: "cobd", 3: "conet"}
BLK_OPS = {0: "NONE", 1: "READ", 2: "WRITE", 3: "FLUSH", 4: "INFO"}
COCON, COBD = 1, 2
NONE, READ, WRITE, FLUSH = 0, 1, 2, 3
TO_HOST, TO_GUEST = 0, 1


def trace(events):
    """A Trace from [(name, ts_ns, {field: value})], in trace order."""
    tr = tracefile.Trace("hand-made")
    for pos, (name, ts, fields) in enumerate(events):
        e = tr.events.setdefault(name, tracefile.EventColumns(name))
        e.ts.append(ts)
        e.pos.append(pos)
        for k, v in fields.items():
            e.fields.setdefault(k, []).append(v)
        if name == "virq_deliver":
            e.labels["mode"] = MODES
        if name == "message":
            e.labels.update(device=DEVICES, blk_op=BLK_OPS)
    for e in tr.events.values():
        e.finish()
    return tr


def sync_ticks(n, period_ns=4_000_000):
    """n ticks taken in SYNC mode: the guest resumes with the tick pending
    (vIF off), enables vIF (IRQ_ENABLE), the host delivers, the guest resumes
    to take it (the vIRQ still shows pending at that switch_in)."""
    ev = []
    for k in range(n):
        t = 1_000_000 + k * period_ns
        ev += [("switch_in", t, {"pending": 1, "vif": 0}),
               ("switch_out", t + 100, {"reason": 7}),
               ("virq_deliver", t + 200, {"mode": SYNC, "vector": 32, "count": 1}),
               ("switch_in", t + 300, {"pending": 1, "vif": 1}),
               ("switch_out", t + 2_000_000, {"reason": 2})]
    return ev


class VirqLatency(unittest.TestCase):
    def test_sync_waits_from_the_switch_in_that_found_it_pending(self):
        lat, by, unmatched = stats.virq_samples(trace(sync_ticks(5)))
        self.assertEqual(lat.tolist(), [200.0] * 5)
        self.assertEqual(by["SYNC"].tolist(), [200.0] * 5)
        self.assertEqual(unmatched, 0)

    def test_async_after_a_sync_one(self):
        ev = sync_ticks(1) + [("switch_in", 7_000_000, {"pending": 1, "vif": 1}),
                              ("virq_deliver", 7_000_050, {"mode": ASYNC, "vector": 33,
                                                           "count": 1})]
        lat, by, unmatched = stats.virq_samples(trace(ev))
        self.assertEqual(lat.tolist(), [200.0, 50.0])
        self.assertEqual(by["ASYNC"].tolist(), [50.0])
        self.assertEqual(unmatched, 0)

    def test_a_delivery_with_no_pending_switch_in_is_unmatched(self):
        ev = [("switch_in", 10, {"pending": 0, "vif": 1}),
              ("virq_deliver", 20, {"mode": ASYNC, "vector": 33, "count": 1})]
        lat, _, unmatched = stats.virq_samples(trace(ev))
        self.assertEqual(lat.size, 0)
        self.assertEqual(unmatched, 1)

    def test_no_deliveries(self):
        lat, by, unmatched = stats.virq_samples(trace([("switch_in", 10, {"pending": 0})]))
        self.assertEqual((lat.size, by, unmatched), (0, {}, 0))


def msg(ts, direction, seq, op, sector, nbytes, device=COBD, unit=0):
    """A coop:message: a cobd request (TO_HOST) or reply (TO_GUEST), or another device's."""
    typ = (1 if direction == TO_HOST else 2) if device == COBD else 1
    return ("message", ts, {"direction": direction, "device": device, "unit": unit, "type": typ,
                            "seq": seq, "length": 32, "crc_ok": 1, "blk_op": op,
                            "blk_sector": sector, "blk_bytes": nbytes})


class BlockIoPairing(unittest.TestCase):
    """Requests paired with their replies by (unit, seq), per blk_op: two
    writes in flight answered out of order, a flush, a read sent twice
    (the first reply lost: the retry finds no reply of its own), a read of
    unit 1 with the same seq as one of unit 0, and console messages between
    them."""

    EVENTS = [msg(1000, TO_HOST, 1, WRITE, 0, 8192),
              msg(1100, TO_HOST, 2, WRITE, 16, 8192),
              msg(1200, TO_HOST, 1, NONE, 0, 0, device=COCON),
              msg(1500, TO_GUEST, 2, WRITE, 16, 8192),      # 400 ns
              msg(2000, TO_GUEST, 1, WRITE, 0, 8192),       # 1000 ns
              msg(3000, TO_HOST, 3, FLUSH, 0, 0),
              msg(3050, TO_GUEST, 3, FLUSH, 0, 0),          # 50 ns
              msg(4000, TO_HOST, 4, READ, 32, 4096),
              msg(9000, TO_HOST, 4, READ, 32, 4096),        # the retry
              msg(9300, TO_GUEST, 4, READ, 32, 4096),       # 5300 ns from the first
              msg(9400, TO_HOST, 4, READ, 7, 512, unit=1),
              msg(9500, TO_GUEST, 4, READ, 7, 512, unit=1),  # 100 ns
              msg(9600, TO_GUEST, 9, NONE, 0, 0, device=COCON)]

    def test_pairs_carry_the_requests_transfer(self):
        p = stats.pair_messages(trace(self.EVENTS))["cobd"]
        self.assertEqual((p["requests"], p["replies"], p["matched"]), (6, 5, 5))
        self.assertEqual((p["unmatched_requests"], p["unmatched_replies"]), (1, 0))
        got = sorted(zip(p["op"].tolist(), p["sector"].tolist(), p["bytes"].tolist(),
                         p["rtt"].tolist()))
        self.assertEqual(got, [(READ, 7, 512, 100.0), (READ, 32, 4096, 5300.0),
                               (WRITE, 0, 8192, 1000.0), (WRITE, 16, 8192, 400.0),
                               (FLUSH, 0, 0, 50.0)])
        self.assertEqual(p["replies_differing"], 0)

    def test_summary_per_op(self):
        tr = trace(self.EVENTS)
        blk, samples = stats.block_io(tr, stats.pair_messages(tr))
        self.assertTrue(blk["present"])
        by = blk["by_op"]
        self.assertEqual(sorted(by), ["FLUSH", "READ", "WRITE"])
        self.assertEqual((by["WRITE"]["count"], by["WRITE"]["bytes"], by["WRITE"]["answered"]),
                         (2, 16384, 2))
        self.assertEqual((by["WRITE"]["latency"]["min"], by["WRITE"]["latency"]["max"]),
                         (400.0, 1000.0))
        # The retry is a request of its own (its bytes count too), answered by nothing.
        self.assertEqual((by["READ"]["count"], by["READ"]["bytes"], by["READ"]["answered"]),
                         (3, 4096 * 2 + 512, 2))
        self.assertEqual(sorted(samples["READ"].tolist()), [100.0, 5300.0])
        self.assertEqual((by["FLUSH"]["count"], by["FLUSH"]["bytes"]), (1, 0))
        self.assertEqual(by["FLUSH"]["latency"]["median"], 50.0)
        st, _ = stats.compute(tr)
        self.assertEqual(st["block_io"]["by_op"], by)
        self.assertEqual(st["latency"]["block_io"]["all"]["count"], 5)
        self.assertEqual(st["latency"]["block_io"]["by_op"]["WRITE"]["count"], 2)

    def test_a_reply_naming_another_transfer_is_counted(self):
        ev = [msg(10, TO_HOST, 1, WRITE, 0, 512), msg(20, TO_GUEST, 1, WRITE, 8, 512),
              msg(30, TO_HOST, 2, READ, 0, 512), msg(40, TO_GUEST, 2, NONE, 0, 0)]
        tr = trace(ev)
        pairs = stats.pair_messages(tr)
        self.assertEqual(pairs["cobd"]["replies_differing"], 2)
        blk, _ = stats.block_io(tr, pairs)
        self.assertEqual(blk["replies_differing"], 2)
        # Counted by what the request asked for.
        self.assertEqual(blk["by_op"]["WRITE"]["bytes"], 512)

    def test_a_trace_without_the_fields(self):
        ev = [("message", 10, {"direction": TO_HOST, "device": COBD, "unit": 0, "type": 1,
                               "seq": 1, "length": 32, "crc_ok": 1}),
              ("message", 20, {"direction": TO_GUEST, "device": COBD, "unit": 0, "type": 2,
                               "seq": 1, "length": 32, "crc_ok": 1})]
        tr = trace(ev)
        pairs = stats.pair_messages(tr)
        self.assertEqual(pairs["cobd"]["matched"], 1)
        self.assertEqual(pairs["cobd"]["op"].tolist(), [NONE])
        blk, samples = stats.block_io(tr, pairs)
        self.assertEqual((blk["present"], blk["by_op"], samples), (False, {}, {}))


class Distribution(unittest.TestCase):
    def test_percentiles_of_a_known_sample(self):
        d = stats.dist(np.arange(1, 101, dtype=np.float64))
        self.assertEqual(d["count"], 100)
        self.assertAlmostEqual(d["median"], 50.5)
        self.assertEqual(d["min"], 1.0)
        self.assertEqual(d["max"], 100.0)


class Wilson(unittest.TestCase):
    """stats.wilson against the score interval's closed form, at its edges."""

    def test_known_values(self):
        p, lo, hi = stats.wilson(5, 10)
        self.assertEqual(p, 0.5)
        self.assertAlmostEqual(lo, 0.236593, places=5)
        self.assertAlmostEqual(hi, 0.763407, places=5)
        p, lo, hi = stats.wilson(0, 10)  # no success: [0, 0.2775], not [0, 0]
        self.assertEqual((p, lo), (0.0, 0.0))
        self.assertAlmostEqual(hi, 0.277533, places=5)
        p, lo, hi = stats.wilson(20, 20)
        self.assertEqual((p, hi), (1.0, 1.0))
        self.assertAlmostEqual(lo, 0.838875, places=5)

    def test_empty_and_bounds(self):
        self.assertEqual(stats.wilson(0, 0), (None, None, None))
        for n in (1, 7, 100, 12345):
            for k in sorted({0, 1, n // 3, n - 1, n}):
                p, lo, hi = stats.wilson(k, n)
                self.assertTrue(0 <= lo <= p <= hi <= 1, (k, n, lo, p, hi))


class IrqForward(unittest.TestCase):
    """irq_forward is coop:irq_taken's interval (as coop bench measures it);
    irq_serve is coop:irq_forward's, the host's part."""

    def events(self):
        ev = []
        for k in range(4):
            t = 1_000_000 * (k + 1)
            ev += [("irq_forward", t, {"source": 0, "latency_cycles": 300 + k}),
                   ("irq_taken", t + 500_000, {"source": 0, "latency_cycles": 900 + k})]
        return ev

    def test_each_metric_reads_its_own_event(self):
        tr = trace(self.events())
        for e in tr.events.values():
            e.labels["source"] = {0: "TICK"}
        lat, by = stats.irq_samples(tr, None)
        self.assertEqual(lat.tolist(), [900.0, 901.0, 902.0, 903.0])
        self.assertEqual(list(by), ["TICK"])
        serve, _ = stats.irq_serve_samples(tr, None)
        self.assertEqual(serve.tolist(), [300.0, 301.0, 302.0, 303.0])

    def test_cycles_become_ns_at_the_fitted_rate(self):
        lat, _ = stats.irq_samples(trace(self.events()), 2.0)
        self.assertEqual(lat.tolist(), [450.0, 450.5, 451.0, 451.5])


class SwitchTimes(unittest.TestCase):
    """Host and guest time come from the switch events' TSCs: under the kmod
    backend coop writes the round trips its module served after the RUN,
    their timestamps bunched together, their TSCs as they happened."""

    def events(self, late):
        # 1 TSC cycle per ns; guest 1000 ns, host 300 ns, three round trips,
        # the middle two written `late` ns after they happened.
        ev, t = [], 10_000
        for k in range(3):
            w = late if k in (1, 2) else 0
            ev += [("switch_in", t + w, {"tsc": t}), ("switch_out", t + 1000 + w, {"tsc": t + 1000, "reason": 9})]
            t += 1300
        ev += [("switch_in", t, {"tsc": t})]
        return ev

    def test_durations_from_the_tsc(self):
        for late in (0, 50_000):
            tr = trace(self.events(late))
            start, end, world, _ = stats.world_intervals(tr, 1.0)
            guest = (end - start)[world == 1][:3]
            host = (end - start)[world == 0]
            self.assertEqual(guest.tolist(), [1000.0] * 3, late)
            self.assertEqual(host.tolist(), [300.0] * 3, late)

    def test_timestamps_without_a_rate(self):
        start, end, world, _ = stats.world_intervals(trace(self.events(0)), None)
        self.assertEqual((end - start)[world == 0].tolist(), [300.0] * 3)


if __name__ == "__main__":
    unittest.main()
