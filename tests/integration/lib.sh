# SPDX-License-Identifier: MIT
# lib.sh - helpers for integration tests, which run `coop` as a user would.
# Sourced by each test; ctest sets COOP (the program) and COOP_GUEST (the
# guest kernel).  A failed check prints what was expected and exits 1.
set -u

: "${COOP:?COOP must name the coop program (ctest sets it)}"
: "${COOP_GUEST:?COOP_GUEST must name the guest kernel (ctest sets it)}"
[ -x "$COOP" ] || { echo "FAIL: $COOP is not executable"; exit 1; }

TMP=$(mktemp -d /tmp/coop-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
checks=0

fail() {
	echo "FAIL: $*"
	[ -f "$TMP/out" ] && { echo "--- stdout:"; cat "$TMP/out"; }
	[ -f "$TMP/err" ] && { echo "--- stderr:"; cat "$TMP/err"; }
	exit 1
}

# run ARGS...: run coop with stdin from /dev/null (or $STDIN), capture
# stdout/stderr in $TMP/out and $TMP/err and the exit status in $status.
run() {
	local in=${STDIN:-/dev/null}
	set +e
	timeout 60 "$COOP" "$@" <"$in" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	[ "$status" -ne 124 ] || fail "coop $* did not finish within 60 s"
}

expect_status() {
	checks=$((checks + 1))
	[ "$status" -eq "$1" ] || fail "expected exit status $1, got $status"
}

expect_stdout() { # exact stdout
	checks=$((checks + 1))
	[ "$(cat "$TMP/out")" = "$1" ] || fail "expected stdout '$1'"
}

expect_stderr_line() { # stderr is exactly one line, containing $1
	checks=$((checks + 1))
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "expected exactly one line on stderr"
	grep -qF -- "$1" "$TMP/err" || fail "expected stderr to contain '$1'"
}

expect_in() { # FILE (out|err) contains $2
	checks=$((checks + 1))
	grep -qF -- "$2" "$TMP/$1" || fail "expected $1 to contain '$2'"
}

expect_usage_error() { # MESSAGE ARGS...: coop ARGS exits 2 with one line containing MESSAGE
	local msg=$1
	shift
	run "$@"
	check "coop $*: expected exit status 2, got $status" [ "$status" -eq 2 ]
	expect_stderr_line "$msg"
}

# check WHAT COMMAND...: COMMAND (stdin passed on, e.g. a heredoc) must
# succeed; counts one check, else fails naming WHAT.
check() {
	local what=$1
	shift
	"$@" || fail "$what"
	checks=$((checks + 1))
}

# wait_for_text FILE PID TEXT: until FILE holds TEXT (at most 30 s), while
# process PID lives; else fail, showing FILE.
wait_for_text() {
	local i
	for i in $(seq 3000); do
		grep -qF -- "$3" "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.01
	done
	fail "waited for '$3' in $1 (process $2 $(kill -0 "$2" 2>/dev/null && echo runs || echo ended)): $(cat "$1")"
}

skip() { # REASON: the test cannot run here (ctest shows it as skipped)
	echo "SKIP: $*"
	exit 77
}

done_ok() {
	echo "$checks passed, 0 failed"
}
