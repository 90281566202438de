#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net_unix.sh - two guests on a wire of UNIX datagram sockets, no
# privileges: A names B's socket as its peer, B answers whoever spoke last
# (--net conet0=unix:PATH[:PEER]).  A pings B and B's UDP echo answers; the
# sockets are gone when coop ends.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'bg_kill_all; rm -rf "$TMP"' EXIT

bg_start b --net "conet0=unix:$TMP/b.sock" --cmdline ip=10.213.2.2/24
bg_cmd b 'net info'
wait_for "$TMP/b.out" "inet 10.213.2.2/24"

run run --net "conet0=unix:$TMP/a.sock:$TMP/b.sock" --cmdline ip=10.213.2.1/24 \
	--exec 'net ping 10.213.2.2 3; net echo 10.213.2.2 7 "hello over unix"'
expect_status 0
expect_ping_ok "$TMP/out" 10.213.2.2 3
expect_in out "hello over unix"
check "coop left its socket $TMP/a.sock behind" [ ! -e "$TMP/a.sock" ]

# A stale socket from an earlier run is replaced; a file that is not a socket is refused.
/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$TMP/a.sock"
run run --net "conet0=unix:$TMP/a.sock:$TMP/b.sock" --cmdline ip=10.213.2.1/24 \
	--exec 'net ping 10.213.2.2 1'
expect_status 0
echo data >"$TMP/file"
expect_usage_error "--net conet0=unix:$TMP/file: $TMP/file exists and is not a socket" \
	run --net "conet0=unix:$TMP/file" --exec 'net info'

bg_end b
check "guest B exited $status, expected 0" [ "$status" -eq 0 ]
check "coop left its socket $TMP/b.sock behind" [ ! -e "$TMP/b.sock" ]

done_ok
