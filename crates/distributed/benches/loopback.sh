#!/usr/bin/env bash
# Links one simulated register locally and on a loopback cluster (1 scheduler, 2 executors) with
# the same kartoteka binary; prints wall and CPU time and peak RSS of every process (GNU time),
# the shuffle bytes the executors wrote and whether both runs gave the same files.
# Usage: benches/loopback.sh KARTOTEKA PERSONS LISTS SEED WORKDIR
set -euo pipefail
bin=$(realpath "$1"); persons=$2; lists=$3; seed=$4; work=$5
rm -rf "$work"; mkdir -p "$work"; cd "$work"
port=$((20000 + RANDOM % 20000))
"$bin" simulate --persons "$persons" --lists "$lists" --seed "$seed" --out sim 2>/dev/null
records=$(($(wc -l < sim/records.csv) - 1))
echo "records: $records"

timed() { /usr/bin/time -f "%e %U %S %M" -o "$1" "${@:2}"; }

timed local.time "$bin" link sim/records.csv --out local 2> local.log
timed scheduler.time "$bin" scheduler --bind 127.0.0.1:$port 2> scheduler.log &
timers=($!)
sleep 2
for e in 0 1; do
  timed executor-$e.time "$bin" executor --scheduler 127.0.0.1:$port --bind 127.0.0.1:$((port + 10 + 2 * e)) \
    --grpc-port $((port + 11 + 2 * e)) --work-dir "$work/executor-$e" 2> executor-$e.log &
  timers+=($!)
done
timed cluster.time "$bin" link sim/records.csv --out cluster --cluster df://127.0.0.1:$port --cluster-partitions 8 \
  --cluster-dir "$work/inputs" 2> cluster.log
shuffle=$(du -sb executor-0 executor-1 | awk '{s += $1} END {print s}')
inputs=$(du -sb inputs | awk '{print $1}')
# Stop the processes this script started (the children of its `time` processes), by id.
for t in "${timers[@]}"; do
  kill -TERM "$(pgrep -P "$t")" || true
done
wait || true

same=yes
cmp -s local/clusters.csv cluster/clusters.csv || same=no
cmp -s local/pairs.csv cluster/pairs.csv || same=no
echo "identical clusters.csv and pairs.csv: $same"
echo "inputs written by the client: $inputs bytes; shuffle files on the executors: $shuffle bytes"
grep -E "candidate pairs|pairs kept" cluster.log || true
printf '%-12s %10s %10s %10s %12s\n' process wall_s user_s sys_s peak_rss_MiB
for p in local cluster scheduler executor-0 executor-1; do
  read -r wall user sys rss < <(tail -1 $p.time)
  printf '%-12s %10s %10s %10s %12d\n' "$p" "$wall" "$user" "$sys" $((rss / 1024))
done
