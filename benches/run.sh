#!/bin/sh
# Build guard in release mode and run the benchmarks (ratios against git).
# Usage: benches/run.sh [--repo PATH] [other bench.py options]
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
exec python3 benches/bench.py "$@"
