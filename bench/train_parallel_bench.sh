#!/bin/sh
# Training throughput on one machine: 1 process x 2 threads against 2 data-parallel processes x 1 thread
# (Gloo over 127.0.0.1), the same global batch (8 x 128^2), the same steps. Run it on a quiet machine.
# Usage: bench/train_parallel_bench.sh BUILD_DIR [LOL_DIR]
#   BUILD_DIR: a build folder holding trainer/lowlight-train; LOL_DIR: LoL v1 (train/, val/), default
#   ../shared/data/lol-v1 beside the repository. Env: STEPS (10 per epoch), BATCH (global, 8), PORT (29531),
#   MODEL (lowlight-train model flags, default the shipped default's "--channels 16 --rrgs 1 --mrbs 1").
# Each figure is rank 0's second-epoch training rate (the first includes the warm-up), in steps/s and in
# samples/s (steps/s x global batch). Data: 8 training pairs and 1 validation pair, linked into a temp folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: train_parallel_bench.sh BUILD_DIR [LOL_DIR]}
lol=${2:-$here/../../shared/data/lol-v1}
steps=${STEPS:-10}
batch=${BATCH:-8}
port=${PORT:-29531}
model=${MODEL:---channels 16 --rrgs 1 --mrbs 1}
train=$build/trainer/lowlight-train
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for side in low high; do
  mkdir -p "$tmp/train/$side" "$tmp/val/$side"
  for f in $(ls "$lol/train/$side" | sort | head -8); do ln -s "$lol/train/$side/$f" "$tmp/train/$side/$f"; done
  f=$(ls "$lol/val/$side" | sort | head -1); ln -s "$lol/val/$side/$f" "$tmp/val/$side/$f"
done

# run NAME BATCH THREADS [launch flags...]: one process of a run (in the background for several ranks).
run() {
  name=$1; b=$2; threads=$3; shift 3
  # shellcheck disable=SC2086
  OMP_WAIT_POLICY=PASSIVE "$train" --train "$tmp/train" --val "$tmp/val" --batch "$b" --crop 128 --epochs 2 \
    --steps "$steps" --threads "$threads" --device cpu --samples 1 --out "$tmp/run-$name" $model "$@" \
    2>>"$tmp/log-$name" >/dev/null
}

report() {  # NAME DESCRIPTION
  rate=$(grep '^epoch 2/2' "$tmp/log-$1" | sed 's/.*  \([0-9.]*\) steps\/s.*/\1/')
  samples=$(echo "$rate * $batch" | bc -l)
  printf '%s: %s steps/s, %.2f samples/s (global batch %s x 128^2, %s steps)\n' "$2" "$rate" "$samples" "$batch" "$steps"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)"
run one "$batch" 2
report one "1 process x 2 threads"
half=$((batch / 2))
run two "$half" 1 --world-size 2 --rank 1 --master-port "$port" &
run two "$half" 1 --world-size 2 --rank 0 --master-port "$port"
wait
report two "2 processes x 1 thread (Gloo)"
