#!/usr/bin/env python
"""CPU per request of the ways s3audit could read a bucket facet, side by side in one run.

    python benchmarks/per_request.py [--requests 3000] [--threads 32] [--profile]

Against the in-memory replay server (a process of its own, answers recorded from a moto
server), each variant reads GetBucketVersioning/Encryption/PublicAccessBlock/Policy/Acl/
Lifecycle round-robin over 300 buckets from `--threads` threads and the process's own CPU
(getrusage) is divided by the number of requests:

- `botocore`: a boto3 client as s3audit made them before (standard retries, read-only hook);
- `botocore-tuned`: the same with client-side parameter validation off;
- `lean`: s3audit's read path (auditor/collect/lean.py): botocore's credentials, SigV4 signer,
  HTTP session and standard retry policy, requests built from a template and answers parsed
  with ElementTree into the shapes botocore returns.

`--profile` runs each variant under cProfile as well and prints where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_env import fake_aws_environment

fake_aws_environment()

from bench_env import REGION, moto_server, record_answers  # noqa: E402
from replay_server import ReplayProcess  # noqa: E402

OPS = ("GetBucketVersioning", "GetBucketEncryption", "GetPublicAccessBlock", "GetBucketPolicy",
       "GetBucketAcl", "GetBucketLifecycleConfiguration")


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def drive(read: Callable[[str, str], Any], names: list[str], total: int, threads: int) -> float:
    """CPU ms per request of `total` reads spread over `threads` threads."""
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            read(OPS[i % len(OPS)], names[i % len(names)])

    started = cpu()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return (cpu() - started) / total * 1000


def botocore_reader(url: str, validate: bool) -> Callable[[str, str], Any]:
    from botocore.config import Config

    from auditor.collect import AwsConfig, Clients
    from auditor.collect.read import call

    clients = Clients(AwsConfig(region=REGION, endpoint_url=url, max_pool_connections=64))
    client = clients.client("s3") if validate else clients.session.client(
        "s3", endpoint_url=url, config=Config(parameter_validation=False, max_pool_connections=64,
                                              s3={"addressing_style": "path"},
                                              retries={"mode": "standard", "max_attempts": 4}))
    from auditor.collect.facets import FACETS

    specs = {s.api: s for s in FACETS.values() if s.service == "s3"}
    return lambda op, name: call(client, specs[op], Bucket=name)


def lean_reader(url: str) -> Callable[[str, str], Any]:
    from auditor.collect import AwsConfig, Clients
    from auditor.collect.facets import FACETS

    clients = Clients(AwsConfig(region=REGION, endpoint_url=url, max_pool_connections=64))
    specs = {s.api: s for s in FACETS.values() if s.service == "s3"}
    return lambda op, name: clients.lean.read(specs[op], REGION, name)


# Where a profiled function's own time goes, by the first matching path fragment.
COMPONENTS = (
    ("SigV4 signing (botocore auth)", ("botocore/auth.py", "hmac", "hashlib", "_sha256")),
    ("endpoint ruleset resolution", ("botocore/regions.py", "botocore/endpoint_provider.py")),
    ("parameter validation + serialisation", ("botocore/validate.py", "botocore/serialize.py")),
    ("response parsing (botocore)", ("botocore/parsers.py",)),
    ("event hooks + handlers", ("botocore/hooks.py", "botocore/handlers.py", "botocore/utils.py",
                                "botocore/retries/", "botocore/useragent.py", "botocore/context.py")),
    ("client call machinery", ("botocore/client.py", "botocore/endpoint.py", "botocore/model.py",
                               "botocore/awsrequest.py", "botocore/compat.py", "botocore/credentials.py",
                               "botocore/signers.py", "botocore/response.py")),
    ("HTTP: urllib3, http.client, sockets", ("urllib3/", "http/client.py", "socket.py", "email/",
                                            "botocore/httpsession.py", "ssl.py", "selectors.py",
                                            "_socket", "recv_into", "sendall")),
    ("XML parse (ElementTree)", ("ElementTree", "xml/etree", "XMLParser")),
    ("s3audit lean path", ("auditor/collect/",)),
)


def breakdown(stats: pstats.Stats, n: int) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for (path, _, func), row in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path}:{func}"
        part = next((p for p, keys in COMPONENTS if any(k in where for k in keys)), "other (stdlib, locks, ...)")
        totals[part] = totals.get(part, 0.0) + row[2]
    if os.environ.get("BENCH_OTHER"):
        other = [(row[2], f"{path}:{func}") for (path, _, func), row in stats.stats.items()  # type: ignore[attr-defined]
                 if not any(k in f"{path}:{func}" for _, keys in COMPONENTS for k in keys)]
        for t, where in sorted(other, reverse=True)[:12]:
            print(f"      other: {t / n * 1000:.3f} {where}")
    total = sum(totals.values())
    rows = sorted(totals.items(), key=lambda kv: -kv[1])
    return [(p, t / n * 1000) for p, t in rows] + [("total (under cProfile, inflated)", total / n * 1000)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per variant")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    names = [f"bench-{i:05d}" for i in range(300)]
    with moto_server() as port:
        answers, template = record_answers(port)
    replay = ReplayProcess(answers, template).start()
    replay.configure(names, 0.0, REGION)
    variants: dict[str, Callable[[str, str], Any]] = {
        "botocore": botocore_reader(replay.url, True),
        "botocore-tuned": botocore_reader(replay.url, False),
    }
    variants["lean"] = lean_reader(replay.url)
    results: dict[str, list[float]] = {k: [] for k in variants}
    for read in variants.values():  # warm: connections, models, caches
        drive(read, names, 200, args.threads)
    for _ in range(args.rounds):  # alternate, so load from other processes hits all alike
        for name, read in variants.items():
            results[name].append(drive(read, names, args.requests, args.threads))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.requests} requests x "
          f"{args.rounds} rounds, {args.threads} threads")
    base = min(results["botocore"])
    for name, ms in results.items():
        print(f"{name:16s} CPU/request ms: best {min(ms):.3f}  all {' '.join(f'{m:.3f}' for m in ms)}"
              f"  ratio to botocore {min(ms) / base:.2f}")
    if args.profile:
        for name, read in variants.items():
            prof = cProfile.Profile(time.thread_time)  # CPU, not waiting
            n = args.requests // 3
            prof.enable()
            for i in range(n):  # in this thread: cProfile sees only the thread it runs in
                read(OPS[i % len(OPS)], names[i % len(names)])
            prof.disable()
            print(f"\n== {name} (cProfile, one thread, {n} requests): own time by component, "
                  "ms per request")
            for part, ms in breakdown(pstats.Stats(prof), n):
                print(f"   {part:44s} {ms:6.3f}")
    replay.stop()
    time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
