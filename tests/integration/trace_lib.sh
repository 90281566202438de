# SPDX-License-Identifier: MIT
# trace_lib.sh - set-up for tests of `coop run --trace`: sourced after lib.sh.
# Each test gets a session daemon of its own: as root (whose LTTng rundir is
# always /run/lttng) the test re-runs itself in a private mount namespace
# with a tmpfs there; otherwise LTTNG_HOME points into the test's $TMP.
# Whatever daemon the test ends up with is killed when it exits.  Missing
# LTTng tools or babeltrace2 skip the test (77).

for tool in lttng-sessiond babeltrace2; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done

if [ "$(id -u)" -eq 0 ]; then
	if [ -z "${COOP_TRACE_NS:-}" ]; then
		unshare -m --propagation private true 2>/dev/null ||
			skip "cannot make a private mount namespace"
		rm -rf "$TMP"
		COOP_TRACE_NS=1 exec unshare -m --propagation private bash "$0" "$@"
	fi
	mkdir -p /run/lttng
	mount -t tmpfs coop-test-lttng /run/lttng || { echo "FAIL: mount tmpfs"; exit 1; }
	SESSIOND_PIDFILE=/run/lttng/lttng-sessiond.pid
else
	export LTTNG_HOME="$TMP/lttng-home"
	mkdir -p "$LTTNG_HOME"
	SESSIOND_PIDFILE=$LTTNG_HOME/.lttng/lttng-sessiond.pid
fi

# The daemon of this test, if one runs: its pid, or nothing.
sessiond_pid() {
	local pid
	pid=$(cat "$SESSIOND_PIDFILE" 2>/dev/null) || return 0
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
	return 0
}

kill_sessiond() {
	local pid
	pid=$(sessiond_pid)
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
}
trap 'kill_sessiond; rm -rf "$TMP"' EXIT

# coop starts a daemon when none runs and must stop it again.
expect_no_sessiond() {
	local pid
	pid=$(sessiond_pid)
	check "coop left its lttng-sessiond ($pid) running" [ -z "$pid" ]
}

# check_trace DIR REPORT CHECK: babeltrace2 DIR must read it all; then
# tests/integration/trace_check.py applies CHECK to its events.
check_trace() {
	babeltrace2 "$1" >"$TMP/events.txt" 2>"$TMP/bt.err" ||
		fail "babeltrace2 cannot read $1: $(head -3 "$TMP/bt.err")"
	check "trace check '$3' failed" \
		/usr/bin/python3 "$(dirname "$0")/trace_check.py" "$3" "$TMP/events.txt" "$2"
}
