#!/bin/sh
# Same-run A/B timing of two lowlight binaries (e.g. before and after a change): runs A, B, A, B... ROUNDS
# times, each a `lowlight bench` of one config and size without the Python side, and prints every median
# and the ratio of the medians of medians. Usage:
#   bench/ab_compare.sh A_BINARY B_BINARY [CONFIG_JSON] [SIZE] [extra bench flags...]
# Env: ROUNDS (4), REPEATS (2 timed runs per invocation, after 1 warm-up), THREADS (2; empty: no --threads flag), FLAGS_A / FLAGS_B
# (extra bench flags for one side only, e.g. FLAGS_A='--threads 1' with the same binary twice).
set -eu
a=$1; b=$2
config=${3:-'{"channels":16,"rrgs":1,"mrbs":1}'}
size=${4:-600x400}
shift 2; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
rounds=${ROUNDS:-4}; repeats=${REPEATS:-2}; threads=${THREADS-2}
py=/usr/bin/python3
med() {  # binary [flags] -> median seconds of one invocation
  bin=$1; shift
  "$bin" bench --config "$config" --sizes "$size" --repeats "$repeats" --warmup 1 ${threads:+--threads "$threads"} \
    --python '' --json "$@" 2>/dev/null | $py -c 'import json,sys; print(json.load(sys.stdin)["inference"][0]["seconds"]["median"])'
}
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
ta=""; tb=""
i=0
while [ "$i" -lt "$rounds" ]; do
  # shellcheck disable=SC2086  # the per-side flags are meant to split into words
  x=$(med "$a" "$@" ${FLAGS_A:-}); y=$(med "$b" "$@" ${FLAGS_B:-})
  echo "round $((i + 1)): A $x s  B $y s"
  ta="$ta $x"; tb="$tb $y"
  i=$((i + 1))
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$py - "$ta" "$tb" <<'PY'
import statistics, sys
a = [float(v) for v in sys.argv[1].split()]; b = [float(v) for v in sys.argv[2].split()]
ratios = [y / x for x, y in zip(a, b)]
print(f"A median {statistics.median(a):.3f} s, B median {statistics.median(b):.3f} s, "
      f"B/A of medians {statistics.median(b) / statistics.median(a):.3f}, per-round B/A median {statistics.median(ratios):.3f} "
      f"(min A {min(a):.3f}, min B {min(b):.3f})")
PY
