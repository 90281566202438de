#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# faults_refused.sh - what the fault layer does to a message never ends the
# guest.  Bits flipped in guest->host block requests the guest sends
# without CRCs (nocrc) turn some into messages no device accepts: another
# type, another unit, another device.  The device refuses each one, the
# message is dropped and counted as a detected fault, and the guest goes
# on to power off by itself - for every seed.
set -e
. "$(dirname "$0")/lib.sh"

truncate -s 2M "$TMP/disk.img"
injected=0
for seed in $(seq 1 20); do
	printf 'seed %d\ncorrupt device=cobd dir=to_host bits=8 prob=20%%\n' "$seed" >"$TMP/p.plan"
	run run --disk cobd0="$TMP/disk.img" --faults "$TMP/p.plan" \
		--cmdline 'cobd_max_kib=4 cobd_timeout_ms=5 nocrc' --exec 'blk scrub 0; poweroff'
	check "seed $seed: exit status $status, expected 0 (the guest powers off)" [ "$status" -eq 0 ]
	n=$(sed -n 's/^coop: faults: \([0-9]*\) injected.*/\1/p' "$TMP/err")
	[ -n "$n" ] || fail "seed $seed: no fault summary on stderr"
	injected=$((injected + n))
done
# The runs above mean something only if faults were injected.
check "only $injected faults injected over 20 seeds" [ "$injected" -gt 20 ]
echo "20 seeds, $injected faults injected, the guest powered off every time"
done_ok
