#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/fuzz/fuzz.sh NAME SECONDS - run the libFuzzer harness fuzz_NAME
# (plan, loader or router: docs/testing.md) for SECONDS.
#
# The harnesses need clang, the main build is gcc: the first run configures
# a clang build of its own (COOP_FUZZ=ON, in $COOP_FUZZ_BUILD, default
# build/fuzz) and later runs only rebuild what changed.  Each run starts
# from a copy of the seed corpus in a temporary directory (nothing is
# written into the tree), and prints its executions and coverage.
# A finding - crash, ASan/UBSan report, broken invariant, timeout - lands
# in $COOP_FUZZ_BUILD/findings/NAME/ with the fuzzer's log beside it; the
# script prints its path and how to replay it, and exits 1.  Without clang
# or libFuzzer it exits 77 (skipped).
#   COOP_FUZZ_BUILD  the clang build directory (ctest: build/fuzz)
#   COOP_FUZZ_JOBS   parallel compile jobs for it (default 2)
#   COOP_GUEST       the guest kernel ELF, a seed for loader
#                    (default build/bin/coop-guest.elf, if built)
#   COOP_FAKE_VMLINUX  the fake Linux guest, a seed for loader too
#                    (default build/tests/fake-vmlinux, if built)
# Extra arguments after SECONDS go to libFuzzer (e.g. -seed=1).
set -euo pipefail

usage() {
	echo "usage: tests/fuzz/fuzz.sh plan|loader|router SECONDS [LIBFUZZER_FLAG...]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
name=$1 secs=$2
shift 2
case $name in plan | loader | router) ;; *) usage ;; esac
[[ $secs =~ ^[1-9][0-9]*$ ]] || usage

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${COOP_FUZZ_BUILD:-$src/build/fuzz}
jobs=${COOP_FUZZ_JOBS:-2}
bin=$build/tests

if ! command -v clang >/dev/null; then
	echo "fuzz.sh: no clang (Debian: clang libclang-rt-14-dev): skipped"
	exit 77
fi

mkdir -p "$build"
# One configure and build at a time: two runs may start together.
exec 9>"$build/.lock"
flock 9
if [ ! -f "$build/CMakeCache.txt" ]; then
	# libFuzzer is libclang-rt-*-dev, a package apart from clang.
	probe=$(mktemp -d)
	echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' \
		>"$probe/probe.c"
	if ! clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" \
		2>/dev/null; then
		rm -rf "$probe"
		echo "fuzz.sh: clang cannot link libFuzzer (Debian: libclang-rt-14-dev): skipped"
		exit 77
	fi
	rm -rf "$probe"
	echo "fuzz.sh: configuring the clang build in $build (once)"
	if ! cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCOOP_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo --log-level=WARNING -DCMAKE_RULE_MESSAGES=OFF \
		>"$build/configure.log" 2>&1; then
		cat "$build/configure.log"
		rm -f "$build/CMakeCache.txt" # configure again next time
		exit 1
	fi
fi
if ! cmake --build "$build" -j "$jobs" --target "fuzz_$name" fuzz_seeds -- \
	--no-print-directory -s >"$build/build-$name.log" 2>&1; then
	cat "$build/build-$name.log"
	exit 1
fi
exec 9>&- # the lock goes with it; the fuzzer does not inherit it

work=$(mktemp -d "${TMPDIR:-/tmp}/coop-fuzz-$name.XXXXXX")
# fuzz_router binds UNIX sockets for every input: on tmpfs if there is one.
sockets=$(mktemp -d /dev/shm/coop-fuzz.XXXXXX 2>/dev/null || mktemp -d "$work/s.XXXXXX")
trap 'rm -rf "$work" "$sockets"' EXIT
corpus=$work/corpus
mkdir -p "$corpus"
if [ -d "$src/tests/fuzz/corpus/$name" ]; then
	cp "$src/tests/fuzz/corpus/$name"/* "$corpus/"
fi
flags=()
case $name in
plan)
	cp "$src"/faults/examples/*.plan "$corpus/"
	flags+=(-max_len=8192 "-dict=$src/tests/fuzz/plan.dict")
	;;
loader)
	"$bin/fuzz_seeds" loader "$corpus"
	guest=${COOP_GUEST:-$src/build/bin/coop-guest.elf}
	# The real kernel without its DWARF: symbols and unwind tables stay, and
	# it fits -max_len whole.
	if [ -f "$guest" ]; then
		objcopy --strip-debug "$guest" "$corpus/coop-guest.elf"
	else
		echo "fuzz.sh: no guest kernel at $guest: seeds without it"
	fi
	fake=${COOP_FAKE_VMLINUX:-$src/build/tests/fake-vmlinux}
	[ ! -f "$fake" ] || cp "$fake" "$corpus/fake-vmlinux"
	flags+=(-max_len=131072)
	;;
router)
	"$bin/fuzz_seeds" router "$corpus"
	flags+=(-max_len=32768)
	;;
esac
findings=$build/findings/$name
mkdir -p "$findings"
seeds=$(find "$corpus" -type f | wc -l)

# -error_exitcode: libFuzzer's default is 77, which ctest would call a skip.
rc=0
TMPDIR=$work COOP_FUZZ_TMP=$sockets UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	"$bin/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="$findings/" "${flags[@]}" "$@" "$corpus" >"$work/log" 2>&1 || rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
last=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -n 1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
echo "fuzz/$name: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges" \
	"${ft:-?} features, corpus ${corp:-?} inputs (from $seeds seeds)"
if [ "$rc" -ne 0 ]; then
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log" | tail -n 1)
	tail -n 80 "$work/log"
	if [ -n "$artifact" ]; then
		cp "$work/log" "$artifact.log"
		echo "fuzz/$name: FINDING: $artifact (log: $artifact.log)"
		echo "fuzz/$name: replay: $bin/fuzz_$name $artifact"
	else
		echo "fuzz/$name: the fuzzer failed (exit $rc) without an input to show"
	fi
	exit 1
fi
