#!/usr/bin/env python3
"""Terraform-level benchmark: the cost of our provider inside a real Terraform run.

1. `terraform apply` and the following no-op `terraform plan` of N
   volcengine_image_share resources (10 accounts each) against the local
   emulator, against the same run over N terraform_data resources (Terraform's
   floor: no plugin, no API), alternated run by run.
2. One image shared with 10,000 accounts: Modify calls made by the apply,
   Describe pages read by the refresh, emptiness of the plan after apply, and
   the provider process's peak resident memory.
Results go to stdout and, with --out, to a markdown file.
"""
import argparse
import json
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


class Emulator:
    def __init__(self, binary, images, page_max=100):
        args = [binary, "--listen", "127.0.0.1:0", "--page-max", str(page_max)]
        for image in images:
            args += ["--image", image]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (http://\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = m.group(1)

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def calls(self):
        return self.admin("GET", "/_emulator/calls")

    def clear_calls(self):
        self.admin("DELETE", "/_emulator/calls")

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
        self.env.pop("TF_LOG", None)

    def write(self, text):
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(text)

    def run(self, *args, ok=(0,)):
        start = time.perf_counter()
        p = subprocess.run([self.terraform, *args, "-no-color"], cwd=self.dir, env=self.env,
                           capture_output=True, text=True, timeout=900)
        elapsed = time.perf_counter() - start
        if p.returncode not in ok:
            raise RuntimeError(f"terraform {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return elapsed, p

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def image_share_config(n, accounts_each):
    out = ['terraform {\n  required_providers {\n    volcengine = { source = "volcengine/volcengine" }\n  }\n}\n']
    for i in range(n):
        accounts = ", ".join(f'"{2100000000 + i * 1000 + j}"' for j in range(accounts_each))
        out.append(f'resource "volcengine_image_share" "r{i}" {{\n  image_id    = "image-bench{i:06d}"\n'
                   f'  account_ids = [{accounts}]\n}}\n')
    return "".join(out)


def terraform_data_config(n, accounts_each):
    out = []
    for i in range(n):
        accounts = ", ".join(f'"{2100000000 + i * 1000 + j}"' for j in range(accounts_each))
        out.append(f'resource "terraform_data" "r{i}" {{\n  input = [{accounts}]\n}}\n')
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--resources", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    root = args.root
    terraform = os.path.join(root, ".tools/bin/terraform")
    release = os.path.join(root, "target/release")
    emulator_bin = os.path.join(release, "volcengine-ecs-emulator")
    n = args.resources

    # 1. N resources against terraform_data, alternated.
    times = {"ours apply": [], "ours plan": [], "floor apply": [], "floor plan": []}
    for _ in range(args.runs):
        emu = Emulator(emulator_bin, [f"image-bench{i:06d}" for i in range(n)])
        env = {"VOLCENGINE_ENDPOINT": emu.url, "VOLCENGINE_ACCESS_KEY": AK,
               "VOLCENGINE_SECRET_KEY": SK, "VOLCENGINE_REGION": "cn-beijing"}
        ours = Workspace(terraform, release, env)
        floor = Workspace(terraform, release, {})
        try:
            ours.write(image_share_config(n, 10))
            floor.write(terraform_data_config(n, 10))
            floor.run("init")
            times["ours apply"].append(ours.run("apply", "-auto-approve")[0])
            times["floor apply"].append(floor.run("apply", "-auto-approve")[0])
            times["ours plan"].append(ours.run("plan", "-detailed-exitcode")[0])
            times["floor plan"].append(floor.run("plan", "-detailed-exitcode")[0])
        finally:
            ours.cleanup()
            floor.cleanup()
            emu.stop()
    med = {k: statistics.median(v) for k, v in times.items()}

    # 2. One image, 10,000 accounts; the provider's peak memory through a wrapper.
    wrap_dir = tempfile.mkdtemp(prefix="tfbench-wrap-")
    peak_file = os.path.join(wrap_dir, "peak-kib")
    wrapper = os.path.join(wrap_dir, "terraform-provider-volcengine")
    with open(wrapper, "w") as f:
        f.write(f"""#!{sys.executable}
import resource, subprocess, sys
rc = subprocess.call([{os.path.join(release, 'terraform-provider-volcengine')!r}] + sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open({peak_file!r}, "a") as f:
    f.write(str(peak) + "\\n")
sys.exit(rc)
""")
    os.chmod(wrapper, 0o755)
    emu = Emulator(emulator_bin, ["image-big0000001"], page_max=100)
    env = {"VOLCENGINE_ENDPOINT": emu.url, "VOLCENGINE_ACCESS_KEY": AK,
           "VOLCENGINE_SECRET_KEY": SK, "VOLCENGINE_REGION": "cn-beijing"}
    ws = Workspace(terraform, wrap_dir, env)
    try:
        ws.write('resource "volcengine_image_share" "big" {\n  image_id    = "image-big0000001"\n'
                 '  account_ids = flatten([for i in range(100) : [for j in range(100) : tostring(3000000000 + i * 100 + j)]])\n}\n'
                 'terraform {\n  required_providers {\n    volcengine = { source = "volcengine/volcengine" }\n  }\n}\n')
        big_apply, _ = ws.run("apply", "-auto-approve")
        calls = emu.calls()
        modify = sum(1 for c in calls if c["action"] == "ModifyImageSharePermission")
        describe_apply = sum(1 for c in calls if c["action"] == "DescribeImageSharePermission")
        emu.clear_calls()
        big_plan, p = ws.run("plan", "-detailed-exitcode", ok=(0, 2))
        plan_empty = p.returncode == 0
        describe_refresh = sum(1 for c in emu.calls() if c["action"] == "DescribeImageSharePermission")
        with open(peak_file) as f:
            peak_mib = max(int(x) for x in f.read().split()) / 1024
    finally:
        ws.cleanup()
        emu.stop()
        shutil.rmtree(wrap_dir, ignore_errors=True)

    lines = [
        f"{n} resources x 10 accounts, {args.runs} alternated runs, medians:", "",
        "| run | volcengine_image_share | terraform_data | ratio | target |", "|---|---|---|---|---|",
        f"| apply | {med['ours apply']:.2f} s | {med['floor apply']:.2f} s | {med['ours apply']/med['floor apply']:.2f} | <= 1.5 |",
        f"| no-op plan | {med['ours plan']:.2f} s | {med['floor plan']:.2f} s | {med['ours plan']/med['floor plan']:.2f} | <= 1.5 |",
        "", "One image with 10,000 accounts:", "",
        "| measure | value | target |", "|---|---|---|",
        f"| Modify calls in apply | {modify} | 200 |",
        f"| Describe pages in apply | {describe_apply} | minimal |",
        f"| Describe pages in refresh (page size 100) | {describe_refresh} | 100 |",
        f"| plan after apply empty | {'yes' if plan_empty else 'NO'} | yes |",
        f"| provider peak RSS | {peak_mib:.1f} MiB | < 50 MiB |",
        f"| apply / plan wall time | {big_apply:.2f} s / {big_plan:.2f} s | |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
