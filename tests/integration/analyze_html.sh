#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze_html.sh - the report of `coop analyze` renders: headless Chromium
# (Debian's `chromium`) takes a screenshot of index.html, and the picture is
# not blank.  Skipped (77) only where Chromium is missing or cannot start.
# Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || skip "chromium not installed"
/usr/bin/python3 -c 'import bt2, numpy, matplotlib' 2>/dev/null ||
	skip "python3-bt2, python3-numpy or python3-matplotlib missing"

# shoot URL PNG: a 1280x2000 screenshot with a fresh, empty profile.
shoot() {
	rm -rf "$TMP/profile" "$2"
	mkdir -p "$TMP/profile"
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$TMP/profile" --screenshot="$2" \
		--window-size=1280,2000 "$1" >"$TMP/chromium.log" 2>&1
}

# Can Chromium start and draw at all?  A page of our own says so.
printf '<html><body style="background:#fff"><h1>coop</h1><div style="background:#234;height:300px"></div></body></html>\n' \
	>"$TMP/probe.html"
if ! shoot "file://$TMP/probe.html" "$TMP/probe.png" || [ ! -s "$TMP/probe.png" ]; then
	skip "chromium cannot start here: $(grep -v dbus "$TMP/chromium.log" | tail -2)"
fi

truncate -s 1M "$TMP/d.img"
run run --disk "cobd0=$TMP/d.img" --exec 'blk scrub 0 0 1024; spin 100' \
	--report "$TMP/r.json" --trace "$TMP/tr"
expect_status 0
run analyze "$TMP/tr" -o "$TMP/rep"
expect_status 0

shoot "file://$TMP/rep/index.html" "$TMP/shot.png" ||
	fail "chromium failed on index.html: $(tail -3 "$TMP/chromium.log")"
check "the screenshot of index.html is blank" \
	/usr/bin/python3 "$(dirname "$0")/analyze_check.py" shot "$TMP/shot.png"
done_ok
