# SPDX-License-Identifier: MIT
# net_lib.sh - helpers for the conet tests (net_*.sh), sourced after lib.sh:
# guests that run in the background and take commands from a FIFO (so that a
# test decides when a guest powers off, instead of guessing with a sleep),
# waits with generous timeouts, and free UDP ports on loopback.

# bg_start NAME ARGS...: `coop run ARGS` in the background, its stdin the
# FIFO $TMP/NAME.in (kept open on fd NAME_FD), stdout/stderr in $TMP/NAME.out
# and .err; its pid in BG_PID[NAME].  $BG_WRAP (e.g. "ip netns exec NS")
# runs in front of coop.
declare -A BG_PID BG_FD
bg_start() {
	local name=$1 fd
	shift
	mkfifo "$TMP/$name.in"
	# shellcheck disable=SC2086
	timeout 100 ${BG_WRAP:-} "$COOP" run "$@" <"$TMP/$name.in" >"$TMP/$name.out" \
		2>"$TMP/$name.err" &
	BG_PID[$name]=$!
	exec {fd}>"$TMP/$name.in"
	BG_FD[$name]=$fd
}

# bg_cmd NAME LINE: one shell line to the guest.
bg_cmd() {
	echo "$2" >&"${BG_FD[$1]}"
}

# bg_end NAME: end its input (the guest powers off); its exit status in $status.
bg_end() {
	local fd=${BG_FD[$1]}
	exec {fd}>&-
	set +e
	wait "${BG_PID[$1]}"
	status=$?
	set -e
	unset "BG_PID[$1]"
}

# bg_kill_all: for the EXIT trap - no guest outlives its test.
bg_kill_all() {
	local p
	for p in "${BG_PID[@]}"; do kill "$p" 2>/dev/null || true; done
}

# wait_for FILE TEXT [SECONDS]: until FILE contains TEXT (fixed string), or fail.
wait_for() {
	local file=$1 text=$2 t=${3:-30} i
	for ((i = 0; i < t * 20; i++)); do
		grep -qF -- "$text" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "--- $file:"; cat "$file" 2>/dev/null
	fail "waited ${t}s for '$text' in $file"
}

# shown_unless FILE COMMAND...: COMMAND, and FILE shown when it fails (for check).
shown_unless() {
	local file=$1
	shift
	"$@" && return
	echo "--- $file:"
	cat "$file"
	return 1
}

# expect_file FILE TEXT: FILE contains TEXT (fixed string).
expect_file() {
	check "expected $1 to contain '$2'" shown_unless "$1" grep -qF -- "$2" "$1"
}

# free_udp_ports N: N UDP ports on 127.0.0.1 that nobody uses right now.
free_udp_ports() {
	/usr/bin/python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# expect_ping_ok FILE ADDR N: N reply lines and a loss-free summary from `net ping`.
expect_ping_ok() {
	local file=$1 addr=$2 n=$3 s
	for ((s = 1; s <= n; s++)); do
		check "no reply line for icmp_seq=$s from $addr" shown_unless "$file" \
			grep -qE "^64 bytes from $addr: icmp_seq=$s time=[0-9]+\.[0-9]{3} ms$" "$file"
	done
	expect_file "$file" "$n packets transmitted, $n received, 0% packet loss"
}
