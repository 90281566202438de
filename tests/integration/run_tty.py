#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""run_tty.py - `coop run` on a terminal (a pty), as a person uses it: the
guest shell prompts, echoes and edits what is typed, `echo hi` prints hi,
`poweroff` returns to the host shell, and the terminal's settings are back
afterwards, also when coop is stopped with Ctrl-C.  Run by ctest."""
import os
import pty
import select
import sys
import time

COOP = os.environ["COOP"]
checks = 0


def fail(msg, seen=b""):
    print("FAIL:", msg)
    print("--- terminal:", seen.decode(errors="replace"), sep="\n")
    sys.exit(1)


def check(cond, msg, seen=b""):
    global checks
    checks += 1
    if not cond:
        fail(msg, seen)


def spawn(script):
    """Run a sh script on a new pty; returns (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv("/bin/sh", ["sh", "-c", script])
    return pid, fd


def read_until(fd, token, timeout=30.0):
    seen = b""
    end = time.monotonic() + timeout
    while token not in seen:
        left = end - time.monotonic()
        if left <= 0:
            fail("waited %.0f s for %r" % (timeout, token), seen)
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                fail("terminal closed before %r" % token, seen)
            seen += chunk
    return seen


def wait_exit(pid, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    fail("sh did not exit")


# 1. Type commands, edit a line, power off with a status.
pid, fd = spawn('"$COOP" run; echo "coop-exit=$?"; stty -a')
seen = read_until(fd, b"coop# ")
os.write(fd, b"echo hi\r")
seen = read_until(fd, b"coop# ")
check(b"echo hi" in seen, "the guest echoes what is typed", seen)
check(b"\nhi\r\n" in seen or b"\r\nhi\r\n" in seen, "echo hi prints hi", seen)
os.write(fd, b"echo hx\x7fo\r")  # DEL erases the x
seen = read_until(fd, b"coop# ")
check(b"\nho\r\n" in seen, "backspace edits the line", seen)
os.write(fd, b"poweroff 6\r")
seen = read_until(fd, b"speed")  # stty -a
seen += read_until(fd, b"echoctl") if b"echoctl" not in seen else b""
check(b"coop-exit=6" in seen, "poweroff 6 returns to the host shell with status 6", seen)
check(b"-icanon" not in seen and b"icanon" in seen, "canonical mode is restored", seen)
check(b"-echo " not in seen, "echo is restored", seen)
check(wait_exit(pid) == 0, "the host shell exits normally")
os.close(fd)

# 2. Ctrl-C stops coop itself; the terminal is restored all the same.
# (Ctrl-C signals the whole foreground group: the trap keeps sh alive.)
pid, fd = spawn('trap "echo sh-saw-sigint" INT; "$COOP" run; echo "coop-exit=$?"; stty -a')
read_until(fd, b"coop# ")
os.write(fd, b"\x03")
seen = read_until(fd, b"speed")
seen += read_until(fd, b"echoctl") if b"echoctl" not in seen else b""
check(b"coop-exit=130" in seen, "Ctrl-C ends coop by SIGINT", seen)
check(b"-icanon" not in seen, "canonical mode is restored after Ctrl-C", seen)
wait_exit(pid)
os.close(fd)

print("%d passed, 0 failed" % checks)
