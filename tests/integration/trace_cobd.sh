#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_cobd.sh - coop:message names the block transfer of each cobd request
# and of its reply (blk_op, blk_sector, blk_bytes), as babeltrace2 reads the
# trace.  A guest doing known I/O - a scrub of 1 MiB in 16 KiB requests
# (contiguous writes from sector 0, a flush, the same reads), a read that
# ends at the last sector, a 3-sector write - sends exactly those requests;
# each is answered once, the reply naming its request's transfer; every
# other message names none (NONE, 0, 0).  Under a fault plan that drops,
# damages, duplicates and delays cobd messages both ways, every reply (a
# copy too) still names its request's transfer; with CRCs off (nocrc),
# requests damaged on the way reach the device and the monitor survives
# them.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/trace_cobd_check.py"

# bt DIR: what babeltrace2 reads of the trace in DIR, into $TMP/events.txt.
bt() {
	babeltrace2 "$1" >"$TMP/events.txt" 2>"$TMP/bt.err" ||
		fail "babeltrace2 cannot read $1: $(head -3 "$TMP/bt.err")"
}

# requests OP START COUNT KIB: OP over sectors [START, START + COUNT) in
# KIB-KiB requests, as "OP SECTOR BYTES" lines (COUNT a multiple of KIB * 2).
requests() {
	local s
	for ((s = $2; s < $2 + $3; s += $4 * 2)); do
		echo "$1 $s $(($4 * 1024))"
	done
}

truncate -s 2M "$TMP/d.img" # 4096 sectors
{
	requests WRITE 0 2048 16
	echo "FLUSH 0 0"
	requests READ 0 2048 16
	requests READ 4000 96 16
	echo "WRITE 7 1536"
} >"$TMP/expected"

# 1. Known I/O, no faults: exactly these requests, each answered with its transfer.
run run --disk "cobd0=$TMP/d.img" --cmdline 'cobd_max_kib=16' --trace "$TMP/tr" \
	--exec 'blk scrub 0 0 2048; blk read 0 4000 96; blk write 0 7 3 5'
expect_status 0
expect_in out "scrub cobd0: 2048 sectors written and verified, 0 errors"
bt "$TMP/tr"
check "the block transfers of a known workload" $CHECK exact "$TMP/events.txt" "$TMP/expected"
expect_no_sessiond

# 2. Under faults, with CRCs: damaged requests are refused, lost ones sent
# again; replies lost, late, and delivered twice.
cat >"$TMP/f.plan" <<'EOF'
seed 3
corrupt device=cobd dir=to_host every=7
drop device=cobd dir=to_host every=9
duplicate device=cobd dir=to_host every=5
duplicate device=cobd dir=to_guest every=4
drop device=cobd dir=to_guest every=11
delay 300us device=cobd dir=to_guest every=3
EOF
run run --disk "cobd0=$TMP/d.img" --cmdline 'cobd_max_kib=16 cobd_timeout_ms=5' \
	--faults "$TMP/f.plan" --trace "$TMP/trf" --exec 'blk scrub 0 0 2048'
expect_status 0
expect_in out "scrub cobd0: 2048 sectors written and verified, 0 errors"
bt "$TMP/trf"
check "faults were injected" grep -q 'coop:fault_injected' "$TMP/events.txt"
head -n $((64 * 2 + 1)) "$TMP/expected" >"$TMP/expected-scrub"
check "the block transfers under faults" $CHECK faults "$TMP/events.txt" "$TMP/expected-scrub"
expect_no_sessiond

# 3. No CRCs: a bit flipped in every third request on its way to the
# device, which serves what reaches it - another sector, another id, or no
# request at all.  Nothing ends the monitor.
printf 'seed 3\ncorrupt device=cobd dir=to_host bits=1 every=3\n' >"$TMP/d.plan"
run run --disk "cobd0=$TMP/d.img" --cmdline 'cobd_max_kib=16 cobd_timeout_ms=5 nocrc' \
	--faults "$TMP/d.plan" --trace "$TMP/trd" \
	--exec 'blk scrub 0 0 512; blk read 0 0 512; blk write 0 0 512 3; blk read 0 0 512; poweroff'
expect_status 0
bt "$TMP/trd"
check "damaged requests were injected" grep -q 'kind = "corrupt"' "$TMP/events.txt"
check "the block transfers of damaged requests" $CHECK damaged "$TMP/events.txt"
expect_no_sessiond

done_ok
