#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# selftest.sh NAME - one in-guest self-test (guest/apps/selftest.c), with a
# scratch disk for those that need one: it must report PASS and coop must
# exit 0; a self-test whose requirement is missing reports SKIP (exit 77).
# ctest registers one per entry of the guest's table (tests/CMakeLists.txt).
set -e
. "$(dirname "$0")/lib.sh"
name=${1:?usage: selftest.sh NAME}

truncate -s 1M "$TMP/d.img"
run run --disk "cobd0=$TMP/d.img" --exec "selftest $name"
if grep -q "^selftest $name: SKIP" "$TMP/out"; then
	skip "$(sed -n "s/^selftest $name: SKIP: //p" "$TMP/out")"
fi
expect_status 0
expect_in out "selftest $name: PASS"
check "selftest $name reported a failure" bash -c "! grep -q FAIL '$TMP/out'"
done_ok
