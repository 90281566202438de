#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# guest/linux/check-config.sh - does a kernel .config hold every value of
# the coop.config fragment?  Kconfig drops values whose dependencies are
# not met and merge_config.sh only warns, so build.sh and the linux test
# check here.  "=n" is met by "# ... is not set" or by an absent symbol.
# Usage: check-config.sh FRAGMENT DOTCONFIG   (exit 1 naming each lost value)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 FRAGMENT DOTCONFIG" >&2; exit 2; }
fragment=$1 config=$2
lost=0
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	name=${line%%=*} want=${line#*=}
	have=$(grep -m1 "^$name=" "$config" | cut -d= -f2- || true)
	if [ "$want" = n ]; then
		[ -z "$have" ] || [ "$have" = n ] && continue
	else
		[ "$have" = "$want" ] && continue
	fi
	echo "check-config: $name: wanted $want, got ${have:-n}" >&2
	lost=1
done <"$fragment"
exit $lost
