#!/bin/sh
# Runs `lowlight bench` and writes the figures into docs/performance.md between the BENCH-BEGIN/END markers
# (the prose around them is kept) and the JSON into docs/performance.json. Usage:
#   bench/run_bench.sh BUILD_DIR [lowlight bench flags...]
# Without flags: every shipped model at 600x400 and 4000x3000 plus training steps, 3 repeats, 2 threads.
# Development run: bench/run_bench.sh build --config '{"channels":16,"rrgs":1,"mrbs":1}' --sizes 600x400,2000x1500
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run_bench.sh BUILD_DIR [lowlight bench flags...]}
shift
doc=$here/../docs/performance.md
[ $# -gt 0 ] || set -- --sizes 600x400,4000x3000 --repeats 3 --threads 2 --train
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/cli/lowlight" bench "$@" --json-out "$here/../docs/performance.json" >"$tmp/table.txt"
{
  echo "<!-- BENCH-BEGIN: written by bench/run_bench.sh; edits here are overwritten -->"
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
  echo "$(nproc) CPUs, with: \`lowlight bench $*\`"
  echo
  echo '```'
  cat "$tmp/table.txt"
  echo '```'
  echo "<!-- BENCH-END -->"
} >"$tmp/block.md"
if [ -f "$doc" ] && grep -q 'BENCH-BEGIN' "$doc"; then
  /usr/bin/python3 - "$doc" "$tmp/block.md" <<'PY'
import re, sys
doc, block = open(sys.argv[1]).read(), open(sys.argv[2]).read().rstrip("\n")
start, end = doc.index("<!-- BENCH-BEGIN"), doc.index("<!-- BENCH-END -->") + len("<!-- BENCH-END -->")
open(sys.argv[1], "w").write(doc[:start] + block + doc[end:])
PY
else
  { echo "# Performance"; echo; cat "$tmp/block.md"; } >"$doc"
fi
cat "$tmp/table.txt"
