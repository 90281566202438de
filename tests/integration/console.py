#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""console.py - the console over a pty and over a UNIX socket, driven as a
person or a script would: `--console pty` prints the pty's path; opening it,
typing `echo hi` shows hi and `poweroff 4` ends coop with status 4.
`--console unix:PATH` waits for a client; the client's lines run, its end
of input powers the guest off.  Run by ctest (integration)."""
import atexit
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

COOP = os.environ["COOP"]
checks = 0
children = []  # every coop we start is killed at exit, pass or fail


@atexit.register
def kill_children():
    for c in children:
        if c.poll() is None:
            c.kill()
            c.wait()


def fail(msg, seen=b""):
    print("FAIL:", msg)
    print("--- seen:", seen.decode(errors="replace"), sep="\n")
    sys.exit(1)


def check(cond, msg, seen=b""):
    global checks
    checks += 1
    if not cond:
        fail(msg, seen)


def read_until(fd, token, timeout=30.0):
    seen, end = b"", time.monotonic() + timeout
    while token not in seen:
        left = end - time.monotonic()
        if left <= 0:
            fail("waited %.0f s for %r" % (timeout, token), seen)
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                fail("closed before %r" % token, seen)
            seen += chunk
    return seen


def line_from(stream, prefix, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = stream.readline()
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    fail("no line starting with %r" % prefix)


# 1. pty: a person's terminal program opens the printed path.
coop = subprocess.Popen([COOP, "run", "--console", "pty"], stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
children.append(coop)
path = line_from(coop.stderr, "coop: console on ")
check(path.startswith("/dev/pts/"), "the pty path is printed: %r" % path)
fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
os.write(fd, b"\r")  # a fresh prompt, whatever was printed before we opened it
read_until(fd, b"coop# ")
os.write(fd, b"echo hi\r")
# The command echoed, then its output on a line of its own ("\r\n" on a pty).
seen = read_until(fd, b"echo hi\r\nhi\r\n")
check(b"echo hi\r\nhi\r\n" in seen, "echo hi prints hi on the pty", seen)
os.write(fd, b"poweroff 4\r")
check(coop.wait(timeout=30) == 4, "poweroff 4 ends coop with status 4")
os.close(fd)

# 2. unix:PATH: a script connects, sends lines, closes its end.
with tempfile.TemporaryDirectory() as tmp:
    sock_path = os.path.join(tmp, "console.sock")
    coop = subprocess.Popen([COOP, "run", "--console", "unix:" + sock_path],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    children.append(coop)
    line_from(coop.stderr, "coop: waiting for a console client on ")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(b"echo over-the-socket\necho second\n")
    s.shutdown(socket.SHUT_WR)  # end of input: the guest powers off
    out, end = b"", time.monotonic() + 30
    while time.monotonic() < end:
        chunk = s.recv(4096)
        if not chunk:
            break
        out += chunk
    check(out == b"over-the-socket\nsecond\n", "the socket carries the output", out)
    check(coop.wait(timeout=30) == 0, "end of input powers off with status 0")
    check(not os.path.exists(sock_path), "the socket is removed at exit")

    # A path that exists and is not a socket is a usage error.
    open(sock_path, "w").close()
    r = subprocess.run([COOP, "run", "--console", "unix:" + sock_path], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "not a socket" in r.stderr, "a non-socket path exits 2",
          r.stderr.encode())

print("%d passed, 0 failed" % checks)
