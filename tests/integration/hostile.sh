#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hostile.sh - a guest under development makes mistakes against its host;
# the host survives each.  The test guest coop-guest-hostile has `hostile
# WHAT` (tests/guest/hostile.c).  In both switch modes: DF and AC set
# across hypercalls leave the host's C code alone, and a guest that
# overwrites passage->host does not move the host (the guest goes on,
# exit 0); int3, the trap flag and icebp are guest crashes (exit 3, a
# report naming the function), not coop's death by SIGTRAP; vIF on with
# every vector masked is a hang the watchdog ends; a system call from guest
# code is a guest crash (SIGSYS), not the host kernel's service.  A guest that never
# takes its messages cannot make the host queue without bound: requests it
# keeps sending end it, console input waits in the pipe.  And kernels whose
# segments the host could not read, or that are writable and executable,
# are refused before they run (exit 2).  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
: "${COOP_GUEST_HOSTILE:?ctest sets COOP_GUEST_HOSTILE}"
H=$COOP_GUEST_HOSTILE

for mode in default full; do
	run run --switch-mode "$mode" --kernel "$H" --exec 'hostile flags'
	expect_status 0
	expect_in out "hostile flags: 100 hypercalls with DF and AC set, the host is fine"
	run run --switch-mode "$mode" --kernel "$H" --exec 'hostile scribble'
	expect_status 0
	expect_in out "hostile scribble: passage->host overwritten 10 times, the host is fine"

	for what in int3:breakpoint tf:'single step' icebp:breakpoint; do
		run run --switch-mode "$mode" --kernel "$H" --exec "hostile ${what%%:*}"
		expect_status 3
		expect_in err "guest crashed: SIGTRAP (${what#*:} at "
		expect_in err "in hostile_${what%%:*}+"
	done

	run run --switch-mode "$mode" --kernel "$H" --exec 'hostile syscall'
	expect_status 3
	expect_in err "guest crashed: SIGSYS (system call 39 from guest code at "
	expect_in err "in hostile_syscall+"

	run run --switch-mode "$mode" --kernel "$H" --watchdog 1 --exec 'hostile maskall'
	expect_status 3
	expect_in err "hung (watchdog: no hypercall and no vIRQ taken for 1.0 s)"
	expect_in err "hostile_maskall"
done

# A guest that keeps sending requests but never takes its replies is ended
# before the host's queue of replies eats its memory.
truncate -s 1M "$TMP/d.img"
run run --kernel "$H" --disk "cobd0=$TMP/d.img" --exec 'hostile flood'
expect_status 3
expect_in err "cobd0: 65536 messages wait for room in the to_guest window: the guest keeps sending"

# Console input while the guest takes nothing for a minute: coop stops
# reading its input (back-pressure) instead of queueing all of it.
{ echo 'hostile stall 60'; head -c 300M /dev/zero; } |
	timeout 60 "$COOP" run --kernel "$H" >"$TMP/stall.out" 2>"$TMP/stall.err" &
wait_for_text "$TMP/stall.out" $! "hostile stall: taking nothing for 60 s"
pid=$(pgrep -n -f "^$COOP run --kernel $H\$") || fail "coop is not running: $(cat "$TMP/stall.err")"
read1=$(awk '/^rchar/ { print $2 }' "/proc/$pid/io")
sleep 1
read2=$(awk '/^rchar/ { print $2 }' "/proc/$pid/io")
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
kill "$pid"
wait || true
check "coop read $((read2 - read1)) more bytes of input in 1 s while the guest took none" \
	[ $((read2 - read1)) -lt 1048576 ]
check "coop holds ${rss} KiB while the guest takes no input" [ "$rss" -lt 65536 ]

# A kernel whose unwind table (.eh_frame_hdr) points far away: when it
# crashes, libunwind goes astray inside coop's crash handler.  The report
# stops the backtrace there; coop itself does not die (it did: 139).
/usr/bin/python3 - "$H" "$TMP/badeh.elf" <<'PY'
import struct, sys
src, dst = sys.argv[1:]
b = bytearray(open(src, "rb").read())
shoff, = struct.unpack_from("<Q", b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)
sh = [struct.unpack_from("<IIQQQQ", b, shoff + i * shentsize) for i in range(shnum)]
names = sh[shstrndx][4]
for name, _, _, _, off, size in sh:
    if bytes(b[names + name:names + name + 14]) == b".eh_frame_hdr\0":
        for p in range(off + 16, off + size, 8):  # every FDE pointer of the table
            struct.pack_into("<i", b, p, 0x7ff00000)
        open(dst, "wb").write(b)
        sys.exit(0)
sys.exit("no .eh_frame_hdr")
PY
run run --kernel "$TMP/badeh.elf" --exec 'crash segv'
expect_status 3
expect_in err "coop: guest crashed: SIGSEGV"
expect_in err "the guest's unwind table led the unwinder astray: the backtrace stops here"

# set_flags IN OUT INDEX FLAGS: a copy of the ELF with program header INDEX's p_flags set.
set_flags() {
	/usr/bin/python3 - "$@" <<'PY'
import struct, sys
src, dst, index, flags = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4], 0)
b = bytearray(open(src, "rb").read())
phoff, = struct.unpack_from("<Q", b, 0x20)
phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
assert index < phnum and struct.unpack_from("<I", b, phoff + index * phentsize)[0] == 1, "not PT_LOAD"
struct.pack_into("<I", b, phoff + index * phentsize + 4, flags)
open(dst, "wb").write(b)
PY
}
# The guest's PT_LOADs: 0 text (R E), 1 read-only data (R), 2 data and bss (RW).
set_flags "$H" "$TMP/noread.elf" 2 0x2
expect_usage_error "segment 2 is not readable (p_flags 0x2): every loadable segment needs PF_R" \
	run --kernel "$TMP/noread.elf" --exec 'echo hi'
set_flags "$H" "$TMP/none.elf" 1 0
expect_usage_error "segment 1 is not readable (p_flags 0)" run --kernel "$TMP/none.elf" --exec 'echo hi'
set_flags "$H" "$TMP/wx.elf" 0 0x7
expect_usage_error "segment 0 is writable and executable (p_flags 0x7): W^X" \
	run --kernel "$TMP/wx.elf" --exec 'echo hi'
done_ok
