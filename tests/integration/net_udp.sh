#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net_udp.sh - two guests on one wire made of UDP datagrams on loopback
# (--net conet0=udp:...), no privileges: A pings B and B's UDP echo answers
# A; a ping nobody answers and a port nobody serves fail with status 1; a
# flood of frames from outside leaves B answering.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'bg_kill_all; rm -rf "$TMP"' EXIT

read -r PA PB < <(free_udp_ports 2)

bg_start b --net "conet0=udp:$PB:127.0.0.1:$PA" --cmdline ip=10.213.1.2/24
bg_cmd b 'net info'
wait_for "$TMP/b.out" "inet 10.213.1.2/24"

run run --net "conet0=udp:$PA:127.0.0.1:$PB" --cmdline ip=10.213.1.1/24 \
	--exec 'net ping 10.213.1.2 3; net echo 10.213.1.2 7 hello-coop'
expect_status 0
expect_ping_ok "$TMP/out" 10.213.1.2 3
expect_in out "hello-coop"

# Nobody has .99: ARP goes unanswered, the request is lost, status 1.
run run --net "conet0=udp:$PA:127.0.0.1:$PB" --cmdline ip=10.213.1.1/24 \
	--exec 'net ping 10.213.1.99 1'
expect_status 1
expect_in out "1 packets transmitted, 0 received, 100% packet loss"

# No service on port 9: no answer within ~2 s, status 1.  And bad arguments: 2.
run run --net "conet0=udp:$PA:127.0.0.1:$PB" --cmdline ip=10.213.1.1/24 \
	--exec 'net echo 10.213.1.2 9 anyone'
expect_status 1
expect_in out "timed out"
run run --net "conet0=udp:$PA:127.0.0.1:$PB" --cmdline ip=10.213.1.1/24 \
	--exec 'net ping 10.213.1'
expect_status 2

# A flood from outside (3000 broadcast frames of an EtherType nobody speaks):
# B counts what it gets, drops nothing silently, and still answers.
/usr/bin/python3 - "$PB" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(200)
for _ in range(3000):
    s.sendto(frame, ("127.0.0.1", int(sys.argv[1])))
EOF
run run --net "conet0=udp:$PA:127.0.0.1:$PB" --cmdline ip=10.213.1.1/24 \
	--exec 'net ping 10.213.1.2 2'
expect_status 0
expect_ping_ok "$TMP/out" 10.213.1.2 2

bg_cmd b 'net info'
bg_end b
check "guest B exited $status, expected 0" [ "$status" -eq 0 ]
expect_file "$TMP/b.out" "udp_no_port=1"
expect_file "$TMP/b.out" "ethertype="

done_ok
