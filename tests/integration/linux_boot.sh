#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# linux_boot.sh - the monitor's side of booting a Linux guest, end to end,
# without the module: fake_coop_ko.so (LD_PRELOAD) answers /dev/coop's
# ioctls with a memfd for the physical region and a scripted guest (HELLO,
# then a panic or a page fault), and writes down what LOAD_LINUX was given
# and what coop built in guest RAM (boot_params, e820, setup_data, the
# passage).  The fake vmlinux is tests/linux/'s.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

: "${COOP_FAKE_VMLINUX:?ctest sets COOP_FAKE_VMLINUX}"
: "${COOP_FAKE_COOP_KO:?ctest sets COOP_FAKE_COOP_KO}"
vmlinux=$COOP_FAKE_VMLINUX
dump=$TMP/dump

# fake FUNCTION ARGS...: FUNCTION (run, expect_usage_error) with the fake
# module preloaded; layout=, busy=, levels=, guest= before it set the fake's
# FAKE_COOP_* (see fake_coop_ko.c).
fake() {
	rm -f "$dump"
	LD_PRELOAD=$COOP_FAKE_COOP_KO ASAN_OPTIONS=verify_asan_link_order=0:${ASAN_OPTIONS:-} \
		FAKE_COOP_DUMP=$dump FAKE_COOP_LAYOUT=${layout:-} FAKE_COOP_BUSY=${busy:-0} \
		FAKE_COOP_LEVELS=${levels:-4} FAKE_COOP_GUEST=${guest:-panic} "$@"
}
# has KEY VALUE: the dump's line for KEY is exactly "KEY VALUE".
has() {
	checks=$((checks + 1))
	grep -qxF -- "$1 $2" "$dump" || fail "LOAD_LINUX's view: expected '$1 $2', got: $(grep -- "^$1 " "$dump" || echo nothing)"
}

entry=$(readelf -hW "$vmlinux" | awk '/Entry point/ { print $NF }')
defaults="console=hvc0 earlycon root=/dev/cobd0 rw mitigations=off nokaslr noapic nolapic io_delay=none tsc=reliable clocksource=tsc"

# The whole region by default; the guest panics: exit 3 with its message.
fake run run --backend kmod --kernel "$vmlinux"
expect_status 3
expect_in err "guest panic at init/main.c:1: coop phase 1 stop"
check "LOAD_LINUX was called" test -s "$dump"
has entry "$entry"
has kernel_phys 0x20200000
has kernel_va 0xffffffff81000000
has boot_params 0x20010000
has page_offset 0xffff888000000000
has ram_size 0x10000000
has kernel_byte0 0xc3
has subarch 1
has cmdline "$defaults"
has boot_cmdline "$defaults"
has e820 "0x20000000 0x10000 1"
has e820 "0x20010000 0xfff0000 1"
check "two e820 entries, no more" test "$(grep -c '^e820 ' "$dump")" -eq 2
has setup_data "10 passage 0x20000000 abi $(awk '/^#define COOP_ABI_MAJOR/ { print $3 }' \
	"$(dirname "$0")/../../hypervisor-shim/include/coop/abi.h").$(awk '/^#define COOP_ABI_MINOR/ { print $3 }' \
	"$(dirname "$0")/../../hypervisor-shim/include/coop/abi.h")"
has boot_flags 0x3
has boot_mem_base 0x20000000
has boot_mem_size 0x10000000
has passage_magic 0x53534150504f4f43
size=$(awk '$1 == "kernel_size" { print $2 }' "$dump")
check "kernel_size is _text.._end of the fake ($size)" test "$((size))" -gt $((0x200000))

# --mem and --cmdline; 5-level paging moves the direct map.
levels=5 fake run run --backend kmod --kernel "$vmlinux" --mem 64M --cmdline 'init=/bin/sh quiet'
expect_status 3
has ram_size 0x4000000
has e820 "0x20010000 0x3ff0000 1"
has cmdline "$defaults init=/bin/sh quiet"
has page_offset 0xff11000000000000

# --initrd: at the top of RAM, page aligned, named in boot_params.
printf '070701%0506d' 0 >"$TMP/initrd"
fake run run --backend kmod --kernel "$vmlinux" --mem 64M --initrd "$TMP/initrd"
expect_status 3
has initrd "0x23fff000 0x200 cpio"
fake expect_usage_error "--initrd $TMP/none: " run --backend kmod --kernel "$vmlinux" --initrd "$TMP/none"
head -c 63M /dev/zero >"$TMP/big"
fake expect_usage_error "--initrd $TMP/big: 66060288 bytes do not fit in guest RAM above the kernel" \
	run --backend kmod --kernel "$vmlinux" --mem 64M --initrd "$TMP/big"
head -c 65M /dev/zero >"$TMP/big"
fake expect_usage_error "--initrd $TMP/big: larger than 67108864 bytes" \
	run --backend kmod --kernel "$vmlinux" --mem 64M --initrd "$TMP/big"
expect_usage_error "--initrd $TMP/initrd: only a Linux guest takes an initramfs" \
	run --initrd "$TMP/initrd" --exec 'echo hi'

# What the region cannot give: exit 2, one line, nothing loaded.
layout=none fake expect_usage_error \
	'the module has no physical memory for Linux guests: boot the host with memmap=SIZE$ADDR (e.g. memmap=256M$0x20000000) and load the module with insmod coop.ko phys_ram=SIZE@ADDR' \
	run --backend kmod --kernel "$vmlinux"
busy=1 fake expect_usage_error "(256 MiB at 0x20000000) is in use by another guest" \
	run --backend kmod --kernel "$vmlinux"
fake expect_usage_error "--mem: 512 MiB is more than the module's physical memory for Linux guests (256 MiB at 0x20000000)" \
	run --backend kmod --kernel "$vmlinux" --mem 512M
fake expect_usage_error "--kernel $vmlinux: the image (" \
	run --backend kmod --kernel "$vmlinux" --mem 4M
check "... does not fit" grep -qF "does not fit in 4096 KiB of guest RAM" "$TMP/err"
check "nothing was loaded" test ! -e "$dump"

# A guest exception: named from vmlinux's symbols, registers and an
# addr2line line, no backtrace, and coop itself does not fault on the
# guest's addresses.
guest=fault fake run run --backend kmod --kernel "$vmlinux"
expect_status 3
expect_in err "guest crashed: SIGSEGV (page not mapped at address 0xffff888000001000) in coop_startup_64+0"
expect_in err "rip    0x$(printf %016x "$entry")"
expect_in err "vector 14, error code 0x2"
expect_in err "addr2line -f -i -e VMLINUX $entry"
check "no backtrace was attempted" sh -c "! grep -q '#0 ' '$TMP/err'"
done_ok
