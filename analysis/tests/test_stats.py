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


class Distribution(unittest.TestCase):
    def test_percentiles_of_a_known_sample(self):
        d = stats.dist(np.arange(1, 101, dtype=np.float64))
        self.assertEqual(d["count"], 100)
        self.assertAlmostEqual(d["median"], 50.5)
        self.assertEqual(d["min"], 1.0)
        self.assertEqual(d["max"], 100.0)


if __name__ == "__main__":
    unittest.main()
