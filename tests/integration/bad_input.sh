#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bad_input.sh - every kind of bad input exits 2 with one line on stderr
# naming the culprit, and prints nothing on stdout.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

bad() { # EXPECTED-PHRASE ARGS...
	expect_usage_error "$@"
	expect_stdout ""
}

# Flags.
bad "unknown option '--frobnicate'" run --frobnicate
bad "unknown command 'frob'" frob
bad "unexpected argument 'extra'" run extra
bad "option '--mem' needs a value" run --mem
bad "--mem 0: less than the minimum" run --mem 0
bad "--mem abc: not a size" run --mem abc
bad "--mem 12Q: not a size" run --mem 12Q
bad "--mem 1T: more than this host allows" run --mem 1T
bad "--mem 99999999999999999999: more than this host allows" run --mem 99999999999999999999
bad "--backend foo: unknown backend" run --backend foo
bad "--console bar: unknown console" run --console bar
bad "--switch-mode turbo" run --switch-mode turbo
bad "--cmdline: 600 bytes, at most 511" run --cmdline "$(printf '%600s' x)"

# Numbers: the whole value must be the number - no blanks, sign, junk or
# emptiness, no wrap past 2^32 or 2^64 - in every option and spec that
# takes one.  Each bad value is exit 2 with one line naming the option and
# the value.  (strtol took partition=4294967297 for partition 1.)
truncate -s 1M "$TMP/disk.img"
img=$TMP/disk.img
common_bad=("" " " "abc" "1x" "x1" " 1" "1 " "-1" "+1" "--1" "0x" "1.5" "1e3" "1,2"
	"18446744073709551616" "99999999999999999999999" "-18446744073709551615")
for v in "${common_bad[@]}"; do
	bad "--seed $v: expected a number from 0 to 2^64-1" run --seed "$v"
	bad "coop bench: --iterations: expected 1..10000000, not $v" bench --iterations "$v"
	bad "coop bench: --repeat: expected 1..1000, not $v" bench --repeat "$v"
	bad "coop bench: --cpu: not a CPU number: $v" bench --cpu "$v"
	case $v in *,*) ;; *) # a ',' ends a --disk option
		bad "--disk cobd0=$img,partition=$v: partition=$v: expected a primary partition 1..4" \
			run --disk "cobd0=$img,partition=$v" --exec 'echo never'
		bad "--disk cobd0=$img,offset=$v: offset=$v: expected a number of bytes" \
			run --disk "cobd0=$img,offset=$v" --exec 'echo never'
		;;
	esac
	bad "--disk cobd$v=$img: " run --disk "cobd$v=$img" --exec 'echo never'
	bad "--net conet0=udp:$v:127.0.0.1:5001: ports are 1..65535" \
		run --net "conet0=udp:$v:127.0.0.1:5001" --exec 'echo never'
	bad "--net conet0=udp:5001:127.0.0.1:$v: ports are 1..65535" \
		run --net "conet0=udp:5001:127.0.0.1:$v" --exec 'echo never'
	bad "--net conet$v=udp:5001:127.0.0.1:5002: " \
		run --net "conet$v=udp:5001:127.0.0.1:5002" --exec 'echo never'
done
# Past each option's own range, among them the values that used to wrap.
for v in 0 5 4294967297 4294967301 18446744073709551617; do
	bad "partition=$v: expected a primary partition 1..4" \
		run --disk "cobd0=$img,partition=$v" --exec 'echo never'
done
for v in 8 4294967296 18446744073709551616; do
	bad "--disk cobd$v=$img: the unit N of cobdN is 0..7" run --disk "cobd$v=$img" --exec 'echo never'
	bad "--net conet$v=unix:$TMP/s: the unit N of conetN is 0..7" \
		run --net "conet$v=unix:$TMP/s" --exec 'echo never'
done
for v in 0 65536 4294967297 18446744073709551617; do
	bad "ports are 1..65535" run --net "conet0=udp:$v:127.0.0.1:5001" --exec 'echo never'
done
for v in 0 10000001 4294967297; do
	bad "--iterations: expected 1..10000000, not $v" bench --iterations "$v"
done
for v in 0 1001 4294967297; do
	bad "--repeat: expected 1..1000, not $v" bench --repeat "$v"
done
for v in 1024 4294967296 18446744073709551615; do
	bad "--cpu: not a CPU number: $v" bench --cpu "$v"
done
for v in "" " " "." "abc" "-1" "+1" " 1" "1 " "1e3" "0x10" "inf" "nan" "1.2.3" "86400.5" \
	"99999999999999999999"; do
	bad "--watchdog $v: expected seconds from 0 to 86400" run --watchdog "$v"
done
for v in "" " " "-1" "+64M" " 64M" "64M " "0x10M" "64MM" "1e3M"; do
	bad "--mem $v: not a size" run --mem "$v"
done
# ... and what is still a number: 0x hex, leading zeros (decimal, not octal).
run run --seed 0x10 --watchdog 0.5 --exec 'echo ok'
expect_status 0
run run --seed 010 --watchdog 07 --disk "cobd00=$img,offset=0x200" --exec 'blk info'
expect_status 0
expect_in out "cobd0: 2047 sectors"

# Guest kernel files.
bad "No such file or directory" run --kernel "$TMP/missing.elf"
bad "is a directory" run --kernel "$TMP"
: >"$TMP/empty"
bad "empty file" run --kernel "$TMP/empty"
echo "this is not an ELF file at all, just some text" >"$TMP/text"
bad "not an ELF file" run --kernel "$TMP/text"
head -c 40 "$COOP_GUEST" >"$TMP/short.elf"
bad "truncated" run --kernel "$TMP/short.elf"
head -c 2000 "$COOP_GUEST" >"$TMP/truncated.elf"
bad "truncated" run --kernel "$TMP/truncated.elf"
objcopy -O elf32-i386 "$COOP_GUEST" "$TMP/guest32.elf" 2>/dev/null ||
	skip "objcopy cannot make a 32-bit ELF"
bad "32-bit ELF" run --kernel "$TMP/guest32.elf"
# A real ELF that is not a coop guest: the test machine's own shell.
bad "--kernel /bin/sh:" run --kernel /bin/sh
# A kernel that does not fit: 4M of RAM is fine for coop, the guest needs room.
run run --mem 4M --exec 'poweroff 4'
check "--mem 4M: expected 4 or 2, got $status" grep -qxE '4|2' <<<"$status"

done_ok
