#!/bin/sh
# Every spatial-view measurement of issue 6, for a quiet machine (hours on 2 cores at full length).
# Output: bench/out/spatial-*.txt, each with the load (uptime) before and after.
#   npx tsc -p tsconfig.json && sh bench/spatial_all.sh [threads]
set -e
cd "$(dirname "$0")/.."
T=${1:-2}
mkdir -p bench/out
run() { name=$1; shift; { uptime; "$@"; uptime; } > "bench/out/spatial-$name.txt" 2>&1; tail -n 12 "bench/out/spatial-$name.txt"; }
# 1. Epoch time on 60k with the GAT, satc vs PyTorch CPU, same shapes and threads.
run epoch-satc node dist/bench/spatial_epoch.js --n 60000 --epochs 2 --threads "$T"
run epoch-torch /usr/bin/python3 bench/spatial_torch.py --threads "$T" --steps 50
# 2. Quality: full method (gat) vs the one-view heads (none), 3 seeds, train 60k, test 10k.
run quality node dist/bench/spatial_fashion.js --n 60000 --variants gat,none --seeds 3 --threads "$T" --json bench/out/spatial-quality.json
# 3. The ablation table, 3 seeds.
run ablation node dist/bench/spatial_fashion.js --n 60000 --variants gat,gcn,transformer,mean,none --seeds 3 --threads "$T" --json bench/out/spatial-ablation.json
# 4. Channel reduction on synthetic 2048-channel nodes.
run reduce node dist/bench/spatial_reduce.js --images 300
