#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_exec.sh - `coop run --exec` runs guest-shell commands, then powers off
# with the status the guest gives.  Run by ctest (integration label).
set -e
. "$(dirname "$0")/lib.sh"

run run --exec 'echo hello; poweroff 7'
expect_status 7
expect_stdout "hello"

run run --exec 'echo a  b   c'
expect_status 0
expect_stdout "a b c"

# ';' inside quotes is not a separator.
run run --exec "echo 'x;y' \"p q\""
expect_status 0
expect_stdout "x;y p q"

# Commands after poweroff never run.
run run --exec 'poweroff 0; echo never'
expect_status 0
expect_stdout ""

# At the end of the script the guest powers off with the first failing
# command's status: a failure is not hidden by the commands after it.
run run --exec 'nosuchcommand'
expect_status 127
expect_in out "nosuchcommand: command not found"
run run --exec 'blk read 9 0 1; echo after'
expect_status 2
expect_in out "blk: no unit cobd9"
expect_in out "after"
run run --exec 'echo a; nosuchcommand; blk read 9 0 1; echo b'
expect_status 127
expect_stdout "$(printf 'a\nnosuchcommand: command not found\nblk: no unit cobd9\nb')"
run run --exec "echo 'unterminated; echo after"
expect_status 2
expect_in out "unterminated quote"
run run --exec 'echo a; echo b'
expect_status 0
# ... unless the script powers off itself: poweroff's status is the run's.
run run --exec 'nosuchcommand; poweroff 0'
expect_status 0
run run --exec 'nosuchcommand; poweroff 5'
expect_status 5
# Console input that is not --exec keeps sh's rule: the last command's status.
printf 'nosuchcommand\necho after\n' >"$TMP/in"
STDIN="$TMP/in" run run
expect_status 0
expect_in out "after"

run run --exec 'poweroff 300'
expect_status 2

abi=$("$COOP" version | sed -n 's/^ABI \([0-9.]*\) .*/\1/p')
run run --exec 'info'
expect_status 0
expect_in out "guest $abi, host $abi"
expect_in out "64 MiB"

run run --mem 16M --cmdline 'hello=world' --exec 'info'
expect_status 0
expect_in out "16 MiB"
expect_in out "hello=world"

run run --exec 'help'
expect_status 0
for cmd in help echo info poweroff panic; do expect_in out "$cmd"; done

# A guest panic ends the run with status 3 and the reason on stderr.
run run --exec 'panic the sky is falling'
expect_status 3
expect_in err "guest panic at"
expect_in err "the sky is falling"

# The full-state switch runs the same guest.
run run --switch-mode full --exec 'echo full; poweroff 5'
expect_status 5
expect_stdout "full"

done_ok
