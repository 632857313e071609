#!/usr/bin/env python
"""Benchmark: audit N buckets configured like the seed's storage bucket, through a latency proxy.

    python benchmarks/bench_audit.py [--buckets 100 1000] [--latency-ms 30] [--concurrency 8 32 64]
                                     [--include-10k] [--kms-spec alias|arn|both] [--profile]

It starts a moto server (a subprocess on 127.0.0.1), puts an in-process forwarding proxy in
front of it that sleeps a fixed latency per request and counts requests per operation,
provisions N buckets (`bench-00000` ...) straight against moto, and audits them with
`run_audit` through the proxy with the full control set of specs/amply-storage-prod.yaml
(one `match: "bench-*"` entry). For each size and concurrency it prints the wall time,
buckets/s, requests (per bucket and per operation), CPU of client/proxy/moto, peak memory,
and the ratio of the wall time to the floor = max(requests x latency / concurrency,
server-alone time), where the server-alone time is measured in the same run by replaying
the recorded request mix straight at moto with the same concurrency (see README.md).

It exits non-zero only on a crash or when a run is not all-`pass` (the provisioned buckets
are compliant by construction, so anything else is a bug). It never asserts performance.
"""

from __future__ import annotations

import argparse
import ctypes
import faulthandler
import gc
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Fake credentials and no user config: a benchmark must never reach real AWS.
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_var, None)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_CONFIG_FILE": str(ROOT / "benchmarks" / "no-such-aws-config"),
    "AWS_SHARED_CREDENTIALS_FILE": str(ROOT / "benchmarks" / "no-such-aws-credentials"),
})

import yaml  # noqa: E402

from latency_proxy import LatencyProxy, Recorded, replay  # noqa: E402

from auditor.audit import run_audit  # noqa: E402
from auditor.collect import AwsConfig, Clients, Collector  # noqa: E402
from auditor.demo import _kms_key, provision  # noqa: E402
from auditor.model import Report, SpecSet, Status  # noqa: E402
from auditor.spec import load_specs  # noqa: E402
from auditor.spec.build import effective_spec  # noqa: E402

REGION = "eu-central-1"
SEED_SPEC = ROOT / "specs" / "amply-storage-prod.yaml"
PREFIX = "bench-"
MB = 1024 * 1024


def cli_pool_size(concurrency: int) -> int:
    """What `s3audit audit` passes as max_pool_connections (auditor/cli.py)."""
    return max(10, concurrency * 2)


# -- processes and measurements ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the benchmark dies, even by os._exit (watchdog)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@contextmanager
def moto_server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Peak resident set size during a block, sampled every 20 ms (cheap; not tracemalloc)."""

    def __init__(self) -> None:
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


# -- specs and buckets ---------------------------------------------------------------------------


def write_specs(directory: Path, kms_spelling: str, key_arn: str | None) -> SpecSet:
    """One glob entry `bench-*` with exactly the controls of the seed's storage bucket."""
    doc = yaml.safe_load(SEED_SPEC.read_text())
    entry = dict(doc["buckets"][0])
    entry.pop("name")
    entry = {"match": f"{PREFIX}*", **entry}
    if kms_spelling == "arn":
        assert key_arn, "the key must exist before an ARN spec is written"
        entry["encryption"] = {**entry["encryption"], "kms_key": key_arn}
    folder = directory / kms_spelling
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.yaml").write_text(yaml.safe_dump({"version": 1, "buckets": [entry]}, sort_keys=False))
    return load_specs([folder])


class _AliasExists:
    """A KMS stand-in for `provision` once the alias is made: skips a ListAliases per bucket."""

    def __init__(self, alias: str) -> None:
        self._aliases = {"Aliases": [{"AliasName": alias}]}

    def list_aliases(self) -> dict[str, Any]:
        return self._aliases


def bucket_name(i: int) -> str:
    return f"{PREFIX}{i:05d}"


def setup_clients(port: int) -> tuple[Any, Any]:
    """Plain boto3 (s3, kms) clients straight at moto for provisioning: the auditor's own
    clients are read-only by construction and must stay so."""
    import boto3
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path"}, max_pool_connections=32,
                    retries={"mode": "standard", "max_attempts": 4})
    session = boto3.session.Session(region_name=REGION)
    endpoint = f"http://127.0.0.1:{port}"
    return (session.client("s3", endpoint_url=endpoint, config=config),
            session.client("kms", endpoint_url=endpoint, config=config))


def provision_buckets(port: int, specs: SpecSet, start: int, stop: int, workers: int) -> str:
    """Create buckets [start, stop) straight against moto; returns the KMS key ARN."""
    s3, kms = setup_clients(port)
    spec = effective_spec(specs, bucket_name(0))
    assert spec is not None and spec.encryption is not None and spec.encryption.kms_key
    alias = spec.encryption.kms_key
    _kms_key(kms, alias)  # the key and its alias, once
    arn = str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    stub = _AliasExists(alias)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(lambda i: provision(s3, stub, spec, bucket_name(i)), range(start, stop)):
            pass
    s3.close()
    kms.close()
    return arn


def _clients_of(clients: Clients) -> list[Any]:
    return list(getattr(clients, "_clients", {}).values())


# -- one audit -----------------------------------------------------------------------------------


@dataclass
class Run:
    buckets: int
    concurrency: int
    pool: int
    kms_spec: str
    wall: float = 0.0
    requests: int = 0
    per_op: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    latency_floor: float = 0.0
    server_alone: float = 0.0
    direct: float | None = None  # the same audit straight at moto, no proxy, no latency
    client_cpu: float = 0.0
    proxy_cpu: float = 0.0
    moto_cpu: float = 0.0
    upstream_wall: float = 0.0
    max_in_flight: int = 0
    rss_delta_mb: float = 0.0
    results: int = 0
    non_pass: int = 0

    @property
    def floor(self) -> float:
        return max(self.latency_floor, self.server_alone)

    @property
    def ratio(self) -> float:
        return self.wall / self.floor if self.floor else float("nan")


def audit(specs: SpecSet, endpoint: str, concurrency: int, pool: int,
          only: Sequence[str] = (), collector_type: type[Collector] = Collector) -> tuple[Report, float]:
    """`run_audit` as the CLI runs it (its own clients; pool sized as the CLI does); wall seconds."""
    config = AwsConfig(region=REGION, endpoint_url=endpoint, max_pool_connections=pool)
    started = time.perf_counter()
    clients = Clients(config)
    try:
        report = run_audit(specs, config, only=only, concurrency=concurrency, collector=collector_type(clients))
        wall = time.perf_counter() - started
    finally:
        for client in _clients_of(clients):
            client.close()  # don't leave keep-alive connections (and proxy threads) behind
    return report, wall


def sanity(report: Report, expected: int) -> tuple[int, int, list[str]]:
    """(results, non-pass results, a few descriptions of the non-pass ones)."""
    bad = [r for r in report.results if r.status != Status.PASS]
    notes = [f"{r.bucket} {r.control} {r.status}: {r.message}" for r in bad[:5]]
    if len(report.results) != expected:
        notes.insert(0, f"expected {expected} results, got {len(report.results)}")
    return len(report.results), len(bad) + (len(report.results) != expected), notes


# -- profiling (optional) ------------------------------------------------------------------------


def profile_client(specs: SpecSet, port: int, names: Sequence[str]) -> None:
    """cProfile every collector thread of one direct audit (concurrency 1) and summarise."""
    import cProfile
    import pstats

    profilers: list[cProfile.Profile] = []
    local = threading.local()

    class Profiling(Collector):
        def bucket(self, target: Any) -> Any:
            prof = getattr(local, "prof", None)
            if prof is None:
                prof = local.prof = cProfile.Profile()
                profilers.append(prof)
            prof.enable()
            try:
                return super().bucket(target)
            finally:
                prof.disable()

    _, wall = audit(specs, f"http://127.0.0.1:{port}", 1, 10, only=names, collector_type=Profiling)
    stats = pstats.Stats(*profilers)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values())
    by_package: Counter[str] = Counter()
    for (filename, _, _), (_, _, tt, _, _) in raw.items():
        path = filename.replace("\\", "/")
        if "/site-packages/" in path:
            package = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        elif "/auditor/" in path:
            package = "auditor"
        elif filename.startswith("<") or filename == "~":
            package = "builtins (C: socket recv/send, locks, ...)"
        else:
            package = "stdlib:" + Path(path).stem
        by_package[package] += tt
    cumulative = {f"{Path(k[0]).parent.name}/{Path(k[0]).name}:{k[2]}": v[3] for k, v in raw.items()}

    def cum(*needles: str) -> float:
        return max((v for k, v in cumulative.items() if all(n in k for n in needles)), default=0.0)

    n = len(names)
    print(f"\n## Profile: direct audit of {n} buckets at concurrency 1 (no proxy, no latency): "
          f"{wall:.2f} s wall, {total:.2f} s profiled in collector threads")
    print("   own time by package (wall, so it includes waiting for moto in socket reads):")
    for package, tt in by_package.most_common(12):
        print(f"     {package:<48} {tt:7.2f} s  {100 * tt / total:5.1f}%")
    print("   cumulative time of key steps (per bucket in brackets):")
    for label, value in (
        ("botocore BaseClient._make_api_call (one API call)", cum("botocore/client.py", "_make_api_call")),
        ("  endpoint resolution (EndpointRulesetResolver)", cum("regions.py", "construct_endpoint")),
        ("  request signing (SigV4 add_auth)", cum("botocore/auth.py", "add_auth")),
        ("  HTTP send + wait for moto (Endpoint._send)", cum("botocore/endpoint.py", "_send")),
        ("  response parsing (ResponseParser.parse)", cum("botocore/parsers.py", "parse")),
        ("  event hooks (HierarchicalEmitter.emit)", cum("botocore/hooks.py", "_emit")),
    ):
        if value:
            print(f"     {label:<52} {value:7.2f} s  ({1000 * value / n:6.2f} ms/bucket)")
    print("   top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)


# -- the benchmark -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_ops(run: Run) -> None:
    print(f"   requests per operation ({run.requests} total, {run.requests / run.buckets:.2f}/bucket):")
    for op, count in sorted(run.per_op.items(), key=lambda kv: (-kv[1], kv[0])):
        codes = ", ".join(f"{s.split('@')[1]}×{c}" for s, c in sorted(run.statuses.items())
                          if s.split("@")[0] == op)
        print(f"     {op:<42} {count:7d}  {count / run.buckets:6.3f}/bucket  HTTP {codes}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buckets", type=int, nargs="+", default=[100, 1000], help="sizes (default 100 1000)")
    parser.add_argument("--include-10k", action="store_true", help="add a 10,000-bucket size")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="latency per request (default 30)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 64],
                        help="run_audit concurrency values to try (default 8 32 64; the CLI's default is 8)")
    parser.add_argument("--pool", type=int, default=None,
                        help="max_pool_connections (default: as the CLI sets it, max(10, 2 x concurrency))")
    parser.add_argument("--kms-spec", choices=("alias", "arn", "both"), default="alias",
                        help="spell the spec's KMS key as the bucket does (alias: no KMS call) or as the "
                             "key ARN (one DescribeKey per bucket), or measure both")
    parser.add_argument("--no-direct", action="store_true",
                        help="skip the diagnostic audit straight at moto (no proxy, no latency)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one direct audit (concurrency 1, up to 300 buckets)")
    parser.add_argument("--provision-workers", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--max-seconds", type=float, default=3600,
                        help="watchdog: dump tracebacks and exit 1 after this long (default 3600)")
    args = parser.parse_args(argv)

    sizes = sorted(set(args.buckets + ([10_000] if args.include_10k else [])))
    concurrencies = list(dict.fromkeys(args.concurrency))
    latency = args.latency_ms / 1000
    spellings = ("alias", "arn") if args.kms_spec == "both" else (args.kms_spec,)
    faulthandler.dump_traceback_later(args.max_seconds, exit=True)

    print("# s3audit benchmark")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"sizes {sizes}, latency {args.latency_ms:g} ms, concurrency {concurrencies}, "
          f"pool {'as the CLI: max(10, 2c)' if args.pool is None else args.pool}, KMS spec {'/'.join(spellings)}")

    runs: list[Run] = []
    memory: list[dict[str, float]] = []
    failed = False
    with moto_server() as (moto, port), tempfile.TemporaryDirectory(prefix="s3audit-bench-") as tmp:
        proxy = LatencyProxy(port, latency).start()
        try:
            base_specs = write_specs(Path(tmp), "alias", None)
            controls = effective_spec(base_specs, bucket_name(0)).stated_controls()  # type: ignore[union-attr]
            print(f"controls per bucket: {len(controls)} ({', '.join(controls)})")
            have, key_arn = 0, None
            for n in sizes:
                print(f"\n## {n} buckets")
                started = time.perf_counter()
                key_arn = provision_buckets(port, base_specs, have, n, args.provision_workers)
                print(f"provisioned {n - have} more buckets straight against moto in "
                      f"{time.perf_counter() - started:.1f} s")
                have = n
                if n == sizes[0]:  # import and warm everything once, off the clock
                    audit(base_specs, f"http://127.0.0.1:{port}", 1, 10, only=(bucket_name(0),))

                for spelling in spellings:
                    specs = base_specs if spelling == "alias" else write_specs(Path(tmp), "arn", key_arn)
                    recorded: list[Recorded] = []
                    templates: dict[str, dict[str, str]] = {}
                    size_runs = []
                    for c in concurrencies:
                        pool = args.pool or cli_pool_size(c)
                        run = Run(n, c, pool, spelling)
                        proxy.latency = latency
                        proxy.reset(record=not recorded)
                        gc.collect()
                        cpu0, moto0 = self_cpu(), process_cpu(moto.pid)
                        with RssSampler() as rss:
                            report, run.wall = audit(specs, proxy.url, c, pool)
                        run.client_cpu, run.moto_cpu = self_cpu() - cpu0, process_cpu(moto.pid) - moto0
                        if not recorded:
                            recorded, templates = proxy.recording or [], dict(proxy.templates)
                        stats = proxy.reset()
                        run.proxy_cpu = stats.proxy_cpu
                        run.client_cpu -= stats.proxy_cpu  # same process: split the proxy's share out
                        run.requests, run.per_op = stats.total, dict(stats.requests)
                        run.statuses = {f"{op}@{code}": k for (op, code), k in stats.statuses.items()}
                        run.upstream_wall, run.max_in_flight = stats.upstream_wall, stats.max_in_flight
                        run.rss_delta_mb = (rss.peak - rss.start) / MB
                        run.latency_floor = run.requests * latency / c
                        run.results, run.non_pass, notes = sanity(report, n * len(controls))
                        del report
                        if run.non_pass:
                            failed = True
                            print(f"   !! NOT ALL PASS at concurrency {c}: " + "; ".join(notes))
                        cycle = run.wall * c / run.requests * 1000
                        print(f"-- concurrency {c} (pool {pool}), KMS spec {spelling}: {run.wall:.2f} s, "
                              f"{n / run.wall:.0f} buckets/s, {run.requests} requests "
                              f"({run.requests / n:.2f}/bucket), {run.results} results, "
                              f"{'all pass' if not run.non_pass else f'{run.non_pass} NOT pass'}")
                        print(f"   per request and worker: {cycle:.1f} ms = latency {args.latency_ms:g} + moto "
                              f"{1000 * run.upstream_wall / run.requests:.1f} + client/proxy/queueing "
                              f"{cycle - args.latency_ms - 1000 * run.upstream_wall / run.requests:.1f}; "
                              f"CPU s: client {run.client_cpu:.1f}, proxy {run.proxy_cpu:.1f}, moto "
                              f"{run.moto_cpu:.1f}; max in flight {run.max_in_flight}")
                        if c == concurrencies[0]:
                            print_ops(run)
                        elif run.per_op != size_runs[0].per_op:
                            print("   note: the request mix differs from the first concurrency's")
                        size_runs.append(run)
                        runs.append(run)

                    for run in size_runs:  # the moto server alone, same mix and concurrency
                        gc.collect()
                        run.server_alone, codes = replay(port, recorded, templates, run.concurrency)
                        print(f"server alone (the {len(recorded)} recorded requests replayed straight at moto) "
                              f"c={run.concurrency}: {run.server_alone:.2f} s  HTTP {dict(sorted(codes.items()))}")
                    if not args.no_direct:
                        for run in size_runs:
                            gc.collect()
                            report, run.direct = audit(specs, f"http://127.0.0.1:{port}", run.concurrency, run.pool)
                            del report
                            print(f"direct audit (no proxy, no latency) c={run.concurrency}: {run.direct:.2f} s")

                if not args.no_memory:
                    gc.collect()
                    tracemalloc.start()
                    report, wall = audit(base_specs, f"http://127.0.0.1:{port}", concurrencies[0],
                                         args.pool or cli_pool_size(concurrencies[0]))
                    count = len(report.results)
                    del report
                    _, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    memory.append({"buckets": n, "tracemalloc_peak_mb": peak / MB, "results": count,
                                   "wall_under_tracemalloc": wall})
                    print(f"memory: tracemalloc peak {peak / MB:.1f} MB for {n} buckets "
                          f"({count} results; direct audit at c={concurrencies[0]}, {wall:.1f} s under tracemalloc)")

            if args.profile:
                names = [bucket_name(i) for i in range(min(300, sizes[-1]))]
                profile_client(base_specs, port, names)
        finally:
            proxy.stop()

    print_table(runs, memory, args.latency_ms)
    if args.json:
        args.json.write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "cpu": _cpu_model(), "python": platform.python_version()},
            "latency_ms": args.latency_ms,
            "runs": [{**asdict(r), "floor": r.floor, "ratio": r.ratio} for r in runs],
            "memory": memory,
        }, indent=2))
    if failed:
        print("\nFAILED: some run was not all-pass (see above)")
        return 1
    return 0


def print_table(runs: Sequence[Run], memory: Sequence[dict[str, float]], latency_ms: float) -> None:
    print(f"\n## Results ({latency_ms:g} ms latency; floor = max(requests x latency / concurrency, server alone))\n")
    head = ("buckets", "KMS spec", "conc", "pool", "wall s", "buckets/s", "requests", "req/bucket",
            "latency floor s", "server alone s", "ratio to floor", "direct s", "CPU client/proxy/moto s",
            "RSS Δ MB", "all pass")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" for _ in head) + "|")
    for r in runs:
        cells = (r.buckets, r.kms_spec, r.concurrency, r.pool, fmt(r.wall), f"{r.buckets / r.wall:.0f}",
                 r.requests, f"{r.requests / r.buckets:.2f}", fmt(r.latency_floor), fmt(r.server_alone),
                 f"{r.ratio:.2f}×", fmt(r.direct), f"{r.client_cpu:.1f} / {r.proxy_cpu:.1f} / {r.moto_cpu:.1f}",
                 f"{r.rss_delta_mb:.0f}", "yes" if not r.non_pass else f"NO ({r.non_pass})")
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if memory:
        print("\n| buckets | results | tracemalloc peak MB | MB per 1000 buckets (vs previous size) |")
        print("|---:|---:|---:|---:|")
        previous = None
        for m in memory:
            slope = "-"
            if previous is not None and m["buckets"] > previous["buckets"]:
                slope = f"{(m['tracemalloc_peak_mb'] - previous['tracemalloc_peak_mb']) * 1000 / (m['buckets'] - previous['buckets']):.2f}"
            print(f"| {m['buckets']} | {m['results']} | {m['tracemalloc_peak_mb']:.1f} | {slope} |")
            previous = m


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
