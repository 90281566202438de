# SPDX-License-Identifier: MIT
# tracefile.py - read a coop CTF trace with the babeltrace2 Python bindings
# into numpy columns: one array per (event, field), plus the global order.
# Fast path (docs/analysis.md): one TraceCollectionMessageIterator,
# field indexes and readers resolved once per event class, then per event
# only native calls (bt2._native_bt) and list appends - no bt2 wrapper
# objects per field.  ~3 s per million events here.
import numpy as np
import bt2
from bt2 import _native_bt as nb

KIND_UINT, KIND_SINT, KIND_STR, KIND_LEN = range(4)


class EventColumns:
    """All events of one class: ts (ns from origin), pos (global index), fields."""

    def __init__(self, name):
        self.name = name
        self.ts = []
        self.pos = []
        self.fields = {}   # field name -> list, then numpy array (or list of str)
        self.labels = {}   # enum field name -> {value: label}

    def finish(self):
        self.ts = np.asarray(self.ts, dtype=np.int64)
        self.pos = np.asarray(self.pos, dtype=np.int64)
        for k, v in self.fields.items():
            if v and isinstance(v[0], str):
                continue  # strings stay a list
            try:
                self.fields[k] = np.array(v, dtype=np.int64)
            except OverflowError:  # a uint64 above 2**63 (addresses): keep the bits
                self.fields[k] = np.array(v, dtype=np.uint64).view(np.int64)

    def __len__(self):
        return len(self.ts)

    def f(self, name):
        """A field's column (empty when the class lacks it)."""
        return self.fields.get(name, np.zeros(0, dtype=np.int64))

    def label(self, field, value):
        return self.labels.get(field, {}).get(int(value), str(int(value)))


class Trace:
    def __init__(self, path):
        self.path = path
        self.events = {}          # short name ("switch_out") -> EventColumns
        self.total = 0            # event messages read
        self.discarded = 0        # events the tracer reported as discarded
        self.first_ns = 0
        self.last_ns = 0
        self.boot_vpids = []      # the vpid of each coop:guest_boot: one per run

    def ev(self, name):
        e = self.events.get(name)
        if e is None:
            e = EventColumns(name)
            e.finish()
            self.events[name] = e
        return e


def _class_plan(msg, trace):
    """Per event class: where its columns go and how to read each field."""
    cls = msg.event.cls
    name = cls.name.split(":", 1)[-1]
    cols = trace.events.get(name)
    if cols is None:
        cols = trace.events[name] = EventColumns(name)
    readers = []
    pfc = cls.payload_field_class
    if pfc is not None:
        for idx, (fname, member) in enumerate(pfc.items()):
            fc = member.field_class
            if isinstance(fc, bt2._SignedIntegerFieldClassConst):
                kind, get = KIND_SINT, nb.field_integer_signed_get_value
            elif isinstance(fc, bt2._UnsignedIntegerFieldClassConst):
                kind, get = KIND_UINT, nb.field_integer_unsigned_get_value
            elif isinstance(fc, bt2._StringFieldClassConst):
                kind, get = KIND_STR, nb.field_string_get_value
            elif isinstance(fc, bt2._ArrayFieldClassConst):
                kind, get = KIND_LEN, nb.field_array_get_length
                fname = fname + "_len"
            else:
                continue
            if isinstance(fc, bt2._EnumerationFieldClassConst):
                lab = {}
                for label, mapping in fc.items():
                    for r in mapping.ranges:
                        for v in range(r.lower, min(r.upper, r.lower + 256) + 1):
                            lab[v] = label
                cols.labels[fname] = lab
            col = cols.fields.setdefault(fname, [])
            readers.append((idx, get, col.append))
    return cols, tuple(readers)


def _vpid_index(msg):
    """Where vpid is in the events' common context (None: not recorded)."""
    fc = msg.event.cls.stream_class.event_common_context_field_class
    names = list(fc.keys()) if fc is not None else []
    return names.index("vpid") if "vpid" in names else None


def load(path, vpid=None):
    """Read every event of the trace(s) under path -- only process vpid's, when
    given (its vpid context; events without one are dropped).  Raises bt2 errors
    as they come."""
    trace = Trace(path)
    ctx_of = nb.event_borrow_common_context_field_const
    sint = nb.field_integer_signed_get_value
    vpid_at = {}              # event class key -> index of vpid in the context, or None
    it = bt2.TraceCollectionMessageIterator(str(path))
    EV = bt2._EventMessageConst
    DISC = bt2._DiscardedEventsMessageConst
    borrow_ev = nb.message_event_borrow_event_const
    borrow_cs = nb.message_event_borrow_default_clock_snapshot_const
    ns_from_origin = nb.clock_snapshot_get_ns_from_origin
    cls_of = nb.event_borrow_class_const
    payload = nb.event_borrow_payload_field_const
    member = nb.field_structure_borrow_member_field_by_index_const
    plans = {}
    boots = set()             # event class keys of coop:guest_boot
    n = 0
    for msg in it:
        if type(msg) is not EV:
            if type(msg) is DISC:
                trace.discarded += msg.count or 0
            continue
        p = msg._ptr
        ev = borrow_ev(p)
        key = int(cls_of(ev))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _class_plan(msg, trace)
            if plan[0].name == "guest_boot":
                boots.add(key)
        cols, readers = plan
        if vpid is not None:
            if key not in vpid_at:
                vpid_at[key] = _vpid_index(msg)
            at = vpid_at[key]
            if at is None or sint(member(ctx_of(ev), at)) != vpid:
                continue
        if key in boots:  # once per run: the slow, general reader is fine
            ctx = msg.event.common_context_field
            trace.boot_vpids.append(int(ctx["vpid"]) if ctx is not None and "vpid" in ctx else -1)
        t = ns_from_origin(borrow_cs(p))[1]
        cols.ts.append(t)
        cols.pos.append(n)
        n += 1
        if readers:
            pl = payload(ev)
            for idx, get, append in readers:
                append(get(member(pl, idx)))
    trace.total = n
    for cols in trace.events.values():
        cols.finish()
    firsts = [c.ts[0] for c in trace.events.values() if len(c)]
    lasts = [c.ts[-1] for c in trace.events.values() if len(c)]
    if firsts:
        trace.first_ns, trace.last_ns = int(min(firsts)), int(max(lasts))
    return trace
