#!/bin/sh
# Training-step speed, batch 4 x 128^2, lowlight-train (LibTorch) against Python PyTorch eager, same configs,
# same machine, same run. Usage: bench/train_step_bench.sh BUILD_DIR [LOL_DIR]
#   BUILD_DIR: a build folder holding trainer/lowlight-train; LOL_DIR: LoL v1 (train/, val/), default
#   ../shared/data/lol-v1 beside the repository. Env: THREADS (2), SMALL_STEPS (10), BIG_STEPS (2; 0 skips C=64).
# lowlight-train's figure is its second epoch's training rate (the first epoch includes warm-up);
# Python's excludes one warm-up step. Data: 8 training pairs and 1 validation pair, linked into a temp folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: train_step_bench.sh BUILD_DIR [LOL_DIR]}
lol=${2:-$here/../../shared/data/lol-v1}
threads=${THREADS:-2}
small=${SMALL_STEPS:-10}
big=${BIG_STEPS:-2}
train=$build/trainer/lowlight-train
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for side in low high; do
  mkdir -p "$tmp/train/$side" "$tmp/val/$side"
  for f in $(ls "$lol/train/$side" | sort | head -8); do ln -s "$lol/train/$side/$f" "$tmp/train/$side/$f"; done
  f=$(ls "$lol/val/$side" | sort | head -1); ln -s "$lol/val/$side/$f" "$tmp/val/$side/$f"
done

cpp() {  # name steps flags...
  name=$1; steps=$2; shift 2
  "$train" --train "$tmp/train" --val "$tmp/val" --batch 4 --crop 128 --epochs 2 --steps "$steps" \
    --threads "$threads" --device cpu --samples 1 --out "$tmp/run-$name" "$@" 2>"$tmp/log-$name" >/dev/null
  rate=$(grep '^epoch 2/2' "$tmp/log-$name" | sed 's/.*  \([0-9.]*\) steps\/s.*/\1/')
  echo "lowlight-train $name batch 4 x 128^2: $rate steps/s ($steps steps, $threads threads)"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg) (the CPU is shared)"
cpp "channels-last C=16 1x1" "$small" --channels 16 --rrgs 1 --mrbs 1
cpp "nchw C=16 1x1" "$small" --channels 16 --rrgs 1 --mrbs 1 --nchw
$py "$here/train_step_torch.py" --channels 16 --rrgs 1 --mrbs 1 --steps "$small" --threads "$threads"
$py "$here/train_step_torch.py" --channels 16 --rrgs 1 --mrbs 1 --steps "$small" --threads "$threads" --nchw
[ "$big" -gt 0 ] || exit 0  # BIG_STEPS=0: only the small configs
cpp "channels-last C=64 3x2" "$big" --channels 64 --rrgs 3 --mrbs 2
$py "$here/train_step_torch.py" --channels 64 --rrgs 3 --mrbs 2 --steps "$big" --threads "$threads"
