#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_tty.sh - Ctrl-C on a traced, reported run at a terminal: the guest
# is ended (exit 130), the trace is complete (babeltrace2 reads it, one
# coop:switch_out per switch the report counts), the report is written and
# says how the run ended, no LTTng session daemon is left, and the
# terminal's settings are back.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"

check "Ctrl-C on a terminal: the guest ended, the trace and the report finished" \
	/usr/bin/python3 - "$COOP" "$TMP/t" "$TMP/r.json" <<'PY'
import os, pty, select, sys, termios, time
coop, trace, report = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(coop, [coop, "run", "--trace", trace, "--report", report])
before = termios.tcgetattr(fd)
seen, end = b"", time.monotonic() + 60
while b"coop# " not in seen:  # the guest shell's prompt: it runs, the tracer records
    assert time.monotonic() < end, f"no prompt in 60 s: {seen!r}"
    if select.select([fd], [], [], 1)[0]:
        seen += os.read(fd, 4096)
time.sleep(0.3)
os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT to coop
while True:
    assert time.monotonic() < end, f"coop did not end within 60 s of Ctrl-C: {seen!r}"
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if select.select([fd], [], [], 0.2)[0]:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            pass
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 130, (status, seen)
print("exit 130 after Ctrl-C")
PY
check "the report was not written" [ -s "$TMP/r.json" ]
check_trace "$TMP/t" "$TMP/r.json" interrupted
check "the report does not say the run was interrupted" \
	grep -q '"end": "interrupted"' "$TMP/r.json"
check "the trace has no guest boot" grep -q 'coop:guest_boot' "$TMP/events.txt"
expect_no_sessiond
done_ok
