#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# faults.sh - fault injection as an experimenter runs it: `blk scrub` of a
# 64 MiB image, twice, in 4 KiB requests (> 100,000 messages) under the
# mixed plan (faults/examples/mixed.plan): nothing escapes, both scrubs
# verify, every injected fault is detected or harmless, and the run ends.
# The same plan with the guest's protection off lets corruption escape, and
# the report says so.  Host I/O errors are retried and recovered from, and
# the report shows where in the host they struck.  The same seed replays the same faults; another seed
# does not.  A bad plan stops the run before anything starts.
set -e
. "$(dirname "$0")/lib.sh"
PLANS=$(dirname "$0")/../../faults/examples
cmdline='cobd_max_kib=4 cobd_timeout_ms=5' # 4 KiB requests; a lost one costs 5 ms
scrub='blk scrub 0; blk scrub 0 0 131072 2'

img=$TMP/disk.img
truncate -s 64M "$img"

# 1. The mixed plan: nothing escapes, the scrubs verify, the accounting adds up.
run run --disk "cobd0=$img" --cmdline "$cmdline" --faults "$PLANS/mixed.plan" \
	--report "$TMP/r1.json" --exec "$scrub"
expect_status 0
expect_in out "scrub cobd0: 131072 sectors written and verified, 0 errors"
expect_in err "coop: faults:"
expect_in err " 0 escaped"
check "the mixed plan's accounting" /usr/bin/python3 - "$TMP/r1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f, c = r["faults"], r["messages"]["cobd"]
msgs = c["to_host"]["count"] + c["to_guest"]["count"]
assert msgs >= 100000, f"only {msgs} messages"
kinds = [k for k in f if isinstance(f[k], dict) and "injected" in f[k]]
inj = sum(f[k]["injected"] for k in kinds)
det = sum(f[k]["detected"] for k in kinds)
harm = sum(f[k]["harmless"] for k in kinds)
for k in ("corrupt", "drop", "duplicate", "delay", "reorder"):
    assert f[k]["injected"] > 0, f"no {k} injected: {f[k]}"
esc = sum(f[k]["escaped"] for k in kinds)
assert esc == 0 and inj == det + harm, f"injected {inj} != detected {det} + harmless {harm}"
assert f["escaped_total"] == 0 and f["checked"] == 2 * 131072, f
assert r["guest"]["exit_status"] == 0
dev = f["devices"]["cobd"]
for k in kinds:
    assert dev.get(k, {"injected": 0})["injected"] == f[k]["injected"], (k, dev, f[k])
print(f"{msgs} messages, {inj} faults injected: {det} detected, {harm} harmless, 0 escaped")
PY

# 2. Replay: the same plan and seed give the same fault log; another seed does
# not.  On a quarter of the image, with a timeout far above the plan's
# longest delay, so a busy machine does not add retries of its own.
small="blk scrub 0 0 32768"
records() { # LOG: its first line and its records, without the lines saying where the run came from
	grep -v '^# [a-z]*: ' "$1"
}
same_log() { # LOG1 LOG2: the same records, else their first differences shown
	cmp -s <(records "$1") <(records "$2") && return
	diff <(records "$1") <(records "$2") | head
	return 1
}
for log in log2 log3; do
	run run --disk "cobd0=$img" --cmdline "cobd_max_kib=4 cobd_timeout_ms=20" \
		--faults "$PLANS/mixed.plan" --fault-log "$TMP/$log" --exec "$small"
	expect_status 0
done
check "too few faults in the log to compare" [ "$(grep -c '^rule=' "$TMP/log2")" -gt 100 ]
check "same plan and seed, different fault logs" same_log "$TMP/log2" "$TMP/log3"
run run --disk "cobd0=$img" --cmdline "cobd_max_kib=4 cobd_timeout_ms=20" \
	--faults "$PLANS/mixed.plan" --seed 7 --fault-log "$TMP/log4" --exec "$small"
expect_status 0
check "another seed, the same fault log" bash -c "! cmp -s '$TMP/log2' '$TMP/log4'"
# Where the log came from, under its first line: coop, the command, the inputs' SHA-256.
check "the log's provenance lines" grep -qx "# plan: $PLANS/mixed.plan, sha256 $(sha256sum <"$PLANS/mixed.plan" | cut -d' ' -f1)" "$TMP/log4"
check "the log names its kernel's SHA-256" grep -qx "# kernel: .*, sha256 $(sha256sum <"$COOP_GUEST" | cut -d' ' -f1)" "$TMP/log4"
check "the log names its command" grep -qF -- "# command: coop run --disk cobd0=$img" "$TMP/log4"
check "the log says how the run ended" grep -qE '^# started: [0-9T:-]+Z, wall [0-9.]+ s, end: powered_off$' "$TMP/log4"
check "the log does not name --seed 7: $(head -1 "$TMP/log4")" grep -q "seed 7," <(head -1 "$TMP/log4")

# 3. Protection off: corrupted data reaches the guest unnoticed; the check finds it.
printf 'seed 3\ncorrupt device=cobd dir=to_guest type=reply prob=1%%\n' >"$TMP/corrupt.plan"
run run --disk "cobd0=$img" --cmdline "$cmdline nocrc" --faults "$TMP/corrupt.plan" \
	--report "$TMP/r4.json" --exec 'blk scrub 0'
expect_status 1
check "protection off: the escaped corruptions" /usr/bin/python3 - "$TMP/r4.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["faults"]
c = f["corrupt"]
assert c["injected"] > 0 and c["escaped"] > 0 and f["escaped_total"] >= c["escaped"], f
assert c["injected"] == c["detected"] + c["harmless"] + c["escaped"], c
assert f["devices"]["cobd"]["corrupt"]["escaped"] == c["escaped"], f["devices"]
print(f"protection off: {c['injected']} corruptions, {c['escaped']} escaped, "
      f"{f['escaped_total']} bad sectors")
PY
expect_in err "escaped"

# 4. Host I/O faults: transient EIO and short transfers are reported to the
# guest, which retries and recovers; the report names the host code where
# they struck (libunwind backtraces, symbolised at the end).
printf 'seed 9\nio eio op=read prob=2%%\nio short op=write every=97\n' >"$TMP/io.plan"
run run --disk "cobd0=$img" --cmdline "$cmdline" --faults "$TMP/io.plan" \
	--report "$TMP/r5.json" --exec 'blk scrub 0 0 32768'
expect_status 0
expect_in out "32768 sectors written and verified, 0 errors"
expect_in err "io eio x"
check "host I/O faults: detected, recovered and their sites" /usr/bin/python3 - "$TMP/r5.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["faults"]
for k in ("io_eio", "io_short"):
    o = f[k]
    assert o["injected"] > 0 and o["detected"] == o["injected"], (k, o)
    assert o["recovered"] > 0 and o["recovered"] <= o["detected"], (k, o)
kinds = {s["kind"] for s in f["sites"]}
assert kinds == {"io eio", "io short"}, f["sites"]
for s in f["sites"]:
    names = " ".join(s["backtrace"])
    assert s["count"] > 0 and "shim_faults_io" in names and "cobd_from_guest" in names, s
assert sum(s["count"] for s in f["sites"]) == f["io_eio"]["injected"] + f["io_short"]["injected"]
print(f"I/O faults: eio {f['io_eio']}, short {f['io_short']}; sites: {s['backtrace'][:3]}")
PY

# 5. Virtual-interrupt faults (faults/examples/irq.plan): lost, late and
# spurious vIRQs cost the guest latency, never data or its life.
run run --disk "cobd0=$img" --cmdline cobd_max_kib=4 --faults "$PLANS/irq.plan" \
	--report "$TMP/r6.json" --exec 'blk scrub 0 0 16384; sleep 300; echo alive'
expect_status 0
expect_in out "16384 sectors written and verified, 0 errors"
expect_in out "alive"
check "vIRQ faults: injected and accounted for" /usr/bin/python3 - "$TMP/r6.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["faults"]
for k in ("irq_drop", "irq_delay", "irq_spurious"):
    o = f[k]
    assert o["injected"] > 0 and o["injected"] == o["harmless"] + o["detected"], (k, o)
print("vIRQ faults:", {k: f[k]["injected"] for k in ("irq_drop", "irq_delay", "irq_spurious")})
PY

# 6. A harsh plan (faults/examples/harsh.plan: 20% of messages with 8 bits
# flipped anywhere, truncation, duplicates, reorders, drops, spurious
# vIRQs): whatever the layer does to a message, the host never ends the
# guest for it, nothing escapes, and every fault is accounted for.
for seed in 4 5 6; do
	run run --disk "cobd0=$img" --cmdline 'cobd_max_kib=16 cobd_timeout_ms=5' \
		--faults "$PLANS/harsh.plan" --seed $seed --report "$TMP/h$seed.json" \
		--exec 'blk scrub 0 0 8192'
	expect_status 0
	expect_in out "8192 sectors written and verified, 0 errors"
	check "the harsh plan, seed $seed: every fault accounted for, none escaped" \
		/usr/bin/python3 - "$TMP/h$seed.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["faults"]
kinds = [k for k in f if isinstance(f[k], dict) and "injected" in f[k]]
inj, det, harm, esc = (sum(f[k][o] for k in kinds) for o in ("injected", "detected", "harmless", "escaped"))
assert inj > 300 and esc == 0 and inj == det + harm, (inj, det, harm, esc)
PY
done

# 7. A bad plan: exit 2 with FILE:LINE:COL, and the guest never boots.
printf 'seed 1\ndrop prob=150%%\n' >"$TMP/bad.plan"
expect_usage_error "$TMP/bad.plan:2:" run --disk "cobd0=$img" --faults "$TMP/bad.plan" --exec 'echo booted'
expect_stdout ""

done_ok
