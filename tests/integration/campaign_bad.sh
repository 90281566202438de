#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# campaign_bad.sh - bad campaign files, unknown axes and unreadable plans:
# exit status 2, one line on stderr naming FILE:LINE:COL, and nothing runs
# (no campaign directory is made).  Bad options and directories likewise.
set -e
. "$(dirname "$0")/lib.sh"
cd "$TMP"
printf 'corrupt bits=99\n' >bad.plan
mkdir adir # unreadable as a file, even for root

# bad FILE_TEXT EXPECTED: the campaign is refused with exactly EXPECTED's line.
bad() {
	printf '%b' "$1" >c.campaign
	rm -rf cdir
	run campaign run c.campaign -o cdir
	expect_status 2
	expect_stderr_line "$2"
	check "nothing ran for: $2" [ ! -e cdir ]
}
W='workload w blk scrub 0\n'
bad "${W}frobnicate 1-3\n" "c.campaign:2:1: unknown axis or setting 'frobnicate'"
bad "${W}Seeds 1-3\n" "c.campaign:2:1: unknown axis or setting 'Seeds'"
bad "${W}plan p file nosuch.plan\n" "c.campaign:2:13: plan p: cannot read nosuch.plan"
bad "${W}plan p file bad.plan\n" "c.campaign:2:13: bad.plan:1:14: bits 99 out of range"
bad "${W}plan p rules drop prob=1%; corrupt bits=0\n" "c.campaign:2:41: bits 0 out of range"
bad "${W}plan p rules corrupt prob=200%\n" "c.campaign:2:27: bad probability"
bad "${W}plan p\n" "c.campaign:2:7: plan p: expected 'none', 'file PATH' or 'rules RULE; RULE...'"
bad "${W}plan p/q none\n" "c.campaign:2:6: 'p/q': a name is letters"
bad "${W}seeds 3-1\n" "c.campaign:2:7: '3-1': a range A-B needs A <= B"
bad "${W}seeds 1 two\n" "c.campaign:2:9: 'two': expected a seed N or a range A-B"
bad "${W}${W}" "c.campaign:2:10: workload 'w' given twice"
bad "${W}repeat 0\n" "c.campaign:2:8: repeat '0'"
bad "${W}timeout 10\n" "c.campaign:2:9: timeout '10': expected a time with a unit"
bad "${W}timeout 1s\ntimeout 2s\n" "c.campaign:3:1: 'timeout' said twice (first on line 2)"
bad "${W}trace maybe\n" "c.campaign:2:7: trace 'maybe': expected on or off"
bad "${W}backend user qemu\n" "c.campaign:2:14: backend 'qemu': expected user or kmod"
bad "${W}disk d cobd8=size:4M\n" "c.campaign:2:8: 'cobd8=size:4M': expected cobdN=size:SIZE"
bad "${W}disk d cobd0=size:4Q\n" "c.campaign:2:19: '4Q': expected a size"
bad "${W}disk d cobd0=image:adir\n" "c.campaign:2:20: disk image 'adir': not a readable file"
bad "${W}plan p file adir\n" "c.campaign:2:13: plan p: cannot read adir: Is a directory"
bad "workload w blk 'scrub 0\n" "c.campaign:1:12: workload w: No closing quotation"
bad "seeds 1-3\n# no workload\n" "c.campaign:2:1: no workload"
bad "" "c.campaign:1:1: no workload"

# Unreadable campaign file, bad options, a directory that is something else.
run campaign run nosuch.campaign -o cdir
expect_status 2
expect_stderr_line "nosuch.campaign: cannot read"
printf "${W}" >ok.campaign
expect_usage_error "unrecognized arguments: --frob" campaign run ok.campaign -o cdir --frob
expect_usage_error "the following arguments are required: -o" campaign run ok.campaign
expect_usage_error "invalid choice: 'pbs'" campaign run ok.campaign -o cdir --runner pbs
mkdir full && touch full/x
expect_usage_error "full: not empty and not a campaign directory" campaign run ok.campaign -o full
expect_usage_error "nosuch: not a campaign directory" campaign collect nosuch
expect_usage_error "nosuch: not a campaign directory" campaign status nosuch
check "nothing ran" [ ! -e cdir ]
run campaign --help
expect_status 0
expect_in out "usage: coop campaign"
for c in run status collect; do
	run campaign $c --help
	expect_status 0
	expect_in out "usage: coop campaign $c"
done
done_ok
