#!/usr/bin/env bash
# Whole-process benchmarks, from one command (see BENCHMARKS.md):
#   1. start-up: our release binary against the peer Go provider
#      (PyPI workato-terraform-provider==0.16.0, downloaded into .bench/);
#   2. Terraform-level: apply + no-op plan of N volcengine_image_share resources
#      against the emulator, against the same run over terraform_data;
#   3. criterion micro-benchmarks (cargo bench).
# Results are written to .bench/results/*.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup-tools.sh >/dev/null
py="$root/.tools/venv/bin/python"
bench="$root/.bench"
mkdir -p "$bench/results"

peer="$bench/peer/terraform-provider-workato_v0.16.0"
if [ ! -x "$peer" ]; then
  echo "bench: fetching the peer provider (workato-terraform-provider==0.16.0 from PyPI)"
  dl=$(mktemp -d)
  "$py" -m pip download --quiet --disable-pip-version-check --no-deps -d "$dl" workato-terraform-provider==0.16.0
  mkdir -p "$bench/peer"
  unzip -o -q -j "$dl"/workato_terraform_provider-*.whl \
    'workato_terraform_provider/payload/registry.terraform.io/local/workato/0.16.0/linux_amd64/*' -d "$bench/peer"
  chmod +x "$peer"
  rm -rf "$dl"
fi

echo "bench: building release binaries"
cargo build --release --bins --quiet
# Cargo honours CARGO_TARGET_DIR; so must we.
release="${CARGO_TARGET_DIR:-$root/target}/release"

echo "== start-up (ours vs peer, whole process)"
"$py" scripts/bench-startup.py --ours "$release/terraform-provider-volcengine" --peer "$peer" \
  --runs "${BENCH_RUNS:-40}" --out "$bench/results/startup.md"

if [ -f scripts/bench-terraform.py ]; then
  echo "== Terraform-level (ours vs terraform_data)"
  "$py" scripts/bench-terraform.py --root "$root" --release "$release" \
    --runs "${BENCH_TF_RUNS:-5}" --out "$bench/results/terraform.md"
fi

if [ "${BENCH_SKIP_CRITERION:-}" = "" ]; then
  echo "== criterion"
  # Criterion prints a long benchmark name on its own line, then "time:" and
  # "thrpt:" lines; keep those three kinds.
  cargo bench --benches 2>/dev/null | tee "$bench/results/criterion.txt" \
    | grep -E '^[a-z_]+/[a-z0-9_]+|time:|thrpt:'

fi
