#!/usr/bin/env python3
"""Whole-process start-up benchmark: our provider against a Go framework peer.

Launches each binary the way Terraform's go-plugin client does (magic cookie,
protocol versions, an AutoMTLS client certificate), measures the time from
spawn to the handshake line on stdout and the resident memory at that moment,
alternating the contenders run by run so machine noise hits all of them alike.
Floors: exec of a trivial program that prints one line.

Usage: bench-startup.py --ours PATH --peer PATH [--runs N] [--out FILE.md]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def client_cert_pem(workdir):
    """A P-521 self-signed certificate, like the one Terraform generates."""
    key = os.path.join(workdir, "client.key")
    cert = os.path.join(workdir, "client.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/O=HashiCorp/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True)
    with open(cert) as f:
        return f.read()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def launch(argv, env, timeout=10.0):
    """Spawn, wait for the first stdout line; return (seconds, rss KiB, line)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - start
        if not line:
            raise RuntimeError(f"{argv[0]} printed nothing (exit {proc.wait(timeout)})")
        rss = rss_kib(proc.pid) if proc.poll() is None else 0
        return elapsed, rss, line.decode().strip()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--out")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ)
        env.update({
            "TF_PLUGIN_MAGIC_COOKIE": COOKIE,
            "PLUGIN_PROTOCOL_VERSIONS": "6",
            "PLUGIN_MIN_PORT": "10000",
            "PLUGIN_MAX_PORT": "25000",
            "PLUGIN_CLIENT_CERT": client_cert_pem(work),
            "TMPDIR": work,
        })
        contenders = {
            "ours": [args.ours],
            "peer": [args.peer],
            "exec floor": ["/bin/echo", "1|6|unix|/x|grpc|"],
        }
        times = {k: [] for k in contenders}
        rss = {k: [] for k in contenders}
        for _ in range(args.runs):
            for name, argv in contenders.items():
                t, r, line = launch(argv, env)
                if name != "exec floor" and not line.startswith("1|"):
                    sys.exit(f"{name}: unexpected handshake line {line!r}")
                times[name].append(t)
                rss[name].append(r)

    size = {k: os.path.getsize(v[0]) for k, v in contenders.items() if k != "exec floor"}
    t_ours, t_peer, t_floor = (median(times[k]) for k in ("ours", "peer", "exec floor"))
    m_ours, m_peer = median(rss["ours"]), median(rss["peer"])
    rows = [
        ("start to handshake, median", f"{t_ours*1e3:.2f} ms", f"{t_peer*1e3:.2f} ms",
         f"{t_ours/t_peer:.3f}", "<= 0.15"),
        ("start to handshake vs exec floor", f"{t_ours*1e3:.2f} ms", f"floor {t_floor*1e3:.2f} ms",
         f"{t_ours/t_floor:.2f}x floor", "<= 3x"),
        ("RSS at handshake, median", f"{m_ours/1024:.1f} MiB", f"{m_peer/1024:.1f} MiB",
         f"{m_ours/m_peer:.3f}", "<= 0.4"),
        ("binary size", f"{size['ours']/1e6:.2f} MB", f"{size['peer']/1e6:.2f} MB",
         f"{size['ours']/size['peer']:.3f}", "<= 0.4"),
    ]
    out = [f"Runs: {args.runs} per contender, alternated.", "",
           "| measure | ours | peer / floor | ratio | target |",
           "|---|---|---|---|---|"]
    out += [f"| {' | '.join(r)} |" for r in rows]
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
