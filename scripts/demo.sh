#!/usr/bin/env bash
# The demo (the first command in README.md): real Terraform 1.15.5 manages an image's
# shares through this provider, against the local Volcengine ECS emulator.
#
#   build -> start emulator -> init -> apply -> no-op plan -> out-of-band change
#   -> plan shows the drift -> apply repairs it -> destroy -> stop emulator
#
# Nothing leaves the machine: the provider is used through a dev_overrides CLI config
# pointing at the freshly built binary, and its endpoint is the emulator on 127.0.0.1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

image=image-demo0000000001
accounts=(2100000001 2100000002 2100000003)
intruder=2100009999 # shared out of band, behind Terraform's back

if [ -t 1 ]; then
  bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' reset=$'\e[0m'
  color_flag=()
else
  bold='' dim='' green='' red='' reset=''
  color_flag=(-no-color)
fi
step=0
section() {
  step=$((step + 1))
  printf '\n%s== %d. %s ==%s\n' "$bold" "$step" "$*" "$reset"
}
note() { printf '%s%s%s\n' "$dim" "$*" "$reset"; }
pass() { printf '%s✔ %s%s\n' "$green" "$*" "$reset"; }
fail() {
  printf '%s✘ %s%s\n' "$red" "$*" "$reset" >&2
  exit 1
}

section "Tools and build"
scripts/setup-tools.sh
cargo build --bins
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin_dir="$target_dir/debug"
terraform="$root/.tools/bin/terraform"
python=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/volcengine-demo.XXXXXX")
emulator_pid=
cleanup() {
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

section "Start the emulator"
"$bin_dir/volcengine-ecs-emulator" --listen 127.0.0.1:0 --image "$image" \
  >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
endpoint=
for _ in $(seq 1 100); do # up to 10 s
  line=$(head -n 1 "$work/emulator.out" 2>/dev/null || true)
  case "$line" in
    "listening on "*)
      endpoint=${line#listening on }
      break
      ;;
  esac
  kill -0 "$emulator_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$endpoint" ] || {
  cat "$work/emulator.err" >&2
  fail "the emulator did not start"
}
pass "emulator on $endpoint with image $image"

# Out-of-band access to the emulator's state (no signature needed on /_emulator/).
admin() { # METHOD PATH [JSON BODY]
  "$python" - "$endpoint" "$@" <<'PY'
import sys, urllib.request
base, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
request = urllib.request.Request(base + "/_emulator/" + path, data=body, method=method,
                                 headers={"content-type": "application/json"})
with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as r:
    sys.stdout.write(r.read().decode())
PY
}
shares() { admin GET "images/$image/shares" | "$python" -c 'import json, sys; print(" ".join(json.load(sys.stdin)["accounts"]) or "(none)")'; }

section "Terraform working directory"
cp -R examples/quickstart/. "$work/"
cat >"$work/cli.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "volcengine/volcengine" = "$bin_dir"
  }
  direct {}
}
EOF
quoted=$(printf '"%s", ' "${accounts[@]}")
cat >"$work/terraform.tfvars" <<EOF
image_id    = "$image"
account_ids = [${quoted%, }]
EOF
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export VOLCENGINE_ENDPOINT="$endpoint"
export VOLCENGINE_ACCESS_KEY=AKLOCALEMULATOR
export VOLCENGINE_SECRET_KEY=emulator-secret-key
export VOLCENGINE_REGION=cn-beijing
unset TF_LOG TF_PLUGIN_CACHE_DIR || true
note "$work (a copy of examples/quickstart) with terraform.tfvars:"
sed 's/^/    /' "$work/terraform.tfvars"
note "provider volcengine/volcengine from $bin_dir (dev_overrides)"
tf() { (cd "$work" && "$terraform" "$@"); }
tf version | head -n 1

section "terraform init"
tf init "${color_flag[@]}"

section "terraform apply: share $image with ${#accounts[@]} accounts"
tf apply -auto-approve -compact-warnings "${color_flag[@]}"
note "emulator now shares $image with: $(shares)"

section "terraform plan: nothing to do"
set +e
tf plan -detailed-exitcode -compact-warnings "${color_flag[@]}"
code=$?
set -e
[ "$code" -eq 0 ] || fail "expected an empty plan (exit 0), got exit $code"
pass "no changes (plan -detailed-exitcode = 0)"

section "Out-of-band change: drop ${accounts[0]}, add $intruder"
drifted=$(printf '"%s", ' "${accounts[@]:1}" "$intruder")
admin PUT "images/$image/shares" "{\"accounts\": [${drifted%, }]}" >/dev/null
note "emulator now shares $image with: $(shares)"

section "terraform plan: the drift shows up"
set +e
tf plan -detailed-exitcode -compact-warnings "${color_flag[@]}"
code=$?
set -e
[ "$code" -eq 2 ] || fail "expected a plan with changes (exit 2), got exit $code"
pass "drift detected (plan -detailed-exitcode = 2)"

section "terraform apply: repair"
tf apply -auto-approve -compact-warnings "${color_flag[@]}"
now=$(shares)
note "emulator now shares $image with: $now"
[ "$now" = "${accounts[*]}" ] || fail "shares after repair: $now"
pass "shares match the configuration again"

section "terraform destroy"
tf destroy -auto-approve -compact-warnings "${color_flag[@]}"
now=$(shares)
note "emulator now shares $image with: $now"
[ "$now" = "(none)" ] || fail "shares after destroy: $now"
pass "all shares removed"

section "Done"
note "emulator calls made by the provider:"
admin GET calls | "$python" -c '
import collections, json, sys
calls = json.load(sys.stdin)
for action, n in sorted(collections.Counter(c["action"] for c in calls).items()):
    print(f"    {action}: {n}")'
pass "demo complete"
