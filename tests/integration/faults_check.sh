#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# faults_check.sh - `coop faults check PLAN`: every example plan passes and
# says what it does; every bad plan exits 2 with one FILE:LINE:COL: line on
# stderr and nothing on stdout.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
EXAMPLES=$(cd "$(dirname "$0")/../../faults/examples" && pwd)

# The examples all parse, and say so on stdout only.
for plan in "$EXAMPLES"/*.plan; do
	run faults check "$plan"
	expect_status 0
	check "$plan: expected nothing on stderr" [ ! -s "$TMP/err" ]
	expect_in out "plan $plan: seed "
done
[ "$(ls "$EXAMPLES"/*.plan | wc -l)" -ge 4 ] || fail "expected at least 4 example plans"

run faults check "$EXAMPLES/mixed.plan"
expect_status 0
expect_stdout "plan $EXAMPLES/mixed.plan: seed 42, 5 rules
rule 1 (line 12): corrupt 1 bit of cobd messages to_guest, with probability 1%
rule 2 (line 15): drop cobd messages, with probability 1%
rule 3 (line 19): duplicate cobd messages, with probability 1%
rule 4 (line 23): delay uniformly 100us..2ms of cobd messages, with probability 5%
rule 5 (line 27): reorder cobd messages behind 1 later message, with probability 2%"

# A plan from a pipe (read to its end, not by its size), and a default seed.
run faults check <(printf 'delay 2ms device=cobd type=reply dir=to_guest every=10\n')
expect_status 0
expect_in out ": seed 1 (default), 1 rule"
expect_in out "rule 1 (line 1): delay 2ms of cobd replies to_guest, every 10th"

# Help and usage mistakes.
run faults --help
expect_status 0
expect_in out "usage: coop faults check PLAN"
run faults check --help
expect_status 0
expect_in out "usage: coop faults check PLAN"
run --help
expect_in out "faults    check a fault plan"

usage() { # EXPECTED-PHRASE ARGS...
	expect_usage_error "$@"
	expect_stdout ""
}
usage "missing subcommand" faults
usage "unknown subcommand 'frob'" faults frob
usage "unknown option '--frob'" faults --frob
usage "unknown option '-x'" faults check -x "$EXAMPLES/mixed.plan"
usage "missing PLAN" faults check
usage "unexpected argument 'b.plan'" faults check "$EXAMPLES/mixed.plan" b.plan
usage "$TMP/missing.plan: cannot read: No such file or directory" faults check "$TMP/missing.plan"
usage "$TMP: cannot read: Is a directory" faults check "$TMP"

# Bad plans: LINE:COL CONTENTS, one per line of this table.  Each is written
# to its own file; the error must name that file, line and column.
n=0
while IFS='|' read -r where what text; do
	n=$((n + 1))
	printf '%b' "$text" >"$TMP/bad$n.plan"
	expect_usage_error "$TMP/bad$n.plan:$where: $what" faults check "$TMP/bad$n.plan"
	expect_stdout ""
	check "bad$n.plan: error does not start with the file" grep -qxF "$TMP" <(head -c ${#TMP} "$TMP/err")
done <<'PLANS'
1:1|unknown action 'frob'|frob\n
2:6|unknown key 'foo'|seed 1\ndrop foo=1\n
1:14|duplicate key 'prob'|drop prob=1% prob=2%\n
1:6|key 'prob' without a value|drop prob\n
1:11|bad number 'x' for unit|drop unit=x\n
1:14|bits 0 out of range|corrupt bits=0\n
1:11|unit 9 out of range|drop unit=9\n
1:13|gap 0 out of range|reorder gap=0\n
1:11|bad probability '150%'|drop prob=150%\n
1:11|bad probability '0%'|drop prob=0%\n
1:14|both prob and every|drop prob=1% every=3\n
1:7|delay '5' has no unit|delay 5\n
1:6|delay needs a time|delay\n
1:15|uniform MIN above MAX|delay uniform 2ms 1ms\n
1:10|bad seq range|drop seq=5-3\n
1:13|bad window|drop window=9-2\n
1:13|unknown device 'disk'|drop device=disk\n
1:23|type 'frame' is not a cobd message type|drop device=cobd type=frame\n
1:6|key 'op' does not apply to drop rules|drop op=read\n
1:10|key 'device' does not apply to irq drop rules|irq drop device=cobd\n
1:14|io enospc with op=read|io enospc op=read\n
3:1|seed given twice|seed 1\ndrop\nseed 2\n
1:6|bad seed 'x'|seed x\ndrop\n
1:6|unexpected '5' after drop|drop 5\n
4:7|control character 0x01|# a comment\n\ndrop\n  drop\x01\n
1:1|no rules|# nothing here\nseed 5\n
1:1|no rules|
PLANS
[ "$n" -ge 15 ] || fail "expected at least 15 bad plans, ran $n"

# Too many rules: the 65th.
for i in $(seq 65); do echo drop; done >"$TMP/many.plan"
expect_usage_error "$TMP/many.plan:65:1: too many rules, expected at most 64" faults check "$TMP/many.plan"
expect_stdout ""

# A line too long.
printf 'drop %1100s\n' x >"$TMP/long.plan"
expect_usage_error "$TMP/long.plan:1:1025: line longer than 1024 characters" faults check "$TMP/long.plan"

done_ok
