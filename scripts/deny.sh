#!/usr/bin/env bash
# Dependency policy with cargo-deny (deny.toml): the licenses of every crate in
# Cargo.lock, banned/duplicate crates and crate sources. Runs offline once the
# crates are fetched; advisories are not checked here (they need the advisory
# database from the network).
#
# cargo-deny is installed from crates.io into the git-ignored .tools/cargo
# (idempotent: the pinned version is installed once).
#
#   scripts/deny.sh            check licenses, bans and sources
#   scripts/deny.sh licenses   check only what is named
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

version=0.20.2
tools="$root/.tools/cargo"
deny="$tools/bin/cargo-deny"

if ! "$deny" --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  echo "deny: installing cargo-deny $version into .tools/cargo (a few minutes, once)"
  started=$(date +%s)
  # The tool's own release profile (fat LTO, one codegen unit) makes the final
  # link take most of the install time on two cores; a plain optimized build is
  # as good for a tool run once per check.
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked --quiet --root "$tools" --version "$version" cargo-deny
  echo "deny: installed in $(( $(date +%s) - started ))s"
fi

# cargo-deny reads every crate's manifest (licenses) from the local registry.
cargo fetch --locked --quiet

checks=("$@")
[ "${#checks[@]}" -gt 0 ] || checks=(licenses bans sources)
started=$(date +%s)
"$deny" --offline --locked check --show-stats --hide-inclusion-graph "${checks[@]}"
echo "deny: ${checks[*]} passed in $(( $(date +%s) - started ))s"
