#!/usr/bin/env bash
# Coverage-guided fuzzing of the project's parsers with cargo fuzz (libFuzzer,
# AddressSanitizer): every target in fuzz/fuzz_targets/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s, all targets)
#   FUZZ_MERGE=1 scripts/fuzz.sh ...   also merge what was found into the committed
#                                      seed corpora (fuzz/corpus/<target>/, minimized)
#
# Each target starts from its committed corpus; new inputs go to a scratch
# corpus outside the repository unless FUZZ_MERGE=1. A crash leaves its input
# in fuzz/artifacts/<target>/ and makes the script fail; turn it into a named
# test in tests/fuzz_regressions.rs. Prints executions per target from
# libFuzzer's final stats.
#
# Only stable Rust is needed: RUSTC_BOOTSTRAP=1 lets it accept the -Z flags
# (sanitizer, coverage instrumentation) that cargo fuzz passes. cargo-fuzz is
# installed from crates.io into the git-ignored .tools/cargo (once).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seconds=${1:-60}
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;;
esac

version=0.13.2
tools="$root/.tools/cargo"
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $version\$"; then
  echo "fuzz: installing cargo-fuzz $version into .tools/cargo (once)"
  started=$(date +%s)
  cargo install --locked --quiet --root "$tools" --version "$version" cargo-fuzz
  echo "fuzz: installed in $(( $(date +%s) - started ))s"
fi
export PATH="$tools/bin:$PATH"
export RUSTC_BOOTSTRAP=1

# Sanitizer builds must not share artifacts with the normal builds.
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
unset CARGO_TARGET_DIR

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

started=$(date +%s)
(cd fuzz && cargo fuzz build --release --debug-assertions --target-dir "$target_dir" 2>&1 |
  grep -v '^\s*Compiling' || true)
echo "fuzz: built in $(( $(date +%s) - started ))s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$scratch/$target" "fuzz/artifacts/$target" "$corpus"
  log="$scratch/$target.log"
  echo "fuzz: $target for ${seconds}s"
  status=0
  # The first corpus directory receives new inputs; the committed one only seeds.
  (cd fuzz && cargo fuzz run --release --debug-assertions --target-dir "$target_dir" \
    "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="artifacts/$target/") >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  found=$(find "$scratch/$target" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    grep -E 'panicked|ERROR: |SUMMARY|Test unit written' "$log" | head -20 || tail -30 "$log"
  fi
  summary+=("$(printf '%-18s %12s execs %8s/s  cov %6s  new inputs %5s  %s' "$target" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "$found" "$([ "$status" -eq 0 ] && echo ok || echo CRASH)")")

  if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$status" -eq 0 ]; then
    # Adds to the committed corpus only the new inputs that reach coverage it
    # does not have (a set-cover selection over edges); hand-written seeds stay.
    (cd fuzz && cargo fuzz run --release --debug-assertions --target-dir "$target_dir" \
      "$target" "corpus/$target" "$scratch/$target" -- -set_cover_merge=1 -use_counters=0) >"$log.merge" 2>&1
    echo "fuzz: $corpus now has $(find "$corpus" -type f | wc -l) files"
  fi
done

echo
echo "fuzz: ${seconds}s per target"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
