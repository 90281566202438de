#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# disk_shrink.sh - an image truncated under a running guest: the unit fails
# from then on (EIO on every request, sticky, one warning on stderr naming
# the unit and the sizes), writes never regrow the file, and no sector
# reads back wrong with success (before, a later write regrew the file and
# the hole read back as zeros, successfully).  The guest reads its
# commands from a FIFO, so that the test decides when they run.
# Run by ctest (integration).
set -e
. "$(dirname "$0")/lib.sh"

img=$TMP/disk.img
truncate -s 64M "$img"
rm -f "$TMP/in"
mkfifo "$TMP/in"
timeout 60 "$COOP" run --disk "cobd0=$img" --report "$TMP/report.json" \
	<"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
guest=$!
exec 3>"$TMP/in"
say() { echo "$*" >&3; }
wait_for() { wait_for_text "$TMP/out" "$guest" "$1"; }

# 1. A scrub loop (each scrub writes the whole unit, then reads it back);
# the image loses its last 48 MiB once the first scrub is past its first
# 16 MiB - wherever in the loop that lands, the scrubs after it fail.
for i in $(seq 8); do say 'blk scrub 0'; done
say 'echo loop-done'
wait_for "scrub cobd0: written 16 MiB of 64 MiB"
truncate -s 16M "$img"
wait_for loop-done
check "the image grew back to $(stat -c %s "$img") bytes" [ "$(stat -c %s "$img")" -eq $((16 << 20)) ]
check "no scrub failed after the shrink" grep -q "errors, [0-9]* failed requests" "$TMP/out"

# 2. Sticky: sectors the shrink left alone fail too; writes past the new
# end, or inside it, change nothing.
sum=$(sha256sum <"$img")
say 'blk read 0 0 8'
say 'blk write 0 8 8 2'
say 'blk write 0 100000 8 3'
say 'echo sticky-done'
wait_for sticky-done
exec 3>&-
set +e
wait "$guest"
status=$?
set -e
check "coop ended with $status (a timeout or a crash)" [ "$status" -ne 124 -a "$status" -ne 3 ]
expect_in out "blk read cobd0 0+8: error EIO"
expect_in out "blk write cobd0 8+8: error EIO"
expect_in out "blk write cobd0 100000+8: error EIO"
check "the image grew back to $(stat -c %s "$img") bytes" [ "$(stat -c %s "$img")" -eq $((16 << 20)) ]
check "writes to a broken unit changed the image" [ "$(sha256sum <"$img")" = "$sum" ]

# 3. One warning, naming the unit and the sizes.
check "expected one shrink warning: $(grep -c shrank "$TMP/err")" [ "$(grep -c shrank "$TMP/err")" -eq 1 ]
expect_in err "coop: cobd0: $img shrank under the guest from 67108864 to 16777216 bytes"
expect_in err "cobd0 fails every request with EIO from now on"

# 4. Nothing read back wrong with success: no zeros, no "escaped" sector.
check "a sector read back as zeros: $(grep zeros "$TMP/out" | head -1)" \
	[ "$(grep -c ': zeros' "$TMP/out")" -eq 0 ]
check "the --report counters" /usr/bin/python3 - "$TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["faults"]["escaped_total"] == 0, r["faults"]
assert r["messages"]["cobd"]["errors"] > 0, r["messages"]["cobd"]
PY

done_ok
