#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# abi_handshake.sh - the boot handshake: a guest whose ELF note passes the
# loader but which announces another ABI at HELLO is refused with exit 2
# and a message naming both versions.  Run by ctest (integration).
set -e
. "$(dirname "$0")/lib.sh"
: "${COOP_GUEST_BADHELLO:?ctest sets COOP_GUEST_BADHELLO}"

run run --kernel "$COOP_GUEST_BADHELLO" --exec 'echo never'
expect_status 2
abi=$("$COOP" version | sed -n 's/^ABI \([0-9.]*\) .*/\1/p')
expect_in err "guest kernel speaks coop ABI 9.${abi#*.}; this coop speaks $abi"
expect_stdout ""

done_ok
