#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# blk.sh - the block device as a user drives it: a 64 MiB image scrubbed
# with 0 errors, `blk sum` equal to dd | sha256sum of the same bytes, a
# partition of a whole-disk image (sfdisk) served exactly, a read-only unit
# that refuses writes and leaves its file unchanged, requests past the end
# answered with errors while the host carries on, bad --disk specs, and
# the --report counters.  Run by ctest (integration).
set -e
. "$(dirname "$0")/lib.sh"
command -v sfdisk >/dev/null || skip "sfdisk (Debian fdisk) missing"

sum_of() { # IMG SKIP COUNT: sha256 of those 512-byte sectors
	dd if="$1" bs=512 skip="$2" count="$3" status=none | sha256sum | cut -d' ' -f1
}

img=$TMP/disk.img
truncate -s 64M "$img"

# 1. Scrub the whole 64 MiB unit: write a pattern, read back, verify.
run run --disk "cobd0=$img" --report "$TMP/report.json" --exec 'blk info 0; blk scrub 0'
expect_status 0
expect_in out "cobd0: 131072 sectors (64 MiB), rw"
expect_in out "scrub cobd0: 131072 sectors written and verified, 0 errors"
check "the --report counters" /usr/bin/python3 - "$TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["messages"]["cobd"]
assert r["guest"]["exit_status"] == 0 and r["guest"]["end"] == "powered_off"
assert c["to_host"]["count"] >= 128 and c["to_host"]["count"] == c["to_guest"]["count"], c
assert c["errors"] == 0
assert r["switches"]["total"] > 0 and "MESSAGE" in r["switches"]["by_reason"]
assert r["faults"]["escaped_total"] == 0
PY

# 2. blk sum equals the host's sha256 of the same bytes.
run run --disk "cobd0=$img" --exec 'blk write 0 100 50 7; blk sum 0 90 70'
expect_status 0
expect_in out "$(sum_of "$img" 90 70)  cobd0:90+70"

# 3. partition=2 of a whole-disk image serves exactly that partition.
disk=$TMP/whole.img
truncate -s 32M "$disk"
printf 'label: dos\nstart=2048, size=16384, type=83\nstart=18432, size=24576, type=83\n' |
	sfdisk -q "$disk"
p1=$(sum_of "$disk" 2048 16384)
run run --disk "cobd0=$disk,partition=2" --exec 'blk info 0; blk write 0 0 24576 3; blk sum 0 0 24576'
expect_status 0
expect_in out "cobd0: 24576 sectors (12 MiB), rw"
expect_in out "$(sum_of "$disk" 18432 24576)  cobd0:0+24576"
check "partition 1 changed" [ "$(sum_of "$disk" 2048 16384)" = "$p1" ]
check "the partition table changed" grep -q 'start=       18432' <(sfdisk -d "$disk")
# The same bytes through offset=.
run run --disk "cobd0=$disk,offset=$((18432 * 512)),ro" --exec 'blk sum 0 0 24576'
expect_in out "$(sum_of "$disk" 18432 24576)  cobd0:0+24576"

# 4. A read-only unit refuses writes; its file is unchanged.
before=$(sha256sum <"$img")
run run --disk "cobd0=$img,ro" --exec 'blk info 0; blk write 0 0 8 1'
expect_status 1
expect_in out "ro"
expect_in out "EROFS"
check "a read-only image changed" [ "$(sha256sum <"$img")" = "$before" ]

# 5. Requests past the end get errors; the guest and host carry on (and
# the run's status is the first failure's).
run run --disk "cobd0=$img" --exec 'blk read 0 131072 1; blk read 0 131071 2; echo still-alive'
expect_status 1
expect_in out "error EINVAL"
expect_in out "still-alive"

# 6. Two units, one of them read-only.
cp "$img" "$TMP/second.img"
run run --disk "cobd0=$img" --disk "cobd1=$TMP/second.img,ro" --exec 'blk info'
expect_status 0
expect_in out "cobd0"
expect_in out "cobd1"

# 7. Bad --disk specs: exit 2, one line naming the spec.
bad() { expect_usage_error "--disk" run "$@" --exec 'echo never'; }
bad --disk "cobd0=$TMP/nonexistent.img"
bad --disk "cobd9=$img"
bad --disk "cobd0=$img,partition=5"
bad --disk "cobd0=$img,partition=1" # no MBR on this image
bad --disk "cobd0=$img,offset=100"
bad --disk "cobd0=$img,bogus"
bad --disk "cobd0=$img" --disk "cobd0=$img"
bad --disk "cobd0=$TMP"
bad --disk "nonsense"

done_ok
