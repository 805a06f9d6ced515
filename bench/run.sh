#!/usr/bin/env bash
# Run the benchmarks as the lab user against the real lab and copy their results into bench/results/.
# Run as root (after test/lab/provision.sh):  bash bench/run.sh [stacks] [rounds]
# CONVERGE_STACKS (default "5 10 20") names the sizes of the cold-converge comparison (bench/converge.ts); each
# size is one run of a few minutes (the N=20 herds are the slow part). CONVERGE_STACKS= skips it.
# FOOTPRINT_SECONDS (default 300) is the idle window of bench/footprint.ts.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
npm run --silent build
npx tsc -p tsconfig.bench.json
node dist-bench/bench/cli-startup.js # no lab: the CLI's start-up, as root, straight into bench/results/
stage=$(bash test/lab/stage.sh)
trap 'rm -rf "$stage"' EXIT
test/lab/as-lab.sh sh -c "cd '$stage' && node --expose-gc dist-bench/bench/status.js && node dist-bench/bench/concurrency.js ${1:-8} ${2:-2} && node dist-bench/bench/profile-up.js && node dist-bench/bench/noop-profile.js 10 10 && node dist-bench/bench/daemon.js 10 20 && node dist-bench/bench/scrape.js 20 && node dist-bench/bench/footprint.js 20 ${FOOTPRINT_SECONDS:-300}"
for n in ${CONVERGE_STACKS-5 10 20}; do
  test/lab/as-lab.sh sh -c "cd '$stage' && node dist-bench/bench/converge.js $n"
done
cp "$stage"/dist-bench/bench/results/*.json bench/results/
