#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# no_module.sh - on a host without coop.ko loaded, `coop run --backend kmod`
# fails cleanly: exit status 1 (the host could not do its part) and one line
# saying what to do.  Run by ctest (label kmod); skipped where /dev/coop exists.
set -e
. "$(dirname "$0")/../integration/lib.sh"

[ ! -e /dev/coop ] || { echo "SKIP: /dev/coop exists (coop.ko is loaded here)"; exit 77; }
run run --backend kmod --exec 'echo hi'
expect_status 1
expect_stderr_line "coop run: --backend kmod: /dev/coop: No such file or directory (load the module: insmod coop.ko)"
run run --backend ring3
expect_status 2
expect_stderr_line "--backend ring3: unknown backend (expected user or kmod)"
done_ok
