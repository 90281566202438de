#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# provenance.sh - the run report says where its figures came from: coop's
# version and commit, the command line, the SHA-256 of the kernel and the
# fault plan, the seed, the host, the UTC start time, the wall duration and
# how the run ended - each checked against the real thing.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

printf 'seed 42\ndrop device=cobd prob=1%%\n' >"$TMP/p.plan"
truncate -s 1M "$TMP/d.img"
before=$(date -u +%s)
run run --disk "cobd0=$TMP/d.img" --faults "$TMP/p.plan" --report "$TMP/r.json" \
	--exec 'blk scrub 0; spin 100'
expect_status 0
version=$("$COOP" version | sed -n 's/^coop //p')
check "the provenance of a run with a fault plan" /usr/bin/python3 - "$TMP/r.json" "$version" "$(sha256sum <"$COOP_GUEST" | cut -d' ' -f1)" \
	"$(sha256sum <"$TMP/p.plan" | cut -d' ' -f1)" "$before" "$TMP" <<'PY'
import calendar, json, sys, time
path, version, ksha, psha, before, tmp = sys.argv[1:]
p = json.load(open(path))["provenance"]
assert p["coop"] == version, (p["coop"], version)
assert p["commit"] and " " not in p["commit"], p["commit"]
assert p["command"] == ["coop", "run", "--disk", f"cobd0={tmp}/d.img", "--faults", f"{tmp}/p.plan",
                        "--report", f"{tmp}/r.json", "--exec", "blk scrub 0; spin 100"], p["command"]
assert p["kernel_sha256"] == ksha, (p["kernel_sha256"], ksha)
assert p["plan"] == f"{tmp}/p.plan" and p["plan_sha256"] == psha, p
assert p["seed"] == 42, p["seed"]
assert p["host"].startswith("Linux ") and "CPUs" in p["host"], p["host"]
t = calendar.timegm(time.strptime(p["started_utc"], "%Y-%m-%dT%H:%M:%SZ"))
assert int(before) <= t <= time.time(), (p["started_utc"], before)
assert p["wall_s"] > 0, p["wall_s"]
assert p["end"] == "powered_off", p["end"]
print("provenance:", p["coop"], p["commit"], p["kernel_sha256"][:12], p["plan_sha256"][:12],
      p["seed"], p["started_utc"], p["wall_s"])
PY

# Without a plan: no plan, no seed; a crash is the way it ended.
run run --report "$TMP/c.json" --exec 'crash segv'
expect_status 3
check "the provenance of a crashed run without a plan" /usr/bin/python3 - "$TMP/c.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["provenance"]
assert p["plan"] is None and p["plan_sha256"] is None and p["seed"] is None, p
assert p["end"] == "crashed", p["end"]
PY
done_ok
