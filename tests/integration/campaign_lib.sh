# SPDX-License-Identifier: MIT
# campaign_lib.sh - what the campaign tests share (after lib.sh).

# campaign_file FILE SEEDS DISK_SIZE PLAN...: a campaign that scrubs a fresh
# disk of DISK_SIZE in 4 KiB requests under each PLAN (a `plan` directive's
# words), with the driver's checks (crc) and without them (nocrc), for
# SEEDS (e.g. 1-13).
campaign_file() {
	local file=$1 seeds=$2 size=$3 p
	shift 3
	{
		for p in "$@"; do echo "plan $p"; done
		echo "cmdline crc cobd_max_kib=4 cobd_timeout_ms=5"
		echo "cmdline nocrc cobd_max_kib=4 cobd_timeout_ms=5 nocrc"
		echo "seeds $seeds"
		echo "workload scrub blk scrub 0"
		echo "disk small cobd0=size:$size"
		echo "timeout 60s"
	} >"$file"
}
