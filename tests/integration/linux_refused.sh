#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# linux_refused.sh - a Linux guest (a vmlinux with the .note.coop
# LINUX_ENTRY note; here the fake one tests/linux/ builds) is recognised,
# and what coop cannot run is refused before anything runs: on the user
# backend, truncated, without PT_LOAD, not ET_EXEC, with too long a command
# line - exit 2 and one line naming the culprit.  No module needed (on a
# host without /dev/coop, the kmod backend's answer is checked too).
set -e
. "$(dirname "$0")/lib.sh"

: "${COOP_FAKE_VMLINUX:?ctest sets COOP_FAKE_VMLINUX}"
: "${COOP_FAKE_VMLINUX_NOLOAD:?ctest sets COOP_FAKE_VMLINUX_NOLOAD}"
fake=$COOP_FAKE_VMLINUX

# The user backend cannot run it (its page tables hold physical addresses).
expect_usage_error "--kernel $fake: a Linux guest; it runs on --backend kmod only" \
	run --kernel "$fake"
expect_usage_error "--kernel $fake: a Linux guest; it runs on --backend kmod only" \
	run --backend user --kernel "$fake" --mem 128M --cmdline quiet

# A corrupt vmlinux is refused before the module is asked for anything.
# Cut inside its segments (after the headers and the note):
last=$(readelf -lW "$fake" | awk '$1 == "LOAD" { off = $2 } END { print off }')
head -c $((last + 1)) "$fake" >"$TMP/truncated"
check "the cut is past the note" readelf -n "$TMP/truncated" >/dev/null 2>&1
expect_usage_error "--kernel $TMP/truncated: truncated: segment" \
	run --backend kmod --kernel "$TMP/truncated"
# Cut inside the note: no longer a whole ELF's notes either.
note=$(readelf -lW "$fake" | awk '$1 == "NOTE" { print $2 }')
head -c $((note + 8)) "$fake" >"$TMP/cut-note"
expect_usage_error "--kernel $TMP/cut-note: truncated: note segment" \
	run --backend kmod --kernel "$TMP/cut-note"
expect_usage_error "--kernel $COOP_FAKE_VMLINUX_NOLOAD: a Linux guest without loadable segments (no PT_LOAD)" \
	run --backend kmod --kernel "$COOP_FAKE_VMLINUX_NOLOAD"
# Not ET_EXEC: the same note in a relocatable object.
gcc -c -I"$(dirname "$0")/../../hypervisor-shim/include" \
	"$(dirname "$0")/../linux/fake_vmlinux.S" -o "$TMP/fake.o"
expect_usage_error "--kernel $TMP/fake.o: not an executable (e_type 1, expected ET_EXEC)" \
	run --backend kmod --kernel "$TMP/fake.o"

# --cmdline is appended to the Linux defaults: the sum must fit.
expect_usage_error "--cmdline: with a Linux guest's defaults" \
	run --backend kmod --kernel "$fake" --cmdline "$(printf '%450s' x)"

# Without the module, the kmod backend says how to get it (exit 1).
if [ ! -e /dev/coop ]; then
	run run --backend kmod --kernel "$fake"
	expect_status 1
	expect_stderr_line "--backend kmod: /dev/coop: No such file or directory (load the module: insmod coop.ko)"
fi
done_ok
