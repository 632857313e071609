"""What the benchmarks share: fake AWS settings, a moto server, buckets, and recorded answers."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
PREFIX = "bench-"
TEMPLATE = f"{PREFIX}00000"
SEED_SPEC = ROOT / "specs" / "amply-storage-prod.yaml"
# The seed's storage bucket plus the two controls every private bucket should state: the
# full private control set (9 controls; ACLs disabled, so the ACL need not be read).
EXTRA_CONTROLS = {"ownership": "BucketOwnerEnforced", "object_acls": "ignored"}
# The seed spec's bucket-configuration controls (it may state more, e.g. CloudWatch alarms,
# which are read once per region, not per bucket: not part of this benchmark).
SEED_CONTROLS = ("region", "versioning", "encryption", "public_access_block", "public_access", "tls_only",
                 "lifecycle")


def fake_aws_environment() -> None:
    """Fake credentials and no user config: a benchmark must never reach real AWS."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(var, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(ROOT / "benchmarks" / "no-such-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(ROOT / "benchmarks" / "no-such-aws-credentials"),
    })


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def moto_server() -> Iterator[int]:
    """A moto server subprocess on 127.0.0.1 (dies with the benchmark); yields its port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)
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
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def spec_document() -> dict[str, Any]:
    """One `match: bench-*` entry with the full private control set."""
    import yaml

    entry = {k: v for k, v in yaml.safe_load(SEED_SPEC.read_text())["buckets"][0].items()
             if k in SEED_CONTROLS}
    return {"version": 1, "buckets": [{"match": f"{PREFIX}*", **entry, **EXTRA_CONTROLS}]}


def write_spec(folder: Path) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.yaml").write_text(yaml.safe_dump(spec_document(), sort_keys=False))
    return folder


def provision(port: int, start: int, stop: int, spec_dir: Path, workers: int = 8) -> None:
    """Buckets bench-<start>..bench-<stop-1> straight against moto, configured per the spec."""
    import boto3
    from botocore.config import Config

    from auditor.demo import provision as build
    from auditor.spec import load_specs
    from auditor.spec.build import effective_spec

    spec = effective_spec(load_specs([spec_dir]), TEMPLATE)
    assert spec is not None
    config = Config(s3={"addressing_style": "path"}, max_pool_connections=32,
                    retries={"mode": "standard", "max_attempts": 4})
    session = boto3.session.Session(region_name=REGION)
    url = f"http://127.0.0.1:{port}"
    clients = {name: session.client(name, endpoint_url=url, config=config) for name in ("s3", "kms", "s3control")}
    build(clients, spec, bucket_name(start))  # the KMS key and alias, once

    class _Kms:  # the alias exists now: skip a ListAliases per bucket
        def list_aliases(self) -> dict[str, Any]:
            return {"Aliases": [{"AliasName": "alias/amply-s3-key"}]}

    quick = {**clients, "kms": _Kms()}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda i: build(quick, spec, bucket_name(i)), range(start + 1, stop)))


def bucket_name(i: int) -> str:
    return f"{PREFIX}{i:05d}"


def record_answers(port: int) -> tuple[dict[str, tuple[int, str, bytes]], str]:
    """moto's answer to each operation of an audit of one bucket (label -> status, type, body)."""
    import tempfile

    from latency_proxy import LatencyProxy

    from auditor.collect import AwsConfig
    from auditor.run.audit import run_audit
    from auditor.run.options import AuditOptions
    from auditor.spec import load_specs

    with tempfile.TemporaryDirectory() as tmp:
        spec_dir = write_spec(Path(tmp))
        provision(port, 0, 1, spec_dir)
        proxy = LatencyProxy(port, 0.0).start()
        try:
            options = AuditOptions(aws=AwsConfig(region=REGION, endpoint_url=proxy.url))
            run_audit(options, load_specs([spec_dir]))
        finally:
            proxy.stop()
    answers = dict(proxy.answers)
    from latency_proxy import S3_GET_SUBRESOURCES

    for sub, api in S3_GET_SUBRESOURCES.items():  # also what s3audit did not read (and others do)
        label = f"s3:{api}"
        if label not in answers:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/{TEMPLATE}?{sub}", timeout=10) as r:
                    answers[label] = (r.status, r.headers.get("Content-Type", "application/xml"), r.read())
            except urllib.error.HTTPError as exc:  # "not configured": an answer too
                answers[label] = (exc.code, exc.headers.get("Content-Type", "application/xml"), exc.read())
    return answers, TEMPLATE
