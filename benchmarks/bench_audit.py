#!/usr/bin/env python
"""Benchmark (issue 12): s3audit at 300, 1,000 and 10,000 buckets, against a moto server and
against an in-memory replay server, side by side with a baseline tree and Cloud Custodian.

    python benchmarks/bench_audit.py [--sizes 300 1000 10000] [--targets replay moto]
        [--latency-ms 30] [--concurrency 32] [--baseline-rev REV] [--c7n-python PATH]
        [--json FILE]

Buckets `bench-NNNNN` are provisioned in a moto server (a subprocess) with the full private
control set (bench_env.spec_document: the seed's storage bucket plus ownership and
object_acls). Targets:

- `replay`: the in-memory replay server (replay_server.py, a process of its own) answers
  every request after `--latency-ms` from moto's recorded answers, with BucketRegion in the
  listing as AWS gives it: the server is never the bottleneck, as on AWS;
- `moto`: the moto server itself through a zero-latency counting proxy (moto gives no
  BucketRegion, so GetBucketLocation is read per bucket; moto is CPU-bound on 2 cores).

Each audit runs in a fresh process (`--child`), timed and measured by os.wait4: wall, own
CPU (user + system, everything: interpreter start, imports, clients, reads, rules, reports),
CPU per request, the child's own split (start-up, audit, reports), requests per bucket by
operation and the peak of requests in flight (counted by the server side), and peak RSS.
Variants, alternated per size so the machine's load hits them alike: `s3audit` (this tree),
`baseline` (the tree at `--baseline-rev`, in a temporary git worktree) and `custodian`
(Cloud Custodian from a separate venv, `--c7n-python`, never a project dependency).

It exits non-zero only when it crashes or an s3audit run is not all `pass` (the buckets are
compliant by construction). It never asserts a performance figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_env import REGION, ROOT, fake_aws_environment

fake_aws_environment()
MB = 1024 * 1024


# -- the child: one audit in a fresh process ----------------------------------------------------


def child(args: argparse.Namespace) -> int:
    """Audit once and print the phases' CPU as JSON (imports count: that is the start-up)."""
    import resource

    def cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime

    sys.path.insert(0, args.root)
    started = cpu()
    from auditor.collect import AwsConfig
    from auditor.report import deliver
    from auditor.run.audit import run_audit
    from auditor.run.options import AuditOptions
    from auditor.spec import load_specs

    imported = cpu()
    wall = time.perf_counter()
    options = AuditOptions(aws=AwsConfig(region=REGION, endpoint_url=args.endpoint,
                                         max_pool_connections=max(10, 2 * args.concurrency)),
                           concurrency=args.concurrency)
    report = run_audit(options, load_specs([Path(args.specs)]))
    audited, audit_wall = cpu(), time.perf_counter() - wall
    deliver(report, (("json", str(Path(args.out) / "r.json")), ("markdown", str(Path(args.out) / "r.md"))))
    bad = [r for r in report.results if r.status.value != "pass"]
    hwm = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM:"))
    print(json.dumps({"vm_hwm_kb": hwm,
        "startup_cpu": imported, "import_cpu": imported - started, "audit_cpu": audited - imported,
        "report_cpu": cpu() - audited, "audit_wall": audit_wall, "results": len(report.results),
        "non_pass": len(bad), "notes": [f"{r.bucket} {r.control}: {r.message[:160]}" for r in bad[:3]],
    }))
    return 0


def run_child(cmd: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child: wall and own CPU (os.wait4), peak RSS (its VmHWM, polled: a forked
    child's ru_maxrss counts the parent's pages), and the JSON line it printed, if any."""
    import threading

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    err: list[bytes] = []
    hwm = [0]
    threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True).start()  # type: ignore[union-attr]

    def poll() -> None:
        while True:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    hwm[0] = max(hwm[0], int(line.split()[1]))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    found: dict[str, Any] = {}
    for line in out.decode().splitlines()[::-1]:
        if line.startswith("{"):
            found = json.loads(line)
            break
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        time.sleep(0.1)
        found.setdefault("notes", []).append(f"exit {code}: {b''.join(err).decode()[-600:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "exit": code,
            "peak_rss_mb": found.pop("vm_hwm_kb", hwm[0]) / 1024, **found}


# -- Cloud Custodian (optional, its own venv) ----------------------------------------------------

C7N_POLICY = """policies:
  - name: s3-private
    resource: aws.s3
    filters:
      - type: value
        key: Name
        op: glob
        value: "bench-*"
"""


def custodian_cmd(python: str, endpoint: str, tmp: Path) -> tuple[list[str], dict[str, str]]:
    (tmp / "c7n.yml").write_text(C7N_POLICY)
    config = tmp / "aws-config"
    config.write_text(f"[default]\nregion = {REGION}\nendpoint_url = {endpoint}\n"
                      "s3 =\n  addressing_style = path\n")
    env = {**os.environ, "AWS_CONFIG_FILE": str(config), "AWS_ENDPOINT_URL": endpoint}
    return [python, "-m", "c7n.cli", "run", "-s", str(tmp / "c7n-out"), "--region", REGION, "--cache-period", "0",
            str(tmp / "c7n.yml")], env


# -- the parent ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--specs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 10000])
    parser.add_argument("--targets", nargs="+", choices=("replay", "moto"), default=["replay", "moto"])
    parser.add_argument("--latency-ms", type=float, default=30.0, help="replay server latency per request")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--baseline-rev", help="also run the tree at this git revision (a worktree)")
    parser.add_argument("--c7n-python", help="the python of a venv with c7n installed")
    parser.add_argument("--no-custodian-above", type=int, default=1000,
                        help="skip Cloud Custodian above this many buckets (it is slow)")
    parser.add_argument("--variants", nargs="+", default=["s3audit", "baseline", "custodian"],
                        help="which of s3audit, baseline, custodian to run (when available)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.child:
        return child(args)
    return parent(args)


def parent(args: argparse.Namespace) -> int:
    from bench_env import bucket_name, moto_server, provision, record_answers, write_spec
    from latency_proxy import LatencyProxy
    from replay_server import ReplayProcess

    rows: list[dict[str, Any]] = []
    failed = False
    with tempfile.TemporaryDirectory() as tmpdir, moto_server() as port:
        tmp = Path(tmpdir)
        spec_dir = write_spec(tmp / "specs")
        roots = {"s3audit": str(ROOT)}
        if args.baseline_rev:
            roots["baseline"] = str(tmp / "baseline")
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", roots["baseline"],
                            args.baseline_rev], check=True, capture_output=True)
        answers, template = record_answers(port)
        replay = ReplayProcess(answers, template).start()
        proxy = LatencyProxy(port, 0.0).start()
        made = 1
        try:
            for n in sorted(args.sizes):
                if "moto" in args.targets and made < n:
                    print(f"provisioning {n - made} buckets in moto ...", flush=True)
                    provision(port, made, n, spec_dir)
                    made = n
                names = [bucket_name(i) for i in range(n)]
                for target in args.targets:
                    for variant in _variants(args, n, roots):
                        row = _one(args, target, variant, n, names, roots, spec_dir, tmp, replay, proxy)
                        rows.append(row)
                        _print_row(row)
                        if row.get("exit"):
                            print(f"   !! exit {row['exit']}: {row.get('notes')}")
                        if variant != "custodian" and (row.get("non_pass") or row.get("results") != n * 9):
                            failed = True
                            print(f"   !! not all pass: {row.get('results')} results, {row.get('notes')}")
        finally:
            replay.stop()
            proxy.stop()
            if args.baseline_rev:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", roots["baseline"]],
                               check=False, capture_output=True)
    _print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=2))
    return 1 if failed else 0


def _variants(args: argparse.Namespace, n: int, roots: dict[str, str]) -> list[str]:
    out = list(roots)
    if args.c7n_python and n <= args.no_custodian_above:
        out.append("custodian")
    return [v for v in out if v in args.variants]


def _one(args: argparse.Namespace, target: str, variant: str, n: int, names: list[str],
         roots: dict[str, str], spec_dir: Path, tmp: Path, replay: Any, proxy: Any) -> dict[str, Any]:
    if target == "replay":
        replay.configure(names, args.latency_ms / 1000, REGION)
        replay.reset()
        endpoint = replay.url
    else:
        proxy.reset()
        endpoint = proxy.url
    out = tmp / f"out-{variant}"
    out.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    if variant == "custodian":
        cmd, env = custodian_cmd(args.c7n_python, endpoint, tmp)
        row = run_child(cmd, env)
    else:
        row = run_child([sys.executable, __file__, "--child", "--endpoint", endpoint, "--specs", str(spec_dir),
                         "--out", str(out), "--root", roots[variant], "--concurrency", str(args.concurrency)])
    stats = replay.reset() if target == "replay" else proxy.reset()
    requests = Counter(stats.requests)
    total = sum(requests.values())
    return {"target": target, "variant": variant, "buckets": n, "load_before": load, **row,
            "requests": total, "per_op": dict(requests.most_common()),
            "max_in_flight": stats.max_in_flight,
            "cpu_per_request_ms": row["cpu"] / total * 1000 if total else None,
            "requests_per_bucket": total / n}


def _print_row(r: dict[str, Any]) -> None:
    per = ", ".join(f"{op.split(':')[-1]} {c / r['buckets']:.2f}" for op, c in r["per_op"].items()
                    if c >= r["buckets"] / 2)
    print(f"{r['target']:6s} {r['variant']:9s} {r['buckets']:6d} buckets: wall {r['wall']:.2f} s, "
          f"CPU {r['cpu']:.2f} s ({_ms(r['cpu_per_request_ms'])} ms/request; start-up "
          f"{r.get('startup_cpu', float('nan')):.2f} s), {r['requests_per_bucket']:.2f} requests/bucket "
          f"[{per}], in flight max {r['max_in_flight']}, peak RSS {r['peak_rss_mb']:.0f} MB, load "
          f"{r['load_before']:.1f}", flush=True)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_table(rows: list[dict[str, Any]]) -> None:
    print("\n| target | variant | buckets | wall s | CPU s | CPU/request ms | start-up CPU s | "
          "requests/bucket | max in flight | peak RSS MB | ratio wall / CPU to s3audit |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours = {(r["target"], r["buckets"]): r for r in rows if r["variant"] == "s3audit"}
    for r in rows:
        base = ours.get((r["target"], r["buckets"]))
        ratio = f"{r['wall'] / base['wall']:.2f} / {r['cpu'] / base['cpu']:.2f}" if base else "-"
        print(f"| {r['target']} | {r['variant']} | {r['buckets']} | {r['wall']:.2f} | {r['cpu']:.2f} | "
              f"{_ms(r['cpu_per_request_ms'])} | {r.get('startup_cpu', float('nan')):.2f} | "
              f"{r['requests_per_bucket']:.2f} | {r['max_in_flight']} | {r['peak_rss_mb']:.0f} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
