#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net_spec.sh - bad --net specs: each one ends coop with status 2 and one
# line on stderr naming the spec and what is wrong; and a guest without a
# network device says so.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

# spec and the reason coop must give
while IFS='|' read -r spec why; do
	expect_usage_error "--net $spec: $why" run --net "$spec" --exec 'net info'
done <<'EOF2'
conet0=bogus|unknown transport
conet0|expected conetN=
eth0=tap:tap0|expected conetN=
conet8=udp:5000:127.0.0.1:5001|the unit N of conetN is 0..7
conetx=udp:5000:127.0.0.1:5001|the unit N of conetN is 0..7
conet0=udp:5000|expected udp:LOCAL_PORT:REMOTE_HOST:REMOTE_PORT
conet0=udp:0:127.0.0.1:5001|ports are 1..65535
conet0=udp:5000:127.0.0.1:70000|ports are 1..65535
conet0=udp:5000:no.such.host.invalid:5001|cannot resolve
conet0=tap:|an interface name of 1..15 bytes
conet0=tap:a-name-far-too-long|an interface name of 1..15 bytes
conet0=unix:|a socket path of 1..107 bytes
EOF2

# The same unit twice.
expect_usage_error "conet1 is given twice" \
	run --net conet1=unix:"$TMP/x.sock" --net conet1=unix:"$TMP/y.sock" --exec 'net info'

# No --net: the guest has no network, and says so.
run run --exec 'net info'
expect_status 0
expect_stdout "no network devices (coop run --net conet0=...)"
run run --exec 'net ping 10.0.0.1 1'
expect_status 1
expect_in out "no interface on that network"

done_ok
