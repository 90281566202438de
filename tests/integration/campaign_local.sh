#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# campaign_local.sh - `coop campaign` on this machine, through GNU parallel:
# a campaign of 52 runs (two plans with real faults, with and without the
# driver's checks, 13 seeds) is interrupted with SIGINT once some runs are
# done, leaves no half-written run counted as done, resumes, and `collect`
# accounts for every run and every fault (campaign_check.py).  Then a run
# that outlives its time limit is failed with the reason, and a rerun
# redoes only it; a workload's {seed} and {rep} are its run's.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/campaign_lib.sh"
command -v parallel >/dev/null || skip "GNU parallel is not installed (Debian: parallel)"
HERE=$(cd "$(dirname "$0")" && pwd)
PLANS=$HERE/../../faults/examples
N=52

# 2 plans x 2 command lines x 13 seeds = $N runs
campaign_file "$TMP/c.campaign" 1-13 6M "mixed file $PLANS/mixed.plan" \
	"corrupt2 rules corrupt device=cobd dir=to_guest type=reply prob=2%"
D=$TMP/camp

# 1. Start it, wait until some runs are done, interrupt it.
t0=$(date +%s.%N)
"$COOP" campaign run "$TMP/c.campaign" -o "$D" -j 2 >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
for i in $(seq 6000); do
	n=$(find "$D/runs" -name done.json 2>/dev/null | wc -l)
	[ "$n" -ge 8 ] && break
	kill -0 $pid 2>/dev/null || fail "coop campaign run ended before 8 runs were done"
	sleep 0.01
done
[ "$n" -ge 8 ] || fail "8 runs not done within 60 s"
kill -INT $pid
set +e
wait $pid
status=$?
set -e
expect_status 130
expect_in err "interrupted"
done1=$(find "$D/runs" -name done.json | wc -l)
check "an interrupted campaign is not complete ($done1 of $N done)" [ "$done1" -lt "$N" ]
check "no run is left 'running'" [ -z "$(find "$D/runs" -name running)" ]
check "no half-written marker" [ -z "$(find "$D/runs" -name '*.tmp.*')" ]
for m in "$D"/runs/*/done.json; do # every run counted as done has its whole result
	check "$m has a report" /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
		"$(dirname "$m")/report.json"
done
run campaign status "$D"
expect_status 0
expect_in out "$N runs: $done1 done, 0 failed, 0 running, $((N - done1)) pending"

# 2. Resume: only the rest runs.
run campaign run "$TMP/c.campaign" -o "$D" -j 2
expect_status 0
expect_in err "$done1 done, $((N - done1)) to run"
expect_in err "all $N runs done"
run campaign run "$TMP/c.campaign" -o "$D"
expect_status 0
expect_in err "all $N runs done already"
t1=$(date +%s.%N)

# 3. Collect: every run, every fault.
run campaign collect "$D"
expect_status 0
expect_in out "$N runs: $N done, 0 failed, 0 not run"
for f in runs.csv runs.json aggregate.csv summary.json rates.png distributions.png index.html; do
	check "collect wrote $f" [ -s "$D/results/$f" ]
done
check "the table accounts for every run and fault" /usr/bin/python3 "$HERE/campaign_check.py" "$D" $N
cat "$TMP/out"
echo "campaign of $N runs: $(echo "$t1 - $t0" | bc) s including the interruption"

# 4. A time limit: the run is failed with its reason; a rerun redoes only it.
cat >"$TMP/t.campaign" <<'CAMPAIGN'
workload quick echo seed {seed} rep {rep}
workload slow sleep 20000
seeds 5
timeout 1s
CAMPAIGN
run campaign run "$TMP/t.campaign" -o "$TMP/t"
expect_status 1
expect_in err "1 of 2 runs failed"
check "{seed} and {rep} are the run's" grep -qx "seed 5 rep 0" "$TMP/t/runs/000000/stdout"
run campaign status "$TMP/t"
expect_in out "2 runs: 1 done, 1 failed"
expect_in out "timed out after 1 s"
run campaign run "$TMP/t.campaign" -o "$TMP/t"
expect_status 1
expect_in err "1 done, 1 to run (1 failed before)"
# A different campaign in the same directory is refused.
run campaign run "$TMP/c.campaign" -o "$TMP/t"
expect_status 2
expect_stderr_line "holds another campaign"
done_ok
