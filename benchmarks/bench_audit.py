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
import contextlib
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
from typing import Any, Self

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

import yaml
from latency_proxy import LatencyProxy, ProxyProcess, Recorded, replay

from auditor.collect import AwsConfig, Clients, Collector
from auditor.demo import provision
from auditor.model import Report, SpecSet, Status
from auditor.run.audit import run_audit
from auditor.spec import load_specs
from auditor.spec.build import effective_spec

REGION = "eu-central-1"
SEED_SPEC = ROOT / "specs" / "amply-storage-prod.yaml"
PREFIX = "bench-"
# moto lists at most this many buckets (one ListBuckets page) and cannot page further; the
# latency proxy pages for it. Audits "straight at moto" above this size go through a
# zero-latency proxy instead.
MOTO_PAGE = 1000
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
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


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

    def __enter__(self) -> Self:
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
    if alias not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}:  # the key and alias, once
        key = kms.create_key(Description="s3audit benchmark key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key)
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


# -- memory: one audit in a fresh process --------------------------------------------------------


def memory_child(args: argparse.Namespace) -> int:
    """(In a child process) audit at moto once, no latency; print peak RSS and tracemalloc as JSON.

    Above MOTO_PAGE buckets the audit goes through a zero-latency paging proxy (moto cannot
    page ListBuckets); its memory is per request, not per bucket.
    """
    specs = load_specs([args.spec_dir])
    if args.page_proxy:
        args.endpoint = LatencyProxy(int(args.endpoint.rsplit(":", 1)[1]), 0.0).start().url
    audit(specs, args.endpoint, 1, 10, only=(bucket_name(0),))  # import and load models first
    gc.collect()
    start_rss = rss_bytes()
    if args.tracemalloc:
        tracemalloc.start()
    report, wall = audit(specs, args.endpoint, args.concurrency[0], args.pool or cli_pool_size(args.concurrency[0]))
    out: dict[str, Any] = {"results": len(report.results), "wall": wall, "start_rss_mb": start_rss / MB,
                           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        retained = tracemalloc.take_snapshot().statistics("filename")
        out["tracemalloc_peak_mb"] = peak / MB
        out["retained_top"] = [(str(s.traceback[0].filename).split("site-packages/")[-1].replace(str(ROOT) + "/", ""),
                                s.size / MB) for s in retained[:6]]
        tracemalloc.stop()
    print(json.dumps(out))
    return 0


def measure_memory(args: argparse.Namespace, port: int, spec_dir: Path, n: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--memory-child", "--endpoint", f"http://127.0.0.1:{port}",
           "--spec-dir", str(spec_dir), "--concurrency", str(args.concurrency[0])]
    if args.pool:
        cmd += ["--pool", str(args.pool)]
    if args.tracemalloc:
        cmd.append("--tracemalloc")
    if n > MOTO_PAGE:
        cmd.append("--page-proxy")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{done.stderr}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["buckets"] = n
    return out


# -- sampling profiles (optional; needs py-spy) --------------------------------------------------


@contextmanager
def py_spy(pid: int, path: Path) -> Iterator[None]:
    """Sample the threads holding `pid`'s GIL (its CPU-bound Python work) while the block runs."""
    proc = subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--format", "raw", "-o", str(path), "--nonblocking",
         "--gil", "--rate", "200"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


# Where a sample's time goes, matched against its frames from the innermost out; first hit wins.
_CLIENT_BUCKETS = (
    ("SigV4 signing", ("botocore/auth.py",)),
    ("endpoint ruleset resolution", ("botocore/regions.py", "botocore/endpoint_provider.py")),
    ("response parsing (botocore)", ("botocore/parsers.py",)),
    ("request serialisation (botocore)", ("botocore/serialize.py", "botocore/validate.py")),
    ("retry/handlers/user agent (botocore)", ("botocore/retries/", "botocore/handlers.py",
                                               "botocore/useragent.py", "botocore/utils.py")),
    ("event hooks dispatch (botocore)", ("botocore/hooks.py",)),
    ("HTTP client: urllib3 + http.client + socket", ("urllib3/", "http/client.py", "socket.py",
                                                    "botocore/httpsession.py", "botocore/awsrequest.py",
                                                    "email/")),
    ("other botocore", ("botocore/",)),
    ("auditor rules: policy analysis (_policy*)", ("auditor/policy/",)),
    ("auditor: other (collect, parse, engine, report)", ("auditor/",)),
    ("thread pool / queue / locks", ("concurrent/futures/", "threading.py", "queue.py")),
    ("latency proxy (in-process)", ("latency_proxy.py", "socketserver.py", "http/server.py")),
)
_MOTO_BUCKETS = (
    ("werkzeug HTTP server + logging", ("werkzeug/serving.py", "socketserver.py", "http/server.py", "logging/")),
    ("moto S3 responses/models", ("moto/s3/",)),
    ("moto core (routing, templates)", ("moto/core/", "moto/moto_server/", "moto/backends.py")),
    ("werkzeug/flask other", ("werkzeug/", "flask/")),
    ("jinja2/xml templating", ("jinja2/", "xmltodict", "xml/")),
)


def summarise_profile(path: Path, buckets: Sequence[tuple[str, Sequence[str]]], title: str) -> list[str]:
    """Collapse a py-spy raw file (`frame;frame;... count`) into shares per component."""
    if not path.exists():
        return [f"   {title}: no samples (py-spy could not attach?)"]
    shares: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        threads["HTTP server threads (socketserver)" if "process_request_thread" in stack
                else "collector workers" if "concurrent/futures/thread.py" in stack
                else "main thread (evaluate, report) and other"] += count
        leaves[frames[-1]] += count
        for frame in reversed(frames):
            hit = next((name for name, needles in buckets if any(n in frame for n in needles)), None)
            if hit:
                shares[hit] += count
                break
        else:
            shares["other"] += count
    if not total:
        return [f"   {title}: no samples"]
    out = [f"   {title} ({total} samples while holding the GIL):"]
    out.append("     by thread: " + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in threads.most_common()))
    out += [f"     {name:<46} {100 * v / total:5.1f}%" for name, v in shares.most_common()]
    out.append("     hottest frames: " + "; ".join(f"{k} {100 * v / total:.1f}%" for k, v in leaves.most_common(6)))
    return out


# -- the benchmark -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_ops(run: Run) -> None:
    print(f"   requests per operation ({run.requests} total, {run.requests / run.buckets:.2f}/bucket):")
    for op, count in sorted(run.per_op.items(), key=lambda kv: (-kv[1], kv[0])):
        codes = ", ".join(f"{s.split('@')[1]}×{c}" for s, c in sorted(run.statuses.items())
                          if s.split("@")[0] == op)
        print(f"     {op:<42} {count:7d}  {count / run.buckets:6.3f}/bucket  HTTP {codes}")


def timed_run(proxy: Any, moto_pid: int, specs: SpecSet, n: int, c: int, pool: int, spelling: str,
              latency: float, record: bool, in_process: bool) -> tuple[Run, list[str]]:
    run = Run(n, c, pool, spelling)
    proxy.latency = latency
    proxy.reset(record=record)
    gc.collect()
    cpu0, moto0 = self_cpu(), process_cpu(moto_pid)
    with RssSampler() as rss:
        report, run.wall = audit(specs, proxy.url, c, pool)
    run.client_cpu, run.moto_cpu = self_cpu() - cpu0, process_cpu(moto_pid) - moto0
    stats = proxy.reset()
    run.proxy_cpu = stats.proxy_cpu
    if in_process:
        run.client_cpu -= stats.proxy_cpu  # same process: split the proxy's share out
    run.requests, run.per_op = stats.total, dict(stats.requests)
    run.statuses = {f"{op}@{code}": k for (op, code), k in stats.statuses.items()}
    run.upstream_wall, run.max_in_flight = stats.upstream_wall, stats.max_in_flight
    run.rss_delta_mb = (rss.peak - rss.start) / MB
    run.latency_floor = run.requests * latency / c
    run.results, run.non_pass, notes = sanity(report, n * len(specs_controls(specs)))
    return run, notes


def specs_controls(specs: SpecSet) -> tuple[str, ...]:
    spec = effective_spec(specs, bucket_name(0))
    assert spec is not None
    return spec.stated_controls()


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
    parser.add_argument("--proxy-process", action="store_true",
                        help="run the proxy in a child process instead of in-process (keeps its threads "
                             "off the auditor's GIL; on 2 cores they still share the CPUs)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval for this process (Python's default is 0.005 s)")
    parser.add_argument("--no-direct", action="store_true",
                        help="skip the diagnostic audit straight at moto (no proxy, no latency)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    parser.add_argument("--memory-only", action="store_true",
                        help="only provision and run the memory pass (e.g. to check growth at 10k)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="memory pass also under tracemalloc (accurate Python heap; ~5x slower)")
    parser.add_argument("--profile", action="store_true",
                        help="after the timed runs, repeat the largest size at each concurrency under "
                             "py-spy (GIL-holding samples of this process and of moto) and summarise")
    parser.add_argument("--provision-workers", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--max-seconds", type=float, default=7200,
                        help="watchdog: dump tracebacks and exit 1 after this long (default 7200)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--spec-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--page-proxy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args)

    sizes = sorted(set(args.buckets + ([10_000] if args.include_10k else [])))
    concurrencies = list(dict.fromkeys(args.concurrency))
    latency = args.latency_ms / 1000
    spellings = ("alias", "arn") if args.kms_spec == "both" else (args.kms_spec,)
    faulthandler.dump_traceback_later(args.max_seconds, exit=True)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    print("# s3audit benchmark")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"sizes {sizes}, latency {args.latency_ms:g} ms, concurrency {concurrencies}, "
          f"pool {'as the CLI: max(10, 2c)' if args.pool is None else args.pool}, KMS spec {'/'.join(spellings)}, "
          f"proxy {'in a child process' if args.proxy_process else 'in-process'}, "
          f"switch interval {sys.getswitchinterval() * 1000:g} ms")

    runs: list[Run] = []
    memory: list[dict[str, Any]] = []
    profiles: list[str] = []
    failed = False
    with moto_server() as (moto, port), tempfile.TemporaryDirectory(prefix="s3audit-bench-") as tmp:
        proxy: Any = (ProxyProcess if args.proxy_process else LatencyProxy)(port, latency).start()
        zero: LatencyProxy | None = None  # a zero-latency paging proxy, for "direct" audits above MOTO_PAGE
        try:
            base_specs = write_specs(Path(tmp), "alias", None)
            controls = specs_controls(base_specs)
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

                for spelling in () if args.memory_only else spellings:
                    specs = base_specs if spelling == "alias" else write_specs(Path(tmp), "arn", key_arn)
                    recorded: list[Recorded] = []
                    templates: dict[str, dict[str, str]] = {}
                    size_runs: list[Run] = []
                    for c in concurrencies:
                        pool = args.pool or cli_pool_size(c)
                        run, notes = timed_run(proxy, moto.pid, specs, n, c, pool, spelling, latency,
                                               record=not recorded, in_process=not args.proxy_process)
                        if not recorded:
                            recorded, templates = proxy.recording_done or [], dict(proxy.templates)
                        if run.non_pass:
                            failed = True
                            print(f"   !! NOT ALL PASS at concurrency {c}: " + "; ".join(notes))
                        cycle = run.wall * c / run.requests * 1000
                        moto_ms = 1000 * run.upstream_wall / run.requests
                        print(f"-- concurrency {c} (pool {pool}), KMS spec {spelling}: {run.wall:.2f} s, "
                              f"{n / run.wall:.0f} buckets/s, {run.requests} requests "
                              f"({run.requests / n:.2f}/bucket), {run.results} results, "
                              f"{'all pass' if not run.non_pass else f'{run.non_pass} NOT pass'}")
                        print(f"   per request and worker: {cycle:.1f} ms = latency {args.latency_ms:g} + moto "
                              f"{moto_ms:.1f} + client/proxy/queueing {cycle - args.latency_ms - moto_ms:.1f}; "
                              f"CPU ms/request: client {1000 * run.client_cpu / run.requests:.2f}, proxy "
                              f"{1000 * run.proxy_cpu / run.requests:.2f}, moto {1000 * run.moto_cpu / run.requests:.2f}"
                              f"; max in flight {run.max_in_flight}")
                        if c == concurrencies[0]:
                            print_ops(run)
                        elif run.per_op != size_runs[0].per_op:
                            print("   note: the request mix differs from the first concurrency's")
                        size_runs.append(run)
                        runs.append(run)

                    for run in size_runs:  # the moto server alone, same mix and concurrency
                        gc.collect()
                        moto0 = process_cpu(moto.pid)
                        run.server_alone, codes = replay(port, recorded, templates, run.concurrency)
                        print(f"server alone (the {len(recorded)} recorded requests replayed straight at moto) "
                              f"c={run.concurrency}: {run.server_alone:.2f} s, moto CPU "
                              f"{1000 * (process_cpu(moto.pid) - moto0) / len(recorded):.2f} ms/request, "
                              f"HTTP {dict(sorted(codes.items()))}")
                    if not args.no_direct:
                        for run in size_runs:
                            gc.collect()
                            if n > MOTO_PAGE:  # moto cannot page ListBuckets: a zero-latency proxy pages
                                zero = zero or LatencyProxy(port, 0.0).start()
                            url, how = ((zero.url, "zero-latency paging proxy") if n > MOTO_PAGE and zero
                                        else (f"http://127.0.0.1:{port}", "no proxy"))
                            report, run.direct = audit(specs, url, run.concurrency, run.pool)
                            _, bad, notes = sanity(report, n * len(controls))
                            del report
                            if bad:
                                failed = True
                                print("   !! direct audit NOT ALL PASS: " + "; ".join(notes))
                            print(f"direct audit ({how}, no latency) c={run.concurrency}: {run.direct:.2f} s")

                if not args.no_memory:
                    m = measure_memory(args, port, Path(tmp) / "alias", n)
                    memory.append(m)
                    if m["results"] != n * len(controls):
                        failed = True
                        print(f"   !! memory pass audited {m['results']} results, expected {n * len(controls)}")
                    print(f"memory (fresh process, direct audit at c={concurrencies[0]}): peak RSS "
                          f"{m['peak_rss_mb']:.1f} MB, {m['peak_rss_mb'] - m['start_rss_mb']:.1f} MB above the "
                          f"warmed-up start" + (f"; tracemalloc peak {m['tracemalloc_peak_mb']:.1f} MB, retained "
                                                f"after the run by file: " + ", ".join(
                                                    f"{f} {mb:.1f} MB" for f, mb in m["retained_top"])
                                                if "tracemalloc_peak_mb" in m else ""))

            if args.profile:
                n, spec_dir = sizes[-1], Path(tmp)
                print(f"\n## Profiles (py-spy, {n} buckets, GIL-holding samples)")
                for c in concurrencies:
                    client_raw, moto_raw = spec_dir / f"client-{c}.txt", spec_dir / f"moto-{c}.txt"
                    target = proxy.process.pid if args.proxy_process else os.getpid()
                    proxy_spy = py_spy(target, spec_dir / f"proxy-{c}.txt") if args.proxy_process else _nothing()
                    with py_spy(os.getpid(), client_raw), py_spy(moto.pid, moto_raw), proxy_spy:
                        run, _ = timed_run(proxy, moto.pid, base_specs, n, c, args.pool or cli_pool_size(c),
                                           "alias", latency, record=False, in_process=not args.proxy_process)
                    profiles.append(f"-- concurrency {c}: {run.wall:.2f} s under py-spy (timed run: see table)")
                    profiles += summarise_profile(client_raw, _CLIENT_BUCKETS, "auditor process")
                    profiles += summarise_profile(moto_raw, _MOTO_BUCKETS, "moto server")
                    if args.proxy_process:
                        profiles += summarise_profile(spec_dir / f"proxy-{c}.txt", _CLIENT_BUCKETS, "proxy process")
                print("\n".join(profiles))
        finally:
            proxy.stop()
            if zero is not None:
                zero.stop()

    print_table(runs, memory, args.latency_ms)
    if args.json:
        args.json.write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "cpu": _cpu_model(), "python": platform.python_version()},
            "latency_ms": args.latency_ms, "proxy_process": args.proxy_process,
            "switch_interval": sys.getswitchinterval(),
            "runs": [{**asdict(r), "floor": r.floor, "ratio": r.ratio} for r in runs],
            "memory": memory, "profiles": profiles,
        }, indent=2))
    if failed:
        print("\nFAILED: some run was not all-pass (see above)")
        return 1
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def print_table(runs: Sequence[Run], memory: Sequence[dict[str, Any]], latency_ms: float) -> None:
    if runs:
        print(f"\n## Results ({latency_ms:g} ms latency; floor = max(requests x latency / concurrency, "
              "server alone))\n")
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
        traced = all("tracemalloc_peak_mb" in m for m in memory)
        print("\n| buckets | results | peak RSS MB | RSS above start MB | RSS MB per 1000 buckets"
              + (" | tracemalloc peak MB | tracemalloc MB per 1000 buckets" if traced else "") + " |")
        print("|---:|---:|---:|---:|---:|" + ("---:|---:|" if traced else ""))
        previous = None
        for m in memory:
            grow = m["peak_rss_mb"] - m["start_rss_mb"]
            mcells: list[Any] = [m["buckets"], m["results"], f"{m['peak_rss_mb']:.1f}", f"{grow:.1f}", "-"]
            if traced:
                mcells += [f"{m['tracemalloc_peak_mb']:.1f}", "-"]
            if previous is not None:
                per = 1000 / (m["buckets"] - previous["buckets"])
                mcells[4] = f"{(grow - previous['peak_rss_mb'] + previous['start_rss_mb']) * per:.2f}"
                if traced:
                    mcells[6] = f"{(m['tracemalloc_peak_mb'] - previous['tracemalloc_peak_mb']) * per:.2f}"
            print("| " + " | ".join(str(c) for c in mcells) + " |")
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
