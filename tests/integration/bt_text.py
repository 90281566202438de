# SPDX-License-Identifier: MIT
# bt_text.py - coop events as the babeltrace2 CLI prints them, for the
# trace tests (trace_check.py, analyze_check.py): they count what babeltrace2
# itself reads, independently of coop's own reader (analysis/).
import re

LINE = re.compile(r"^\[[^]]*\] \([^)]*\) \S+ coop:(\w+): (.*)$")
SEQ = re.compile(r"(\w+) = \[ (?:\[\d+\] = [^,\]]+(?:, )?)* \]")  # arrays: kept as a string
FIELD = re.compile(r'(\w+) = (\( "([^"]*)" : container = (-?\d+) \)|"((?:[^"\\]|\\.)*)"|[^,}]+)')


def events(path):
    """(name, fields) per coop event line of `babeltrace2 DIR` output;
    enumerations become their labels, arrays the string "[...]"."""
    out = []
    for line in open(path):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        fields = {}
        payload = m.group(2).rsplit("}, {", 1)[-1]  # the last {...}: the event's own fields
        payload = SEQ.sub(r'\1 = "[...]"', payload)
        for f in FIELD.finditer(payload):
            if f.group(3) is not None:
                fields[f.group(1)] = f.group(3)
            elif f.group(5) is not None:
                fields[f.group(1)] = f.group(5)
            else:
                v = f.group(2).strip()
                fields[f.group(1)] = int(v, 16) if v.startswith("0x") else int(v)
        out.append((m.group(1), fields))
    return out
