#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bad_input.sh - every kind of bad input exits 2 with one line on stderr
# naming the culprit, and prints nothing on stdout.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

bad() { # EXPECTED-PHRASE ARGS...
	expect_usage_error "$@"
	expect_stdout ""
}

# Flags.
bad "unknown option '--frobnicate'" run --frobnicate
bad "unknown command 'frob'" frob
bad "unexpected argument 'extra'" run extra
bad "option '--mem' needs a value" run --mem
bad "--mem 0: less than the minimum" run --mem 0
bad "--mem abc: not a size" run --mem abc
bad "--mem 12Q: not a size" run --mem 12Q
bad "--mem 1T: more than this host allows" run --mem 1T
bad "--mem 99999999999999999999: more than this host allows" run --mem 99999999999999999999
bad "--backend foo: unknown backend" run --backend foo
bad "--console bar: unknown console" run --console bar
bad "--switch-mode turbo" run --switch-mode turbo
bad "--cmdline: 600 bytes, at most 511" run --cmdline "$(printf '%600s' x)"

# Guest kernel files.
bad "No such file or directory" run --kernel "$TMP/missing.elf"
bad "is a directory" run --kernel "$TMP"
: >"$TMP/empty"
bad "empty file" run --kernel "$TMP/empty"
echo "this is not an ELF file at all, just some text" >"$TMP/text"
bad "not an ELF file" run --kernel "$TMP/text"
head -c 40 "$COOP_GUEST" >"$TMP/short.elf"
bad "truncated" run --kernel "$TMP/short.elf"
head -c 2000 "$COOP_GUEST" >"$TMP/truncated.elf"
bad "truncated" run --kernel "$TMP/truncated.elf"
objcopy -O elf32-i386 "$COOP_GUEST" "$TMP/guest32.elf" 2>/dev/null ||
	skip "objcopy cannot make a 32-bit ELF"
bad "32-bit ELF" run --kernel "$TMP/guest32.elf"
# A real ELF that is not a coop guest: the test machine's own shell.
bad "--kernel /bin/sh:" run --kernel /bin/sh
# A kernel that does not fit: 4M of RAM is fine for coop, the guest needs room.
run run --mem 4M --exec 'poweroff 4'
check "--mem 4M: expected 4 or 2, got $status" grep -qxE '4|2' <<<"$status"

done_ok
