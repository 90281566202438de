#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net_tap.sh - conet on a TAP device, in a network namespace of its own: the
# host pings the guest, the guest's UDP echo (port 7) answers socat byte for
# byte, the guest pings the host.  Needs root, ip, ping, socat, /dev/net/tun
# and network namespaces: exits 77 (skipped) without.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, TAP device)"
for tool in ip ping socat; do command -v "$tool" >/dev/null || skip "no $tool"; done
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

NS=coop-net-$$
TAP=cooptap$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
trap 'bg_kill_all; ip netns del "$NS" 2>/dev/null; rm -rf "$TMP"' EXIT
in_ns() { ip netns exec "$NS" "$@"; }
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap 2>/dev/null || skip "cannot create a TAP device"
ip -n "$NS" addr add 10.213.0.1/24 dev "$TAP"
ip -n "$NS" link set "$TAP" up

BG_WRAP="ip netns exec $NS"
bg_start g --net "conet0=tap:$TAP" --cmdline ip=10.213.0.2/24
bg_cmd g 'net info'
wait_for "$TMP/g.out" "conet0: mac 52:54:00:"
expect_file "$TMP/g.out" "inet 10.213.0.2/24"

# The host pings the guest (its output in $TMP/ping).
host_ping() { in_ns ping -c 3 -W 2 10.213.0.2 >"$TMP/ping" 2>&1; }
check "ping from the host" shown_unless "$TMP/ping" host_ping
expect_file "$TMP/ping" "3 packets transmitted, 3 received"

# UDP echo: a line of text with socat (-t: how long it listens after
# sending), then 1400 bytes of binary with python, which returns as soon as
# the answer is there; each must come back byte for byte.
printf 'hello-coop-%s' $$ >"$TMP/udp1"
udp_text() { in_ns timeout 20 socat -t 3 - UDP:10.213.0.2:7 <"$TMP/udp1" >"$TMP/udp1.back"; }
check "socat to the guest's UDP echo" udp_text
check "UDP echo of text is not byte for byte" cmp -s "$TMP/udp1" "$TMP/udp1.back"
check "UDP echo of 1400 binary bytes is not byte for byte" in_ns /usr/bin/python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
data = os.urandom(1400)
s.sendto(data, ("10.213.0.2", 7))
back, peer = s.recvfrom(65536)
raise SystemExit(0 if back == data and peer == ("10.213.0.2", 7) else 1)
'

# The guest pings the host; its status is the last command's: coop's exit status.
bg_cmd g 'net info'
bg_cmd g 'net ping 10.213.0.1 3'
bg_end g
expect_ping_ok "$TMP/g.out" 10.213.0.1 3
check "coop (net ping) exited $status, expected 0" [ "$status" -eq 0 ]
expect_file "$TMP/g.out" "PING 10.213.0.1: 56 data bytes"
check "net info counts no received frames" grep -qE '^  rx [1-9][0-9]* frames' "$TMP/g.out"

done_ok
