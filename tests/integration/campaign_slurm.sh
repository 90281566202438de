#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# campaign_slurm.sh - `coop campaign run --runner slurm` on a real Slurm:
# installs slurm-wlm and munge if missing (skips, 77, only when they cannot
# be installed), starts a one-node cluster of its own on this host (munged
# with its own key and socket, slurmctld and slurmd with a private
# slurm.conf on free ports, state, spool and logs in a temporary directory;
# no cgroups: proctrack/linuxproc, task/none), submits a campaign of 24
# runs as an array job, waits for it, collects it, checks every run and
# fault is accounted for, and stops the daemons it started, however it ends.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/campaign_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
N=24
[ "$(id -u)" -eq 0 ] || skip "starting slurmd and munged needs root"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
	! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y -qq --no-install-recommends slurm-wlm munge ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge; }
	} >"$TMP/apt.log" 2>&1 || skip "cannot install slurm-wlm and munge: $(tail -1 "$TMP/apt.log")"
fi

S=$TMP/slurm
mkdir -p "$S/state" "$S/spool"
pids=()
stop_daemons() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 500); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap stop_daemons EXIT
logs() { # the daemons' logs' ends, for a failure's message
	local f
	for f in munged slurmctld slurmd; do echo "--- $f.log:"; tail -15 "$S/$f.log" 2>/dev/null; done
}

# munge: a key and a socket of its own.
head -c 1024 /dev/urandom >"$S/munge.key"
chmod 400 "$S/munge.key"
munged --foreground --socket="$S/munge.sock" --key-file="$S/munge.key" \
	--pid-file="$S/munged.pid" --log-file="$S/munged.log" --seed-file="$S/munged.seed" \
	--force >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 500); do [ -S "$S/munge.sock" ] && break; sleep 0.02; done
[ -S "$S/munge.sock" ] || fail "munged made no socket in 10 s: $(logs)"

# slurm.conf for this host, on two free ports.
read -r p1 p2 < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
host=$(hostname -s)
cat >"$S/slurm.conf" <<CONF
ClusterName=cooptest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$p1
SlurmdPort=$p2
AuthType=auth/munge
AuthInfo=socket=$S/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host CPUs=$(nproc) RealMemory=256 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$S/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$S/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 300); do
	state=$(sinfo -h -N -o %T 2>/dev/null | head -1)
	[ "$state" = idle ] && break
	sleep 0.1
done
[ "$state" = idle ] || fail "the node is not idle after 30 s (sinfo: '${state:-no answer}'): $(logs)"

# 2 probabilities x with and without the driver's checks x 6 seeds = $N runs
campaign_file "$TMP/c.campaign" 1-6 4M \
	"c1 rules corrupt device=cobd dir=to_guest type=reply prob=1%" \
	"c4 rules corrupt device=cobd dir=to_guest type=reply prob=4%"
D=$TMP/camp

# --dry-run writes the script, one task per run, and submits nothing.
run campaign run "$TMP/c.campaign" -o "$D" --runner slurm --dry-run
expect_status 0
expect_in err "not submitted"
check "the script asks for $N tasks" grep -q -- "--array=0-$((N - 1))$" "$D/slurm/campaign-0.sbatch"
check "nothing was submitted" [ ! -e "$D/slurm/jobs" ]

# Submit, 3 runs per task; wait for the runs to be done on the "shared" directory.
t0=$(date +%s.%N)
run campaign run "$TMP/c.campaign" -o "$D" --runner slurm --chunk 3
expect_status 0
expect_in err "submitted job"
shown=0
for _ in $(seq 1200); do
	run campaign status "$D"
	grep -q "$N runs: $N done" "$TMP/out" && break
	# what status says while the array runs, once
	if [ $shown = 0 ] && grep -q " [1-9][0-9]* running" "$TMP/out"; then
		echo "while it runs:"; sed 's/^/    /' "$TMP/out"; shown=1
	fi
	grep -q " [1-9][0-9]* failed" "$TMP/out" && fail "runs failed under Slurm: $(cat "$D"/slurm/task-*.out)"
	sleep 0.1
done
grep -q "$N runs: $N done" "$TMP/out" ||
	fail "not done within 120 s: $(cat "$TMP/out"; squeue; logs)"
t1=$(date +%s.%N)
expect_in out "slurm job"
check "8 array tasks" [ "$(ls "$D"/slurm/task-*.out | wc -l)" -eq 8 ]

run campaign collect "$D"
expect_status 0
expect_in out "$N runs: $N done, 0 failed, 0 not run"
check "the table accounts for every run and fault" /usr/bin/python3 "$HERE/campaign_check.py" "$D" $N
cat "$TMP/out"
echo "array job of $N runs: submitted to done in $(echo "$t1 - $t0" | bc) s"
done_ok
