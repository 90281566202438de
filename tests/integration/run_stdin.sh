#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_stdin.sh - with stdin not a terminal, the guest shell reads it line by
# line and powers off at the end of input.  Run by ctest (integration).
set -e
. "$(dirname "$0")/lib.sh"

printf 'echo a\necho b\n' >"$TMP/in"
STDIN="$TMP/in" run run
expect_status 0
expect_stdout "$(printf 'a\nb')"

# A last line without a newline still runs.
printf 'echo c' >"$TMP/in"
STDIN="$TMP/in" run run
expect_status 0
expect_stdout "c"

# Empty input: nothing printed, status 0.
STDIN=/dev/null run run
expect_status 0
expect_stdout ""

# poweroff ends the run; the rest of the input is not read.
printf 'echo one\npoweroff 9\necho two\n' >"$TMP/in"
STDIN="$TMP/in" run run
expect_status 9
expect_stdout "one"

# A long input (more than one message window) arrives whole and in order.
for i in $(seq 1 3000); do echo "echo line-$i"; done >"$TMP/in"
STDIN="$TMP/in" run run
expect_status 0
check "expected 3000 lines of output" [ "$(wc -l <"$TMP/out")" -eq 3000 ]
check "expected line-3000 last" [ "$(sed -n 3000p "$TMP/out")" = "line-3000" ]

# The kernel log goes to stderr when stdout is not a terminal.
STDIN=/dev/null run run
expect_in err "coop-guest"

done_ok
