#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/linux/build.py - the Linux guest as built (guest/linux/build.sh).

Checks build/linux/vmlinux: an x86-64 ET_EXEC; its coop notes (PT_NOTE,
name "coop"): the ABI note with abi.h's version and the LINUX_ENTRY note
whose address is coop_startup_64's (nm); "Linux version 6.1.*-coop" in its
strings; the variables coop_start_kernel() sets before clear_bss() are in
.data; no coop_* function executes hlt or port I/O, or wrmsr outside the
entry; and its .config holds every value of guest/linux/coop.config.
Skips (77) without linux-source-6.1, flex or bison, or with COOP_LINUX off.
Run: ctest --test-dir build -L linux
"""
import os
import re
import shutil
import struct
import subprocess
import sys

SKIP = 77
src = os.environ.get("COOP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
vmlinux = os.environ.get("COOP_LINUX_VMLINUX", "build/linux/vmlinux")


def fail(msg):
    print(f"linux/build: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def skip(msg):
    print(f"linux/build: SKIP: {msg}", file=sys.stderr)
    sys.exit(SKIP)


def requirements():
    if not os.path.exists("/usr/src/linux-source-6.1.tar.xz"):
        skip("linux-source-6.1 is not installed (scripts/install-deps)")
    for tool in ("flex", "bison"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (scripts/install-deps)")
    if os.environ.get("COOP_LINUX", "ON").upper() in ("OFF", "0", "NO", "FALSE"):
        skip("the Linux guest is off (COOP_LINUX=OFF)")
    if not os.path.exists(vmlinux):
        fail(f"{vmlinux} is missing although linux-source-6.1 is installed: "
             "did the build (target coop-linux) run?")


def abi_version():
    text = open(os.path.join(src, "hypervisor-shim/include/coop/abi.h")).read()
    major = int(re.search(r"#define COOP_ABI_MAJOR (\d+)", text).group(1))
    minor = int(re.search(r"#define COOP_ABI_MINOR (\d+)", text).group(1))
    types = {name: int(re.search(rf"#define {name} (\d+)", text).group(1))
             for name in ("COOP_NOTE_TYPE_ABI", "COOP_NOTE_TYPE_LINUX_ENTRY")}
    return major, minor, types


def elf_notes(data):
    """(name, type, desc) of every note in the PT_NOTE segments."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail("not a 64-bit little-endian ELF file")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_type != 2:
        fail(f"ELF type {e_type}, expected ET_EXEC (2)")
    if e_machine != 62:
        fail(f"ELF machine {e_machine}, expected x86-64 (62)")
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    notes = []
    for i in range(e_phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, e_phoff + i * e_phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name = data[pos + 12:pos + 12 + namesz].rstrip(b"\0").decode(errors="replace")
            desc_at = pos + 12 + ((namesz + 3) & ~3)
            notes.append((name, ntype, data[desc_at:desc_at + descsz]))
            pos = desc_at + ((descsz + 3) & ~3)
    return notes


def symbol(name):
    out = subprocess.run(["nm", vmlinux], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] == name:
            return int(fields[0], 16)
    fail(f"no symbol {name} in {vmlinux}")


# Set by coop_start_kernel() before clear_bss(): they must not be in .bss.
EARLY = ("coop_passage", "coop_passage_phys", "coop_kmod", "coop_la57", "coop_image_mark")
# What the coop platform's own code must never execute: hlt (with IF = 0 it
# stops the host CPU) and port I/O.  (wrmsr: only coop_startup_64's GS base.)
FORBIDDEN = re.compile(r"\t(hlt|in|out|ins[bwl]?|outs[bwl]?)\b")


def early_data(path):
    table = subprocess.run(["objdump", "-t", path], capture_output=True, text=True,
                           check=True).stdout
    for name in EARLY:
        line = next((l for l in table.splitlines() if l.split() and l.split()[-1] == name), None)
        if not line:
            fail(f"no symbol {name}")
        if "\t" not in line or line.split("\t")[0].split()[-1] != ".data":
            fail(f"{name} is not in .data (clear_bss() would wipe it): {line}")


def no_host_instructions(path):
    syms = subprocess.run(["nm", "-S", path], capture_output=True, text=True, check=True).stdout
    funcs = [(int(a, 16), int(z, 16), n) for a, z, t, n in
             (l.split() for l in syms.splitlines() if len(l.split()) == 4)
             if t in "tT" and n.startswith("coop_")]
    if len(funcs) < 10:
        fail(f"only {len(funcs)} coop_* functions in the symbol table")
    for start, size, name in funcs:
        dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={start}",
                              f"--stop-address={start + size}", path],
                             capture_output=True, text=True, check=True).stdout
        bad = [l.strip() for l in dis.splitlines() if FORBIDDEN.search(l)]
        if bad:
            fail(f"{name} executes {bad[0]!r}: never hlt or port I/O on the host's CPU")
        if "wrmsr" in dis and name != "coop_startup_64":
            fail(f"{name} writes an MSR: only coop_startup_64 may (GS base)")


def main():
    requirements()
    major, minor, types = abi_version()
    data = open(vmlinux, "rb").read()
    coop = [(t, d) for n, t, d in elf_notes(data) if n == "coop"]

    abi = [d for t, d in coop if t == types["COOP_NOTE_TYPE_ABI"]]
    if len(abi) != 1 or len(abi[0]) != 8:
        fail(f"expected one 8-byte coop ABI note, found {len(abi)}")
    if struct.unpack("<II", abi[0]) != (major, minor):
        fail(f"ABI note says {struct.unpack('<II', abi[0])}, abi.h says {(major, minor)}")

    entry = [d for t, d in coop if t == types["COOP_NOTE_TYPE_LINUX_ENTRY"]]
    if len(entry) != 1 or len(entry[0]) != 8:
        fail(f"expected one 8-byte coop LINUX_ENTRY note, found {len(entry)}")
    want = symbol("coop_startup_64")
    got, = struct.unpack("<Q", entry[0])
    if got != want:
        fail(f"LINUX_ENTRY note says 0x{got:x}, coop_startup_64 is at 0x{want:x}")

    strings = subprocess.run(["strings", "-a", vmlinux], capture_output=True, text=True,
                             check=True).stdout
    version = re.search(r"Linux version (6\.1\.\S*-coop) ", strings)
    if not version:
        fail('no "Linux version 6.1.*-coop" in its strings')

    early_data(vmlinux)
    no_host_instructions(vmlinux)

    check = subprocess.run([os.path.join(src, "guest/linux/check-config.sh"),
                            os.path.join(src, "guest/linux/coop.config"), vmlinux + ".config"])
    if check.returncode:
        fail("its .config lost values of guest/linux/coop.config (above)")

    print(f"linux/build: {vmlinux}: Linux {version.group(1)}, coop ABI {major}.{minor}, "
          f"entry coop_startup_64 = 0x{want:x}")


if __name__ == "__main__":
    main()
