#!/usr/bin/env bash
# Links one simulated register locally and on a loopback cluster (1 scheduler, 2 executors) with
# the same kartoteka binary; prints wall and CPU time and peak RSS of every process (GNU time),
# the peak bytes of shuffle files on the executors' disks (sampled every second, since Ballista
# removes a stage's files as soon as the job is done), the rows each stage wrote (the scheduler's
# /api/job/ID/stages) and whether both runs gave the same files.
# Usage: benches/loopback.sh KARTOTEKA PERSONS LISTS SEED WORKDIR
# Environment: SIM=DIR reuses a register simulated earlier (DIR/records.csv) instead of simulating;
#              LOCAL=0 skips the local run; PARTITIONS (default 8) is --cluster-partitions.
set -euo pipefail
bin=$(realpath "$1"); persons=$2; lists=$3; seed=$4; work=$5
partitions=${PARTITIONS:-8}
sim=""
[[ -n "${SIM:-}" ]] && sim=$(realpath "$SIM")
rm -rf "$work"; mkdir -p "$work"; cd "$work"
port=$((20000 + RANDOM % 20000))
if [[ -z "$sim" ]]; then
  "$bin" simulate --persons "$persons" --lists "$lists" --seed "$seed" --out sim 2>/dev/null
  sim=$work/sim
fi
records=$(($(wc -l < "$sim/records.csv") - 1))
echo "records: $records; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

fmt="%e %U %S %M"
# The GNU time processes wrapping the cluster's processes (their only child is the kartoteka
# process) and the shuffle sampler: all stopped by id when the script ends, however it ends.
cluster_timers=()
sampler=""
stop_cluster() {
  [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null || true
  # Executors first: on SIGTERM each tells the scheduler it is leaving, so the scheduler must still run.
  for t in "${cluster_timers[@]:1}" "${cluster_timers[@]:0:1}"; do
    pkill -TERM -P "$t" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$t" 2>/dev/null || break; sleep 0.5; done
    pkill -KILL -P "$t" 2>/dev/null || true
    wait "$t" 2>/dev/null || true
  done
  cluster_timers=()
}
trap stop_cluster EXIT

if [[ "${LOCAL:-1}" != 0 ]]; then
  /usr/bin/time -f "$fmt" -o local.time "$bin" link "$sim/records.csv" --out local 2> local.log
fi

/usr/bin/time -f "$fmt" -o scheduler.time "$bin" scheduler --bind 127.0.0.1:$port > /dev/null 2> scheduler.log &
cluster_timers+=($!)
sleep 2
for e in 0 1; do
  mkdir -p executor-$e
  /usr/bin/time -f "$fmt" -o executor-$e.time "$bin" executor --scheduler 127.0.0.1:$port \
    --bind 127.0.0.1:$((port + 10 + 2 * e)) --grpc-port $((port + 11 + 2 * e)) --work-dir "$work/executor-$e" \
    > /dev/null 2> executor-$e.log &
  cluster_timers+=($!)
done

# Peak bytes under both work directories, in one line per second: "seconds bytes".
(
  while true; do
    echo "$SECONDS $(du -sb executor-0 executor-1 2>/dev/null | awk '{s += $1} END {print s + 0}')"
    sleep 1
  done
) > shuffle.samples &
sampler=$!

/usr/bin/time -f "$fmt" -o cluster.time "$bin" link "$sim/records.csv" --out cluster --cluster df://127.0.0.1:$port \
  --cluster-partitions "$partitions" --cluster-dir "$work/inputs" 2> cluster.log
inputs=$(du -sb inputs 2>/dev/null | awk '{print $1}')
curl -s "http://127.0.0.1:$port/api/jobs" > jobs.json || true
for id in $(grep -o '"job_id":"[^"]*"' jobs.json | cut -d'"' -f4); do
  curl -s "http://127.0.0.1:$port/api/job/$id/stages" > "stages-$id.json" || true
done
stop_cluster
peak_shuffle=$(awk '$2 > m {m = $2} END {print m + 0}' shuffle.samples)

same=n/a
if [[ -d local ]]; then
  same=yes
  cmp -s local/clusters.csv cluster/clusters.csv || same=no
  cmp -s local/pairs.csv cluster/pairs.csv || same=no
fi
echo "identical clusters.csv and pairs.csv: $same"
echo "inputs written by the client: ${inputs:-0} bytes; peak shuffle files on the executors: $peak_shuffle bytes"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "candidate pairs|pairs kept" cluster.log || true
for f in stages-*.json; do
  [[ -f $f ]] || continue
  python3 - "$f" <<'PY' || true
import json, sys
path = sys.argv[1]
for s in json.load(open(path)).get("stages", []):
    print(f"{path[7:-5]} stage {s['stage_id']}: {s['stage_status']}, rows in {s['input_rows']}, rows written {s['output_rows']}, compute {s.get('elapsed_compute')}")
PY
done
printf '%-12s %10s %10s %10s %12s\n' process wall_s user_s sys_s peak_rss_MiB
for p in local cluster scheduler executor-0 executor-1; do
  [[ -f $p.time ]] || continue
  read -r wall user sys rss < <(tail -1 $p.time)
  printf '%-12s %10s %10s %10s %12d\n' "$p" "$wall" "$user" "$sys" $((rss / 1024))
done
