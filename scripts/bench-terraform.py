#!/usr/bin/env python3
"""Terraform-level benchmark: the cost of our provider inside a real Terraform run.

1. `terraform apply` and the following no-op `terraform plan` of N
   volcengine_image_share resources (10 accounts each) against the local
   emulator, against the same run over N terraform_data resources (Terraform's
   floor: no plugin, no API), alternated run by run.
2. One image shared with 10,000 accounts: Modify calls made by the apply,
   Describe pages read by the refresh, emptiness of the plan after apply, and
   the provider process's peak resident memory.
3. API calls per operation (create, update, destroy) of one image with 120
   accounts, from the emulator's call log, split into Terraform's refresh and
   the provider's own apply.
Results go to stdout and, with --out, to a markdown file.
"""
import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

AK, SK = "AKLOCALEMULATOR", "emulator-secret-key"
MODIFY, DESCRIBE = "ModifyImageSharePermission", "DescribeImageSharePermission"
PAGE = 100  # the emulator's page size (--page-max) and the provider's MaxResults
BATCH = 50  # accounts added (and removed) per Modify call

REQUIRED_PROVIDERS = ('terraform {\n  required_providers {\n'
                      '    volcengine = { source = "volcengine/volcengine" }\n  }\n}\n')


class Emulator:
    def __init__(self, binary, images, page_max=PAGE, share_limit=20_000):
        args = [binary, "--listen", "127.0.0.1:0", "--page-max", str(page_max),
                "--share-limit", str(share_limit)]
        for image in images:
            args += ["--image", image]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (http://\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = m.group(1)

    def provider_env(self):
        return {"VOLCENGINE_ENDPOINT": self.url, "VOLCENGINE_ACCESS_KEY": AK,
                "VOLCENGINE_SECRET_KEY": SK, "VOLCENGINE_REGION": "cn-beijing"}

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def take_calls(self):
        """(Modify calls, Describe calls) since the last take; clears the log."""
        calls = self.admin("GET", "/_emulator/calls")
        self.admin("DELETE", "/_emulator/calls")
        bad = [c for c in calls if c["status"] != 200]
        if bad:
            raise RuntimeError(f"failed API calls during the benchmark: {bad[:3]}")
        return (sum(1 for c in calls if c["action"] == MODIFY),
                sum(1 for c in calls if c["action"] == DESCRIBE))

    def shares(self, image):
        return self.admin("GET", f"/_emulator/images/{image}/shares")["accounts"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Workspace:
    def __init__(self, terraform, plugin_dir, env_extra):
        self.dir = tempfile.mkdtemp(prefix="tfbench-")
        self.terraform = terraform
        rc = os.path.join(self.dir, "cli.tfrc")
        with open(rc, "w") as f:
            f.write('provider_installation {\n  dev_overrides {\n'
                    f'    "volcengine/volcengine" = "{plugin_dir}"\n  }}\n  direct {{}}\n}}\n')
        self.env = dict(os.environ, TF_CLI_CONFIG_FILE=rc, TF_IN_AUTOMATION="1",
                        CHECKPOINT_DISABLE="1", **env_extra)
        for key in ("TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PATH", "TF_PLUGIN_CACHE_DIR"):
            self.env.pop(key, None)

    def write(self, text):
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(text)

    def run(self, *args, ok=(0,), timeout=900):
        start = time.perf_counter()
        p = subprocess.run([self.terraform, *args, "-no-color"], cwd=self.dir, env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        elapsed = time.perf_counter() - start
        if p.returncode not in ok:
            raise RuntimeError(f"terraform {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return elapsed, p

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def log(message):
    print(f"bench-terraform: {message}", file=sys.stderr, flush=True)


def account_list(ids):
    return ", ".join(f'"{a}"' for a in ids)


def image_share_config(n, accounts_each):
    out = [REQUIRED_PROVIDERS]
    for i in range(n):
        accounts = account_list(2100000000 + i * 1000 + j for j in range(accounts_each))
        out.append(f'resource "volcengine_image_share" "r{i}" {{\n  image_id    = "image-bench{i:06d}"\n'
                   f'  account_ids = [{accounts}]\n}}\n')
    return "".join(out)


def terraform_data_config(n, accounts_each):
    out = []
    for i in range(n):
        accounts = account_list(2100000000 + i * 1000 + j for j in range(accounts_each))
        out.append(f'resource "terraform_data" "r{i}" {{\n  input = [{accounts}]\n}}\n')
    return "".join(out)


def one_image_config(image, ids):
    return (REQUIRED_PROVIDERS + f'resource "volcengine_image_share" "one" {{\n'
            f'  image_id    = "{image}"\n  account_ids = [{account_list(ids)}]\n}}\n')


def many_resources(terraform, release, emulator_bin, n, runs):
    """Medians of apply and no-op plan, ours against terraform_data."""
    times = {"ours apply": [], "ours plan": [], "floor apply": [], "floor plan": []}
    for _ in range(runs):
        emu = Emulator(emulator_bin, [f"image-bench{i:06d}" for i in range(n)])
        ours = Workspace(terraform, release, emu.provider_env())
        floor = Workspace(terraform, release, {})
        try:
            ours.write(image_share_config(n, 10))
            floor.write(terraform_data_config(n, 10))
            floor.run("init")
            times["ours apply"].append(ours.run("apply", "-auto-approve")[0])
            times["floor apply"].append(floor.run("apply", "-auto-approve")[0])
            # -detailed-exitcode: 2 (changes) fails the run, so "no-op" is checked.
            times["ours plan"].append(ours.run("plan", "-detailed-exitcode")[0])
            times["floor plan"].append(floor.run("plan", "-detailed-exitcode")[0])
            modify, describe = emu.take_calls()
            log(f"run: ours apply {times['ours apply'][-1]:.2f} s, plan {times['ours plan'][-1]:.2f} s; "
                f"terraform_data apply {times['floor apply'][-1]:.2f} s, plan {times['floor plan'][-1]:.2f} s")
            expected_modify = n * math.ceil(10 / BATCH)
            if modify != expected_modify:
                raise RuntimeError(f"{n} resources: {modify} Modify calls, expected {expected_modify}")
        finally:
            ours.cleanup()
            floor.cleanup()
            emu.stop()
    return {k: statistics.median(v) for k, v in times.items()}, times


def big_image(terraform, release, emulator_bin, accounts, timeout):
    """One image with `accounts` accounts: calls, emptiness, provider peak RSS."""
    wrap_dir = tempfile.mkdtemp(prefix="tfbench-wrap-")
    peak_file = os.path.join(wrap_dir, "peak-kib")
    wrapper = os.path.join(wrap_dir, "terraform-provider-volcengine")
    # go-plugin launches whatever is in the plugin directory; this wrapper runs
    # the real provider (stdio inherited, so the handshake passes through) and
    # records the child's peak RSS when it exits.
    with open(wrapper, "w") as f:
        f.write(f"""#!{sys.executable}
import resource, subprocess, sys
rc = subprocess.call([{os.path.join(release, 'terraform-provider-volcengine')!r}] + sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open({peak_file!r}, "a") as f:
    f.write(f"{{usage.ru_maxrss}} {{usage.ru_utime + usage.ru_stime}}\\n")
sys.exit(rc)
""")
    os.chmod(wrapper, 0o755)
    image = "image-big0000001"
    emu = Emulator(emulator_bin, [image])
    ws = Workspace(terraform, wrap_dir, emu.provider_env())
    ids = [str(3000000000 + i) for i in range(accounts)]
    r = {}
    try:
        ws.write(one_image_config(image, ids))
        log(f"one image, {accounts} accounts: apply")
        r["apply s"], _ = ws.run("apply", "-auto-approve", timeout=timeout)
        r["apply modify"], r["apply describe"] = emu.take_calls()
        if len(emu.shares(image)) != accounts:
            raise RuntimeError("the emulator does not hold every account after apply")
        log(f"one image, {accounts} accounts: plan")
        r["plan s"], p = ws.run("plan", "-detailed-exitcode", ok=(0, 2), timeout=timeout)
        r["plan empty"] = p.returncode == 0
        r["plan modify"], r["plan describe"] = emu.take_calls()
        log(f"one image, {accounts} accounts: destroy")
        r["destroy s"], _ = ws.run("destroy", "-auto-approve", timeout=timeout)
        r["destroy modify"], r["destroy describe"] = emu.take_calls()
        with open(peak_file) as f:
            launches = [line.split() for line in f if line.strip()]
        r["launches"] = len(launches)
        r["peak MiB"] = max(int(kib) for kib, _ in launches) / 1024
        r["provider cpu s"] = sum(float(cpu) for _, cpu in launches)
    finally:
        ws.cleanup()
        emu.stop()
        shutil.rmtree(wrap_dir, ignore_errors=True)
    return r


def call_counts(terraform, release, emulator_bin, accounts=120):
    """Calls per operation on one image, split into refresh and apply.

    `terraform plan -refresh-only` isolates what the refresh reads; the apply
    then runs with -refresh=false so its log holds only the provider's own
    calls for the change.
    """
    image = "image-calls000001"
    emu = Emulator(emulator_bin, [image])
    ws = Workspace(terraform, release, emu.provider_env())
    log(f"call counts, one image with {accounts} accounts")
    first = [str(2200000000 + i) for i in range(accounts)]
    # Update: replace half of the accounts.
    second = first[accounts // 2:] + [str(2300000000 + i) for i in range(accounts // 2)]
    rows = []
    try:
        ws.write(one_image_config(image, first))
        ws.run("apply", "-auto-approve")
        rows.append(("create", f"{accounts} added", 0, *emu.take_calls()[::-1]))

        ws.write(one_image_config(image, second))
        ws.run("plan", "-refresh-only", "-detailed-exitcode", ok=(0, 2))
        refresh = emu.take_calls()[1]
        ws.run("apply", "-auto-approve", "-refresh=false")
        rows.append(("update", f"{accounts // 2} added, {accounts // 2} removed", refresh,
                     *emu.take_calls()[::-1]))

        ws.run("plan", "-refresh-only", "-detailed-exitcode", ok=(0, 2))
        refresh = emu.take_calls()[1]
        ws.run("destroy", "-auto-approve", "-refresh=false")
        rows.append(("destroy", f"{accounts} removed", refresh, *emu.take_calls()[::-1]))
        if emu.shares(image):
            raise RuntimeError("shares left after destroy")
    finally:
        ws.cleanup()
        emu.stop()
    return rows


def many_table(n, runs, med, raw):
    def ratio(k):
        return med[f"ours {k}"] / med[f"floor {k}"]

    def all_runs(k):
        return ", ".join(f"{t:.2f}" for t in raw[k])

    return [
        f"{n} resources x 10 accounts, {runs} alternated runs, medians (every run in parentheses, seconds):", "",
        "| run | volcengine_image_share | terraform_data | ratio | target |", "|---|---|---|---|---|",
        f"| apply | {med['ours apply']:.2f} s ({all_runs('ours apply')}) | {med['floor apply']:.2f} s "
        f"({all_runs('floor apply')}) | {ratio('apply'):.2f} | <= 1.5 |",
        f"| no-op plan | {med['ours plan']:.2f} s ({all_runs('ours plan')}) | {med['floor plan']:.2f} s "
        f"({all_runs('floor plan')}) | {ratio('plan'):.2f} | <= 1.5 |",
    ]


def big_table(accounts, big):
    pages = math.ceil(accounts / PAGE)
    batches = math.ceil(accounts / BATCH)
    return [
        f"One image with {accounts:,} accounts (emulator page size {PAGE}):", "",
        "| measure | value | minimum / target |", "|---|---|---|",
        f"| Modify calls in apply (create) | {big['apply modify']} | {batches} |",
        f"| Describe pages in apply (create reads the empty image) | {big['apply describe']} | 1 |",
        f"| Describe pages in the refresh of the next plan | {big['plan describe']} | {pages} |",
        f"| Modify calls in that plan | {big['plan modify']} | 0 |",
        f"| plan after apply empty | {'yes' if big['plan empty'] else 'NO'} | yes |",
        f"| destroy: Describe pages / Modify calls | {big['destroy describe']} / {big['destroy modify']} "
        f"| {pages} refresh + {pages} delete / {batches} |",
        f"| provider peak RSS (largest of {big['launches']} launches) | {big['peak MiB']:.1f} MiB | < 50 MiB |",
        f"| provider CPU time, all launches | {big['provider cpu s']:.2f} s | |",
        f"| wall time apply / plan / destroy | {big['apply s']:.1f} s / {big['plan s']:.1f} s / "
        f"{big['destroy s']:.1f} s | |",
    ]


def calls_table(calls):
    lines = [
        "API calls per operation, one image with 120 accounts (refresh measured with "
        "`plan -refresh-only`, the change with `-refresh=false`):", "",
        "| operation | change | refresh: Describe | apply: Describe | apply: Modify |",
        "|---|---|---|---|---|",
    ]
    return lines + [f"| {op} | {change} | {refresh} | {describe} | {modify} |"
                    for op, change, refresh, describe, modify in calls]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--release", help="directory with the release binaries (default ROOT/target/release)")
    ap.add_argument("--resources", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big", type=int, default=10_000, help="accounts on the one large image")
    ap.add_argument("--big-timeout", type=int, default=7200,
                    help="seconds per Terraform command of the large image (Terraform's own set "
                         "checks are quadratic in the set size)")
    ap.add_argument("--only", default="many,big,calls", help="comma-separated sections to run")
    ap.add_argument("--out")
    args = ap.parse_args()
    root = os.path.abspath(args.root)  # terraform runs in temporary directories
    terraform = os.path.join(root, ".tools/bin/terraform")
    release = os.path.abspath(args.release or os.path.join(root, "target/release"))
    emulator_bin = os.path.join(release, "volcengine-ecs-emulator")
    sections = set(args.only.split(","))
    if args.out:
        open(args.out, "w").close()

    def emit(lines):
        # Each table is written as soon as it is measured, so a later
        # section that fails or times out does not lose the earlier ones.
        text = "\n".join(lines) + "\n\n"
        print(text, flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(text)

    if "many" in sections:
        med, raw = many_resources(terraform, release, emulator_bin, args.resources, args.runs)
        emit(many_table(args.resources, args.runs, med, raw))
    if "calls" in sections:
        emit(calls_table(call_counts(terraform, release, emulator_bin)))
    if "big" in sections:
        emit(big_table(args.big, big_image(terraform, release, emulator_bin, args.big, args.big_timeout)))


if __name__ == "__main__":
    main()
