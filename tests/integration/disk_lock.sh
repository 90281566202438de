#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# disk_lock.sh - an image is locked while a guest uses it: a second coop on
# it is refused (exit 2, one line naming the image and the unit) and
# changes nothing, read-only users share it, one coop may not give the
# same bytes to two units unless both are read-only, and the first guest
# finishes with its data intact.  The first coop reads its commands from
# a FIFO, so that it holds the image exactly as long as the test needs.
# Run by ctest (integration).
set -e
. "$(dirname "$0")/lib.sh"

img=$TMP/disk.img
truncate -s 8M "$img"

# hold ARGS...: coop run ARGS in the background, its console input the FIFO
# on fd 3 (commands: say CMD); $holder is its pid.  held_end: end of input,
# the guest powers off; $held_status is coop's exit status.
hold() {
	rm -f "$TMP/in" "$TMP/held.out"
	mkfifo "$TMP/in"
	timeout 60 "$COOP" run "$@" <"$TMP/in" >"$TMP/held.out" 2>"$TMP/held.err" &
	holder=$!
	exec 3>"$TMP/in"
}
say() { echo "$*" >&3; }
held_end() {
	exec 3>&-
	set +e
	wait "$holder"
	held_status=$?
	set -e
}
wait_for() { wait_for_text "$TMP/held.out" "$holder" "$1"; }

# 1. A guest writes its image and keeps it; a second coop, rw or ro, is refused.
hold --disk "cobd0=$img"
say 'blk write 0 0 64 5'
say 'echo ready'
wait_for ready
before=$(sha256sum <"$img")
expect_usage_error "coop run: --disk cobd0=$img: $img is in use by another process (locked for writing)" \
	run --disk "cobd0=$img" --exec 'blk write 0 0 64 6'
expect_usage_error "coop run: --disk cobd0=$img,ro: $img is in use by another process (locked for writing)" \
	run --disk "cobd0=$img,ro" --exec 'blk sum 0 0 64'
# The unit named is the refused coop's own, whatever the holder calls it.
expect_usage_error "coop run: --disk cobd3=$img,offset=4096: $img is in use by another process" \
	run --disk "cobd3=$img,offset=4096" --exec 'echo never'
check "a refused coop changed the image" [ "$(sha256sum <"$img")" = "$before" ]
# The first guest finishes, its data intact.
say 'blk verify 0 0 64 5'
held_end
check "the held guest ended with $held_status" [ "$held_status" -eq 0 ]
check "the held guest's data: $(cat "$TMP/held.out")" \
	grep -qF "verify cobd0 0+64: 64 sectors ok, 0 bad" "$TMP/held.out"
# Its lock went with it.
run run --disk "cobd0=$img" --exec 'blk verify 0 0 64 5'
expect_status 0

# 2. Readers share: two ro coops at once.
hold --disk "cobd0=$img,ro"
say 'echo ready'
wait_for ready
run run --disk "cobd0=$img,ro" --exec 'blk verify 0 0 64 5'
expect_status 0
expect_in out "verify cobd0 0+64: 64 sectors ok, 0 bad"
# ... but a writer waits for neither.
expect_usage_error "coop run: --disk cobd0=$img: $img is in use by another process (locked for reading)" \
	run --disk "cobd0=$img" --exec 'echo never'
held_end
check "the ro holder ended with $held_status" [ "$held_status" -eq 0 ]

# 3. One coop, one image, two units: refused unless both are ro.
expect_usage_error "coop run: --disk cobd1=$img: $img is already cobd0 of this run (rw)" \
	run --disk "cobd0=$img" --disk "cobd1=$img" --exec 'echo never'
expect_usage_error "coop run: --disk cobd1=$img,ro: $img is already cobd0 of this run (rw)" \
	run --disk "cobd0=$img" --disk "cobd1=$img,ro" --exec 'echo never'
expect_usage_error "coop run: --disk cobd1=$img: $img is already cobd0 of this run (ro)" \
	run --disk "cobd0=$img,ro" --disk "cobd1=$img" --exec 'echo never'
# A second name for the same file is the same image.
ln "$img" "$TMP/link.img"
expect_usage_error "is already cobd0 of this run" \
	run --disk "cobd0=$img" --disk "cobd1=$TMP/link.img" --exec 'echo never'
run run --disk "cobd0=$img,ro" --disk "cobd1=$img,ro" --exec 'blk sum 0 0 64; blk sum 1 0 64'
expect_status 0
check "two ro units of one image read different bytes" \
	[ "$(awk '{print $1}' "$TMP/out" | sort -u | wc -l)" -eq 1 ]

# 4. Only a unit's own bytes are locked: two partitions of one disk are two
# units, in one coop or in two.
if command -v sfdisk >/dev/null; then
	disk=$TMP/whole.img
	truncate -s 16M "$disk"
	printf 'label: dos\nstart=2048, size=8192, type=83\nstart=10240, size=16384, type=83\n' |
		sfdisk -q "$disk"
	run run --disk "cobd0=$disk,partition=1" --disk "cobd1=$disk,partition=2" \
		--exec 'blk scrub 0; blk scrub 1'
	expect_status 0
	hold --disk "cobd0=$disk,partition=1"
	say 'echo ready'
	wait_for ready
	run run --disk "cobd0=$disk,partition=2" --exec 'blk scrub 0'
	expect_status 0
	expect_usage_error "$disk is in use by another process (locked for writing)" \
		run --disk "cobd0=$disk" --exec 'echo never'
	held_end
fi

done_ok
