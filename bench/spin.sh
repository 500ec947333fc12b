#!/bin/sh
# spin.sh - libgomp's wait policy on a busy machine: one workload of build/bench under the
# default policy, GOMP_SPINCOUNT=10000 and OMP_WAIT_POLICY=PASSIVE, round by round, with
# BURNERS busy-loop processes beside it (0: an idle machine). Prints each configuration's
# median and maximum seconds per round. CFGS="X=1 GOMP_SPINCOUNT=30000 ..." picks others.
# Usage: sh bench/spin.sh WORKLOAD REPS ROUNDS [BURNERS]   (after make build/bench)
W=$1; R=$2; N=$3; BURN=${4:-0}
pids=""
i=0; while [ "$i" -lt "$BURN" ]; do timeout 3000 sh -c 'while :; do :; done' & pids="$pids $!"; i=$((i+1)); done
med() { awk '/^RESULT/{print $3}' | sort -n | awk '{a[NR]=$1} END{printf "%.4f(max %.4f)", a[int((NR+1)/2)], a[NR]}'; }
r=0; while [ "$r" -lt "$N" ]; do
  line="round $r:"
  # shellcheck disable=SC2086
  for cfg in ${CFGS:-X=1 GOMP_SPINCOUNT=10000 OMP_WAIT_POLICY=PASSIVE}; do
    t=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$cfg" build/bench --only "$W" --reps "$R" 2>&1 | med)
    line="$line $cfg=$t"
  done
  echo "$line"; r=$((r+1))
done
# shellcheck disable=SC2086
[ -n "$pids" ] && kill $pids 2>/dev/null
exit 0
