#!/usr/bin/env bash
# Quality against CPU time for compact MIRNet configs: each config trains with the default model's recipe
# (trainer/experiments/compact.json) for the same short budget, then its best weights are scored on val
# (whole images, `lowlight eval`) and timed at 600x400 (`lowlight bench`, no Python side). Prints a
# Markdown table; the run folders stay in OUT for a closer look (metrics.csv, curves.png).
#
#   trainer/sweep.sh BUILD_DIR OUT [CONFIG...]     CONFIG = C:RRGS:MRBS, default 8:1:1 16:1:1 32:1:1 16:2:1
#
# Env: EPOCHS (15, of 75 steps), THREADS (1: training threads), BENCH_THREADS (2), LOL (../shared/data/lol-v1),
# PRECISION (the recipe's bf16; fp32 on CPUs without native bf16).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: sweep.sh BUILD_DIR OUT [C:RRGS:MRBS...]}
out=${2:?usage: sweep.sh BUILD_DIR OUT [C:RRGS:MRBS...]}
shift 2
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(8:1:1 16:1:1 32:1:1 16:2:1)
lol=${LOL:-$here/../../shared/data/lol-v1}
train=$build/trainer/lowlight-train
lowlight=$build/cli/lowlight
mkdir -p "$out"

rows=()
for cfg in "${configs[@]}"; do
  IFS=: read -r c r m <<<"$cfg"
  run=$out/c$c-${r}x$m
  if [ ! -f "$run/done" ]; then  # trained already: only score and time it again
    if [ -f "$run/last.ckpt" ]; then
      "$train" --resume "$run" 2>>"$run/train.log"
    else
      mkdir -p "$run"
      "$train" --config "$here/experiments/compact.json" --train "$lol/train" --val "$lol/val" \
        --channels "$c" --rrgs "$r" --mrbs "$m" --epochs "${EPOCHS:-15}" --threads "${THREADS:-1}" \
        ${PRECISION:+--precision "$PRECISION"} -o "$run" 2>"$run/train.log"
    fi
    touch "$run/done"
  fi
  weights=$run/best.safetensors
  "$lowlight" eval --low "$lol/val/low" --high "$lol/val/high" --weights "$weights" --json >"$run/eval.json"
  "$lowlight" info "$weights" --json >"$run/info.json"
  "$lowlight" bench --weights "$weights" --sizes 600x400 --repeats 3 --python '' --threads "${BENCH_THREADS:-2}" \
    --json-out "$run/bench.json" >/dev/null 2>&1
  precision=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["precision"])' "$run/bench.json")
  rows+=("$(/usr/bin/python3 - "$run" "$c" "$r" "$m" <<'EOF'
import csv, json, sys
run, c, r, m = sys.argv[1:]
ev, be, info = (json.load(open(f"{run}/{name}.json")) for name in ("eval", "bench", "info"))
inf = be["inference"][0]
rows = list(csv.DictReader(open(run + "/metrics.csv")))
best = max(rows, key=lambda x: float(x["val_psnr"]))
mean = ev["mean"]
print(f"| C={c}, {r} x {m} | {info['parameters_in_file']:,} | {inf['macs_per_megapixel'] / 1e9:.1f} | {rows[-1]['step']} | "
      f"{float(best['val_psnr']):.2f} | {mean['psnr']:.2f} | {mean['ssim']:.3f} | {inf['seconds']['median']:.3f} | "
      f"{float(rows[-1]['seconds']) / 60:.0f} |")
EOF
)")
done
echo "| config | parameters | GMAC/MP | steps | val PSNR, crops (best epoch) | val PSNR, whole images | SSIM, whole | 600x400 s ($precision, ${BENCH_THREADS:-2} threads) | train min |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
